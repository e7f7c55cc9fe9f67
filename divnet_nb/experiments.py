"""The paper's experiments, shared by the command line and the notebooks.

Data flows one way: data -> train -> activations -> select -> fuse -> evaluate -> report.

* :func:`layer_sweep` - Figures 2-5 (first hidden layer) and 6-8 (second): prune one
  layer, the others intact, over a grid of kept sizes, for each selection method with
  and without fusion; test error of each pruned network.
* :func:`table2` - Table 2: prune every hidden layer to the same fraction, layer after
  layer, and measure training and test error; DivNet and, at the same sizes, the five
  other variants.
* :func:`reproduce` - all of it for one dataset, over several trained instances,
  written to ``results/<dataset>/`` (:mod:`divnet_nb.report`).

Randomness: each (instance, layer, variant, size) draws from its own generator,
seeded by :class:`numpy.random.SeedSequence` from those coordinates, so any number
can be recomputed alone and does not depend on the order of the loops.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .data import load_dataset
from .evaluate import error_rate
from .models import table1_sizes
from .paper import TABLE1, TABLE2_FRACTIONS
from .paths import fast_mode, results_dir
from .prune import (
    LayerData,
    apply_pruning,
    importance_scores,
    layer_statistics,
    prune_network,
    select_neurons,
)
from .train import TrainConfig, default_config, train_instances

__all__ = [
    "Variant",
    "VARIANTS",
    "Settings",
    "settings_for",
    "kernel_subset",
    "layer_sweep",
    "table2",
    "reproduce",
]


@dataclass(frozen=True)
class Variant:
    """A selection method, with or without the fusion of eqs. 3-4."""

    key: str
    method: str
    reweight: bool
    label: str


#: The six variants compared everywhere. DivNet is "dpp+fuse".
VARIANTS = (
    Variant("dpp", "dpp", False, "k-DPP"),
    Variant("dpp+fuse", "dpp", True, "DivNet (k-DPP + fusion)"),
    Variant("random", "random", False, "random"),
    Variant("random+fuse", "random", True, "random + fusion"),
    Variant("importance", "importance", False, "importance"),
    Variant("importance+fuse", "importance", True, "importance + fusion"),
)
VARIANT = {v.key: v for v in VARIANTS}


@dataclass(frozen=True)
class Settings:
    """Everything that decides what :func:`reproduce` computes."""

    dataset: str
    instances: int
    n_train: int | None = None
    n_test: int | None = None
    n_kernel: int | None = None
    sweep_fractions: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    sweep_layers: tuple[int, ...] = (0, 1)
    table_fractions: tuple[float, ...] = TABLE2_FRACTIONS
    seed: int = 0
    fast: bool = False
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


#: Fast mode: data subsets and fewer instances and sizes, the same code.
FAST = {
    "digits": {"instances": 2},
    "mnist": {"instances": 2, "n_train": 10000, "n_test": 2000},
    "mnist_rot": {"instances": 2, "n_train": 10000, "n_test": 2000},
    "cifar10": {"instances": 2, "n_train": 5000, "n_test": 1000},
}


def settings_for(
    dataset: str, *, fast: bool | None = None, instances: int | None = None, **overrides
) -> Settings:
    """Default settings for a dataset: Table 1's instances and threshold; fast mode if asked (or ``DIVNET_FAST``)."""
    fast = fast_mode() if fast is None else fast
    values: dict = {
        "dataset": dataset,
        "instances": TABLE1.get(dataset, {}).get("instances", 5),
        "fast": fast,
    }
    if fast:
        values.update(FAST[dataset])
        values["sweep_fractions"] = (0.05, 0.1, 0.25, 0.5)
    if instances is not None:
        values["instances"] = instances
    values.update(overrides)
    values.setdefault("train", default_config(dataset))
    return Settings(**values)


def _warm_up() -> None:
    """Compile (or load from Numba's cache) the kernels on the pruning path, so timings exclude it."""
    from .models import MLP

    X = np.random.default_rng(0).random((50, 6)).astype(np.float32)
    net = MLP((6, 5, 4, 2), seed=0)
    for method in ("dpp", "greedy-map"):
        prune_network(net, 0.6, method, True, 0, data=X)


