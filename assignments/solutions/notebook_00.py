"""Solutions to the coding exercises of notebook 00 (introduction: DivNet in one picture).

Each ``exercise_<n>`` takes what the notebook has at hand, named as there (``A``, ``W``, ``L``,
``Z``, ``U``, ``c``), and returns what the exercise asks for; its docstring gives the written
part of the answer. ``tests/test_solutions.py`` runs every one on the notebook's toy layer.
"""

from __future__ import annotations

import numpy as np

import divnet_nb as dn


def input_error(A, W, keep, W_kept) -> float:
    """Relative change ||A_S W_kept - A W||_F / ||A W||_F of the next layer's input (section 5)."""
    target = A @ W
    return float(np.linalg.norm(A[:, keep] @ W_kept - target) / np.linalg.norm(target))


def exercise_3(A, W, L, k: int = 8, seed: int = 0) -> dict:
    """Delete and fuse errors of one k-DPP sample of size k (and of size 4, for comparison).

    Deleting 32 instead of 36 of 40 neurons still throws away most of the next layer's input,
    so the delete error barely moves; the fused error falls much more, because eight diverse
    neurons span the four groups' activation vectors better than four, and fusion recovers
    everything the kept vectors span.
    """
    eig = dn.eigendecompose(L)
    out = {}
    for size in (4, k):
        gamma = dn.scaling_factor(eig.values, size)
        keep = dn.sample_kdpp(gamma * L, size, rng=seed)
        out[size] = {
            "keep": keep,
            "delete": input_error(A, W, keep, W[keep]),
            "fuse": input_error(A, W, keep, dn.fuse(A, keep, W)),
        }
    return out


def greedy_cover(L, k: int, threshold: float = 0.5) -> np.ndarray:
    """Keep the neuron with the most similar neighbours (kernel above ``threshold``), drop them, repeat.

    When every neuron is kept or dropped before ``k`` are kept, the remaining places go to
    the dropped neurons with the fewest similar neighbours among the kept ones.
    """
    L = np.asarray(L, dtype=float)
    n = L.shape[0]
    similar = (L > threshold) & ~np.eye(n, dtype=bool)
    free = np.ones(n, dtype=bool)
    kept: list[int] = []
    while len(kept) < k and free.any():
        counts = np.where(free, (similar & free[None, :]).sum(axis=1), -1)
        i = int(np.argmax(counts))
        kept.append(i)
        free[i] = False
        free[similar[i]] = False
    if len(kept) < k:
        rest = np.setdiff1d(np.arange(n), kept)
        crowding = similar[np.ix_(rest, kept)].sum(axis=1)
        kept += rest[np.argsort(crowding, kind="stable")][: k - len(kept)].tolist()
    return np.sort(np.array(kept))


def exercise_4(A, W, L, k: int = 4, seed: int = 0) -> dict:
    """greedy_cover against one k-DPP sample, both fused.

    On the toy layer the cover keeps one neuron per bright block of the kernel, which is what
    a good compression needs, deterministically; the k-DPP does so only with high probability.
    ``dn.greedy_map`` (notebook 03) is the principled version of the same idea: it maximises
    det(L_Y) greedily instead of counting neighbours above a threshold.
    """
    cover = greedy_cover(L, k)
    gamma = dn.scaling_factor(dn.eigendecompose(L).values, k)
    sample = dn.sample_kdpp(gamma * L, k, rng=seed)
    return {
        "cover": cover,
        "cover fused": input_error(A, W, cover, dn.fuse(A, cover, W)),
        "k-DPP": sample,
        "k-DPP fused": input_error(A, W, sample, dn.fuse(A, sample, W)),
    }


def exercise_5(Z, U, c, W, keep, n_new: int = 500, seed: int = 1) -> dict:
    """The fused weights, fitted on the training inputs, measured on fresh inputs of the same model.

    The fused weights solve a least-squares problem on the training activations; fresh inputs
    from the same latent model have activation vectors with the same correlations, so the
    error stays close to the training error (slightly above it, as any fitted model's).
    """

    def layer(Z_in):
        return 1.0 / (1.0 + np.exp(-(Z_in @ U.T + c)))

    A = layer(Z)
    fused = dn.fuse(A, keep, W)
    Z_new = np.random.default_rng(seed).standard_normal((n_new, Z.shape[1]))
    A_new = layer(Z_new)
    return {"train": input_error(A, W, keep, fused), "new": input_error(A_new, W, keep, fused)}
