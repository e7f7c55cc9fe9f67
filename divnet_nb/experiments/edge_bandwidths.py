r"""Claim (3) of the edge work under every bandwidth of the DPP edge kernel.

The ``edges`` experiment decides claim (3), "DPP edge pruning beats the competing
methods", with DivNet's bandwidth :math:`\beta = 10/|\mathcal{T}|`, at which a unit's edge
kernel is close to 1 everywhere (:mod:`divnet_nb.pruning.edge.bandwidth`). This
experiment measures the DPP edge rule under each setting of
:data:`~divnet_nb.pruning.edge.bandwidth.BANDWIDTHS`, on the first hidden layer of the
Table 1 networks and at the ``edges`` experiment's fractions, and decides the claim
under each one against the same competitors:

* part ``net<i>-baselines``: random and magnitude edges (plain and reweighted) and the
  node rules at the matched parameter count, once per network, since no bandwidth
  changes them;
* part ``net<i>-bandwidth-<name>``: the DPP edge rule, plain and reweighted, and the
  spectrum of three units' kernels (the first, middle and last unit).

Every rule draws from the generator keyed by its name (:func:`edge_part`), so each
bandwidth's DPP rule starts from the same random numbers (the bandwidths are compared on
paired draws), and the baselines are the ``edges`` experiment's, number for number. Under
``paper`` the DPP rule is the ``edges`` experiment's too, and gives its numbers when both run
in one environment (a test checks it). Against a reference made elsewhere the DPP rows can
be another draw of the same rule: the committed MNIST ``edges`` reference has the same
random, magnitude and node rows as this experiment's MNIST run, bit for bit, and other DPP
samples (a sample depends on eigenvectors, which the BLAS build and thread count can change
in their last bits).
"""

from __future__ import annotations

import re

import numpy as np

from ..pruning.edge.bandwidth import BANDWIDTHS, BATCH_ROWS
from ..tasks.protocol import register_experiment
from .base import NetworkExperiment
from .edges import EDGE_METHODS, FRACTIONS, NODE_METHODS, edge_comparisons, edge_part, gather_edges

__all__ = [
    "SPECTRUM_RANKS",
    "EdgeBandwidths",
    "bandwidth_part",
    "bandwidth_result",
    "bandwidth_verdicts",
    "kernel_spectrum",
]

#: Eigenvalue ranks (1-based) kept of each unit's kernel spectrum: about geometric, to d.
SPECTRUM_RANKS = (1, 2, 3, 5, 8, 13, 20, 30, 50, 80, 130, 200, 300, 500, 784)

_PART = re.compile(r"net(\d+)-(baselines|bandwidth-(\w+))$")


def kernel_spectrum(edge_data, bandwidth: str, units) -> list[dict]:
    """Each listed unit's edge kernel under ``bandwidth``: beta, off-diagonal mean, eigenvalues.

    The eigenvalues are those at :data:`SPECTRUM_RANKS` (largest first), and
    ``expected_size`` is :math:`\\sum_i \\lambda_i / (1 + \\lambda_i)`, the expected size of the
    (unconstrained) DPP of the kernel: near 1 + d eps when the kernel is nearly constant.
    """
    from ..core.edges import edge_gram, edge_kernel, median_beta
    from ..pruning.edge.bandwidth import kernel_inputs

    G, n_samples, beta = kernel_inputs(edge_data, bandwidth)
    out = []
    for h in units:
        w = edge_data.weights[h]
        used = median_beta(edge_gram(G, w)) if beta == "median" else beta or 10.0 / n_samples
        L = edge_kernel(G, w, n_samples=n_samples, beta=used)
        values = np.linalg.eigvalsh(L)[::-1]
        off = L[np.triu_indices(L.shape[0], 1)]
        ranks = [r for r in SPECTRUM_RANKS if r <= values.size]
        out.append({
            "unit": int(h), "beta": float(used), "offdiagonal_mean": float(off.mean()),
            "offdiagonal_min": float(off.min()),
            "expected_size": float(np.sum(values / (1.0 + values))),
            "ranks": ranks, "eigenvalues": [float(values[r - 1]) for r in ranks],
        })  # fmt: skip
    return out


