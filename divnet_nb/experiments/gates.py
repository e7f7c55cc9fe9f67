r"""Pruning while training (learned gates) against post-hoc pruning at the same sizes.

For each network of :data:`NETWORKS` (the Table 1 MNIST network, 784-500-500-10
sigmoid, and LeNet-300-100, 784-300-100-10 ReLU, the network of Louizos et al. 2018),
each seed and each penalty factor lambda:

* a **gated run** trains the network from scratch with the gates of a registered
  ``gate`` method on both hidden layers (:func:`~divnet_nb.pruning.gate.gating.train_gated`:
  Adam, a fixed number of epochs, the gates with their own learning rate), then extracts
  it: a physically smaller network (neuron gates) or a masked one (weight gates);
* for neuron gates, **post-hoc rules at the same kept neurons per layer** prune a
  network of the same seed and architecture trained without gates, with fusion and no
  retraining: DivNet (k-DPP, fusion towards the pruned network, the paper's choice) and
  this project's best rule on MNIST (greedy + swaps with fusion towards the original
  network, ``swap``); each is then **fine-tuned** for ``finetune_epochs`` epochs with
  the gated runs' optimiser;
* for weight gates, **magnitude pruning at the same kept weights per layer** (the
  largest weights of each layer, :func:`torch.nn.utils.prune.l1_unstructured`), with
  and without the same fine-tuning.

The network pruned post hoc is each of the two :data:`BASES`: ``"table1"``, trained the
Table 1 way (SGD until the training error is below 1 %, the networks DivNet was made
for), and ``"budget"``, trained with the gated runs' optimiser for the same number of
epochs (so that a difference is not just more training). Both are cached on disk.

The experiment is the ``gates`` experiment of :mod:`divnet_nb.tasks` (:class:`Gates`): its
first phase trains (or loads) the plain networks, part ``train-<network>-seed<s>-<base>``;
then every gated run with its comparisons is one part, ``<network>-<method>-lam<lambda>-seed<s>``,
kept in the store as it finishes, so an interrupted experiment resumes, and the parts of a
phase run on as many worker processes as are given (``--jobs``, ``--scheduler``).
"""

from __future__ import annotations

import copy
import dataclasses
import re
import time
from dataclasses import dataclass

import numpy as np

from ..tasks.contexts import Contexts
from ..tasks.protocol import ExperimentProtocol, SettingError, register_experiment
from .reference import environment
from .settings import kernel_subset, method_stream

__all__ = [
    "NETWORKS",
    "NEURON_GATES",
    "WEIGHT_GATES",
    "POSTHOC",
    "BASES",
    "GateSettings",
    "gate_settings",
    "gate_runs",
    "gate_descriptions",
    "kept_weights",
    "gate_experiment",
    "Gates",
]

#: The networks, by name: layer sizes, hidden activation, label.
NETWORKS = {
    "table1": {
        "sizes": (784, 500, 500, 10),
        "activation": "sigmoid",
        "label": "Table 1 network 784-500-500-10 (sigmoid)",
    },
    "lenet-300-100": {
        "sizes": (784, 300, 100, 10),
        "activation": "relu",
        "label": "LeNet-300-100 (ReLU)",
    },
}
NEURON_GATES = ("hard-concrete", "diffprune")
WEIGHT_GATES = ("hard-concrete-weights", "diffprune-weights")
#: Post-hoc neuron rules (all with fusion) and what their fusion reproduces after layer 1.
POSTHOC = {"dpp": "pruned", "swap": "original"}
#: The post-hoc baseline of weight gates.
MAGNITUDE = "magnitude"
#: The networks pruned post hoc: trained the Table 1 way, or with the gated runs' budget.
BASES = ("table1", "budget")


