"""Every pruning family, behind one registry.

* :mod:`.registry` - :func:`~.registry.register_method` declares a method (name, kind,
  label, plot style, what it needs); experiments, report and command line read it from
  there;
* :mod:`.statistics` - reading a layer of a network through its site: activations, their
  Gram matrix, outgoing weights, importance scores;
* :mod:`.apply` - the neuron pipeline: statistics, selection, then physical removal of
  neurons with or without fusion (eqs. 3-4), one layer or the whole network;
* :mod:`.neuron` - the ``neuron`` kind: :class:`~.neuron.layer_data.LayerData`, DivNet's
  k-DPP and the baselines (:mod:`.neuron.select`), rules on the fusion objective
  (:mod:`.neuron.rules`), a budget shared across layers (:mod:`.neuron.budget`);
* :mod:`.edge` - the ``edge`` kind: masks over each unit's incoming weights
  (:mod:`.edge.masks`) and their rules, DPP edge pruning and two baselines
  (:mod:`.edge.rules`);
* :mod:`.gate` - the ``gate`` kind: gates trained with a penalty, then cut out
  (:mod:`.gate.gating`); the hard-concrete and DiffPrune-style gates' formulas, modules
  and registrations (:mod:`.gate.formulas`, :mod:`.gate.modules`, :mod:`.gate.rules`).

Every function that reads or changes a layer takes it as a hidden-layer index or as its
site (:func:`~divnet_nb.nets.sites.as_site`), resolved once where the call comes in.

A new family is one new subpackage that registers its methods when imported, plus its
import here. The registry and the families' rules are imported at once (they need no
torch, so the command line can check a method name in a fraction of a second);
everything else is loaded on first use (:mod:`lazy_loader`). :mod:`divnet_nb.prune` is
the short public face of all of it.
"""

import lazy_loader as lazy

from . import edge, gate, neuron  # noqa: F401 - register the methods (no torch needed)

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "registry": [
            "DEFAULT_METHODS",
            "KINDS",
            "Method",
            "NEEDS",
            "Variant",
            "get_method",
            "method_names",
            "register_method",
            "unregister_method",
            "variants",
        ],
        "statistics": [
            "collect_activations",
            "cross_statistics",
            "held_out_statistics",
            "importance_scores",
            "layer_statistics",
            "outgoing_weights",
        ],
        "apply": [
            "apply_pruning",
            "next_layer_error",
            "prune_layer",
            "prune_network",
            "read_layer_data",
            "sizes_for_fraction",
        ],
        "neuron.layer_data": ["LayerData"],
        "neuron.select": ["select_neurons"],
        "neuron.rules": ["greedy_sets", "quality_diversity_kernel"],
        "neuron.budget": ["allocate", "relative_error_curves"],
        "edge.masks": [
            "EdgeData",
            "count_parameters",
            "edge_statistics",
            "prune_edges",
            "reweight_edges",
            "select_edge_masks",
            "select_edges",
        ],
        "gate.gating": [
            "Gate",
            "GatedNetwork",
            "UnitGate",
            "WeightGate",
            "train_gated",
            "wrap_with_gates",
        ],
        "gate.formulas": [
            "diffprune_gate",
            "diffprune_surrogate",
            "diffprune_thresholds",
            "hard_concrete_prob_nonzero",
            "hard_concrete_sample",
            "hard_concrete_test_gate",
            "logistic_noise",
        ],
        "gate.modules": [
            "DiffPruneUnitGate",
            "DiffPruneWeightGate",
            "HardConcreteUnitGate",
            "HardConcreteWeightGate",
            "LOG_ALPHA_RANGE",
            "drop_rate_init",
        ],
        "gate.rules": ["DIFFPRUNE_OPTIONS", "GATE_METHODS", "HARD_CONCRETE_OPTIONS"],
    },
)
