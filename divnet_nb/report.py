"""Writing the results of :func:`~divnet_nb.experiments.reproduce`: JSON, figures, report.md.

Figures follow the paper's: test error against the number of neurons kept in one
hidden layer, mean over instances with error bars of one standard deviation. The
report puts Table 2 beside the paper's numbers and checks, one by one, the paper's
claims on our measurements, saying plainly where a claim does not hold.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .paper import TABLE2

__all__ = ["FIGURES", "write_report", "plot_sweep", "plot_table2", "check_claims", "summarise"]

NAMES = {
    "digits": "scikit-learn digits",
    "mnist": "MNIST",
    "mnist_rot": "MNIST_ROT",
    "cifar10": "CIFAR-10",
}

#: (file stem, hidden layer, variants, title) for each figure of the paper.
FIGURES = (
    (
        "fig2_dpp_vs_random",
        0,
        ("dpp", "random"),
        "Figure 2: k-DPP vs random pruning, first hidden layer",
    ),
    (
        "fig3_fusion",
        0,
        ("dpp", "dpp+fuse"),
        "Figure 3: k-DPP pruning without and with fusion (DivNet)",
    ),
    (
        "fig4_divnet_vs_random_fused",
        0,
        ("dpp+fuse", "random+fuse"),
        "Figure 4: DivNet vs random pruning, both fused",
    ),
    (
        "fig5_importance",
        0,
        ("random", "importance", "dpp+fuse", "importance+fuse"),
        "Figure 5: random vs importance pruning vs DivNet",
    ),
    (
        "fig6_layer2_dpp_vs_random",
        1,
        ("dpp", "random"),
        "Figure 6 (Appendix A): k-DPP vs random, second hidden layer",
    ),
    (
        "fig7_layer2_fusion",
        1,
        ("dpp", "dpp+fuse"),
        "Figure 7 (Appendix A): k-DPP without and with fusion",
    ),
    (
        "fig8_layer2_divnet_vs_random_fused",
        1,
        ("dpp+fuse", "random+fuse"),
        "Figure 8 (Appendix A): DivNet vs random pruning, both fused",
    ),
)

STYLE = {
    "dpp": ("tab:blue", "--", "o"),
    "dpp+fuse": ("tab:blue", "-", "o"),
    "random": ("tab:red", "--", "s"),
    "random+fuse": ("tab:red", "-", "s"),
    "importance": ("tab:green", "--", "^"),
    "importance+fuse": ("tab:green", "-", "^"),
}


def _stats(values) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(values, dtype=float)  # (instances, points)
    return arr.mean(axis=0), arr.std(axis=0)


def _curve(ax, x, values, key: str, label: str) -> None:
    """One variant's mean over instances, with error bars of one standard deviation."""
    mean, std = _stats(values)
    color, ls, marker = STYLE[key]
    ax.errorbar(x, mean, yerr=std, color=color, ls=ls, marker=marker, ms=4, capsize=3, label=label)


