"""The CNN experiment (:mod:`divnet_nb.experiments.cnn`) as tables, verdicts and a figure.

``cnn.md``: for each setting, every rule's test error plain and fused, before and after the
fine-tune (mean ± std over the networks); the paired verdicts of the paper's two CNN
claims and of the best rule; the kept parameters and multiply-accumulates per layer; the
measured CPU latency. ``cnn.png``: one panel per setting, fused rules before fine-tuning.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..datasets import title
from ..experiments.cnn import cnn_comparisons
from ..verdicts import LEVEL, mean_std
from .figures import log_axis, save_figure, styled
from .outputs import write_json, write_text, writes

__all__ = ["cnn_markdown", "plot_cnn", "write_cnn"]


def _cell(values) -> str:
    mean, std = mean_std(np.asarray(values, dtype=float))
    return f"{mean:.4f} ± {std:.4f}"


def _rule_table(result: dict, setting: str, key: str) -> list[str]:
    fr = result["fractions"]
    lines = [
        "| rule | " + " | ".join(f"{f:.0%}" for f in fr) + " |",
        "|---|" + "---|" * len(fr),
    ]
    for rule in result["rules"]:
        for variant in ("plain", "fused"):
            errors = np.asarray(result[key][setting][rule][variant])
            label = rule if variant == "plain" else f"{rule} + fusion"
            cells = [_cell(errors[:, j]) for j in range(len(fr))]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _claims(result: dict) -> list[str]:
    rows = cnn_comparisons(result)
    lines = [
        f"Differences are rule minus rival on the same networks (negative: the rule's error is "
        f"lower), {LEVEL:.0%} t-intervals, {len(rows)} intervals in four families; a verdict "
        f"with Holm's correction within its family holds when the adjusted p-value is below "
        f"{1 - LEVEL:.2g} and the difference is negative. The best rule of setting (d) is "
        f"chosen on the same networks, which favours it.",
        "",
        "| family | setting | rule | rival | variant | kept | mean difference | interval | uncorrected | Holm |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        low, high = r["interval"]
        lines.append(
            f"| {r['family']} | {r['setting']} | {r['rule']} | {r['rival']} | {r['variant']} | "
            f"{r['fraction']:.0%} | {r['mean']:+.4f} | [{low:+.4f}, {high:+.4f}] | "
            f"{r['uncorrected']} | {r['verdict']} |"
        )
    return lines


def _costs(result: dict) -> list[str]:
    fr = result["fractions"]
    lines = [
        "Kept parameters and multiply-accumulates per input, per weighted layer, when every "
        "prunable layer keeps the fraction (setting (d), network 0):",
        "",
        "| kept | "
        + " | ".join(f"layer {c['layer']} ({c['kind']})" for c in result["costs"]["all"][0])
        + " |",
        "|---|" + "---|" * len(result["costs"]["all"][0]),
    ]
    for f, costs in zip(fr, result["costs"]["all"], strict=True):
        cells = [f"{c['params']:,} / {c['macs']:,}" for c in costs]
        lines.append(f"| {f:.0%} | " + " | ".join(cells) + " |")
    lat = result["latency"]
    lines += [
        "",
        f"CPU latency of the physically smaller network (median forward pass, "
        f"{lat['torch_threads']} torch thread(s)), against the original:",
        "",
        "| kept | parameters | MACs | batch 1 (ms) | speed-up | batch 256 (ms) | speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    base = lat["rows"][0]
    for r in lat["rows"]:
        lines.append(
            f"| {r['fraction']:.0%} | {r['params']:,} | {r['macs']:,} | "
            f"{1e3 * r['batch1_seconds']:.3f} | {base['batch1_seconds'] / r['batch1_seconds']:.2f}x | "
            f"{1e3 * r['batch256_seconds']:.1f} | {base['batch256_seconds'] / r['batch256_seconds']:.2f}x |"
        )
    return lines


def cnn_markdown(result: dict) -> str:
    """cnn.md: tables by setting, the verdicts, the costs and latency."""
    n = len(result["unpruned_test_error"])
    ft = result["finetune"]
    lines = [
        f"# DivNet on a convolutional network: {result['architecture']} on {title(result['dataset'])}",
        "",
        f"Test error, mean ± std over {n} networks (ddof = 1). Unpruned networks: "
        f"{np.mean(result['unpruned_test_error']):.4f}. Fine-tune: {ft['epochs']} pass over "
        f"{ft['inputs']:,} training inputs (all when fewer), {ft['optimizer']} at lr {ft['lr']:g}, "
        f"batches of {ft['batch_size']}. Fusions that needed a ridge: {result['ridged_solves']}.",
        "",
        "Rules left out: "
        + "; ".join(f"{rule} ({why})" for rule, why in result["left_out"].items())
        + ".",
        "",
    ]
    for setting, what in result["settings_pruned"].items():
        lines += [f"## {what}", "", "Before fine-tuning:", ""]
        lines += _rule_table(result, setting, "test_error") + ["", "After fine-tuning:", ""]
        lines += _rule_table(result, setting, "finetuned_error") + [""]
    lines += ["## The paper's claims, as measured", ""] + _claims(result) + [""]
    lines += ["## What the smaller network costs", ""] + _costs(result)
    return "\n".join(lines).rstrip() + "\n"


@styled
def plot_cnn(result: dict, axes=None):
    """One panel per setting: each rule's fused test error (mean over networks) by kept fraction."""
    from ..pruning.registry import get_method

    settings = list(result["settings_pruned"])
    if axes is None:
        import matplotlib.pyplot as plt

        axes = plt.subplots(1, len(settings), figsize=(16.0, 4.2), sharey=True)[1]
    fr = np.asarray(result["fractions"])
    for ax, setting in zip(np.atleast_1d(axes), settings, strict=True):
        for rule in result["rules"]:
            m = get_method(rule, "neuron")
            errors = np.asarray(result["test_error"][setting][rule]["fused"])
            ax.plot(fr, errors.mean(axis=0), marker=m.marker, color=m.color, label=m.label)
        ax.axhline(np.mean(result["unpruned_test_error"]), color="gray", lw=1, label="unpruned")
        log_axis(ax)
        ax.set_title(result["settings_pruned"][setting])
        ax.set_xlabel("fraction kept, with fusion")
        ax.grid(alpha=0.3, which="both")
    first = np.atleast_1d(axes)[0]
    first.set_ylabel(f"test error (log scale), {title(result['dataset'])}")
    first.legend(ncol=1)
    return axes


@writes("cnn")
def write_cnn(result: dict, folder: Path) -> Path:
    """cnn.json, cnn.md and cnn.png."""
    write_json(result, folder / "cnn.json")
    save_figure(
        lambda axes: plot_cnn(result, axes=axes), folder / "cnn.png", figsize=(16.0, 4.2),
        panels=len(result["settings_pruned"]),
    )  # fmt: skip
    return write_text(cnn_markdown(result), folder / "cnn.md")