@dataclass(frozen=True)
class GateSettings:
    """What decides the gate experiment's numbers (all of it names the result store)."""

    dataset: str = "mnist"
    networks: tuple[str, ...] = ("table1", "lenet-300-100")
    seeds: int = 3
    neuron_lams: tuple[float, ...] = (1e-4, 3e-4, 1e-3, 3e-3)
    weight_lams: tuple[float, ...] = (1e-6, 1e-5)
    epochs: int = 15
    optimizer: str = "adam"
    lr: float = 1e-3
    gate_lr: float = 1e-2
    finetune_epochs: int = 2
    n_kernel: int | None = 10000
    n_train: int | None = None
    n_test: int | None = None
    fast: bool = False

    def __post_init__(self):
        from ..pruning.registry import get_method

        if self.dataset not in ("mnist", "mnist_rot"):
            raise SettingError("dataset", f"must be mnist or mnist_rot; got {self.dataset!r}")
        unknown = [n for n in self.networks if n not in NETWORKS]
        if unknown or not self.networks:
            raise SettingError(
                "networks", f"must be some of {sorted(NETWORKS)}; got {list(self.networks)}"
            )
        for name in ("seeds", "epochs"):
            if getattr(self, name) < 1:
                raise SettingError(name, f"must be >= 1; got {getattr(self, name)}")
        if self.finetune_epochs < 0:
            raise SettingError("finetune_epochs", f"must be >= 0; got {self.finetune_epochs}")
        for lam in (*self.neuron_lams, *self.weight_lams):
            if not lam >= 0:
                raise ValueError(f"penalty factors must be >= 0; got {lam}")
        if not self.neuron_lams and not self.weight_lams:
            raise ValueError("give at least one penalty factor")
        if not (self.lr > 0 and self.gate_lr > 0):
            raise ValueError(f"lr and gate_lr must be > 0; got {self.lr}, {self.gate_lr}")
        for method in (*NEURON_GATES, *WEIGHT_GATES):
            get_method(method, "gate")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def gated_config(self):
        """The training settings of the gated runs (a fixed budget of ``epochs``)."""
        from ..training.config import default_config

        return default_config(
            self.dataset, max_epochs=self.epochs, optimizer=self.optimizer, lr=self.lr
        )

    def finetune_config(self):
        """The fine-tuning settings: the gated runs' optimiser for ``finetune_epochs``."""
        from ..training.config import default_config

        return default_config(
            self.dataset,
            max_epochs=max(1, self.finetune_epochs),
            optimizer=self.optimizer,
            lr=self.lr,
        )


def gate_settings(fast: bool = False, **overrides) -> GateSettings:
    """The full experiment, or its fast version (one seed of LeNet-300-100 on 6000 images)."""
    if fast:
        base = {
            "networks": ("lenet-300-100",),
            "seeds": 1,
            "neuron_lams": (1e-3,),
            "weight_lams": (1e-5,),
            "epochs": 3,
            "finetune_epochs": 1,
            "n_kernel": 2000,
            "n_train": 6000,
            "n_test": 2000,
            "fast": True,
        }
        base.update(overrides)
        return GateSettings(**base)
    return GateSettings(**overrides)


def gate_descriptions() -> dict[str, list[dict]]:
    """Every gate method's resolved settings (temperature, drop rate, stretch, ...) on the two
    hidden layers, as the experiment builds them: part of the store's key and of the result."""
    from ..pruning.registry import get_method

    return {
        method: [get_method(method, "gate").function(1, layer).describe() for layer in (0, 1)]
        for method in (*NEURON_GATES, *WEIGHT_GATES)
    }


def gate_runs(settings: GateSettings) -> list[tuple[str, str, float, int]]:
    """Every gated run as (network, method, lambda, seed), in the order they are computed."""
    runs = []
    for net in settings.networks:
        for seed in range(settings.seeds):
            for methods, lams in (
                (NEURON_GATES, settings.neuron_lams),
                (WEIGHT_GATES, settings.weight_lams),
            ):
                runs += [(net, m, float(lam), seed) for m in methods for lam in lams]
    return runs


def _part_name(net: str, method: str, lam: float, seed: int) -> str:
    return f"{net}-{method}-lam{lam:g}-seed{seed}"


def kept_weights(model) -> list[int]:
    """Weights that remain in each affine layer (those under a pruning mask count only where it is 1)."""
    from torch import nn

    counts = []
    for module in model.modules():
        if isinstance(module, nn.Linear):
            mask = getattr(module, "weight_mask", None)
            counts.append(int(mask.sum()) if mask is not None else module.weight.numel())
    return counts


