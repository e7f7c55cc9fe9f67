"""The registered gate methods (defined in :mod:`divnet_nb.pruning.gate_rules`)."""

from ..pruning.gate_rules import DIFFPRUNE_OPTIONS, GATE_METHODS, HARD_CONCRETE_OPTIONS

__all__ = ["HARD_CONCRETE_OPTIONS", "DIFFPRUNE_OPTIONS", "GATE_METHODS"]
