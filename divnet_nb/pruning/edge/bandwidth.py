r"""Bandwidths of the DPP edge kernel: which contributions, and which beta, the kernel is built on.

DivNet's bandwidth, :math:`\beta = 10 / |\mathcal{T}|`, was chosen for neurons' activation
vectors, whose entries are of order 1. An edge's contribution :math:`C_a = X_{\cdot a}
w_{ah}` is smaller by its weight (of order 0.05 in the first layer of a trained MNIST
network), so every squared distance is hundreds of times smaller and the kernel
:math:`\exp(-\beta \lVert C_a - C_b \rVert^2)` stays close to 1 everywhere: the k-DPP
then sees almost no structure. The settings below span the ones the edge work used and
two that adapt to the data:

=============  =============================================================================
``paper``      DivNet's :math:`\beta = 10 / |\mathcal{T}|` on the contributions over every
               kernel input (this project's setting until now)
``batch``      :math:`\beta = 0.3` on the contributions over the first :data:`BATCH_ROWS`
               kernel inputs (the default of the edge work's first public MNIST script)
``centred``    :math:`\beta = 10 / |\mathcal{T}|` on the contributions of centred inputs,
               :math:`(x_a - c)\, w_{ah}` with c the inputs' mean value (0.1307 on MNIST):
               the edge work's later public scripts, which standardise the inputs as
               (x - 0.1307) / 0.3081, written for a network trained on x in [0, 1]
``median``     per unit, :math:`\beta_h = 1 /` the median squared distance between its
               edges' contributions (:func:`divnet_nb.core.edges.median_beta`)
=============  =============================================================================

Only the selection changes: reweighting (:func:`~divnet_nb.pruning.edge.masks.reweight_edges`)
always solves on the inputs the layer really receives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .masks import EdgeData

__all__ = ["BANDWIDTHS", "BATCH_BETA", "BATCH_ROWS", "kernel_inputs"]

#: Each bandwidth's one-line description (for reports and ``--help``).
BANDWIDTHS = {
    "paper": "beta = 10/|T| on every kernel input's contribution (DivNet's)",
    "batch": "beta = 0.3 on the first 1000 kernel inputs (the edge work's first script)",
    "centred": "beta = 10/|T| on contributions of centred inputs (the edge work's later scripts)",
    "median": "per unit, 1 / the median squared distance between its edges' contributions",
}
#: The ``batch`` setting: rows of the kernel data, and its fixed beta.
BATCH_ROWS = 1000
BATCH_BETA = 0.3


def check_bandwidth(bandwidth: str) -> str:
    """``bandwidth`` if it names one of :data:`BANDWIDTHS`; a ``ValueError`` otherwise."""
    if bandwidth not in BANDWIDTHS:
        raise ValueError(f"bandwidth must be one of {', '.join(BANDWIDTHS)}; got {bandwidth!r}")
    return bandwidth


def kernel_inputs(edge_data: EdgeData, bandwidth: str, beta=None) -> tuple[np.ndarray, int, object]:
    """The input Gram matrix, its row count and the beta a bandwidth builds the edge kernel from.

    Parameters
    ----------
    edge_data : EdgeData
        The layer's statistics; ``batch`` needs ``edge_data.batch`` (read with
        ``edge_statistics(..., batch_rows=BATCH_ROWS)``).
    bandwidth : str
        One of :data:`BANDWIDTHS`.
    beta : float, optional
        Overrides the setting's beta (not with ``median``, whose beta is per unit).

    Returns
    -------
    (G, n_samples, beta)
        For :func:`divnet_nb.core.edges.dpp_edge_masks`; beta may be None (10 / n_samples)
        or ``"median"``.
    """
    from ...core.edges import shifted_gram

    check_bandwidth(bandwidth)
    stats = edge_data.stats
    if bandwidth == "median":
        if beta is not None:
            raise ValueError("the median bandwidth sets beta per unit; do not pass beta with it")
        return stats.gram, stats.n_samples, "median"
    if bandwidth == "batch":
        if edge_data.batch is None:
            raise ValueError(
                "the batch bandwidth needs the statistics of a batch of inputs: "
                f"read them with edge_statistics(..., batch_rows={BATCH_ROWS})"
            )
        return edge_data.batch.gram, edge_data.batch.n_samples, BATCH_BETA if beta is None else beta
    if bandwidth == "centred":
        sums = stats.sums
        mean = float(sums.sum() / (stats.n_samples * sums.shape[0]))
        return shifted_gram(stats.gram, sums, stats.n_samples, mean), stats.n_samples, beta
    return stats.gram, stats.n_samples, beta
