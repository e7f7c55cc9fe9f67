r"""Exact DPP and k-DPP sampling (spectral algorithm), greedy MAP and best-of-m.

The spectral sampler of Hough et al. (2006), as given by Kulesza & Taskar
(2012, Algorithm 1; k-DPPs: Algorithm 8 of the same work and Kulesza & Taskar
2011), runs in two phases after one eigendecomposition
:math:`L = \sum_n \lambda_n v_n v_n^\top`:

**Phase 1** chooses a set :math:`J` of eigenvectors. For a DPP, each
:math:`v_n` is kept independently with probability
:math:`\lambda_n / (1 + \lambda_n)`. For a k-DPP, exactly k are kept, walking
:math:`n = N, \dots, 1` and keeping :math:`v_n` with probability
:math:`\lambda_n e_{l-1}^{n-1} / e_l^{n}` while ``l`` are still to be chosen
(:math:`e_l^n` is the l-th elementary symmetric polynomial of the first n
eigenvalues, computed in log space, see :mod:`divnet_nb.core.dpp`).

**Phase 2** samples from the projection DPP with kernel
:math:`K = V_J V_J^\top`: it picks items one at a time with probability
proportional to the squared norms of the rows of :math:`V_J` conditioned on the
items picked so far. The conditioning is an incremental Cholesky factorisation
of K (Gram-Schmidt on the rows of :math:`V_J`), O(N |J|) per item and
O(N |J|^2) in all.

Randomness: every uniform number is drawn in Python from a
:class:`numpy.random.Generator` (N for phase 1, one per item for phase 2) and
passed to the jitted phases, so a seed gives the same sample whether Numba
compiles the phases or ``NUMBA_DISABLE_JIT=1`` runs them as Python.
"""

from __future__ import annotations

import numpy as np

from ._config import jit
from ._validate import as_kernel, as_rng, as_size, is_int
from .dpp import _check_rank, _log_values, eigendecompose, resolve_eig

__all__ = [
    "sample_dpp",
    "sample_kdpp",
    "select_eigenvectors",
    "sample_projection",
    "greedy_map",
    "best_of",
]


