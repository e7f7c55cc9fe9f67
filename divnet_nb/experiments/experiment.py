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

import sys
import time

import numpy as np

from .. import __version__
from ..core.dpp import expected_size
from ..datasets import load_dataset
from ..nets.evaluate import error_rate
from ..nets.table1 import table1_sizes
from ..pruning.apply import apply_pruning, prune_network
from ..pruning.neuron.layer_data import LayerData
from ..pruning.neuron.select import select_neurons
from ..pruning.registry import variants as variants_of
from ..pruning.statistics import layer_statistics
from ..tasks.contexts import Contexts
from ..tasks.store import ResultStore
from ..training.cache import checkpoint_path, load_or_train, train_instances
from .fusion import fusion_warnings
from .settings import Settings, kernel_subset, settings_for
from .sweeps import layer_sweep, method_stream
from .tables import table2

__all__ = ["Experiment", "attached", "context", "reproduce"]


_WARMED = False


def _warm_up() -> None:
    """Compile (or load from Numba's cache) the pruning path's kernels, once per process."""
    global _WARMED
    if _WARMED:
        return
    _WARMED = True  # so that timings exclude compiling
    from ..nets.mlp import MLP

    X = np.random.default_rng(0).random((50, 6)).astype(np.float32)
    net = MLP((6, 5, 4, 2), seed=0)
    for method in ("dpp", "greedy-map"):
        prune_network(net, 0.6, method, True, 0, data=X)


def _rng(settings: Settings, *coords: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([settings.seed, *coords]))


