"""Where parts run: in this process, on local worker processes, or on a Dask cluster.

Every executor runs :func:`run_part` on each part key it is given and yields
``(key, value, seconds)`` as parts finish, in whatever order they finish:

* :class:`InProcess` - one after the other in this process (``--jobs 1``);
* :class:`LocalProcesses` - ``jobs`` worker processes on this machine, through joblib's
  loky backend (``--jobs N``); workers are reused between phases and runs, so a worker
  loads a dataset or a network once;
* :class:`DaskCluster` - the workers of a running ``dask.distributed`` scheduler
  (``--scheduler ADDRESS``). A worker that dies mid-part (killed, out of memory, a lost
  machine) has its part rerun on another worker by the scheduler: parts are pure, so the
  numbers do not change.

**Threads.** ``threads`` sets the BLAS (OpenBLAS, MKL, OpenMP; :mod:`threadpoolctl`) and
torch (:func:`torch.set_num_threads`) thread counts inside every part, in the driver as in
workers. None leaves the process's own defaults (the machine's cores), which is what
``--jobs 1`` without ``--threads`` does. The thread count can change the last bits of a
BLAS result, and with them a k-DPP sample; with the same ``threads`` every executor gives
the same numbers.

**Failures.** A part that raises stops the run: :func:`run_part` turns the exception into
:class:`PartFailed`, which names the part and carries the traceback; the driver writes the
traceback beside the stored parts and the command line prints one line.
"""

from __future__ import annotations

import abc
import contextlib
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator

__all__ = [
    "PartFailed",
    "run_part",
    "thread_limits",
    "default_threads",
    "Executor",
    "InProcess",
    "LocalProcesses",
    "DaskCluster",
    "make_executor",
]


class PartFailed(RuntimeError):
    """Part ``key`` raised; ``message`` is one line, ``details`` the worker's traceback."""

    def __init__(self, key: str, message: str, details: str = ""):
        super().__init__(key, message, details)
        self.key, self.message, self.details = key, message, details

    def __str__(self) -> str:
        return f"part {self.key} failed: {self.message}"


