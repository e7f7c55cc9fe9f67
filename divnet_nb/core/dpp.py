r"""Determinantal point processes: the distribution (DivNet eq. 1) and its exact quantities.

An L-ensemble DPP over the ground set :math:`\{0, \dots, N-1\}` with positive
semidefinite kernel :math:`L` gives each subset :math:`Y` the probability

.. math::  \mathcal{P}(Y) = \frac{\det(L_Y)}{\det(L + I)}            \qquad \text{(DivNet eq. 1)}

and a k-DPP restricts it to subsets of size exactly k:
:math:`\mathcal{P}_k(Y) = \det(L_Y) / e_k(\lambda)` where :math:`e_k` is the k-th
elementary symmetric polynomial of L's eigenvalues. Everything here works from
one eigendecomposition :math:`L = V \operatorname{diag}(\lambda) V^\top`
(:func:`eigendecompose`), which the samplers in :mod:`divnet_nb.core.sample` reuse, so
that repeated samples from the same kernel never pay the O(N^3) again.

Elementary symmetric polynomials overflow float64 quickly (:math:`e_{100}` of
1000 eigenvalues near 1 is about :math:`10^{139}`, :math:`e_{400}` about
:math:`10^{290}`) and underflow for rank-deficient kernels; they are computed
here in log space, where the recursion only ever adds positive numbers and so
loses no precision (:func:`log_elementary_symmetric`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.special

from ._config import jit
from ._validate import (
    as_float_array,
    as_index_set,
    as_kernel,
    as_positive_real,
    as_size,
    check_psd_eigenvalues,
    is_int,
)

__all__ = [
    "Eigendecomposition",
    "ScaledKernel",
    "eigendecompose",
    "marginal_kernel",
    "expected_size",
    "scaling_factor",
    "scale_to_size",
    "log_elementary_symmetric",
    "inclusion_probabilities",
    "log_likelihood",
]


class Eigendecomposition:
    r"""Eigendecomposition :math:`L = V \operatorname{diag}(\lambda) V^\top` of a DPP kernel.

    Unpacks like a pair (``values, vectors = eig``). Built by
    :func:`eigendecompose`, or from your own arrays (which are then checked:
    matching shapes, finite, non-negative values, unit-norm columns). The arrays
    are read-only copies, so the object can safely cache what samplers derive
    from it: the log elementary symmetric polynomial table that a k-DPP needs is
    computed once for the largest ``k`` asked for and reused.

    Attributes
    ----------
    values : ndarray of float64, shape (N,)
        Eigenvalues; those below the numerical-rank tolerance
        (``N * machine epsilon * max eigenvalue``) and round-off negatives are
        exactly 0.
    vectors : ndarray of float64, shape (N, N)
        Orthonormal eigenvectors, one per column.
    """

    __slots__ = ("values", "vectors", "_esp")

    def __init__(self, values, vectors):
        self._check_and_set(values, vectors, "values", "vectors")

    @classmethod
    def _checked(cls, values, vectors, name: str) -> Eigendecomposition:
        obj = cls.__new__(cls)
        obj._check_and_set(values, vectors, f"{name}.values", f"{name}.vectors")
        return obj

    @classmethod
    def _trusted(cls, values: np.ndarray, vectors: np.ndarray) -> Eigendecomposition:
        """Wrap arrays this module just computed (owned, float64, already cleaned)."""
        obj = cls.__new__(cls)
        obj._set(values, vectors)
        return obj

    def _check_and_set(self, values, vectors, vname: str, Vname: str) -> None:
        values = as_float_array(values, vname, 1)
        vectors = as_float_array(vectors, Vname, 2)
        n = values.shape[0]
        if vectors.shape != (n, n):
            raise ValueError(
                f"{Vname} must have shape ({n}, {n}) to match {vname}; got {vectors.shape}"
            )
        norms = np.einsum("ij,ij->j", vectors, vectors, dtype=np.float64)
        if np.max(np.abs(norms - 1.0)) > 1e-6:
            raise ValueError(f"{Vname} must have orthonormal columns (some column norms are not 1)")
        self._set(_clean_values(values, vname), np.array(vectors, dtype=np.float64))

    def _set(self, values: np.ndarray, vectors: np.ndarray) -> None:
        values.flags.writeable = False
        vectors.flags.writeable = False
        self.values = values
        self.vectors = vectors
        self._esp = None

    def __iter__(self):
        return iter((self.values, self.vectors))

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index):
        return (self.values, self.vectors)[index]

    def __repr__(self) -> str:
        return f"Eigendecomposition(N={self.values.shape[0]}, rank={self.rank}, max eigenvalue={self.values.max():.4g})"

    @property
    def rank(self) -> int:
        """Numerical rank: the number of strictly positive eigenvalues."""
        return int(np.count_nonzero(self.values > 0.0))

    def scaled(self, gamma: float) -> Eigendecomposition:
        """The eigendecomposition of ``gamma * L`` (same vectors, scaled values)."""
        gamma = as_positive_real(gamma, "gamma")
        return Eigendecomposition._trusted(self.values * gamma, self.vectors)

    def log_esp_table(self, k: int) -> np.ndarray:
        """Table ``T[n, l] = log e_l(values[:n])``, ``n = 0..N``, ``l = 0..k`` (cached).

        Column ``l`` of the recursion only depends on columns ``<= l``, so the
        table for the largest ``k`` seen so far serves every smaller ``k``.
        """
        if self._esp is None or self._esp.shape[1] <= k:
            table = np.empty((self.values.shape[0] + 1, k + 1))
            _log_esp_table(_log_values(self.values), k, table)
            table.flags.writeable = False
            self._esp = table
        if self._esp.shape[1] == k + 1:
            return self._esp
        return np.ascontiguousarray(self._esp[:, : k + 1])  # one memory layout, one compiled kernel


def _clean_values(w: np.ndarray, name: str) -> np.ndarray:
    """PSD check, then zero the eigenvalues that are round-off (numerical rank)."""
    w = check_psd_eigenvalues(w, name)
    tol = w.shape[0] * np.finfo(np.float64).eps * max(float(w.max()), 0.0)
    w[w <= tol] = 0.0
    return w


def eigendecompose(L) -> Eigendecomposition:
    """Validated eigendecomposition of a DPP kernel (LAPACK ``syevd``).

    Parameters
    ----------
    L : array_like, shape (N, N)
        Symmetric positive semidefinite kernel.

    Returns
    -------
    Eigendecomposition
        ``(values, vectors)``; pass it to :func:`~divnet_nb.sample_dpp`,
        :func:`~divnet_nb.sample_kdpp`, :func:`expected_size` or
        :func:`inclusion_probabilities` in place of ``L`` to skip the O(N^3) step.

    Raises
    ------
    ValueError
        If ``L`` is not square, not finite, not symmetric, or has an eigenvalue
        below ``-1e-8`` times its largest one.
    """
    L = as_kernel(L, "L")
    w, V = scipy.linalg.eigh(L, check_finite=False, driver="evd")
    return Eigendecomposition._trusted(_clean_values(w, "L"), V)


def _as_eig(eig, name: str = "eig") -> Eigendecomposition:
    """An Eigendecomposition as is, or a (values, vectors) pair checked and wrapped."""
    if isinstance(eig, Eigendecomposition):
        return eig
    try:
        values, vectors = eig
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a (values, vectors) pair such as eigendecompose(L)"
        ) from exc
    return Eigendecomposition._checked(values, vectors, name)


def resolve_eig(L, eig=None) -> Eigendecomposition:
    """The eigendecomposition to use for ``L``: ``L`` itself if it is one, else ``eig``, else computed.

    When both a matrix ``L`` and ``eig`` are given, the largest eigenpair is
    checked against ``L`` (O(N^2)) so that a mismatched pair raises instead of
    sampling from the wrong distribution.
    """
    if isinstance(L, Eigendecomposition):
        return _as_eig(L, "L")
    if eig is None:
        if L is None:
            raise ValueError("pass a kernel L or its eigendecomposition (eig=eigendecompose(L))")
        return eigendecompose(L)
    eig = _as_eig(eig)
    if L is not None:
        L = as_kernel(L, "L")
        n = eig.values.shape[0]
        if L.shape != (n, n):
            raise ValueError(f"eig is for a {n} x {n} kernel but L has shape {L.shape}")
        top = int(np.argmax(eig.values))
        v = eig.vectors[:, top]
        resid = np.linalg.norm(L @ v - eig.values[top] * v)
        if resid > 1e-6 * max(abs(eig.values[top]), 1.0):
            raise ValueError(
                "eig is not an eigendecomposition of L (its largest eigenpair does not match L)"
            )
    return eig


def marginal_kernel(L) -> np.ndarray:
    r"""Marginal kernel :math:`K = L (L + I)^{-1}`: :math:`P(A \subseteq Y) = \det(K_A)`."""
    eig = resolve_eig(L)
    w, V = eig
    K = (V * (w / (1.0 + w))) @ V.T
    return (K + K.T) * 0.5


def expected_size(L) -> float:
    r"""Expected size of a DPP sample, :math:`\mathrm{Tr}(L (I + L)^{-1}) = \sum_n \lambda_n / (1 + \lambda_n)`.

    Kulesza & Taskar (2012), eq. 34; DivNet section 2.1.1. ``L`` may be a
    kernel or an :class:`Eigendecomposition`.
    """
    w = resolve_eig(L).values if isinstance(L, Eigendecomposition) else _kernel_values(L)
    return float(np.sum(w / (1.0 + w)))


def _kernel_values(L) -> np.ndarray:
    L = as_kernel(L, "L")
    return _clean_values(scipy.linalg.eigvalsh(L, check_finite=False, driver="evd"), "L")


class ScaledKernel(NamedTuple):
    r"""Result of :func:`scale_to_size`: the kernel :math:`\gamma L` and the factor :math:`\gamma`."""

    kernel: np.ndarray
    gamma: float


def _expected_size_of(w: np.ndarray, gamma: float) -> float:
    gw = gamma * w
    return float(np.sum(gw / (1.0 + gw)))


def scaling_factor(values, k: int, method: str = "paper") -> float:
    r"""The factor :math:`\gamma` that scales a kernel with eigenvalues ``values`` to expected size ``k``.

    Parameters
    ----------
    values : array_like, shape (N,)
        Eigenvalues of the kernel (non-negative).
    k : int
        Desired expected sample size, ``1 <= k < N``.
    method : {"paper", "exact"}
        ``"paper"``: DivNet's closed form (section 2.1.1)

        .. math::  \gamma = \frac{k}{N - k} \cdot \frac{N - k'}{k'},
                   \qquad k' = \mathrm{Tr}(L (I + L)^{-1}),

        which is exact when all eigenvalues are equal and approximate
        otherwise. ``"exact"``: the root of the increasing function
        :math:`\gamma \mapsto \sum_n \gamma\lambda_n / (1 + \gamma\lambda_n) = k`,
        found in :math:`\log\gamma` by Brent's method to a relative error below
        1e-8 (needs ``k`` below the number of non-zero eigenvalues, the
        supremum of that function).
    """
    w = _clean_values(as_float_array(values, "values", 1), "values")
    n = w.shape[0]
    if n < 2:
        raise ValueError(f"scaling needs a kernel with at least 2 items; got N = {n}")
    k = as_size(k, n - 1, "k", upper="N - 1")
    k_prime = _expected_size_of(w, 1.0)
    if k_prime <= 0.0:
        raise ValueError(
            "the kernel is zero: its expected sample size is 0 and no scaling changes that"
        )
    if method == "paper":
        return (k / (n - k)) * ((n - k_prime) / k_prime)
    if method != "exact":
        raise ValueError(f"method must be 'paper' or 'exact'; got {method!r}")
    rank = int(np.count_nonzero(w > 0))
    if k >= rank:
        raise ValueError(
            f"k = {k} must be below the kernel's numerical rank {rank}: the expected size of a "
            f"DPP with a scaled kernel tends to the rank and never reaches it"
        )
    pos = w[w > 0]

    log_pos = np.log(pos)

    def excess(t: float) -> float:
        # gamma w / (1 + gamma w) = logistic(log gamma + log w), stable for any t
        return float(np.sum(scipy.special.expit(t + log_pos))) - k

    t0 = math.log(k / (n - k) * (n - k_prime) / k_prime)
    lo, hi, step = t0 - 1.0, t0 + 1.0, 1.0
    while excess(lo) > 0:
        step *= 2.0
        lo -= step
    step = 1.0
    while excess(hi) < 0:
        step *= 2.0
        hi += step
    t = scipy.optimize.brentq(excess, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)
    return math.exp(t)


def scale_to_size(L, k: int, method: str = "paper") -> ScaledKernel:
    r"""Scale a DPP kernel so that its expected sample size is ``k`` (DivNet section 2.1.1).

    Parameters
    ----------
    L : array_like, shape (N, N)
        Positive semidefinite kernel, e.g. :math:`L' + \varepsilon I` from
        :func:`~divnet_nb.rbf_kernel`.
    k : int
        Desired expected size, ``1 <= k < N``.
    method : {"paper", "exact"}
        How :math:`\gamma` is chosen; see :func:`scaling_factor`.

    Returns
    -------
    ScaledKernel
        A named tuple ``(kernel, gamma)``: ``kernel`` is :math:`\gamma L` (a new
        array) and ``gamma`` the factor, so ``L2, gamma = scale_to_size(L, k)``
        works.

    Notes
    -----
    A k-DPP is unchanged by scaling its kernel (:math:`\det(\gamma L_Y) =
    \gamma^k \det(L_Y)` for every :math:`|Y| = k`). The paper scales "to limit
    rounding errors" in the elementary symmetric polynomials; the log-space
    computation used here does not need it, but the pipeline applies it anyway
    so that the kernels match the paper's, and it does matter for a plain DPP.
    """
    L = as_kernel(L, "L")
    gamma = scaling_factor(_kernel_values(L), k, method)
    return ScaledKernel(L * gamma, gamma)


@jit
def _log_esp_table(log_w, k, table):
    """table[n, l] = log e_l(w_0, ..., w_{n-1}) for 0 <= n <= N, 0 <= l <= k."""
    n_items = log_w.shape[0]
    for n in range(n_items + 1):
        table[n, 0] = 0.0
    for l in range(1, k + 1):
        table[0, l] = -np.inf
    for n in range(1, n_items + 1):
        lw = log_w[n - 1]
        for l in range(1, k + 1):
            table[n, l] = np.logaddexp(table[n - 1, l], lw + table[n - 1, l - 1])


def _log_values(w: np.ndarray) -> np.ndarray:
    out = np.full(w.shape, -np.inf)
    np.log(w, out=out, where=w > 0)
    return out


def log_elementary_symmetric(values, k: int) -> np.ndarray:
    r"""Logarithms of the elementary symmetric polynomials :math:`e_0, \dots, e_k` of ``values``.

    .. math::  e_l(\lambda_1, \dots, \lambda_N) = \sum_{|J| = l} \prod_{n \in J} \lambda_n

    computed by the recursion :math:`e_l^n = e_l^{n-1} + \lambda_n e_{l-1}^{n-1}`
    (Kulesza & Taskar 2012, Algorithm 7) in log space. Every term is
    non-negative, so log-add-exp is exact to rounding and neither overflow nor
    underflow can occur; ``-inf`` stands for an exact zero (e.g. ``l`` above
    the number of non-zero values).

    Parameters
    ----------
    values : array_like, shape (N,)
        Non-negative numbers (a kernel's eigenvalues).
    k : int
        Highest degree, ``0 <= k <= N``.

    Returns
    -------
    ndarray of float64, shape (k + 1,)
    """
    w = as_float_array(values, "values", 1)
    if np.any(w < 0):
        raise ValueError("values must be non-negative (eigenvalues of a PSD kernel)")
    if not is_int(k) or not 0 <= k <= w.shape[0]:
        raise ValueError(f"k must be an integer with 0 <= k <= N = {w.shape[0]}; got {k!r}")
    table = np.empty((w.shape[0] + 1, int(k) + 1))
    _log_esp_table(_log_values(np.asarray(w, dtype=np.float64)), int(k), table)
    return table[-1].copy()


@jit
def _kdpp_eigen_inclusion(log_w, k, fwd, bwd, out):
    """out[n] = P(eigenvector n is chosen in phase 1 of a k-DPP) = w_n e_{k-1}(w without n) / e_k(w)."""
    n_items = log_w.shape[0]
    log_ek = fwd[n_items, k]
    for n in range(n_items):
        if log_w[n] == -np.inf:
            out[n] = 0.0
            continue
        acc = -np.inf
        for a in range(k):
            acc = np.logaddexp(acc, fwd[n, a] + bwd[n + 1, k - 1 - a])
        out[n] = np.exp(log_w[n] + acc - log_ek)


def inclusion_probabilities(L, k: int | None = None) -> np.ndarray:
    r"""Exact probability that each item is in a DPP (``k=None``) or k-DPP sample.

    For a DPP this is :math:`\operatorname{diag}(K)` with :math:`K = L(L+I)^{-1}`.
    For a k-DPP it is :math:`\sum_n V_{in}^2\, \lambda_n e_{k-1}(\lambda_{-n}) / e_k(\lambda)`:
    the k-DPP mixes elementary DPPs, eigenvector ``n`` takes part with
    probability :math:`\lambda_n e_{k-1}(\lambda_{-n}) / e_k(\lambda)`, and the
    leave-one-out polynomials come from a forward and a backward log-space table
    (O(N k) after the eigendecomposition).

    ``L`` may be a kernel or an :class:`Eigendecomposition`. The result sums to
    the expected size (``k`` for a k-DPP).
    """
    eig = resolve_eig(L)
    w, V = eig
    if k is None:
        p = w / (1.0 + w)
    else:
        k = as_size(k, w.shape[0])
        _check_rank(eig, k)
        log_w = _log_values(w)
        fwd = eig.log_esp_table(k)
        rev = np.empty((w.shape[0] + 1, k + 1))
        _log_esp_table(log_w[::-1].copy(), k, rev)
        bwd = rev[::-1].copy()  # bwd[n, l] = log e_l(w_n, ..., w_{N-1})
        p = np.empty(w.shape[0])
        _kdpp_eigen_inclusion(log_w, k, fwd, bwd, p)
    return (V * V) @ p


def _check_rank(eig: Eigendecomposition, k: int) -> None:
    rank = eig.rank
    if k > rank:
        raise ValueError(
            f"k = {k} exceeds the numerical rank {rank} of L: every subset of size k has "
            f"det(L_Y) = 0, so a k-DPP over L is not defined"
        )


def log_likelihood(L, S, *, k: int | None = None, eig: Eigendecomposition | None = None) -> float:
    r"""Log-probability of the subset ``S`` under the DPP (eq. 1) or, with ``k``, the k-DPP with kernel ``L``.

    .. math::  \log \mathcal{P}(S) = \log\det(L_S) - \log\det(L + I),
               \qquad \log \mathcal{P}_k(S) = \log\det(L_S) - \log e_k(\lambda)

    Returns ``-inf`` when :math:`\det(L_S) = 0` (or, for a k-DPP, when ``|S| != k``).
    Pass ``eig`` (from :func:`eigendecompose`) to score many subsets of one kernel
    without recomputing its eigenvalues; comparisons between sets of the same size
    (as in :func:`~divnet_nb.best_of`) give the same order either way.
    """
    L = as_kernel(L, "L")
    S = as_index_set(S, L.shape[0], "S")
    if eig is not None:
        eig = resolve_eig(L, eig)
        if eig.values.shape[0] != L.shape[0]:
            raise ValueError(f"eig is for {eig.values.shape[0]} items but L has {L.shape[0]}")
        w = eig.values
    else:
        w = _kernel_values(L)
    if k is None:
        log_norm = float(np.sum(np.log1p(w)))
    else:
        k = as_size(k, L.shape[0])
        if S.size != k:
            return -np.inf
        log_norm = float(log_elementary_symmetric(w, k)[k])
    if S.size == 0:
        return -log_norm
    sign, logdet = np.linalg.slogdet(L[np.ix_(S, S)])
    if sign <= 0:
        return -np.inf
    return float(logdet) - log_norm
