"""The size experiment (:mod:`divnet_nb.experiments.sizes`) as tables, verdicts and a figure.

``sizes.md``: for each tolerance, the sizes each rule chose per layer and the test error,
beside DivNet's k-DPP at the same sizes and at a shared budget of the same total; the
paired comparisons with their number, uncorrected verdicts and Holm's correction.
``sizes.png``: test error against the hidden neurons kept, one panel per rule, every
network a point.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..datasets import title
from ..experiments.sizes import FIXED, entry, size_comparisons
from ..verdicts import LEVEL, mean_std
from .figures import log_axis, save_figure, styled
from .outputs import write_json, write_text, writes

__all__ = [
    "plot_sizes",
    "save_sizes_figure",
    "sizes_markdown",
    "sizes_summary",
    "write_sizes",
]

RULE_NAMES = {
    "dpp-sized": "one sample of the DPP (`dpp-sized`)",
    "map-sized": "the DPP's greedy mode (`map-sized`)",
}
RIVAL_NAMES = {
    None: "the rule's own choice",
    "k-dpp": "k-DPP at the same sizes",
    "uniform": "fixed size, same fraction per layer, same total",
    "budget": "fixed size, shared budget, same total",
}
SIZES_OF = {
    "k-dpp": "{rule}'s",
    "uniform": "one fraction per layer, {rule}'s total",
    "budget": "a shared budget, {rule}'s total",
}
#: (colour, marker) of each row of a panel.
STYLES = {
    None: ("darkviolet", "P"),
    "k-dpp": ("tab:blue", "o"),
    "uniform": ("tab:orange", "^"),
    "budget": ("tab:green", "s"),
}


def _sizes_cell(rows, t: int) -> str:
    """Mean kept per layer over the networks (min-max when they differ)."""
    arr = np.asarray([r[t] for r in rows])
    cells = []
    for col in arr.T:
        lo, hi = int(col.min()), int(col.max())
        cells.append(f"{col.mean():.0f}" + (f" ({lo}-{hi})" if lo != hi else ""))
    return " / ".join(cells)


def _table(result: dict, t: int) -> list[str]:
    widths = " / ".join(str(w) for w in result["widths"])
    lines = [
        f"| selection | sizes | kept per layer (of {widths}) | kept in all | test error |",
        "|---|---|---|---:|---|",
    ]
    for rule in result["rules"]:
        for rival in (None, *result["rivals"]):
            key = entry(rule, rival)
            sizes = result["sizes"][key]
            total = np.mean([sum(r[t]) for r in sizes])
            mean, std = mean_std(np.asarray(result["test_error"][key])[:, [t]])
            spread = f" ± {std[0]:.4f}" if np.isfinite(std[0]) else ""
            who = rule if rival is None else "dpp" if rival == "k-dpp" else FIXED[rule]
            whose = "its own" if rival is None else SIZES_OF[rival]
            lines.append(
                f"| {who} | {whose.format(rule=rule)} | {_sizes_cell(sizes, t)} | {total:.0f} | "
                f"{mean[0]:.4f}{spread} |"
            )
    return lines


def _verdicts(rows: list[dict]) -> list[str]:
    counts = {v: sum(r["verdict"] == v for r in rows) for v in ("holds", "does not hold")}
    raw = {v: sum(r["uncorrected"] == v for r in rows) for v in ("holds", "does not hold")}
    lines = [
        f"{len(rows)} intervals, one family. With Holm's correction over all {len(rows)}: "
        f"{counts['holds']} hold, {counts['does not hold']} do not hold, "
        f"{len(rows) - sum(counts.values())} not resolved. Uncorrected (each {LEVEL:.0%} "
        f"interval on its own): {raw['holds']} hold, {raw['does not hold']} do not hold.",
        "",
        "| rule | below | tolerance | difference | interval | uncorrected | Holm p | verdict (Holm) |",
        "|---|---|---:|---:|---|---|---:|---|",
    ]
    for r in rows:
        lo, hi = r["interval"]
        lines.append(
            f"| {r['rule']} | {RIVAL_NAMES[r['rival']]} | {r['tolerance']:.0%} | {r['mean']:+.4f} | "
            f"[{lo:+.4f}, {hi:+.4f}] | {r['uncorrected']} | {r['p_holm']:.3g} | {r['verdict']} |"
        )
    return lines


def sizes_markdown(result: dict) -> str:
    """sizes.md: per tolerance the sizes and errors of every row, then the paired verdicts."""
    n = len(result["unpruned_test_error"])
    lines = [
        f"# Can the DPP choose the layer's size? {title(result['dataset'])}",
        "",
        "Every hidden layer, first to last, pruned by a rule that chooses its size: a DPP "
        "whose kernel is scaled by the smallest factor that loses at most the tolerance of the "
        "next layer's input energy (E(S) / tr(W^T G W)). Beside it: DivNet's k-DPP given the "
        "same sizes (for the DPP sample, a check: a DPP sample of size k is a k-DPP sample); "
        "and the rule's fixed-size counterpart (k-DPP sample for `dpp-sized`, greedy MAP for "
        "`map-sized`) given the same total, split as one fraction of every layer or by a "
        f"budget shared across layers. All fused, no retraining. Test error, mean ± std over "
        f"{n} networks (ddof = 1); unpruned: {np.mean(result['unpruned_test_error']):.4f}.",
        "",
    ]
    for t, tolerance in enumerate(result["tolerances"]):
        lines += [f"## Tolerance {tolerance:.0%}", ""] + _table(result, t) + [""]
    lines += [
        "## Paired comparisons",
        "",
        f"Differences are the rule minus the rival on the same networks (negative: the rule's "
        f"own sizes or selection do better), with {LEVEL:.0%} t-intervals.",
        "",
    ] + _verdicts(size_comparisons(result))
    return "\n".join(lines).rstrip() + "\n"


def sizes_summary(result: dict) -> str:
    """The README's view: the sizes and errors at each tolerance, and the verdict counts."""
    rows = size_comparisons(result)
    n = len(result["unpruned_test_error"])
    lines = [
        f"**{title(result['dataset'])}** ({n} networks; unpruned: "
        f"{np.mean(result['unpruned_test_error']):.4f}):",
        "",
    ]
    for t, tolerance in enumerate(result["tolerances"]):
        lines += [f"Tolerance {tolerance:.0%}:", ""] + _table(result, t) + [""]
    holds = [r for r in rows if r["verdict"] == "holds"]
    fails = [r for r in rows if r["verdict"] == "does not hold"]
    lines.append(
        f"Of {len(rows)} paired comparisons (Holm): {len(holds)} hold, {len(fails)} do not "
        f"hold, {len(rows) - len(holds) - len(fails)} not resolved."
    )
    return "\n".join(lines)


