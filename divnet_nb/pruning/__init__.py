"""Every pruning family, behind one registry.

* :mod:`.registry` - :func:`register_method` declares a method (name, kind, label, plot
  style, what it needs); experiments, report and command line read it from there;
* :mod:`.layer_data` - a layer's statistics as rules see them (:class:`LayerData`);
* :mod:`.neurons` - the ``neuron`` kind: DivNet's k-DPP and the baselines;
* :mod:`.rules` - more ``neuron`` rules, on the fusion objective E(S): greedy, swaps, the
  quality-diversity k-DPP, interpolative decomposition;
* :mod:`.statistics` - reading a layer's statistics from a network, through its site;
* :mod:`.apply` - physical removal of neurons, with or without fusion (eqs. 3-4);
* :mod:`.edges` - the ``edge`` kind: masks over each unit's incoming weights;
* :mod:`.edge_rules` - the edge rules: DPP edge pruning (Acharyya et al.), random, magnitude;
* :mod:`.gating` - the ``gate`` kind: gates trained with a penalty, then cut out;
* :mod:`.gate_formulas`, :mod:`.gate_modules`, :mod:`.gate_rules` - hard-concrete and
  DiffPrune-style gates: their formulas, modules and registrations;
* :mod:`.budget` - a budget of hidden neurons shared across layers.

A new family is one new module that registers its methods, plus its import here. The
registry and the neuron rules are imported at once (they need no torch, so the command
line can check a method name in a fraction of a second); everything else is loaded on
first use (:mod:`lazy_loader`).
"""

import lazy_loader as lazy

from . import edge_rules, gate_rules, neurons, rules  # noqa: F401, I001 - register the methods (no torch needed)

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "registry": [
            "DEFAULT_METHODS",
            "Method",
            "Variant",
            "get_method",
            "method_names",
            "register_method",
            "unregister_method",
            "variants",
        ],
        "layer_data": ["LayerData"],
        "neurons": ["select_neurons"],
        "apply": [
            "apply_pruning",
            "next_layer_error",
            "prune_layer",
            "prune_network",
            "sizes_for_fraction",
        ],
        "budget": ["allocate", "relative_error_curves"],
        "edges": [
            "EdgeData",
            "count_parameters",
            "edge_statistics",
            "prune_edges",
            "reweight_edges",
            "select_edge_masks",
            "select_edges",
        ],
        "gating": ["GatedNetwork", "UnitGate", "train_gated", "wrap_with_gates"],
        "statistics": [
            "collect_activations",
            "cross_statistics",
            "importance_scores",
            "layer_statistics",
            "outgoing_weights",
        ],
    },
)
