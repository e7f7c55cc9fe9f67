"""Shared fixtures, and how the suite runs in lanes and in parallel.

``naive`` (the slow reference twins) is importable because pytest puts this folder on
``sys.path``.

**Lanes.** Every test that takes more than about 10 s on a quiet machine carries a marker
(declared in ``pyproject.toml``): ``slow``, ``reproduction``, ``notebooks``, ``docs``,
``assignments`` or ``cluster`` (whole files through ``pytestmark``). ``make test-fast``
runs what has none; ``make test`` runs everything.

**Parallel runs** (``pytest -n 2``, pytest-xdist, as ``make test`` does):

* each worker process gets its share of the cores: BLAS, OpenMP and torch threads are
  limited to ``cores // workers`` in the worker and in the processes its tests start
  (:func:`pytest_configure`); a test that must train as a serial run does (bit for bit
  like a committed reference) asks for :func:`serial_threads` and carries the ``serial``
  marker: ``make test`` runs those alone first, since a serial run's threads beside a busy
  worker oversubscribe the cores (the full MNIST reproduction took 687 s that way against
  about 175 s alone);
* tests that share a module-scoped fixture (a built website, graded assignments, a Dask
  cluster, a small experiment run once) run on one worker (``--dist loadgroup``: they
  get the file as their ``xdist_group``); so do tests marked with an ``xdist_group``;
* the longest lanes are handed out first, so that no worker is left with a long test at
  the end (:func:`pytest_collection_modifyitems`);
* trained networks are shared through the network cache, whose training lock makes a
  worker wait for a network the other one is training instead of training it again, and
  Numba's cache of compiled kernels is written by one worker at a time;
* a test must leave the environment and the method, kernel and experiment registries as
  it found them (:func:`traces_left`): a worker runs many tests in one process.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest

JIT_DISABLED = os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0")

#: Worker processes of this run (1 without pytest-xdist's ``-n``).
WORKERS = (
    int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if os.environ.get("PYTEST_XDIST_WORKER")
    else 1
)
#: BLAS, OpenMP and torch threads of a test process: its share of the cores (None: serial,
#: the libraries' own defaults).
THREADS = max(1, (os.cpu_count() or 1) // WORKERS) if WORKERS > 1 else None
#: What the processes that tests start read for their thread counts.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

#: The order in which lanes are handed to workers: the longest first.
LANE_ORDER = ("reproduction", "assignments", "docs", "cluster", "slow")

_serial = {}  # the libraries' own thread counts, before the limits


def _lock_numba_cache_writes() -> None:
    """Make Numba's cache writes of one kernel one at a time across processes.

    Numba writes a kernel's index and its data files atomically, but each separately: two
    processes compiling two signatures of one kernel at the same time can both take data
    file 1, and the index may then name the other signature's code. A lock on the index
    around Numba's save (:class:`numba.core.caching.IndexDataCacheFile`) prevents that.
    """
    from filelock import FileLock
    from numba.core import caching

    save = getattr(caching.IndexDataCacheFile, "save", None)
    if save is None or getattr(save, "locked", False):
        return

    def locked_save(self, key, data):
        with FileLock(f"{self._index_path}.lock"):
            return save(self, key, data)

    locked_save.locked = True
    caching.IndexDataCacheFile.save = locked_save


def pytest_configure(config):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # coverage measures this worker (``patch = ["subprocess"]``), not the processes
        # its tests start, as in a serial run
        os.environ.pop("COVERAGE_PROCESS_CONFIG", None)
        _lock_numba_cache_writes()
    if THREADS is None:
        return
    import scipy.linalg  # noqa: F401 - load the BLAS libraries that the limits apply to
    import torch
    from threadpoolctl import threadpool_limits

    _serial["torch"] = torch.get_num_threads()
    _serial["blas"] = threadpool_limits(limits=THREADS)
    torch.set_num_threads(THREADS)
    for name in THREAD_VARIABLES:
        os.environ[name] = str(THREADS)


def _lane(item) -> int:
    """Position of an item's first lane in :data:`LANE_ORDER` (len: none)."""
    names = {m.name for m in item.iter_markers()}
    return next((i for i, lane in enumerate(LANE_ORDER) if lane in names), len(LANE_ORDER))


_GROUP = pytest.StashKey[str]()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's, which reads the groups into node ids
def pytest_collection_modifyitems(config, items):
    if WORKERS == 1:
        return
    groups = {}
    for item in items:
        if item.get_closest_marker("xdist_group") is None and _shares_a_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.path.name))
        marker = item.get_closest_marker("xdist_group")
        key = marker.args[0] if marker is not None and marker.args else item.nodeid
        groups[key] = min(groups.get(key, len(LANE_ORDER)), _lane(item))
        item.stash[_GROUP] = key
    # the longest lanes first; a group keeps its items together, in their order
    items.sort(key=lambda item: groups[item.stash[_GROUP]])


