"""Training-time gates (the ``gate`` kind): learn which units (or weights) to keep, then cut the rest out.

A gate method is registered as a factory ``f(n_units, layer, **settings)`` that returns
a :class:`Gate`, of one of two sorts:

* a :class:`UnitGate` multiplies a layer's units by gate values ``z`` (trainable,
  possibly stochastic while training, deterministic at test time, exactly zero when a
  unit is off). On hidden layer ``layer`` it sits after the activation, i.e. on the
  *input units of the next layer* (structured pruning); with ``inputs=True`` one more
  gate sits on the network's inputs (``layer="input"``), i.e. the input units of the
  first layer, as in Louizos et al.'s MLPs.
* a :class:`WeightGate` multiplies each incoming weight of hidden layer ``layer``'s
  units (the producer's weight, shape (units, inputs); unstructured pruning). Its
  parameters are created when :func:`wrap_with_gates` tells it that shape
  (:meth:`Gate.bind`). The output layer's weights are not gated.

Every gate has a sparsity :meth:`~Gate.penalty` (before the factor lambda) and may
have a :meth:`~Gate.weight_penalty` on the weights it acts through (an L2 term, not
multiplied by lambda). :func:`wrap_with_gates` puts the gates on a copy of a model; the
training loop (:func:`divnet_nb.training.fit`) trains it with ``lam * penalty +
weight_penalty`` added to the loss; :meth:`GatedNetwork.extract` folds the test-time
gates into the weights and

* removes the hidden units whose gate is zero through the sites, the same path every
  neuron method takes (a physically smaller network); a gate on the inputs becomes a
  :mod:`torch.nn.utils.prune` mask over the first layer's columns (the network still
  takes every input, the closed ones have no weights);
* masks the weights whose gate is zero through :meth:`~divnet_nb.nets.sites.LayerSite.mask_incoming`,
  the path of the ``edge`` kind,

so the extracted network computes exactly what the gated one does at test time.
:func:`train_gated` does all three; it stops with a one-line message when every gate
of a layer has closed. It does not cache: a caller that caches gated runs keys them
with :meth:`GatedNetwork.describe` (every gate's settings) and the penalty factor.
"""

from __future__ import annotations

import abc
import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...core._validate import as_positive_real
from ...nets.architectures import get_architecture
from ...nets.chain import as_chain
from ...nets.mlp import MLP
from ...nets.sites import as_site, find_sites
from ...training.config import TrainConfig, default_config, recipe_config
from ...training.loop import TrainResult, fit
from ..registry import get_method

__all__ = ["Gate", "UnitGate", "WeightGate", "GatedNetwork", "wrap_with_gates", "train_gated"]

INPUT = "input"


class Gate(nn.Module, abc.ABC):
    """What every gate has: training and test-time values, a penalty, the shape it acts through.

    :meth:`gates` gives the values used while training (stochastic or deterministic),
    :meth:`test_gates` the deterministic test-time values in [0, 1] (exactly 0 for a
    closed unit or weight), :meth:`penalty` the sparsity term before the factor lambda.
    """

    def __init__(self, n_units: int):
        super().__init__()
        self.n_units = int(n_units)
        self.weight_shape: tuple[int, ...] | None = None

    @abc.abstractmethod
    def gates(self) -> torch.Tensor:
        """Gate values used while training."""

    @abc.abstractmethod
    def test_gates(self) -> torch.Tensor:
        """Deterministic test-time gate values in [0, 1], exactly 0 for a closed gate."""

    @abc.abstractmethod
    def penalty(self) -> torch.Tensor:
        """This layer's sparsity penalty (a scalar tensor), before the factor lambda."""

    def bind(self, weight_shape) -> None:
        """Called once by :func:`wrap_with_gates` with the shape of the weight the gate acts through.

        A unit gate's weight is the one that consumes the gated units, (n_out, n_units);
        a weight gate's is the gated weight itself, (n_units, n_inputs).
        """
        self.weight_shape = tuple(int(s) for s in weight_shape)

    def weight_penalty(self, weight: torch.Tensor) -> torch.Tensor:
        """A penalty on ``weight`` (the weight of :meth:`bind`), added without lambda; none by default."""
        return weight.new_zeros(())

    def describe(self) -> dict:
        """The gate's class and settings (JSON-able): what a cache key or a report records."""
        return {"gate": type(self).__name__, **getattr(self, "settings", {})}


class UnitGate(Gate):
    """Gates on the units of one layer: ``forward(a) = a * z``."""

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        z = self.gates() if self.training else self.test_gates()
        if a.ndim > 2:  # channels of a map (N, C, H, W): one gate per channel
            z = z.reshape(-1, *([1] * (a.ndim - 2)))
        return a * z


class WeightGate(Gate):
    """Gates on single weights: ``forward(W) = W * z`` with ``z`` of ``W``'s shape (units, inputs).

    Subclasses create their parameters in :meth:`bind` (they learn the number of
    inputs there).
    """

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return weight * (self.gates() if self.training else self.test_gates())


