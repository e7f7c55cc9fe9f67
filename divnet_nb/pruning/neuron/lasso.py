r"""He et al. (2017)'s channel selection by LASSO, computed from a layer's statistics.

He, Zhang & Sun, "Channel Pruning for Accelerating Very Deep Neural Networks" (ICCV 2017),
choose the channels of a layer by a LASSO regression on the consumer's output: each
channel c contributes :math:`Z_c` to it, and they solve

.. math:: \min_\beta \Big\lVert Y - \sum_c \beta_c Z_c \Big\rVert_F^2 + \lambda \lVert\beta\rVert_1,
          \qquad Y = \sum_c Z_c,

raising :math:`\lambda` until only the wanted number of :math:`\beta_c` are nonzero (they
then refit the consumer by least squares; here fusion, eqs. 3-4, does that step).

In the layout every rule reads (one row per sample, or per sample and position, and the
outgoing weights ``W`` with one row per unit), channel c's contribution is the outer
product :math:`Z_c = a_c w_c^\top`, so every inner product the LASSO needs is already in
the statistics:

.. math:: \langle Z_c, Z_d \rangle = G_{cd}\,(W W^\top)_{cd} =: Q_{cd}, \qquad
          \lVert Y - Z\beta \rVert_F^2 = (\mathbf 1 - \beta)^\top Q\, (\mathbf 1 - \beta).

:math:`Q` is positive semi-definite (a Hadamard product of two Gram matrices), so with
:math:`Q = R^\top R` the problem is an ordinary LASSO with design :math:`R` and target
:math:`R\mathbf 1`, solved along its regularisation path by scikit-learn
(:func:`sklearn.linear_model.lasso_path`). The rule keeps the k units of largest
:math:`|\beta_c|` at the largest :math:`\lambda` where at least k are nonzero.

For a conv -> conv site this is the tap-wise reading of the consumer (each input position's
contribution to each tap of each output channel), the same reading the fusion objective
E(S) uses; it coincides with He et al.'s output reconstruction where the consumer reads
each position once (1x1 kernels, or a dense consumer with one position).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..registry import register_method

if TYPE_CHECKING:
    from .layer_data import LayerData

__all__ = ["lasso_path_weights"]

#: Regularisation strengths on the path (log-spaced, largest first).
N_ALPHAS = 80
#: Smallest strength on the path, relative to the largest.
ALPHA_RATIO = 1e-5


def lasso_path_weights(gram: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The LASSO path of He et al.'s channel weights beta: ``(alphas, betas)``, betas (units, alphas)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import lasso_path

    Q = np.asarray(gram, dtype=np.float64) * (weights @ weights.T)
    Q = (Q + Q.T) / 2.0
    n = Q.shape[0]
    scale = np.trace(Q) / n
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError("the layer's units contribute nothing to the next layer (Q = 0)")
    Q /= scale
    values, vectors = np.linalg.eigh(Q)
    R = np.sqrt(np.clip(values, 0.0, None))[:, None] * vectors.T  # Q = R^T R
    Xy = Q.sum(axis=1)  # R^T (R 1)
    # scikit-learn's objective is ||y - R beta||^2 / (2 n) + alpha |beta|_1: beta = 0 for alpha >= max|Xy| / n
    alphas = np.abs(Xy).max() / n * np.logspace(0.0, np.log10(ALPHA_RATIO), N_ALPHAS)
    with warnings.catch_warnings():
        # the weakest strengths may stop short of full convergence; the ranking they give
        # is what the rule reads, and it is the same on every run
        warnings.simplefilter("ignore", ConvergenceWarning)
        alphas, betas, _ = lasso_path(R, R.sum(axis=1), alphas=alphas, precompute=Q, Xy=Xy)
    return alphas, betas


@register_method(
    "lasso",
    "neuron",
    label="LASSO (He et al. 2017)",
    color="darkorange",
    marker="P",
    needs=("weights",),
)
def lasso(data: LayerData, k: int, rng) -> np.ndarray:
    """He et al. (2017)'s LASSO channel selection on the consumer's reconstruction, from G and W."""
    _, betas = data.cached("lasso", lambda: lasso_path_weights(data.gram, data.weights))
    nonzero = (betas != 0).sum(axis=0)
    reached = np.flatnonzero(nonzero >= k)
    beta = np.abs(betas[:, reached[0] if reached.size else -1])
    order = np.lexsort((-np.diag(data.gram), -beta))  # largest |beta|, ties by activation energy
    return np.sort(order[:k])
