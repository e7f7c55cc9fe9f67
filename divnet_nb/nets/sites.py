r"""Sites: the prunable layers of a model, found once and described as data.

A *site* is a layer whose units can be removed: the module that **produces** them, the
elementwise **activation** that follows, and the module that **consumes** them. Every
pruning family goes through this interface and never indexes a model itself:

============================  =================================================================
``site.feature_map(m)``       the part of ``m`` that maps inputs to the site's activations
``site.rows(out)``            those activations as rows of a (samples, units) matrix
``site.read(m, X, sink)``     stream the rows over data ``X``, batch by batch, into ``sink``
``site.width(m)``             the number of units
``site.outgoing(m)``          the consumer's weights in the core's orientation: ``W`` of shape
                              (units, n_next) and the consumer's bias
``site.importance(m)``        He et al. (2014)'s ``onorm``: mean absolute outgoing weight per unit
``site.shrink(m, keep, W)``   a new, physically smaller model that keeps units ``keep``; the
                              consumer gets ``W`` (e.g. fused weights) or simply loses columns
``site.through_consumer(m)``  the part of ``m`` up to and including the consumer
``site.input_map(m)``         the part of ``m`` before the producer (its inputs), for edges
``site.incoming(m)``          the producer's weights, one row per unit
``site.mask_incoming(m, M)``  a new model whose producer keeps only the incoming weights in
                              mask ``M`` (a persistent :mod:`torch.nn.utils.prune` mask)
============================  =================================================================

:class:`DenseSite` is the case of the paper's MLPs (``Linear -> Sigmoid -> Linear``; any
elementwise activation works). :func:`find_sites` walks an :class:`torch.nn.Sequential`
once and returns one site per hidden layer, and :func:`site_for` checks a layer index.

Sites are data: find them once and pass them on. Every pruning function takes a layer
as a hidden-layer index or as its site, and :func:`as_site` turns either into a site at
the entry (an index costs one walk of the model; a site is only checked against the
model, :meth:`LayerSite.check`), so nothing below the entry walks the model again.

Convolutional networks
----------------------
The interface is what the pruning code needs from any producer/consumer pair, so a new
kind of site is one new class and nothing in :mod:`divnet_nb.pruning` changes:
:class:`~divnet_nb.nets.conv_sites.ConvSite` (channels of a ``Conv2d`` read by a
``Conv2d``, or by a ``Linear`` after ``Flatten``) is the second. Models are read as a
chain of modules (:mod:`divnet_nb.nets.chain`), so nested sequential containers and
models whose ``forward`` torch.fx traces into a chain work too; a pruned copy of such a
model is a flat :class:`~torch.nn.Sequential`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..core._validate import as_index_set, is_int
from .conv_sites import ConvSite
from .site_base import (
    ELEMENTWISE,
    LayerSite,
    _checked_modules,
    _flat_copy,
    _modules,
    _part,
    mask_weight,
)

__all__ = [
    "LayerSite",
    "DenseSite",
    "ConvSite",
    "find_sites",
    "site_for",
    "as_site",
    "ELEMENTWISE",
    "PER_CHANNEL",
]


@dataclass(frozen=True)
class DenseSite(LayerSite):
    """``Linear -> activation -> Linear`` at positions ``producer``, ``activation``, ``consumer``
    of a sequential model; hidden layer number ``layer``."""

    layer: int
    producer: int
    activation: int
    consumer: int

    def _linears(self, model) -> tuple[nn.Linear, nn.Linear]:
        modules = _modules(model)
        return modules[self.producer], modules[self.consumer]

    def check(self, model) -> None:
        """A ValueError unless ``model``'s chain has ``Linear -> activation -> Linear`` here."""
        modules = _checked_modules(model)
        fits = (
            len(modules) > self.consumer
            and isinstance(modules[self.producer], nn.Linear)
            and isinstance(modules[self.activation], ELEMENTWISE)
            and isinstance(modules[self.consumer], nn.Linear)
        )
        if not fits:
            raise ValueError(
                f"the site of hidden layer {self.layer} (Linear -> activation -> Linear at "
                f"modules {self.producer}, {self.activation}, {self.consumer}) is not in this model"
            )

    def width(self, model) -> int:
        return self._linears(model)[0].out_features

    def feature_map(self, model) -> nn.Module:
        return _part(model, self.activation + 1)

    def input_map(self, model) -> nn.Module:
        return _part(model, self.producer)

    def through_consumer(self, model) -> nn.Module:
        return _part(model, self.consumer + 1)

    def outgoing(self, model) -> tuple[np.ndarray, np.ndarray]:
        """``W`` (units, n_next): the transpose of the consumer's weight; and its bias."""
        nxt = self._linears(model)[1]
        return nxt.weight.detach().cpu().numpy().T, nxt.bias.detach().cpu().numpy()

    def outgoing_tensor(self, model) -> torch.Tensor:
        return self._linears(model)[1].weight

    def importance(self, model) -> np.ndarray:
        r""":math:`\frac{1}{n_{\ell+1}} \sum_j |w^{\ell+1}_{ij}|` per unit (He et al. 2014's onorm)."""
        with torch.no_grad():
            nxt = self._linears(model)[1]
            return nxt.weight.abs().mean(dim=0).cpu().double().numpy()

    def incoming(self, model) -> np.ndarray:
        """The producer's weight (units, n_inputs), with any pruning mask applied."""
        return self._linears(model)[0].weight.detach().cpu().numpy()

    def shrink(self, model, keep, outgoing=None) -> nn.Module:
        """A copy of ``model`` keeping units ``keep`` (sorted); the original is not modified.

        ``outgoing`` is ``(W, b)`` for the consumer in the core's orientation (W has one
        row per kept unit, e.g. fused weights); without it the consumer simply loses the
        columns of the removed units.
        """
        n = self.width(model)
        keep = np.sort(as_index_set(keep, n, "keep"))
        if keep.size == 0:
            raise ValueError("keep must hold at least one neuron index")
        new = _flat_copy(model)
        lin, nxt = self._linears(new)
        idx = torch.from_numpy(keep).to(lin.weight.device)
        with torch.no_grad():
            smaller = nn.Linear(lin.in_features, keep.size).to(lin.weight.device, lin.weight.dtype)
            smaller.weight.copy_(lin.weight[idx])
            smaller.bias.copy_(lin.bias[idx])
            if outgoing is not None:
                W_new, b_new = outgoing
                W_next = torch.from_numpy(np.ascontiguousarray(W_new.T))
                b_next = torch.from_numpy(np.asarray(b_new))
            else:
                W_next, b_next = nxt.weight[:, idx], nxt.bias
            narrower = nn.Linear(keep.size, nxt.out_features).to(
                nxt.weight.device, nxt.weight.dtype
            )
            narrower.weight.copy_(W_next)
            narrower.bias.copy_(b_next)
        new[self.producer] = smaller
        new[self.consumer] = narrower
        return new

    def mask_incoming(self, model, mask, weights=None) -> nn.Module:
        """A copy of ``model`` whose producer keeps only the incoming weights where ``mask`` is True.

        The mask is attached with :func:`torch.nn.utils.prune.custom_from_mask`, so it
        persists through training and appears in the state dict (``weight_mask``).
        ``weights`` (units, n_inputs), if given, replaces the producer's weights first
        (e.g. reweighted edges).
        """
        new = _flat_copy(model)
        mask_weight(self._linears(new)[0], mask, weights, "units x inputs")
        return new


