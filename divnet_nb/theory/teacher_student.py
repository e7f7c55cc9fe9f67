r"""The teacher-student model: order parameters and the exact generalisation error.

Inputs x ~ N(0, I_N). A teacher with M hidden units computes
y = sum_n v*_n g(w*_n . x / sqrt N), a student with K hidden units
y_hat = sum_k v_k g(w_k . x / sqrt N), with g(u) = erf(u / sqrt 2). The pre-activations
lambda_k = w_k . x / sqrt N and nu_n = w*_n . x / sqrt N are jointly Gaussian with
covariances given by the *order parameters*

    Q_ik = w_i . w_k / N,   R_in = w_i . w*_n / N,   T_nm = w*_n . w*_m / N,

and for this g, E[g(a) g(b)] = (2/pi) asin(C_ab / sqrt((1 + C_aa)(1 + C_bb))) for a
centred Gaussian pair with covariance C. Hence the generalisation error
eps_g = E[(y_hat - y)^2] / 2 is a closed function of (Q, R, T, v, v*)::

    eps_g = (1/pi) sum_ik v_i v_k asin(Q_ik / sqrt((1+Q_ii)(1+Q_kk)))
          + (1/pi) sum_nm v*_n v*_m asin(T_nm / sqrt((1+T_nn)(1+T_mm)))
          - (2/pi) sum_in v_i v*_n asin(R_in / sqrt((1+Q_ii)(1+T_nn))).

It is exact at any N (not only as N -> infinity) when the order parameters are computed
from the weights themselves, which is what the tests check against sampling. A pruned
student is a student with masked weights, so its error is the same function of the
masked order parameters.

numpy and scipy only.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special

from ..core._validate import as_float_array

__all__ = ["generalization_error", "order_parameters", "committee_output"]


def _vector(x, name: str, size: int | None = None) -> np.ndarray:
    arr = as_float_array(x, name, 1).astype(np.float64)
    if size is not None and arr.size != size:
        raise ValueError(f"{name} must have {size} entries; got {arr.size}")
    return arr


def _square(x, name: str, size: int) -> np.ndarray:
    arr = as_float_array(x, name, 2).astype(np.float64)
    if arr.shape != (size, size):
        raise ValueError(f"{name} must be {size} x {size}; got shape {arr.shape}")
    if np.any(np.diag(arr) < 0):
        raise ValueError(f"{name} must have a non-negative diagonal (squared norms / N)")
    return arr


def _asin_term(C, da, db) -> np.ndarray:
    """asin(C_ab / sqrt((1 + a_a)(1 + b_b))), clipped against round-off outside [-1, 1]."""
    return np.arcsin(np.clip(C / np.sqrt(np.outer(1.0 + da, 1.0 + db)), -1.0, 1.0))


def generalization_error(Q, R, T, v, v_star) -> float:
    """The exact generalisation error eps_g = E[(y_hat - y)^2] / 2 (noise-free teacher).

    Parameters
    ----------
    Q : (K, K) array
        Student-student overlaps Q_ik = w_i . w_k / N.
    R : (K, M) array
        Student-teacher overlaps R_in = w_i . w*_n / N.
    T : (M, M) array
        Teacher-teacher overlaps T_nm = w*_n . w*_m / N.
    v : (K,) array
        The student's second-layer weights.
    v_star : (M,) array
        The teacher's second-layer weights.

    Returns
    -------
    float
        eps_g from the formula in the module docstring. A teacher with output noise of
        standard deviation sigma adds sigma^2 / 2 to the test error on noisy labels.
    """
    v = _vector(v, "v")
    v_star = _vector(v_star, "v_star")
    K, M = v.size, v_star.size
    Q = _square(Q, "Q", K)
    T = _square(T, "T", M)
    R = as_float_array(R, "R", 2).astype(np.float64)
    if R.shape != (K, M):
        raise ValueError(
            f"R must be {K} x {M} (student units x teacher units); got shape {R.shape}"
        )
    dq, dt = np.diag(Q), np.diag(T)
    student = v @ _asin_term(Q, dq, dq) @ v
    teacher = v_star @ _asin_term(T, dt, dt) @ v_star
    cross = v @ _asin_term(R, dq, dt) @ v_star
    return float((student + teacher - 2.0 * cross) / math.pi)


def weight_pair(W, W_star) -> tuple[np.ndarray, np.ndarray]:
    """Student and teacher first-layer weights as float64 C arrays (copies) with one input dimension N."""
    W = np.array(as_float_array(W, "W", 2), dtype=np.float64)
    W_star = np.array(as_float_array(W_star, "W_star", 2), dtype=np.float64)
    if W.shape[1] != W_star.shape[1]:
        raise ValueError(
            f"W and W_star must have the same input dimension N; got {W.shape[1]} and {W_star.shape[1]}"
        )
    return W, W_star


def order_parameters(W, W_star) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Q, R, T) of a student with first-layer weights ``W`` (K x N) and a teacher ``W_star`` (M x N)."""
    W, W_star = weight_pair(W, W_star)
    N = W.shape[1]
    return W @ W.T / N, W @ W_star.T / N, W_star @ W_star.T / N


def committee_output(W, v, X) -> np.ndarray:
    """sum_k v_k g(w_k . x / sqrt N) for every row x of ``X`` (n x N), g(u) = erf(u / sqrt 2)."""
    W = as_float_array(W, "W", 2).astype(np.float64)
    v = _vector(v, "v", W.shape[0])
    X = as_float_array(X, "X", 2).astype(np.float64)
    if X.shape[1] != W.shape[1]:
        raise ValueError(f"X must have N = {W.shape[1]} columns; got {X.shape[1]}")
    return scipy.special.erf(X @ W.T / math.sqrt(2.0 * W.shape[1])) @ v
