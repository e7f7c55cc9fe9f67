"""Solutions to the coding exercises of notebook 11 (which neurons to keep).

``exercise_1`` takes what the notebook has at hand (activations ``A``, outgoing weights ``W``,
the next layer's bias ``b``, a kept set) and returns what the exercise asks for; its docstring
gives the written part of the answer. ``tests/test_solutions.py`` runs it.
"""

from __future__ import annotations

import numpy as np

import divnet_nb as dn
from divnet_nb.core.objective import fusion_error


def exercise_1(A, W, b, keep) -> dict:
    """E(S) for fusion with an intercept: the same formula with the centred Gram matrix.

    With an intercept each removed vector is fitted by the kept ones plus a constant, so the
    residual is that of the centred vectors v - mean(v) fitted by the centred kept ones: the
    projection onto span(1, A_S) is the mean plus the projection of the centred data onto the
    centred A_S. Their Gram matrix is G - N a a^T (a the column means, N the number of inputs),
    so E(S) = tr(W^T C(S) W) with C(S) the Schur complement of that centred Gram matrix.
    """
    A = np.asarray(A, dtype=np.float64)
    n = A.shape[0]
    means = A.mean(axis=0)
    centred = A.T @ A - n * np.outer(means, means)
    formula = fusion_error(centred, W, keep)
    W_new, b_new = dn.fuse(A, keep, W, b, intercept=True)
    measured = float(np.sum((A[:, keep] @ W_new + b_new - (A @ W + b)) ** 2))
    return {"formula": float(formula), "measured": measured}
