"""Experiments on worker processes and on a Dask cluster, against one process, in one run.

1. **The driver's overhead per part**: a no-op experiment of 200 parts (each returns a
   small dict at once), run through the driver with its store on disk, as the command line
   runs it: wall time / 200 (target <= 50 ms), in this process and on 2 local workers.
2. **A full reproduction**: ``divnet-nb reproduce --dataset mnist`` (5 networks, every
   sweep and Table 2) with ``--jobs 2 --threads 1`` against ``--jobs 1`` (the default
   threads: the machine's cores), the networks loaded from the cache in both runs (they
   are trained first if missing; training is not timed), each from an empty store;
   target >= 1.5x on 2 cores. Then the same on a 2-worker Dask cluster on 127.0.0.1 (one
   thread per worker). The part timings of the one-process run give the time each part
   costs, from which the wall time at N workers is estimated by list scheduling.

Run: ``python benchmarks/bench_tasks.py [--quick] [--dataset mnist]`` (``--quick``: digits
and 50 no-op parts). Timings vary by 2x between days on shared machines: the ratios are
measured within one run.
"""

from __future__ import annotations

import argparse
import heapq
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from divnet_nb.tasks.driver import run_experiment
from divnet_nb.tasks.executors import LocalProcesses
from divnet_nb.tasks.protocol import ExperimentProtocol


@dataclass(frozen=True)
class NoOpSettings:
    parts: int = 200

    def to_dict(self):
        return {"parts": self.parts}


class NoOp(ExperimentProtocol):
    """``parts`` parts that each return a small dict at once."""

    name = "no-op"
    uses_torch = False

    def settings_from_args(self, args, fast):
        return NoOpSettings()

    def phases(self, settings):
        return [[f"part{i}" for i in range(settings.parts)]]

    def compute(self, settings, key):
        return {"key": key, "values": [1.0, 2.0, 3.0]}

    def gather(self, settings, parts):
        return {"dataset": "none", "n": len(parts)}


def overhead(parts: int) -> dict:
    out = {}
    for label, executor in (("this process", None), ("2 local workers", LocalProcesses(2))):
        with tempfile.TemporaryDirectory() as root:
            if executor is not None:  # start the workers before timing (a run reuses them)
                run_experiment(NoOp(), NoOpSettings(4), executor=executor, progress=False)
            start = time.perf_counter()
            run_experiment(
                NoOp(), NoOpSettings(parts), store_root=root, executor=executor, progress=False
            )
            out[label] = (time.perf_counter() - start) / parts
    return out


def reproduce(dataset: str, out: Path, *extra: str) -> tuple[float, dict]:
    """Wall time of one ``divnet-nb reproduce`` from an empty store, and its results."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "divnet_nb", "reproduce", "--dataset", dataset, "--full",
           "--quiet", "--out", str(out), *extra]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start, json.loads((out / "results.json").read_text())


def list_schedule(seconds: list[float], workers: int) -> float:
    """Makespan of the parts, longest first, each to the worker free soonest."""
    free = [0.0] * workers
    for s in sorted(seconds, reverse=True):
        heapq.heappush(free, heapq.heappop(free) + s)
    return max(free)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="digits and 50 no-op parts")
    parser.add_argument("--dataset", default=None, help="dataset of the reproduction (mnist)")
    args = parser.parse_args()
    dataset = args.dataset or ("digits" if args.quick else "mnist")
    print(f"{os.cpu_count()} cores; dataset {dataset}")

    per_part = overhead(50 if args.quick else 200)
    for label, s in per_part.items():
        print(f"driver overhead per part, {label}: {1000 * s:.1f} ms (target <= 50 ms)")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # train (or load) the networks once, untimed
        subprocess.run([sys.executable, "-m", "divnet_nb", "reproduce", "--dataset", dataset,
                        "--full", "--quiet", "--out", str(tmp / "warm"), "--sizes", "1",
                        "--fractions", "1"], check=True, capture_output=True)  # fmt: skip
        one, r1 = reproduce(dataset, tmp / "one")
        two, r2 = reproduce(dataset, tmp / "two", "--jobs", "2", "--threads", "1")
        print(f"reproduce {dataset}, --jobs 1 (default threads): {one:.1f} s")
        print(f"reproduce {dataset}, --jobs 2 --threads 1: {two:.1f} s, speed-up {one / two:.2f}x "
              f"(target >= 1.5x)")  # fmt: skip
        try:
            from distributed import LocalCluster
        except ImportError:
            print("Dask: not installed (pip install 'divnet-nb[cluster]')")
        else:
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                              dashboard_address=None, silence_logs=logging.ERROR) as cluster:  # fmt: skip
                dask, _ = reproduce(dataset, tmp / "dask", "--scheduler", cluster.scheduler_address)
            print(f"reproduce {dataset}, 2 Dask workers, 1 thread each: {dask:.1f} s, "
                  f"speed-up {one / dask:.2f}x")  # fmt: skip
        seconds = list(r1["parts"]["seconds"].values())
        total = sum(seconds)
        print(f"parts of the one-process run: {len(seconds)}, {total:.1f} s in all, longest "
              f"{max(seconds):.1f} s; list-scheduled at 2 / 4 / 8 workers (same threads): "
              + " / ".join(f"{list_schedule(seconds, n):.1f} s" for n in (2, 4, 8)))  # fmt: skip
        same = r1["table2"] == r2["table2"] and r1["sweeps"] == r2["sweeps"]
        print(f"--jobs 1 and --jobs 2 give the same Table 2 and sweeps: {same} (k-DPP rows can "
              f"differ in the last bits between thread counts)")  # fmt: skip


if __name__ == "__main__":
    main()
