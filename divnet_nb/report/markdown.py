"""report.md: settings, networks, Table 2 beside the paper's numbers, every variant, the claims.

The tables here are the ones notebooks show too (:func:`divnet_table`,
:func:`variants_table`), so a number in a notebook and the same number in a report come
from the same code.
"""

from __future__ import annotations

import numpy as np

from ..datasets import DATASETS, title
from ..experiments.claims import check_claims
from ..paper import TABLE2
from .figures import FIGURES, mean_std

__all__ = ["NAMES", "divnet_table", "figure_files", "summarise", "variants_table"]


#: How reports spell each dataset.
NAMES = {name: title(name) for name in DATASETS}


def _optimizer(train: dict) -> str:
    if train.get("optimizer") == "adam":
        return f"Adam, lr {train['lr']:g}"
    return f"SGD, lr {train['lr']:g}, momentum {train['momentum']:g}"


def _fmt(mean, std) -> str:
    return f"{mean:.3f} ± {std:.3f}"


def divnet_table(dataset: str, table2: dict) -> list[str]:
    """Markdown lines: DivNet's Table 2 (mean +- std over instances) beside the paper's row."""
    fr = table2["fractions"]
    if "dpp+fuse" not in table2["errors"]:
        return ["(DivNet, the k-DPP with fusion, was not among the measured variants.)"]
    paper = TABLE2.get(dataset)
    tr_m, tr_s = mean_std(table2["errors"]["dpp+fuse"]["train"])
    te_m, te_s = mean_std(table2["errors"]["dpp+fuse"]["test"])
    lines = [
        "| hidden neurons kept | training error (ours) | (paper) | test error (ours) | (paper) | "
        "test: ours - paper |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for j, f in enumerate(fr):
        p_tr = paper["train"][j] if paper and j < len(paper["train"]) else None
        p_te = paper["test"][j] if paper and j < len(paper["test"]) else None
        diff = f"{te_m[j] - p_te[0]:+.3f}" if p_te else "-"
        lines.append(
            f"| {f:.0%} | {_fmt(tr_m[j], tr_s[j])} | {_fmt(*p_tr) if p_tr else '-'} | "
            f"{_fmt(te_m[j], te_s[j])} | {_fmt(*p_te) if p_te else '-'} | {diff} |"
        )
    return lines


def variants_table(table2: dict, labels: dict, which: str = "test") -> list[str]:
    """Markdown lines: every variant's ``which`` error at each fraction, the best mean in bold."""
    keys = list(table2["errors"])
    stats = {k: mean_std(table2["errors"][k][which]) for k in keys}
    lines = [
        "| kept | " + " | ".join(labels[k] for k in keys) + " |",
        "|---:|" + "---:|" * len(keys),
    ]
    for j, f in enumerate(table2["fractions"]):
        best = min(stats[k][0][j] for k in keys)
        cells = [
            (
                f"**{_fmt(stats[k][0][j], stats[k][1][j])}**"
                if stats[k][0][j] == best
                else _fmt(stats[k][0][j], stats[k][1][j])
            )
            for k in keys
        ]
        lines.append(f"| {f:.0%} | " + " | ".join(cells) + " |")
    return lines


def summarise(results: dict) -> str:
    """report.md: settings, networks, Table 2 beside the paper, every variant, claims, figures, time."""
    ds = results["dataset"]
    name = title(ds)
    st = results["settings"]
    lines = [f"# DivNet reproduction: {name}", ""]
    lines += [
        f"Data: {results['source']}.",
        "",
        f"Mode: {'fast (subsets, fewer instances and sizes)' if st['fast'] else 'full'}; "
        f"{st['instances']} instances (seeds {st['seed']}..{st['seed'] + st['instances'] - 1}); "
        f"network {'-'.join(map(str, results['sizes']))}; trained until training error < "
        f"{st['train']['threshold']:g} ({_optimizer(st['train'])}, batch {st['train']['batch_size']}); "
        f"kernel and fusion from "
        f"{'all training inputs' if st['n_kernel'] is None else str(st['n_kernel']) + ' training inputs'}; "
        f"no retraining after pruning.",
        "",
    ]
    lines += [
        "## The trained networks (Table 1)",
        "",
        "| seed | epochs | training error | test error | threshold reached | training time |",
        "|---:|---:|---:|---:|:---:|---:|",
    ]
    for inst in results["instances"]:
        lines.append(
            f"| {inst['seed']} | {inst['epochs']:.2f} | {inst['train_error']:.4f} | {inst['test_error']:.4f} | "
            f"{'yes' if inst['reached'] else '**no**'} | {inst['train_seconds']:.1f} s |"
        )
    lines += ["", "## Table 2: DivNet, all hidden layers pruned to the same fraction", ""]
    paper = TABLE2.get(ds)
    lines += divnet_table(ds, results["table2"])
    if not paper:
        lines += ["", "(The paper has no Table 2 row for this dataset.)"]
    lines += [
        "",
        "### Every variant at the same sizes (test error; training error below)",
        "",
        "The paper reports DivNet only; importance pruning with fusion was never compared there.",
        "",
    ]
    labels = {k: v["label"] for k, v in results["variants"].items()}
    for which in ("test", "train"):
        lines += [f"{which} error:", "", *variants_table(results["table2"], labels, which), ""]
    lines += [
        "## The paper's claims, checked on our measurements",
        "",
        "Means over instances; a claim 'holds' only if it holds at every kept size listed.",
        "",
    ]
    for c in results.get("claims") or check_claims(results):
        if c["holds"] is None:
            lines.append(f"- {c['claim']}: not checked ({c['detail']['not checked']}).")
            continue
        verdict = "holds" if c["holds"] else "**does not hold**"
        where = (
            ""
            if c["holds"] or not c["failed_sizes"]
            else f" (fails at {c['failed_sizes']} neurons kept)"
        )
        detail = "; ".join(
            f"{k}: "
            + (
                ", ".join(f"{x:.3f}" for x in v)
                if isinstance(v, list) and v and isinstance(v[0], float)
                else (f"{v:.4f}" if isinstance(v, float) else str(v))
            )
            for k, v in c["detail"].items()
        )
        lines.append(f"- {c['claim']}: {verdict}{where}. Sizes {c['sizes']}; {detail}.")
    fw = results.get("fusion_warnings", {"count": 0})
    lines += [
        "",
        f"Fusion (eq. 3) met a singular kept-neuron Gram block G_SS in {fw['count']} of the pruned "
        f"networks above"
        + (
            f"; a ridge of at most {fw['max_ridge']:.0e} x its mean diagonal was added "
            f"(see `divnet_nb.core.fuse`)."
            if fw["count"]
            else "."
        ),
    ]
    lines += ["", "## Figures", ""]
    for stem, caption in figure_files(results):
        lines += [f"![{caption}]({stem}.png)", ""]
    t = results["timing"]
    ratio = np.asarray(t["prune_over_train"], dtype=float)
    lines += [
        "## Time",
        "",
        f"DivNet pruning of all hidden layers to 50 % (kernel, k-DPP and fusion from "
        f"{'all' if st['n_kernel'] is None else st['n_kernel']} training inputs): "
        f"{np.mean(t['prune_all_layers_seconds']):.2f} s per network, "
        f"{100 * ratio.mean():.2f} % of its training time ({np.mean(t['train_seconds']):.1f} s). "
        f"Whole run: {t.get('total_seconds', t.get('experiment_seconds', 0.0)):.0f} s.",
        "",
    ]
    return "\n".join(lines)


def figure_files(results: dict) -> list[tuple[str, str]]:
    """(file stem, caption) of every figure :func:`~divnet_nb.report.write_report` draws for ``results``.

    A paper figure is drawn when its layer was swept and all its variants were
    measured; every swept layer also gets a figure with all measured variants.
    """
    files = []
    for stem, layer, keys, caption in FIGURES:
        sweep = results["sweeps"].get(str(layer))
        if sweep is not None and all(k in sweep["test_error"] for k in keys):
            files.append((stem, caption))
    for layer in results["sweeps"]:
        files.append(
            (f"layer{int(layer) + 1}_all_variants", f"Hidden layer {int(layer) + 1}: every variant")
        )
    files.append(("table2", "Table 2 as a plot"))
    return files
