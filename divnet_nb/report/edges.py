"""The edge-pruning experiment as a figure and as markdown (:mod:`divnet_nb.experiments.edges`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..datasets import title
from ..experiments.edges import edge_comparisons, summary_table
from ..verdicts import mean_std
from .figures import log_axis, save_figure, styled
from .outputs import write_json, write_text, writes

__all__ = ["plot_edges", "edges_markdown", "write_edges"]


@styled
def plot_edges(result: dict, ax=None):
    """Test error vs the fraction of first-layer parameters (W1 and W2) kept: every variant, mean ± std."""
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.subplots(figsize=(7.2, 4.6))[1]
    x = np.asarray(result["parameter_fraction"])
    for key, values in result["test_error"].items():
        style = result["variants"][key]
        mean, std = mean_std(values)
        yerr = None if np.isnan(std).all() else std
        ax.errorbar(x, mean, yerr=yerr, color=style["color"], ls=style["linestyle"],
                    marker=style["marker"], ms=4, capsize=3, label=style["label"])  # fmt: skip
    ax.axhline(np.mean(result["unpruned_test_error"]), color="gray", lw=1, label="unpruned")
    log_axis(ax)
    ax.set_xlabel(
        f"fraction of the first layer's parameters kept (W1 + W2; d = {result['d']}, "
        f"H = {result['H']}, H' = {result['H_next']})"
    )
    ax.set_ylabel("test error (log scale)")
    n = len(result["unpruned_test_error"])
    ax.set_title(
        f"Edge vs node pruning of the first layer, {title(result['dataset'])} "
        f"({n} network{'s' if n > 1 else ''}, no retraining)"
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend(ncol=2)
    return ax


def _pct(value: float) -> str:
    return f"{100 * value:.2f}"


def edges_markdown(result: dict, fractions=(0.2, 0.5), *, every_fraction: bool = True) -> str:
    """A table at the given edge fractions (mean ± std of the test error, %) and claim (3)'s verdicts.

    The verdict of each comparison is over every measured fraction; its per-fraction
    differences are listed for every fraction, or (``every_fraction=False``) for the
    table's fractions only.
    """
    n = len(result["unpruned_test_error"])
    unpruned = float(np.mean(result["unpruned_test_error"]))
    fr = result["fractions"]
    cols = [min(range(len(fr)), key=lambda j, f=f: abs(fr[j] - f)) for f in fractions]
    head = " | ".join(
        f"{fr[j]:.0%} of edges ({result['k'][j]} per unit; nodes: {result['matched_nodes'][j]})"
        for j in cols
    )
    lines = [
        f"**{title(result['dataset'])}**, first hidden layer ({n} network{'s' if n > 1 else ''}; "
        f"unpruned test error {_pct(unpruned)} %; test error in %"
        + (", mean ± std):" if n > 1 else "; one network, so no spread and no interval):"),
        "",
        f"| variant | {head} |",
        "|---|" + "---|" * len(cols),
    ]
    for row in summary_table(result, [fr[j] for j in cols]):
        cells = " | ".join(
            _pct(row[fr[j]][0]) + (f" ± {_pct(row[fr[j]][1])}" if n > 1 else "") for j in cols
        )
        lines.append(f"| {row['label']} | {cells} |")
    shown = fr if every_fraction else [fr[j] for j in cols]
    labels = {k: v["label"] for k, v in result["variants"].items()}
    if n == 1:  # a difference, but no interval: no verdict either
        lines += ["", "Claim (3), DPP edge pruning against each competitor on one network: "
                  "the differences in points (negative: DPP edge lower). One network gives no "
                  "interval, so no verdict is drawn:", ""]  # fmt: skip
        for c in edge_comparisons(result):
            per = "; ".join(
                f"{r['fraction']:.0%}: {100 * r['difference']:+.2f}"
                for r in c["rows"]
                if r["fraction"] in shown
            )
            lines.append(f"- {labels[c['a']]} minus {labels[c['b']]}: {per}.")
        return "\n".join(lines)
    lines += ["", "Claim (3), DPP edge pruning below each competitor (verdict over the "
              f"{len(fr)} measured fractions {fr[0]:.0%}-{fr[-1]:.0%}; paired differences in points with 95 % t-intervals at "
              + ("each fraction of edges kept" if every_fraction else
                 ", ".join(f"{f:.0%}" for f in shown)) + "):", ""]  # fmt: skip
    for c in edge_comparisons(result):
        per = "; ".join(
            f"{r['fraction']:.0%}: {100 * r['difference']:+.2f} "
            + (f"[{100 * r['low']:+.2f}, {100 * r['high']:+.2f}] " if np.isfinite(r["low"]) else "")
            + r["verdict"]
            for r in c["rows"]
            if r["fraction"] in shown
        )
        lines.append(f"- {labels[c['a']]} below {labels[c['b']]}: **{c['verdict']}** ({per}).")
    return "\n".join(lines)


@writes("edges")
def write_edges(result: dict, folder: Path) -> Path:
    """edges.json, edges.md and edges.png."""
    write_json(result, folder / "edges.json")
    save_figure(lambda ax: plot_edges(result, ax=ax), folder / "edges.png", figsize=(7.2, 4.6))
    return write_text(edges_markdown(result) + "\n", folder / "edges.md")