#: Modules that may sit between a Conv2d and the layer that reads its channels: each acts on
#: every channel alone (or only drops values while training).
PER_CHANNEL = ELEMENTWISE + (
    nn.BatchNorm2d,
    nn.MaxPool2d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveMaxPool2d,
    nn.Dropout,
    nn.Dropout2d,
)
_WEIGHTED = (nn.Linear, nn.Conv2d)


def find_sites(model: nn.Module) -> list[LayerSite]:
    """One site per prunable layer of a model, input to output.

    The model is read as a chain of modules (:func:`~divnet_nb.nets.chain.chain_modules`:
    an :class:`~torch.nn.Sequential`, nested or not, or a model torch.fx traces into one).
    Between each weighted layer (``Linear``, ``Conv2d``) and the next one:

    * ``Linear``, one elementwise activation (:data:`ELEMENTWISE`), ``Linear``: a
      :class:`DenseSite`;
    * ``Conv2d``, modules that act on each channel alone (:data:`PER_CHANNEL`), then a
      ``Conv2d``, or ``Flatten`` and a ``Linear``: a
      :class:`~divnet_nb.nets.conv_sites.ConvSite` over channels.

    Anything else between two weighted layers (a Softmax, a LayerNorm, a grouped
    convolution, an unknown layer) is refused with a one-line :class:`ValueError` naming
    it, so that no layer is pruned on a wrong reading of the network.
    """
    modules = _modules(model)
    for i, m in enumerate(modules):
        if not isinstance(m, _WEIGHTED + (nn.BatchNorm2d,)) and any(
            True for _ in m.parameters(recurse=False)
        ):
            raise ValueError(
                f"module {i} ({type(m).__name__}) is a layer pruning does not know; "
                f"supported: Linear, Conv2d, BatchNorm2d and elementwise activations"
            )
        if isinstance(m, nn.Conv2d) and m.groups != 1:
            raise ValueError(
                f"module {i} is a grouped or depthwise Conv2d (groups={m.groups}): its channels "
                f"are coupled in groups, and pruning refuses it"
            )
    weighted = [i for i, m in enumerate(modules) if isinstance(m, _WEIGHTED)]
    sites: list[LayerSite] = []
    for p, q in zip(weighted, weighted[1:], strict=False):
        producer, consumer, between = modules[p], modules[q], modules[p + 1 : q]
        name = f"the {type(producer).__name__} at module {p} and the {type(consumer).__name__} at module {q}"
        if isinstance(producer, nn.Linear):
            if not (
                isinstance(consumer, nn.Linear)
                and len(between) == 1
                and isinstance(between[0], ELEMENTWISE)
            ):
                found = ", ".join(type(m).__name__ for m in between) or "nothing"
                raise ValueError(
                    f"between {name}: expected one elementwise activation; found {found}"
                )
            sites.append(DenseSite(len(sites), p, p + 1, q))
            continue
        reads = q
        if isinstance(consumer, nn.Linear):
            if not between or not isinstance(between[-1], nn.Flatten):
                raise ValueError(f"between {name}: a Linear reads a channel map only after Flatten")
            if consumer.in_features % producer.out_channels:
                raise ValueError(
                    f"the Linear at module {q} has {consumer.in_features} inputs, not a multiple of "
                    f"the {producer.out_channels} channels of module {p}"
                )
            reads, between = q - 1, between[:-1]
        for j, m in enumerate(between, start=p + 1):
            if not isinstance(m, PER_CHANNEL):
                raise ValueError(
                    f"module {j} ({type(m).__name__}) between {name} does not act on each channel "
                    f"alone, so a channel cannot be removed by itself; pruning refuses it"
                )
        norms = tuple(
            j for j, m in enumerate(between, start=p + 1) if isinstance(m, nn.BatchNorm2d)
        )
        sites.append(ConvSite(len(sites), p, reads - 1, q, reads, norms))
    return sites


def site_for(model: nn.Module, layer) -> LayerSite:
    """The site of hidden layer ``layer`` (0-based; Python or numpy integer), checked."""
    return _pick(find_sites(model), model, layer)


def as_site(model: nn.Module, layer, sites: list[LayerSite] | None = None) -> LayerSite:
    """The site of ``layer``: a hidden-layer index (0-based) or a :class:`LayerSite`.

    An index is looked up in ``sites`` (the model's sites, when the caller has found them
    already) or else found by one walk of the model (:func:`site_for`); a site is checked
    against the model (:meth:`LayerSite.check`) and returned as it is. Pruning functions
    call this once, at their entry, and hand the site on.
    """
    if isinstance(layer, LayerSite):
        layer.check(model)
        return layer
    if sites is None:
        return site_for(model, layer)
    return _pick(sites, model, layer)


def _pick(sites: list[LayerSite], model: nn.Module, layer) -> LayerSite:
    if not is_int(layer) or not 0 <= layer < len(sites):
        sizes = tuple(s.width(model) for s in sites)
        raise ValueError(
            f"layer must be a hidden-layer index 0..{len(sites) - 1} "
            f"(hidden sizes {sizes}); got {layer!r}"
        )
    return sites[int(layer)]
