"""DivNet on convolutional networks: the paper's two CNN claims, and the rules beside it.

The paper says DivNet applies "without any further modification" to the fully-connected
layers of a CNN (section 1), and proposes pruning a conv layer's filters by treating each
filter's activations as a vector (section 4). On a registered CNN of the dataset
(:data:`CNN_FOR`: LeNet-5-Caffe on MNIST, a small VGG-style network on CIFAR-10, a small
CNN on digits for fast runs) this experiment prunes, for each of the :data:`SETTINGS`

* ``dense`` - (a) the dense hidden layer alone;
* ``last-conv`` - (b) the filters of the last conv layer, which feeds the dense layer;
* ``convs`` - (c) the filters of every conv layer, first to last;
* ``all`` - (d) every prunable layer to the same fraction (Table 2-style);
* ``budget`` - (d) every prunable layer, the units shared out by the budget allocation
  (:func:`~divnet_nb.pruning.neuron.budget.allocate`),

with each rule of :data:`RULES`, with and without fusion, at each fraction, and reports the
test error before and after a short fine-tune (:data:`FINETUNE`), the kept parameters and
multiply-accumulates per layer, and the measured CPU latency of the smaller network.

Parts: ``train-net<i>``; ``net<i>-<setting>-<rule>`` (every fraction, plain and fused, each
also fine-tuned); ``latency`` (network 0, in a phase of its own so that nothing else runs
beside it). The random stream of a cell is keyed by (network, setting, rule, fraction):
plain and fused variants share their selection (a paired design).
"""

from __future__ import annotations

import re

import numpy as np

from ..tasks.protocol import register_experiment
from .base import NetworkExperiment
from .reference import environment
from .settings import method_stream

__all__ = [
    "CNN_FOR",
    "RULES",
    "LEFT_OUT",
    "SETTINGS",
    "FINETUNE",
    "Cnn",
    "cnn_part",
    "prune_setting",
]

#: The CNN each dataset's experiment prunes.
CNN_FOR = {"digits": "digits-cnn", "mnist": "lenet5-caffe", "cifar10": "cifar10-cnn"}
#: What is pruned, in order.
SETTINGS = {
    "dense": "(a) the dense hidden layer alone",
    "last-conv": "(b) the last conv layer's filters",
    "convs": "(c) every conv layer's filters",
    "all": "(d) every prunable layer, the same fraction",
    "budget": "(d) every prunable layer, a shared budget",
}
#: The rules compared, DivNet's first.
RULES = ("dpp", "random", "importance", "greedy-ls", "swap", "id", "lasso")
#: Registered neuron rules not run here, and why.
LEFT_OUT = {
    "dpp-nonparametric": "chooses its own size, so it has no place at a fixed fraction",
    "greedy-map": "another way of choosing from DivNet's k-DPP: the kernels experiment compares them",
    "dpp-best": "another way of choosing from DivNet's k-DPP: the kernels experiment compares them",
    "qd-dpp": "the weights-aware kernel, compared with DivNet's by the kernels experiment",
    "qd-greedy": "the weights-aware kernel, compared with DivNet's by the kernels experiment",
    "qd-best": "the weights-aware kernel, compared with DivNet's by the kernels experiment",
    "id-centred": "a variant of id; every cell here is also fine-tuned, which bounds the rules run",
    "dpp-sized": "chooses its own size, so it has no place at a fixed fraction",
    "map-sized": "chooses its own size, so it has no place at a fixed fraction",
}
FRACTIONS = (0.1, 0.25, 0.5)
FAST_FRACTIONS = (0.25, 0.5)
#: The fine-tune after pruning: one pass over this many training inputs (all when fewer).
FINETUNE = {"epochs": 1, "inputs": 10000, "optimizer": "adam", "lr": 1e-4, "batch_size": 100}

_PART = re.compile(r"net(\d+)-(dense|last-conv|convs|all|budget)-([a-z0-9-]+)$")
_SETTING_INDEX = {name: i for i, name in enumerate(SETTINGS)}