class _Context:
    """Data, plain networks and timing shared by the parts of one experiment."""

    def __init__(self, settings: GateSettings, progress: bool):
        from ..datasets import load_dataset

        self.settings = settings
        self.progress = progress
        self.data = load_dataset(settings.dataset, n_train=settings.n_train, n_test=settings.n_test)
        self.x_kernel = kernel_subset(self.data.x_train, settings.n_kernel, 0)
        self._plain = {}

    def plain(self, net: str, seed: int, base: str = "table1"):
        """The network of ``net`` and ``seed`` trained without gates the ``base`` way (cached on disk)."""
        from ..training.cache import load_or_train
        from ..training.config import default_config

        if (net, seed, base) not in self._plain:
            spec = NETWORKS[net]
            budget = base == "budget"
            config = (
                self.settings.gated_config() if budget else default_config(self.settings.dataset)
            )
            self._plain[net, seed, base] = load_or_train(
                self.data,
                spec["sizes"],
                seed,
                config,
                activation=spec["activation"],
                progress=self.progress,
                until_threshold=not budget,
            )
        return self._plain[net, seed, base]

    def train_part(self, net: str, seed: int, base: str) -> dict:
        """The plain network trained (or loaded): its test error, training time, epochs, weights."""
        run = self.plain(net, seed, base)
        return {
            "test_error": self.test_error(run.model),
            "seconds": run.seconds,
            "epochs": run.epochs,
            "weights": kept_weights(run.model),
        }

    def test_error(self, model) -> float:
        from ..nets.evaluate import error_rate

        return float(error_rate(model, self.data.x_test, self.data.y_test))

    def finetune(self, model, seed: int) -> tuple[object, float]:
        """``model`` trained in place ``finetune_epochs`` more epochs; (model, seconds)."""
        from ..training.loop import fit

        if self.settings.finetune_epochs == 0:
            return model, 0.0
        result = fit(
            model,
            self.data,
            seed,
            self.settings.finetune_config(),
            progress=False,
            until_threshold=False,
        )
        return result.model, result.seconds


def _epoch_history(history: list[dict]) -> list[dict]:
    """The records at whole epochs (the curves of the notebook)."""
    keep = [r for r in history if abs(r["epoch"] - round(r["epoch"])) < 1e-9]
    return [
        {k: v for k, v in r.items() if k == "epoch" or k.startswith(("open_", "running_"))}
        for r in keep
    ]


def _scored(ctx: _Context, pruned, seed: int, seconds: float) -> dict:
    """Test error of a pruned network, then of the same network fine-tuned (in place)."""
    error = ctx.test_error(pruned)
    tuned, tune_seconds = ctx.finetune(pruned, seed)
    return {
        "test_error": error,
        "seconds": seconds,
        "finetuned_test_error": ctx.test_error(tuned),
        "finetune_seconds": tune_seconds,
    }


def _neuron_posthoc(ctx: _Context, net: str, seed: int, kept: list[int], base: str) -> dict:
    from ..pruning.apply import prune_network
    from .fusion import fusion_warnings

    plain = ctx.plain(net, seed, base).model
    out = {}
    with fusion_warnings():
        for rule, target in POSTHOC.items():
            rng = np.random.default_rng([seed, method_stream(rule)])
            t0 = time.perf_counter()
            pruned = prune_network(plain, kept, rule, True, rng, data=ctx.x_kernel, target=target)
            out[rule] = _scored(ctx, pruned, seed, time.perf_counter() - t0)
    return out


def _magnitude(ctx: _Context, net: str, seed: int, counts: list[int], base: str) -> dict:
    """Layerwise magnitude pruning of a plain network to ``counts`` weights per hidden layer."""
    from torch import nn
    from torch.nn.utils import prune as torch_prune

    plain = ctx.plain(net, seed, base).model
    t0 = time.perf_counter()
    pruned = copy.deepcopy(plain)
    linears = [m for m in pruned.modules() if isinstance(m, nn.Linear)]
    for lin, n_keep in zip(linears, counts, strict=False):
        torch_prune.l1_unstructured(lin, "weight", amount=lin.weight.numel() - int(n_keep))
    return {MAGNITUDE: _scored(ctx, pruned, seed, time.perf_counter() - t0)}


def gate_part(ctx: _Context, net: str, method: str, lam: float, seed: int) -> dict:
    """One gated run and its post-hoc comparisons."""
    from ..pruning.gate.gating import train_gated

    spec = NETWORKS[net]
    s = ctx.settings
    try:
        small, _, result = train_gated(
            ctx.data,
            spec["sizes"],
            method,
            seed,
            lam,
            s.gated_config(),
            activation=spec["activation"],
            gate_lr=s.gate_lr,
            progress=ctx.progress,
        )
    except ValueError as exc:  # every gate of a layer closed: recorded, not a crash
        if "closed during training" not in str(exc):
            raise
        return {"network": net, "method": method, "lam": lam, "seed": seed, "collapsed": str(exc)}
    kept = list(small.sizes[1:-1])
    weights = kept_weights(small)
    row = {
        "network": net,
        "method": method,
        "lam": lam,
        "seed": seed,
        "kept": kept,
        "weights": weights,
        "test_error": ctx.test_error(small),
        "train_error": float(result.train_error),
        "seconds": result.seconds,
        "history": _epoch_history(result.history),
    }
    if method in NEURON_GATES:
        row["posthoc"] = {b: _neuron_posthoc(ctx, net, seed, kept, b) for b in BASES}
    else:
        row["posthoc"] = {b: _magnitude(ctx, net, seed, weights[:-1], b) for b in BASES}
    return row