def _rng(settings: Settings, *coords: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([settings.seed, *coords]))


def kernel_subset(x_train: np.ndarray, n_kernel: int | None, seed: int = 0) -> np.ndarray:
    """The training inputs used to build the kernel and the fusion: all, or a seeded random subset."""
    if n_kernel is None or n_kernel >= x_train.shape[0]:
        return x_train
    if n_kernel < 1:
        raise ValueError(f"n_kernel must be >= 1; got {n_kernel}")
    idx = np.sort(np.random.default_rng(seed).choice(x_train.shape[0], n_kernel, replace=False))
    return x_train[idx]


def layer_sweep(
    model,
    layer: int,
    sizes,
    x_kernel,
    x_eval,
    y_eval,
    *,
    variants=VARIANTS,
    rng_for=None,
    layer_data: LayerData | None = None,
    progress: bool = False,
) -> dict[str, list[float]]:
    """Error on ``(x_eval, y_eval)`` after pruning ``layer`` alone to each size, per variant.

    The layer's statistics (Gram matrix, kernel, eigendecomposition) are computed
    once from ``x_kernel`` and shared by every variant and size.
    ``rng_for(variant_index, size_index)`` gives each draw its generator.
    """
    layer_data = layer_data or LayerData(layer_statistics(model, layer, x_kernel))
    importance = importance_scores(model, layer)
    rng_for = rng_for or (lambda v, s: np.random.default_rng([v, s]))
    errors: dict[str, list[float]] = {v.key: [] for v in variants}
    bar = tqdm(
        total=len(variants) * len(sizes),
        desc=f"layer {layer} sweep",
        disable=not progress,
        leave=False,
        file=sys.stderr,
        mininterval=1.0,
    )
    for vi, variant in enumerate(variants):
        for si, k in enumerate(sizes):
            keep = select_neurons(
                variant.method, int(k), layer_data, rng=rng_for(vi, si), importance=importance
            )
            pruned = apply_pruning(
                model, layer, keep, layer_data.stats if variant.reweight else None
            )
            errors[variant.key].append(error_rate(pruned, x_eval, y_eval))
            bar.update(1)
    bar.close()
    return errors


def table2(
    model,
    fractions,
    x_kernel,
    evaluation: dict,
    *,
    variants=VARIANTS,
    rng_for=None,
    progress: bool = False,
) -> dict[str, dict[str, list[float]]]:
    """Table 2 for one network: errors after pruning every hidden layer to each fraction.

    ``evaluation`` maps a name ("train", "test") to ``(X, y)``. Returns
    ``{variant: {name: [error at each fraction]}}``. A fraction of 1 is the unpruned
    network (the same for every variant); the first layer's statistics are shared.
    """
    first = LayerData(layer_statistics(model, 0, x_kernel))
    rng_for = rng_for or (lambda v, f: np.random.default_rng([v, f]))
    full = {name: error_rate(model, X, y) for name, (X, y) in evaluation.items()}
    out = {v.key: {name: [] for name in evaluation} for v in variants}
    bar = tqdm(
        total=len(variants) * len(fractions),
        desc="table 2",
        disable=not progress,
        leave=False,
        file=sys.stderr,
        mininterval=1.0,
    )
    for vi, variant in enumerate(variants):
        for fi, fraction in enumerate(fractions):
            if fraction >= 1.0:
                errs = full
            else:
                pruned = prune_network(
                    model,
                    fraction,
                    variant.method,
                    variant.reweight,
                    rng_for(vi, fi),
                    data=x_kernel,
                    first_layer_data=first,
                )
                errs = {name: error_rate(pruned, X, y) for name, (X, y) in evaluation.items()}
            for name in evaluation:
                out[variant.key][name].append(errs[name])
            bar.update(1)
    bar.close()
    return out


def _layer_grid(n: int, fractions) -> list[int]:
    return sorted({min(n - 1, max(1, int(round(f * n)))) for f in fractions})


