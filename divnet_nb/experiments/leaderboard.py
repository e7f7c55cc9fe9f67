"""Which neurons should we keep? Every selection rule on the paper's networks, in one table.

Like Table 2 (every hidden layer pruned, no retraining), but for every registered rule
with fusion, at :data:`FRACTIONS` of the hidden neurons, and, for the rules in
:data:`FOCUS`, two network-level options beside the paper's choices:

* **budget** - ``uniform`` keeps the same fraction of every layer (Table 2);
  ``allocated`` splits the same total between layers by their relative fusion error
  (:func:`divnet_nb.pruning.allocate`);
* **target** - ``pruned`` fuses each layer towards the next-layer input of the network
  pruned so far (the paper); ``original`` towards the original network's
  (:func:`divnet_nb.core.fuse.fuse_to_target`).

Every entry is scored on the same networks, so entries are compared on per-network
differences with intervals (:mod:`.verdicts`). The first hidden layer's relative fusion
error E(S) / tr(W^T G W) of each rule is recorded too, at the uniform sizes.
"""

from __future__ import annotations

import numpy as np

from ..nets.evaluate import error_rate
from ..pruning.apply import prune_network, sizes_for_fraction
from ..pruning.neuron.budget import allocate, relative_error_curves
from ..pruning.neuron.layer_data import LayerData
from ..pruning.statistics import importance_scores, layer_statistics, outgoing_weights
from .reference import environment
from .sweeps import method_stream
from .verdicts import LEVEL, decide, mean_std, t_interval

__all__ = [
    "FRACTIONS",
    "METHODS",
    "FOCUS",
    "entries",
    "leaderboard_part",
    "leaderboard",
    "summarise",
    "FUSIONS",
    "fusion_options",
    "fusion_table",
]

FRACTIONS = (0.05, 0.1, 0.25, 0.5, 0.75)
#: Every rule compared (with fusion).
METHODS = (
    "dpp",
    "random",
    "importance",
    "id",
    "id-centred",
    "qd-dpp",
    "qd-greedy",
    "qd-best",
    "greedy-ls",
    "swap",
)
#: Rules also measured with the allocated budget and the original target.
FOCUS = ("importance", "greedy-ls", "swap")


def entries(methods=METHODS, focus=FOCUS) -> list[tuple[str, str, str]]:
    """(method, budget, target) of every entry: all rules uniform/pruned, the focus rules in all four."""
    out = [(m, "uniform", "pruned") for m in methods]
    for m in focus:
        if m in methods:
            out += [(m, b, t) for b, t in (("allocated", "pruned"), ("uniform", "original"),
                                           ("allocated", "original"))]  # fmt: skip
    return out


def entry_key(method: str, budget: str, target: str) -> str:
    """``"greedy-ls"``, ``"greedy-ls | allocated"``, ``"greedy-ls | original"``, ``"... | allocated, original"``."""
    extra = [
        x
        for x in (budget if budget != "uniform" else "", target if target != "pruned" else "")
        if x
    ]
    return method if not extra else f"{method} | {', '.join(extra)}"


def leaderboard_part(exp, i: int, fractions=FRACTIONS, entry_list=None, progress=None) -> dict:
    """One network's row of the leaderboard: test error of every entry at every fraction."""
    entry_list = entries() if entry_list is None else entry_list
    model = exp.models[i]
    x = exp.x_kernel
    W1 = outgoing_weights(model, 0)
    first = LayerData(layer_statistics(model, 0, x)).with_inputs(
        weights=W1, importance=importance_scores(model, 0)
    )  # shared by every entry, with its greedy paths
    G1 = first.gram
    scale1 = float(np.einsum("ij,ij->", W1, G1 @ W1))
    needs_curves = any(b == "allocated" for _, b, _ in entry_list)
    curves = relative_error_curves(model, x) if needs_curves else None
    sizes = {("uniform", f): sizes_for_fraction(model, f) for f in fractions} | (
        {  # the same total as the uniform split, which rounds layer by layer
            ("allocated", f): allocate(model, sum(sizes_for_fraction(model, f)), curves=curves)
            for f in fractions
        }
        if needs_curves
        else {}
    )
    from ..core.objective import fusion_error

    test, rel_e = {}, {}
    for method, budget, target in entry_list:
        key = entry_key(method, budget, target)
        test[key], rel_e[key] = [], []
        for fi, f in enumerate(fractions):
            rng = exp._rng(i, 300, method_stream(method), fi)
            pruned, keeps = prune_network(
                model, sizes[(budget, f)], method, True, rng, data=x,
                first_layer_data=first, target=target, return_keep=True,
            )  # fmt: skip
            test[key].append(error_rate(pruned, exp.data.x_test, exp.data.y_test))
            rel_e[key].append(fusion_error(G1, W1, keeps[0]) / scale1)
            if progress is not None:
                progress.update(1)
    return {
        "test_error": test,
        "relative_E_layer1": rel_e,
        "sizes": {f"{b} {f}": s for (b, f), s in sizes.items()},
        "unpruned_test_error": error_rate(model, exp.data.x_test, exp.data.y_test),
    }


