r"""Selection rules that look at what fusion leaves behind (the ``neuron`` kind, beyond the paper).

Fusion changes the next layer's input by :math:`E(S) = \operatorname{tr}(W^\top C(S) W)`
(:mod:`divnet_nb.core.objective`): the residual of the removed activations after least
squares on the kept ones, weighted by their outgoing weights. DivNet's RBF kernel and an
interpolative decomposition look only at the redundancy :math:`C(S)`; importance only at
the weights. These rules look at both, or make the DPP look at both:

==================  ======================================================================
``"greedy-ls"``     greedy on E(S): forward (add the best-explained neuron) and backward
                    (drop the neuron whose loss costs least), the better of the two at
                    each size (option ``direction``); one pass gives every size, cached
                    on the layer's statistics
``"swap"``          local search from the best of greedy-ls, importance and ID (by E):
                    exchange a kept and a removed neuron while E falls (option
                    ``max_swaps``, default the layer's width); never above its start
``"qd-dpp"``        DivNet's family made aware of the weights: a k-DPP with the quality-
                    diversity kernel L = D S D (Kulesza & Taskar, sec. 3.1), quality
                    :math:`q_i = \lVert w_i \rVert \sigma_i`, similarity S the activations'
                    correlation (+ 0.01 I); ``"qd-greedy"`` its greedy MAP; ``"qd-best"``
                    the best of 20 samples by E(S)
``"id"``            interpolative decomposition: the pivots of a pivoted Cholesky of G (a
                    pivoted QR of the activations); ``"id-centred"`` on centred ones
==================  ======================================================================

The objective is the paper's fusion (no intercept): E uses the uncentred Gram matrix.
The numerical work is imported inside the rules, so that registering them (which the
command line does to check a method name) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..registry import register_method

if TYPE_CHECKING:
    from .layer_data import LayerData

__all__ = ["greedy_sets", "quality_diversity_kernel"]

#: Samples scored by E(S) for "qd-best".
QD_SAMPLES = 20
#: Diagonal added to the activations' correlation in the quality-diversity kernel.
QD_EPS = 0.01


def greedy_sets(data: LayerData, k: int, direction: str = "best") -> np.ndarray:
    """The greedy-ls set of size k (forward, backward or the better of the two by E)."""
    from ...core.objective import backward_path, forward_path

    if direction not in ("best", "forward", "backward"):
        raise ValueError(f"direction must be 'best', 'forward' or 'backward'; got {direction!r}")
    n = data.n
    forward = backward = None
    if direction in ("best", "forward"):
        order, err_f = data.cached("forward", lambda: forward_path(data.gram, data.weights))
        forward = (np.sort(order[:k]), err_f[k])
    if direction in ("best", "backward"):
        order, err_b = data.cached("backward", lambda: backward_path(data.gram, data.weights))
        backward = (np.sort(np.setdiff1d(np.arange(n), order[: n - k])), err_b[n - k])
    if forward is None or (backward is not None and backward[1] < forward[1]):
        return backward[0]
    return forward[0]


@register_method(
    "greedy-ls",
    "neuron",
    label="greedy on E(S)",
    color="tab:olive",
    marker="*",
    needs=("weights",),
    options=("direction",),
)
def greedy_ls(data: LayerData, k: int, rng, direction: str = "best") -> np.ndarray:
    """Greedy forward and backward selection on the fusion objective E(S); the better of the two."""
    return greedy_sets(data, k, direction)


@register_method(
    "swap",
    "neuron",
    label="greedy + swaps",
    color="black",
    marker="P",
    needs=("weights", "importance"),
    options=("max_swaps",),
)
def swap(data: LayerData, k: int, rng, max_swaps: int | None = None) -> np.ndarray:
    """Exchanges of a kept and a removed neuron that lower E(S), from the best of three starts."""
    from ...core.objective import fusion_error, pivoted_cholesky, swap_search

    G, W = data.gram, data.weights
    starts = [
        greedy_sets(data, k),
        np.sort(np.argsort(-data.importance, kind="stable")[:k]),
        np.sort(pivoted_cholesky(G, k)),
    ]
    start = min(starts, key=lambda s: fusion_error(G, W, s))
    keep, _, _ = swap_search(G, W, start, max_swaps)
    return keep


def quality_diversity_kernel(data: LayerData) -> np.ndarray:
    r"""L = D (R + eps I) D: quality :math:`q_i = \lVert w_i \rVert \sigma_i`, R the correlation.

    The ``"qd"`` kernel of :mod:`divnet_nb.core.kernels` with eps = :data:`QD_EPS`. A neuron
    that never varies (:math:`\sigma_i = 0`) has quality 0 and no correlation.
    """
    from ...core.kernels import neuron_kernel

    return data.cached(
        "qd-kernel", lambda: neuron_kernel("qd", data.stats, weights=data.weights, eps=QD_EPS)
    )


def _qd_live(data: LayerData, k: int):
    """The live neurons' indices and kernel; k-DPPs need k <= the number of live neurons."""
    L = quality_diversity_kernel(data)
    live = np.flatnonzero(np.diag(L) > 0)
    return live, L[np.ix_(live, live)]


