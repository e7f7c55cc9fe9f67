"""Solutions to the coding exercises of notebook 08 (the second hidden layer).

Each ``exercise_<n>`` takes what the notebook has at hand, named as there (``sweep0``,
``sweep1``, ``model``, ``exp.x_kernel``), and returns what the exercise asks for; its docstring
gives the written part of the answer. ``tests/test_solutions.py`` runs every one on digits.
"""

from __future__ import annotations

import numpy as np
import torch

from divnet_nb.prune import prune_layer
from divnet_nb.verdicts import decide, t_interval


def exercise_1(sweep0, sweep1) -> dict:
    """The relative gap (e_random - e_DivNet) / e_random on both layers, and the claim decided on it.

    Normalising by the random error weighs each kept size by how much there was to gain: a gap
    of 0.01 matters more at an error of 0.03 than at 0.5. The claim "the gap is wider on the
    second layer" is decided, as in section 5, on the per-network difference of the two
    layers' mean relative gaps with a paired t interval; the verdict may differ from the
    absolute one when the second layer's random errors are much smaller or larger than the
    first layer's.
    """

    def relative(sweep):
        random = np.asarray(sweep["test_error"]["random"], dtype=float)
        divnet = np.asarray(sweep["test_error"]["dpp+fuse"], dtype=float)
        return (random - divnet) / random  # (networks, sizes)

    gap0, gap1 = relative(sweep0), relative(sweep1)
    mean, low, high = t_interval(gap1.mean(axis=1) - gap0.mean(axis=1))
    return {
        "layer 1": gap0.mean(axis=0),
        "layer 2": gap1.mean(axis=0),
        "difference": (mean, low, high),
        "verdict": decide(low, high, ">0"),
    }


def exercise_3(model, X, k: int = 25, seed: int = 0) -> dict:
    """Root-mean-square change of the logits on the training inputs after pruning the last hidden layer.

    Fusion on the last hidden layer fits the logits themselves by least squares (eq. 3 with the
    output layer as the next layer), so the fused network's logits stay far closer to the
    original ones than after deleting the removed neurons.
    """
    x = torch.from_numpy(np.asarray(X, dtype=np.float32))
    with torch.no_grad():
        logits = model(x)
    out = {}
    for name, reweight in (("fused", True), ("deleted", False)):
        pruned = prune_layer(model, 1, k, "dpp", reweight, rng=seed, data=X)
        with torch.no_grad():
            out[name] = float(torch.sqrt(((pruned(x) - logits) ** 2).mean()))
    return out
