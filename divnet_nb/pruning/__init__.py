"""Every pruning family, behind one registry.

* :mod:`.registry` - :func:`register_method` declares a method (name, kind, label, plot
  style, what it needs); experiments, report and command line read it from there;
* :mod:`.statistics` - a layer's statistics (:class:`LayerData`), read through its site;
* :mod:`.neurons` - the ``neuron`` kind: DivNet's k-DPP and the baselines;
* :mod:`.apply` - physical removal of neurons, with or without fusion (eqs. 3-4);
* :mod:`.edges` - the ``edge`` kind: masks over each unit's incoming weights;
* :mod:`.gating` - the ``gate`` kind: gates trained with a penalty, then cut out.

A new family is one new module that registers its methods, plus its import here.
"""

from . import neurons  # noqa: F401 - registers the neuron methods
from .apply import apply_pruning, next_layer_error, prune_layer, prune_network, sizes_for_fraction
from .edges import EdgeData, count_parameters, edge_statistics, prune_edges, select_edges
from .gating import GatedNetwork, UnitGate, train_gated, wrap_with_gates
from .neurons import select_neurons
from .registry import (
    DEFAULT_METHODS,
    Method,
    Variant,
    get_method,
    method_names,
    register_method,
    unregister_method,
    variants,
)
from .statistics import (
    LayerData,
    collect_activations,
    importance_scores,
    layer_statistics,
    outgoing_weights,
)

__all__ = [
    "DEFAULT_METHODS",
    "EdgeData",
    "GatedNetwork",
    "LayerData",
    "Method",
    "UnitGate",
    "Variant",
    "apply_pruning",
    "collect_activations",
    "count_parameters",
    "edge_statistics",
    "get_method",
    "importance_scores",
    "layer_statistics",
    "method_names",
    "next_layer_error",
    "outgoing_weights",
    "prune_edges",
    "prune_layer",
    "prune_network",
    "register_method",
    "select_edges",
    "select_neurons",
    "sizes_for_fraction",
    "train_gated",
    "unregister_method",
    "variants",
    "wrap_with_gates",
]
