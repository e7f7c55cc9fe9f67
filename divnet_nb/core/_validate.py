"""Input checks shared by the public functions.

Every public function of the core converts and checks its arguments here before
any arithmetic happens, so that bad input raises a :class:`ValueError` that
names the argument and says what was expected, instead of a wrong answer or an
error from deep inside LAPACK. Nothing here modifies its input: conversions
return new arrays (or read-only views of arrays that are already right).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

# Relative tolerance for "L is symmetric": |L - L^T| <= SYMMETRY_RTOL * max|L|.
SYMMETRY_RTOL = 1e-8
# Eigenvalues above -PSD_RTOL * max eigenvalue are round-off and are set to 0;
# anything more negative means L is not positive semidefinite.
PSD_RTOL = 1e-8


def as_float_array(
    x, name: str, ndim: int, *, allow_empty: bool = False, check_finite: bool = True
) -> np.ndarray:
    """Return ``x`` as a float32 or float64 array of ``ndim`` dimensions.

    float32 and float64 input keep their dtype; integers and booleans become
    float64; float16 becomes float32. Complex, object or string data, a wrong
    number of dimensions, empty arrays and (unless ``check_finite=False``, for
    callers that check a cheaper derived quantity instead) NaN or infinite
    entries raise :class:`ValueError`.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - exotic array-likes
        raise ValueError(f"{name} must be an array of numbers; got {type(x).__name__}") from exc
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    elif arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    elif arr.dtype not in (np.float32, np.float64):
        raise ValueError(
            f"{name} must hold real numbers (float32 or float64); got dtype {arr.dtype}"
        )
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array; got shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {arr.shape}")
    if check_finite and not np.isfinite(arr).all():
        raise_not_finite(arr, name)
    return arr


def as_gram(G, name: str = "G") -> np.ndarray:
    """``G`` as a finite, square float array (a Gram matrix); its dtype is kept."""
    arr = as_float_array(G, name, 2)
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square Gram matrix; got shape {arr.shape}")
    return arr


def raise_not_finite(arr: np.ndarray, name: str):
    """Raise the ValueError for an array with NaN or infinite entries (counted here, off the fast path)."""
    bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
    if bad == 0:  # finite, but products overflowed the array's precision
        raise ValueError(
            f"{name} is too large for {arr.dtype} arithmetic (max |{name}| = {np.max(np.abs(arr)):.3g}); "
            f"rescale it or pass float64"
        )
    raise ValueError(f"{name} contains {bad} NaN or infinite entries")


def as_kernel(L, name: str = "L") -> np.ndarray:
    """Return ``L`` as a finite, symmetric, square float64 matrix.

    The result is exactly symmetric (the mean of ``L`` and its transpose), so
    that LAPACK's symmetric routines see the matrix the caller meant.
    """
    arr = as_float_array(L, name, 2)
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square matrix; got shape {arr.shape}")
    arr = np.asarray(arr, dtype=np.float64)
    scale = float(np.max(np.abs(arr)))
    asym = float(np.max(np.abs(arr - arr.T)))
    if asym > SYMMETRY_RTOL * max(scale, np.finfo(np.float64).tiny):
        raise ValueError(
            f"{name} must be symmetric; max |{name} - {name}.T| = {asym:.3g} "
            f"(tolerance {SYMMETRY_RTOL:g} x max |{name}| = {SYMMETRY_RTOL * scale:.3g})"
        )
    return (arr + arr.T) * 0.5


def check_psd_eigenvalues(w: np.ndarray, name: str = "L") -> np.ndarray:
    """Check eigenvalues ``w`` of a symmetric matrix for positive semidefiniteness.

    Returns a copy in which round-off negatives (above ``-PSD_RTOL * max(w)``)
    are set to zero; raises :class:`ValueError` for anything more negative.
    """
    w = np.array(w, dtype=np.float64)
    top = max(float(np.max(w)), 0.0)
    low = float(np.min(w))
    if low < -PSD_RTOL * top or (top == 0.0 and low < 0.0):
        raise ValueError(
            f"{name} must be positive semidefinite; its smallest eigenvalue is {low:.3g} "
            f"(allowed down to -{PSD_RTOL:g} x largest = {-PSD_RTOL * top:.3g})"
        )
    w[w < 0.0] = 0.0
    return w


def as_positive_real(value, name: str, *, allow_zero: bool = False) -> float:
    """Check that ``value`` is a finite real number > 0 (>= 0 with ``allow_zero``); return it as float.

    Bools are rejected (an easy slip for a flag); numpy scalars are accepted.
    """
    bound = ">= 0" if allow_zero else "> 0"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite real number {bound}; got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and (value >= 0.0 if allow_zero else value > 0.0)):
        raise ValueError(f"{name} must be finite and {bound}; got {value}")
    return value


def is_int(value) -> bool:
    """True for Python and numpy integers; False for bools (an easy slip for a size or a seed)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def as_rng(rng) -> np.random.Generator:
    """Turn ``None``, an int seed or a Generator into a :class:`numpy.random.Generator`."""
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if is_int(rng):
        if rng < 0:
            raise ValueError(f"rng must be a non-negative int seed; got {rng}")
        return np.random.default_rng(int(rng))
    raise ValueError(
        f"rng must be None, a non-negative int seed or a numpy.random.Generator; "
        f"got {type(rng).__name__}"
    )


def as_size(k, n: int, name: str = "k", *, upper: str = "n") -> int:
    """Check that ``k`` is an integer with ``1 <= k <= n``."""
    if isinstance(k, bool):
        raise ValueError(f"{name} must be an integer; got {k!r}")
    if not isinstance(k, numbers.Integral):
        if isinstance(k, numbers.Real) and float(k).is_integer():
            k = int(k)
        else:
            raise ValueError(f"{name} must be an integer; got {k!r}")
    k = int(k)
    if k < 1 or k > n:
        raise ValueError(f"{name} must satisfy 1 <= {name} <= {upper} = {n}; got {name} = {k}")
    return k


def as_count(value, name: str, *, minimum: int = 0) -> int:
    """Check that ``value`` is an integer (not a bool) with ``value >= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def as_index_set(idx, n: int, name: str) -> np.ndarray:
    """Return ``idx`` as an int64 array of distinct indices in ``[0, n)``.

    A boolean mask of length ``n`` is accepted and turned into indices. The
    order of integer input is kept.
    """
    arr = np.asarray(idx)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(f"{name} as a boolean mask must have shape ({n},); got {arr.shape}")
        return np.flatnonzero(arr).astype(np.int64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of indices; got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"{name} must hold integer indices; got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"{name} holds indices outside [0, {n}): min {arr.min()}, max {arr.max()}")
    uniq = np.unique(arr)
    if uniq.size != arr.size:
        values, counts = np.unique(arr, return_counts=True)
        raise ValueError(f"{name} holds duplicate indices: {values[counts > 1][:10].tolist()}")
    return arr