def _layer_name(key: str) -> str:
    return "the inputs" if key == INPUT else f"hidden layer {key}"


class GatedNetwork(nn.Module):
    """A sequential network with gates: :class:`UnitGate` after some hidden activations (and
    optionally on the inputs), or :class:`WeightGate` on some hidden layers' incoming weights."""

    def __init__(self, base: nn.Sequential, gates: dict):
        super().__init__()
        if len({isinstance(g, WeightGate) for g in gates.values()}) > 1:
            raise ValueError("a network takes unit gates or weight gates, not both")
        self.base = base
        self.gates = nn.ModuleDict({str(layer): gate for layer, gate in gates.items()})
        self._after, self._weighted, self._weight_of = {}, {}, {}
        self._sites = find_sites(base)  # once: extraction keeps the layers' positions
        for layer, gate in gates.items():
            key = str(layer)
            if layer == INPUT:
                if not isinstance(gate, UnitGate):
                    raise ValueError("the gate on the inputs must be a UnitGate")
                self._weight_of[key] = as_site(base, 0, self._sites).producer
                continue
            site = as_site(base, layer, self._sites)
            if isinstance(gate, WeightGate):
                self._weighted[site.producer] = key
                self._weight_of[key] = site.producer
            else:
                self._after[site.activation] = key
                self._weight_of[key] = site.consumer
        self._input = INPUT in self.gates

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._input:
            x = self.gates[INPUT](x)
        for i, module in enumerate(self.base.children()):
            key = self._weighted.get(i)
            if key is None:
                x = module(x)
            else:
                x = F.linear(x, self.gates[key](module.weight), module.bias)
            key = self._after.get(i)
            if key is not None:
                x = self.gates[key](x)
        return x

    def _weight(self, key: str) -> torch.Tensor:
        if key != INPUT and not isinstance(self.gates[key], WeightGate):
            return self._sites[int(key)].outgoing_tensor(self.base)
        return self.base[self._weight_of[key]].weight

    def penalty(self) -> torch.Tensor:
        """Sum of every gate's sparsity penalty (before the factor lambda)."""
        zero = next(self.base.parameters()).new_zeros(())
        return sum((gate.penalty() for gate in self.gates.values()), zero)

    def weight_penalty(self) -> torch.Tensor:
        """Sum of every gate's penalty on the weights it acts through (not multiplied by lambda)."""
        zero = next(self.base.parameters()).new_zeros(())
        return sum((g.weight_penalty(self._weight(k)) for k, g in self.gates.items()), zero)

    @torch.no_grad()
    def open_gates(self) -> dict[str, int]:
        """Units (or weights) whose test-time gate is nonzero, per gated layer."""
        return {f"open_{layer}": int((g.test_gates() > 0).sum()) for layer, g in self.gates.items()}

    def describe(self) -> dict:
        """Every gate's settings, by layer (JSON-able)."""
        return {layer: gate.describe() for layer, gate in self.gates.items()}

    @torch.no_grad()
    def extract(self) -> nn.Module:
        """A copy of the base network that computes what this one does at test time.

        Unit gates: each hidden layer's test-time gates are folded into its consumer's
        weights (the columns are scaled by z), then the units with z = 0 are removed
        through the layer's site; a gate on the inputs is folded into the first layer's
        columns and the closed inputs are masked. Weight gates: each gated weight is
        multiplied by its gate and the closed ones are masked (``weight_mask``).
        """
        model = copy.deepcopy(self.base)
        tests = {
            key: g.test_gates().detach().cpu().double().numpy() for key, g in self.gates.items()
        }
        for key, z in tests.items():
            if not (z > 0).any():
                what = "weight gate" if isinstance(self.gates[key], WeightGate) else "gate"
                raise ValueError(
                    f"every {what} of {_layer_name(key)} is closed: the layer would be empty; "
                    f"train with a smaller penalty factor"
                )
        for key, z in tests.items():
            if key == INPUT or isinstance(self.gates[key], WeightGate):
                continue
            site = self._sites[int(key)]
            keep = np.flatnonzero(z > 0)
            W, b = site.outgoing(model)
            W_scaled = (W.astype(np.float64) * z[:, None])[keep].astype(W.dtype)
            model = site.shrink(model, keep, (W_scaled, b))
        for key, z in tests.items():
            if key == INPUT:
                site, factor = self._sites[0], z[None, :]
            elif isinstance(self.gates[key], WeightGate):
                site, factor = self._sites[int(key)], z
            else:
                continue
            W = site.incoming(model)
            factor = np.broadcast_to(factor, W.shape)
            weights = (W.astype(np.float64) * factor).astype(W.dtype)
            model = site.mask_incoming(model, factor > 0, weights)
        return model


