"""The interface of a site, and what every kind of site shares.

:class:`LayerSite` is the interface (see :mod:`divnet_nb.nets.sites` for what each method
gives); the helpers here read a model's chain of modules by position and mask a
producer's weights. The kinds of site are :class:`~divnet_nb.nets.sites.DenseSite` and
:class:`~divnet_nb.nets.conv_sites.ConvSite`.
"""

from __future__ import annotations

import abc
import copy
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from .chain import as_chain, chain_modules, model_inputs

__all__ = ["LayerSite", "ELEMENTWISE", "mask_weight"]


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
    return chain_modules(model)


def _checked_modules(model: nn.Module) -> list[nn.Module]:
    """The chain of ``model`` for a site's check: empty when ``model`` is no chain at all,
    so that the check reports the site as missing."""
    try:
        return chain_modules(model)
    except ValueError:
        return []


def _part(model: nn.Module, stop: int) -> nn.Sequential:
    """Modules ``0 .. stop - 1`` of the model's chain, sharing their parameters."""
    return nn.Sequential(*_modules(model)[:stop])


def _flat_copy(model: nn.Module) -> nn.Sequential:
    """A deep copy of ``model`` that can be indexed by chain position: the same class when
    the model is a flat sequential, else a flat :class:`~torch.nn.Sequential`."""
    return as_chain(copy.deepcopy(model))


def mask_weight(module: nn.Module, mask, weights, what: str) -> None:
    """Attach ``mask`` (one row per unit, the weight's other axes flattened) to ``module.weight``
    as a persistent :mod:`torch.nn.utils.prune` mask, after replacing the weight by ``weights``."""
    shape = tuple(module.weight.shape)
    rows = (shape[0], int(np.prod(shape[1:])))
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.shape != rows:
        raise ValueError(
            f"mask must be a boolean array of shape {rows} ({what}); got {mask.dtype} {mask.shape}"
        )
    if torch_prune.is_pruned(module):
        torch_prune.remove(module, "weight")
    with torch.no_grad():
        if weights is not None:
            w = torch.as_tensor(np.asarray(weights), dtype=module.weight.dtype)
            module.weight.copy_(w.reshape(shape))
    torch_prune.custom_from_mask(
        module, "weight", torch.from_numpy(mask.reshape(shape)).to(module.weight.device)
    )


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

    def maps(self, output: torch.Tensor) -> torch.Tensor:
        """The activations in the layout the Gram accumulator reads fastest: rows (dense), or
        maps (N, units, positions) whose rows are the (sample, position) pairs."""
        return self.rows(output)

    def input_rows(self, model: nn.Module, output: torch.Tensor) -> torch.Tensor:
        """The producer's inputs as a (rows, incoming edges per unit) matrix; dense layers already are."""
        return output

    def check_intercept(self, model: nn.Module) -> None:
        """A one-line ValueError when fusing with an intercept would not be exact here.

        A dense consumer reads every unit of every sample, so a constant moves into its
        bias exactly: nothing to refuse.
        """
        return None

    @abc.abstractmethod
    def outgoing(self, model: nn.Module) -> tuple[np.ndarray, np.ndarray]: ...

    @abc.abstractmethod
    def outgoing_tensor(self, model: nn.Module) -> torch.Tensor:
        """The consumer's weight as a (n_next, units) tensor, in the graph: ``outgoing``'s ``W``
        transposed, for penalties on the weights a unit feeds."""

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
        maps: bool = False,
    ) -> None:
        """Feed ``data`` through the model up to this site; pass each batch of rows to ``sink``.

        The activations (or, with ``inputs=True``, the producer's inputs) are computed
        in eval mode without gradients by running only the part of the model that
        leads to them; the model's training mode is restored afterwards. ``maps=True``
        hands each batch over as :meth:`maps` (for a Gram accumulator) instead of rows.
        """
        part = self.input_map(model) if inputs else self.feature_map(model)
        param = next(model.parameters())
        X = model_inputs(model, data, param.dtype)
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                for s in range(0, X.shape[0], batch_size):
                    out = part(X[s : s + batch_size].to(param.device))
                    if inputs:
                        out = self.input_rows(model, out)
                    else:
                        out = self.maps(out) if maps else self.rows(out)
                    sink(out.detach())
        finally:
            model.train(was_training)
