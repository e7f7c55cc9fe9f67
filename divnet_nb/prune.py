"""Pruning in a few names: everything a user calls, in one place.

``from divnet_nb.prune import ...`` reaches every public name of :mod:`divnet_nb.pruning`
(the same objects; this module keeps no list of its own, so the two cannot drift apart).
Each is loaded on first use: importing this module imports no torch.

Neuron pruning (DivNet and the other selection rules, with or without fusion)
    ``prune_layer``, ``prune_network``, ``apply_pruning``, ``next_layer_error``,
    ``sizes_for_fraction``, ``select_neurons``, ``LayerData``, ``read_layer_data`` (a
    layer's statistics with what its kernel reads), ``allocate`` and
    ``relative_error_curves`` (a budget shared across layers), ``greedy_sets``,
    ``quality_diversity_kernel``.
A layer's statistics, read through its site
    ``layer_statistics``, ``held_out_statistics``, ``collect_activations``, ``cross_statistics``,
    ``importance_scores``, ``outgoing_weights``.
Edge pruning (masks over each unit's incoming weights)
    ``prune_edges``, ``edge_statistics``, ``EdgeData``, ``select_edges``,
    ``select_edge_masks``, ``reweight_edges``, ``count_parameters``.
Pruning while training (learned gates)
    ``train_gated``, ``wrap_with_gates``, ``GatedNetwork``, ``Gate``, ``UnitGate``,
    ``WeightGate``; the hard-concrete and DiffPrune-style gates
    (``HardConcreteUnitGate``, ``HardConcreteWeightGate``, ``DiffPruneUnitGate``,
    ``DiffPruneWeightGate``, ``drop_rate_init``, ``LOG_ALPHA_RANGE``) and their formulas
    (``hard_concrete_sample``, ``hard_concrete_prob_nonzero``, ``hard_concrete_test_gate``,
    ``diffprune_gate``, ``diffprune_surrogate``, ``diffprune_thresholds``,
    ``logistic_noise``); ``GATE_METHODS``, ``HARD_CONCRETE_OPTIONS``, ``DIFFPRUNE_OPTIONS``.
The method registry
    ``method_names()`` (the registered methods, of one kind or all, as registered now),
    ``get_method`` (a ``Method``: name, kind, label, style, function), ``register_method``,
    ``unregister_method``, ``Variant``, ``variants``, ``DEFAULT_METHODS``, ``KINDS``,
    ``NEEDS``.

Every function that reads or changes a layer takes it as a hidden-layer index or as its
site (:func:`divnet_nb.nets.sites.find_sites`).
"""

from . import pruning as _pruning

__all__ = list(_pruning.__all__)


def __getattr__(name: str):
    if name in __all__:
        return getattr(_pruning, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)
