"""Experiments as tasks: the protocol, the store, the driver and the executors on a toy experiment.

The toy experiment (:class:`Draws`) has no torch and no data: part ``p<i>`` draws numbers
from a generator seeded by (seed, i) only, so its value is known in advance, whatever
process computes it and in whatever order. The tests check that every executor gives the
same numbers, that finished parts are kept the moment they arrive and never computed
again, and that a failing part stops the run naming itself while every finished part stays.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
import pytest

from divnet_nb.tasks import protocol as protocol_module
from divnet_nb.tasks.driver import run_experiment, store_for
from divnet_nb.tasks.executors import (
    InProcess,
    LocalProcesses,
    PartFailed,
    default_threads,
    make_executor,
    thread_limits,
)
from divnet_nb.tasks.protocol import (
    ExperimentProtocol,
    SettingError,
    experiment_names,
    get_experiment,
    register_experiment,
)


@dataclass(frozen=True)
class DrawSettings:
    parts: int = 6
    seed: int = 0
    fail: int | None = None  # the part that raises
    sleep: float = 0.0
    dataset: str = "toy"

    def __post_init__(self):
        if self.parts < 1:
            raise SettingError("parts", f"must be >= 1; got {self.parts}")

    def to_dict(self):
        return dataclasses.asdict(self)


def expected(settings: DrawSettings, i: int) -> list[float]:
    return np.random.default_rng([settings.seed, i]).standard_normal(3).tolist()


class Draws(ExperimentProtocol):
    """Parts p0..p<n-1>, each three seeded normal draws; a first phase of one part."""

    name = "toy-draws"
    uses_torch = False

    def settings_from_args(self, args, fast):
        return DrawSettings()

    def phases(self, settings):
        return [["p0"], [f"p{i}" for i in range(1, settings.parts)]]

    def compute(self, settings, key):
        i = int(key[1:])
        if settings.sleep:
            time.sleep(settings.sleep)
        if settings.fail == i:
            raise ArithmeticError(f"part {i} was told to fail")
        return {"draws": expected(settings, i), "pid": os.getpid()}

    def identity(self, settings):  # failing and sleeping do not decide the numbers
        return {"experiment": self.name, "parts": settings.parts, "seed": settings.seed}

    def gather(self, settings, parts):
        return {
            "dataset": "toy",
            "draws": [parts[f"p{i}"]["draws"] for i in range(settings.parts)],
            "pids": sorted({parts[f"p{i}"]["pid"] for i in range(settings.parts)}),
        }


@pytest.fixture
def toy():
    register_experiment(Draws)
    yield get_experiment("toy-draws")
    protocol_module._EXPERIMENTS.pop("toy-draws", None)


def test_every_executor_gives_the_numbers_the_keys_decide(toy):
    settings = DrawSettings(parts=8, seed=5)
    want = [expected(settings, i) for i in range(8)]
    here = run_experiment(toy, settings, progress=False)
    with LocalProcesses(2) as two:
        there = run_experiment(toy, settings, executor=two, threads=1, progress=False)
    assert here["draws"] == there["draws"] == want
    assert here["pids"] == [os.getpid()] and os.getpid() not in there["pids"]
    assert here["experiment"] == there["experiment"] == "toy-draws"
    assert (
        there["parts"]["computed"] == 8 and "2 local worker processes" in there["parts"]["executor"]
    )


def test_parts_are_stored_as_they_arrive_and_never_computed_again(toy, tmp_path):
    settings = DrawSettings(parts=5, seed=1)
    seen = []

    def on_part(key, value):  # each part is on disk before the driver moves on
        store = store_for(toy, settings, tmp_path)
        seen.append(key)
        assert json.loads((store.folder / f"{key}.json").read_text()) == value

    first = run_experiment(toy, settings, store_root=tmp_path, progress=False, on_part=on_part)
    assert sorted(seen) == [f"p{i}" for i in range(5)] and seen[0] == "p0"  # phase by phase
    again = run_experiment(toy, settings, store_root=tmp_path, progress=False, on_part=on_part)
    assert again["parts"]["resumed"] == 5 and again["parts"]["computed"] == 0
    assert again["draws"] == first["draws"] and len(seen) == 5
    other = run_experiment(toy, DrawSettings(parts=5, seed=2), store_root=tmp_path, progress=False)
    assert other["parts"]["computed"] == 5  # other settings: another store, nothing shared


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failing_part_stops_the_run_naming_it_and_keeps_the_finished_ones(toy, tmp_path, jobs):
    settings = DrawSettings(parts=4, fail=2)
    with make_executor(jobs) as executor, pytest.raises(PartFailed) as info:
        run_experiment(toy, settings, store_root=tmp_path, executor=executor, progress=False)
    exc = info.value
    assert str(exc) == "part p2 failed: ArithmeticError: part 2 was told to fail"
    assert "Traceback" in exc.details and exc.log.read_text() == exc.details
    store = store_for(toy, settings, tmp_path)
    assert store.get("p0") == {"draws": expected(settings, 0), "pid": store.get("p0")["pid"]}
    assert store.get("p2") is None
    # the run resumes once the part is mended: what was finished is not computed again
    mended = dataclasses.replace(settings, fail=None)
    kept = sum(store.get(f"p{i}") is not None for i in range(4))
    done = run_experiment(toy, mended, store_root=tmp_path, progress=False)
    assert done["parts"]["resumed"] == kept >= 1 and done["parts"]["computed"] == 4 - kept


def test_threads_are_limited_inside_a_part_and_restored_after():
    from threadpoolctl import threadpool_info

    before = {i["filepath"]: i["num_threads"] for i in threadpool_info()}
    with thread_limits(1, torch_too=False):
        assert all(i["num_threads"] == 1 for i in threadpool_info())
    assert {i["filepath"]: i["num_threads"] for i in threadpool_info()} == before
    with pytest.raises(ValueError, match="threads must be an integer >= 1"):
        with thread_limits(0):
            pass
    assert default_threads(1) == (os.cpu_count() or 1) and default_threads(10_000) == 1


def test_executors_refuse_bad_input():
    with pytest.raises(ValueError, match="jobs must be an integer >= 1"):
        LocalProcesses(0)
    with pytest.raises(ValueError, match="--jobs or --scheduler, not both"):
        make_executor(2, "tcp://127.0.0.1:1")
    assert isinstance(make_executor(1), InProcess)


def test_the_registry_names_every_command_and_refuses_a_second_of_one_name(toy):
    assert experiment_names()[:10] == [
        "reproduce", "leaderboard", "kernels", "edges", "theory", "gates", "cnn", "sizes",
        "interleaved", "edge-bandwidths",
    ]  # fmt: skip
    with pytest.raises(
        ValueError,
        match="unknown experiment 'nope'; registered: cnn, edge-bandwidths, edges, gates",
    ):
        get_experiment("nope")

    class Other(Draws):
        pass

    with pytest.raises(ValueError, match="already registered"):
        register_experiment(Other)


def test_the_commands_keep_their_order_whichever_module_a_process_imports_first():
    """A process that imported the gate experiment first (as a test or a notebook may) lists
    the commands in the same order as one that did not."""
    code = (
        "import divnet_nb.experiments.gates, divnet_nb.experiments.edges\n"
        "from divnet_nb.tasks import experiment_names\n"
        "print(' '.join(experiment_names()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [
        "reproduce", "leaderboard", "kernels", "edges", "theory", "gates", "cnn", "sizes",
        "interleaved", "edge-bandwidths",
    ]  # fmt: skip


def test_a_setting_error_reads_under_the_name_of_its_option():
    exc = SettingError("sweep_sizes", "must be kept-neuron counts; got [0]")
    assert str(exc) == "sweep_sizes must be kept-neuron counts; got [0]"
    assert exc.as_option("--sizes") == "--sizes must be kept-neuron counts; got [0]"
    assert SettingError("methods", "unknown method 'x'").as_option("--methods") == (
        "--methods: unknown method 'x'"
    )
    with pytest.raises(SettingError, match="parts must be >= 1"):
        DrawSettings(parts=0)
