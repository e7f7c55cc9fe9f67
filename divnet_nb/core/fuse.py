r"""Fusing removed neurons into kept ones (DivNet section 2.2, eqs. 3-4).

When the neurons in ``keep`` (the set S) stay and the others (R) go, the next
layer's input :math:`\sum_i w_{ij} v_i` changes. DivNet writes each removed
activation vector as its least-squares combination of the kept ones,

.. math::  \alpha_{\cdot r} = \arg\min_\alpha \Big\lVert v_r - \sum_{i \in S} \alpha_{ir} v_i \Big\rVert_2
           \qquad (r \in R),

which minimises eq. 3 for every next-layer neuron j at once, and moves the
removed neurons' outgoing weights onto the kept ones (eq. 4):

.. math::  \tilde w_{ij} = w_{ij} + \sum_{r \in R} \alpha_{ir} w_{rj} \qquad (i \in S).

All the least-squares problems share one matrix. With the Gram matrix
:math:`G = A^\top A`, the normal equations are :math:`G_{SS}\,\alpha = G_{SR}`:
one Cholesky factorisation of the k x k block and one triangular solve with
``|R|`` right-hand sides, after the BLAS products that form :math:`G_{SS}` and
:math:`G_{SR}`. No per-neuron ``lstsq`` loop.

Singular :math:`G_{SS}` (a kept neuron that never fires, two kept neurons with
the same activations) has no unique solution. Then a small ridge
:math:`\rho\,\bar g\, I` is added (:math:`\bar g` the mean of the diagonal of
the system matrix, :math:`\rho` = :data:`DEFAULT_RIDGE`, grown tenfold until the
system is well conditioned), which picks the minimum-norm-like solution, and a
:class:`FusionWarning` says which neurons caused it.

``intercept=True`` adds a constant column to the regression: each removed
neuron is approximated by an affine combination of the kept ones, and its
constant part goes into the next layer's bias. This is not in the paper (whose
eq. 3 has no constant term) and is off by default.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
from scipy.linalg import lapack

from ._validate import (
    as_float_array,
    as_gram,
    as_index_set,
    as_positive_real,
    is_int,
    raise_not_finite,
)
from .kernel import BLOCK_ROWS, GramAccumulator, _column_sums

__all__ = ["fuse", "fuse_from_gram", "fuse_to_target", "fusion_coefficients", "FusionWarning"]

#: Relative ridge tried first when the kept neurons' Gram block is singular.
DEFAULT_RIDGE = 1e-10
#: Reciprocal condition number (LAPACK ``pocon`` estimate) below which the block counts as singular.
RCOND_MIN = 1e-12


class FusionWarning(UserWarning):
    """The fusion system was singular and a ridge was added to solve it.

    ``ridge`` is the relative ridge that was used (None when nothing could be fused).
    """

    def __init__(self, message: str, ridge: float | None = None):
        super().__init__(message)
        self.ridge = ridge


def _split(keep, n: int) -> tuple[np.ndarray, np.ndarray]:
    keep = as_index_set(keep, n, "keep")
    if keep.size == 0:
        raise ValueError("keep must hold at least one neuron index")
    mask = np.ones(n, dtype=bool)
    mask[keep] = False
    return keep, np.flatnonzero(mask)


def _check_weights(W, b, n: int, n_name: str):
    W = as_float_array(W, "W", 2)
    if W.shape[0] != n:
        raise ValueError(
            f"W must have one row per neuron of the layer ({n}, the number of columns of {n_name}); "
            f"got shape {W.shape}"
        )
    if b is not None:
        b = as_float_array(b, "b", 1)
        if b.shape[0] != W.shape[1]:
            raise ValueError(
                f"b must have length {W.shape[1]} (the number of columns of W); got {b.shape[0]}"
            )
    return W, b


def _cross_blocks(A: np.ndarray, keep: np.ndarray, removed: np.ndarray):
    """G_SS = A_S^T A_S and G_SR = A_S^T A_R (float64), plus the column sums of A.

    A NaN or infinite entry of A makes its column sum non-finite, so checking
    the n sums replaces a scan of every entry.
    """
    k, r = keep.size, removed.size
    G_SS = np.zeros((k, k))
    G_SR = np.zeros((k, r))
    step = A.shape[0] if A.dtype == np.float64 else BLOCK_ROWS
    with np.errstate(all="ignore"):  # non-finite input is reported below, as a ValueError
        for start in range(0, A.shape[0], step):
            block = A[start : start + step]
            A_S = block[:, keep]
            G_SS += A_S.T @ A_S
            if r:
                G_SR += A_S.T @ block[:, removed]
    sums = _column_sums(A)
    if not (np.isfinite(sums).all() and np.isfinite(np.diagonal(G_SS)).all()):
        raise_not_finite(A, "A")
    return (G_SS + G_SS.T) * 0.5, G_SR, sums


def _describe_singular(M: np.ndarray, keep: np.ndarray) -> str:
    """Name dead and duplicate kept neurons from the diagonal and distances of the Gram block."""
    k = keep.size
    d = np.diag(M)[:k]
    scale = max(float(d.max()), np.finfo(float).tiny)
    dead = keep[d <= 1e-14 * scale]
    dist2 = d[:, None] + d[None, :] - 2.0 * M[:k, :k]
    iu = np.triu_indices(k, 1)
    dup = np.flatnonzero(dist2[iu] <= 1e-12 * scale)
    parts = []
    if dead.size:
        parts.append(
            f"{dead.size} kept neuron(s) never activate (all-zero activations: {dead[:10].tolist()})"
        )
    if dup.size:
        pairs = [(int(keep[iu[0][p]]), int(keep[iu[1][p]])) for p in dup[:5]]
        parts.append(f"{dup.size} pair(s) of kept neurons have identical activations {pairs}")
    if not parts:
        parts.append("the kept neurons' activation vectors are (nearly) linearly dependent")
    return "; ".join(parts)


def _solve_spd(M: np.ndarray, rhs: np.ndarray, keep: np.ndarray, ridge) -> np.ndarray:
    """Solve M x = rhs for symmetric PSD M by Cholesky, adding a ridge if M is singular."""
    if M.shape[0] == 0 or rhs.shape[1] == 0:
        return np.zeros((M.shape[0], rhs.shape[1]))
    mean_diag = float(np.mean(np.diag(M)))
    if mean_diag <= 0.0:  # every kept neuron is dead: nothing can be represented
        warnings.warn(
            FusionWarning(
                f"fusion: {_describe_singular(M, keep)}; no removed neuron can be fused, weights are only deleted"
            ),
            stacklevel=4,
        )
        return np.zeros((M.shape[0], rhs.shape[1]))
    eye = np.eye(M.shape[0])
    if ridge is not None:
        try:
            factor = scipy.linalg.cho_factor(M + ridge * mean_diag * eye, check_finite=False)
        except np.linalg.LinAlgError:
            raise ValueError(
                f"ridge = {ridge:g} leaves the fusion system singular ({_describe_singular(M, keep)}); "
                f"use a larger ridge, or ridge=None to let fuse choose one"
            ) from None
        return scipy.linalg.cho_solve(factor, rhs, check_finite=False)
    rho = 0.0
    anorm = float(np.max(np.sum(np.abs(M), axis=0)))
    while True:
        c, info = lapack.dpotrf(M + rho * mean_diag * eye, lower=0, clean=1)
        if info == 0:
            rcond, _ = lapack.dpocon(c, anorm + rho * mean_diag)
            if rcond >= RCOND_MIN:
                break
        rho = DEFAULT_RIDGE if rho == 0.0 else rho * 10.0
    if rho > 0.0:
        warnings.warn(
            FusionWarning(
                f"fusion: the kept neurons' Gram matrix G_SS is singular: {_describe_singular(M, keep)}. "
                f"Solved eq. 3 with a ridge of {rho:.0e} x mean diagonal = {rho * mean_diag:.3g}",
                ridge=rho,
            ),
            stacklevel=4,
        )
    return scipy.linalg.cho_solve((c, False), rhs, check_finite=False)


def _system(G_SS, G_SR, sums, keep, removed, n_samples, intercept):
    if not intercept:
        return G_SS, G_SR
    k = keep.size
    M = np.empty((k + 1, k + 1))
    M[:k, :k] = G_SS
    M[:k, k] = M[k, :k] = sums[keep]
    M[k, k] = n_samples
    rhs = np.vstack([G_SR, sums[removed][None, :]])
    return M, rhs


def _apply(alpha, keep, removed, W, b, intercept):
    k = keep.size
    W_R = W[removed].astype(np.float64)
    W_new = W[keep].astype(np.float64) + alpha[:k] @ W_R
    W_new = W_new.astype(W.dtype, copy=False)
    if b is None:
        return W_new
    b_new = b.astype(np.float64)
    if intercept:
        b_new = b_new + alpha[k] @ W_R
    return W_new, b_new.astype(b.dtype, copy=False)


def _check_flags(intercept, b, ridge):
    if not isinstance(intercept, (bool, np.bool_)):
        raise ValueError(f"intercept must be True or False; got {intercept!r}")
    if intercept and b is None:
        raise ValueError(
            "intercept=True moves the removed neurons' mean activations into the next layer's bias: "
            "pass b (np.zeros(n_next) if that layer has no bias)"
        )
    if ridge is not None:
        ridge = as_positive_real(ridge, "ridge (None, or a relative ridge)", allow_zero=True)
    return ridge


def fusion_coefficients(
    A, keep, *, intercept: bool = False, ridge: float | None = None
) -> np.ndarray:
    r"""Least-squares coefficients :math:`\alpha` of each removed neuron on the kept ones (eq. 3).

    Parameters
    ----------
    A : array_like, shape (n_samples, n_neurons)
        Activations of the layer.
    keep : array_like of int
        Indices of the kept neurons (S).
    intercept : bool, default False
        Add a constant regressor.
    ridge : float, optional
        Relative ridge; default: none unless :math:`G_{SS}` is singular.

    Returns
    -------
    alpha : ndarray of float64, shape (len(keep), n_removed) or (len(keep) + 1, n_removed)
        Column r expresses the r-th removed neuron (in increasing index order)
        on the kept ones, in the order of ``keep``; with ``intercept`` the last
        row is the constant term.
    """
    A = as_float_array(A, "A", 2, check_finite=False)
    keep, removed = _split(keep, A.shape[1])
    ridge = _check_flags(intercept, 0.0 if intercept else None, ridge)
    G_SS, G_SR, sums = _cross_blocks(A, keep, removed)
    M, rhs = _system(G_SS, G_SR, sums, keep, removed, A.shape[0], intercept)
    return _solve_spd(M, rhs, keep, ridge)


def fuse(A, keep, W, b=None, intercept: bool = False, *, ridge: float | None = None):
    r"""New outgoing weights for the kept neurons after fusing the removed ones (eqs. 3-4).

    Parameters
    ----------
    A : array_like, shape (n_samples, n_neurons)
        The layer's activations over the training inputs (column i = :math:`v_i`).
    keep : array_like of int
        Indices of the neurons that stay (e.g. a k-DPP sample). Row r of the
        result belongs to neuron ``keep[r]``.
    W : array_like, shape (n_neurons, n_next)
        Outgoing weights; row i holds :math:`w_{i\cdot}` (the transpose of a
        ``torch.nn.Linear`` weight of the next layer).
    b : array_like, shape (n_next,), optional
        The next layer's bias. When given, the new bias is returned too.
    intercept : bool, default False
        Also fit a constant: removed neurons' constant parts go into the bias.
        Off by default so that the paper's eq. 3 is what runs. Needs ``b``.
    ridge : float, optional
        Force a relative ridge :math:`\rho` (the system becomes
        :math:`G_{SS} + \rho \bar g I`). Default: none, unless the system is
        singular (see the module notes), with a :class:`FusionWarning`.

    Returns
    -------
    W_new : ndarray, shape (len(keep), n_next)
        :math:`\tilde w_{ij} = w_{ij} + \sum_r \alpha_{ir} w_{rj}`, in ``W``'s dtype.
    b_new : ndarray, shape (n_next,)
        Only when ``b`` is given (then a tuple ``(W_new, b_new)`` is returned).
        Equal to ``b`` unless ``intercept=True``.

    Notes
    -----
    Cost: the products :math:`A_S^\top A_S` and :math:`A_S^\top A_R` (together
    no more than one Gram matrix of A), then ``O(k^3 + k^2 |R| + k |R| n_next)``.
    The paper quotes :math:`O(|\mathcal{T}| n_\ell^2 + n_\ell^3)`.
    To reuse a Gram matrix you already have, call :func:`fuse_from_gram`.

    Examples
    --------
    >>> import numpy as np
    >>> from divnet_nb import fuse
    >>> A = np.random.default_rng(0).random((100, 3))
    >>> A[:, 2] = 2 * A[:, 0] - A[:, 1]          # neuron 2 is a combination of 0 and 1
    >>> W = np.array([[1.0], [1.0], [1.0]])
    >>> np.round(fuse(A, [0, 1], W), 6)            # its weight moves onto them: 1+2, 1-1
    array([[3.],
           [0.]])
    """
    A = as_float_array(A, "A", 2, check_finite=False)
    W, b = _check_weights(W, b, A.shape[1], "A")
    keep, removed = _split(keep, A.shape[1])
    ridge = _check_flags(intercept, b, ridge)
    G_SS, G_SR, sums = _cross_blocks(A, keep, removed)
    M, rhs = _system(G_SS, G_SR, sums, keep, removed, A.shape[0], intercept)
    alpha = _solve_spd(M, rhs, keep, ridge)
    return _apply(alpha, keep, removed, W, b, intercept)


def fuse_from_gram(
    G,
    keep,
    W,
    b=None,
    intercept: bool = False,
    *,
    sums=None,
    n_samples: int | None = None,
    ridge: float | None = None,
):
    r""":func:`fuse` from a precomputed Gram matrix (the streaming path).

    Parameters
    ----------
    G : array_like of shape (n, n), or GramAccumulator
        Gram matrix :math:`A^\top A` of the layer's activations. A
        :class:`~divnet_nb.GramAccumulator` also supplies ``sums`` and
        ``n_samples``.
    keep, W, b, intercept, ridge
        As in :func:`fuse`.
    sums : array_like, shape (n,), optional
        Column sums of A; needed with ``intercept=True``.
    n_samples : int, optional
        Number of rows of A; needed with ``intercept=True``.

    Returns
    -------
    As :func:`fuse`.
    """
    if isinstance(G, GramAccumulator):
        sums = G.sums if sums is None else sums
        n_samples = G.n_samples if n_samples is None else n_samples
        G = G.gram
    G = as_gram(G)
    W, b = _check_weights(W, b, G.shape[0], "G")
    keep, removed = _split(keep, G.shape[0])
    ridge = _check_flags(intercept, b, ridge)
    if intercept:
        if sums is None or n_samples is None:
            raise ValueError(
                "intercept=True needs sums (column sums of A) and n_samples, or a GramAccumulator as G"
            )
        sums = as_float_array(sums, "sums", 1)
        if sums.shape[0] != G.shape[0]:
            raise ValueError(f"sums must have length {G.shape[0]}; got {sums.shape[0]}")
        if not is_int(n_samples) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}")
    G = np.asarray(G, dtype=np.float64)
    G_SS = G[np.ix_(keep, keep)]
    G_SR = G[np.ix_(keep, removed)]
    M, rhs = _system(G_SS, G_SR, sums, keep, removed, n_samples, intercept)
    alpha = _solve_spd(M, rhs, keep, ridge)
    return _apply(alpha, keep, removed, W, b, intercept)


def fuse_to_target(G, keep, W, cross, b=None, *, ridge: float | None = None):
    r"""New outgoing weights of the kept neurons that reproduce *another* network's next-layer input.

    When earlier layers have been pruned, the layer's activations :math:`A'` differ from
    the original network's :math:`A`. Instead of reproducing the pruned network's own
    next-layer input :math:`A' W` (eq. 3), this fits the original's, :math:`A W`:

    .. math::  \tilde W = \arg\min_V \lVert A'_S V - A W \rVert_F^2
               = G'^{-1}_{SS} X_{S,:} W, \qquad G' = A'^\top A',\ X = A'^\top A.

    With :math:`A' = A` it is the fusion of eq. 4 (:math:`X = G`).

    Parameters
    ----------
    G : array_like, shape (n, n)
        Gram matrix of the layer's activations in the pruned network.
    keep : array_like of int
        The kept neurons S.
    W : array_like, shape (n_original, n_next)
        The original network's outgoing weights of this layer.
    cross : array_like, shape (n, n_original)
        :math:`X = A'^\top A`, the pruned network's activations against the original's.
    b : array_like, optional
        The next layer's bias, returned unchanged beside the weights.
    ridge : float, optional
        As in :func:`fuse`.

    Returns
    -------
    W_new : ndarray, shape (len(keep), n_next)
        Rows in increasing order of ``keep``; (W_new, b) when ``b`` is given.
    """
    G = as_gram(G)
    cross = as_float_array(cross, "cross", 2)
    if cross.shape[0] != G.shape[0]:
        raise ValueError(f"cross must have {G.shape[0]} rows (one per neuron); got {cross.shape}")
    W, b = _check_weights(W, b, cross.shape[1], "cross")
    keep = np.sort(_split(keep, G.shape[0])[0])
    ridge = _check_flags(False, b, ridge)
    G = np.asarray(G, dtype=np.float64)
    rhs = np.asarray(cross, dtype=np.float64)[keep] @ W.astype(np.float64)
    W_new = _solve_spd(G[np.ix_(keep, keep)], rhs, keep, ridge).astype(W.dtype, copy=False)
    return W_new if b is None else (W_new, b)
