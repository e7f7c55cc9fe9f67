"""Solutions to the coding exercises of notebook 12 (the teacher-student theory).

``exercise_2`` takes what the notebook has at hand (the trained student ``W``, ``v``, the teacher
``W_star``, ``v_star``, the inputs ``X_fit``) and returns what the exercise asks for; its
docstring gives the written part of the answer. ``tests/test_solutions.py`` runs it on a student
built with sign-flipped copies.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

import divnet_nb as dn
from divnet_nb.theory import node_masks, pruned_error


def sign_aware_kernel(W, v, X) -> np.ndarray:
    """DivNet's RBF kernel over the activation vectors g(lambda_k) multiplied by sign(v_k)."""
    acts = erf(np.asarray(X) @ np.asarray(W).T / math.sqrt(2 * W.shape[1]))  # g(lambda), P x K
    return dn.rbf_kernel(acts * np.sign(v)[None, :])


def exercise_2(W, v, W_star, v_star, X, k: int, n_masks: int = 200, seed: int = 0) -> dict:
    """Mean exact error of k-unit node prunes by the sign-aware RBF k-DPP, DivNet's RBF k-DPP and random.

    A sign-flipped copy (-w, -v) computes exactly what (w, v) computes, but its activation
    vector g(lambda) is the negative of its twin's: the plain RBF kernel sees the two as far
    apart and happily keeps both. Multiplying each activation vector by sign(v_k) makes the
    copy's signed vector equal to its twin's, so the kernel sees them as the duplicates they
    are and the k-DPP rarely keeps both: claim 1-rbf then holds where claim 1 (the linear
    kernel, which is sign-blind by construction) holds.
    """
    rng = np.random.default_rng(seed)
    eig = dn.eigendecompose(sign_aware_kernel(W, v, X))
    out = {}
    masks = {"sign-aware rbf": []}
    for _ in range(n_masks):
        mask = np.zeros(len(v), dtype=bool)
        mask[dn.sample_kdpp(eig, k, rng)] = True
        masks["sign-aware rbf"].append(mask)
    for rule in ("dpp-rbf", "random"):
        masks[rule] = list(node_masks(W, v, k, rule, n_masks=n_masks, X=X, rng=rng))
    for name, drawn in masks.items():
        out[name] = float(np.mean([pruned_error(W, v, W_star, v_star, node_mask=m) for m in drawn]))
    return out