def gate_experiment(
    settings: GateSettings | None = None,
    *,
    store_root=None,
    progress: bool = True,
    executor=None,
    threads: int | None = None,
) -> dict:
    """Every gated run with its comparisons, stored part by part; the gathered result.

    The ``gates`` experiment (:class:`Gates`) run in this process, or on ``executor``
    (:mod:`divnet_nb.tasks.executors`) with ``threads`` BLAS and torch threads per part.
    """
    from ..tasks.driver import run_experiment

    settings = settings or gate_settings()
    protocol = Gates()
    with protocol.local(settings, progress):
        return run_experiment(
            protocol,
            settings,
            store_root=store_root,
            executor=executor,
            threads=threads,
            progress=progress,
        )


#: This process's contexts: one the caller attached, or one made here (quiet) for a worker.
_CONTEXTS = Contexts(lambda settings: _Context(settings, False))


_TRAIN = re.compile(r"train-(.+)-seed(\d+)-(\w+)$")


@register_experiment
class Gates(ExperimentProtocol):
    """Learned gates against post-hoc pruning at the same kept neurons or weights."""

    name = "gates"
    help = "pruning while training (L0 hard-concrete, DiffPrune-style gates) vs DivNet at matched sizes"
    description = (
        "Train the Table 1 MNIST network and LeNet-300-100 from scratch with neuron and weight "
        "gates over a sweep of penalty factors; prune the plain networks of the same seeds to "
        "the same kept neurons (DivNet, greedy + swaps, with fusion) or weights (magnitude), "
        "without and with fine-tuning; write gates.json, gates.md and gates.png. Resumable "
        "like reproduce."
    )
    file_stem = "gates"
    option_names = {"seeds": "--seeds", "dataset": "--dataset"}

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dataset", default="mnist", choices=("mnist", "mnist_rot"))
        parser.add_argument("--seeds", type=int, help="seeds per setting (default 3; fast: 1)")

    def settings_from_args(self, args, fast: bool) -> GateSettings:
        overrides = {"dataset": args.dataset}
        if args.seeds is not None:
            overrides["seeds"] = args.seeds
        return gate_settings(fast, **overrides)

    def phases(self, settings: GateSettings) -> list[list[str]]:
        train = [
            f"train-{net}-seed{seed}-{base}"
            for net in settings.networks
            for seed in range(settings.seeds)
            for base in BASES
        ]
        return [train, [_part_name(*run) for run in gate_runs(settings)]]

    def is_stored(self, key: str) -> bool:
        return not key.startswith("train-")

    def identity(self, settings: GateSettings) -> dict:
        from ..training.cache import TRAIN_VERSION

        return {
            "experiment": "gates",
            "settings": settings.to_dict(),
            "gates": gate_descriptions(),
            "train_version": TRAIN_VERSION,
        }

    def local(self, settings: GateSettings, progress: bool):
        return _CONTEXTS.attached(_Context(settings, progress), settings)

    def compute(self, settings: GateSettings, key: str):
        ctx = _CONTEXTS.get(settings)
        if m := _TRAIN.match(key):
            return ctx.train_part(m[1], int(m[2]), m[3])
        runs = {_part_name(*run): run for run in gate_runs(settings)}
        if key not in runs:
            raise ValueError(f"no part {key!r} in gates")
        return gate_part(ctx, *runs[key])

    def gather(self, settings: GateSettings, parts: dict) -> dict:
        networks = {}
        for net in settings.networks:
            spec = NETWORKS[net]
            networks[net] = {
                "label": spec["label"],
                "sizes": list(spec["sizes"]),
                "activation": spec["activation"],
                "unpruned_weights": parts[f"train-{net}-seed0-table1"]["weights"],
            }
            for base in BASES:
                plains = [parts[f"train-{net}-seed{seed}-{base}"] for seed in range(settings.seeds)]
                networks[net][base] = {
                    "unpruned_test_error": [p["test_error"] for p in plains],
                    "seconds": [p["seconds"] for p in plains],
                    "epochs": [p["epochs"] for p in plains],
                }
        return {
            "dataset": settings.dataset,
            "settings": settings.to_dict(),
            "gates": gate_descriptions(),
            "networks": networks,
            "runs": [parts[_part_name(*run)] for run in gate_runs(settings)],
            "environment": environment(),
        }

    def describe_reference(self, result: dict) -> str:
        return f"{len(result['runs'])} gated runs on {', '.join(result['networks'])}"
