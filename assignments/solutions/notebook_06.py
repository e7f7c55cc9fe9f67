"""Solutions to the coding exercises of notebook 06 (pruning the first layer).

``exercise_4`` takes what the notebook has at hand (a trained ``model`` and the kernel inputs
``X``) and returns what the exercise asks for; its docstring gives the written part of the
answer. ``tests/test_solutions.py`` runs it on a digits network.
"""

from __future__ import annotations

import numpy as np

import divnet_nb as dn
from divnet_nb.prune import collect_activations


def relative_residual(A, W, keep) -> float:
    """Mean over next-layer neurons j of ||sum_r w_rj v_r - sum_i delta_ij v_i|| / ||sum_r w_rj v_r||.

    delta = alpha W_R are the fusion corrections (notebook 04): the change of the kept rows.
    """
    A = np.asarray(A, dtype=np.float64)
    removed = np.setdiff1d(np.arange(A.shape[1]), keep)
    target = A[:, removed] @ W[removed]  # what the removed neurons carried
    delta = dn.fusion_coefficients(A, keep) @ W[removed]  # alpha W_R
    residual = target - A[:, keep] @ delta
    return float(np.mean(np.linalg.norm(residual, axis=0) / np.linalg.norm(target, axis=0)))


def exercise_4(model, X, k: int = 50, seed: int = 0) -> dict:
    """The relative residual of eq. 3 for a k-DPP subset and a random subset of size k.

    The residual is the part of the removed neurons' contribution that no combination of the
    kept activation vectors reproduces. A k-DPP subset is spread over the directions of the
    activation space, so it usually leaves a smaller residual than a random subset of the same
    size: that is where fusion does its work, and why it helps DivNet most.
    """
    A = collect_activations(model, 0, X).astype(np.float64)
    W = model[2].weight.detach().double().numpy().T
    L = dn.rbf_kernel(A)
    eig = dn.eigendecompose(L)
    keep_dpp = dn.sample_kdpp(eig.scaled(dn.scaling_factor(eig.values, k)), k, rng=seed)
    keep_random = np.sort(np.random.default_rng(seed).choice(A.shape[1], k, replace=False))
    return {
        "k-DPP": relative_residual(A, W, keep_dpp),
        "random": relative_residual(A, W, keep_random),
    }
