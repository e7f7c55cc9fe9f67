"""The interleaved experiment (:mod:`divnet_nb.experiments.interleaved`) as a table, verdicts, a figure.

``interleaved.md``: the schedule, each arm's final test error and sizes, and the paired
verdicts with Holm's correction. ``interleaved.png``: test error against epochs, the mean
over networks of each arm, with the pruning steps marked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..datasets import title
from ..experiments.interleaved import interleaved_comparisons
from ..verdicts import LEVEL, mean_std
from .figures import log_axis, save_figure, styled
from .outputs import write_json, write_text, writes

__all__ = [
    "interleaved_markdown",
    "interleaved_summary",
    "plot_interleaved",
    "save_interleaved_figure",
    "write_interleaved",
]

ARM_NAMES = {
    "dpp": "k-DPP + fusion at every step",
    "random": "random + fusion at every step",
    "post-hoc": "no pruning, then DivNet once at the end",
}
ARM_STYLES = {"dpp": ("tab:blue", "o"), "random": ("tab:red", "s"), "post-hoc": ("tab:green", "^")}


def _schedule(result: dict) -> str:
    plan = result["schedule"]
    after = ", ".join(str(e) for e in plan["prune_after"])
    return (
        f"{plan['epochs']} epochs in all; every hidden layer pruned after epochs {after}, by "
        f"geometric steps to {plan['final']:.0%} of its width, with fusion; a fresh optimiser "
        "after each step."
    )


def _table(result: dict) -> list[str]:
    lines = ["| arm | hidden sizes after each step | final test error |", "|---|---|---|"]
    for arm in result["arms"]:
        mean, std = mean_std(np.asarray(result["test_error"][arm])[:, None])
        spread = f" ± {std[0]:.4f}" if np.isfinite(std[0]) else ""
        steps = " → ".join("/".join(str(s) for s in step) for step in result["sizes"][arm][0])
        lines.append(f"| {ARM_NAMES.get(arm, arm)} | {steps} | {mean[0]:.4f}{spread} |")
    return lines


def _verdicts(rows: list[dict]) -> list[str]:
    lines = [
        "| arm | below | difference | interval | uncorrected | Holm p | verdict (Holm) |",
        "|---|---|---:|---|---|---:|---|",
    ]
    for r in rows:
        lo, hi = r["interval"]
        lines.append(
            f"| {r['arm']} | {r['rival']} | {r['mean']:+.4f} | [{lo:+.4f}, {hi:+.4f}] | "
            f"{r['uncorrected']} | {r['p_holm']:.3g} | {r['verdict']} |"
        )
    return lines


def interleaved_markdown(result: dict) -> str:
    """interleaved.md: the schedule, the arms' final errors, the paired verdicts."""
    n = len(result["test_error"]["dpp"])
    rows = interleaved_comparisons(result)
    lines = [
        f"# DPP pruning interleaved with training, {title(result['dataset'])}",
        "",
        _schedule(result)
        + f" Test error, mean ± std over {n} networks (ddof = 1), each arm from the same "
        "initial network.",
        "",
        *_table(result),
        "",
        "## Paired comparisons",
        "",
        f"Differences are the arm minus the rival on the same networks (negative: the arm's "
        f"final error is lower), {LEVEL:.0%} t-intervals; {len(rows)} intervals, one family, "
        "Holm's correction over them.",
        "",
        *_verdicts(rows),
    ]
    return "\n".join(lines).rstrip() + "\n"


def interleaved_summary(result: dict) -> str:
    """The README's view: the schedule, the table and the verdicts."""
    n = len(result["test_error"]["dpp"])
    return "\n".join([
        f"**{title(result['dataset'])}** ({n} networks). " + _schedule(result), "",
        *_table(result), "", *_verdicts(interleaved_comparisons(result)),
    ])  # fmt: skip


@styled
def plot_interleaved(result: dict, ax=None):
    """Test error against epochs, mean over networks, each arm; pruning steps as vertical lines."""
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.subplots(figsize=(7.0, 4.4))[1]
    for arm in result["arms"]:
        runs = result["trajectory"][arm]
        epochs = [p["epoch"] + (0.15 if p["event"] == "pruned" else 0.0) for p in runs[0]]
        errors = np.mean([[p["test_error"] for p in run] for run in runs], axis=0)
        color, marker = ARM_STYLES.get(arm, ("black", "x"))
        ax.plot(epochs, errors, color=color, marker=marker, ms=4, label=ARM_NAMES.get(arm, arm))
    for e in result["schedule"]["prune_after"]:
        ax.axvline(e, color="gray", lw=0.8, ls=":")
    log_axis(ax)
    ax.set_xlabel("epoch (a step's pruning is drawn just after it)")
    ax.set_ylabel(f"test error (log scale), {title(result['dataset'])}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    return ax


def save_interleaved_figure(result: dict, path: Path) -> Path:
    """:func:`plot_interleaved` saved to ``path`` in the shared style."""
    save_figure(lambda ax: plot_interleaved(result, ax=ax), path, figsize=(7.0, 4.4))
    return path


@writes("interleaved")
def write_interleaved(result: dict, folder: Path) -> Path:
    """interleaved.json, interleaved.md and interleaved.png."""
    write_json(result, folder / "interleaved.json")
    save_interleaved_figure(result, folder / "interleaved.png")
    return write_text(interleaved_markdown(result), folder / "interleaved.md")