@styled
def plot_sizes(result: dict, axes=None):
    """Test error against the hidden neurons kept, one panel per rule, every network a point."""
    if axes is None:
        import matplotlib.pyplot as plt

        axes = plt.subplots(1, len(result["rules"]), figsize=(11.0, 4.4), sharey=True)[1]
    fills = ["full", "none", "left", "right"]
    for ax, rule in zip(np.atleast_1d(axes), result["rules"], strict=True):
        for rival in (None, *result["rivals"]):
            key = entry(rule, rival)
            color, marker = STYLES[rival]
            for t, tolerance in enumerate(result["tolerances"]):
                kept = [sum(r[t]) for r in result["sizes"][key]]
                errors = [e[t] for e in result["test_error"][key]]
                label = f"{RIVAL_NAMES[rival]}, {tolerance:.0%}"
                ax.plot(kept, errors, ls="none", marker=marker, color=color, ms=6,
                        fillstyle=fills[t % len(fills)], label=label)  # fmt: skip
        ax.axhline(np.mean(result["unpruned_test_error"]), color="gray", lw=1, label="unpruned")
        log_axis(ax)
        ax.set_xlabel("hidden neurons kept (all layers), with fusion")
        ax.set_title(RULE_NAMES.get(rule, rule).replace("`", ""))
        ax.grid(alpha=0.3, which="both")
    first = np.atleast_1d(axes)[0]
    first.set_ylabel(f"test error (log scale), {title(result['dataset'])}")
    first.legend(fontsize="small")
    return axes


def save_sizes_figure(result: dict, path: Path) -> Path:
    """:func:`plot_sizes` saved to ``path`` in the shared style."""
    save_figure(
        lambda axes: plot_sizes(result, axes=axes),
        path,
        figsize=(11.0, 4.4),
        panels=len(result["rules"]),
    )
    return path


@writes("sizes")
def write_sizes(result: dict, folder: Path) -> Path:
    """sizes.json, sizes.md and sizes.png."""
    write_json(result, folder / "sizes.json")
    save_sizes_figure(result, folder / "sizes.png")
    return write_text(sizes_markdown(result), folder / "sizes.md")
