"""Training-time gates (the ``gate`` kind): learn which units to keep, then cut the closed ones out.

A gate method is registered as a factory ``f(n_units, layer, **settings) -> UnitGate``.
A :class:`UnitGate` multiplies a layer's activations by gate values ``z`` (trainable,
possibly stochastic while training, deterministic at test time, exactly zero when a
unit is off) and has a sparsity ``penalty()``. :func:`wrap_with_gates` puts one gate
after the activation of each chosen site of a copy of a model; the training loop
(:func:`divnet_nb.training.fit`) trains it with ``lam * penalty`` added to the loss;
:meth:`GatedNetwork.extract` folds the test-time gates into the next layer's weights and
removes the units whose gate is zero through the sites, the same path every neuron
method takes, so the smaller network computes exactly what the gated one does at test
time. :func:`train_gated` does all three.
"""

from __future__ import annotations

import abc
import copy

import numpy as np
import torch
from torch import nn

from ..core._validate import as_positive_real
from ..nets.mlp import MLP
from ..nets.sites import find_sites, site_for
from ..training.config import TrainConfig, default_config
from ..training.loop import TrainResult, fit
from .registry import get_method

__all__ = ["UnitGate", "GatedNetwork", "wrap_with_gates", "train_gated"]


class UnitGate(nn.Module, abc.ABC):
    """Gates on the units of one layer: ``forward(a) = a * z``.

    Subclasses define :meth:`gates` (the values used in the forward pass: stochastic
    or deterministic in training mode, the test-time values in eval mode),
    :meth:`test_gates` (deterministic, in [0, 1], exactly 0 for a closed unit) and
    :meth:`penalty` (the sparsity term of this layer, before the factor lambda).
    """

    def __init__(self, n_units: int):
        super().__init__()
        self.n_units = int(n_units)

    @abc.abstractmethod
    def gates(self) -> torch.Tensor:
        """Gate values used while training, one per unit."""

    @abc.abstractmethod
    def test_gates(self) -> torch.Tensor:
        """Deterministic test-time gate values in [0, 1], exactly 0 for a closed unit."""

    @abc.abstractmethod
    def penalty(self) -> torch.Tensor:
        """This layer's sparsity penalty (a scalar tensor), before the factor lambda."""

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return a * (self.gates() if self.training else self.test_gates())


class GatedNetwork(nn.Module):
    """A sequential network with a :class:`UnitGate` after the activation of some hidden layers."""

    def __init__(self, base: nn.Sequential, gates: dict[int, UnitGate]):
        super().__init__()
        self.base = base
        self.gates = nn.ModuleDict({str(layer): gate for layer, gate in gates.items()})
        after = {site_for(base, layer).activation: str(layer) for layer in gates}
        self._after = after

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, module in enumerate(self.base.children()):
            x = module(x)
            if i in self._after:
                x = self.gates[self._after[i]](x)
        return x

    def penalty(self) -> torch.Tensor:
        """Sum of every gated layer's penalty."""
        return sum(gate.penalty() for gate in self.gates.values())

    @torch.no_grad()
    def open_gates(self) -> dict[str, int]:
        """Units whose test-time gate is nonzero, per gated layer."""
        return {f"open_{layer}": int((g.test_gates() > 0).sum()) for layer, g in self.gates.items()}

    @torch.no_grad()
    def extract(self) -> nn.Module:
        """A physically smaller copy of the base network that computes what this one does at test time.

        Each gated layer's test-time gates are folded into its consumer's weights (the
        columns are scaled by z), then the units with z = 0 are removed through the
        layer's site.
        """
        model = copy.deepcopy(self.base)
        for layer, gate in self.gates.items():
            site = site_for(model, int(layer))
            z = gate.test_gates().detach().cpu().double().numpy()
            keep = np.flatnonzero(z > 0)
            if keep.size == 0:
                raise ValueError(
                    f"every gate of hidden layer {layer} is closed: the layer would be empty; "
                    f"train with a smaller penalty factor"
                )
            W, b = site.outgoing(model)
            W_scaled = (W.astype(np.float64) * z[:, None])[keep].astype(W.dtype)
            model = site.shrink(model, keep, (W_scaled, b))
        return model


def wrap_with_gates(model: nn.Module, method: str, layers=None, **settings) -> GatedNetwork:
    """A copy of ``model`` with the gates of a registered ``gate`` method on hidden ``layers`` (default all)."""
    m = get_method(method, "gate")
    unknown = set(settings) - set(m.options)
    if unknown:
        raise ValueError(
            f"gate method {m.name!r} takes no setting(s) {sorted(unknown)}; "
            f"its settings: {', '.join(m.options) or 'none'}"
        )
    sites = find_sites(model)
    layers = range(len(sites)) if layers is None else layers
    base = copy.deepcopy(model)
    gates = {}
    for layer in layers:
        site = site_for(base, layer)
        gate = m.function(site.width(base), int(layer), **settings)
        if not isinstance(gate, UnitGate):
            raise ValueError(
                f"gate method {m.name!r} must return a UnitGate; got {type(gate).__name__}"
            )
        gates[int(layer)] = gate.to(next(base.parameters()).device)
    return GatedNetwork(base, gates)


def train_gated(
    dataset,
    sizes,
    method: str,
    seed: int,
    lam: float,
    config: TrainConfig | None = None,
    *,
    layers=None,
    progress: bool = True,
    **settings,
) -> tuple[nn.Module, GatedNetwork, TrainResult]:
    """Train a Table 1 network from scratch with gates and penalty ``lam``; extract the smaller network.

    Returns ``(smaller network, gated network, training result)``; the training
    history records the running penalty and the open gates of every layer.
    """
    lam = as_positive_real(lam, "lam (the penalty factor)", allow_zero=True)
    config = config or default_config(dataset.name)
    torch.manual_seed(seed)
    gated = wrap_with_gates(MLP(tuple(sizes), seed=seed), method, layers, **settings)
    result = fit(
        gated,
        dataset,
        seed,
        config,
        progress=progress,
        penalty=lambda net: lam * net.penalty(),
        monitor=lambda net: net.open_gates(),
    )
    gated.eval()
    return gated.extract(), gated, result
