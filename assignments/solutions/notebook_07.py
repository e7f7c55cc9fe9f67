"""Solutions to the coding exercises of notebook 07 (Table 2).

``exercise_3`` takes what the notebook has at hand (a trained ``model``, the kernel inputs
``X`` and the test data) and returns what the exercise asks for; its docstring gives the
written part of the answer. ``tests/test_solutions.py`` runs it on a digits network.
"""

from __future__ import annotations

import numpy as np

from divnet_nb.nets import error_rate
from divnet_nb.prune import (
    LayerData,
    apply_pruning,
    layer_statistics,
    prune_network,
    select_neurons,
)


def exercise_3(model, X, x_test, y_test, sizes=(50, 50), seed: int = 0) -> dict:
    """Layer 2 pruned from the unpruned network's statistics, against prune_network's sequential order.

    Both prune layer 1 the same way. The teaching version then selects and fuses layer 2 from
    the activations of the *unpruned* network; prune_network recomputes them on the network
    whose first layer is already pruned. After pruning layer 1, layer 2 sees different inputs:
    the fusion fitted on the old activations reproduces the next-layer input of a network that
    no longer exists, while the sequential order fits the activations the pruned network
    actually produces, and so also corrects part of the first layer's error.
    """
    k1, k2 = sizes
    stats0, stats1 = (
        layer_statistics(model, 0, X),
        layer_statistics(model, 1, X),
    )  # unpruned network
    keep0 = select_neurons("dpp", k1, LayerData(stats0), rng=np.random.default_rng(seed))
    keep1 = select_neurons("dpp", k2, LayerData(stats1), rng=np.random.default_rng(seed + 1))
    first = apply_pruning(model, 0, keep0, stats0)
    from_unpruned = apply_pruning(first, 1, keep1, stats1)
    sequential = prune_network(model, [k1, k2], "dpp", True, seed, data=X)
    return {
        "layer 2 from the unpruned network": error_rate(from_unpruned, x_test, y_test),
        "prune_network (sequential)": error_rate(sequential, x_test, y_test),
    }
