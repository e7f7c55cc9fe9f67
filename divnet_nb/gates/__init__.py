"""Pruning while training, in one place: L0 hard-concrete gates (Louizos et al. 2018) and DiffPrune-style gates.

The code lives in :mod:`divnet_nb.pruning` beside the other method families (so that the
registry imports nothing above it): :mod:`~divnet_nb.pruning.gate_formulas` (the gate
formulas on torch tensors: :func:`hard_concrete_sample`, :func:`hard_concrete_prob_nonzero`,
:func:`hard_concrete_test_gate`, and the DiffPrune-style (reconstructed from the abstract)
:func:`diffprune_gate` and its :math:`L_0` surrogate :func:`diffprune_surrogate`),
:mod:`~divnet_nb.pruning.gate_modules` (gates on neurons or on single weights),
:mod:`~divnet_nb.pruning.gate_rules` (their registration as ``gate`` methods) and
:mod:`~divnet_nb.pruning.gating` (training, extraction, the penalty hook). This module
re-exports their public names; it imports torch only when a torch name is asked for.
"""

import lazy_loader as lazy

from . import methods  # noqa: F401 - the registered gate methods' names (no torch needed)

__getattr__, __dir__, __all__ = lazy.attach(
    "divnet_nb.pruning",
    submod_attrs={
        "gate_formulas": [
            "hard_concrete_sample",
            "hard_concrete_prob_nonzero",
            "hard_concrete_test_gate",
            "diffprune_gate",
            "diffprune_surrogate",
            "diffprune_thresholds",
        ],
        "gate_modules": [
            "LOG_ALPHA_RANGE",
            "HardConcreteUnitGate",
            "HardConcreteWeightGate",
            "DiffPruneUnitGate",
            "DiffPruneWeightGate",
            "drop_rate_init",
        ],
        "gate_rules": ["GATE_METHODS"],
        "gating": [
            "Gate",
            "UnitGate",
            "WeightGate",
            "GatedNetwork",
            "wrap_with_gates",
            "train_gated",
        ],
    },
)
