"""The teacher-student experiment (:mod:`divnet_nb.theory.experiment`) as a table and two plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._io import atomic_write
from .figures import styled
from .outputs import write_json, write_text, writes

__all__ = ["theory_markdown", "plot_pruned", "plot_learning_curves", "save_theory_figure"]

_COLOURS = {
    "node random": "tab:gray", "node dpp-linear": "tab:blue", "node dpp-rbf": "tab:purple",
    "node importance": "tab:olive", "edge random-bernoulli": "tab:orange", "edge random": "tab:red",
    "edge magnitude": "tab:green", "edge dpp": "tab:cyan",
}  # fmt: skip


def _label(lab: str) -> str:
    return lab.replace("+fuse", " + fusion (ours)")


def theory_markdown(result) -> str:
    """The pooled table (eps_g mean ± SE per rule and matched size, kept parameters) and one line per claim."""
    s, sizes, edges = result["settings"], result["sizes"], result["edges"]
    par = result["parameters"]
    head = (
        "| rule | "
        + " | ".join(f"k = {k}, e = {e}" for k, e in zip(sizes, edges, strict=True))
        + " |"
    )
    lines = [
        f"eps_g of pruned students (N = {s['N']}, M = {s['M']}, K = {s['K']}, v* = {s['v_star']:g}, "
        f"eta = {s['eta']:g}, {s['steps']:,} steps; mean ± SE over masks, {s['students']} student(s); "
        f"unpruned {result['unpruned']:.4f}, {par['unpruned']:,} parameters)",
        "",
        head,
        "|---|" + "---:|" * len(sizes),
        "| *kept parameters, node / edge* | "
        + " | ".join(f"{a:,} / {b:,}" for a, b in zip(par["node"], par["edge"], strict=True)) + " |",
    ]  # fmt: skip
    for lab in result["rules"]:
        p = result["pooled"][lab]
        cells = " | ".join(f"{m:.4f} ± {e:.4f}" for m, e in zip(p["mean"], p["se"], strict=True))
        lines.append(f"| {_label(lab)} | {cells} |")
    lines += [
        "",
        "Claims (95 % intervals of eps_g(better) - eps_g(worse); the claim is that it is < 0):",
        "",
    ]
    for name, masks in result["claims"]["masks"].items():
        parts = []
        for across in ("masks", "students"):
            c = result["claims"][across][name]
            rows = "; ".join(
                f"k={r['k']}: {r['difference']:+.4f} [{_bound(r['low'])}, {_bound(r['high'])}]"
                for r in c["rows"]
            )
            parts.append(f"across {across} **{c['verdict']}** ({rows})")
        lines.append(f"* **Claim {name}**, {masks['statement']}: " + "; ".join(parts))
    return "\n".join(lines)


def _bound(x) -> str:
    return "±inf" if x is None else f"{x:+.4f}"


@styled
def plot_pruned(result, ax):
    """eps_g (log) against kept parameters: node rules dashed (fusion dotted), edge rules solid, SE bars."""
    par = result["parameters"]
    for lab in result["rules"]:
        kind, rule = lab.split(" ", 1)
        base, fused = lab.removesuffix("+fuse"), lab.endswith("+fuse")
        p = result["pooled"][lab]
        style = ":" if fused else "--" if kind == "node" else "-"
        ax.errorbar(par[kind], p["mean"], yerr=p["se"], ls=style, color=_COLOURS.get(base, "k"),
                    marker="s" if fused else "o" if kind == "node" else "^", ms=4, capsize=2, lw=1.4,
                    mfc="none" if fused else None, label=_label(lab))  # fmt: skip
    ax.axhline(result["unpruned"], color="k", lw=0.8, label="unpruned")
    ax.set_yscale("log")
    ax.set_xlabel("kept parameters (first layer + v)")
    ax.set_ylabel(r"generalisation error $\epsilon_g$ (log scale)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the axes
    return ax


@styled
def plot_learning_curves(result, ax):
    """Each student's simulated eps_g (thin) and the ODE from the first student's start (thick), log-log."""
    for i, st in enumerate(result["students"]):
        a, e = np.asarray(st["curve"]["alpha"]), np.asarray(st["curve"]["error"])
        ax.plot(a[1:], e[1:], lw=0.9, alpha=0.8, label=f"simulation, student {i}")
    a, e = np.asarray(result["ode"]["alpha"]), np.asarray(result["ode"]["error"])
    ax.plot(a[1:], e[1:], color="k", lw=2.5, alpha=0.7, label="ODE (student 0's start)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\alpha$ = steps / N")
    ax.set_ylabel(r"$\epsilon_g$ (log scale)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return ax


def save_theory_figure(result: dict, path) -> Path:
    """Pruned students' errors (left) and the learning curves (right), one PNG."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.6))
    left, right = fig.subplots(1, 2)
    plot_pruned(result, left)
    plot_learning_curves(result, right)
    fig.tight_layout()
    with atomic_write(path) as handle:
        fig.savefig(handle, dpi=120, format="png")
    return Path(path)


@writes("theory")
def write_theory(result: dict, folder: Path) -> Path:
    """theory.json, theory.md and theory.png."""
    write_json(result, folder / "theory.json")
    save_theory_figure(result, folder / "theory.png")
    return write_text(theory_markdown(result) + "\n", folder / "theory.md")