def cnn_fractions(settings) -> tuple[float, ...]:
    return FAST_FRACTIONS if settings.fast else FRACTIONS


def prune_setting(
    model, setting: str, fraction: float, rule: str, reweight: bool, rng, data, *, shared=None
):
    """``model`` pruned as ``setting`` says, every pruned layer keeping ``fraction`` of its units.

    ``shared``, a dict kept by the caller across calls on the same ``model`` and ``data``,
    holds the statistics of a setting that prunes one site (``dense``, ``last-conv``): they
    are read over the data once instead of once per fraction and variant, with the same
    numbers (the site's statistics do not depend on what is pruned).
    """
    from ..nets.conv_sites import ConvSite
    from ..nets.sites import find_sites
    from ..pruning.apply import prune_layer, prune_network
    from ..pruning.neuron.budget import allocate
    from ..pruning.neuron.layer_data import LayerData
    from ..pruning.statistics import layer_statistics

    if setting == "all":
        return prune_network(model, fraction, rule, reweight, rng, data=data)
    if setting == "budget":
        return prune_network(model, allocate(model, fraction, data), rule, reweight, rng, data=data)
    sites = find_sites(model)
    convs = [s for s in sites if isinstance(s, ConvSite)]
    chosen = {
        "dense": [s for s in sites if not isinstance(s, ConvSite)][-1:],
        "last-conv": convs[-1:],
        "convs": convs,
    }[setting]
    if shared is not None and len(chosen) == 1:
        site = chosen[0]
        if setting not in shared:
            shared[setting] = LayerData(layer_statistics(model, site, data))
        k = max(1, int(round(fraction * site.width(model))))
        return prune_layer(
            model, site, k, rule, reweight, rng, data=data, layer_data=shared[setting]
        )
    current = model
    for site in chosen:
        k = max(1, int(round(fraction * site.width(model))))
        current = prune_layer(current, site, k, rule, reweight, rng, data=data)
    return current


def _fine_tuned(model, exp, i: int, cell: int):
    """A copy of ``model`` fine-tuned as :data:`FINETUNE` says (seeded by network and cell)."""
    import copy
    from types import SimpleNamespace

    from ..training.config import TrainConfig
    from ..training.loop import fit

    n = min(FINETUNE["inputs"], exp.data.x_train.shape[0])
    pick = np.sort(exp._rng(i, 401, cell).choice(exp.data.x_train.shape[0], n, replace=False))
    subset = SimpleNamespace(
        name=exp.dataset, x_train=exp.inputs(exp.data.x_train[pick]), y_train=exp.data.y_train[pick]
    )
    config = TrainConfig(
        max_epochs=FINETUNE["epochs"], optimizer=FINETUNE["optimizer"], lr=FINETUNE["lr"],
        batch_size=FINETUNE["batch_size"],
    )  # fmt: skip
    tuned = copy.deepcopy(model)
    fit(tuned, subset, 10_000 + cell, config, device="cpu", progress=False, until_threshold=False)
    return tuned


def cnn_part(exp, i: int, setting: str, rule: str, fractions, progress=None) -> dict:
    """Network ``i`` pruned as ``setting`` with ``rule``, plain and fused, each also fine-tuned."""
    from ..nets.architectures import get_architecture
    from ..nets.costs import layer_costs
    from ..nets.evaluate import error_rate
    from ..nets.sites import find_sites
    from .fusion import fusion_warnings

    model, x, y = exp.model(i), exp.x_kernel, exp.data.y_test
    shape = get_architecture(exp.settings.architecture).input_shape
    out = {"test_error": {}, "finetuned_error": {}, "widths": [], "costs": []}
    shared = {}  # a one-site setting's statistics, read once for the whole part
    with fusion_warnings() as ridged:
        for variant, reweight in (("plain", False), ("fused", True)):
            out["test_error"][variant], out["finetuned_error"][variant] = [], []
            for fi, f in enumerate(fractions):
                rng = exp._rng(i, 400, _SETTING_INDEX[setting], method_stream(rule), fi)
                pruned = prune_setting(model, setting, f, rule, reweight, rng, x, shared=shared)
                out["test_error"][variant].append(error_rate(pruned, exp.x_test, y))
                tuned = _fine_tuned(pruned, exp, i, 2 * fi + int(reweight))
                out["finetuned_error"][variant].append(error_rate(tuned, exp.x_test, y))
                if reweight:
                    out["widths"].append([s.width(pruned) for s in find_sites(pruned)])
                    out["costs"].append(layer_costs(pruned, shape))
                if progress is not None:
                    progress.update(1)
    out["ridged_solves"] = ridged["count"]
    return out


