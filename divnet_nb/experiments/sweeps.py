"""Figures 2-8: prune one hidden layer alone over a grid of kept sizes, every variant.

:func:`layer_sweep` prunes ``layer`` of one network (the other layers intact) to each
size with each variant (a registered neuron method, with or without fusion) and
measures the test error. The design is paired: one selection per (method, size), scored
with and without fusion, and random streams keyed by the method's name
(:func:`method_stream`).
"""

from __future__ import annotations

import sys

import numpy as np
from tqdm import tqdm

from ..core.kernels import DEFAULT_KERNEL
from ..nets.evaluate import error_rate
from ..pruning.apply import apply_pruning, read_layer_data
from ..pruning.neuron.layer_data import LayerData
from ..pruning.neuron.select import select_neurons
from ..pruning.registry import get_method, variants
from ..pruning.statistics import importance_scores, outgoing_weights
from .settings import method_stream

__all__ = ["layer_sweep", "method_stream", "progress_bar"]


def progress_bar(total: int, desc: str, progress: bool):
    """A quiet progress bar on stderr (redrawn at most once a second)."""
    return tqdm(
        total=total, desc=desc, disable=not progress, leave=False, file=sys.stderr, mininterval=1.0
    )


def with_needs(model, layer: int, layer_data: LayerData, variant_list) -> LayerData:
    """``layer_data`` with the importance scores and weights that the variants' methods need."""
    needs = set().union(*(get_method(v.method).needs for v in variant_list))
    return layer_data.with_inputs(
        importance=importance_scores(model, layer) if "importance" in needs else None,
        weights=outgoing_weights(model, layer) if "weights" in needs else None,
    )


def layer_sweep(
    model,
    layer: int,
    sizes,
    x_kernel,
    x_eval,
    y_eval,
    *,
    variants=None,
    rng_for=None,
    layer_data: LayerData | None = None,
    progress: bool = False,
    kernel: str = DEFAULT_KERNEL,
) -> dict[str, list[float]]:
    """Error on ``(x_eval, y_eval)`` after pruning ``layer`` alone to each size, per variant.

    For each selection method and size one selection is drawn, with the generator
    ``rng_for(method, size_index)``, and scored with and without fusion as the
    variants ask: the two variants of a method differ only by the fusion. The layer's
    statistics (Gram matrix, kernel, eigendecomposition) are computed once and shared.
    ``variants`` default to the six of the paper's comparison
    (:func:`divnet_nb.pruning.variants`). The methods that read a kernel read ``kernel``
    (or ``layer_data``'s, when it is given).
    """
    variant_list = tuple(variants) if variants is not None else _default_variants()
    layer_data = layer_data or read_layer_data(model, layer, x_kernel, kernel=kernel)
    layer_data = with_needs(model, layer, layer_data, variant_list)
    rng_for = rng_for or (lambda method, s: np.random.default_rng([method_stream(method), s]))
    errors: dict[str, list[float]] = {v.key: [] for v in variant_list}
    methods = list(dict.fromkeys(v.method for v in variant_list))
    bar = progress_bar(len(variant_list) * len(sizes), f"layer {layer} sweep", progress)
    for method in methods:
        fused_or_not = [v for v in variant_list if v.method == method]
        for si, k in enumerate(sizes):
            keep = select_neurons(method, int(k), layer_data, rng=rng_for(method, si))
            for variant in fused_or_not:
                pruned = apply_pruning(
                    model, layer, keep, layer_data.stats if variant.reweight else None
                )
                errors[variant.key].append(error_rate(pruned, x_eval, y_eval))
                bar.update(1)
    bar.close()
    return errors


def _default_variants():
    return variants()
