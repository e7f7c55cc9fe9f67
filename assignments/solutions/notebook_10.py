"""Solutions to the coding exercises of notebook 10 (CIFAR-10).

Each ``exercise_<n>`` takes what the notebook has at hand, named as there (``SIZES``,
``sweep``, ``model``), and returns what the exercise asks for; its docstring gives the written
part of the answer. ``tests/test_solutions.py`` runs every one on small networks.
"""

from __future__ import annotations

import numpy as np

from divnet_nb.nets import MLP
from divnet_nb.prune import (
    LayerData,
    importance_scores,
    layer_statistics,
    prune_network,
    select_neurons,
)


def n_parameters(sizes, kept) -> int:
    """Parameters (weights and biases) of the MLP ``sizes`` once its hidden layers keep ``kept`` neurons."""
    widths = (sizes[0], *kept, sizes[-1])
    return sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:], strict=True))


def exercise_1(sizes, fractions=(0.1, 0.25, 0.5, 0.75, 1.0), seed: int = 0) -> dict:
    """n_parameters checked against prune_network on an untrained MLP, and the fraction left at each fraction kept.

    The first layer dominates (3072 inputs for CIFAR-10), and every hidden layer's weights
    shrink with the product of two kept fractions, so keeping a fraction f of every layer
    leaves somewhat more than f^2 of the parameters but less than f.
    """
    net = MLP(sizes, seed=seed)
    X = np.random.default_rng(seed).random((50, sizes[0])).astype(np.float32)
    full = net.n_parameters()
    assert full == n_parameters(sizes, sizes[1:-1])
    left = {}
    for f in fractions:
        kept = [max(1, round(f * n)) for n in sizes[1:-1]]
        if f < 1:
            pruned = prune_network(net, kept, "random", False, seed, data=X)
            assert pruned.n_parameters() == n_parameters(sizes, kept)
        left[f] = n_parameters(sizes, kept) / full
    return left


def exercise_2(sweep, sizes, unpruned: float) -> dict:
    """Test error added per million parameters saved, for DivNet and importance + fusion, at each kept size.

    The ratio falls as fewer neurons are kept only while the error grows slower than the
    savings; where it starts to climb steeply, each further million parameters saved costs more
    error than the ones before, and the extra parameters of a larger kept size pay off.
    """
    full = n_parameters(sizes, sizes[1:-1])
    saved = np.array([full - n_parameters(sizes, (k, *sizes[2:-1])) for k in sweep["sizes"]])
    out = {}
    for key in ("dpp+fuse", "importance+fuse"):
        error = np.mean(sweep["test_error"][key], axis=0)
        out[key] = (error - unpruned) / (saved / 1e6)
    return out


def exercise_4(model, X, k: int = 100, seed: int = 0) -> dict:
    """How many of importance pruning's k neurons a k-DPP sample of size k also keeps.

    Independent choices of k of n neurons would share k^2 / n on average. Importance keeps the
    neurons with the heaviest outgoing weights, the k-DPP neurons that differ from each other;
    an overlap near the independent one says the two rules value unrelated things, a larger
    one that heavy neurons also tend to be distinct.
    """
    stats = layer_statistics(model, 0, X)
    n = stats.gram.shape[0]
    importance = set(np.argsort(-importance_scores(model, 0), kind="stable")[:k].tolist())
    sample = set(select_neurons("dpp", k, LayerData(stats), rng=seed).tolist())
    return {"overlap": len(importance & sample), "independent": k * k / n, "n": n}
