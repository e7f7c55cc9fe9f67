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

Design note: convolutional sites
--------------------------------
The interface is what the pruning code needs from any producer/consumer pair, so new
sites are new classes here and nothing in :mod:`divnet_nb.pruning` changes:

* ``Conv2d -> ReLU -> Conv2d``: units are channels. ``rows`` permutes the activation map
  (N, C, H, W) to (N, H, W, C) and reshapes it to (N H W, C): each (sample, position) is
  a row, so the Gram matrix, the kernel of eq. 2 and the fusion of eq. 3 are over
  channels. A removed channel r written as :math:`\sum_s \alpha_{sr} a_s` at every
  position moves its consumer taps onto the kept channels exactly as in eq. 4, tap by
  tap: ``outgoing`` is the consumer weight (O, C, kh, kw) permuted to (C, O, kh, kw) and
  reshaped to (C, O kh kw), and ``shrink`` keeps output channels of the producer (and
  its bias, and a following BatchNorm's entries) and input channels of the consumer.
* ``Conv2d -> ReLU -> Flatten -> Linear``: units are channels again; the consumer's input
  feature (c, p) belongs to channel c at position p, so ``outgoing`` reshapes the Linear
  weight (O, C HW) to (O, C, HW) and then to (C, O HW), and the same alpha per channel
  applies at every position.
"""

from __future__ import annotations

import abc
import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from ..core._validate import as_index_set, is_int
from .evaluate import as_tensor

__all__ = ["LayerSite", "DenseSite", "find_sites", "site_for", "as_site", "ELEMENTWISE"]

#: Activation modules that act on each unit alone (so a unit can be removed by itself).
ELEMENTWISE = (
    nn.Sigmoid,
    nn.ReLU,
    nn.Tanh,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Softplus,
    nn.Identity,
)


def _modules(model: nn.Module) -> list[nn.Module]:
    return list(model.children())


def _part(model: nn.Module, stop: int) -> nn.Sequential:
    """Modules ``0 .. stop - 1`` of a sequential model, sharing their parameters."""
    return nn.Sequential(*_modules(model)[:stop])


class LayerSite(abc.ABC):
    """A prunable layer: producer module, elementwise activation, consumer module.

    See the module notes for the interface. Sites hold positions, not modules, so one
    site serves a model and all its (deep) copies.
    """

    #: Hidden-layer number (0 for the first hidden layer).
    layer: int

    @abc.abstractmethod
    def check(self, model: nn.Module) -> None:
        """A one-line ValueError unless ``model`` has this site's layer (no walk of the model)."""

    @abc.abstractmethod
    def width(self, model: nn.Module) -> int: ...

    @abc.abstractmethod
    def feature_map(self, model: nn.Module) -> nn.Module: ...

    @abc.abstractmethod
    def input_map(self, model: nn.Module) -> nn.Module: ...

    @abc.abstractmethod
    def through_consumer(self, model: nn.Module) -> nn.Module: ...

    def rows(self, output: torch.Tensor) -> torch.Tensor:
        """Activations as a (rows, units) matrix; dense layers already are."""
        return output

    @abc.abstractmethod
    def outgoing(self, model: nn.Module) -> tuple[np.ndarray, np.ndarray]: ...

    @abc.abstractmethod
    def importance(self, model: nn.Module) -> np.ndarray: ...

    @abc.abstractmethod
    def incoming(self, model: nn.Module) -> np.ndarray: ...

    @abc.abstractmethod
    def shrink(self, model: nn.Module, keep, outgoing=None) -> nn.Module: ...

    @abc.abstractmethod
    def mask_incoming(self, model: nn.Module, mask, weights=None) -> nn.Module: ...

    def read(
        self,
        model: nn.Module,
        data,
        sink: Callable[[torch.Tensor], None],
        *,
        batch_size: int = 8192,
        inputs: bool = False,
    ) -> None:
        """Feed ``data`` through the model up to this site; pass each batch of rows to ``sink``.

        The activations (or, with ``inputs=True``, the producer's inputs) are computed
        in eval mode without gradients by running only the part of the model that
        leads to them; the model's training mode is restored afterwards.
        """
        part = self.input_map(model) if inputs else self.feature_map(model)
        param = next(model.parameters())
        X = as_tensor(data, dtype=param.dtype)
        if X.ndim != 2:
            raise ValueError(
                f"data must be a 2-D array of inputs (n_samples, n_features); got shape {tuple(X.shape)}"
            )
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                for s in range(0, X.shape[0], batch_size):
                    out = part(X[s : s + batch_size].to(param.device))
                    sink((out if inputs else self.rows(out)).detach())
        finally:
            model.train(was_training)


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
        """A ValueError unless ``model`` is sequential with ``Linear -> activation -> Linear`` here."""
        modules = _modules(model) if isinstance(model, nn.Sequential) else []
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
        new = copy.deepcopy(model)
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
        new = copy.deepcopy(model)
        lin = self._linears(new)[0]
        shape = tuple(lin.weight.shape)
        mask = np.asarray(mask)
        if mask.dtype != bool or mask.shape != shape:
            raise ValueError(
                f"mask must be a boolean array of shape {shape} (units x inputs); "
                f"got {mask.dtype} {mask.shape}"
            )
        if torch_prune.is_pruned(lin):
            torch_prune.remove(lin, "weight")
        with torch.no_grad():
            if weights is not None:
                lin.weight.copy_(torch.as_tensor(np.asarray(weights), dtype=lin.weight.dtype))
        torch_prune.custom_from_mask(lin, "weight", torch.from_numpy(mask).to(lin.weight.device))
        return new


def find_sites(model: nn.Module) -> list[LayerSite]:
    """One site per hidden layer of a sequential model, input to output.

    A dense site is ``Linear``, then one elementwise activation (:data:`ELEMENTWISE`),
    then ``Linear``. Raises :class:`ValueError` for a model that is not sequential.
    """
    if not isinstance(model, nn.Sequential):
        raise ValueError(
            f"model must be a torch.nn.Sequential (e.g. divnet_nb.nets.MLP); got {type(model).__name__}"
        )
    modules = _modules(model)
    sites: list[LayerSite] = []
    for i in range(len(modules) - 2):
        a, act, b = modules[i : i + 3]
        if isinstance(a, nn.Linear) and isinstance(act, ELEMENTWISE) and isinstance(b, nn.Linear):
            sites.append(DenseSite(len(sites), i, i + 1, i + 2))
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