def latency_part(exp, fractions) -> dict:
    """Network 0 against its smaller copies (every layer at each fraction): CPU latency at batch 1 and 256."""
    from ..nets.architectures import get_architecture
    from ..nets.costs import latency, layer_costs
    from ..pruning.apply import prune_network

    model = exp.model(0)
    shape = get_architecture(exp.settings.architecture).input_shape
    rows = []
    for f in (1.0, *fractions):
        net = model if f == 1.0 else prune_network(model, f, "importance", False, data=exp.x_kernel)
        costs = layer_costs(net, shape)
        rows.append({
            "fraction": f, "params": sum(c["params"] for c in costs),
            "macs": sum(c["macs"] for c in costs),
            "batch1_seconds": latency(net, shape, 1, repeats=50),
            "batch256_seconds": latency(net, shape, 256, repeats=10),
        })  # fmt: skip
    import torch

    return {"rows": rows, "torch_threads": torch.get_num_threads()}


def gather_cnn(settings, parts: dict) -> dict:
    """The result from every part (see :class:`Cnn`)."""
    n = settings.instances
    test, tuned, widths, costs = {}, {}, {}, {}
    for setting in SETTINGS:
        test[setting], tuned[setting], widths[setting] = {}, {}, {}
        for rule in RULES:
            rows = [parts[f"net{i}-{setting}-{rule}"] for i in range(n)]
            test[setting][rule] = {
                v: [r["test_error"][v] for r in rows] for v in ("plain", "fused")
            }
            tuned[setting][rule] = {
                v: [r["finetuned_error"][v] for r in rows] for v in ("plain", "fused")
            }
            widths[setting][rule] = [r["widths"] for r in rows]
        costs[setting] = parts[f"net0-{setting}-importance"]["costs"]
    trains = [parts[f"train-net{i}"]["instance"] for i in range(n)]
    return {
        "experiment": "cnn",
        "dataset": settings.dataset,
        "architecture": settings.architecture,
        "fractions": list(cnn_fractions(settings)),
        "settings_pruned": dict(SETTINGS),
        "rules": list(RULES),
        "left_out": dict(LEFT_OUT),
        "finetune": dict(FINETUNE),
        "test_error": test,
        "finetuned_error": tuned,
        "widths": widths,
        "costs": costs,
        "unpruned_test_error": [t["test_error"] for t in trains],
        "instances": trains,
        "latency": parts["latency"],
        "ridged_solves": sum(
            p.get("ridged_solves", 0) for p in parts.values() if isinstance(p, dict)
        ),
        "settings": settings.to_dict(),
        "environment": environment(),
    }


