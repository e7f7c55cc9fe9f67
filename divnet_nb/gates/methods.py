"""Deprecated: the registered gate methods' names are in :mod:`divnet_nb.prune`.

They are defined in :mod:`divnet_nb.pruning.gate.rules`; importing this module warns
(through :mod:`divnet_nb.gates`).
"""

from ..pruning.gate.rules import DIFFPRUNE_OPTIONS, GATE_METHODS, HARD_CONCRETE_OPTIONS

__all__ = ["HARD_CONCRETE_OPTIONS", "DIFFPRUNE_OPTIONS", "GATE_METHODS"]