def bandwidth_part(exp, i: int, part: str) -> dict:
    """Network ``i``'s baselines (``part == "baselines"``) or its DPP edges under bandwidth ``part``."""
    if part == "baselines":
        rules = [m for m in EDGE_METHODS if m != "dpp"]
        return edge_part(exp, i, FRACTIONS, edge_methods=rules, node_methods=NODE_METHODS)
    from ..nets.sites import site_for
    from ..pruning.edge.masks import edge_statistics

    model = exp.model(i)
    rows = BATCH_ROWS if part == "batch" else None
    data = edge_statistics(model, site_for(model, 0), exp.x_kernel, batch_rows=rows)  # read once
    out = edge_part(
        exp, i, FRACTIONS, edge_methods=("dpp",), node_methods=(),
        dpp_options={"bandwidth": part}, edge_data=data,
    )  # fmt: skip
    H = data.n_units
    out["spectrum"] = kernel_spectrum(data, part, (0, H // 2, H - 1))
    return out


def bandwidth_result(result: dict, bandwidth: str) -> dict:
    """The ``edges``-shaped result of one bandwidth: its DPP rule beside the shared baselines."""
    out = {k: v for k, v in result.items() if k not in ("dpp", "spectra", "bandwidths")}
    out["test_error"] = {**result["dpp"][bandwidth], **result["test_error"]}
    out["variants"] = {**result["dpp_variants"], **result["variants"]}
    return out


def bandwidth_verdicts(result: dict) -> dict[str, list[dict]]:
    """Claim (3)'s comparisons (:func:`~divnet_nb.experiments.edges.edge_comparisons`) under each bandwidth."""
    return {b: edge_comparisons(bandwidth_result(result, b)) for b in result["bandwidths"]}


def gather_bandwidths(settings, parts: dict) -> dict:
    n = settings.instances
    base = gather_edges(settings, [parts[f"net{i}-baselines"] for i in range(n)])
    bands = list(BANDWIDTHS)
    per = {b: [parts[f"net{i}-bandwidth-{b}"] for i in range(n)] for b in bands}
    any_band = per[bands[0]]
    dpp_variants = gather_edges(settings, any_band)["variants"]
    return {
        **base,
        "bandwidths": {b: BANDWIDTHS[b] for b in bands},
        "dpp": {b: {k: [p["test_error"][k] for p in per[b]] for k in dpp_variants} for b in bands},
        "dpp_variants": dpp_variants,
        "dpp_seconds": {b: [p["seconds"] for p in per[b]] for b in bands},
        "spectra": {b: [p["spectrum"] for p in per[b]] for b in bands},
    }


@register_experiment
class EdgeBandwidths(NetworkExperiment):
    """Claim (3) of DPP edge pruning decided under each bandwidth of its kernel."""

    name = "edge-bandwidths"
    help = "DPP edge pruning under each bandwidth of its kernel, against the same competitors"
    description = (
        "Prune the first hidden layer's incoming edges with the DPP edge rule under each "
        "bandwidth (paper: beta = 10/|T|; batch: beta = 0.3 on 1000 inputs; centred: "
        "contributions of centred inputs; median: per unit, 1 / the median squared distance), "
        "plain and reweighted, against random and magnitude edges and node pruning at the "
        "same parameter count; decide claim (3) under each; write edge-bandwidths.json, .md "
        "and .png. Resumable like reproduce."
    )
    file_stem = "edge-bandwidths"

    def phases(self, settings) -> list[list[str]]:
        n = settings.instances
        measured = [f"net{i}-baselines" for i in range(n)]
        measured += [f"net{i}-bandwidth-{b}" for i in range(n) for b in BANDWIDTHS]
        return [self.training_phase(settings), measured]

    def measure(self, exp, key: str):
        m = _PART.match(key)
        if m is None or (m[3] is not None and m[3] not in BANDWIDTHS):
            raise ValueError(f"no part {key!r} in edge-bandwidths")
        return bandwidth_part(exp, int(m[1]), m[3] or "baselines")

    def gather(self, settings, parts: dict) -> dict:
        return gather_bandwidths(settings, parts)

    def describe_reference(self, result: dict) -> str:
        n = len(result["unpruned_test_error"])
        return f"{n} networks, bandwidths {', '.join(result['bandwidths'])}"
