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
differences with intervals (:mod:`divnet_nb.verdicts`). The first hidden layer's relative fusion
error E(S) / tr(W^T G W) of each rule is recorded too, at the uniform sizes.
"""

from __future__ import annotations

import re

import numpy as np

from ..tasks.protocol import register_experiment
from ..verdicts import decide, t_interval
from .base import NetworkExperiment, kernel_argument, kernel_samples_argument
from .reference import environment
from .settings import method_stream

__all__ = [
    "FRACTIONS",
    "METHODS",
    "FOCUS",
    "CONTENDERS",
    "Leaderboard",
    "entries",
    "entry_key",
    "comparisons",
    "leaderboard_part",
    "leaderboard",
    "FUSIONS",
    "fusion_options",
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
    from ..core.objective import fusion_error
    from ..nets.evaluate import error_rate
    from ..pruning.apply import prune_network, read_layer_data, sizes_for_fraction
    from ..pruning.neuron.budget import allocate, relative_error_curves
    from ..pruning.statistics import importance_scores, outgoing_weights

    entry_list = entries() if entry_list is None else entry_list
    model = exp.model(i)
    x = exp.x_kernel
    W1 = outgoing_weights(model, 0)
    first = read_layer_data(model, 0, x, kernel=exp.settings.kernel).with_inputs(
        weights=W1, importance=importance_scores(model, 0)
    )  # shared by every entry, with its greedy paths; the k-DPP's kernel is the settings'
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


def gather_board(settings, parts: list[dict], fractions=FRACTIONS, entry_list=None) -> dict:
    """The leaderboard from every network's part."""
    entry_list = entries() if entry_list is None else entry_list
    keys = list(parts[0]["test_error"])
    return {
        "dataset": settings.dataset,
        "fractions": list(fractions),
        "entries": [
            {"key": entry_key(*e), "method": e[0], "budget": e[1], "target": e[2]}
            for e in entry_list
        ],
        "test_error": {k: [p["test_error"][k] for p in parts] for k in keys},
        "relative_E_layer1": {k: [p["relative_E_layer1"][k] for p in parts] for k in keys},
        "unpruned_test_error": [p["unpruned_test_error"] for p in parts],
        "sizes": parts[0]["sizes"],
        "settings": settings.to_dict(),
        "environment": environment(),
    }


def leaderboard(exp, fractions=FRACTIONS, entry_list=None, *, executor=None, threads=None) -> dict:
    """The leaderboard of ``exp``'s networks (an :class:`~divnet_nb.experiments.Experiment`).

    With the default fractions and entries it is the ``leaderboard`` experiment, its parts
    kept in ``exp``'s store and computed in this process or on ``executor``; with others
    each network's part is computed here and not stored.
    """
    if fractions == FRACTIONS and entry_list is None:
        return exp.run("leaderboard", executor=executor, threads=threads)
    from .sweeps import progress_bar

    entry_list = entries() if entry_list is None else entry_list
    bar = progress_bar(
        exp.settings.instances * len(entry_list) * len(fractions), "leaderboard", exp.progress
    )
    parts = [
        leaderboard_part(exp, i, fractions, entry_list, bar) for i in range(exp.settings.instances)
    ]
    bar.close()
    return gather_board(exp.settings, parts, fractions, entry_list)


_PART = re.compile(r"net(\d+)-leaderboard$")


@register_experiment
class Leaderboard(NetworkExperiment):
    """Every selection rule with fusion on the Table 1 networks (:data:`FRACTIONS`, :func:`entries`)."""

    name = "leaderboard"
    help = "every selection rule with fusion, Table 2 style: which neurons should we keep?"
    description = (
        "Prune every hidden layer of the Table 1 networks with every registered rule "
        "(followed by fusion) at 5-75 % kept, with the budget shared across layers and the "
        "fusion targeted at the original network for the best rules; write leaderboard.json, "
        "leaderboard.md and leaderboard.png. Resumable like reproduce."
    )
    file_stem = "leaderboard"

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        kernel_samples_argument(parser)
        kernel_argument(parser)

    def phases(self, settings) -> list[list[str]]:
        n = settings.instances
        return [self.training_phase(settings), [f"net{i}-leaderboard" for i in range(n)]]

    def measure(self, exp, key: str):
        m = _PART.match(key)
        if m is None:
            raise ValueError(f"no part {key!r} in leaderboard")
        from .sweeps import progress_bar

        bar = progress_bar(len(entries()) * len(FRACTIONS), f"network {m[1]}", exp.progress)
        try:
            return leaderboard_part(exp, int(m[1]), progress=bar)
        finally:
            bar.close()

    def gather(self, settings, parts: dict) -> dict:
        return gather_board(
            settings, [parts[f"net{i}-leaderboard"] for i in range(settings.instances)]
        )

    def describe_reference(self, result: dict) -> str:
        return f"{len(result['unpruned_test_error'])} networks, {len(result['entries'])} entries"


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
    from ..nets.evaluate import error_rate
    from ..pruning.apply import prune_network, read_layer_data
    from ..pruning.statistics import importance_scores, outgoing_weights
    from .sweeps import progress_bar

    fusions = FUSIONS if fusions is None else fusions
    out = {name: {m: [] for m in methods} for name in fusions}
    bar = progress_bar(
        exp.settings.instances * len(methods) * len(fusions) * len(fractions),
        "fusion settings",
        exp.progress,
    )
    for i in range(exp.settings.instances):
        model, x = exp.model(i), exp.x_kernel
        first = read_layer_data(model, 0, x, kernel=exp.settings.kernel).with_inputs(
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
