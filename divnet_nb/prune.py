"""Pruning in a few names: the public face of :mod:`divnet_nb.pruning`.

``prune_layer`` and ``prune_network`` (neuron selection, with or without fusion),
``prune_edges`` (masks over incoming weights), ``apply_pruning``, ``layer_statistics``,
``select_neurons`` and friends, re-exported unchanged; ``METHODS`` names the registered
neuron methods.
"""

from .pruning import (
    LayerData,
    apply_pruning,
    collect_activations,
    count_parameters,
    importance_scores,
    layer_statistics,
    method_names,
    next_layer_error,
    prune_edges,
    prune_layer,
    prune_network,
    select_neurons,
    sizes_for_fraction,
)

#: The registered neuron-selection methods (the registry is the source; this is a snapshot).
METHODS = method_names("neuron")

__all__ = [
    "METHODS",
    "LayerData",
    "apply_pruning",
    "collect_activations",
    "count_parameters",
    "importance_scores",
    "layer_statistics",
    "next_layer_error",
    "prune_edges",
    "prune_layer",
    "prune_network",
    "select_neurons",
    "sizes_for_fraction",
]
