r"""The N -> infinity learning curve of online SGD: ODEs for the order parameters.

Saad & Solla (1995) for the first layer; Goldt et al. (2019, "Dynamics of stochastic
gradient descent for two-layer neural networks in the teacher-student setup") for the
trained second layer. The SGD step of :func:`~divnet_nb.theory.online.online_sgd`, with
lambda_i = w_i . x / sqrt N, nu_n = w*_n . x / sqrt N, Delta = y_hat - y,

    w_i <- w_i - (eta / sqrt N) v_i g'(lambda_i) Delta x,
    v_i <- v_i - (eta / N) g(lambda_i) Delta,

changes Q_ik = w_i . w_k / N, R_in = w_i . w*_n / N and v_i by O(1/N) per step. With
alpha = steps / N and |x|^2 / N -> 1, their means over x obey, as N -> infinity::

    dR_in/dalpha = eta v_i [sum_m v*_m I3(i,n,m) - sum_j v_j I3(i,n,j)],
    dQ_ik/dalpha = eta v_i [sum_m v*_m I3(i,k,m) - sum_j v_j I3(i,k,j)] + (i <-> k)
                 + eta^2 v_i v_k [sum_nm v*_n v*_m I4(i,k,n,m) - 2 sum_jn v_j v*_n I4(i,k,j,n)
                                  + sum_jl v_j v_l I4(i,k,j,l) + sigma^2 J2(i,k)],
    dv_i/dalpha  = eta [sum_n v*_n I2(i,n) - sum_j v_j I2(i,j)]     (0 when v is not trained),

where indices i, j, k, l run over student units, n, m over teacher units, and the
integrals are Gaussian averages over the local fields (lambda_1..lambda_K, nu_1..nu_M),
whose covariance C = [[Q, R], [R^T, T]]. For g(u) = erf(u / sqrt 2) they are closed forms
(Saad & Solla 1995)::

    I2(a,b)     = E[g(a) g(b)]   = (2/pi) asin(C_ab / sqrt((1 + C_aa)(1 + C_bb))),
    I3(a,b,c)   = E[g'(a) b g(c)] = (2/pi) (C_bc (1 + C_aa) - C_ab C_ac) / ((1 + C_aa) sqrt(L3)),
                  L3 = (1 + C_aa)(1 + C_cc) - C_ac^2,
    I4(a,b,c,d) = E[g'(a) g'(b) g(c) g(d)] = (4/pi^2) asin(L0 / sqrt(L1 L2)) / sqrt(L4),
                  L4 = (1 + C_aa)(1 + C_bb) - C_ab^2,
                  L0 = L4 C_cd - C_bc C_bd (1 + C_aa) - C_ac C_ad (1 + C_bb)
                       + C_ab C_ac C_bd + C_ab C_ad C_bc,
                  L1 = L4 (1 + C_cc) - C_bc^2 (1 + C_aa) - C_ac^2 (1 + C_bb) + 2 C_ab C_ac C_bc,
                  L2 = L1 with d in place of c,
    J2(a,b)     = E[g'(a) g'(b)] = (2/pi) / sqrt((1 + C_aa)(1 + C_bb) - C_ab^2).

The code writes the error signal as Delta = sum_c u_c g(field_c) with u = (v, -v*) over
all K + M fields, so each bracket above is one contraction with u (u^T I4 u for the eta^2
term), and evaluates every integral at once with numpy: K (K + 1) / 2 x (K + M)^2 I4
values per right-hand side (the pairs i <= k). T does not move (the teacher is fixed).

The learning rate matters beyond speed: the eta^2 term can make the perfect student an
unstable fixed point. At v* = 4 and eta = 0.5 (the analysed work's setting) students, and
the ODE started near the perfect student, settle at a small error instead of 0, while at
eta = 0.1 they converge to 0: notebook 12, section 3, shows both, and
``reference/teacher-student-M2-K6.json`` records the trained students' errors.

numpy and scipy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.integrate

from ..core._validate import as_float_array, as_positive_real
from .teacher_student import generalization_error

__all__ = ["ODECurve", "ode_derivatives", "ode_learning_curve"]

#: solve_ivp methods accepted by :func:`ode_learning_curve`.
METHODS = ("RK45", "RK23", "DOP853", "LSODA", "Radau", "BDF")

#: Evaluation points of the default grid (the start included), as online_sgd's records=100.
DEFAULT_POINTS = 101

#: Eigenvalues of [[Q, R], [R^T, T]] down to -PSD_RTOL x the largest are accepted: a state
#: the integration itself reached may sit that far outside the PSD cone near a singular C.
PSD_RTOL = 1e-6

_2_PI = 2.0 / math.pi
_4_PI2 = 4.0 / math.pi**2


# ---- the Gaussian integrals, all index combinations at once ------------------------------


def _i2(C) -> np.ndarray:
    """I2[a, b] = E[g(a) g(b)] for all fields a, b."""
    d = 1.0 + np.diag(C)
    return _2_PI * np.arcsin(np.clip(C / np.sqrt(np.outer(d, d)), -1.0, 1.0))


def _i3(C, a) -> np.ndarray:
    """I3[i, b, c] = E[g'(a_i) b g(c)] for the fields a (indices) and all fields b, c."""
    d = 1.0 + np.diag(C)
    Ca = C[a]  # C_ac, (A, n)
    da = d[a][:, None, None]
    L3 = d[a][:, None] * d[None, :] - Ca**2  # over (a, c)
    num = C[None, :, :] * da - Ca[:, :, None] * Ca[:, None, :]  # (a, b, c)
    return _2_PI * num / (da * np.sqrt(L3)[:, None, :])


def _i4_parts(C, a, b) -> tuple[np.ndarray, np.ndarray]:
    """(asin(L0 / sqrt(L1 L2))[p, c, d], L4[p]) for the field pairs (a_p, b_p) and all c, d.

    Written as L0 = L4 S_cd and L1 = L4 (1 + S_cc) with S = C - X D^-1 X^T,
    D = [[1 + C_aa, C_ab], [C_ab, 1 + C_bb]] (det D = L4) and X = C[:, (a, b)]: expanding
    x_c^T adj(D) x_d gives the module docstring's L0 term by term. So each pair is an
    I2-like asin on its own covariance S; numpy does all pairs at once, in place (fresh
    P x n x n temporaries cost more than the arithmetic).
    """
    d = 1.0 + np.diag(C)
    Cab = C[a, b]
    L4 = d[a] * d[b] - Cab**2
    Xa, Xb = C[a], C[b]  # (P, n): C_ac, C_bc
    Ya = d[b][:, None] * Xa - Cab[:, None] * Xb  # X adj(D): X D^-1 = X adj(D) / L4
    Yb = d[a][:, None] * Xb - Cab[:, None] * Xa
    X, Y = np.stack([Xa, Xb], axis=2), np.stack([Ya, Yb], axis=2) / L4[:, None, None]
    S = Y @ X.transpose(0, 2, 1)
    np.subtract(C, S, out=S)
    scale = 1.0 / np.sqrt(1.0 + C.diagonal() - np.sum(Y * X, axis=2))  # 1 / sqrt(1 + S_cc)
    S *= scale[:, :, None]
    S *= scale[:, None, :]
    np.clip(S, -1.0, 1.0, out=S)
    return np.arcsin(S, out=S), L4


def _i4(C, a, b) -> np.ndarray:
    """I4[p, c, d] = E[g'(a_p) g'(b_p) g(c) g(d)] for the field pairs (a_p, b_p), all c, d."""
    asin, L4 = _i4_parts(C, a, b)
    return _4_PI2 * asin / np.sqrt(L4)[:, None, None]


def _j2(C, a) -> np.ndarray:
    """J2[i, k] = E[g'(a_i) g'(a_k)] for the fields a (indices)."""
    d = 1.0 + np.diag(C)[a]
    return _2_PI / np.sqrt(np.outer(d, d) - C[np.ix_(a, a)] ** 2)


def _covariance(Q, R, T) -> np.ndarray:
    return np.block([[Q, R], [R.T, T]])


def _derivatives(Q, R, T, v, v_star, eta, sigma, train_v):
    """(dQ, dR, dv) / dalpha for checked float64 arrays (no input checks: the solver's inner loop)."""
    K = v.size
    C = _covariance(Q, R, T)
    students = np.arange(K)
    u = np.concatenate([v, -v_star])  # Delta = sum_c u_c g(field_c)
    drift = _i3(C, students) @ u  # drift[i, b] = E[g'(lambda_i) field_b Delta]
    first = -eta * v[:, None] * drift  # -eta v_i E[g'(lambda_i) field_b Delta]
    i, k = np.triu_indices(K)  # E[g' g' Delta^2] is symmetric: the pairs i <= k
    asin, L4 = _i4_parts(C, i, k)
    upper = _4_PI2 * ((asin @ u) @ u) / np.sqrt(L4)  # u^T I4(i, k, ., .) u
    second = np.empty((K, K))
    second[i, k] = upper
    second[k, i] = upper
    if sigma > 0:
        second = second + sigma**2 * _j2(C, students)
    dQ = first[:, :K] + first[:, :K].T + eta**2 * np.outer(v, v) * second
    dR = first[:, K:]
    dv = -eta * (_i2(C)[:K] @ u) if train_v else np.zeros(K)
    return dQ, dR, dv


# ---- input checks ----------------------------------------------------------------------


def _checked(Q, R, T, v, v_star, names=("Q", "R", "T", "v", "v_star")):
    """The state as float64 arrays of matching shapes, Q and T symmetric, C (nearly) PSD."""
    nQ, nR, nT, nv, nvs = names
    v = as_float_array(v, nv, 1).astype(np.float64)
    v_star = as_float_array(v_star, nvs, 1).astype(np.float64)
    K, M = v.size, v_star.size
    out = []
    for name, x, shape, what in (
        (nQ, Q, (K, K), f"student x student, K = len({nv})"),
        (nR, R, (K, M), "student x teacher units"),
        (nT, T, (M, M), f"teacher x teacher, M = len({nvs})"),
    ):
        arr = as_float_array(x, name, 2).astype(np.float64)
        if arr.shape != shape:
            raise ValueError(
                f"{name} must be {shape[0]} x {shape[1]} ({what}); got shape {arr.shape}"
            )
        out.append(arr)
    Q, R, T = out
    for name, S in ((nQ, Q), (nT, T)):
        if not np.allclose(S, S.T, rtol=1e-10, atol=1e-12):
            raise ValueError(f"{name} must be symmetric (overlaps w_i . w_k / N)")
    w = np.linalg.eigvalsh(_covariance(Q, R, T))
    if w[0] < -PSD_RTOL * max(w[-1], 0.0) or w[-1] <= 0:
        raise ValueError(
            f"[[{nQ}, {nR}], [{nR}^T, {nT}]] must be positive semidefinite (a covariance of the "
            f"fields); its smallest eigenvalue is {w[0]:.3g}, its largest {w[-1]:.3g}"
        )
    return (Q + Q.T) / 2, R, (T + T.T) / 2, v, v_star


def ode_derivatives(Q, R, T, v, v_star, *, eta=0.5, sigma=0.0, train_v=True):
    """The right-hand side of the ODEs: (dQ/dalpha, dR/dalpha, dv/dalpha) at one state.

    Parameters
    ----------
    Q, R, T : arrays (K x K, K x M, M x M)
        Order parameters, as :func:`~divnet_nb.theory.order_parameters` returns them;
        [[Q, R], [R^T, T]] must be positive semidefinite (a covariance).
    v, v_star : arrays (K,), (M,)
        Second-layer weights of the student and of the teacher.
    eta : float > 0
        Learning rate (the SGD step of :func:`~divnet_nb.theory.online_sgd`).
    sigma : float >= 0
        Standard deviation of the teacher's output noise; it enters only through
        eta^2 v_i v_k sigma^2 J2(i, k) in dQ/dalpha.
    train_v : bool
        Whether the second layer is trained; dv/dalpha = 0 otherwise.

    Returns
    -------
    (dQ, dR, dv) : arrays (K x K, K x M, K)
        The module docstring's equations. dQ is symmetric.
    """
    Q, R, T, v, v_star = _checked(Q, R, T, v, v_star)
    eta = as_positive_real(eta, "eta")
    sigma = as_positive_real(sigma, "sigma", allow_zero=True)
    return _derivatives(Q, R, T, v, v_star, eta, sigma, bool(train_v))


# ---- the learning curve ----------------------------------------------------------------


@dataclass
class ODECurve:
    """The ODE's learning curve: ``alpha`` at each point, Q, R, v and eps_g there, the teacher's T."""

    alpha: np.ndarray
    Q: np.ndarray
    R: np.ndarray
    T: np.ndarray
    v: np.ndarray
    error: np.ndarray


def ode_learning_curve(
    Q0,
    R0,
    T,
    v0,
    v_star,
    *,
    eta=0.5,
    sigma=0.0,
    train_v=True,
    alpha_max=1600.0,
    alpha=None,
    rtol=1e-6,
    atol=1e-9,
    method="RK45",
) -> ODECurve:
    """Integrate the order parameters' ODEs (module docstring) from (Q0, R0, v0) at alpha = 0.

    Parameters
    ----------
    Q0, R0, T : arrays (K x K, K x M, M x M)
        Initial overlaps and the teacher's (fixed) T. To follow a simulation, pass the
        order parameters of its initial weights, ``order_parameters(W, W_star)``.
    v0, v_star : arrays (K,), (M,)
        Initial student second layer, and the teacher's.
    eta, sigma, train_v
        As in :func:`~divnet_nb.theory.online_sgd` (learning rate > 0, label noise >= 0,
        whether v is trained).
    alpha_max : float > 0
        End of the default grid: ``DEFAULT_POINTS`` evenly spaced points on
        [0, alpha_max], the records of ``online_sgd(..., steps=alpha_max * N,
        records=100)``. The default 1600 is online_sgd's default steps at N = 500.
    alpha : 1-D array, optional
        Evaluation points instead of that grid: strictly increasing, >= 0 (alpha_max is
        then unused; the integration runs from 0 to ``alpha[-1]``).
    rtol, atol : float > 0
        solve_ivp's tolerances on the flat state (upper triangle of Q, R, v).
    method : str
        A solve_ivp method (:data:`METHODS`). The system is mildly stiff (fast modes
        beside slow plateaus): at v* = 4, eta = 0.5 explicit steps stay near 1.4 in alpha
        all along. LSODA's finite-difference Jacobian costs K(K+1)/2 + KM + K right-hand
        sides, so RK45 (the default) is the better choice for large students and LSODA for
        small ones (the count of right-hand sides each needs is ``solve_ivp``'s ``nfev``).

    Returns
    -------
    ODECurve
        Q (points x K x K), R (points x K x M), v (points x K) and ``error``, the exact
        eps_g = E[(y_hat - y)^2] / 2 of :func:`~divnet_nb.theory.generalization_error` at
        each point: the noise-free error, comparable with online_sgd's ``error``. The
        sigma^2 / 2 that label noise adds to the test error on noisy labels is *not*
        included.

    Raises
    ------
    ValueError
        For bad shapes, a non-symmetric Q or T, a covariance that is not PSD, eta <= 0,
        sigma < 0, bad evaluation points, tolerances or method.
    RuntimeError
        When solve_ivp reports a failure (its message is quoted). Large learning rates do
        not cause one: erf saturates, so the weights grow without blowing up.
    """
    Q0, R0, T, v0, v_star = _checked(Q0, R0, T, v0, v_star, ("Q0", "R0", "T", "v0", "v_star"))
    eta = as_positive_real(eta, "eta")
    sigma = as_positive_real(sigma, "sigma", allow_zero=True)
    rtol = as_positive_real(rtol, "rtol")
    atol = as_positive_real(atol, "atol")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if alpha is None:
        alpha_max = as_positive_real(alpha_max, "alpha_max")
        alpha = np.linspace(0.0, alpha_max, DEFAULT_POINTS)
    else:
        alpha = as_float_array(alpha, "alpha", 1).astype(np.float64)
        if alpha[0] < 0 or np.any(np.diff(alpha) <= 0):
            raise ValueError("alpha must be strictly increasing and >= 0 (evaluation points)")
    train_v = bool(train_v)
    K, M = R0.shape
    iu = np.triu_indices(K)
    nq, nr = iu[0].size, K * M

    def unpack(y):
        Q = np.empty((K, K))
        Q[iu] = y[:nq]
        Q.T[iu] = y[:nq]
        return Q, y[nq : nq + nr].reshape(K, M), y[nq + nr :]

    def rhs(_, y):
        Q, R, v = unpack(y)
        dQ, dR, dv = _derivatives(Q, R, T, v, v_star, eta, sigma, train_v)
        return np.concatenate([dQ[iu], dR.ravel(), dv])

    y0 = np.concatenate([Q0[iu], R0.ravel(), v0])
    if alpha[-1] == 0:
        ys = y0[:, None]
    else:
        sol = scipy.integrate.solve_ivp(
            rhs, (0.0, alpha[-1]), y0, method=method, t_eval=alpha, rtol=rtol, atol=atol
        )
        if sol.status != 0:
            raise RuntimeError(
                f"the ODE integration failed at alpha = {sol.t[-1]:.4g}: {sol.message}"
            )
        ys = sol.y
    Qs, Rs, vs = zip(*(unpack(y) for y in ys.T), strict=True)
    error = [generalization_error(Q, R, T, v, v_star) for Q, R, v in zip(Qs, Rs, vs, strict=True)]
    return ODECurve(alpha, np.asarray(Qs), np.asarray(Rs), T, np.array(vs), np.asarray(error))