def reproduce(
    dataset: str,
    *,
    settings: Settings | None = None,
    out_dir: Path | str | None = None,
    progress: bool = True,
    write: bool = True,
) -> dict:
    """Train (or load) the instances and run every experiment for ``dataset``.

    Returns the results as a JSON-ready dict and, with ``write``, writes
    ``results.json``, one PNG per figure and ``report.md`` to ``out_dir``
    (default ``results/<dataset>/``).
    """
    from .report import write_report

    settings = settings or settings_for(dataset)
    t0 = time.perf_counter()
    data = load_dataset(
        dataset, n_train=settings.n_train, n_test=settings.n_test, subset_seed=settings.seed
    )
    sizes = table1_sizes(dataset)
    say = (lambda msg: print(msg, file=sys.stderr)) if progress else (lambda msg: None)
    say(f"divnet-nb: {data!r}")
    runs = train_instances(
        data, sizes, settings.instances, settings.train, first_seed=settings.seed, progress=progress
    )
    x_kernel = kernel_subset(data.x_train, settings.n_kernel, settings.seed)
    evaluation = {"train": (data.x_train, data.y_train), "test": (data.x_test, data.y_test)}
    results: dict = {
        "dataset": dataset,
        "source": data.source,
        "settings": settings.to_dict(),
        "sizes": list(sizes),
        "instances": [],
        "sweeps": {},
        "table2": {"fractions": list(settings.table_fractions), "errors": {}},
        "variants": {
            v.key: {"method": v.method, "reweight": v.reweight, "label": v.label} for v in VARIANTS
        },
        "timing": {},
    }
    prune_seconds = []
    _warm_up()
    for i, run in enumerate(runs):
        results["instances"].append(
            {
                "seed": run.seed,
                "epochs": run.epochs,
                "iterations": run.iterations,
                "reached": run.reached,
                "train_error": run.train_error,
                "test_error": error_rate(run.model, data.x_test, data.y_test),
                "train_seconds": run.seconds,
                "from_cache": run.from_cache,
                "device": run.device,
            }
        )
        t = time.perf_counter()
        prune_network(run.model, 0.5, "dpp", True, _rng(settings, i, 99), data=x_kernel)
        prune_seconds.append(time.perf_counter() - t)
    for layer in settings.sweep_layers:
        if layer >= len(sizes) - 2:
            continue
        grid = _layer_grid(sizes[layer + 1], settings.sweep_fractions)
        per_variant = {v.key: [] for v in VARIANTS}
        for i, run in enumerate(runs):
            errs = layer_sweep(
                run.model,
                layer,
                grid,
                x_kernel,
                data.x_test,
                data.y_test,
                rng_for=lambda v, s, i=i, layer=layer: _rng(settings, i, layer, v, s),
                progress=progress,
            )
            for key, values in errs.items():
                per_variant[key].append(values)
        results["sweeps"][str(layer)] = {
            "sizes": grid,
            "layer_size": sizes[layer + 1],
            "test_error": per_variant,
        }
        say(f"divnet-nb: layer {layer} sweep done ({time.perf_counter() - t0:.0f} s)")
    per_variant = {v.key: {"train": [], "test": []} for v in VARIANTS}
    for i, run in enumerate(runs):
        errs = table2(
            run.model,
            settings.table_fractions,
            x_kernel,
            evaluation,
            rng_for=lambda v, f, i=i: _rng(settings, i, 100, v, f),
            progress=progress,
        )
        for key, by_set in errs.items():
            for name, values in by_set.items():
                per_variant[key][name].append(values)
    results["table2"]["errors"] = per_variant
    results["timing"] = {
        "train_seconds": [r.seconds for r in runs],
        "prune_all_layers_seconds": prune_seconds,
        "prune_over_train": [p / r.seconds for p, r in zip(prune_seconds, runs, strict=True)],
        "total_seconds": time.perf_counter() - t0,
    }
    if write:
        out_dir = Path(out_dir) if out_dir is not None else results_dir() / dataset
        report_path = write_report(results, out_dir)
        results["report"] = str(report_path)
        say(f"divnet-nb: report written to {report_path}")
    return results