# ---------------------------------------------------------------- phase 1
def _phase1_dpp(values: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Eigenvectors kept by a DPP: independent Bernoulli(lambda / (1 + lambda))."""
    return np.flatnonzero(u < values / (1.0 + values))


@jit
def _phase1_kdpp(log_w, k, table, u, chosen):
    """Keep exactly k eigenvectors; table = log ESP table of the eigenvalues; writes their indices to chosen."""
    remaining = k
    for n in range(log_w.shape[0], 0, -1):
        if remaining == 0:
            break
        # P(keep v_n | `remaining` still to pick among v_1..v_n) = w_n e_{remaining-1}^{n-1} / e_remaining^n
        p = np.exp(log_w[n - 1] + table[n - 1, remaining - 1] - table[n, remaining])
        if u[n - 1] < p:
            remaining -= 1
            chosen[remaining] = n - 1
    return remaining


# ---------------------------------------------------------------- phase 2
@jit
def _phase2_projection(V, u, out):
    """Sample from the projection DPP with kernel V V^T (V: N x r, orthonormal columns).

    Item t is drawn by inverting the CDF of the current squared row norms with
    the uniform u[t]; the row norms are then conditioned on it with one new
    column of the Cholesky factor of V V^T.
    """
    n_items, r = V.shape
    norms2 = np.zeros(n_items)
    for i in range(n_items):
        s = 0.0
        for j in range(r):
            s += V[i, j] * V[i, j]
        norms2[i] = s
    factor = np.zeros(
        (r, n_items)
    )  # row t: t-th Cholesky column of V V^T, restricted to picked items
    for t in range(r):
        mass = np.maximum(norms2, 0.0)
        cdf = np.cumsum(mass)
        item = np.searchsorted(cdf, u[t] * cdf[-1], side="right")
        if item >= n_items:  # u * total rounded up to total: take the last item with mass
            item = n_items - 1
            while mass[item] <= 0.0:
                item -= 1
        out[t] = item
        if t == r - 1:
            break
        column = V @ V[item]
        if t > 0:
            coef = factor[:t, item].copy()
            column -= coef @ factor[:t]
        column /= np.sqrt(norms2[item])
        factor[t] = column
        norms2 -= column * column
        norms2[item] = 0.0


def select_eigenvectors(L, k: int | None = None, rng=None, *, eig=None) -> np.ndarray:
    r"""Phase 1 of the spectral sampler: which eigenvectors of ``L`` the sample will use.

    For a DPP (``k=None``) eigenvector n is kept with probability
    :math:`\lambda_n / (1 + \lambda_n)`, independently; for a k-DPP exactly k are
    kept (Kulesza & Taskar 2012, Algorithm 8). Draws N uniforms from ``rng``.

    Returns
    -------
    ndarray of int64
        Sorted column indices into ``eig.vectors``.
    """
    eig = resolve_eig(L, eig)
    w = eig.values
    rng = as_rng(rng)
    if k is None:
        return _phase1_dpp(w, rng.random(w.shape[0])).astype(np.int64)
    k = as_size(k, w.shape[0], "k", upper="N")
    _check_rank(eig, k)
    chosen = np.empty(k, dtype=np.int64)
    left = _phase1_kdpp(_log_values(w), k, eig.log_esp_table(k), rng.random(w.shape[0]), chosen)
    if left != 0:  # pragma: no cover - impossible when rank >= k; kept as a guard
        raise RuntimeError("k-DPP phase 1 chose fewer than k eigenvectors")
    return np.sort(chosen)


def sample_projection(V, rng=None) -> np.ndarray:
    r"""Phase 2: one sample of the projection DPP with marginal kernel :math:`K = V V^\top`.

    ``V`` (N x r) must have orthonormal columns, e.g. the eigenvectors chosen in
    phase 1; the sample has exactly r items. Draws r uniforms from ``rng``.
    """
    from ._validate import as_float_array

    V = as_float_array(V, "V", 2, allow_empty=True)
    r = V.shape[1]
    if r > V.shape[0]:
        raise ValueError(
            f"V must have at most as many columns as rows (orthonormal); got shape {V.shape}"
        )
    u = as_rng(rng).random(r)
    out = np.empty(r, dtype=np.int64)
    if r:
        _phase2_projection(np.ascontiguousarray(V, dtype=np.float64), u, out)
    return np.sort(out)


# ---------------------------------------------------------------- public samplers
def sample_dpp(L, rng=None, *, eig=None) -> np.ndarray:
    r"""Draw one exact sample from the DPP with kernel ``L`` (DivNet eq. 1).

    Parameters
    ----------
    L : array_like of shape (N, N), or Eigendecomposition, or None
        Symmetric positive semidefinite kernel, or its
        :func:`~divnet_nb.eigendecompose` (then no O(N^3) work is repeated).
        May be None when ``eig`` is given.
    rng : None, int or numpy.random.Generator
        Source of randomness; an int is a seed.
    eig : Eigendecomposition, optional
        Precomputed eigendecomposition of ``L``.

    Returns
    -------
    ndarray of int64
        Sorted indices of the sampled items; the size is random, with mean
        :func:`~divnet_nb.expected_size` of ``L``.

    Notes
    -----
    Spectral algorithm (Kulesza & Taskar 2012, Algorithm 1): O(N^3) for the
    eigendecomposition, then O(N |Y|^2).

    Examples
    --------
    >>> import numpy as np
    >>> from divnet_nb import sample_dpp
    >>> sample_dpp(np.eye(4) * 1e9, rng=0)  # huge diagonal: every item is kept
    array([0, 1, 2, 3])
    """
    eig = resolve_eig(L, eig)
    rng = as_rng(rng)
    chosen = select_eigenvectors(eig, None, rng)
    return sample_projection(eig.vectors[:, chosen], rng)


def sample_kdpp(L, k: int, rng=None, *, eig=None) -> np.ndarray:
    r"""Draw one exact sample of size ``k`` from the k-DPP with kernel ``L``.

    .. math::  \mathcal{P}_k(Y) = \frac{\det(L_Y)}{e_k(\lambda_1, \dots, \lambda_N)}, \qquad |Y| = k

    Parameters
    ----------
    L : array_like of shape (N, N), or Eigendecomposition, or None
        Symmetric positive semidefinite kernel, or its eigendecomposition.
        May be None when ``eig`` is given.
    k : int
        Sample size, ``1 <= k <= rank(L)``.
    rng : None, int or numpy.random.Generator
        Source of randomness; an int is a seed.
    eig : Eigendecomposition, optional
        Precomputed eigendecomposition of ``L``; repeated samples then cost
        O(N k^2) each instead of O(N^3).

    Returns
    -------
    ndarray of int64, shape (k,)
        Sorted, distinct indices.

    Raises
    ------
    ValueError
        If ``k < 1``, ``k > N``, or ``k`` exceeds the numerical rank of ``L``
        (then every k-subset has probability zero).

    Notes
    -----
    The elementary symmetric polynomials are computed in log space, so the
    sampler is stable for rank-deficient and ill-conditioned kernels with
    N in the thousands, where the plain recursion over- or underflows.
    A k-DPP does not change when ``L`` is multiplied by a constant.
    """
    eig = resolve_eig(L, eig)
    rng = as_rng(rng)
    chosen = select_eigenvectors(eig, k, rng)
    return sample_projection(eig.vectors[:, chosen], rng)


# ---------------------------------------------------------------- mode finding
@jit
def _greedy_map(L, k, tol, out):
    """Greedy det-maximisation by incremental Cholesky (O(N k^2)); returns how many items were found."""
    n_items = L.shape[0]
    gain = np.empty(n_items)  # Schur complement of each item given those picked: det gain factor
    for i in range(n_items):
        gain[i] = L[i, i]
    picked = np.zeros(n_items, dtype=np.bool_)
    factor = np.zeros((k, n_items))
    for t in range(k):
        item = -1
        best = -np.inf
        for i in range(n_items):
            if not picked[i] and gain[i] > best:
                best = gain[i]
                item = i
        if best <= tol:
            return t
        out[t] = item
        picked[item] = True
        if t == k - 1:
            break
        column = L[item].copy()
        if t > 0:
            coef = factor[:t, item].copy()
            column -= coef @ factor[:t]
        column /= np.sqrt(best)
        factor[t] = column
        gain -= column * column
    return k


def greedy_map(L, k: int) -> np.ndarray:
    r"""Greedy approximation of the most likely size-``k`` set, :math:`\arg\max_{|Y|=k} \det(L_Y)`.

    Starting from the empty set, repeatedly adds the item with the largest
    conditional gain :math:`\det(L_{Y \cup i}) / \det(L_Y)` (the paper's section
    3.3 alternative to one random sample). The gains are the diagonal of a
    Schur complement that an incremental Cholesky factorisation updates in
    O(N) per item and factor column: O(N k^2) in all (Chen, Zhang & Zhou 2018).

    Parameters
    ----------
    L : array_like, shape (N, N)
        Symmetric positive semidefinite kernel.
    k : int
        Number of items, ``1 <= k <= rank(L)``.

    Returns
    -------
    ndarray of int64, shape (k,)
        Sorted indices.

    Raises
    ------
    ValueError
        If ``k`` is out of range or exceeds the numerical rank of ``L`` (no
        item adds a non-zero determinant).
    """
    L = as_kernel(L, "L")
    k = as_size(k, L.shape[0], "k", upper="N")
    order = _greedy_order(L, k)
    if order.size < k:
        raise ValueError(
            f"k = {k} exceeds the numerical rank of L: after {order.size} items every further "
            f"item leaves det(L_Y) at 0"
        )
    return np.sort(order)


def _greedy_order(L: np.ndarray, k: int) -> np.ndarray:
    """The greedy MAP's first ``k`` picks in the order it makes them, fewer when the kernel's
    numerical rank runs out first (``L`` already checked; no validation here)."""
    n = L.shape[0]
    tol = n * np.finfo(np.float64).eps * 10.0 * max(float(np.max(np.diag(L))), 0.0)
    out = np.empty(k, dtype=np.int64)
    found = _greedy_map(np.ascontiguousarray(L), k, tol, out)
    return out[:found]


def best_of(L, k: int, m: int, rng=None, *, eig=None) -> np.ndarray:
    r"""The most likely of ``m`` independent k-DPP samples (largest :math:`\det(L_Y)`).

    The paper's section 3.3 alternative to a single sample. The kernel is
    eigendecomposed once; each extra sample costs O(N k^2 + k^3).

    Parameters
    ----------
    L : array_like, shape (N, N)
        Symmetric positive semidefinite kernel.
    k : int
        Sample size.
    m : int
        Number of samples to draw, ``m >= 1``.
    rng : None, int or numpy.random.Generator
        Source of randomness.
    eig : Eigendecomposition, optional
        Precomputed eigendecomposition of ``L`` (its largest eigenpair is checked against
        ``L``); then no O(N^3) work is repeated.

    Returns
    -------
    ndarray of int64, shape (k,)
        Sorted indices of the best sample (the first one drawn among ties).
    """
    L = as_kernel(L, "L")
    if not is_int(m) or m < 1:
        raise ValueError(f"m must be an integer >= 1; got {m!r}")
    eig = eigendecompose(L) if eig is None else resolve_eig(L, eig)
    rng = as_rng(rng)
    best, best_logdet = None, -np.inf
    for _ in range(int(m)):
        S = sample_kdpp(None, k, rng, eig=eig)
        sign, logdet = np.linalg.slogdet(L[np.ix_(S, S)])
        value = logdet if sign > 0 else -np.inf
        if best is None or value > best_logdet:
            best, best_logdet = S, value
    return best
