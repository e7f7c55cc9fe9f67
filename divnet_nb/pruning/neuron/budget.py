"""A budget of hidden neurons shared across layers, instead of the same fraction in every layer.

Table 2 keeps the same fraction of every hidden layer. :func:`allocate` instead splits a
total number of kept neurons between the layers where removing them costs least: for each
hidden layer of the unpruned network, the greedy backward path on the fusion objective
(:func:`divnet_nb.core.objective.backward_path`) gives E after every number of removals;
dividing by the layer's output scale tr(W^T G W) makes the layers comparable (E becomes
the relative change of the next layer's input), and neurons are removed one at a time from
whichever layer's relative error rises least, until the budget is met. Each layer keeps at
least one neuron.
"""

from __future__ import annotations

import heapq

import numpy as np
from torch import nn

from ...core._validate import as_positive_real, as_size
from ...nets.sites import find_sites
from ..statistics import layer_statistics, outgoing_weights

__all__ = ["allocate", "relative_error_curves"]


def relative_error_curves(model: nn.Module, data, *, batch_size: int = 8192) -> list[np.ndarray]:
    """For each hidden layer, the relative fusion error after keeping k neurons, k = 0 .. n.

    ``curve[k]`` = E(greedy backward set of size k) / tr(W^T G W), so ``curve[n] = 0``;
    ``curve[0]`` is 1 (everything removed).
    """
    from ...core.objective import backward_path

    curves = []
    for site in find_sites(model):
        G = layer_statistics(model, site, data, batch_size=batch_size).gram
        W = outgoing_weights(model, site)
        n = G.shape[0]
        _, errors = backward_path(G, W)  # errors[r]: r removed, n - r kept (down to 1)
        scale = max(float(np.einsum("ij,ij->", W, G @ W)), np.finfo(float).tiny)
        curve = np.ones(n + 1)
        curve[1:] = errors[::-1] / scale  # curve[k] for k = 1 .. n
        curves.append(curve)
    return curves


def allocate(
    model: nn.Module, total, data=None, *, curves=None, batch_size: int = 8192
) -> list[int]:
    """Kept neurons per hidden layer for a budget of ``total`` hidden neurons (or a fraction of all).

    ``total`` is an int (kept neurons over all hidden layers) or a float in (0, 1] (that
    fraction of all hidden neurons, rounded). ``curves`` from
    :func:`relative_error_curves` may be passed instead of ``data`` (to allocate several
    budgets from one pass). Returns one size per hidden layer, summing to the budget,
    each at least 1.
    """
    if curves is None:
        if data is None:
            raise ValueError("pass data (training inputs) or curves")
        curves = relative_error_curves(model, data, batch_size=batch_size)
    widths = [c.size - 1 for c in curves]
    n_all = sum(widths)
    if isinstance(total, float):
        fraction = as_positive_real(total, "total")
        if fraction > 1:
            raise ValueError(f"total as a fraction must be in (0, 1]; got {total}")
        total = max(len(widths), int(round(fraction * n_all)))
    total = as_size(total, n_all, "total", upper="the number of hidden neurons")
    if total < len(widths):
        raise ValueError(
            f"total must keep at least one neuron per layer ({len(widths)}); got {total}"
        )
    kept = list(widths)
    heap = [  # a layer of one neuron has nothing to give
        (c[n - 1] - c[n], layer)
        for layer, (c, n) in enumerate(zip(curves, kept, strict=True))
        if n > 1
    ]
    heapq.heapify(heap)
    for _ in range(n_all - total):
        cost, layer = heapq.heappop(heap)
        kept[layer] -= 1
        if kept[layer] > 1:
            c, n = curves[layer], kept[layer]
            heapq.heappush(heap, (c[n - 1] - c[n], layer))
    return kept