@register_experiment
class Cnn(NetworkExperiment):
    """DivNet and the other rules on a CNN's channels and dense units, ± fusion, ± fine-tuning."""

    name = "cnn"
    help = "DivNet on convolutional networks: dense layer, filters, every layer, ± fusion and fine-tuning"
    description = (
        "Prune a registered CNN (digits: a small CNN; mnist: LeNet-5-Caffe; cifar10: a small "
        "VGG-style network) five ways - the dense hidden layer, the last conv layer's filters, "
        "every conv layer's filters, every layer to the same fraction, every layer with a "
        "shared budget - with each rule (k-DPP, random, importance, greedy on E(S), swaps, ID, "
        "LASSO), with and without fusion, before and after a short fine-tune; measure the kept "
        "parameters, multiply-accumulates and CPU latency. Write cnn.json and cnn.md. "
        "Resumable like reproduce."
    )
    file_stem = "cnn"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dataset", required=True, choices=tuple(CNN_FOR),
            help="which dataset: its CNN is " + ", ".join(f"{d}: {a}" for d, a in CNN_FOR.items()),
        )  # fmt: skip
        parser.add_argument("--instances", type=int, help="networks (default 5; cifar10 3; fast 2)")
        parser.add_argument("--seed", type=int, default=0, help="as for reproduce (default 0)")

    def settings_from_args(self, args, fast: bool):
        from .settings import settings_for

        instances = args.instances
        if instances is None and args.dataset == "cifar10" and not fast:
            instances = 3
        return settings_for(
            args.dataset, fast=fast, instances=instances, seed=args.seed,
            architecture=CNN_FOR[args.dataset],
        )  # fmt: skip

    def phases(self, settings) -> list[list[str]]:
        n = settings.instances
        measure = [f"net{i}-{s}-{r}" for i in range(n) for s in SETTINGS for r in RULES]
        return [self.training_phase(settings), measure, ["latency"]]

    def measure(self, exp, key: str):
        fractions = cnn_fractions(exp.settings)
        if key == "latency":
            return latency_part(exp, fractions)
        m = _PART.match(key)
        if m is None or m[3] not in RULES:
            raise ValueError(f"no part {key!r} in cnn")
        from .sweeps import progress_bar

        bar = progress_bar(2 * len(fractions), f"network {m[1]}, {m[2]}, {m[3]}", exp.progress)
        try:
            return cnn_part(exp, int(m[1]), m[2], m[3], fractions, progress=bar)
        finally:
            bar.close()

    def gather(self, settings, parts: dict) -> dict:
        return gather_cnn(settings, parts)

    def describe_reference(self, result: dict) -> str:
        n = len(result["unpruned_test_error"])
        return f"{result['architecture']}: {n} networks, {len(result['rules'])} rules x 5 settings"


def cnn_comparisons(result: dict) -> list[dict]:
    """The paper's two CNN claims, and the best rule, as paired verdicts per fraction.

    Families (Holm's correction within each): ``dense`` and ``filters`` - DivNet (k-DPP)
    against random and against importance, plain and fused, on settings (a) and (b);
    ``best`` - at each fraction of setting (d), the rule with the lowest mean fused error
    against DivNet + fusion and against importance + fusion (chosen on the same networks,
    so its verdicts favour it); ``fine-tuned`` - the same comparison as ``dense`` and
    ``filters`` after the fine-tune, fused. Differences are rule minus rival (negative:
    the rule's error is lower).
    """
    from ..verdicts import holm_family, paired_row

    fr = result["fractions"]
    test, tuned = result["test_error"], result["finetuned_error"]

    def row(family, setting, ours, rival, variant, j, table):
        d = (
            np.asarray(table[setting][ours][variant])[:, j]
            - np.asarray(table[setting][rival][variant])[:, j]
        )
        return paired_row(
            d, family=family, setting=setting, rule=ours, rival=rival, variant=variant,
            fraction=fr[j],
        )  # fmt: skip

    families: dict[str, list[dict]] = {"dense": [], "filters": [], "best": [], "fine-tuned": []}
    for family, setting in (("dense", "dense"), ("filters", "last-conv")):
        for rival in ("random", "importance"):
            for variant in ("plain", "fused"):
                families[family] += [
                    row(family, setting, "dpp", rival, variant, j, test) for j in range(len(fr))
                ]
            families["fine-tuned"] += [
                row("fine-tuned", setting, "dpp", rival, "fused", j, tuned) for j in range(len(fr))
            ]
    for j in range(len(fr)):
        means = {r: np.mean(np.asarray(test["all"][r]["fused"])[:, j]) for r in result["rules"]}
        best = min(means, key=means.get)
        for rival in ("dpp", "importance"):
            if rival != best:
                families["best"].append(row("best", "all", best, rival, "fused", j, test))
    return [row for rows in families.values() for row in holm_family(rows)]
