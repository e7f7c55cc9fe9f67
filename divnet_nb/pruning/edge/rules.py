r"""The ``edge`` rules: which incoming weights of each unit to keep (Acharyya et al.'s DPP edge pruning and two baselines).

===============  ==========================================================================
``"dpp"``        a k-DPP over each unit's d incoming edges with DivNet's RBF kernel over the
                 edges' contributions :math:`C_a = X_{\cdot a} w_{ah}`
                 (:mod:`divnet_nb.core.edges`; options ``bandwidth``
                 (:mod:`~divnet_nb.pruning.edge.bandwidth`, default ``"paper"``: beta =
                 10 / |T|), ``beta`` and ``eps`` (0.01)); one eigendecomposition per unit
                 serves every size
``"random"``     exactly k edges per unit, uniformly at random
``"magnitude"``  the k incoming weights of largest :math:`|w_{ah}|` per unit (ties: lower
                 input index first)
===============  ==========================================================================

An edge rule is called as ``f(edge_data, sizes, rng, **options)`` with the sizes sorted
and distinct, and returns ``{k: mask}``, each mask boolean of shape (units, d) with
exactly k True per row: a sweep over sizes then costs one pass of the rule's expensive
part (for ``"dpp"``, the eigendecompositions). With reweighting (the edge counterpart of
fusion, :func:`divnet_nb.core.edges.reweight_edge_weights`) they are the six variants of
the edge experiments.

Registering these rules needs neither torch nor the numerical core; the work is imported
inside the rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..registry import register_method

if TYPE_CHECKING:  # pragma: no cover
    from .masks import EdgeData

__all__ = ["dpp_edges", "random_edges", "magnitude_edges"]


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Mask of the k largest scores of every row (stable: ties go to the lower index)."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    mask = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=1)
    return mask


@register_method(
    "dpp", "edge", label="DPP edge", color="tab:blue", marker="o",
    options=("beta", "eps", "progress", "bandwidth"), fused_label="DPP edge + reweighting",
)  # fmt: skip
def dpp_edges(
    edge_data: EdgeData, sizes, rng, *, beta=None, eps=None, progress=None, bandwidth="paper"
):
    """A k-DPP over each unit's incoming edges (DivNet's kernel over the edges' contributions).

    ``bandwidth`` chooses the contributions and beta of the kernel
    (:mod:`~divnet_nb.pruning.edge.bandwidth`); ``beta`` overrides its beta.
    """
    from ...core.constants import DEFAULT_EPS
    from ...core.edges import dpp_edge_masks
    from .bandwidth import kernel_inputs

    G, n_samples, beta = kernel_inputs(edge_data, bandwidth, beta)
    return dpp_edge_masks(
        G,
        edge_data.weights,
        sizes,
        rng,
        n_samples=n_samples,
        beta=beta,
        eps=DEFAULT_EPS if eps is None else eps,
        progress=progress,
    )


@register_method(
    "random", "edge", label="random edge", color="tab:orange", marker="s",
    fused_label="random edge + reweighting",
)  # fmt: skip
def random_edges(edge_data: EdgeData, sizes, rng):
    """Exactly k incoming edges per unit, uniformly at random (one draw per size)."""
    shape = (edge_data.n_units, edge_data.n_inputs)
    return {k: _top(rng.random(shape), k) for k in sizes}


@register_method(
    "magnitude", "edge", label="magnitude edge", color="tab:green", marker="^",
    fused_label="magnitude edge + reweighting",
)  # fmt: skip
def magnitude_edges(edge_data: EdgeData, sizes, rng):
    """The k incoming weights of largest magnitude per unit."""
    scores = np.abs(edge_data.weights)
    return {k: _top(scores, k) for k in sizes}
