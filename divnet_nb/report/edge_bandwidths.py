"""The bandwidth experiment (:mod:`divnet_nb.experiments.edge_bandwidths`) as tables, verdicts, a figure.

``edge-bandwidths.md``: each bandwidth's kernel (beta, off-diagonal mean, expected DPP
size), the DPP rule's test error beside the baselines, and claim (3)'s verdicts under
each bandwidth. ``edge-bandwidths.png``: left, the spectrum of one unit's kernel under
each bandwidth; right, DPP edge minus magnitude edge (both reweighted; the strongest edge
competitor), paired by network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..datasets import title
from ..experiments.edge_bandwidths import bandwidth_result, bandwidth_verdicts
from ..verdicts import mean_std
from .figures import _curve, save_figure, styled, symlog_axis
from .outputs import write_json, write_text, writes
from .questions import verdict_counts

__all__ = [
    "bandwidths_markdown",
    "bandwidths_summary",
    "plot_bandwidths",
    "save_bandwidths_figure",
    "write_bandwidths",
]

COLORS = {
    "paper": "tab:blue",
    "batch": "tab:orange",
    "centred": "tab:purple",
    "median": "tab:green",
}
MARKERS = {"paper": "o", "batch": "s", "centred": "D", "median": "^"}


def _kernels(result: dict) -> list[str]:
    lines = [
        "| bandwidth | setting | beta (first unit, network 0) | kernel off-diagonal mean "
        "| expected DPP size |",
        "|---|---|---:|---:|---:|",
    ]
    for b, text in result["bandwidths"].items():
        units = [u for net in result["spectra"][b] for u in net]
        off = np.mean([u["offdiagonal_mean"] for u in units])
        size = np.mean([u["expected_size"] for u in units])
        beta = result["spectra"][b][0][0]["beta"]
        text = text.replace("|", "\\|")  # |T| inside a table cell
        lines.append(f"| {b} | {text} | {beta:.3g} | {off:.3f} | {size:.1f} |")
    return lines


def _errors(result: dict, fractions=(0.1, 0.2, 0.5)) -> list[str]:
    fr = result["fractions"]
    cols = [min(range(len(fr)), key=lambda j, f=f: abs(fr[j] - f)) for f in fractions]
    head = " | ".join(f"{fr[j]:.0%} of edges" for j in cols)
    lines = [f"| variant | {head} |", "|---|" + "---:|" * len(cols)]

    def row(label, values):
        mean, std = mean_std(values)
        cells = " | ".join(f"{100 * mean[j]:.2f} ± {100 * std[j]:.2f}" for j in cols)
        lines.append(f"| {label} | {cells} |")

    for b in result["bandwidths"]:
        for key, values in result["dpp"][b].items():
            row(f"{result['dpp_variants'][key]['label']}, {b}", values)
    for key, values in result["test_error"].items():
        row(result["variants"][key]["label"], values)
    return lines


def _counts(rows: list[dict]) -> str:
    return ", ".join(f"{n} {w}" for w, n in verdict_counts(rows).items() if n)


def _verdicts(result: dict) -> list[str]:
    labels = {**result["dpp_variants"], **result["variants"]}
    lines = [
        "| bandwidth | comparison | verdict over every fraction | fractions |",
        "|---|---|---|---|",
    ]
    for b, comparisons in bandwidth_verdicts(result).items():
        for c in comparisons:
            lines.append(
                f"| {b} | {labels[c['a']]['label']} below {labels[c['b']]['label']} "
                f"| **{c['verdict']}** | {_counts(c['rows'])} |"
            )
    return lines


def bandwidths_markdown(result: dict) -> str:
    """The kernels, the errors and the verdicts under each bandwidth."""
    n = len(result["unpruned_test_error"])
    name = title(result["dataset"])
    return "\n".join([
        f"**{name}**, first hidden layer, {n} networks; DPP edge pruning under each "
        "bandwidth of its kernel. The kernels (three units of every network):", "",
        *_kernels(result), "",
        "Test error in % (mean ± std over networks; the baselines do not depend on the "
        "bandwidth):", "",
        *_errors(result), "",
        "Claim (3) under each bandwidth (paired differences over networks, 95 % "
        f"t-intervals, at each of the {len(result['fractions'])} fractions):", "",
        *_verdicts(result),
    ])  # fmt: skip


def bandwidths_summary(result: dict) -> str:
    """The README block: the kernels and the verdicts."""
    n = len(result["unpruned_test_error"])
    return "\n".join([
        f"{title(result['dataset'])}, first hidden layer, {n} networks. The kernels:", "",
        *_kernels(result), "", "Claim (3), under each bandwidth:", "", *_verdicts(result),
    ])  # fmt: skip


@styled
def plot_bandwidths(result: dict, axes=None):
    """Left: network 0's first unit's kernel spectrum per bandwidth. Right: DPP minus magnitude edges (reweighted)."""
    if axes is None:
        import matplotlib.pyplot as plt

        axes = plt.subplots(1, 2, figsize=(12, 4.4))[1]
    left, right = axes
    x = np.asarray(result["parameter_fraction"])
    rival = np.asarray(result["test_error"]["magnitude+rw"], dtype=float)
    for b in result["bandwidths"]:
        unit = result["spectra"][b][0][0]
        color, marker = COLORS.get(b, "black"), MARKERS.get(b, "x")
        left.plot(unit["ranks"], unit["eigenvalues"], color=color, marker=marker, ms=4,
                  label=f"{b} (beta {unit['beta']:.2g})")  # fmt: skip
        diff = np.asarray(bandwidth_result(result, b)["test_error"]["dpp+rw"]) - rival
        _curve(right, x, diff, (color, "-", marker), b)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("rank of the eigenvalue")
    left.set_ylabel("eigenvalue of the edge kernel")
    left.set_title(f"One unit's kernel, {title(result['dataset'])} network 0")
    left.grid(alpha=0.3, which="both")
    left.legend()
    right.axhline(0.0, color="gray", lw=1, ls=":")
    symlog_axis(right)
    right.set_xlabel("fraction of the first layer's parameters kept")
    right.set_ylabel("DPP edge - magnitude edge error\n(both reweighted; paired, symlog)")
    right.set_title("Against the strongest edge rule (below zero: DPP edges better)")
    right.grid(alpha=0.3, which="both")
    right.legend(title="bandwidth")
    return axes


def save_bandwidths_figure(result: dict, path: Path) -> Path:
    """:func:`plot_bandwidths` saved to ``path`` in the shared style."""
    save_figure(lambda axes: plot_bandwidths(result, axes=axes), path, figsize=(12, 4.4), panels=2)
    return path


@writes("edge-bandwidths")
def write_bandwidths(result: dict, folder: Path) -> Path:
    """edge-bandwidths.json, edge-bandwidths.md and edge-bandwidths.png."""
    write_json(result, folder / "edge-bandwidths.json")
    save_bandwidths_figure(result, folder / "edge-bandwidths.png")
    return write_text(bandwidths_markdown(result) + "\n", folder / "edge-bandwidths.md")