def default_threads(jobs: int) -> int:
    """The machine's cores divided by the number of worker processes (at least 1)."""
    return max(1, (os.cpu_count() or 1) // max(1, jobs))


def _threads_text(threads: int | None) -> str:
    return "default threads" if threads is None else f"{threads} thread{'s' * (threads > 1)}"


def _torch_threads(threads: int) -> int | None:
    """Set torch's intra-op threads; the previous value (None when torch is not loaded)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    return before


@contextlib.contextmanager
def thread_limits(threads: int | None, torch_too: bool = True):
    """BLAS and torch threads limited to ``threads`` inside the block (None: unchanged).

    The libraries are loaded first (numpy's and scipy's BLAS, and torch when ``torch_too``),
    so that the limits reach them; the previous limits are restored on exit.
    """
    if threads is None:
        yield
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be an integer >= 1; got {threads!r}")
    import numpy  # noqa: F401 - load the BLAS libraries that the limits apply to
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_limits

    if torch_too:
        import torch  # noqa: F401
    before = _torch_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        if before is not None:
            _torch_threads(before)


#: The variables a local worker process takes from the driver (where data and networks are).
DRIVER_ENVIRONMENT = ("DIVNET_DATA", "DIVNET_CACHE", "DIVNET_RESULTS")


#: The key of ``environ`` that carries the driver's process id to local workers.
_DRIVER_PID = "driver pid"
_WATCHED: set[int] = set()


def _watch_driver(driver: int | None, every: float = 0.5) -> None:
    """End this worker process when the driver ``driver`` that started it is gone.

    A driver killed outright (``kill -9``, the out-of-memory killer) cannot tell its local
    workers; without this they would finish their parts for nobody, and keep the driver's
    terminal or pipes open. One daemon thread per worker process polls its parent.
    """
    if driver is None or driver in _WATCHED:
        return
    _WATCHED.add(driver)

    def watch():
        while os.getppid() == driver:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="divnet-nb-driver-watch", daemon=True).start()


def run_part(
    protocol, settings, key: str, threads: int | None, environ: dict | None = None
) -> tuple[str, object, float]:
    """Compute one part under the thread limits: ``(key, value, seconds)``.

    The function every executor runs (it is what a worker process unpickles). ``environ``
    (local workers only) sets :data:`DRIVER_ENVIRONMENT` as the driver has them, since a
    reused worker process keeps the environment it was started with, and the driver's
    process id, so that a worker ends when its driver is killed. Any exception of
    the part becomes :class:`PartFailed` naming it.
    """
    if environ is not None:
        _watch_driver(environ.get(_DRIVER_PID))
        for name in DRIVER_ENVIRONMENT:
            if environ.get(name) is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = environ[name]
    start = time.perf_counter()
    try:
        with thread_limits(threads, protocol.uses_torch):
            value = protocol.compute(settings, key)
    except Exception as exc:
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise PartFailed(key, message, traceback.format_exc()) from None
    return key, value, time.perf_counter() - start


class Executor(abc.ABC):
    """Runs parts; see the module notes."""

    #: Worker processes (1 for :class:`InProcess`).
    workers: int = 1

    @abc.abstractmethod
    def run(
        self, protocol, settings, keys: list[str], threads: int | None
    ) -> Iterator[tuple[str, object, float]]:
        """Yield ``(key, value, seconds)`` for every key, as parts finish."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release workers or connections."""

    def describe(self, threads: int | None) -> str:
        """One line: where parts run and with how many threads."""
        return f"{self.where()}, {_threads_text(threads)} per part"

    def where(self) -> str:
        return type(self).__name__

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class InProcess(Executor):
    """Parts one after the other in this process."""

    def run(self, protocol, settings, keys, threads):
        for key in keys:
            yield run_part(protocol, settings, key, threads)

    def where(self):
        return "this process"


class LocalProcesses(Executor):
    """``jobs`` worker processes on this machine (joblib, loky backend)."""

    def __init__(self, jobs: int):
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise ValueError(f"jobs must be an integer >= 1; got {jobs!r}")
        self.workers = jobs

    def run(self, protocol, settings, keys, threads):
        if not keys:
            return
        from joblib import Parallel, delayed

        parallel = Parallel(
            n_jobs=self.workers,
            backend="loky",
            return_as="generator_unordered",
            pre_dispatch="all",
        )
        environ = {name: os.environ.get(name) for name in DRIVER_ENVIRONMENT}
        environ[_DRIVER_PID] = os.getpid()
        yield from parallel(
            delayed(run_part)(protocol, settings, k, threads, environ) for k in keys
        )

    def where(self):
        return f"{self.workers} local worker processes"


class DaskCluster(Executor):
    """The workers of the ``dask.distributed`` scheduler at ``address`` (e.g. ``tcp://host:8786``).

    Every worker needs the package installed, ``DIVNET_DATA`` readable, and the same
    network cache as the other workers (``DIVNET_CACHE`` on a shared filesystem): training
    parts write checkpoints there and the parts after them read them.
    """

    def __init__(self, address: str, *, timeout: float = 10.0):
        if not isinstance(address, str) or not address.strip():
            raise ValueError(
                f"scheduler must be an address such as tcp://host:8786; got {address!r}"
            )
        self.address = address.strip()
        self.timeout = timeout
        self._client = None

    @property
    def client(self):
        if self._client is None:
            try:
                from distributed import Client
            except ImportError:
                raise ValueError(
                    "--scheduler needs dask.distributed: pip install 'divnet-nb[cluster]'"
                ) from None
            try:
                self._client = Client(self.address, timeout=self.timeout)
            except OSError as exc:
                raise ValueError(
                    f"cannot reach a Dask scheduler at {self.address}: {exc}"
                ) from None
        return self._client

    @property
    def workers(self) -> int:  # type: ignore[override]
        return len(self.client.scheduler_info()["workers"])

    def run(self, protocol, settings, keys, threads):
        if not keys:
            return
        from distributed import as_completed

        token = uuid.uuid4().hex[:8]
        futures = [
            self.client.submit(
                run_part, protocol, settings, k, threads, key=f"divnet-nb-{k}-{token}", pure=False
            )
            for k in keys
        ]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            self.client.cancel([f for f in futures if not f.done()])

    def close(self):
        if self._client is not None:
            self._client.close()
            self._client = None

    def where(self):
        return f"Dask scheduler {self.address} ({self.workers} workers)"


def make_executor(jobs: int = 1, scheduler: str | None = None) -> Executor:
    """The executor of the command line's ``--jobs`` and ``--scheduler``."""
    if scheduler is not None:
        if jobs != 1:
            raise ValueError("give --jobs or --scheduler, not both (a cluster has its own workers)")
        return DaskCluster(scheduler)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"--jobs must be >= 1; got {jobs!r}")
    return InProcess() if jobs == 1 else LocalProcesses(jobs)
