"""Solutions to the coding exercises of notebook 03 (sampling).

Each ``exercise_<n>`` takes what the notebook has at hand, named as there (``eig``, ``L``),
and returns what the exercise asks for; its docstring gives the written part of the answer.
``tests/test_solutions.py`` runs every one.
"""

from __future__ import annotations

import math
import time

import numpy as np

import divnet_nb as dn


def exercise_1(eig, n_draws: int = 2000, seed: int = 0) -> dict:
    """The number of eigenvectors phase 1 keeps: its variance against sum lambda / (1 + lambda)^2.

    Eigenvector n is kept independently with probability p_n = lambda_n / (1 + lambda_n), so
    the count is a sum of independent Bernoulli variables with variance sum p_n (1 - p_n) =
    sum lambda_n / (1 + lambda_n)^2. Phase 2 draws exactly one item per kept eigenvector, so
    |Y| equals that count and has the same variance.
    """
    rng = np.random.default_rng(seed)
    counts = np.array(
        [len(dn.select_eigenvectors(None, None, rng, eig=eig)) for _ in range(n_draws)]
    )
    lam = np.asarray(eig.values)
    return {"sampled": float(counts.var(ddof=1)), "formula": float(np.sum(lam / (1 + lam) ** 2))}


def esp_plain(values, k: int) -> np.ndarray:
    """e_0..e_k by the plain recursion in float64 (the notebook's esp_plain)."""
    e = np.zeros(k + 1)
    e[0] = 1.0
    with np.errstate(over="ignore", invalid="ignore"):  # the overflow is the point of exercise 2
        for v in values:
            e[1:] = e[1:] + v * e[:-1]
    return e


def exercise_2(values, k: int = 400) -> dict:
    """Rescaling before the plain recursion: e_k(c v) = c^k e_k(v).

    The constant that makes e_k(c v) of order 1 is c = exp(-log e_k(v) / k); any c near it
    keeps e_400 of the "random in [1, 1.5]" case finite. It is chosen for one k: at another k
    the same c gives c^k e_k, which for k far from 400 is again too large or too small (and
    e_0 = 1 cannot be rescaled at all), so no single constant serves every k from 1 to 1000.
    Working in log space (notebook 03, section 5) does.
    """
    values = np.asarray(values, dtype=float)
    log_e = dn.log_elementary_symmetric(values, len(values))
    c = math.exp(-log_e[k] / k)
    scaled = esp_plain(c * values, len(values))
    finite = np.isfinite(scaled) & (scaled > 0)
    return {
        "c": c,
        "e_k scaled": float(scaled[k]),
        "plain e_k": float(esp_plain(values, k)[k]),
        "finite for k": np.flatnonzero(finite),
    }


def greedy_det(L, k: int) -> np.ndarray:
    """Greedy MAP with plain numpy: add the item that maximises det(L_{Y + i}), recomputed each time."""
    L = np.asarray(L, dtype=float)
    chosen: list[int] = []
    for _ in range(k):
        best, best_det = -1, -np.inf
        for i in range(L.shape[0]):
            if i in chosen:
                continue
            Y = chosen + [i]
            d = np.linalg.det(L[np.ix_(Y, Y)])
            if d > best_det:
                best, best_det = i, d
        chosen.append(best)
    return np.sort(np.array(chosen))


def exercise_4(L, n: int = 200, k: int = 20, seed: int = 0) -> dict:
    """greedy_det against dn.greedy_map: the same set on L, and their times at N = n, k.

    greedy_det computes a determinant of size up to k for each of N candidates at each of k
    steps, O(N k^4) with LU; greedy_map updates a Cholesky factor and the gains incrementally,
    O(N k^2) in all, so the gap grows quickly with k.
    """
    same = bool(
        np.array_equal(greedy_det(L, min(k, len(L))), np.sort(dn.greedy_map(L, min(k, len(L)))))
    )
    B = np.random.default_rng(seed).standard_normal((n, n))
    L_big = B @ B.T / n + 0.01 * np.eye(n)
    start = time.perf_counter()
    greedy_det(L_big, k)
    t_plain = time.perf_counter() - start
    start = time.perf_counter()
    dn.greedy_map(L_big, k)
    t_package = time.perf_counter() - start
    return {"same set": same, "seconds plain": t_plain, "seconds greedy_map": t_package}
