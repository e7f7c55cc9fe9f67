"""Solutions to the coding exercises of notebook 15 (which kernel, and sizes chosen by the DPP).

Each ``exercise_N`` returns what the exercise asks for; its docstring gives the written part of
the answer. ``tests/test_solutions.py`` runs them.
"""

from __future__ import annotations

import numpy as np

from divnet_nb.core.kernel import GramAccumulator
from divnet_nb.core.kernels import neuron_kernel
from divnet_nb.core.sizes import map_gains


def cosine_from_gram(G, eps: float = 0.01) -> np.ndarray:
    """L_ij = G_ij / sqrt(G_ii G_jj) + eps delta_ij; a neuron that is never active gets 0 + eps."""
    d = np.diag(G)
    inv = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 0.0)
    L = G * np.outer(inv, inv)
    L[np.diag_indices_from(L)] = np.where(d > 0, 1.0, 0.0) + eps
    return L


def exercise_2(A, scale: float = 7.0, neuron: int = 0) -> dict:
    """The cosine kernel built by hand from the Gram matrix, against the package's, and after
    one neuron's activations are multiplied by ``scale``.

    Cosine similarity divides each inner product by both lengths, so multiplying a neuron's
    activation vector by any positive number leaves its row and column unchanged: the kernel
    is scale invariant, and the same holds for the RBF of the normalised vectors, since
    ||u_i - u_j||^2 = 2 - 2 cos(v_i, v_j) for unit vectors.
    """
    A = np.asarray(A, dtype=np.float64)
    ours = cosine_from_gram(A.T @ A)
    acc = GramAccumulator()
    acc.update(A)
    theirs = neuron_kernel("cosine", acc)
    scaled = A.copy()
    scaled[:, neuron] *= scale
    return {
        "max_difference": float(np.abs(ours - theirs).max()),
        "change_after_scaling": float(np.abs(cosine_from_gram(scaled.T @ scaled) - ours).max()),
    }


def exercise_3(L) -> dict:
    """The greedy mode's gains, and the smallest scale whose mode keeps half the items.

    The mode of gamma L keeps the items whose gain satisfies gamma d_t^2 > 1 (each one
    multiplies gamma^|S| det(L_S) by gamma d_t^2). The gains never increase, so the mode keeps
    t items exactly for gamma in (1/d_t^2, 1/d_{t+1}^2]: the smallest such gamma for
    t = n/2 is the infimum 1/d_{n/2}^2, and any gamma just above it keeps half.
    """
    order, gains = map_gains(L)
    half = L.shape[0] // 2
    return {
        "non_increasing": bool(np.all(np.diff(gains) <= 1e-12 * gains[0])),
        "gamma_half": float(1.0 / gains[half - 1]),
        "order": order,
        "gains": gains,
    }