def _qd_pad(keep, live, k, n):
    """A selection of k: the DPP's choice among live neurons, then dead ones by index if needed."""
    keep = live[np.asarray(keep, dtype=np.int64)]
    if keep.size < k:
        keep = np.r_[keep, np.setdiff1d(np.arange(n), live)[: k - keep.size]]
    return np.sort(keep)


@register_method(
    "qd-dpp",
    "neuron",
    label="quality-diversity k-DPP",
    color="tab:pink",
    marker="h",
    needs=("weights", "rng"),
)
def qd_dpp(data: LayerData, k: int, rng) -> np.ndarray:
    """A k-DPP sample with the quality-diversity kernel (quality ||w_i|| sigma_i, correlation)."""
    from ...core.sample import sample_kdpp

    live, L = _qd_live(data, k)
    keep = sample_kdpp(L, min(k, live.size), rng) if live.size else np.array([], dtype=np.int64)
    return _qd_pad(keep, live, k, data.n)


@register_method(
    "qd-greedy",
    "neuron",
    label="quality-diversity greedy MAP",
    color="tab:gray",
    marker="d",
    needs=("weights",),
)
def qd_greedy(data: LayerData, k: int, rng) -> np.ndarray:
    """The greedy mode of the quality-diversity k-DPP."""
    from ...core.sample import greedy_map

    live, L = _qd_live(data, k)
    keep = greedy_map(L, min(k, live.size)) if live.size else np.array([], dtype=np.int64)
    return _qd_pad(keep, live, k, data.n)


@register_method(
    "qd-best",
    "neuron",
    label=f"quality-diversity k-DPP, best of {QD_SAMPLES} by E(S)",
    color="tab:brown",
    marker="<",
    needs=("weights", "rng"),
)
def qd_best(data: LayerData, k: int, rng) -> np.ndarray:
    """Of 20 quality-diversity k-DPP samples, the one whose fusion error E(S) is smallest."""
    from ...core.dpp import eigendecompose
    from ...core.objective import fusion_error
    from ...core.sample import sample_kdpp

    live, L = _qd_live(data, k)
    if live.size <= k:
        return _qd_pad(np.arange(live.size), live, k, data.n)
    eig = eigendecompose(L)
    samples = [_qd_pad(sample_kdpp(eig, k, rng), live, k, data.n) for _ in range(QD_SAMPLES)]
    return min(samples, key=lambda s: fusion_error(data.gram, data.weights, s))


@register_method("id", "neuron", label="interpolative decomposition", color="tab:cyan", marker=">")
def interpolative(data: LayerData, k: int, rng) -> np.ndarray:
    """The k pivots of a pivoted Cholesky of the Gram matrix (a column-pivoted QR of the activations)."""
    from ...core.objective import pivoted_cholesky

    return np.sort(pivoted_cholesky(data.gram, k))


@register_method(
    "id-centred", "neuron", label="interpolative decomposition, centred", color="teal", marker="x"
)
def interpolative_centred(data: LayerData, k: int, rng) -> np.ndarray:
    """The k pivots of a pivoted Cholesky of the centred Gram matrix."""
    from ...core.objective import pivoted_cholesky

    return np.sort(pivoted_cholesky(data.centred_gram, k))
