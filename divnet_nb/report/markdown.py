"""report.md: settings, networks, Table 2 beside the paper's numbers, every variant, the claims.

The tables here are the ones notebooks show too (:func:`divnet_table`,
:func:`variants_table`), so a number in a notebook and the same number in a report come
from the same code.
"""

from __future__ import annotations

import numpy as np

from ..datasets import DATASETS, title
from ..experiments.claims import check_claims
from ..paper import TABLE2, table2_cell
from ..verdicts import LEVEL, mean_std
from .figures import FIGURES

__all__ = [
    "NAMES",
    "claims_section",
    "divnet_table",
    "figure_files",
    "summarise",
    "variants_table",
]


#: How reports spell each dataset.
NAMES = {name: title(name) for name in DATASETS}


def _optimizer(train: dict) -> str:
    if train.get("optimizer") == "adam":
        return f"Adam, lr {train['lr']:g}"
    return f"SGD, lr {train['lr']:g}, momentum {train['momentum']:g}"


def _fmt(mean, std) -> str:
    """mean ± std, or the mean alone when the spread is undefined (one network)."""
    return f"{mean:.3f}" if np.isnan(std) else f"{mean:.3f} ± {std:.3f}"


def divnet_table(dataset: str, table2: dict) -> list[str]:
    """Markdown lines: DivNet's Table 2 (mean ± std over networks, ddof = 1) beside the paper's cells.

    The paper's cells are looked up by fraction; "-" where the paper has none.
    """
    fr = table2["fractions"]
    if "dpp+fuse" not in table2["errors"]:
        return ["(DivNet, the k-DPP with fusion, was not among the measured variants.)"]
    tr_m, tr_s = mean_std(table2["errors"]["dpp+fuse"]["train"])
    te_m, te_s = mean_std(table2["errors"]["dpp+fuse"]["test"])
    lines = [
        "| hidden neurons kept | training error (ours) | (paper) | test error (ours) | (paper) | "
        "test: ours - paper |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for j, f in enumerate(fr):
        p_tr = table2_cell(dataset, "train", f)
        p_te = table2_cell(dataset, "test", f)
        diff = f"{te_m[j] - p_te[0]:+.3f}" if p_te else "-"
        lines.append(
            f"| {f:.0%} | {_fmt(tr_m[j], tr_s[j])} | {_fmt(*p_tr) if p_tr else '-'} | "
            f"{_fmt(te_m[j], te_s[j])} | {_fmt(*p_te) if p_te else '-'} | {diff} |"
        )
    return lines


def variants_table(table2: dict, labels: dict, which: str = "test") -> list[str]:
    """Markdown lines: every variant's ``which`` error at each fraction (mean ± std, ddof = 1), the best mean in bold."""
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
        f"spreads are standard deviations over networks with ddof = 1 (as MATLAB's std); "
        f"{st['instances']} instances (seeds {st['seed']}..{st['seed'] + st['instances'] - 1}); "
        f"network {'-'.join(map(str, results['sizes']))}; trained until training error < "
        f"{st['train']['threshold']:g} ({_optimizer(st['train'])}, batch {st['train']['batch_size']}); "
        f"kernel and fusion from "
        f"{'all training inputs' if st['n_kernel'] is None else str(st['n_kernel']) + ' training inputs'}; "
        + (f"kernel over neurons: {st['kernel']} (the paper's: rbf); " if "kernel" in st else "")
        + "no retraining after pruning.",
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
    lines += divnet_table(ds, results["table2"])
    if ds not in TABLE2:
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
    lines += claims_section(results.get("claims") or check_claims(results))
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
        f"Whole run: {_wall_seconds(results):.0f} s"
        + (f" ({results['parts']['executor']})." if "parts" in results else "."),
        "",
    ]
    return "\n".join(lines)


def _wall_seconds(results: dict) -> float:
    """The run's wall time: the driver's, else what older results recorded."""
    if "parts" in results and "wall_seconds" in results["parts"]:
        return results["parts"]["wall_seconds"]
    t = results["timing"]
    return t.get("total_seconds", t.get("experiment_seconds", 0.0))


def _interval(low: float, high: float) -> str:
    return (
        f"[{low:+.4f}, {high:+.4f}]"
        if np.isfinite([low, high]).all()
        else "(none: too few networks)"
    )


def claims_section(claims) -> list[str]:
    """Markdown lines: each claim's verdict, what was tested, and the interval at each kept size."""
    lines = [
        "## The paper's claims, checked on our measurements",
        "",
        f"Each claim is decided on per-network (paired) differences between variants, with "
        f"{LEVEL:.0%} intervals: it **holds** when the interval at every kept size lies on "
        f"the claimed side of 0, it **does not hold** when at some size the interval lies on "
        f"the other side (each size tested at {LEVEL:.0%}, not corrected for the number of "
        f"sizes), and otherwise it is **not resolved** with the networks we have.",
        "",
    ]
    for c in claims:
        if c["verdict"] == "not checked":
            lines += [f"- {c['claim']}: not checked ({c['detail']['not checked']}).", ""]
            continue
        where = []
        if c["failed_sizes"]:
            where.append(f"fails at {c['failed_sizes']} kept")
        if c["unresolved_sizes"]:
            where.append(f"not resolved at {c['unresolved_sizes']} kept")
        lines += [
            f"- {c['claim']}: **{c['verdict']}**"
            + (f" ({'; '.join(where)})" if where else "")
            + f". Test: {c['test']}.",
            "",
            "  | kept | difference | mean | interval | verdict |",
            "  |---:|---|---:|---|---|",
        ]
        for p in c["per_size"]:
            for t in p["tests"]:
                lines.append(
                    f"  | {p['size']} | {t['difference']} ({t['claimed']}) | {t['mean']:+.4f} | "
                    f"{_interval(*t['interval'])} | {t['verdict']} |"
                )
        lines.append("")
    return lines


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
