r"""The fusion objective E(S) and the selections that minimise it, all in Gram space.

After fusion (eqs. 3-4) the next layer's input changes by exactly the least-squares
residual of the removed activations, weighted by their outgoing weights:

.. math::  E(S) = \lVert (A - P_S A) W \rVert_F^2 = \operatorname{tr}(W^\top C(S) W),
           \qquad C(S) = G - G_{:,S} G_{SS}^{-1} G_{S,:},

with :math:`G = A^\top A` the Gram matrix of the layer's activations (centred, :math:`G -
\bar a \bar a^\top N`, when the fusion has an intercept) and :math:`W` the outgoing
weights, one row per neuron. Importance pruning is the case of uncorrelated neurons
(:math:`E = \sum_{r \notin S} \lVert w_r \rVert^2 G_{rr}`); an interpolative decomposition
(pivoted Cholesky of G, the pivots of a pivoted QR of A) looks only at the redundancy
:math:`C(S)`. The functions here look at both:

* :func:`fusion_error` - E(S) for one set;
* :func:`forward_path` - greedy forward selection on E (add the neuron whose fusion
  target is best explained, :math:`\lVert C_{j,:} W \rVert^2 / C_{jj}`), with rank-one
  updates of C and of M = C W: every size from 1 to k in one pass, O(k (n^2 + n m));
* :func:`backward_path` - greedy backward elimination (remove the neuron whose removal
  raises E least, :math:`\lVert D_j \rVert^2 / H_{jj}` with :math:`H = G_{SS}^{-1}`,
  :math:`D = H G_{S,:} W`), with rank-one downdates of H and D;
* :func:`swap_search` - local search by exchanges of a kept and a removed neuron that
  lower E (every candidate exchange scored at once from H, D, C and M), never above the
  start;
* :func:`pivoted_cholesky` - LAPACK's ``dpstrf``: the interpolative decomposition's pivots.

A singular Gram block (dead or duplicate neurons) gets the fusion's documented ridge
(:data:`divnet_nb.core.fuse.DEFAULT_RIDGE` times the mean diagonal) and a
:class:`~divnet_nb.core.fuse.FusionWarning`; nothing returns NaN.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.linalg
from scipy.linalg import blas, lapack

from ._validate import as_count, as_float_array, as_gram, as_index_set, as_size
from .fuse import DEFAULT_RIDGE, FusionWarning

__all__ = [
    "centred_gram",
    "fusion_error",
    "forward_path",
    "backward_path",
    "swap_search",
    "exchange_deltas",
    "pivoted_cholesky",
]

#: Residual variances below this fraction of the largest diagonal entry count as zero.
ZERO_VARIANCE = 1e-12


def centred_gram(G, sums, n_samples: int) -> np.ndarray:
    """The Gram matrix of centred activations, :math:`G - s s^\\top / N` (s the column sums)."""
    G = as_float_array(G, "G", 2)
    s = as_float_array(sums, "sums", 1)
    if s.shape[0] != G.shape[0]:
        raise ValueError(f"sums must have length {G.shape[0]}; got {s.shape[0]}")
    n_samples = as_count(n_samples, "n_samples", minimum=1)
    return np.asarray(G, dtype=np.float64) - np.outer(s, s) / float(n_samples)


def _check(G, W) -> tuple[np.ndarray, np.ndarray]:
    G = as_gram(G)
    W = as_float_array(W, "W", 2)
    if W.shape[0] != G.shape[0]:
        raise ValueError(f"W must have one row per neuron ({G.shape[0]}); got shape {W.shape}")
    G = np.asarray(G, dtype=np.float64)
    return (G + G.T) * 0.5, np.asarray(W, dtype=np.float64)


def _inverse(M: np.ndarray, what: str) -> np.ndarray:
    """Inverse of a symmetric PSD matrix, with the fusion's ridge (and a warning) if singular."""
    scale = float(np.mean(np.diag(M))) if M.size else 0.0
    if scale <= 0.0:
        return np.zeros_like(M)
    rho = 0.0
    eye = np.eye(M.shape[0])
    while True:
        c, info = lapack.dpotrf(M + rho * scale * eye, lower=0, clean=1)
        if info == 0:
            rcond, _ = lapack.dpocon(c, float(np.abs(M).sum(axis=0).max()) + rho * scale)
            if rcond >= 1e-12:
                break
        rho = DEFAULT_RIDGE if rho == 0.0 else rho * 10.0
    if rho > 0.0:
        warnings.warn(
            FusionWarning(
                f"{what} is singular; a ridge of {rho:.0e} x mean diagonal was added", rho
            ),
            stacklevel=3,
        )
    return scipy.linalg.cho_solve((c, False), eye, check_finite=False)