def _shares_a_module_fixture(item) -> bool:
    """Whether ``item`` uses a fixture built once for its module: module, class or package
    scope, or session scope when the fixture is defined in the test file itself (built once
    per worker, so two workers would each build it)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    own = item.module.__name__ if getattr(item, "module", None) is not None else None
    return any(
        defs
        and (
            defs[-1].scope in ("module", "class", "package")
            or (defs[-1].scope == "session" and getattr(defs[-1].func, "__module__", None) == own)
        )
        for defs in info.name2fixturedefs.values()
    )


@pytest.fixture
def serial_threads():
    """The threads of a serial run (the libraries' defaults) inside one test of a parallel run.

    For runs checked against a committed reference trained that way: torch's training is
    bitwise the same only on the same thread count.
    """
    if THREADS is None:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    _serial["blas"].restore_original_limits()
    torch.set_num_threads(_serial["torch"])
    try:
        yield
    finally:
        _serial["blas"] = threadpool_limits(limits=THREADS)
        torch.set_num_threads(THREADS)


def _registries() -> dict:
    """What the method, kernel and experiment registries hold (those already imported)."""
    found = {}
    kernels = sys.modules.get("divnet_nb.core.kernels")
    if kernels is not None:
        for name in kernels.kernel_names():
            found["kernel", name] = kernels.get_kernel(name).build
    pruning = sys.modules.get("divnet_nb.pruning")
    if pruning is not None:
        for kind in ("neuron", "edge", "gate"):
            for name in pruning.method_names(kind):
                found["method", kind, name] = pruning.get_method(name, kind).function
    protocol = sys.modules.get("divnet_nb.tasks.protocol")
    if protocol is not None:
        for name, experiment in list(protocol._EXPERIMENTS.items()):
            found["experiment", name] = type(experiment)
    return found


def _forget(entry: tuple) -> None:
    if entry[0] == "method":
        sys.modules["divnet_nb.pruning"].unregister_method(entry[2], entry[1])
    elif entry[0] == "kernel":
        sys.modules["divnet_nb.core.kernels"].unregister_kernel(entry[1])
    else:
        sys.modules["divnet_nb.tasks.protocol"]._EXPERIMENTS.pop(entry[1], None)


#: Set by pytest while a test runs.
_PYTEST_VARIABLES = {"PYTEST_CURRENT_TEST"}
#: New variables that change what the package or the suite does. Others that appear during
#: a test are left alone: libraries set some on first import (KMP_INIT_AT_FORK,
#: TORCHINDUCTOR_CACHE_DIR, ...).
_WATCHED_PREFIXES = ("DIVNET_", "NUMBA_", "XDG_", "CI", "COVERAGE_", *THREAD_VARIABLES)


def snapshot_traces() -> tuple[dict, dict]:
    """The environment and the registries, before a test."""
    return dict(os.environ), _registries()


def traces_left(snapshot: tuple[dict, dict]) -> list[str]:
    """What a test changed since ``snapshot``: environment variables (all that existed, and
    new ones that the package or the suite reads) and methods, kernels or experiments that
    it registered (not the package's own, which register on first import); each is undone."""
    environ, before = snapshot
    left = []
    changed = sorted(
        k
        for k in environ.keys() | os.environ.keys()
        if environ.get(k) != os.environ.get(k)
        and k not in _PYTEST_VARIABLES
        and (k in environ or k.startswith(_WATCHED_PREFIXES))
    )
    if changed:
        left.append(f"environment variables {changed}")
        for k in changed:
            if k in environ:
                os.environ[k] = environ[k]
            else:
                os.environ.pop(k, None)
    for entry, owner in _registries().items():
        if entry not in before and not owner.__module__.startswith("divnet_nb."):
            left.append(" ".join(entry))
            _forget(entry)
    return left


@pytest.fixture(autouse=True)
def _leaves_no_trace():
    """A test that leaves a trace (:func:`traces_left`) fails, and the next test in the
    process does not see it."""
    snapshot = snapshot_traces()
    yield
    left = traces_left(snapshot)
    if left:
        pytest.fail(f"the test left behind: {', '.join(left)}", pytrace=False)


@pytest.fixture(scope="session")
def digits_network():
    """``(data, model)``: network 0 of the fast digits reproduction (64-100-100-10, trained
    Table 1's way), which the end-to-end runs on digits train too: trained once per cache
    and shared by the tests that need a small trained network (they must not change it)."""
    from divnet_nb.experiments import Experiment, settings_for

    exp = Experiment("digits", settings_for("digits", fast=True, instances=1), progress=False)
    return exp.data, exp.runs[0].model


@pytest.fixture
def rng():
    return np.random.default_rng(20160502)


def random_psd(rng, n, rank=None, scale=1.0):
    """A random symmetric PSD matrix of the given rank (full by default)."""
    rank = n if rank is None else rank
    B = rng.standard_normal((n, rank))
    L = B @ B.T / rank * scale
    return (L + L.T) / 2


@pytest.fixture
def no_network(monkeypatch):
    """Every URL fails at once; records the URLs torchvision tried."""
    tried = []

    def fail(request, *args, **kwargs):
        tried.append(getattr(request, "full_url", request))
        raise urllib.error.URLError("network disabled by the test")

    monkeypatch.setattr(urllib.request, "urlopen", fail)
    return tried


#: In CI (CI set, as .ci/run does) or with DIVNET_DATA set, a missing dataset is a failure.
DATA_REQUIRED = bool(os.environ.get("CI") or os.environ.get("DIVNET_DATA"))


def require_data(name: str):
    """Skip when a dataset is missing on a developer's machine; fail in CI or when DIVNET_DATA is set."""
    from divnet_nb.datasets import DatasetNotFoundError, load_dataset

    try:
        load_dataset(name, n_train=1, n_test=1)
    except DatasetNotFoundError as exc:
        if DATA_REQUIRED:
            pytest.fail(f"{name} is missing (CI or DIVNET_DATA is set, so it must be there): {exc}")
        pytest.skip(f"{name} not available (set DIVNET_DATA): {exc}")
