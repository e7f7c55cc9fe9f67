"""One dataset's experiments, shared by the command line and the notebooks.

Data flows one way: data -> train -> activations -> select -> fuse -> evaluate -> report.

* :class:`Experiment` - one dataset's data, trained instances (cached) and every
  measurement on them: layer sweeps (Figures 2-8, :mod:`.sweeps`), Table 2
  (:mod:`.tables`), Appendix B's beta sweep, expected sizes, timing;
* :func:`reproduce` - all of it for one dataset, with the paper's claims checked
  (:mod:`~divnet_nb.experiments.claims`); :mod:`divnet_nb.report` writes it to ``results/<dataset>/``.

Randomness: each (instance, layer, variant, size) draws from its own generator,
seeded by :class:`numpy.random.SeedSequence` from those coordinates, so any number
can be recomputed alone and does not depend on the order of the loops.
"""

from __future__ import annotations

import contextlib
import sys
import time
import warnings

import numpy as np

from .. import __version__
from ..core.dpp import expected_size
from ..core.fuse import FusionWarning
from ..datasets import load_dataset
from ..nets.evaluate import error_rate
from ..nets.table1 import table1_sizes
from ..pruning.apply import apply_pruning, prune_network
from ..pruning.neuron.layer_data import LayerData
from ..pruning.neuron.select import select_neurons
from ..pruning.registry import variants as variants_of
from ..pruning.statistics import layer_statistics
from ..training.cache import checkpoint_path, train_instances
from .claims import check_claims
from .reference import environment
from .settings import Settings, kernel_subset, layer_grid, settings_for
from .store import ResultStore
from .sweeps import layer_sweep, method_stream
from .tables import table2

__all__ = ["Experiment", "fusion_warnings", "reproduce"]


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
    from ..nets.mlp import MLP

    X = np.random.default_rng(0).random((50, 6)).astype(np.float32)
    net = MLP((6, 5, 4, 2), seed=0)
    for method in ("dpp", "greedy-map"):
        prune_network(net, 0.6, method, True, 0, data=X)


