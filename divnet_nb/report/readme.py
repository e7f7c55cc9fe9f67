"""The README's result tables, generated from the committed references (never typed by hand).

The README marks each generated block::

    <!-- reference:mnist-table2 -->
    ...generated markdown...
    <!-- /reference -->

``python -m divnet_nb.report.readme`` (``make readme``) rewrites every block from
``reference/*.json``; ``--check`` only reports whether the README is up to date (a test
runs it). Blocks: ``mnist-table2`` (every variant on MNIST beside the paper's DivNet),
``datasets`` (DivNet and importance + fusion on every dataset beside the paper),
``claims`` (each claim's verdict per dataset) and ``provenance`` (where the numbers came
from). It also draws the README's two figures from ``reference/mnist.json``.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from pathlib import Path

import numpy as np

from ..datasets import title
from ..experiments.reference import REFERENCE_DIR
from ..paper import table2_cell
from ..paths import REPO_ROOT, NotACheckoutError, require_checkout
from ..verdicts import decide, mean_std, t_interval
from .sections import draw_section_figures, section_blocks

__all__ = ["BLOCK", "blocks", "render", "main"]

BLOCK = re.compile(
    r"(<!-- reference:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /reference -->)", re.S
)
DATASETS = ("mnist", "mnist_rot", "cifar10")
ORDER = ("dpp+fuse", "dpp", "random+fuse", "random", "importance+fuse", "importance")


def _cell(values, j) -> tuple[float, float]:
    mean, std = mean_std([row[j] for row in values][:])
    return float(np.atleast_1d(mean)[0]), float(np.atleast_1d(std)[0])


def _fmt(mean: float, std: float, bold: bool = False) -> str:
    text = f"{mean:.3f}" if np.isnan(std) else f"{mean:.3f} ± {std:.3f}"
    return f"**{text}**" if bold else text


def _paper(dataset: str, fraction: float) -> str:
    cell = table2_cell(dataset, "test", fraction)
    return f"{cell[0]:.2f} ± {cell[1]:.3g}" if cell else "-"


def mnist_table(ref: dict) -> str:
    """Every variant's test error on MNIST at each Table 2 fraction, the paper's DivNet beside."""
    t2 = ref["table2"]
    fractions = t2["fractions"]
    labels = {k: v["label"] for k, v in ref["variants"].items()}
    keys = [k for k in ORDER if k in t2["errors"]]
    stats = {k: [_cell(t2["errors"][k]["test"], j) for j in range(len(fractions))] for k in keys}
    best = [min(stats[k][j][0] for k in keys) for j in range(len(fractions))]
    lines = [
        "| hidden neurons kept | " + " | ".join(f"{f:.0%}" for f in fractions) + " |",
        "|---|" + "---|" * len(fractions),
    ]
    for k in keys:
        name = f"**{labels[k]}, ours**" if k == "dpp+fuse" else labels[k]
        cells = [
            _fmt(*stats[k][j], bold=stats[k][j][0] == best[j] and f < 1)
            for j, f in enumerate(fractions)
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        if k == "dpp+fuse":
            lines.append(
                "| DivNet, paper | " + " | ".join(_paper("mnist", f) for f in fractions) + " |"
            )
    n = len(ref["instances"])
    lines += ["", f"Test error, mean ± std over {n} networks (ddof = 1); best of ours in bold."]
    return "\n".join(lines)


def datasets_table(refs: dict) -> str:
    """DivNet (ours, paper) and importance + fusion on every dataset, test error."""
    fractions = refs[next(iter(refs))]["table2"]["fractions"]
    lines = [
        "| dataset | variant | " + " | ".join(f"{f:.0%}" for f in fractions) + " |",
        "|---|---|" + "---|" * len(fractions),
    ]
    for ds, ref in refs.items():
        t2 = ref["table2"]
        for key, label in (
            ("dpp+fuse", "DivNet, ours"),
            ("importance+fuse", "importance + fusion"),
        ):
            cells = [_fmt(*_cell(t2["errors"][key]["test"], j)) for j in range(len(fractions))]
            lines.append(f"| {title(ds)} | {label} | " + " | ".join(cells) + " |")
        lines.append(f"| {title(ds)} | importance + fusion - DivNet | " + " | ".join(
            _paired(t2["errors"]["importance+fuse"]["test"], t2["errors"]["dpp+fuse"]["test"], j)
            for j in range(len(fractions))) + " |")  # fmt: skip
        lines.append(
            f"| {title(ds)} | DivNet, paper | "
            + " | ".join(_paper(ds, f) for f in t2["fractions"])
            + " |"
        )
    lines += ["", "Mean ± std over the networks (ddof = 1). The difference rows: mean of the per-network "
              "differences, 95 % t-interval, and whether importance + fusion is lower (**holds**), higher "
              "(**does not hold**) or not resolved."]  # fmt: skip
    return "\n".join(lines)


def _paired(values, others, j) -> str:
    """Mean per-network difference at column ``j``, its 95 % t-interval and the verdict "< 0"."""
    d = np.array([row[j] for row in values]) - np.array([row[j] for row in others])
    mean, low, high = t_interval(d)
    if low == high == mean:
        return f"{mean:+.3f}"
    verdict = decide(low, high, "<0")
    shown = f"**{verdict}**" if verdict in ("holds", "does not hold") else verdict
    return f"{mean:+.3f} [{low:+.3f}, {high:+.3f}] {shown}"


def claims_table(refs: dict) -> str:
    """Each of the paper's claims, its verdict on each dataset."""
    names = [title(ds) for ds in refs]
    statements = [c["claim"] for c in refs[next(iter(refs))]["claims"]]
    lines = ["| claim | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for statement in statements:
        verdicts = []
        for ref in refs.values():
            c = next((c for c in ref["claims"] if c["claim"] == statement), None)
            verdicts.append(_verdict(c) if c else "-")
        lines.append(f"| {statement} | " + " | ".join(verdicts) + " |")
    return "\n".join(lines)


def _verdict(claim: dict) -> str:
    """The verdict, with how many kept sizes held and failed when there were several."""
    per = [p for p in claim.get("per_size", []) if isinstance(p["size"], int)]
    text = (
        f"**{claim['verdict']}**"
        if claim["verdict"] in ("holds", "does not hold")
        else claim["verdict"]
    )
    if len(per) > 1:
        held = sum(p["verdict"] == "holds" for p in per)
        failed = sum(p["verdict"] == "does not hold" for p in per)
        text += f" (holds at {held} of {len(per)} sizes" + (
            f", fails at {failed})" if failed else ")"
        )
    return text


def provenance(refs: dict) -> str:
    """Where the numbers come from: runs, machines, versions, commits."""
    lines = []
    for ds, ref in refs.items():
        env = ref["environment"]
        pk = env["packages"]
        lines.append(
            f"- {title(ds)}: `reference/{ds}.json`, {len(ref['instances'])} networks, full run "
            f"on {env['date']} ({env['machine']}; Python {env['python']}, torch {pk['torch']}, "
            f"numpy {pk['numpy']}, scipy {pk['scipy']}; commit {str(env['commit'])[:10]}"
            + (
                ", recorded when the file was written"
                if "not by the run" in env.get("recorded", "")
                else ""
            )
            + ")."
        )
    return "\n".join(lines)


#: Leaderboard entries shown in the README (every entry is in the leaderboard's own report).
BOARD_ROWS = (
    "dpp",
    "importance",
    "id",
    "qd-best",
    "greedy-ls",
    "swap",
    "swap | allocated",
    "swap | original",
    "swap | allocated, original",
)
#: The goals set for MNIST: (fraction, bound on the test error, or None for "within 0.15
#: points of the unpruned networks").
MNIST_GOALS = ((0.05, 0.07), (0.1, 0.035), (0.25, None))


def leaderboard_table(boards: dict) -> str:
    """The README's leaderboard: selected entries, every dataset, with the paired verdicts."""
    from ..experiments.leaderboard import comparisons
    from ..pruning.registry import get_method, method_names
    from .leaderboard import entry_name, table_lines

    labels = {m: get_method(m).label for m in method_names("neuron")}
    lines = []
    for ds, board in boards.items():
        n = len(board["unpruned_test_error"])
        stats = {k: mean_std(board["test_error"][k]) for k in board["test_error"]}
        n_kernel = board["settings"].get("n_kernel")
        source = "" if n_kernel is None else f"; statistics from {n_kernel} training inputs"
        lines += [
            f"**{title(ds)}** ({n} networks; unpruned: "
            f"{np.mean(board['unpruned_test_error']):.4f}{source}; the best of all {len(stats)} "
            f"entries in bold):",
            "",
            *table_lines(board, [k for k in BOARD_ROWS if k in stats], labels),
        ]
        verdicts = {}
        for c in comparisons(board):
            verdicts.setdefault((c["best"], c["rival"]), []).append(
                f"{c['fraction']:.0%}: {c['verdict']}"
            )
        lines.append("")
        for (contender, rival), vs in verdicts.items():
            against = "importance + fusion" if rival == "importance" else "DivNet"
            lines.append(
                f"- {entry_name(contender, labels)} below {against}? " + "; ".join(vs) + "."
            )
        fr = board["fractions"]
        if ds == "mnist":
            unpruned = float(np.mean(board["unpruned_test_error"]))
            for f, bound in MNIST_GOALS:
                j = fr.index(f) if f in fr else None
                if j is None:
                    continue
                key = min(stats, key=lambda k: stats[k][0][j])
                value = stats[key][0][j]
                limit = unpruned + 0.0015 if bound is None else bound
                goal = "within 0.15 points of the unpruned" if bound is None else f"<= {bound:.1%}"
                lines.append(
                    f"- Goal at {f:.0%} kept, {goal}: best mean {value:.2%} ({entry_name(key, labels)}): "
                    + ("**met**." if value <= limit else "**not met**.")
                )
        lines.append("")
    return "\n".join(lines).rstrip()


def _cited(refs: dict, stem, markdown) -> str:
    """Each committed reference's markdown, followed by its file (``stem(key)``) and commit."""
    return "\n\n".join(
        markdown(result)
        + f"\n\n(`reference/{stem(key)}.json`; commit "
        + f"{result.get('environment', {}).get('commit', '?')}.)"
        for key, result in refs.items()
    )


def edges_block(edge_refs: dict) -> str:
    """The README's edge-pruning block: each committed ``edges-<dataset>.json`` as a table and verdicts."""
    from .edges import edges_markdown

    return _cited(
        edge_refs, lambda ds: f"edges-{ds}", lambda r: edges_markdown(r, every_fraction=False)
    )


def theory_block(theory_refs: dict) -> str:
    """The README's teacher-student block: each committed ``teacher-student-*.json``."""
    from .theory import theory_markdown

    return _cited(theory_refs, str, theory_markdown)


def gates_block(gate_refs: dict) -> str:
    """The README's gate block: each committed ``gates-<dataset>.json``, its tables and findings."""
    from .gates import gate_findings, gates_markdown

    return _cited(
        gate_refs, lambda ds: f"gates-{ds}", lambda r: gates_markdown(r) + "\n\n" + gate_findings(r)
    )


def kernels_block(kernel_refs: dict) -> str:
    """The README's kernel block: each committed ``kernels-<dataset>.json``, summarised."""
    from .kernels import kernels_summary

    return _cited(kernel_refs, lambda ds: f"kernels-{ds}", kernels_summary)


def blocks(
    refs: dict,
    boards: dict | None = None,
    edge_refs: dict | None = None,
    theory_refs: dict | None = None,
    gate_refs: dict | None = None,
    kernel_refs: dict | None = None,
) -> dict[str, str]:
    """The generated markdown of every block, from the references ``{dataset: reference}``."""
    load = functools.partial(_by_dataset, REFERENCE_DIR)
    out = {"provenance": provenance(refs), "claims": claims_table(refs)}
    out |= section_blocks(load, _cited)
    if kernel_refs:
        out["kernels"] = kernels_block(kernel_refs)
    if gate_refs:
        out["gates"] = gates_block(gate_refs)
    if boards:
        out["leaderboard"] = leaderboard_table(boards)
    if edge_refs:
        out["edges"] = edges_block(edge_refs)
    if theory_refs:
        out["theory"] = theory_block(theory_refs)
    if "mnist" in refs:
        out["mnist-table2"] = mnist_table(refs["mnist"])
    out["datasets"] = datasets_table(refs)
    return out


def load_all(folder: Path = REFERENCE_DIR) -> dict[str, dict[str, dict]]:
    """Every committed reference in ``folder``, ``{experiment: {file stem: content}}``.

    The kind of a file is its ``"experiment"`` key, never guessed from its other keys; a
    file without one is an error.
    """
    import json

    out: dict[str, dict[str, dict]] = {}
    for path in sorted(Path(folder).glob("*.json")):
        ref = json.loads(path.read_text())
        kind = ref.get("experiment") if isinstance(ref, dict) else None
        if kind is None:
            raise ValueError(
                f"{path} names no experiment: write it with divnet_nb.experiments.reference"
            )
        out.setdefault(kind, {})[path.stem] = ref
    return out


def _by_dataset(folder: Path, kind: str) -> dict:
    """``{dataset: reference}`` of one kind, in the order of :data:`DATASETS`."""
    found = {ref.get("dataset"): ref for ref in load_all(folder).get(kind, {}).values()}
    return {ds: found[ds] for ds in DATASETS if ds in found}


def load_references(folder: Path = REFERENCE_DIR) -> dict:
    """The committed reproductions, ``{dataset: reference}``."""
    return _by_dataset(folder, "reproduce")


def load_boards(folder: Path = REFERENCE_DIR) -> dict:
    """The committed leaderboards, ``{dataset: leaderboard}``."""
    return _by_dataset(folder, "leaderboard")


def load_edges(folder: Path = REFERENCE_DIR) -> dict:
    """The committed edge-pruning runs, ``{dataset: result}``."""
    return _by_dataset(folder, "edges")


def load_gates(folder: Path = REFERENCE_DIR) -> dict:
    """The committed gate experiments, ``{dataset: result}``."""
    return _by_dataset(folder, "gates")


def load_kernels(folder: Path = REFERENCE_DIR) -> dict:
    """The committed kernel comparisons, ``{dataset: result}``."""
    return _by_dataset(folder, "kernels")


def load_theory(folder: Path = REFERENCE_DIR) -> dict:
    """The committed teacher-student runs, ``{file stem: result}``."""
    return dict(load_all(folder).get("theory", {}))


def render(
    text: str,
    refs: dict,
    boards: dict | None = None,
    edge_refs: dict | None = None,
    theory_refs: dict | None = None,
    gate_refs: dict | None = None,
    kernel_refs: dict | None = None,
) -> str:
    """``text`` with every marked block regenerated; an unknown block name is an error."""
    generated = blocks(refs, boards, edge_refs, theory_refs, gate_refs, kernel_refs)

    def replace(match: re.Match) -> str:
        name = match["name"]
        if name not in generated:
            raise ValueError(f"README block {name!r} is not one of {', '.join(generated)}")
        return f"{match[1]}{generated[name]}\n{match[4]}"

    return BLOCK.sub(replace, text)


def draw_figures(refs: dict, folder: Path = REFERENCE_DIR) -> list[Path]:
    """The README's two figures, drawn from reference/mnist.json: Figure 5 and Table 2 as a plot."""
    from .figures import (
        FIGURES,
        plot_sweep,
        plot_table2,
        save_figure,
        unpruned_errors,
        variant_style,
    )

    ref = refs.get("mnist")
    if ref is None:
        return []
    described = ref["variants"]
    labels = {k: v["label"] for k, v in described.items()}
    styles = {k: variant_style(k, v) for k, v in described.items()}
    stem, _layer, keys, caption = next(f for f in FIGURES if f[0] == "fig5_importance")
    paths = [folder / f"mnist_{stem}.png", folder / "mnist_table2.png"]
    unpruned = unpruned_errors(ref)  # with it, a second panel: each network's excess error
    size = {"panels": 1} if unpruned is None else {"panels": 2, "figsize": (12, 4.4)}
    save_figure(
        lambda ax: plot_sweep(
            ref["sweeps"]["0"],
            keys,
            labels,
            f"{caption} (MNIST)",
            ax=ax,
            styles=styles,
            unpruned=unpruned,
        ),
        paths[0],
        **size,
    )
    save_figure(lambda ax: plot_table2(ref, ax=ax), paths[1], **size)
    return paths


def draw_edge_figures(edge_refs: dict, folder: Path = REFERENCE_DIR) -> list[Path]:
    """The edge-pruning figure of every committed run, ``reference/edges-<dataset>.png``."""
    from .edges import plot_edges
    from .figures import save_figure

    paths = [folder / f"edges-{ds}.png" for ds in edge_refs]
    for path, result in zip(paths, edge_refs.values(), strict=True):
        save_figure(lambda ax, r=result: plot_edges(r, ax=ax), path, figsize=(7.2, 4.6))
    return paths


def draw_kernel_figures(kernel_refs: dict, folder: Path = REFERENCE_DIR) -> list[Path]:
    """The kernel comparison's figure of every committed run, ``reference/kernels-<dataset>.png``."""
    from .kernels import save_kernels_figure

    return [save_kernels_figure(r, folder / f"kernels-{ds}.png") for ds, r in kernel_refs.items()]


def draw_gate_figures(gate_refs: dict, folder: Path = REFERENCE_DIR) -> list[Path]:
    """The gate experiment's figure of every committed run, ``reference/gates-<dataset>.png``."""
    from .gates import save_gates_figure

    return [save_gates_figure(r, folder / f"gates-{ds}.png") for ds, r in gate_refs.items()]


def draw_theory_figures(theory_refs: dict, folder: Path = REFERENCE_DIR) -> list[Path]:
    """Pruned students' errors and the learning curves of every committed teacher-student run."""
    from .theory import save_theory_figure

    return [save_theory_figure(r, folder / f"{name}.png") for name, r in theory_refs.items()]


def main(argv=None) -> int:
    """Regenerate the README's result blocks from ``reference/*.json`` (``--check``: only compare)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the README is stale")
    parser.add_argument("--readme", type=Path, default=REPO_ROOT / "README.md")
    args = parser.parse_args(argv)
    try:
        require_checkout("The README and the committed references (reference/*.json)")
    except NotACheckoutError as exc:
        print(f"divnet-nb: {exc}", file=sys.stderr)
        return 2
    text = args.readme.read_text()
    new = render(
        text, load_references(), load_boards(), load_edges(), load_theory(), load_gates(),
        load_kernels(),
    )  # fmt: skip
    if args.check:
        if new != text:
            print(
                f"{args.readme} is not what reference/*.json give: run make readme", file=sys.stderr
            )
            return 1
        return 0
    args.readme.write_text(new)
    figures = (
        draw_figures(load_references())
        + draw_edge_figures(load_edges())
        + draw_theory_figures(load_theory())
        + draw_gate_figures(load_gates())
        + draw_kernel_figures(load_kernels())
        + draw_section_figures(functools.partial(_by_dataset, REFERENCE_DIR), REFERENCE_DIR)
    )
    print(
        f"{args.readme}: {len(BLOCK.findall(new))} blocks regenerated; figures {[p.name for p in figures]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