class Experiment:
    """One dataset's experiments: its data, its trained instances, and every measurement on them.

    The command line and the notebooks both go through this class: the parts of the
    ``reproduce``, ``leaderboard`` and ``edges`` experiments (:mod:`divnet_nb.tasks`) are
    its methods, computed in this process or in a worker process that builds its own
    ``Experiment`` from the same settings (:func:`context`), so a figure in a notebook and
    the same figure in ``results/`` come from the same code. Nothing is read or trained
    when it is made: the data on first use of :attr:`data`, each network on first use of
    :meth:`model` (from the cache when it is there).

    Parameters
    ----------
    dataset : str
        ``"digits"``, ``"mnist"``, ``"mnist_rot"`` or ``"cifar10"``.
    settings : Settings, optional
        Default :func:`settings_for` (fast when ``DIVNET_FAST`` or ``CI`` is set).
    progress : bool
        Progress bars and one-line messages on stderr.
    store_root : path, optional
        Where finished parts of :meth:`sweep`, :meth:`table2` and :meth:`results` are kept
        (:class:`~divnet_nb.tasks.store.ResultStore`), so that an interrupted run resumes;
        None keeps nothing.
    require_cached : bool
        Refuse to train: a network missing from the cache is an error (worker processes,
        whose networks the training parts have put in the shared cache).

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
        require_cached: bool = False,
    ):
        self.settings = settings or settings_for(dataset)
        if self.settings.dataset != dataset:
            raise ValueError(f"settings are for {self.settings.dataset!r}, not {dataset!r}")
        self.dataset = dataset
        self.progress = progress
        #: The compared variants: each of ``settings.methods`` without and with fusion.
        self.variants = variants_of(self.settings.methods)
        #: Table 1's layer sizes, or the name of the settings' CNN architecture.
        self.sizes = self.settings.architecture or table1_sizes(dataset)
        self.fusion = {"count": 0, "max_ridge": 0.0}
        self.require_cached = require_cached
        self._data = None
        self._x_kernel = None
        self._models: dict[int, object] = {}
        self._runs = None
        self._store_root = store_root
        self._store = None

    def _say(self, message: str) -> None:
        if self.progress:
            print(message, file=sys.stderr)

    @property
    def data(self):
        """The dataset (with the settings' subsets), read on first use."""
        if self._data is None:
            self._data = load_dataset(
                self.dataset,
                n_train=self.settings.n_train,
                n_test=self.settings.n_test,
                subset_seed=self.settings.subset_seed,
            )
        return self._data

    def inputs(self, x):
        """Dataset rows as the networks' inputs: themselves for an MLP, images for a CNN."""
        if self.settings.architecture is None:
            return x
        from ..nets.architectures import get_architecture

        return get_architecture(self.settings.architecture).inputs(x)

    @property
    def x_kernel(self):
        """The training inputs the statistics (kernel, fusion, objective) are computed over."""
        if self._x_kernel is None:
            self._x_kernel = self.inputs(
                kernel_subset(
                    self.data.x_train, self.settings.n_kernel, self.settings.kernel_subset_seed
                )
            )
        return self._x_kernel

    @property
    def x_test(self):
        """The test inputs, as the networks read them."""
        return self.inputs(self.data.x_test)

    @property
    def seeds(self) -> range:
        return range(self.settings.seed, self.settings.seed + self.settings.instances)

    def checkpoint(self, i: int):
        """Where network ``i`` is (or will be) cached."""
        return checkpoint_path(self.data, self.sizes, self.seeds[i], self.settings.train)

    def trained(self, i: int, *, train: bool = False):
        """Network ``i``'s :class:`~divnet_nb.training.TrainResult`, loaded, or trained and cached
        (a context that ``require_cached`` trains only when asked to: its training part)."""
        if self.require_cached and not train and not self.checkpoint(i).exists():
            raise FileNotFoundError(
                f"network {i} is not in the cache ({self.checkpoint(i)}): its training part "
                f"ran elsewhere; every worker needs the same DIVNET_CACHE (a shared filesystem)"
            )
        return load_or_train(
            self.data, self.sizes, self.seeds[i], self.settings.train, progress=self.progress
        )

    def model(self, i: int):
        """Network ``i`` (seed ``settings.seed + i``), loaded or trained on first use."""
        if i not in self._models:
            self._models[i] = self.trained(i).model
        return self._models[i]

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
            self._models.update({i: r.model for i, r in enumerate(self._runs)})
        return self._runs

    def is_cached(self) -> bool:
        """Whether every instance's trained network is already in the cache (``runs`` would not train)."""
        return all(self.checkpoint(i).exists() for i in range(self.settings.instances))

    @property
    def models(self):
        return [self.model(i) for i in range(self.settings.instances)]

    def _rng(self, *coords: int) -> np.random.Generator:
        return _rng(self.settings, *coords)

    def _collect(self, summary: dict) -> None:
        self.fusion["count"] += summary["count"]
        self.fusion["max_ridge"] = max(self.fusion["max_ridge"], summary["max_ridge"])

    def identity(self) -> dict:
        """What decides the parts' numbers: settings, the networks' cache keys, the version."""
        return {
            "settings": self.settings.to_dict(),
            "networks": [self.checkpoint(i).name for i in range(self.settings.instances)],
            "version": __version__,
        }

    @property
    def store(self) -> ResultStore | None:
        """The store of finished parts (None without ``store_root``)."""
        if self._store is None and self._store_root is not None:
            self._store = ResultStore(self._store_root, self.identity())
        return self._store

    def _part(self, name: str, compute, stored: bool):
        if stored and self.store is not None:
            return self.store.part(name, compute)
        return compute()

    # -- the parts ---------------------------------------------------------------------
    def train_part(self, i: int) -> dict:
        """Network ``i`` trained (or loaded): its row of the instance table."""
        run = self.trained(i, train=True)
        self._models[i] = run.model
        return {
            "seed": run.seed,
            "epochs": run.epochs,
            "iterations": run.iterations,
            "reached": run.reached,
            "train_error": run.train_error,
            "test_error": error_rate(run.model, self.x_test, self.data.y_test),
            "train_seconds": run.seconds,
            "from_cache": run.from_cache,
            "device": run.device,
        }

    def sweep_part(self, i: int, layer: int, grid=None, variants=None) -> dict:
        """Network ``i``'s layer ``layer`` pruned alone to each kept size, every variant."""
        grid = self.settings.swept_sizes(self.sizes[layer + 1]) if grid is None else grid
        variants = self.variants if variants is None else variants
        with fusion_warnings() as summary:
            errors = layer_sweep(
                self.model(i),
                layer,
                grid,
                self.x_kernel,
                self.data.x_test,
                self.data.y_test,
                variants=variants,
                progress=self.progress,
                rng_for=lambda method, s: self._rng(i, layer, method_stream(method), s),
                kernel=self.settings.kernel,
            )
        return {"test_error": errors, "fusion": summary}

    def table2_part(self, i: int, fractions=None, variants=None) -> dict:
        """Network ``i`` with every hidden layer pruned to each Table 2 fraction, every variant."""
        fractions = list(self.settings.table_fractions) if fractions is None else fractions
        variants = self.variants if variants is None else variants
        evaluation = {
            "train": (self.data.x_train, self.data.y_train),
            "test": (self.data.x_test, self.data.y_test),
        }
        with fusion_warnings() as summary:
            errors = table2(
                self.model(i),
                fractions,
                self.x_kernel,
                evaluation,
                variants=variants,
                rng_for=lambda method, f: self._rng(i, 100, method_stream(method), f),
                progress=self.progress,
                kernel=self.settings.kernel,
            )
        return {"errors": errors, "fusion": summary}

    def prune_seconds_part(self, i: int, fraction: float = 0.5) -> float:
        """Wall time of DivNet pruning every hidden layer of network ``i`` (kernel data: ``x_kernel``)."""
        _warm_up()
        model = self.model(i)
        with fusion_warnings():
            start = time.perf_counter()
            rng, kernel = self._rng(i, 99), self.settings.kernel
            prune_network(model, fraction, "dpp", True, rng, data=self.x_kernel, kernel=kernel)
            return time.perf_counter() - start

    # -- the measurements, over every network -----------------------------------------
    def sweep(self, layer: int = 0, *, sizes=None, variants=None) -> dict:
        """Prune hidden layer ``layer`` alone to each size, every variant, every instance (Figures 2-8).

        Returns ``{"layer", "sizes", "layer_size", "test_error": {variant: [[error per size] per instance]}}``.
        """
        n = self.sizes[layer + 1]
        stored = sizes is None and variants is None
        grid = list(sizes) if sizes is not None else self.settings.swept_sizes(n)
        variants = self.variants if variants is None else tuple(variants)
        per_variant = {v.key: [] for v in variants}
        for i in range(self.settings.instances):
            part = self._part(
                f"net{i}-sweep{layer}",
                lambda i=i: self.sweep_part(i, layer, grid, variants),
                stored,
            )
            self._collect(part["fusion"])
            for key in per_variant:
                per_variant[key].append(part["test_error"][key])
        return {"layer": layer, "sizes": grid, "layer_size": n, "test_error": per_variant}

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
                f"net{i}-table2", lambda i=i: self.table2_part(i, fractions, variants), stored
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
        return [
            self._part(
                f"net{i}-prune-seconds",
                lambda i=i: self.prune_seconds_part(i, fraction),
                fraction == 0.5,
            )
            for i in range(self.settings.instances)
        ]

    def instances(self) -> list[dict]:
        """One row per trained network: epochs, errors, training time."""
        return [self.train_part(i) for i in range(self.settings.instances)]

    def run(self, experiment: str, *, executor=None, threads: int | None = None) -> dict:
        """The registered ``experiment`` (``"reproduce"``, ``"leaderboard"``, ``"edges"``) on
        this object's data and networks: its parts computed in this process, or on
        ``executor`` (:mod:`divnet_nb.tasks.executors`) with ``threads`` BLAS and torch
        threads each, and kept in the store."""
        from ..tasks.driver import run_experiment
        from ..tasks.protocol import get_experiment

        with attached(self):
            return run_experiment(
                get_experiment(experiment),
                self.settings,
                store_root=self._store_root,
                executor=executor,
                threads=threads,
                progress=self.progress,
            )

    def results(self, *, executor=None, threads=None) -> dict:
        """Everything ``divnet-nb reproduce`` reports, as a JSON-ready dict (the paper's claims
        included): the ``reproduce`` experiment (:class:`~divnet_nb.experiments.reproduce.Reproduce`)
        run by :meth:`run`."""
        result = self.run("reproduce", executor=executor, threads=threads)
        self._collect(result["fusion_warnings"])
        return result


#: The contexts of this process: one a caller attached, or one made here for a worker's parts
#: (quiet, refusing to train: the training parts have put the networks in the cache).
_CONTEXTS = Contexts(
    lambda settings: Experiment(settings.dataset, settings, progress=False, require_cached=True)
)


def attached(exp: Experiment):
    """Parts computed in this process inside the block use ``exp`` (its data and networks)."""
    return _CONTEXTS.attached(exp, exp.settings)


def context(settings: Settings) -> Experiment:
    """The :class:`Experiment` of ``settings`` in this process: an attached one, else one made here."""
    return _CONTEXTS.get(settings)


def reproduce(
    dataset: str,
    *,
    settings: Settings | None = None,
    progress: bool = True,
    store_root=None,
    executor=None,
    threads: int | None = None,
) -> dict:
    """Train (or load) the instances, run every experiment for ``dataset`` and check the claims.

    Returns the results as a JSON-ready dict; :func:`divnet_nb.report.write_report`
    writes them (``results.json``, one PNG per figure, ``report.md``), as the command
    line does. With ``store_root`` every finished part is kept there as it completes,
    and a rerun with the same settings reads it instead of computing it again. The parts
    run in this process, or on ``executor`` with ``threads`` BLAS and torch threads each
    (:mod:`divnet_nb.tasks.executors`).
    """
    exp = Experiment(dataset, settings, progress=progress, store_root=store_root)
    exp._say(f"divnet-nb: {exp.data!r}")
    if exp.store is not None and exp.store.folder.is_dir():
        exp._say(f"divnet-nb: resuming from the finished parts in {exp.store.folder}")
    return exp.results(executor=executor, threads=threads)
