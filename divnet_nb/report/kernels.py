"""The kernel experiment (:mod:`divnet_nb.experiments.kernels`) as tables, verdicts and a figure.

``kernels.md``: for each selector, every kernel's test error (mean ± std over the networks)
at every fraction, with importance + fusion; the paired comparisons against the paper's
kernel and against importance + fusion, with the number of intervals, each interval's own
(uncorrected) verdict and the verdict with Holm's correction over its family; what the
learned kernel chose. ``kernels.png``: one panel per selector.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..datasets import title
from ..experiments.kernels import kernel_comparisons, kernel_entry
from ..verdicts import LEVEL, mean_std
from .figures import log_axis, save_figure, styled
from .outputs import write_json, write_text, writes

__all__ = [
    "KERNEL_STYLES",
    "kernels_markdown",
    "kernels_summary",
    "plot_kernels",
    "save_kernels_figure",
    "write_kernels",
]

#: (colour, marker) of each kernel; the paper's is DivNet's blue.
KERNEL_STYLES = {
    "rbf": ("tab:blue", "o"),
    "linear": ("tab:gray", "s"),
    "cosine": ("tab:orange", "^"),
    "rbf-standardised": ("tab:purple", "D"),
    "rbf-median": ("tab:cyan", "v"),
    "qd": ("tab:pink", "h"),
    "learned": ("tab:red", "*"),
}
SELECTOR_NAMES = {
    "dpp": "one k-DPP sample",
    "greedy-map": "greedy MAP",
    "dpp-best": "likeliest of 20 samples",
}


def _curve(ax, x, values, style, label: str) -> None:
    """Mean over networks with one standard deviation (ddof = 1) as error bars."""
    mean, std = mean_std(values)
    color, ls, marker = style
    yerr = None if np.isnan(std).all() else std
    ax.errorbar(x, mean, yerr=yerr, color=color, ls=ls, marker=marker, ms=4, capsize=3, label=label)


def _cell(values, j: int, best: bool) -> str:
    mean, std = mean_std(values)
    text = f"{mean[j]:.4f}"
    return (f"**{text}**" if best else text) + (f" ± {std[j]:.4f}" if np.isfinite(std[j]) else "")


def _selector_table(result: dict, selector: str) -> list[str]:
    fr = result["fractions"]
    rows = {k: result["test_error"][kernel_entry(k, selector)] for k in result["kernels"]}
    rows["importance + fusion"] = result["importance_test_error"]
    means = {k: mean_std(v)[0] for k, v in rows.items()}
    best = [min(m[j] for m in means.values()) for j in range(len(fr))]
    lines = [
        f"### {SELECTOR_NAMES.get(selector, selector)} (`{selector}`)",
        "",
        "| kernel | " + " | ".join(f"{f:.0%}" for f in fr) + " |",
        "|---|" + "---:|" * len(fr),
    ]
    for k, values in rows.items():
        cells = [_cell(values, j, means[k][j] == best[j]) for j in range(len(fr))]
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return lines


def _family(rows: list[dict], rival: str) -> list[str]:
    against = "the paper's rbf kernel, same selector" if rival == "rbf" else "importance + fusion"
    counts = {v: sum(r["verdict"] == v for r in rows) for v in ("holds", "does not hold")}
    raw = {v: sum(r["uncorrected"] == v for r in rows) for v in ("holds", "does not hold")}
    lines = [
        f"### Below {against}?",
        "",
        f"{len(rows)} intervals in this family. With Holm's correction over all {len(rows)}: "
        f"{counts['holds']} hold, {counts['does not hold']} do not hold, "
        f"{len(rows) - sum(counts.values())} not resolved. Uncorrected (each {LEVEL:.0%} "
        f"interval on its own): {raw['holds']} hold, {raw['does not hold']} do not hold.",
        "",
        "| kernel | selector | kept | difference | interval | uncorrected | Holm p | verdict (Holm) |",
        "|---|---|---:|---:|---|---|---:|---|",
    ]
    for r in rows:
        lo, hi = r["interval"]
        lines.append(
            f"| {r['kernel']} | {r['selector']} | {r['fraction']:.0%} | {r['mean']:+.4f} | "
            f"[{lo:+.4f}, {hi:+.4f}] | {r['uncorrected']} | {r['p_holm']:.3g} | {r['verdict']} |"
        )
    return lines


def _chosen(result: dict) -> list[str]:
    """What the learned kernel chose in the first hidden layer."""
    fr = result["fractions"]
    params = result["kernel_params"]
    lines = []
    learned = params.get("learned", [])
    if learned and any(p for row in learned for p in row):
        lines += [
            "## The learned kernel, first hidden layer (mean over networks)",
            "",
            "| kept | factor c (eq. 2: 10) | exponent a (eq. 2: 0) | held-out objective | eq. 2's |",
            "|---:|---:|---:|---:|---:|",
        ]
        for j, f in enumerate(fr):
            fits = [row[j] for row in learned if row[j]]
            if fits:
                mean = {key: float(np.mean([p[key] for p in fits])) for key in fits[0]}
                lines.append(
                    f"| {f:.0%} | {mean['factor']:.3g} | {mean['exponent']:.3g} | "
                    f"{mean['objective']:.4g} | {mean['default_objective']:.4g} |"
                )
        lines.append("")
    return lines


def _ridged(result: dict) -> str:
    n = result.get("ridged_solves", 0)
    if not n:
        return ""
    return (
        f" Fusion's kept block was singular in {n} pruned layers, solved with a small ridge "
        f"(see `FusionWarning`)."
    )


def kernels_markdown(result: dict) -> str:
    """kernels.md: the tables by selector, the two families of comparisons, the chosen parameters."""
    n = len(result["unpruned_test_error"])
    n_kernel = result["settings"].get("n_kernel")
    lines = [
        f"# Which kernel over neurons? {title(result['dataset'])}",
        "",
        f"Every hidden layer pruned to the fraction by each kernel's k-DPP, each selector, "
        f"followed by fusion; no retraining. Test error, mean ± std over {n} networks "
        f"(ddof = 1), the best of each table in bold. Unpruned networks: "
        f"{np.mean(result['unpruned_test_error']):.4f}. Statistics from "
        f"{'all training inputs' if n_kernel is None else f'{n_kernel} training inputs'}."
        + _ridged(result),
        "",
        "## Test error by selector",
        "",
    ]
    for selector in result["selectors"]:
        lines += _selector_table(result, selector) + [""]
    families = kernel_comparisons(result)
    total = sum(len(rows) for rows in families.values())
    lines += [
        "## Paired comparisons",
        "",
        f"Differences are kernel minus rival on the same networks (negative: the kernel's error "
        f"is lower), with {LEVEL:.0%} t-intervals; {total} intervals in two families. A "
        f"verdict with Holm's correction holds when the adjusted p-value is below "
        f"{1 - LEVEL:.2g} and the difference is negative.",
        "",
    ]
    for rival, rows in families.items():
        lines += _family(rows, rival) + [""]
    lines += _chosen(result)
    return "\n".join(lines).rstrip() + "\n"


def kernels_summary(result: dict) -> str:
    """The README's view: one k-DPP sample's table, and each kernel's verdicts against both rivals.

    A kernel's verdicts are counted over its intervals in each family (every selector and
    fraction), with Holm's correction over the whole family as in ``kernels.md``.
    """
    n = len(result["unpruned_test_error"])
    families = kernel_comparisons(result)
    lines = [
        f"**{title(result['dataset'])}** ({n} networks; unpruned: "
        f"{np.mean(result['unpruned_test_error']):.4f}; every hidden layer pruned to the "
        f"fraction by one sample of each kernel's k-DPP, with fusion; test error, mean ± std; "
        f"the other two selectors are in `kernels.md`):",
        "",
    ] + _selector_table(result, "dpp")[2:]
    lines += [
        "",
        f"Verdicts over every selector and fraction ({len(result['selectors'])} x "
        f"{len(result['fractions'])} intervals per kernel), with Holm's correction over each "
        "family:",
        "",
        "| kernel | below rbf, same selector | below importance + fusion |",
        "|---|---|---|",
    ]
    for kernel in result["kernels"]:
        cells = []
        for rival in ("rbf", "importance"):
            rows = [r for r in families[rival] if r["kernel"] == kernel]
            if not rows:
                cells.append("(the rival itself)")
                continue
            count = {v: sum(r["verdict"] == v for r in rows) for v in ("holds", "does not hold")}
            open_ = len(rows) - sum(count.values())
            cells.append(
                f"{count['holds']} hold, {count['does not hold']} do not, {open_} open "
                f"(of {len(rows)} in a family of {len(families[rival])})"
            )
        lines.append(f"| {kernel} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


@styled
def plot_kernels(result: dict, axes=None):
    """Test error vs fraction kept, one panel per selector, every kernel and importance + fusion."""
    if axes is None:
        import matplotlib.pyplot as plt

        axes = plt.subplots(1, len(result["selectors"]), figsize=(13.0, 4.4))[1]
    fr = result["fractions"]
    for ax, selector in zip(np.atleast_1d(axes), result["selectors"], strict=True):
        for kernel in result["kernels"]:
            color, marker = KERNEL_STYLES.get(kernel, ("black", "x"))
            _curve(ax, fr, result["test_error"][kernel_entry(kernel, selector)],
                   (color, "-", marker), kernel)  # fmt: skip
        _curve(ax, fr, result["importance_test_error"], ("tab:green", "--", "^"),
               "importance + fusion")  # fmt: skip
        ax.axhline(np.mean(result["unpruned_test_error"]), color="gray", lw=1, label="unpruned")
        log_axis(ax)
        ax.set_xlabel("fraction of hidden neurons kept (all layers), with fusion")
        ax.set_title(f"{SELECTOR_NAMES.get(selector, selector)}")
        ax.grid(alpha=0.3, which="both")
    first = np.atleast_1d(axes)[0]
    first.set_ylabel(f"test error (log scale), {title(result['dataset'])}")
    first.legend(ncol=2)
    return axes


def save_kernels_figure(result: dict, path: Path) -> Path:
    """:func:`plot_kernels` saved to ``path`` in the shared style."""
    save_figure(
        lambda axes: plot_kernels(result, axes=axes),
        path,
        figsize=(13.0, 4.4),
        panels=len(result["selectors"]),
    )
    return path


@writes("kernels")
def write_kernels(result: dict, folder: Path) -> Path:
    """kernels.json, kernels.md and kernels.png."""
    write_json(result, folder / "kernels.json")
    save_kernels_figure(result, folder / "kernels.png")
    return write_text(kernels_markdown(result), folder / "kernels.md")
