"""Solutions to the coding exercises of notebook 02 (DivNet's RBF kernel over neurons).

Each ``exercise_<n>`` takes what the notebook has at hand, named as there (``A``, ``L``,
``model``, ``X``), and returns what the exercise asks for; its docstring gives the written
part of the answer. ``tests/test_solutions.py`` runs every one on a digits network.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

import divnet_nb as dn
from divnet_nb.prune import collect_activations


def exercise_3(A) -> dict:
    """The Gram trick in float32: the kernel from one float32 product against cdist in float64.

    ||v_i - v_j||^2 = G_ii + G_jj - 2 G_ij subtracts numbers of order |T| to get a small one.
    float32 keeps about 7 significant digits, so the distance of two similar neurons with
    large activations carries an absolute error of about 1e-7 G_ii, and the kernel an error of
    about beta times that: the error is largest for the most similar pairs among the neurons
    with the largest activations (where the kernel is near 1 and most sensitive). The package
    forms each block's product in float32 (fast) but sums the blocks in float64, so the
    rounding does not accumulate over |T| inputs.
    """
    A32 = np.asarray(A, dtype=np.float32)
    G32 = A32.T @ A32  # one float32 product
    L32 = dn.rbf_kernel_from_gram(G32.astype(np.float64), n_samples=A32.shape[0])
    A64 = A32.astype(np.float64)
    L64 = np.exp(-dn.default_beta(A64.shape[0]) * cdist(A64.T, A64.T, "sqeuclidean"))
    L64 += 0.01 * np.eye(A64.shape[1])
    error = np.abs(L32 - L64)
    i, j = np.unravel_index(int(np.argmax(error)), error.shape)
    return {
        "max error": float(error.max()),
        "worst pair": (int(i), int(j)),
        "kernel there": float(L64[i, j]),
    }


def mean_similarity(L_prime, S) -> float:
    """Mean off-diagonal entry of L' over the neurons S (section 5)."""
    block = L_prime[np.ix_(S, S)]
    return float(block[~np.eye(len(S), dtype=bool)].mean())


def redundancy(H, S) -> dict:
    """All-green (min > 0.9) and all-red (max < 0.1) columns of the activations H[:, S]."""
    P = H[:, S]
    return {
        "all green": int(np.sum(P.min(axis=0) > 0.9)),
        "all red": int(np.sum(P.max(axis=0) < 0.1)),
    }


def exercise_5(model, X, x_digits, k: int = 50, seed: int = 0) -> dict:
    """Figure 1 for the second hidden layer: a k-DPP sample against the first k neurons.

    ``x_digits`` holds one training image per digit (section 6). The second layer's kernel has
    a faster-decaying spectrum (section 4): more of its neurons are near-copies, so the first k
    neurons contain more redundant pairs and the k-DPP's advantage in mean similarity is larger.
    """
    A2 = collect_activations(model, 1, X).astype(np.float64)
    L = dn.rbf_kernel(A2)
    L_prime = L - 0.01 * np.eye(len(L))
    eig = dn.eigendecompose(L)
    keep = dn.sample_kdpp(eig.scaled(dn.scaling_factor(eig.values, k)), k, rng=seed)
    first = np.arange(k)
    H = collect_activations(model, 1, x_digits)
    return {
        name: {**redundancy(H, S), "mean similarity": mean_similarity(L_prime, S)}
        for name, S in (("k-DPP", keep), ("first", first))
    }


def exercise_6(L, k: int = 50, n_samples: int = 20, seed: int = 0) -> dict:
    """The greedy mode dn.greedy_map(L, k) against k-DPP samples, by mean similarity.

    Greedy MAP maximises det(L_Y), which is largest for mutually dissimilar neurons, so its
    mean similarity is at or below the samples' (a sample is random and now and then keeps a
    similar pair). The most likely subset is the least redundant by the determinant's measure,
    not necessarily by the mean similarity: the determinant also rewards neurons that are far
    from everything, which the mean does not see.
    """
    L_prime = L - 0.01 * np.eye(len(L))
    eig = dn.eigendecompose(L)
    scaled = eig.scaled(dn.scaling_factor(eig.values, k))
    samples = [
        mean_similarity(L_prime, dn.sample_kdpp(scaled, k, rng=seed + s)) for s in range(n_samples)
    ]
    return {"greedy": mean_similarity(L_prime, dn.greedy_map(L, k)), "samples": np.array(samples)}
