"""The paper's experiments, shared by the command line and the notebooks.

Data flows one way: data -> train -> activations -> select -> fuse -> evaluate -> report.

* :func:`layer_sweep` - Figures 2-5 (first hidden layer) and 6-8 (second): prune one
  layer, the others intact, over a grid of kept sizes, for each selection method with
  and without fusion; test error of each pruned network.
* :func:`table2` - Table 2: prune every hidden layer to the same fraction, layer after
  layer, and measure training and test error; DivNet and, at the same sizes, the five
  other variants.
* :class:`Experiment` - one dataset's data, trained instances (cached) and all of the
  above over every instance; the notebooks use it.
* :func:`reproduce` - all of it for one dataset, written to ``results/<dataset>/``
  (:mod:`divnet_nb.report`); the command line uses it.

Randomness: each (instance, layer, variant, size) draws from its own generator,
seeded by :class:`numpy.random.SeedSequence` from those coordinates, so any number
can be recomputed alone and does not depend on the order of the loops.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .data import load_dataset
from .dpp import expected_size
from .evaluate import error_rate
from .fuse import FusionWarning
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
from .train import TrainConfig, checkpoint_path, default_config, train_instances

__all__ = [
    "Variant",
    "VARIANTS",
    "VARIANT",
    "Settings",
    "settings_for",
    "kernel_subset",
    "layer_grid",
    "layer_sweep",
    "table2",
    "fusion_warnings",
    "Experiment",
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


@contextlib.contextmanager
def fusion_warnings():
    """Collect :class:`~divnet_nb.FusionWarning` s instead of printing one per pruned network.

    Yields a dict that, on exit, holds ``count`` and ``max_ridge`` (the largest
    relative ridge used); other warnings pass through.
    """
    summary = {"count": 0, "max_ridge": 0.0}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FusionWarning)
        yield summary
    for w in caught:
        if isinstance(w.message, FusionWarning):
            summary["count"] += 1
            summary["max_ridge"] = max(summary["max_ridge"], w.message.ridge or 0.0)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


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


def _bar(total: int, desc: str, progress: bool):
    """A quiet progress bar on stderr (redrawn at most once a second)."""
    return tqdm(
        total=total, desc=desc, disable=not progress, leave=False, file=sys.stderr, mininterval=1.0
    )


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
    bar = _bar(len(variants) * len(sizes), f"layer {layer} sweep", progress)
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
    bar = _bar(len(variants) * len(fractions), "table 2", progress)
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


def layer_grid(n: int, fractions) -> list[int]:
    """Kept sizes for a layer of ``n`` neurons: each fraction of n, rounded, within [1, n - 1], distinct."""
    return sorted({min(n - 1, max(1, int(round(f * n)))) for f in fractions})


class Experiment:
    """One dataset's experiments: its data, its trained instances, and every measurement on them.

    The command line (:func:`reproduce`) and the notebooks both go through this
    class, so a figure in a notebook and the same figure in ``results/`` come from
    the same code. Trained networks come from the cache when they exist.

    Parameters
    ----------
    dataset : str
        ``"digits"``, ``"mnist"``, ``"mnist_rot"`` or ``"cifar10"``.
    settings : Settings, optional
        Default :func:`settings_for` (fast when ``DIVNET_FAST`` or ``CI`` is set).
    progress : bool
        Progress bars and one-line messages on stderr.

    Examples
    --------
    >>> exp = Experiment("digits")                       # doctest: +SKIP
    >>> sweep = exp.sweep(layer=0)                       # Figures 2-5 data  # doctest: +SKIP
    >>> table = exp.table2()                             # Table 2 data      # doctest: +SKIP
    """

    def __init__(self, dataset: str, settings: Settings | None = None, *, progress: bool = True):
        self.settings = settings or settings_for(dataset)
        if self.settings.dataset != dataset:
            raise ValueError(f"settings are for {self.settings.dataset!r}, not {dataset!r}")
        self.dataset = dataset
        self.progress = progress
        self.data = load_dataset(
            dataset,
            n_train=self.settings.n_train,
            n_test=self.settings.n_test,
            subset_seed=self.settings.seed,
        )
        self.sizes = table1_sizes(dataset)
        self.x_kernel = kernel_subset(self.data.x_train, self.settings.n_kernel, self.settings.seed)
        self.fusion = {"count": 0, "max_ridge": 0.0}
        self._runs = None

    def _say(self, message: str) -> None:
        if self.progress:
            print(message, file=sys.stderr)

    @property
    def runs(self):
        """The trained instances (:class:`~divnet_nb.train.TrainResult`), trained or loaded on first use."""
        if self._runs is None:
            self._runs = train_instances(
                self.data,
                self.sizes,
                self.settings.instances,
                self.settings.train,
                first_seed=self.settings.seed,
                progress=self.progress,
            )
        return self._runs

    def is_cached(self) -> bool:
        """Whether every instance's trained network is already in the cache (``runs`` would not train)."""
        seeds = range(self.settings.seed, self.settings.seed + self.settings.instances)
        return all(
            checkpoint_path(self.data, self.sizes, s, self.settings.train).exists() for s in seeds
        )

    @property
    def models(self):
        return [run.model for run in self.runs]

    def _rng(self, *coords: int) -> np.random.Generator:
        return _rng(self.settings, *coords)

    def _collect(self, summary: dict) -> None:
        self.fusion["count"] += summary["count"]
        self.fusion["max_ridge"] = max(self.fusion["max_ridge"], summary["max_ridge"])

    def sweep(self, layer: int = 0, *, sizes=None, variants=VARIANTS) -> dict:
        """Prune hidden layer ``layer`` alone to each size, every variant, every instance (Figures 2-8).

        Returns ``{"layer", "sizes", "layer_size", "test_error": {variant: [[error per size] per instance]}}``.
        """
        n = self.sizes[layer + 1]
        grid = list(sizes) if sizes is not None else layer_grid(n, self.settings.sweep_fractions)
        per_variant = {v.key: [] for v in variants}
        with fusion_warnings() as summary:
            for i, model in enumerate(self.models):
                errs = layer_sweep(
                    model,
                    layer,
                    grid,
                    self.x_kernel,
                    self.data.x_test,
                    self.data.y_test,
                    variants=variants,
                    progress=self.progress,
                    rng_for=lambda v, s, i=i: self._rng(i, layer, v, s),
                )
                for key, values in errs.items():
                    per_variant[key].append(values)
        self._collect(summary)
        return {"layer": layer, "sizes": grid, "layer_size": n, "test_error": per_variant}

    def table2(self, *, fractions=None, variants=VARIANTS) -> dict:
        """Table 2: every hidden layer pruned to each fraction, every variant, every instance.

        Returns ``{"fractions", "errors": {variant: {"train"/"test": [[error per fraction] per instance]}}}``.
        """
        fractions = (
            list(fractions) if fractions is not None else list(self.settings.table_fractions)
        )
        evaluation = {
            "train": (self.data.x_train, self.data.y_train),
            "test": (self.data.x_test, self.data.y_test),
        }
        per_variant = {v.key: {name: [] for name in evaluation} for v in variants}
        with fusion_warnings() as summary:
            for i, model in enumerate(self.models):
                errs = table2(
                    model,
                    fractions,
                    self.x_kernel,
                    evaluation,
                    variants=variants,
                    rng_for=lambda v, f, i=i: self._rng(i, 100, v, f),
                    progress=self.progress,
                )
                for key, by_set in errs.items():
                    for name, values in by_set.items():
                        per_variant[key][name].append(values)
        self._collect(summary)
        return {"fractions": fractions, "errors": per_variant}

    def beta_sweep(
        self,
        layer: int = 0,
        *,
        factors=(0.1, 0.3, 1, 3, 10, 30, 100, 300),
        reweight: bool = True,
        evaluate_train: bool = True,
    ) -> dict:
        """Appendix B: prune ``layer`` with a plain DPP (no k) for each beta = factor / |T|.

        The kernel's bandwidth alone decides how many neurons stay (Figure 10) and
        hence the error (Figure 9); the paper's choice is factor 10. Returns
        ``{"layer", "factors", "betas", "kept", "train_error", "test_error"}`` with
        one list per instance (``train_error`` only with ``evaluate_train``).
        """
        self.models[0].check_layer(layer)
        n_samples = self.x_kernel.shape[0]
        out = {
            "layer": layer,
            "factors": list(factors),
            "betas": [f / n_samples for f in factors],
            "kept": [],
            "test_error": [],
        }
        if evaluate_train:
            out["train_error"] = []
        with fusion_warnings() as summary:
            for i, model in enumerate(self.models):
                stats = layer_statistics(model, layer, self.x_kernel)
                kept, test, train = [], [], []
                for fi, factor in enumerate(factors):
                    data = LayerData(stats, beta=factor / n_samples)
                    keep = select_neurons(
                        "dpp-nonparametric", None, data, rng=self._rng(i, 200, layer, fi)
                    )
                    pruned = apply_pruning(model, layer, keep, stats if reweight else None)
                    kept.append(int(keep.size))
                    test.append(error_rate(pruned, self.data.x_test, self.data.y_test))
                    if evaluate_train:
                        train.append(error_rate(pruned, self.data.x_train, self.data.y_train))
                out["kept"].append(kept)
                out["test_error"].append(test)
                if evaluate_train:
                    out["train_error"].append(train)
        self._collect(summary)
        return out

    def expected_sizes(self) -> list[list[float]]:
        """Expected DPP sample size Tr(L'(I + L')^-1) of each hidden layer's kernel, per instance.

        Section 3.3 remarks that it is much smaller for the last hidden layer. Each
        layer is measured in the unpruned network.
        """
        sizes = []
        for model in self.models:
            row = []
            for layer in range(model.n_hidden_layers):
                row.append(
                    expected_size(LayerData(layer_statistics(model, layer, self.x_kernel)).eig)
                )
            sizes.append(row)
        return sizes

    def prune_seconds(self, fraction: float = 0.5) -> list[float]:
        """Wall time of DivNet pruning every hidden layer of each instance (kernel data: ``x_kernel``)."""
        _warm_up()
        seconds = []
        with fusion_warnings() as summary:
            for i, model in enumerate(self.models):
                start = time.perf_counter()
                prune_network(model, fraction, "dpp", True, self._rng(i, 99), data=self.x_kernel)
                seconds.append(time.perf_counter() - start)
        self._collect(summary)
        return seconds

    def instances(self) -> list[dict]:
        """One row per trained network: epochs, errors, training time."""
        return [
            {
                "seed": r.seed,
                "epochs": r.epochs,
                "iterations": r.iterations,
                "reached": r.reached,
                "train_error": r.train_error,
                "test_error": error_rate(r.model, self.data.x_test, self.data.y_test),
                "train_seconds": r.seconds,
                "from_cache": r.from_cache,
                "device": r.device,
            }
            for r in self.runs
        ]

    def results(self) -> dict:
        """Everything :func:`reproduce` reports, as a JSON-ready dict."""
        start = time.perf_counter()
        results: dict = {
            "dataset": self.dataset,
            "source": self.data.source,
            "settings": self.settings.to_dict(),
            "sizes": list(self.sizes),
            "variants": {
                v.key: {"method": v.method, "reweight": v.reweight, "label": v.label}
                for v in VARIANTS
            },
            "instances": self.instances(),
        }
        prune = self.prune_seconds()
        results["sweeps"] = {}
        for layer in self.settings.sweep_layers:
            if layer < len(self.sizes) - 2:
                results["sweeps"][str(layer)] = self.sweep(layer)
                self._say(f"divnet-nb: layer {layer} sweep done")
        results["table2"] = self.table2()
        results["fusion_warnings"] = dict(self.fusion)
        if self.fusion["count"]:
            self._say(
                f"divnet-nb: fusion added a ridge to a singular G_SS in {self.fusion['count']} pruned "
                f"networks (largest relative ridge {self.fusion['max_ridge']:.0e})"
            )
        train_seconds = [r.seconds for r in self.runs]
        results["timing"] = {
            "train_seconds": train_seconds,
            "prune_all_layers_seconds": prune,
            "prune_over_train": [p / t for p, t in zip(prune, train_seconds, strict=True)],
            "experiment_seconds": time.perf_counter() - start,
        }
        return results


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
    from .report import check_claims, write_report

    start = time.perf_counter()
    exp = Experiment(dataset, settings, progress=progress)
    exp._say(f"divnet-nb: {exp.data!r}")
    results = exp.results()
    results["claims"] = check_claims(results)
    results["timing"]["total_seconds"] = time.perf_counter() - start
    if write:
        out_dir = Path(out_dir) if out_dir is not None else results_dir() / dataset
        report_path = write_report(results, out_dir)
        results["report"] = str(report_path)
        exp._say(f"divnet-nb: report written to {report_path}")
    return results
