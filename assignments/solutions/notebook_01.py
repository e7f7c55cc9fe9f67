"""Solutions to the coding exercises of notebook 01 (determinantal point processes).

Each ``exercise_<n>`` takes what the notebook has at hand, named as there, and returns what
the exercise asks for; its docstring gives the written part of the answer.
``tests/test_solutions.py`` runs every one.
"""

from __future__ import annotations

import itertools

import numpy as np

import divnet_nb as dn


def exercise_1(points, beta: float = 5.0, eps: float = 0.01) -> dict:
    """Point 1 moved onto point 0: det(L_{0,1}) and P({0, 1}), with and without eps.

    The two columns of L for points 0 and 1 become equal up to eps on the diagonal, so
    det(L_{0,1}) = (1 + eps)^2 - 1 = 2 eps + eps^2: tiny, not zero. Without eps the block has
    two equal rows, its determinant is 0 and the DPP never keeps both. The paper adds eps I so
    that every subset has positive probability (the kernel has full rank and a k-DPP of any size
    exists), while duplicates are still kept together only rarely.
    """
    moved = np.array(points, dtype=float)
    moved[1] = moved[0]
    out = {}
    for e in (eps, 0.0):
        L = dn.rbf_kernel(moved.T, beta=beta, eps=e)
        block = np.linalg.det(L[:2, :2])
        out[e] = {"det": block, "P": block / np.linalg.det(L + np.eye(len(L)))}
    return out


def size_distribution(L) -> np.ndarray:
    """P(|Y| = m), m = 0..N: each eigenvector kept with probability lambda / (1 + lambda)."""
    dist = np.array([1.0])
    for lam in np.linalg.eigvalsh(L):
        p = lam / (1 + lam)
        dist = np.convolve(dist, [1 - p, p])
    return dist


def exercise_2(L, k: int = 2, factor: float = 10.0) -> dict:
    """Scaling L: the size distribution moves, the k-DPP marginals do not.

    A k-DPP gives Y the probability det(L_Y) / e_k(lambda); multiplying L by c multiplies
    every det(L_Y) with |Y| = k, and e_k, by c^k, which cancels.
    """
    return {
        "sizes": size_distribution(L),
        "sizes scaled": size_distribution(factor * L),
        "marginals": dn.inclusion_probabilities(L, k),
        "marginals scaled": dn.inclusion_probabilities(factor * L, k),
    }


def exercise_3(n: int = 6, r: int = 3, seed: int = 0) -> dict:
    """A projection DPP K = V V^T: det(K_A) sums to 1 over |A| = r and is 0 for larger sets.

    K has rank r, so every principal minor of size above r vanishes; the sum of the size-r
    minors is the r-th elementary symmetric polynomial of K's eigenvalues (r ones): 1.
    """
    V = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, r)))[0]
    K = V @ V.T
    sums = {}
    for m in range(r, n + 1):
        sums[m] = sum(np.linalg.det(K[np.ix_(A, A)]) for A in itertools.combinations(range(n), m))
    return sums


def mean_nn_distance(X, S) -> float:
    """Mean distance from each chosen point to its nearest other chosen point (section 7)."""
    D = np.linalg.norm(X[S][:, None, :] - X[S][None, :, :], axis=-1)
    np.fill_diagonal(D, np.inf)
    return float(D.min(axis=1).mean())


def exercise_4(
    betas=(5.0, 30.0, 200.0), n_points: int = 300, k: int = 20, n_samples: int = 500, seed: int = 0
) -> dict:
    """Section 7 at several bandwidths: the k-DPP's nearest-neighbour distance against uniform.

    The kernel's length scale is 1/sqrt(beta): about 0.45 at beta = 5, 0.18 at 30, 0.07 at 200,
    against a spacing of about 1/sqrt(k) between k well-spread points. While the length scale is
    at least that spacing, every pair of chosen points interacts and the k-DPP spreads them out,
    well beyond uniform points. When it is much smaller, only points closer than the length
    scale repel; uniform points are rarely that close, so the k-DPP looks nearly uniform and the
    gap shrinks.
    """
    rng = np.random.default_rng(seed)
    X = rng.random((n_points, 2))
    out = {}
    for beta in betas:
        eig = dn.eigendecompose(dn.rbf_kernel(X.T, beta=beta))
        dpp = [mean_nn_distance(X, dn.sample_kdpp(eig, k, rng)) for _ in range(n_samples)]
        uni = [
            mean_nn_distance(X, rng.choice(n_points, k, replace=False)) for _ in range(n_samples)
        ]
        out[beta] = {"k-DPP": float(np.mean(dpp)), "uniform": float(np.mean(uni))}
    return out
