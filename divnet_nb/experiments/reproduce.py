"""``divnet-nb reproduce``: the paper's Figures 2-8, Table 2 and claims, as parts.

Parts, phase by phase (``i`` a network, ``l`` a hidden layer):

1. ``train-net<i>`` - network ``i`` trained to Table 1's threshold, or loaded from the
   network cache (its checkpoint is its result; nothing else is stored);
2. ``net<i>-prune-seconds`` (DivNet's pruning time), ``net<i>-sweep<l>`` (layer ``l``
   pruned alone over the swept sizes, every variant: Figures 2-8) and ``net<i>-table2``
   (every hidden layer pruned to each fraction: Table 2).

The part names and the store's identity (the settings, the networks' cache keys, the
package version) are those of every earlier version, so earlier stores stay valid.
:meth:`Reproduce.gather` assembles ``results.json`` and decides the paper's claims
(:func:`~divnet_nb.experiments.claims.check_claims`). No torch at import.
"""

from __future__ import annotations

import re

from ..tasks.options import floats, ints, names
from ..tasks.protocol import register_experiment
from .base import NetworkExperiment, dataset_argument, kernel_argument, kernel_samples_argument
from .claims import check_claims
from .reference import environment, make_reference
from .settings import Settings, settings_for

__all__ = ["Reproduce"]

_PART = re.compile(r"net(\d+)-(prune-seconds|sweep(\d+)|table2)$")


