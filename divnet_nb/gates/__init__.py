"""Pruning while training: L0 hard-concrete gates (Louizos et al. 2018) and DiffPrune-style gates.

* :mod:`.formulas` - the gate formulas on torch tensors: :func:`hard_concrete_sample`,
  :func:`hard_concrete_prob_nonzero`, :func:`hard_concrete_test_gate`, and the
  DiffPrune-style (reconstructed from the abstract) :func:`diffprune_gate` and its
  :math:`L_0` surrogate :func:`diffprune_surrogate` (formulas and reasons in its notes);
* :mod:`.modules` - the gate modules, on neurons (``UnitGate``) or on single weights
  (``WeightGate``);
* :mod:`.methods` - their registration as ``gate`` methods: ``"hard-concrete"``,
  ``"hard-concrete-weights"``, ``"diffprune"``, ``"diffprune-weights"`` (importing this
  package registers them; it needs no torch for that).

Training, extraction and the penalty hook are :mod:`divnet_nb.pruning.gating`'s
(:func:`train_gated`, :func:`wrap_with_gates`, :class:`GatedNetwork`), re-exported here.
"""

import lazy_loader as lazy

from . import methods  # noqa: F401 - register the gate methods (no torch needed)

_lazy_getattr, _, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "formulas": [
            "hard_concrete_sample",
            "hard_concrete_prob_nonzero",
            "hard_concrete_test_gate",
            "diffprune_gate",
            "diffprune_surrogate",
            "diffprune_thresholds",
        ],
        "modules": [
            "LOG_ALPHA_RANGE",
            "HardConcreteUnitGate",
            "HardConcreteWeightGate",
            "DiffPruneUnitGate",
            "DiffPruneWeightGate",
            "drop_rate_init",
        ],
        "methods": ["GATE_METHODS"],
    },
)


def __getattr__(name):  # the lazy names, and the gating names
    if name in _GATING:
        from ..pruning import gating

        return getattr(gating, name)
    return _lazy_getattr(name)


def __dir__():
    return __all__


_GATING = ("Gate", "UnitGate", "WeightGate", "GatedNetwork", "wrap_with_gates", "train_gated")
__all__ = [*__all__, *_GATING]
