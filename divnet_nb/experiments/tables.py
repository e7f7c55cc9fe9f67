"""Table 2: prune every hidden layer to the same fraction, layer after layer, every variant."""

from __future__ import annotations

import numpy as np

from ..core.kernels import DEFAULT_KERNEL
from ..nets.evaluate import error_rate
from ..pruning.apply import prune_network, read_layer_data
from ..pruning.registry import variants as default_variants
from .sweeps import method_stream, progress_bar

__all__ = ["table2"]


def table2(
    model,
    fractions,
    x_kernel,
    evaluation: dict,
    *,
    variants=None,
    rng_for=None,
    progress: bool = False,
    kernel: str = DEFAULT_KERNEL,
) -> dict[str, dict[str, list[float]]]:
    """Table 2 for one network: errors after pruning every hidden layer to each fraction.

    ``evaluation`` maps a name ("train", "test") to ``(X, y)``. Returns
    ``{variant: {name: [error at each fraction]}}``. A fraction of 1 is the unpruned
    network (the same for every variant); the first layer's statistics are shared.
    ``rng_for(method, fraction_index)`` gives the pruning its generator; the fused and
    unfused variants of a method get generators from the same seed, so their first
    layers keep the same neurons (deeper layers see different activations, hence
    different kernels, once the first layer is fused). The methods that read a kernel read
    ``kernel`` in every layer.
    """
    variant_list = tuple(variants) if variants is not None else default_variants()
    first = read_layer_data(model, 0, x_kernel, kernel=kernel)
    rng_for = rng_for or (lambda method, f: np.random.default_rng([method_stream(method), f]))
    full = {name: error_rate(model, X, y) for name, (X, y) in evaluation.items()}
    out = {v.key: {name: [] for name in evaluation} for v in variant_list}
    bar = progress_bar(len(variant_list) * len(fractions), "table 2", progress)
    for variant in variant_list:
        for fi, fraction in enumerate(fractions):
            if fraction >= 1.0:
                errs = full
            else:
                pruned = prune_network(
                    model,
                    fraction,
                    variant.method,
                    variant.reweight,
                    rng_for(variant.method, fi),
                    data=x_kernel,
                    first_layer_data=first,
                )
                errs = {name: error_rate(pruned, X, y) for name, (X, y) in evaluation.items()}
            for name in evaluation:
                out[variant.key][name].append(errs[name])
            bar.update(1)
    bar.close()
    return out