def wrap_with_gates(
    model: nn.Module, method: str, layers=None, *, inputs: bool = False, **settings
) -> GatedNetwork:
    """A copy of ``model`` with the gates of a registered ``gate`` method on hidden ``layers`` (default all).

    ``layers`` are hidden-layer indices or their sites. ``inputs=True`` also gates the network's inputs (unit-gate methods only; the
    factory is called with ``layer="input"``).
    """
    m = get_method(method, "gate")
    unknown = set(settings) - set(m.options)
    if unknown:
        raise ValueError(
            f"gate method {m.name!r} takes no setting(s) {sorted(unknown)}; "
            f"its settings: {', '.join(m.options) or 'none'}"
        )
    sites = find_sites(model)
    layers = list(range(len(sites)) if layers is None else layers)
    chosen = [as_site(model, layer, sites) for layer in layers]  # a one-line ValueError if not
    layers = [site.layer for site in chosen]
    if len(set(layers)) != len(layers):
        raise ValueError(f"layers must not repeat; got {layers}")
    base = copy.deepcopy(as_chain(model))
    param = next(base.parameters())
    place = {"device": param.device, "dtype": param.dtype}
    gates = {}
    for site in chosen:
        gate = m.function(site.width(base), site.layer, **settings)
        if not isinstance(gate, (UnitGate, WeightGate)):
            raise ValueError(
                f"gate method {m.name!r} must return a UnitGate or a WeightGate; got {type(gate).__name__}"
            )
        weighted = isinstance(gate, WeightGate)
        if weighted and not isinstance(base[site.producer], nn.Linear):
            raise ValueError(
                f"weight gates act on a Linear producer's weights; layer {site.layer} is produced "
                f"by a {type(base[site.producer]).__name__}: gate its units instead"
            )
        gate.bind(
            base[site.producer].weight.shape if weighted else site.outgoing_tensor(base).shape
        )
        gates[site.layer] = gate.to(**place)
    if inputs:
        if not sites:
            raise ValueError("inputs=True needs a network with a hidden layer")
        first = base[sites[0].producer]
        if not isinstance(first, nn.Linear):
            raise ValueError(
                f"inputs=True gates the inputs of a Linear first layer; this one is a {type(first).__name__}"
            )
        gate = m.function(first.in_features, INPUT, **settings)
        if not isinstance(gate, UnitGate):
            raise ValueError(
                f"inputs=True needs a unit-gate method; {m.name!r} gates weights "
                f"(its gates on layer 0 already gate every input weight)"
            )
        gate.bind(first.weight.shape)
        gates[INPUT] = gate.to(**place)
    if len({isinstance(g, WeightGate) for g in gates.values()}) > 1:
        raise ValueError(
            f"gate method {m.name!r} returned unit gates and weight gates; use one sort"
        )
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
    inputs: bool = False,
    activation: str = "sigmoid",
    gate_lr: float | None = None,
    progress: bool = True,
    **settings,
) -> tuple[nn.Module, GatedNetwork, TrainResult]:
    """Train a network from scratch with gates and penalty ``lam`` for ``config.max_epochs`` epochs; extract it.

    ``sizes`` are an MLP's layer sizes, or the name of a registered architecture (a CNN's
    gates then sit on its channels and dense units; its recipe is the default ``config``).

    The loss of each mini-batch is the cross-entropy plus ``lam * penalty +
    weight_penalty``. Training runs the fixed budget of ``config.max_epochs`` epochs
    (the training-error threshold does not stop it: with a penalty, gates keep closing
    after the data are fitted). ``gate_lr`` gives the gate parameters their own learning
    rate (default: ``config.lr``). Returns ``(smaller network, gated network, training
    result)``; the training history records the running penalty and the open gates of
    every layer. Training stops with a ValueError as soon as every gate of a layer is
    closed. Nothing is cached.
    """
    lam = as_positive_real(lam, "lam (the penalty factor)", allow_zero=True)
    if gate_lr is not None:
        gate_lr = as_positive_real(gate_lr, "gate_lr")
    inputs_of = None
    torch.manual_seed(seed)
    if isinstance(sizes, str):
        arch = get_architecture(sizes)
        config = config or recipe_config(arch)
        base = arch.build(seed)
        inputs_of = arch.inputs if arch.sizes is None else None
    else:
        base = MLP(tuple(sizes), seed=seed, activation=activation)
    config = config or default_config(dataset.name)
    gated = wrap_with_gates(base, method, layers, inputs=inputs, **settings)

    def monitor(net: GatedNetwork) -> dict:
        counts = net.open_gates()
        closed = [key.removeprefix("open_") for key, n in counts.items() if n == 0]
        if closed:
            raise ValueError(
                f"every gate of {_layer_name(closed[0])} closed during training (lam = {lam:g}): "
                f"the layer would be empty; train with a smaller penalty factor"
            )
        return counts

    def groups(net: GatedNetwork) -> list[dict]:
        gate_group = {"params": list(net.gates.parameters())}
        if gate_lr is not None:
            gate_group["lr"] = gate_lr
        return [{"params": list(net.base.parameters())}, gate_group]

    result = fit(
        gated,
        dataset,
        seed,
        config,
        progress=progress,
        penalty=lambda net: lam * net.penalty() + net.weight_penalty(),
        monitor=monitor,
        param_groups=groups,
        until_threshold=False,
        inputs=inputs_of,
    )
    gated.eval()
    return gated.extract(), gated, result
