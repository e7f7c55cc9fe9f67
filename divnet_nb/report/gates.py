"""The gate experiment (:mod:`divnet_nb.experiments.gates`) as tables, verdicts and figures.

Every number here is computed from the result: means ± standard deviations over
seeds (ddof = 1), and paired per-seed differences with 95 % t-intervals
(:mod:`divnet_nb.verdicts`). A comparison "gated below X" *holds* when the
interval of (gated - X) lies below 0, *does not hold* when it lies at or above 0, and is
*not resolved* otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from ..datasets import title
from ..experiments.gates import BASES, MAGNITUDE, NEURON_GATES
from ..pruning.registry import get_method
from ..verdicts import FAILS, HOLDS, OPEN, decide, t_interval
from .figures import log_axis, styled
from .outputs import write_json, write_text, writes

__all__ = [
    "POSTHOC_LABELS",
    "gate_groups",
    "gate_costs",
    "gate_findings",
    "best_posthoc",
    "gates_markdown",
    "plot_gates",
    "save_gates_figure",
    "plot_gate_training",
    "write_gates",
]

POSTHOC_LABELS = {
    "dpp": "DivNet (k-DPP + fusion)",
    "swap": "greedy + swaps + fusion (original)",
    MAGNITUDE: "layerwise magnitude",
}
BASE_LABELS = {"table1": "T1", "budget": "B"}
_POSTHOC_STYLE = {
    "dpp": ("tab:blue", "o"),
    "swap": ("tab:green", "s"),
    MAGNITUDE: ("tab:brown", "d"),
}


def _ms(values) -> tuple[float, float]:
    arr = np.asarray(values, dtype=float)
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else float("nan")


def gate_groups(result: dict) -> list[dict]:
    """One entry per (network, gate method, lambda): the seeds' numbers gathered and summarised.

    Each entry has ``network``, ``method``, ``lam``, ``rows`` (the runs that trained),
    ``collapsed`` (runs whose gates of a layer all closed), ``kept`` (mean per hidden
    layer), ``hidden`` and ``weights`` (mean, std of kept hidden neurons and of kept
    weights), ``gated`` (mean, std test error), ``seconds``, and ``posthoc[base][rule]``:
    the rule's test error and fine-tuned test error (mean, std), and the interval and
    verdict of the paired differences gated - rule (``diff``, ``verdict``) and gated -
    rule fine-tuned (``diff_ft``, ``verdict_ft``).
    """
    grouped: dict[tuple, list[dict]] = defaultdict(list)
    for row in result["runs"]:
        grouped[row["network"], row["method"], row["lam"]].append(row)
    out = []
    for (net, method, lam), rows in grouped.items():
        done = [r for r in rows if "collapsed" not in r]
        entry = {
            "network": net,
            "method": method,
            "lam": lam,
            "rows": done,
            "collapsed": len(rows) - len(done),
        }
        if done:
            gated = [r["test_error"] for r in done]
            entry.update(
                kept=np.mean([r["kept"] for r in done], axis=0).tolist(),
                hidden=_ms([sum(r["kept"]) for r in done]),
                weights=_ms([sum(r["weights"]) for r in done]),
                gated=_ms(gated),
                seconds=float(np.mean([r["seconds"] for r in done])),
                posthoc={},
            )
            for base, rules in done[0]["posthoc"].items():
                entry["posthoc"][base] = {}
                for rule in rules:
                    cells = [r["posthoc"][base][rule] for r in done]
                    plain = [c["test_error"] for c in cells]
                    tuned = [c["finetuned_test_error"] for c in cells]
                    d = t_interval(np.subtract(gated, plain))
                    d_ft = t_interval(np.subtract(gated, tuned))
                    entry["posthoc"][base][rule] = {
                        "error": _ms(plain),
                        "finetuned": _ms(tuned),
                        "seconds": float(np.mean([c["seconds"] for c in cells])),
                        "diff": d,
                        "verdict": decide(d[1], d[2], "<0"),
                        "diff_ft": d_ft,
                        "verdict_ft": decide(d_ft[1], d_ft[2], "<0"),
                    }
        out.append(entry)
    return out


def best_posthoc(
    entry: dict, field: str = "finetuned", rule: str | None = None
) -> tuple[str, str, dict]:
    """(base, rule, cell) of the post-hoc cell (of ``rule``, or of any rule) with the lowest
    mean ``field`` ("finetuned" or "error")."""
    cells = [
        (b, r, c)
        for b, rules in entry["posthoc"].items()
        for r, c in rules.items()
        if rule in (None, r)
    ]
    return min(cells, key=lambda t: t[2][field][0])


def gate_costs(result: dict) -> dict[str, dict]:
    """Per network: mean seconds of a gated run (neuron gates), of DivNet's post-hoc pruning,
    of training the plain networks, and the ratio DivNet / gated training."""
    out = {}
    for net, info in result["networks"].items():
        rows = [
            r
            for r in result["runs"]
            if r["network"] == net and r["method"] in NEURON_GATES and "collapsed" not in r
        ]
        if not rows:
            continue
        gated = float(np.mean([r["seconds"] for r in rows]))
        divnet = float(np.mean([r["posthoc"][b]["dpp"]["seconds"] for r in rows for b in BASES]))
        plain = float(np.mean(info["table1"]["seconds"]))
        budget = float(np.mean(info["budget"]["seconds"]))
        tune = float(
            np.mean([r["posthoc"][b]["dpp"]["finetune_seconds"] for r in rows for b in BASES])
        )
        out[net] = {
            "gated_seconds": gated,
            "divnet_seconds": divnet,
            "plain_seconds": plain,
            "budget_seconds": budget,
            "finetune_seconds": tune,
            "divnet_over_gated": divnet / gated,
            "plain_plus_divnet_over_gated": (plain + divnet) / gated,
        }
    return out


def _pct(mean_std, spread: bool = True) -> str:
    m, s = mean_std
    return f"{100 * m:.2f}" + (f" ± {100 * s:.2f}" if spread and np.isfinite(s) else "")


def _pair(cell: dict) -> str:
    return f"{100 * cell['error'][0]:.2f} → {100 * cell['finetuned'][0]:.2f}"


def _diff(interval) -> str:
    m, lo, hi = interval
    if not np.isfinite(lo):
        return f"{100 * m:+.2f}"
    return f"{100 * m:+.2f} [{100 * lo:+.2f}, {100 * hi:+.2f}]"


def _label(method: str) -> str:
    return get_method(method, "gate").label


def _short(base: str, rule: str) -> str:
    return f"{'DivNet' if rule == 'dpp' else 'swaps' if rule == 'swap' else rule} ({BASE_LABELS[base]})"


def gates_markdown(result: dict) -> str:
    """Tables per network (neuron gates vs DivNet and greedy + swaps, each ± fine-tuning, on
    both base networks; weight gates vs magnitude), the costs, and the verdicts."""
    s = result["settings"]
    groups = gate_groups(result)
    costs = gate_costs(result)
    n = s["seeds"]
    ft = s["finetune_epochs"]
    lines = [
        f"**{title(result['dataset'])}**: gated training ({s['epochs']} epochs, "
        f"{s['optimizer'].capitalize()} lr {s['lr']:g}, gate parameters at lr {s['gate_lr']:g}) "
        f"against post-hoc pruning at the same kept neurons (or weights) per layer of a network "
        f"of the same seed trained without gates: the Table 1 way (T1: SGD until the training "
        f"error is below 1 %) or with the gated runs' budget (B: the same optimiser and epochs). "
        f'Post-hoc cells read "no retraining → {ft} epoch{"s" if ft != 1 else ""} of '
        f'fine-tuning". {n} seed{"s" if n > 1 else ""}; test error in %, means (gated: mean ± '
        f"std); differences are gated minus the best fine-tuned post-hoc cell of the row, in "
        f"points, with 95 % t-intervals over seeds.",
    ]
    for net, info in result["networks"].items():
        t1 = _ms(info["table1"]["unpruned_test_error"])
        b = _ms(info["budget"]["unpruned_test_error"])
        lines += [
            "",
            f"*{info['label']}* (hidden {'+'.join(map(str, info['sizes'][1:-1]))} neurons, "
            f"{sum(info['unpruned_weights'])} weights; unpruned: T1 {_pct(t1)} %, B {_pct(b)} %):",
            "",
            "| gates | lambda | kept neurons | gated | DivNet T1 | swaps T1 | DivNet B | swaps B "
            "| gated - best post-hoc + ft |",
            "|---|---:|---|---:|---:|---:|---:|---:|---|",
        ]
        mine = [g for g in groups if g["network"] == net]
        for g in mine:
            if g["method"] not in NEURON_GATES:
                continue
            if not g["rows"]:
                lines.append(
                    f"| {_label(g['method'])} | {g['lam']:g} | every gate of a layer closed "
                    f"({g['collapsed']} run{'s' if g['collapsed'] > 1 else ''}) | | | | | | |"
                )
                continue
            p = g["posthoc"]
            base, rule, best = best_posthoc(g)
            kept = "/".join(f"{k:.0f}" for k in g["kept"])
            lines.append(
                f"| {_label(g['method'])} | {g['lam']:g} | {kept} | {_pct(g['gated'])} | "
                f"{_pair(p['table1']['dpp'])} | {_pair(p['table1']['swap'])} | "
                f"{_pair(p['budget']['dpp'])} | {_pair(p['budget']['swap'])} | "
                f"{_diff(best['diff_ft'])} vs {_short(base, rule)}: {best['verdict_ft']} |"
            )
        weights = [g for g in mine if g["method"] not in NEURON_GATES and g["rows"]]
        if weights:
            lines += [
                "",
                "| gates | lambda | kept weights | gated | magnitude T1 | magnitude B "
                "| gated - best post-hoc + ft |",
                "|---|---:|---:|---:|---:|---:|---|",
            ]
            total = sum(info["unpruned_weights"])
            for g in weights:
                p = g["posthoc"]
                base, rule, best = best_posthoc(g)
                lines.append(
                    f"| {_label(g['method'])} | {g['lam']:g} | {g['weights'][0]:.0f} "
                    f"({100 * g['weights'][0] / total:.1f} %) | {_pct(g['gated'])} | "
                    f"{_pair(p['table1'][MAGNITUDE])} | {_pair(p['budget'][MAGNITUDE])} | "
                    f"{_diff(best['diff_ft'])} vs {_short(base, rule)}: {best['verdict_ft']} |"
                )
        c = costs.get(net)
        if c:
            lines += [
                "",
                f"Cost (one thread per process): a gated run {c['gated_seconds']:.0f} s; DivNet's "
                f"pruning {c['divnet_seconds']:.2f} s = {c['divnet_over_gated']:.3f} x a gated run "
                f"(with the T1 network's training, {c['plain_seconds']:.0f} s: "
                f"{c['plain_plus_divnet_over_gated']:.2f} x); {ft} epoch{'s' if ft != 1 else ''} "
                f"of fine-tuning {c['finetune_seconds']:.1f} s.",
            ]
    return "\n".join(lines)


def _best(entry: dict, field: str, rule: str | None = None) -> dict:
    """The cell of :func:`best_posthoc`."""
    return best_posthoc(entry, field, rule)[2]


def gate_findings(result: dict) -> str:
    """Who wins where, as measured: per network and gate family, the settings at which gated
    training is below the best post-hoc cell without retraining, below the best fine-tuned
    one, and (neuron gates) below DivNet fine-tuned on the better of its two base networks
    (verdicts of the paired per-seed differences)."""
    groups = [g for g in gate_groups(result) if g["rows"]]
    lines = []
    for net, info in result["networks"].items():
        lines.append(f"**{info['label']}**:")
        for method in dict.fromkeys(g["method"] for g in groups if g["network"] == net):
            mine = sorted(
                (g for g in groups if g["network"] == net and g["method"] == method),
                key=lambda g: g["lam"],
            )
            checks = [
                ("error", None, "the best post-hoc rule without retraining"),
                ("finetuned", None, "the best post-hoc rule fine-tuned"),
            ]
            if method in NEURON_GATES:
                checks.append(("finetuned", "dpp", "DivNet fine-tuned"))
            for field, rule, what in checks:
                by: dict[str, list[str]] = defaultdict(list)
                for g in mine:
                    cell = _best(g, field, rule)
                    size = (
                        "/".join(f"{k:.0f}" for k in g["kept"])
                        if method in NEURON_GATES
                        else f"{g['weights'][0]:.0f} weights"
                    )
                    tuned = field == "finetuned"
                    diff = cell["diff_ft" if tuned else "diff"]
                    verdict = cell["verdict_ft" if tuned else "verdict"]
                    by[verdict].append(f"lambda {g['lam']:g} ({size}; {_diff(diff)})")
                parts = [f"{v} at {', '.join(by[v])}" for v in (HOLDS, FAILS, OPEN) if by[v]]
                lines.append(f"- {_label(method)}, gated below {what}: " + "; ".join(parts) + ".")
        lines.append("")
    return "\n".join(lines).rstrip()


def _points(ax, groups, x_of, xerr_of, y_of, label, color, marker, *, filled=True, line=False):
    """Mean ± std over seeds of each group, at its x (kept neurons or weights), in %."""
    if not groups:
        return
    xs = np.array([x_of(g) for g in groups])
    xe = np.array([xerr_of(g) for g in groups])
    ym = np.array([y_of(g)[0] for g in groups])
    ys = np.array([y_of(g)[1] for g in groups])
    order = np.argsort(xs)
    ax.errorbar(xs[order], 100 * ym[order], xerr=np.nan_to_num(xe[order]),
                yerr=100 * np.nan_to_num(ys[order]), color=color, marker=marker,
                ls="-" if line else "none", ms=5, capsize=2, label=label,
                mfc=None if filled else "white", lw=1.2)  # fmt: skip


def _posthoc_series(ft: int) -> list[tuple]:
    """(base, rule, fine-tuned?, label, colour, marker, filled) of every post-hoc series drawn."""
    out = []
    for base in BASES:
        for rule, (color, marker) in _POSTHOC_STYLE.items():
            name = f"{POSTHOC_LABELS[rule]}, {BASE_LABELS[base]}"
            light = base == "budget"
            if base == "table1":
                out.append((base, rule, False, name, color, marker, False))
            out.append((base, rule, True, f"{name} + {ft} ep. fine-tuning",
                        _lighter(color) if light else color, marker, True))  # fmt: skip
    return out


def _lighter(color):
    import matplotlib.colors as mcolors

    r, g, b = mcolors.to_rgb(color)
    return (0.55 + 0.45 * r, 0.55 + 0.45 * g, 0.55 + 0.45 * b)


@styled
def plot_gates(result: dict, fig=None):
    """Per network: test error (%, log) vs kept hidden neurons (neuron gates and post-hoc rules
    at the same sizes, ± fine-tuning) and vs kept weights (every method, log x); one legend
    below. ``fig`` (made with ``layout="constrained"``) defaults to a new pyplot figure."""
    nets = list(result["networks"])
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(12, 3.9 * len(nets) + 1.6), layout="constrained")
    axes = fig.subplots(len(nets), 2, squeeze=False)
    groups = [g for g in gate_groups(result) if g["rows"]]
    ft = result["settings"]["finetune_epochs"]
    for row, net in zip(axes, nets, strict=True):
        info = result["networks"][net]
        mine = [g for g in groups if g["network"] == net]
        for ax, by_weights in zip(row, (False, True), strict=True):
            key = "weights" if by_weights else "hidden"
            shown = mine if by_weights else [g for g in mine if g["method"] in NEURON_GATES]
            for method in dict.fromkeys(g["method"] for g in shown):
                m = get_method(method, "gate")
                sel = [g for g in shown if g["method"] == method]
                _points(ax, sel, lambda g, k=key: g[k][0], lambda g, k=key: g[k][1],
                        lambda g: g["gated"], m.label, m.color, m.marker, line=True)  # fmt: skip
            for base, rule, tuned, label, color, marker, filled in _posthoc_series(ft):
                sel = [g for g in shown if rule in g["posthoc"].get(base, {})]
                field = "finetuned" if tuned else "error"
                _points(ax, sel, lambda g, k=key: g[k][0], lambda g, k=key: g[k][1],
                        lambda g, b=base, r=rule, f=field: g["posthoc"][b][r][f], label, color,
                        marker, filled=filled)  # fmt: skip
            for base, ls in zip(BASES, ("-", ":"), strict=True):
                ax.axhline(100 * np.mean(info[base]["unpruned_test_error"]), color="gray", lw=1,
                           ls=ls, label=f"unpruned, {BASE_LABELS[base]}")  # fmt: skip
            if by_weights:
                log_axis(ax, "x")
                ax.set_xlabel("kept weights (all layers, log scale)")
            else:
                ax.set_xlabel("kept hidden neurons (both layers)")
            log_axis(ax)
            ax.set_ylabel("test error, % (log scale)")
            what = "weights" if by_weights else "hidden neurons"
            ax.set_title(f"{info['label']}: error vs kept {what}")
            ax.grid(alpha=0.3, which="both")
    handles, labels = axes[0, 1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3)
    return axes


@styled
def save_gates_figure(result: dict, path) -> Path:
    """:func:`plot_gates` on a new figure (no pyplot), saved as PNG atomically."""
    from matplotlib.figure import Figure

    from .._io import atomic_write

    rows = len(result["networks"])
    fig = Figure(figsize=(12, 3.9 * rows + 1.6), layout="constrained")
    plot_gates(result, fig)
    with atomic_write(path) as handle:
        fig.savefig(handle, dpi=110, format="png")
    return path


@styled
def plot_gate_training(result: dict, network: str, method: str, axes=None):
    """Open gates per layer and the running penalty along training, one line per lambda (seed 0)."""
    if axes is None:
        import matplotlib.pyplot as plt

        axes = plt.subplots(1, 2, figsize=(11, 3.8))[1]
    rows = [
        r
        for r in result["runs"]
        if r["network"] == network
        and r["method"] == method
        and r["seed"] == 0
        and "collapsed" not in r
    ]
    colors = _colors(len(rows))
    for color, r in zip(colors, rows, strict=True):
        epochs = [h["epoch"] for h in r["history"]]
        for key, ls in (("open_0", "-"), ("open_1", "--")):
            axes[0].plot(epochs, [h[key] for h in r["history"]], color=color, ls=ls,
                         label=f"lambda {r['lam']:g}, layer {key[-1]}")  # fmt: skip
        axes[1].plot(epochs, [h["running_penalty"] for h in r["history"]], color=color,
                     label=f"lambda {r['lam']:g}")  # fmt: skip
    log_axis(axes[0])
    axes[0].set_ylabel("open gates (log scale)")
    log_axis(axes[1])
    axes[1].set_ylabel("lambda x penalty (running mean, log scale)")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    axes[0].set_title(f"{get_method(method, 'gate').label}: open gates")
    axes[1].set_title("the sparsity penalty while training")
    return axes


def _colors(n: int) -> list:
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return [cmap(x) for x in np.linspace(0.0, 0.85, max(n, 1))][:n]


@writes("gates")
def write_gates(result: dict, folder: Path) -> Path:
    """gates.json, gates.md and gates.png."""
    write_json(result, folder / "gates.json")
    save_gates_figure(result, folder / "gates.png")
    return write_text(gates_markdown(result) + "\n", folder / "gates.md")
