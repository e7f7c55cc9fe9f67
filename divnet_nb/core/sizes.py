r"""A layer's size chosen by the DPP: one scale parameter, set by one rule for every layer.

DivNet's k-DPP needs the number k of neurons to keep; the paper's section 4 suggests that
a DPP could "reflect different distributions over the sampled set sizes" and so choose
it. A plain DPP with kernel :math:`\gamma L` does: its samples have random size with mean
:math:`\sum_n \gamma\lambda_n / (1 + \gamma\lambda_n)` (Kulesza & Taskar 2012, eq. 34),
increasing in :math:`\gamma`, and its most likely set maximises

.. math::  \gamma^{|S|} \det(L_S),

the determinant of the k-DPP times the size prior :math:`\gamma^{|S|}`. What is left is
the scale. Both functions here choose it by the same rule, with the same meaning on every
layer of every dataset: **the smallest** :math:`\gamma` **whose selection loses at most a
fraction** ``tolerance`` **of the next layer's input**, measured by the fusion objective
(eqs. 3-4) relative to the layer's output energy,

.. math::  \frac{E(S)}{\operatorname{tr}(W^\top G W)} \le \tau .

* :func:`dpp_scale_for_error` - for DPP samples, whose error is random: the smallest
  expected size (hence :math:`\gamma`, :func:`~divnet_nb.core.dpp.scaling_factor`) at
  which the mean relative error of ``draws`` samples is at most :math:`\tau`. The
  samples reuse the same random numbers at every scale (common random numbers), so the
  estimate changes smoothly with the scale and bisection over the expected size finds
  where it crosses :math:`\tau`.
* :func:`map_for_error` - for the mode, which is deterministic: the greedy MAP of
  :math:`\gamma L` adds items in an order that does not depend on :math:`\gamma`, while
  the gain :math:`\gamma d_t^2` of the next item exceeds 1 (:math:`d_t^2` the Schur
  complement that the greedy algorithm maximises, non-increasing in t). The sets are
  nested as :math:`\gamma` grows, so the smallest one within :math:`\tau` is found by
  bisection on its length t, and :math:`\gamma = 1 / d_t^2` is the infimum of the scales
  whose mode has t items (at it exactly, the t-th item's gain is 1).

Neither function ever returns an empty set: a layer keeps at least one neuron.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from ._validate import as_count, as_float_array, as_gram, as_kernel, as_positive_real, as_rng
from .dpp import Eigendecomposition, resolve_eig, scaling_factor
from .fuse import FusionWarning
from .objective import _inverse
from .sample import _greedy_order, sample_dpp

__all__ = [
    "SizeChoice",
    "dpp_error_curve",
    "dpp_scale_for_error",
    "map_for_error",
    "map_gains",
    "relative_errors",
]

#: Samples whose mean error stands for the expected error (:func:`dpp_scale_for_error`).
DEFAULT_DRAWS = 8


class SizeChoice(NamedTuple):
    """The scale a rule chose, and what it chose it from.

    ``gamma`` is the kernel's scale factor; ``expected_size`` the expected size of a DPP
    sample at ``gamma`` (the mode's size, for the MAP); ``relative_error`` the relative
    fusion error there (the mean over the draws for DPP samples, the mode's own for the
    MAP); ``keep`` the mode (empty for the DPP rule, whose caller draws its sample); and
    ``met`` whether ``relative_error`` is within the tolerance (False when even the largest
    scale tried leaves more).
    """

    gamma: float
    expected_size: float
    relative_error: float
    keep: np.ndarray
    met: bool


def _fusion_inputs(G, W):
    G = as_gram(G, "G")
    W = as_float_array(W, "W", 2)
    if W.shape[0] != G.shape[0]:
        raise ValueError(f"W must have one row per neuron ({G.shape[0]}); got {W.shape[0]}")
    GW = G @ W
    total = float(np.einsum("ij,ij->", W, GW))
    if not total > 0:
        raise ValueError(
            "the layer's output energy tr(W^T G W) is 0: no error can be relative to it"
        )
    return G, GW, total


def _same_neurons(n: int, G: np.ndarray) -> None:
    if G.shape[0] != n:
        raise ValueError(f"L and G must be over the same neurons; got {n} and {G.shape[0]}")


def _relative(G, GW, total, keep) -> float:
    keep = np.asarray(keep, dtype=np.int64)
    if keep.size == 0:
        return 1.0
    B = GW[keep]
    with warnings.catch_warnings():  # an estimate, not a fusion: its ridge is no news
        warnings.simplefilter("ignore", FusionWarning)
        H = _inverse(G[np.ix_(keep, keep)], "G_SS")
    kept = float(np.einsum("ij,ij->", B, H @ B))
    return max(total - kept, 0.0) / total


def relative_errors(G, W, keeps) -> np.ndarray:
    r"""E(S) / tr(W^T G W) for each set S in ``keeps`` (one product G W for all of them)."""
    G, GW, total = _fusion_inputs(G, W)
    return np.array([_relative(G, GW, total, keep) for keep in keeps])


def _tolerance(tolerance) -> float:
    tau = as_positive_real(tolerance, "tolerance")
    if tau >= 1:
        raise ValueError(
            f"tolerance must be in (0, 1) (a fraction of the output energy); got {tau}"
        )
    return tau


def _mean_error(eig, G, GW, total, mu: int, seeds) -> tuple[float, float]:
    """The scale giving expected size ``mu``, and the mean relative error of one DPP sample
    per seed at that scale."""
    gamma = scaling_factor(eig.values, mu, "exact")
    scaled = eig.scaled(gamma)
    errors = [
        _relative(G, GW, total, sample_dpp(None, np.random.default_rng(s), eig=scaled))
        for s in seeds
    ]
    return gamma, float(np.mean(errors))


def dpp_error_curve(L, G, W, sizes, rng=None, *, draws: int = DEFAULT_DRAWS,
                    eig: Eigendecomposition | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """For each expected size in ``sizes``, the scale gamma that gives it and the mean relative
    fusion error of ``draws`` DPP samples there: the curve :func:`dpp_scale_for_error` bisects.

    The samples reuse the same random numbers at every size (seeds drawn once from ``rng``, as
    in :func:`dpp_scale_for_error`); ``sizes`` are integers in 1 .. rank - 1. Returns
    ``(gammas, errors)``.
    """
    eig = resolve_eig(L, eig)
    G, GW, total = _fusion_inputs(G, W)
    _same_neurons(eig.values.shape[0], G)
    draws = as_count(draws, "draws", minimum=1)
    seeds = as_rng(rng).integers(2**63 - 1, size=draws)
    curve = [_mean_error(eig, G, GW, total, int(mu), seeds) for mu in sizes]
    return np.array([g for g, _ in curve]), np.array([e for _, e in curve])


def dpp_scale_for_error(L, G, W, tolerance: float, rng=None, *, draws: int = DEFAULT_DRAWS,
                        eig: Eigendecomposition | None = None) -> SizeChoice:  # fmt: skip
    r"""The smallest scale :math:`\gamma` whose DPP samples lose at most ``tolerance`` on average.

    Parameters
    ----------
    L : array_like (N, N), Eigendecomposition or None
        The kernel over the layer's neurons (None when ``eig`` is given).
    G : array_like (N, N)
        Gram matrix of the layer's activations.
    W : array_like (N, M)
        Outgoing weights, one row per neuron.
    tolerance : float in (0, 1)
        The largest mean relative fusion error :math:`E(S)/\operatorname{tr}(W^\top G W)`.
    rng : None, int or numpy.random.Generator
        Seeds the ``draws`` samples; the same samples' random numbers serve every scale.
    draws : int
        Samples per scale whose mean estimates the expected error.

    Returns
    -------
    SizeChoice
        ``gamma``, the expected size it gives, the estimated error there, and ``met``.
        The search runs over integer expected sizes 1 .. rank - 1 (the DPP's expected
        size tends to the kernel's rank as the scale grows): the smallest one at which the
        estimate is at most ``tolerance``, assuming, as bisection does, that the estimate
        falls as the size grows.
    """
    eig = resolve_eig(L, eig)
    G, GW, total = _fusion_inputs(G, W)
    _same_neurons(eig.values.shape[0], G)
    tau = _tolerance(tolerance)
    draws = as_count(draws, "draws", minimum=1)
    seeds = as_rng(rng).integers(2**63 - 1, size=draws)
    rank = int(np.count_nonzero(eig.values > 0))
    if rank < 2:
        raise ValueError(f"the kernel has rank {rank}: its DPP's size cannot be scaled")

    memo: dict[int, tuple[float, float]] = {}

    def estimate(mu: int) -> tuple[float, float]:
        if mu not in memo:
            memo[mu] = _mean_error(eig, G, GW, total, mu, seeds)
        return memo[mu]

    lo, hi = 1, rank - 1  # the answer lies in [lo, hi] if the estimate at hi meets tau
    while lo < hi:
        mid = (lo + hi) // 2
        if estimate(mid)[1] <= tau:
            hi = mid
        else:
            lo = mid + 1
    gamma, error = estimate(lo)
    return SizeChoice(float(gamma), float(lo), error, np.empty(0, dtype=np.int64), error <= tau)


def map_gains(L) -> tuple[np.ndarray, np.ndarray]:
    r"""The greedy MAP order of ``L`` up to its numerical rank, and each item's gain :math:`d_t^2`.

    ``gains[t] = det(L_{S_{t+1}}) / det(L_{S_t})``, the squared diagonal of the Cholesky
    factor of ``L`` restricted to the order; non-increasing in t.
    """
    L = as_kernel(L, "L")
    n = L.shape[0]
    rank = int(np.linalg.matrix_rank(L, hermitian=True))
    if rank == 0:
        raise ValueError("L is zero: no item has a positive gain")
    order = _greedy_order(L, min(rank, n))
    chol = np.linalg.cholesky(L[np.ix_(order, order)])
    return order, np.diag(chol) ** 2


def map_for_error(L, G, W, tolerance: float) -> SizeChoice:
    r"""The mode of the DPP with the smallest scale whose mode loses at most ``tolerance``.

    The mode of :math:`\gamma L` is approximated greedily (the order of
    :func:`~divnet_nb.core.sample.greedy_map`, extended while the gain
    :math:`\gamma d_t^2 > 1`); the returned ``keep`` is that mode and ``gamma`` is
    :math:`1/d_t^2`, the smallest scale at which it has its t items. If even the full
    greedy order up to the kernel's rank leaves more than ``tolerance``, that order is
    returned with ``met`` False. Neurons that duplicate kept ones make the kept block
    singular; fusion's small ridge then leaves an error of order 1e-7 relative, so a
    tolerance below about 1e-6 may not be met where exact arithmetic would meet it.
    """
    L = as_kernel(L, "L")
    G, GW, total = _fusion_inputs(G, W)
    _same_neurons(L.shape[0], G)
    tau = _tolerance(tolerance)
    order, gains = map_gains(L)
    lo, hi = 1, order.size
    while lo < hi:  # prefixes are nested, so their errors never rise with t
        mid = (lo + hi) // 2
        if _relative(G, GW, total, np.sort(order[:mid])) <= tau:
            hi = mid
        else:
            lo = mid + 1
    keep = np.sort(order[:lo])
    error = _relative(G, GW, total, keep)
    return SizeChoice(float(1.0 / gains[lo - 1]), float(lo), error, keep, error <= tau)
