"""Solutions to the coding exercises of notebook 09 (beta and the network's size).

Each ``exercise_<n>`` takes what the notebook has at hand, named as there (``stats[0]``,
``n_T``), and returns what the exercise asks for; its docstring gives the written part of the
answer. ``tests/test_solutions.py`` runs every one.
"""

from __future__ import annotations

import numpy as np

import divnet_nb as dn
from divnet_nb.prune import LayerData


def exercise_1(stats0, n_T: int) -> dict:
    """The plain DPP's inclusion probabilities at the paper's beta: how many above 0.9, below 0.1."""
    p = dn.inclusion_probabilities(LayerData(stats0, beta=10 / n_T).eig)
    return {
        "above 0.9": int(np.sum(p > 0.9)),
        "below 0.1": int(np.sum(p < 0.1)),
        "sum": float(p.sum()),
    }


def exercise_2(stats0, n_T: int, target: float = 50, top: int = 10) -> dict:
    """The factor that makes the first layer's expected DPP size ``target``, by bisection, against the k-DPP route.

    The expected size grows with beta (a larger beta makes neurons look less alike), so
    bisection on log(factor) converges. The two routes favour different neurons: changing beta
    changes which neurons look alike (the kernel itself), while the k-DPP route keeps the paper's
    kernel and only conditions on the size; compare the most likely neurons of each.
    """

    def size(factor):
        return dn.expected_size(LayerData(stats0, beta=factor / n_T).eig)

    lo, hi = 1e-3, 1e4
    for _ in range(60):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if size(mid) < target else (lo, mid)
    factor = float(np.sqrt(lo * hi))
    plain = dn.inclusion_probabilities(LayerData(stats0, beta=factor / n_T).eig)
    paper = LayerData(stats0, beta=10 / n_T).eig
    kdpp = dn.inclusion_probabilities(
        paper.scaled(dn.scaling_factor(paper.values, int(target))), int(target)
    )
    first, second = set(np.argsort(-plain)[:top]), set(np.argsort(-kdpp)[:top])
    return {"factor": factor, "expected size": size(factor), "top overlap": len(first & second)}


def exercise_5(
    factor: float = 10, seed: int = 1, n_inputs: int = 200, n_columns: int = 30, noise: float = 1e-6
) -> dict:
    """Section 1's toy matrix with half its columns replaced by near-copies of the other half.

    Near-copies are, to the kernel, the same neuron: a pair spans little more than one
    direction, so the expected size falls, towards (not down to) that of the distinct half
    alone; a copy adds only what its tiny difference and eps contribute.
    """
    rng = np.random.default_rng(seed)
    A = rng.random((n_inputs, n_columns))
    half = n_columns // 2
    copies = A.copy()
    copies[:, half:] = A[:, :half] + noise * rng.standard_normal((n_inputs, n_columns - half))
    sizes = {}
    for name, M in (("original", A), ("half copies", copies), ("distinct half only", A[:, :half])):
        sizes[name] = float(dn.expected_size(dn.rbf_kernel(M, beta=factor / n_inputs)))
    return sizes
