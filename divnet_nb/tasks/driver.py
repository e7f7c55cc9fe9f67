"""The driver: run an experiment's parts on an executor, keep each as it arrives, gather.

:func:`run_experiment` is the one loop behind every command and every notebook call:

1. the store (:class:`~divnet_nb.tasks.store.ResultStore`, named by the experiment's
   identity) is read first, so finished parts are never computed again (a run stopped by
   Ctrl-C, a kill or a power cut resumes; ``--fresh`` deletes the store first);
2. phase by phase, the parts still to do go to the executor; each finished part is written
   to the store atomically the moment it arrives, and one progress bar counts parts;
3. a part that raises stops the run with :class:`~divnet_nb.tasks.executors.PartFailed`
   (its traceback is written to ``failed-<part>.log`` in the store), and every finished
   part stays on disk;
4. :meth:`~divnet_nb.tasks.protocol.ExperimentProtocol.gather` makes the result, which
   records where its parts came from (``"parts"``: the store's folder, how many were
   resumed and computed, where they ran, and each computed part's seconds).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from .executors import Executor, InProcess, PartFailed
from .provenance import environment
from .store import ResultStore

__all__ = ["run_experiment", "store_for"]


def store_for(protocol, settings, root) -> ResultStore | None:
    """The store of ``protocol`` run with ``settings`` under ``root`` (None without a root)."""
    if root is None:
        return None
    identity = protocol.identity(settings)
    return None if identity is None else ResultStore(Path(root), identity)


def run_experiment(
    protocol,
    settings,
    *,
    store_root=None,
    executor: Executor | None = None,
    threads: int | None = None,
    progress: bool = True,
    on_part: Callable[[str, object], None] | None = None,
) -> dict:
    """Every part of ``protocol`` with ``settings``, computed or resumed; the gathered result.

    Parameters
    ----------
    protocol : ExperimentProtocol
        The experiment (:func:`~divnet_nb.tasks.protocol.get_experiment`).
    settings
        Its validated settings.
    store_root : path, optional
        Where finished parts are kept (``<out>/.parts`` on the command line); None keeps
        nothing.
    executor : Executor, optional
        Where parts run; default :class:`~divnet_nb.tasks.executors.InProcess`.
    threads : int, optional
        BLAS and torch threads inside every part (None: the process's defaults).
    progress : bool
        One progress bar over parts on stderr.
    on_part : callable, optional
        Called with ``(key, value)`` after each computed part is stored.
    """
    executor = executor or InProcess()
    store = store_for(protocol, settings, store_root)
    phases = protocol.phases(settings)
    values: dict[str, object] = {}
    seconds: dict[str, float] = {}
    resumed = computed = 0
    start = time.perf_counter()
    bar = tqdm(
        total=sum(len(p) for p in phases),
        desc=f"{protocol.name} parts",
        unit="part",
        disable=not progress,
        leave=False,
        file=sys.stderr,
        mininterval=0.5,
    )
    try:
        for phase in phases:
            todo = []
            for key in phase:
                stored = store.get(key) if store is not None and protocol.is_stored(key) else None
                if stored is None:
                    todo.append(key)
                else:
                    values[key] = stored
                    resumed += 1
                    bar.update(1)
            for key, value, took in executor.run(protocol, settings, todo, threads):
                if store is not None and protocol.is_stored(key):
                    store.put(key, value)
                values[key] = value
                seconds[key] = took
                computed += 1
                bar.update(1)
                if on_part is not None:
                    on_part(key, value)
    except PartFailed as exc:
        if store is not None:
            exc.log = store.note_failure(exc.key, exc.details)
        raise
    finally:
        bar.close()
    result = {"experiment": protocol.name, **protocol.gather(settings, values)}
    result.setdefault("environment", environment())
    result["parts"] = {
        "folder": None if store is None else str(store.folder),
        "resumed": resumed,
        "computed": computed,
        "executor": executor.describe(threads),
        "seconds": seconds,
        "wall_seconds": time.perf_counter() - start,
    }
    return result
