"""Deprecated: the gates' names are in :mod:`divnet_nb.prune` (this module goes in the next release).

``from divnet_nb.gates import train_gated`` still works, with a :class:`DeprecationWarning`
on import and on each name asked for; write ``from divnet_nb.prune import train_gated``.
The code lives in :mod:`divnet_nb.pruning.gate`.
"""

import sys
import warnings

__all__ = [
    "hard_concrete_sample",
    "hard_concrete_prob_nonzero",
    "hard_concrete_test_gate",
    "diffprune_gate",
    "diffprune_surrogate",
    "diffprune_thresholds",
    "LOG_ALPHA_RANGE",
    "HardConcreteUnitGate",
    "HardConcreteWeightGate",
    "DiffPruneUnitGate",
    "DiffPruneWeightGate",
    "drop_rate_init",
    "GATE_METHODS",
    "Gate",
    "UnitGate",
    "WeightGate",
    "GatedNetwork",
    "wrap_with_gates",
    "train_gated",
]


def _deprecated(message: str) -> None:
    """Warn, pointing at the code that imported or used this module (past the import machinery)."""
    level, frame = 1, sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if not ("importlib" in name and "_bootstrap" in name):  # warnings skips those frames
            level += 1
            if name != __file__:
                break
        frame = frame.f_back
    warnings.warn(message, DeprecationWarning, stacklevel=level)


_deprecated(
    "divnet_nb.gates is deprecated and goes in the next release; import from divnet_nb.prune"
)


def __getattr__(name: str):
    if name in __all__:
        _deprecated(f"divnet_nb.gates.{name} is deprecated; use divnet_nb.prune.{name}")
        from .. import prune

        return getattr(prune, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)