@register_experiment
class Reproduce(NetworkExperiment):
    """The DivNet paper's experiments on one dataset's Table 1 networks."""

    name = "reproduce"
    help = "train the Table 1 networks and reproduce Figures 2-8 and Table 2"
    description = (
        "Train (or load from the cache) the networks, prune them with every method, and "
        "write results.json, one PNG per figure and report.md. Finished parts are kept in "
        "<out>/.parts: the same command resumes an interrupted run."
    )
    file_stem = "results"
    #: Settings fields and the options that set them (errors are shown under the option).
    option_names = NetworkExperiment.option_names | {
        "sweep_sizes": "--sizes",
        "table_fractions": "--fractions",
        "methods": "--methods",
        "n_train": "--train-samples",
        "n_test": "--test-samples",
        "data_seed": "--data-seed",
        "kernel_seed": "--kernel-seed",
    }

    def add_arguments(self, parser) -> None:
        dataset_argument(parser)
        parser.add_argument(
            "--instances", type=int, help="networks to train (Table 1: 5; fast mode: 2)"
        )
        parser.add_argument(
            "--sizes",
            type=ints,
            help="neurons kept in the swept layer for Figures 2-8, e.g. 10,50,100",
        )
        parser.add_argument(
            "--fractions",
            type=floats,
            help="fractions of hidden neurons kept for Table 2, in (0, 1] (default 0.1,0.25,0.5,0.75,1)",
        )
        parser.add_argument(
            "--methods",
            type=names,
            help="registered neuron-selection methods to compare, each without and with fusion "
            "(default dpp,random,importance)",
        )
        kernel_samples_argument(parser, "the kernel and the fusion")
        kernel_argument(parser)
        parser.add_argument(
            "--train-samples", type=int, help="use a random subset of the training set"
        )
        parser.add_argument("--test-samples", type=int, help="use a random subset of the test set")
        parser.add_argument(
            "--seed",
            type=int,
            default=0,
            help="network i is trained with seed + i; the pruning draws and, unless given, "
            "the data and kernel subsets derive from it too (default 0)",
        )
        parser.add_argument(
            "--data-seed", type=int, help="seed of the data subsets (default: --seed)"
        )
        parser.add_argument(
            "--kernel-seed", type=int, help="seed of the kernel subset (default: --seed)"
        )

    def settings_from_args(self, args, fast: bool) -> Settings:
        overrides = {
            "seed": args.seed,
            "data_seed": args.data_seed,
            "kernel_seed": args.kernel_seed,
            "n_train": args.train_samples,
            "n_test": args.test_samples,
            "n_kernel": args.kernel_samples,
            "kernel": args.kernel,
        }
        if args.methods is not None:
            overrides["methods"] = tuple(args.methods)
        if args.sizes is not None:
            overrides["sweep_sizes"] = tuple(args.sizes)
        if args.fractions is not None:
            overrides["table_fractions"] = tuple(args.fractions)
        given = {k: v for k, v in overrides.items() if v is not None}
        return settings_for(args.dataset, fast=fast, instances=args.instances, **given)

    def default_out(self, settings) -> str:
        return settings.dataset

    # -- parts -------------------------------------------------------------------------
    def phases(self, settings) -> list[list[str]]:
        n = settings.instances
        hidden = _hidden_layers(settings)
        measure = [f"net{i}-prune-seconds" for i in range(n)]
        for layer in settings.sweep_layers:
            if layer < hidden:
                measure += [f"net{i}-sweep{layer}" for i in range(n)]
        measure += [f"net{i}-table2" for i in range(n)]
        return [self.training_phase(settings), measure]

    def measure(self, exp, key: str):
        m = _PART.match(key)
        if m is None:
            raise ValueError(f"no part {key!r} in reproduce")
        i = int(m[1])
        if m[2] == "prune-seconds":
            return exp.prune_seconds_part(i)
        if m[2] == "table2":
            return exp.table2_part(i)
        return exp.sweep_part(i, int(m[3]))

    def gather(self, settings, parts: dict) -> dict:
        from ..nets.table1 import table1_sizes
        from ..pruning.registry import variants

        n = settings.instances
        sizes = table1_sizes(settings.dataset)
        fusion = {"count": 0, "max_ridge": 0.0}

        def collect(summary):
            fusion["count"] += summary["count"]
            fusion["max_ridge"] = max(fusion["max_ridge"], summary["max_ridge"])

        trained = [parts[f"train-net{i}"] for i in range(n)]
        chosen = variants(settings.methods)
        results: dict = {
            "dataset": settings.dataset,
            "source": trained[0]["source"],
            "settings": settings.to_dict(),
            "sizes": list(sizes),
            "variants": {v.key: v.describe() for v in chosen},
            "instances": [t["instance"] for t in trained],
            "environment": environment(),
        }
        results["sweeps"] = {}
        for layer in settings.sweep_layers:
            if layer >= _hidden_layers(settings):
                continue
            per = {v.key: [] for v in chosen}
            for i in range(n):
                part = parts[f"net{i}-sweep{layer}"]
                collect(part["fusion"])
                for key in per:
                    per[key].append(part["test_error"][key])
            n_layer = sizes[layer + 1]
            results["sweeps"][str(layer)] = {
                "layer": layer,
                "sizes": settings.swept_sizes(n_layer),
                "layer_size": n_layer,
                "test_error": per,
            }
        table = {v.key: {"train": [], "test": []} for v in chosen}
        for i in range(n):
            part = parts[f"net{i}-table2"]
            collect(part["fusion"])
            for key in table:
                for which in ("train", "test"):
                    table[key][which].append(part["errors"][key][which])
        results["table2"] = {"fractions": list(settings.table_fractions), "errors": table}
        results["fusion_warnings"] = fusion
        train_seconds = [row["train_seconds"] for row in results["instances"]]
        prune = [parts[f"net{i}-prune-seconds"] for i in range(n)]
        results["timing"] = {
            "train_seconds": train_seconds,
            "prune_all_layers_seconds": prune,
            "prune_over_train": [p / t for p, t in zip(prune, train_seconds, strict=True)],
        }
        results["claims"] = check_claims(results)
        return results

    # -- references ----------------------------------------------------------------------
    def reference(self, result: dict) -> tuple[str, dict]:
        return f"{result['dataset']}.json", make_reference(result)

    def describe_reference(self, result: dict) -> str:
        import numpy as np

        from ..verdicts import mean_std

        te = mean_std(result["table2"]["errors"]["dpp+fuse"]["test"])[0]
        return (
            f"{len(result['instances'])} networks; DivNet test error by fraction "
            f"{np.round(te, 3).tolist()}"
        )


def _hidden_layers(settings: Settings) -> int:
    from ..nets.table1 import table1_sizes

    return len(table1_sizes(settings.dataset)) - 2
