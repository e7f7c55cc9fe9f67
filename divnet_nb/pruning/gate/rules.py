"""The ``gate`` methods of the registry: hard-concrete and DiffPrune-style, on neurons or weights.

No torch here (the factories import the modules when called), so importing
the package registers the names at once. Each factory is the gate kind's
``f(n_units, layer, **settings)``; ``layer`` is a hidden-layer index or ``"input"``
and only chooses the default drop rate (0.2 on the network's inputs and on the first
layer's weights, 0.5 elsewhere).
"""

from __future__ import annotations

from ..registry import register_method

__all__ = ["HARD_CONCRETE_OPTIONS", "DIFFPRUNE_OPTIONS", "GATE_METHODS"]

_COMMON = ("drop_rate", "temperature", "gamma", "zeta", "weight_decay")
HARD_CONCRETE_OPTIONS = (*_COMMON, "group_size")
DIFFPRUNE_OPTIONS = (*_COMMON, "final_temperature", "anneal_steps", "noise", "group_size")
GATE_METHODS = ("hard-concrete", "hard-concrete-weights", "diffprune", "diffprune-weights")


@register_method(
    "hard-concrete",
    "gate",
    label="L0 hard-concrete (neurons)",
    color="darkorange",
    marker="p",
    options=HARD_CONCRETE_OPTIONS,
)
def hard_concrete(n_units, layer, **settings):
    """Hard-concrete L0 gates on neurons (Louizos et al. 2018), one per unit."""
    from .modules import HardConcreteUnitGate

    return HardConcreteUnitGate(n_units, layer, **settings)


@register_method(
    "hard-concrete-weights",
    "gate",
    label="L0 hard-concrete (weights)",
    color="goldenrod",
    marker="H",
    options=HARD_CONCRETE_OPTIONS[:-1],
)
def hard_concrete_weights(n_units, layer, **settings):
    """Hard-concrete L0 gates on single weights (Louizos et al. 2018), one per incoming weight."""
    from .modules import HardConcreteWeightGate

    return HardConcreteWeightGate(n_units, layer, **settings)


@register_method(
    "diffprune",
    "gate",
    label="DiffPrune-style (reconstructed from the abstract), neurons",
    color="indigo",
    marker="X",
    options=DIFFPRUNE_OPTIONS,
)
def diffprune(n_units, layer, **settings):
    """DiffPrune-style (reconstructed from the abstract) deterministic approximate binary gates on neurons."""
    from .modules import DiffPruneUnitGate

    return DiffPruneUnitGate(n_units, layer, **settings)


@register_method(
    "diffprune-weights",
    "gate",
    label="DiffPrune-style (reconstructed from the abstract), weights",
    color="mediumorchid",
    marker="8",
    options=DIFFPRUNE_OPTIONS[:-1],
)
def diffprune_weights(n_units, layer, **settings):
    """DiffPrune-style (reconstructed from the abstract) deterministic approximate binary gates on weights."""
    from .modules import DiffPruneWeightGate

    return DiffPruneWeightGate(n_units, layer, **settings)
