"""Solutions to the coding exercises of notebook 13 (DPP edge pruning).

``exercise_2`` registers the edge rule the exercise asks for and compares it with ``dpp``; its
docstring gives the written part of the answer. ``tests/test_solutions.py`` runs it on a digits
network (whose border pixels are never active, like MNIST's).
"""

from __future__ import annotations

import numpy as np

from divnet_nb.core.edges import dpp_edge_masks
from divnet_nb.nets import error_rate
from divnet_nb.prune import prune_edges
from divnet_nb.pruning import register_method

RULE = "dpp-live"


@register_method(
    RULE, "edge", label="DPP edge, live inputs", color="tab:purple", marker="v",
    options=("beta", "eps"), replace=True,
)  # fmt: skip
def dpp_live_edges(edge_data, sizes, rng, *, beta=None, eps=0.01):
    """A k-DPP over each unit's *live* incoming edges (inputs with G_aa > 0); dead ones only when k exceeds them.

    Dead inputs have zero contributions C_a, identical columns that the kernel groups together;
    a k-DPP over all inputs still keeps some of them, and every dead edge kept is an edge
    wasted. Restricting the ground set to live inputs spends all k edges where the data are.
    """
    G, W = edge_data.stats.gram, edge_data.weights
    live = np.flatnonzero(np.diag(G) > 0)
    dead = np.setdiff1d(np.arange(G.shape[0]), live)
    masks = {k: np.zeros(W.shape, dtype=bool) for k in sizes}
    small = [k for k in sizes if k <= live.size]
    if small:
        sub = dpp_edge_masks(G[np.ix_(live, live)], W[:, live], small, rng,
                             n_samples=edge_data.stats.n_samples, beta=beta, eps=eps)  # fmt: skip
        for k in small:
            masks[k][:, live] = sub[k]
    for k in sizes:
        if k > live.size:
            masks[k][:, live] = True
            masks[k][:, dead[: k - live.size]] = True
    return masks


def exercise_2(model, X, x_test, y_test, fraction: float = 0.2, seed: int = 0) -> dict:
    """Test errors of the first layer pruned to ``fraction`` of its edges by ``dpp`` and by ``dpp-live``.

    Dead edges contribute nothing, so keeping one wastes a place that a live edge could have
    taken; ``dpp-live`` never does. Whether that lowers the error depends on how many dead
    edges ``dpp`` keeps: MNIST has many never-lit border pixels, digits (the tests' stand-in)
    only a few, and there the two rules differ mostly by the randomness of their samples.
    Compare the four numbers, with and without reweighting, over a few seeds.
    """
    k = max(1, round(fraction * model[0].in_features))
    out = {}
    for rule in ("dpp", RULE):
        for reweight in (False, True):
            pruned = prune_edges(model, 0, k, rule, reweight, rng=seed, data=X)
            out[rule, reweight] = error_rate(pruned, x_test, y_test)
    return out