def fusion_error(G, W, keep) -> float:
    """E(S) = tr(W^T C(S) W): the squared change of the next layer's input after fusion.

    ``G`` is the (possibly centred) Gram matrix, ``W`` the outgoing weights (n x m),
    ``keep`` the kept neurons S. Equals ||(A - P_S A) W||_F^2 when G = A^T A.
    """
    G, W = _check(G, W)
    n = G.shape[0]
    keep = as_index_set(keep, n, "keep")
    total = float(np.einsum("ij,ij->", W, G @ W))
    if keep.size == 0:
        return total
    H = _inverse(G[np.ix_(keep, keep)], "G_SS")
    B = G[keep] @ W  # G_{S,:} W
    return max(total - float(np.einsum("ij,ij->", B, H @ B)), 0.0)


def forward_path(G, W, k_max: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Greedy forward selection on E(S): the order neurons are added, and E after each addition.

    Returns ``(order, errors)``: ``order[:k]`` is the greedy set of size k for every
    k <= ``k_max`` (default n), and ``errors[k]`` its E (``errors[0]`` = tr(W^T G W)).
    Neurons whose residual variance is zero (dead, or already spanned) add nothing and
    come last, in index order.

    Cost: O(n t + n m) at step t, O(n k^2 + n m k) for the whole pass, with in-place BLAS-2 updates: the residual Gram
    column comes from the Cholesky factor of the chosen block (a pivoted Cholesky whose
    pivot is the fusion gain), and M = C W and its row norms are updated by rank one.
    The chosen neurons' rows are dropped from the working arrays as they accumulate
    (:data:`COMPACT_BELOW`), so later steps touch only the neurons still free.
    """
    G, W = _check(G, W)
    n, m = W.shape
    k_max = n if k_max is None else as_size(k_max, n, "k_max")
    idx = np.arange(n)  # the neurons behind the working rows
    M = np.asfortranarray(G @ W)
    norms = np.einsum("ij,ij->i", M, M)
    diag = np.diag(G).copy()
    factor = np.zeros((n, k_max), order="F")  # C(S) = G - factor factor^T, on the working rows
    err = float(np.einsum("ij,ij->", W, M))
    tol = ZERO_VARIANCE * max(float(np.max(diag)), np.finfo(float).tiny)
    free = np.ones(n, dtype=bool)
    order, errors = [], [err]
    for t in range(k_max):
        live = free & (diag > tol)
        if not live.any():
            rest = np.setdiff1d(np.arange(n), order)[: k_max - len(order)]
            order += rest.tolist()
            errors += [err] * rest.size
            break
        score = np.full(idx.size, -np.inf)
        score[live] = norms[live] / diag[live]
        j = int(np.argmax(score))
        c = G[idx, idx[j]] - factor[:, :t] @ factor[j, :t]  # the residual Gram column C(S)[:, j]
        d = c[j]
        f = c / math.sqrt(d)
        factor[:, t] = f
        mj = M[j].copy()
        dots = blas.dgemv(1.0, M, mj)  # M_i . m_j, before the update
        blas.dger(-1.0 / d, c, mj, a=M, overwrite_a=1)  # M <- M - c m_j^T / d
        norms += (c / d) * ((c / d) * float(mj @ mj) - 2.0 * dots)
        np.maximum(norms, 0.0, out=norms)
        diag -= f * f
        err = max(err - float(mj @ mj) / d, 0.0)
        free[j] = False
        diag[j] = 0.0
        order.append(int(idx[j]))
        errors.append(err)
        if free.sum() < COMPACT_BELOW * idx.size:
            idx, M, norms, diag, factor, free = (
                idx[free], np.asfortranarray(M[free]), norms[free], diag[free],
                np.asfortranarray(factor[free]), free[free],
            )  # fmt: skip
    return np.asarray(order, dtype=np.int64), np.asarray(errors)


def backward_path(G, W, k_min: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Greedy backward elimination on E(S): the order neurons are removed, and E after each.

    Returns ``(order, errors)``: after removing ``order[:r]`` (r = 0 .. n - k_min) the
    kept set has n - r neurons and E = ``errors[r]`` (``errors[0]`` = 0, all kept).
    Cost: O(n^2 + n m) per removal, in-place BLAS-2 downdates of H and D; removed
    neurons' rows and columns are dropped as they accumulate (:data:`COMPACT_BELOW`).
    """
    G, W = _check(G, W)
    n = G.shape[0]
    k_min = as_size(k_min, n, "k_min")
    idx = np.arange(n)  # the neurons behind the working rows
    H = np.asfortranarray(_inverse(G, "the layer's Gram matrix"))
    D = np.asfortranarray(H @ (G @ W))  # = W when G is regular
    norms = np.einsum("ij,ij->i", D, D)
    alive = np.ones(n, dtype=bool)
    err = 0.0
    order, errors = [], [0.0]
    for _ in range(n - k_min):
        hd = np.diag(H)
        inc = np.full(idx.size, np.inf)
        # hd = 0 only when the whole layer is dead (H = 0): removing a neuron then costs nothing
        inc[alive] = np.divide(
            norms[alive], hd[alive], out=np.zeros(int(alive.sum())), where=hd[alive] > 0.0
        )
        j = int(np.argmin(inc))
        h, dj, hjj = H[:, j].copy(), D[j].copy(), H[j, j]
        dots = blas.dgemv(1.0, D, dj)
        blas.dger(-1.0 / hjj, h, dj, a=D, overwrite_a=1)
        blas.dger(-1.0 / hjj, h, h, a=H, overwrite_a=1)
        norms += (h / hjj) * ((h / hjj) * float(dj @ dj) - 2.0 * dots)
        np.maximum(norms, 0.0, out=norms)
        alive[j] = False
        err += float(inc[j])
        order.append(int(idx[j]))
        errors.append(err)
        if alive.sum() < COMPACT_BELOW * idx.size:
            idx, H, D, norms, alive = (
                idx[alive], np.asfortranarray(H[np.ix_(alive, alive)]),
                np.asfortranarray(D[alive]), norms[alive], alive[alive],
            )  # fmt: skip
    return np.asarray(order, dtype=np.int64), np.asarray(errors)


#: The greedy paths drop finished rows once fewer than this fraction of the working rows remain.
COMPACT_BELOW = 0.75


def swap_search(G, W, keep, max_swaps: int | None = None) -> tuple[np.ndarray, float, int]:
    r"""Local search from ``keep``: exchange a kept and a removed neuron while that lowers E.

    Every exchange (i kept, j removed) is scored from bordered-inverse identities: adding
    j lowers E by :math:`\lVert M_j \rVert^2 / C_{jj}`, and removing i from S + j then
    raises it by :math:`\lVert D_i - u_i M_j / C_{jj} \rVert^2 / (H_{ii} + u_i^2 / C_{jj})`,
    with :math:`u = H G_{S,j}`, :math:`H = G_{SS}^{-1}`, :math:`D = H G_{S,:} W`, M = C(S) W
    (:func:`exchange_deltas`). Each round scores the exchanges with the
    :data:`SWAP_CANDIDATES` removed neurons of largest gain; only when none of them helps
    are all removed neurons scored, so the search stops at a true 1-exchange local
    optimum. The best exchange is made (H, D, M updated by rank one, refreshed exactly
    every :data:`SWAP_REFRESH` exchanges) while it lowers E, at most ``max_swaps`` times
    (default: the number of neurons). The result's E is recomputed exactly and the start
    is returned if round-off made it worse, so the search never ends above its start.

    Returns ``(kept, E, swaps made)``.
    """
    G, W = _check(G, W)
    n = G.shape[0]
    start = np.sort(as_index_set(keep, n, "keep"))
    if start.size in (0, n):
        return start, fusion_error(G, W, start), 0
    max_swaps = n if max_swaps is None else as_count(max_swaps, "max_swaps")
    GW = G @ W
    total = float(np.einsum("ij,ij->", W, GW))
    tol = ZERO_VARIANCE * max(float(np.max(np.diag(G))), np.finfo(float).tiny)
    below = -1e-12 * max(total, 1e-300)  # an exchange counts when it changes E by less
    state = _SwapState(G, W, start, total, GW)
    start_err = state.err  # the same arithmetic as fusion_error(G, W, start)
    swaps = 0
    while swaps < max_swaps:
        best = state.best_exchange(tol, SWAP_CANDIDATES, below)
        if best is None:
            best = state.best_exchange(tol, None, below)  # nothing among the top: look at all
        if best is None:
            break
        state.exchange(best[0], best[1])
        swaps += 1
        if swaps % SWAP_REFRESH == 0:
            state = _SwapState(G, W, state.S, total, GW)
    if swaps == 0:
        return start, start_err, 0
    S = np.sort(state.S)
    err = fusion_error(G, W, S)
    if err > start_err:
        return start, start_err, 0
    return S, err, swaps


#: Removed neurons (of largest gain) scored in each round of the swap search.
SWAP_CANDIDATES = 32
#: Exchanges after which the swap search recomputes its state exactly (against drift).
SWAP_REFRESH = 25


class _SwapState:
    """H = G_SS^-1, D = H G_{S,:} W, M = C(S) W, diag C(S) and E for a kept set S."""

    def __init__(self, G, W, S, total, GW):
        self.G, self.W, self.total, self.GW = G, W, total, GW
        self.S = np.asarray(S, dtype=np.int64).copy()
        self.H = _inverse(G[np.ix_(self.S, self.S)], "G_SS")
        B = GW[self.S]  # G_{S,:} W
        self.D = self.H @ B
        GS = G[:, self.S]
        self.M = np.asfortranarray(GW - GS @ self.D)
        self.Cd = np.diag(G) - np.einsum("ij,ij->i", GS @ self.H, GS)
        self.err = max(total - float(np.einsum("ij,ij->", B, self.D)), 0.0)

    def removed(self) -> np.ndarray:
        mask = np.ones(self.G.shape[0], dtype=bool)
        mask[self.S] = False
        return np.flatnonzero(mask)

    def deltas(self, R, tol) -> np.ndarray:
        """E(S - S[a] + R[b]) - E(S) for every a, b (inf where R[b] adds nothing)."""
        U = self.H @ self.G[np.ix_(self.S, R)]
        MR = self.M[R]
        mn = np.einsum("ij,ij->i", MR, MR)
        ok = self.Cd[R] > tol
        c = np.where(ok, self.Cd[R], 1.0)
        P = self.D @ MR.T
        dn = np.einsum("ij,ij->i", self.D, self.D)[:, None]
        den = np.diag(self.H)[:, None] + U**2 / c
        num = dn - 2.0 * U * P / c + U**2 * (mn / c**2)
        # den = 0 only for a wholly dead kept block (H = 0): removing from it costs nothing
        inc = np.divide(num, den, out=np.zeros_like(num), where=den > 0.0)
        return np.where(ok[None, :], inc - (mn / c)[None, :], np.inf)

    def best_exchange(self, tol, candidates, below):
        """The best exchange (position in S, removed neuron, change of E) if the change is below ``below``."""
        R = self.removed()
        if candidates is not None and R.size > candidates:
            MR = self.M[R]
            gain = np.einsum("ij,ij->i", MR, MR) / np.maximum(self.Cd[R], tol)
            R = R[np.argsort(-gain, kind="stable")[:candidates]]
        delta = self.deltas(R, tol)
        a, b = np.unravel_index(int(np.argmin(delta)), delta.shape)
        if not np.isfinite(delta[a, b]) or not delta[a, b] < below:
            return None
        return int(a), int(R[b]), float(delta[a, b])

    def exchange(self, a: int, j: int) -> None:
        """Replace the kept neuron at position ``a`` by the removed neuron ``j`` (rank-one updates)."""
        G = self.G
        # add j: bordered inverse
        u = self.H @ G[self.S, j]
        c = G[:, j] - G[:, self.S] @ u
        cj = c[j]
        mj = self.M[j].copy()
        k = self.S.size
        H = np.empty((k + 1, k + 1))
        H[:k, :k] = self.H + np.outer(u, u) / cj
        H[:k, k] = H[k, :k] = -u / cj
        H[k, k] = 1.0 / cj
        D = np.vstack([self.D - np.outer(u, mj) / cj, mj / cj])
        blas.dger(-1.0 / cj, c, mj, a=self.M, overwrite_a=1)
        self.Cd = self.Cd - c * c / cj
        err = self.err - float(mj @ mj) / cj
        S = np.r_[self.S, j]
        # remove the neuron at position a: C(S - i) = C(S) + v v^T / H_aa, v = G_{:,S} H_{:,a}
        h, haa, da = H[:, a].copy(), H[a, a], D[a].copy()
        if not haa > 0.0:  # S was a wholly dead block (H = 0): no rank-one form, start afresh
            self.__init__(G, self.W, np.delete(S, a), self.total, self.GW)
            return
        v = G[:, S] @ h
        blas.dger(1.0 / haa, v, da, a=self.M, overwrite_a=1)  # v^T W = D_a
        self.Cd = self.Cd + v * v / haa
        keep = np.arange(k + 1) != a
        self.D = (D - np.outer(h / haa, da))[keep]
        self.H = (H - np.outer(h / haa, h))[np.ix_(keep, keep)]
        self.err = max(err + float(da @ da) / haa, 0.0)
        self.S = S[keep]


def exchange_deltas(G, W, keep) -> tuple[np.ndarray, np.ndarray, float]:
    """The change of E for every exchange of a kept neuron i and a removed neuron j.

    Returns ``(delta, removed, E)``: ``delta[a, b]`` is E(S - keep[a] + removed[b]) - E(S)
    (``inf`` where the removed neuron has no residual variance), for ``keep`` sorted.
    """
    G, W = _check(G, W)
    S = np.sort(as_index_set(keep, G.shape[0], "keep"))
    GW = G @ W
    total = float(np.einsum("ij,ij->", W, GW))
    tol = ZERO_VARIANCE * max(float(np.max(np.diag(G))), np.finfo(float).tiny)
    state = _SwapState(G, W, S, total, GW)
    R = state.removed()
    return state.deltas(R, tol), R, state.err


def pivoted_cholesky(G, k: int) -> np.ndarray:
    """The first ``k`` pivots of LAPACK's pivoted Cholesky of ``G`` (``dpstrf``).

    The same pivots as a column-pivoted QR of the activations (an interpolative
    decomposition): each step keeps the neuron with the largest residual variance. Past
    the numerical rank the remaining neurons follow in index order.
    """
    G = as_gram(G)
    n = G.shape[0]
    k = as_size(k, n, "k")
    _, piv, rank, info = lapack.dpstrf(np.array(G, dtype=np.float64, order="F"), lower=1, tol=-1.0)
    if info < 0:  # pragma: no cover - LAPACK argument error
        raise ValueError(f"dpstrf failed (info {info})")
    order = np.asarray(piv[:rank], dtype=np.int64) - 1
    if order.size < k:
        rest = np.setdiff1d(np.arange(n), order)
        order = np.r_[order, rest]
    return order[:k]
