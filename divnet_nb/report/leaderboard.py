"""The leaderboard (:mod:`divnet_nb.experiments.leaderboard`) as tables and a figure.

:func:`leaderboard_markdown` writes ``leaderboard.md``: every entry's test error (mean ± std over the
networks), the declared contenders against importance + fusion and DivNet on paired
intervals, and the first layer's relative fusion error of each rule's selection.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..experiments.leaderboard import comparisons
from ..verdicts import LEVEL, mean_std
from .figures import plot_leaderboard, save_figure
from .outputs import write_json, write_text, writes

__all__ = [
    "entry_name",
    "table_lines",
    "leaderboard_markdown",
    "fusion_table",
    "labels_of",
    "write_leaderboard",
]


def entry_name(key: str, labels: dict) -> str:
    """How an entry reads in a table: the rule's label, "+ fusion", and its options."""
    method, _, extra = key.partition(" | ")
    return labels.get(method, method) + " + fusion" + (f" ({extra})" if extra else "")


def table_lines(board: dict, keys, labels: dict) -> list[str]:
    """Markdown rows of ``keys``: test error mean ± std per fraction, the best of all entries in bold."""
    fr = board["fractions"]
    stats = {k: mean_std(board["test_error"][k]) for k in board["test_error"]}
    best = [min(stats[k][0][j] for k in stats) for j in range(len(fr))]
    lines = ["| rule | " + " | ".join(f"{f:.0%}" for f in fr) + " |", "|---|" + "---:|" * len(fr)]
    for k in keys:
        m, s = stats[k]
        cells = [
            (f"**{m[j]:.4f}**" if m[j] == best[j] else f"{m[j]:.4f}") + f" ± {s[j]:.4f}"
            for j in range(len(fr))
        ]
        lines.append(f"| {entry_name(k, labels)} | " + " | ".join(cells) + " |")
    return lines


def leaderboard_markdown(board: dict, labels: dict) -> str:
    """leaderboard.md: the table (mean ± std over networks), the paired comparisons, the first layer's E."""

    fr = board["fractions"]
    keys = list(board["test_error"])
    n = len(board["unpruned_test_error"])
    second = 1 if len(fr) > 1 else 0
    order = sorted(keys, key=lambda k: mean_std(board["test_error"][k])[0][second])
    unpruned = np.mean(board["unpruned_test_error"])
    n_kernel = board["settings"].get("n_kernel")
    lines = [
        f"# Which neurons should we keep? {board['dataset']}",
        "",
        f"Every hidden layer pruned to the fraction, each rule followed by fusion, no "
        f"retraining; test error, mean ± std over {n} networks (ddof = 1), best in bold; rows "
        f"sorted by the second column. Unpruned networks: {unpruned:.4f}. *allocated*: the "
        f"same total split between layers by relative fusion error; *original*: deeper "
        f"layers fused towards the original network's next-layer input. Statistics (kernel, "
        f"fusion, objective) from "
        f"{'all training inputs' if n_kernel is None else f'{n_kernel} training inputs'}"
        + (
            f"; the k-DPP's kernel: {board['settings']['kernel']} (the paper's: rbf)."
            if "kernel" in board["settings"]
            else "."
        ),
        "",
        *table_lines(board, order, labels),
    ]
    lines += [
        "",
        f"## Two contenders, declared before measuring, against importance + fusion and "
        f"DivNet (paired differences, {LEVEL:.0%} t-intervals)",
        "",
    ]
    found = comparisons(board)
    lines += [
        f"Each interval stands on its own ({len(found)} of them, no correction for multiplicity: "
        f"at {LEVEL:.0%}, about one in {round(1 / (1 - LEVEL))} could miss its true difference by "
        f"chance).",
        "",
        "| kept | contender | against | difference | interval | the contender is lower |",
        "|---:|---|---|---:|---|---|",
    ]
    for c in found:
        rival = "importance + fusion" if c["rival"] == "importance" else "DivNet"
        lo, hi = c["interval"]
        lines.append(
            f"| {c['fraction']:.0%} | {entry_name(c['best'], labels)} | {rival} | {c['mean']:+.4f} | "
            f"[{lo:+.4f}, {hi:+.4f}] | {c['verdict']} |"
        )
    rel = {k: np.mean(board["relative_E_layer1"][k], axis=0) for k in keys if " | " not in k}
    lines += [
        "",
        "## First hidden layer: relative fusion error E(S) / tr(W^T G W) of each rule's selection",
        "",
        "| rule | " + " | ".join(f"{f:.0%}" for f in fr) + " |",
        "|---|" + "---:|" * len(fr),
    ]
    for k in sorted(rel, key=lambda k: rel[k][1] if len(fr) > 1 else rel[k][0]):
        lines.append(
            f"| {entry_name(k, labels)} | " + " | ".join(f"{v:.4f}" for v in rel[k]) + " |"
        )
    return "\n".join(lines) + "\n"


def fusion_table(result: dict, labels: dict) -> str:
    """Markdown: one row per rule and setting, test error mean ± std (ddof = 1) per fraction."""
    fr = result["fractions"]
    lines = [
        "| rule | fusion | " + " | ".join(f"{f:.0%}" for f in fr) + " |",
        "|---|---|" + "---:|" * len(fr),
    ]
    methods = list(next(iter(result["test_error"].values())))
    for m in methods:
        for name, per_method in result["test_error"].items():
            mean, std = mean_std(per_method[m])
            cells = " | ".join(f"{a:.4f} ± {s:.4f}" for a, s in zip(mean, std, strict=True))
            lines.append(f"| {labels.get(m, m)} | {name} | {cells} |")
    return "\n".join(lines)


def labels_of(board: dict) -> dict:
    """Each entry's rule label, from the method registry."""
    from ..pruning.registry import get_method

    return {e["method"]: get_method(e["method"]).label for e in board["entries"]}


@writes("leaderboard")
def write_leaderboard(board: dict, folder: Path) -> Path:
    """leaderboard.json, leaderboard.md and leaderboard.png."""
    labels = labels_of(board)
    write_json(board, folder / "leaderboard.json")
    save_figure(
        lambda ax: plot_leaderboard(board, labels, ax=ax),
        folder / "leaderboard.png",
        figsize=(7.2, 4.6),
    )
    return write_text(leaderboard_markdown(board, labels), folder / "leaderboard.md")
