"""Solutions to the coding exercises of notebook 04 (fusing neurons).

Each ``exercise_<n>`` takes what the notebook has at hand, named as there, and returns what
the exercise asks for; its docstring gives the written part of the answer.
``tests/test_solutions.py`` runs every one.
"""

from __future__ import annotations

import numpy as np
import torch

from divnet_nb.nets import MLP
from divnet_nb.prune import apply_pruning, layer_statistics


def exercise_4(A, keep_dpp, keep_random) -> dict:
    """Condition numbers of G_SS for the k-DPP's neurons and for random ones.

    The k-DPP avoids keeping near-copies, whose columns make G_SS nearly singular, so its
    G_SS is usually far better conditioned. The Cholesky solve of G_SS alpha = G_SR loses
    about log10(cond) digits: a diverse kept set makes the fused weights accurate and small.
    """
    A = np.asarray(A, dtype=np.float64)
    out = {}
    for name, keep in (("k-DPP", keep_dpp), ("random", keep_random)):
        G_SS = A[:, keep].T @ A[:, keep]
        out[name] = float(np.linalg.cond(G_SS))
    return out


def tiny_network(seed: int = 0):
    """The network of section 6: neuron 3 duplicates 0, neuron 4 mirrors 1, neuron 5 is constant 1."""
    rng = np.random.default_rng(seed)
    net = MLP((4, 6, 3), seed=seed).double()
    with torch.no_grad():
        hidden, out = net.linears
        hidden.bias.copy_(torch.from_numpy(rng.normal(size=6)))
        out.bias.copy_(torch.from_numpy(rng.normal(size=3)))
        hidden.weight[3], hidden.bias[3] = hidden.weight[0], hidden.bias[0]
        hidden.weight[4], hidden.bias[4] = -hidden.weight[1], -hidden.bias[1]
        hidden.weight[5], hidden.bias[5] = 0.0, 40.0
    X_small = rng.normal(size=(300, 4))
    X_new = torch.from_numpy(rng.normal(size=(1000, 4)))
    return net, X_small, X_new


def exercise_5(deltas=(1e-6, 1e-4, 1e-2, 1.0), seed: int = 0) -> dict:
    """Neuron 3's bias moved by delta: the largest output change after fusing it away.

    Neuron 3 becomes sigma(z_0 + delta) = v_0 + delta sigma'(z_0) + O(delta^2). Fusion writes it
    in the kept neurons (0, 1, 2 and the constant 5): v_0 exactly, and of delta sigma'(z_0) only
    its projection on their span. The remainder, of order delta, is lost, so the output change
    grows linearly with delta for small delta (a tenfold delta gives a tenfold change), and
    departs from that line once delta is no longer small.
    """
    changes = {}
    for delta in deltas:
        net, X_small, X_new = tiny_network(seed)
        with torch.no_grad():
            net.linears[0].bias[3] += delta
        fused = apply_pruning(net, 0, [0, 1, 2, 5], layer_statistics(net, 0, X_small))
        with torch.no_grad():
            changes[delta] = float((net(X_new) - fused(X_new)).abs().max())
    return changes