def leaderboard(exp, fractions=FRACTIONS, entry_list=None) -> dict:
    """Every network's part (stored and resumed through the experiment's store), gathered."""
    from .sweeps import progress_bar

    entry_list = entries() if entry_list is None else entry_list
    parts = []
    bar = progress_bar(
        exp.settings.instances * len(entry_list) * len(fractions), "leaderboard", exp.progress
    )
    for i in range(exp.settings.instances):
        parts.append(
            exp._part(
                f"net{i}-leaderboard",
                lambda i=i: leaderboard_part(exp, i, fractions, entry_list, bar),
                True,
            )
        )
    bar.close()
    keys = list(parts[0]["test_error"])
    return {
        "dataset": exp.dataset,
        "fractions": list(fractions),
        "entries": [
            {"key": entry_key(*e), "method": e[0], "budget": e[1], "target": e[2]}
            for e in entry_list
        ],
        "test_error": {k: [p["test_error"][k] for p in parts] for k in keys},
        "relative_E_layer1": {k: [p["relative_E_layer1"][k] for p in parts] for k in keys},
        "unpruned_test_error": [p["unpruned_test_error"] for p in parts],
        "sizes": parts[0]["sizes"],
        "settings": exp.settings.to_dict(),
        "environment": environment(),
    }


#: The entries declared before measuring to be compared with the paper's rules: greedy on E
#: as it is, and swaps with both network-level options.
CONTENDERS = ("greedy-ls", "swap | allocated, original")


def comparisons(board: dict) -> list[dict]:
    """At each fraction: each contender against importance + fusion and against DivNet, paired."""
    out = []
    keys = list(board["test_error"])
    for j, f in enumerate(board["fractions"]):
        for best in [c for c in CONTENDERS if c in keys]:
            for rival in [r for r in ("importance", "dpp") if r in keys]:
                pairs = zip(board["test_error"][best], board["test_error"][rival], strict=True)
                mean, low, high = t_interval([a[j] - b[j] for a, b in pairs])
                out.append(
                    {
                        "fraction": f,
                        "best": best,
                        "rival": rival,
                        "mean": mean,
                        "interval": [low, high],
                        "verdict": decide(low, high, "<0"),
                    }
                )
    return out


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


def summarise(board: dict, labels: dict) -> str:
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
        f"{'all training inputs' if n_kernel is None else f'{n_kernel} training inputs'}.",
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


#: Fusion settings the rules are measured with: the paper's least squares, with a constant
#: term (the affine fit), and with a small ridge (relative to the system's mean diagonal).
FUSIONS = {"paper": {}, "intercept": {"intercept": True}, "ridge 1e-3": {"ridge": 1e-3}}


def fusion_options(
    exp,
    methods=("dpp", "importance", "greedy-ls", "swap"),
    fractions=(0.05, 0.1, 0.25),
    fusions=None,
) -> dict:
    """Test error of each rule fused with each setting of :data:`FUSIONS`, every hidden layer pruned.

    For one network, rule and fraction every setting starts from the same random
    stream, so the first layer's selection is shared and the settings are compared on
    the same networks and the same first-layer neurons. Returns ``{"fractions",
    "test_error": {setting: {method: [networks x fractions]}}}``.
    """
    from .sweeps import progress_bar

    fusions = FUSIONS if fusions is None else fusions
    out = {name: {m: [] for m in methods} for name in fusions}
    bar = progress_bar(
        exp.settings.instances * len(methods) * len(fusions) * len(fractions),
        "fusion settings",
        exp.progress,
    )
    for i in range(exp.settings.instances):
        model, x = exp.models[i], exp.x_kernel
        first = LayerData(layer_statistics(model, 0, x)).with_inputs(
            weights=outgoing_weights(model, 0), importance=importance_scores(model, 0)
        )
        for m in methods:
            for name, settings in fusions.items():
                row = []
                for fi, f in enumerate(fractions):
                    rng = exp._rng(i, 301, method_stream(m), fi)
                    pruned = prune_network(
                        model, f, m, True, rng, data=x, first_layer_data=first, **settings
                    )
                    row.append(error_rate(pruned, exp.data.x_test, exp.data.y_test))
                    bar.update(1)
                out[name][m].append(row)
    bar.close()
    return {"fractions": list(fractions), "test_error": out}


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