def plot_sweep(sweep: dict, variants, labels: dict, title: str, ax=None):
    """Test error vs kept neurons for some variants of one layer sweep (mean +- std)."""
    ax = ax or plt.subplots(figsize=(6.4, 4.2))[1]
    sizes = sweep["sizes"]
    for key in variants:
        _curve(ax, sizes, sweep["test_error"][key], key, labels[key])
    ax.set_xlabel(f"neurons kept in the layer (of {sweep['layer_size']})")
    ax.set_ylabel("test error")
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_table2(results: dict, ax=None):
    """Table 2 as a plot: test error vs fraction of hidden neurons kept, all variants, with the paper's DivNet."""
    ax = ax or plt.subplots(figsize=(6.4, 4.2))[1]
    fr = results["table2"]["fractions"]
    labels = {k: v["label"] for k, v in results["variants"].items()}
    for key, errs in results["table2"]["errors"].items():
        _curve(ax, fr, errs["test"], key, labels[key])
    paper = TABLE2.get(results["dataset"])
    if paper:
        pts = [
            (f, m, s) for f, cell in zip(fr, paper["test"], strict=False) if cell for m, s in [cell]
        ]
        ax.errorbar(
            [p[0] for p in pts],
            [p[1] for p in pts],
            yerr=[p[2] for p in pts],
            color="black",
            ls="none",
            marker="*",
            ms=9,
            capsize=3,
            label="DivNet, paper's Table 2",
        )
    ax.set_xlabel("fraction of hidden neurons kept (every layer)")
    ax.set_ylabel("test error (log scale)")
    ax.set_yscale("log")  # fused (~0.02-0.1) and unfused (~0.1-0.9) curves both readable
    ax.set_title(
        f"Table 2, {NAMES.get(results['dataset'], results['dataset'])}: all layers pruned, no retraining",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def _optimizer(train: dict) -> str:
    if train.get("optimizer") == "adam":
        return f"Adam, lr {train['lr']:g}"
    return f"SGD, lr {train['lr']:g}, momentum {train['momentum']:g}"


def _fmt(mean, std) -> str:
    return f"{mean:.3f} ± {std:.3f}"


def divnet_table(dataset: str, table2: dict) -> list[str]:
    """Markdown lines: DivNet's Table 2 (mean +- std over instances) beside the paper's row."""
    fr = table2["fractions"]
    paper = TABLE2.get(dataset)
    tr_m, tr_s = _stats(table2["errors"]["dpp+fuse"]["train"])
    te_m, te_s = _stats(table2["errors"]["dpp+fuse"]["test"])
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
    stats = {k: _stats(table2["errors"][k][which]) for k in keys}
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


def check_claims(results: dict) -> list[dict]:
    """The paper's qualitative claims, each checked on the measured means over instances."""
    claims = []
    sweeps = results["sweeps"]

    def mean(layer, key):
        return np.asarray(sweeps[layer]["test_error"][key], dtype=float).mean(axis=0)

    def per_size(layer, statement, holds, detail):
        sizes = sweeps[layer]["sizes"]
        failed = [s for s, ok in zip(sizes, holds, strict=True) if not ok]
        claims.append(
            {
                "claim": statement,
                "layer": int(layer),
                "holds": not failed,
                "sizes": sizes,
                "failed_sizes": failed,
                "detail": detail,
            }
        )

    if "0" in sweeps:
        d, dn = mean("0", "dpp"), mean("0", "dpp+fuse")
        r, rf = mean("0", "random"), mean("0", "random+fuse")
        imp = mean("0", "importance")
        per_size(
            "0",
            "k-DPP pruning beats random pruning, both without fusion (Fig. 2)",
            d <= r,
            {"dpp": d.tolist(), "random": r.tolist()},
        )
        per_size(
            "0",
            "fusion lowers the error of k-DPP pruning (Fig. 3)",
            dn <= d,
            {"dpp": d.tolist(), "dpp+fuse": dn.tolist()},
        )
        per_size(
            "0",
            "DivNet <= random + fusion <= random at every kept size (Figs. 2-4)",
            (dn <= rf) & (rf <= r),
            {"dpp+fuse": dn.tolist(), "random+fuse": rf.tolist(), "random": r.tolist()},
        )
        sizes = np.asarray(sweeps["0"]["sizes"])
        high = sizes <= 0.25 * sweeps["0"]["layer_size"]
        per_size(
            "0",
            "importance pruning falls behind DivNet at high pruning, <= 25 % kept (Fig. 5)",
            np.where(high, imp > dn, True),
            {
                "importance": imp.tolist(),
                "dpp+fuse": dn.tolist(),
                "high_pruning_sizes": sizes[high].tolist(),
            },
        )
        std_d = np.asarray(sweeps["0"]["test_error"]["dpp"], dtype=float).std(axis=0)
        std_dn = np.asarray(sweeps["0"]["test_error"]["dpp+fuse"], dtype=float).std(axis=0)
        per_size(
            "0",
            "fusion reduces the spread over instances (std) of k-DPP pruning (Sec. 3.1)",
            std_dn <= std_d,
            {"std dpp": std_d.tolist(), "std dpp+fuse": std_dn.tolist()},
        )
    if "0" in sweeps and "1" in sweeps:
        gap0 = float(np.mean(mean("0", "random") - mean("0", "dpp+fuse")))
        gap1 = float(np.mean(mean("1", "random") - mean("1", "dpp+fuse")))
        claims.append(
            {
                "claim": "the gap between DivNet and random pruning is wider on the second layer (App. A)",
                "layer": 1,
                "holds": gap1 > gap0,
                "sizes": sweeps["1"]["sizes"],
                "failed_sizes": [],
                "detail": {"mean gap layer 1": gap0, "mean gap layer 2": gap1},
            }
        )
    return claims


def summarise(results: dict) -> str:
    """report.md: settings, networks, Table 2 beside the paper, every variant, claims, figures, time."""
    ds = results["dataset"]
    name = NAMES.get(ds, ds)
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
            f"(see `divnet_nb.fuse`)."
            if fw["count"]
            else "."
        ),
    ]
    lines += ["", "## Figures", ""]
    for stem, layer, _variants, title in FIGURES:
        if str(layer) in results["sweeps"]:
            lines += [f"![{title}]({stem}.png)", ""]
    lines += ["![Table 2 as a plot](table2.png)", ""]
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


def write_report(results: dict, out_dir: Path) -> Path:
    """Write results.json, the figures and report.md into ``out_dir``; return the report's path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if "claims" not in results:
        results = dict(results, claims=check_claims(results))
    (out_dir / "results.json").write_text(json.dumps(results, indent=1, default=float))
    labels = {k: v["label"] for k, v in results["variants"].items()}
    name = NAMES.get(results["dataset"], results["dataset"])
    for stem, layer, variants, title in FIGURES:
        sweep = results["sweeps"].get(str(layer))
        if sweep is None:
            continue
        if results["dataset"] == "cifar10" and stem.startswith("fig5"):
            title += " (Figure 11, Appendix C)"
        fig = Figure(
            figsize=(6.4, 4.2)
        )  # no pyplot: works under any backend, leaves notebooks' alone
        plot_sweep(sweep, variants, labels, f"{title} ({name})", ax=fig.subplots())
        fig.tight_layout()
        fig.savefig(out_dir / f"{stem}.png", dpi=120)
    fig = Figure(figsize=(6.4, 4.2))
    plot_table2(results, ax=fig.subplots())
    fig.tight_layout()
    fig.savefig(out_dir / "table2.png", dpi=120)
    report = out_dir / "report.md"
    report.write_text(summarise(results))
    return report
