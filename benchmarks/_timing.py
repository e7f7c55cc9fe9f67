"""The one timing rule of the benchmarks: the best of several runs, after an optional warm-up."""

from __future__ import annotations

import time


def best_time(fn, repeats: int = 3, *, warm_up: bool = True) -> float:
    """Minimum wall time of ``repeats`` calls of ``fn`` (seconds).

    The minimum is the least noisy estimate on a shared machine. The warm-up call
    absorbs JIT compilation, page faults and BLAS thread start-up; skip it when one
    call is itself expensive and already warm.
    """
    if warm_up:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