def _rng(settings: Settings, *coords: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([settings.seed, *coords]))


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
    store_root : path, optional
        Where finished parts of :meth:`results` are kept (:class:`~.store.ResultStore`),
        so that an interrupted run resumes; None keeps nothing.

    Examples
    --------
    >>> exp = Experiment("digits")                       # doctest: +SKIP
    >>> sweep = exp.sweep(layer=0)                       # Figures 2-5 data  # doctest: +SKIP
    >>> table = exp.table2()                             # Table 2 data      # doctest: +SKIP
    """

    def __init__(
        self,
        dataset: str,
        settings: Settings | None = None,
        *,
        progress: bool = True,
        store_root=None,
    ):
        self.settings = settings or settings_for(dataset)
        if self.settings.dataset != dataset:
            raise ValueError(f"settings are for {self.settings.dataset!r}, not {dataset!r}")
        self.dataset = dataset
        self.progress = progress
        #: The compared variants: each of ``settings.methods`` without and with fusion.
        self.variants = variants_of(self.settings.methods)
        self.data = load_dataset(
            dataset,
            n_train=self.settings.n_train,
            n_test=self.settings.n_test,
            subset_seed=self.settings.subset_seed,
        )
        self.sizes = table1_sizes(dataset)
        self.x_kernel = kernel_subset(
            self.data.x_train, self.settings.n_kernel, self.settings.kernel_subset_seed
        )
        self.fusion = {"count": 0, "max_ridge": 0.0}
        self._runs = None
        self._store_root = store_root
        self._store = None

    def _say(self, message: str) -> None:
        if self.progress:
            print(message, file=sys.stderr)

    @property
    def runs(self):
        """The trained instances (:class:`~divnet_nb.training.TrainResult`), trained or loaded on first use."""
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

    @property
    def store(self) -> ResultStore | None:
        """The store of finished parts (None without ``store_root``)."""
        if self._store is None and self._store_root is not None:
            seeds = range(self.settings.seed, self.settings.seed + self.settings.instances)
            identity = {
                "settings": self.settings.to_dict(),
                "networks": [
                    checkpoint_path(self.data, self.sizes, s, self.settings.train).name
                    for s in seeds
                ],
                "version": __version__,
            }
            self._store = ResultStore(self._store_root, identity)
        return self._store

    def _part(self, name: str, compute, stored: bool):
        if stored and self.store is not None:
            return self.store.part(name, compute)
        return compute()

    def _collect(self, summary: dict) -> None:
        self.fusion["count"] += summary["count"]
        self.fusion["max_ridge"] = max(self.fusion["max_ridge"], summary["max_ridge"])

    def _sweep_one(self, i: int, layer: int, grid, variants) -> dict:
        with fusion_warnings() as summary:
            errors = layer_sweep(
                self.models[i],
                layer,
                grid,
                self.x_kernel,
                self.data.x_test,
                self.data.y_test,
                variants=variants,
                progress=self.progress,
                rng_for=lambda method, s: self._rng(i, layer, method_stream(method), s),
            )
        return {"test_error": errors, "fusion": summary}

    def sweep(self, layer: int = 0, *, sizes=None, variants=None) -> dict:
        """Prune hidden layer ``layer`` alone to each size, every variant, every instance (Figures 2-8).

        Returns ``{"layer", "sizes", "layer_size", "test_error": {variant: [[error per size] per instance]}}``.
        """
        n = self.sizes[layer + 1]
        stored = sizes is None and variants is None
        grid = list(sizes) if sizes is not None else layer_grid(n, self.settings.sweep_fractions)
        variants = self.variants if variants is None else tuple(variants)
        per_variant = {v.key: [] for v in variants}
        for i in range(self.settings.instances):
            part = self._part(
                f"net{i}-sweep{layer}",
                lambda i=i: self._sweep_one(i, layer, grid, variants),
                stored,
            )
            self._collect(part["fusion"])
            for key in per_variant:
                per_variant[key].append(part["test_error"][key])
        return {"layer": layer, "sizes": grid, "layer_size": n, "test_error": per_variant}

    def _table2_one(self, i: int, fractions, variants) -> dict:
        evaluation = {
            "train": (self.data.x_train, self.data.y_train),
            "test": (self.data.x_test, self.data.y_test),
        }
        with fusion_warnings() as summary:
            errors = table2(
                self.models[i],
                fractions,
                self.x_kernel,
                evaluation,
                variants=variants,
                rng_for=lambda method, f: self._rng(i, 100, method_stream(method), f),
                progress=self.progress,
            )
        return {"errors": errors, "fusion": summary}

    def table2(self, *, fractions=None, variants=None) -> dict:
        """Table 2: every hidden layer pruned to each fraction, every variant, every instance.

        Returns ``{"fractions", "errors": {variant: {"train"/"test": [[error per fraction] per instance]}}}``.
        """
        stored = fractions is None and variants is None
        fractions = (
            list(fractions) if fractions is not None else list(self.settings.table_fractions)
        )
        variants = self.variants if variants is None else tuple(variants)
        per_variant = {v.key: {"train": [], "test": []} for v in variants}
        for i in range(self.settings.instances):
            part = self._part(
                f"net{i}-table2", lambda i=i: self._table2_one(i, fractions, variants), stored
            )
            self._collect(part["fusion"])
            for key in per_variant:
                for name in ("train", "test"):
                    per_variant[key][name].append(part["errors"][key][name])
        return {"fractions": fractions, "errors": per_variant}

    def beta_sweep(
        self,
        layer: int = 0,
        *,
        factors=(0.1, 0.3, 1, 3, 10, 30, 100, 300),
        reweight: bool = True,
        evaluate_train: bool = True,
    ) -> dict:
        """Appendix B: prune ``layer`` with a plain DPP (no k) for each ``beta = factor / |T|``.

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
        warmed = False
        seconds = []
        for i in range(self.settings.instances):

            def measure(i=i):
                nonlocal warmed
                if not warmed:
                    _warm_up()
                    warmed = True
                with fusion_warnings():
                    start = time.perf_counter()
                    prune_network(
                        self.models[i], fraction, "dpp", True, self._rng(i, 99), data=self.x_kernel
                    )
                    return time.perf_counter() - start

            seconds.append(self._part(f"net{i}-prune-seconds", measure, fraction == 0.5))
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
            "variants": {v.key: v.describe() for v in self.variants},
            "instances": self.instances(),
            "environment": environment(),
        }
        prune = self.prune_seconds()
        results["sweeps"] = {}
        for layer in self.settings.sweep_layers:
            if layer < len(self.sizes) - 2:
                results["sweeps"][str(layer)] = self.sweep(layer)
                self._say(f"divnet-nb: layer {layer} sweep done")
        results["table2"] = self.table2()
        results["fusion_warnings"] = dict(self.fusion)
        if self.store is not None:
            results["parts"] = {
                "folder": str(self.store.folder),
                "resumed": self.store.resumed,
                "computed": self.store.computed,
            }
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
    dataset: str, *, settings: Settings | None = None, progress: bool = True, store_root=None
) -> dict:
    """Train (or load) the instances, run every experiment for ``dataset`` and check the claims.

    Returns the results as a JSON-ready dict; :func:`divnet_nb.report.write_report`
    writes them (``results.json``, one PNG per figure, ``report.md``), as the command
    line does. With ``store_root`` every finished part is kept there as it completes,
    and a rerun with the same settings reads it instead of computing it again.
    """
    start = time.perf_counter()
    exp = Experiment(dataset, settings, progress=progress, store_root=store_root)
    exp._say(f"divnet-nb: {exp.data!r}")
    if exp.store is not None and exp.store.folder.is_dir():
        exp._say(f"divnet-nb: resuming from the finished parts in {exp.store.folder}")
    results = exp.results()
    results["claims"] = check_claims(results)
    results["timing"]["total_seconds"] = time.perf_counter() - start
    return results
