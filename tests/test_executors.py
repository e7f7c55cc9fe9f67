"""The same numbers on every executor: this process, two local worker processes, a Dask cluster.

``divnet-nb reproduce --dataset digits --fast --threads 1`` runs three ways, each from its
own empty network cache (so each trains its own networks), and every number of the three
results must be identical, k-DPP rows included: the parts are pure functions of their keys
and the thread count is the same everywhere. Then a Dask worker process is killed with
SIGKILL in the middle of a run; the scheduler gives its part to another worker and the run
ends with the same numbers. The cluster is a scheduler and two single-threaded worker
processes on 127.0.0.1, started by the test and closed after it.
"""

from __future__ import annotations

import json
import logging
import os
import signal

import pytest

from divnet_nb.cli import main

pytestmark = pytest.mark.cluster

ARGS = ["reproduce", "--dataset", "digits", "--fast", "--threads", "1", "--quiet"]
LEFT_OUT = ("timing", "parts", "environment")


def numbers(results: dict) -> dict:
    """Everything but timings and bookkeeping (where parts ran, whether a network was loaded)."""
    out = {k: v for k, v in results.items() if k not in LEFT_OUT}
    out["instances"] = [
        {k: v for k, v in row.items() if k not in ("train_seconds", "from_cache")}
        for row in results["instances"]
    ]
    return out


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if os.environ.get("CI"):
        import distributed  # noqa: F401 - in CI the cluster extra must be installed
    distributed = pytest.importorskip("distributed")
    cache = tmp_path_factory.mktemp("cluster-cache")
    with pytest.MonkeyPatch.context() as mp:
        # the workers' own network cache, empty: they train their networks themselves
        mp.setenv("DIVNET_CACHE", str(cache))
        local = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    local.divnet_cache = cache
    with local:
        yield local


def _run(tmp_path, monkeypatch, name, *extra):
    monkeypatch.setenv("DIVNET_CACHE", str(tmp_path / name / "cache"))
    out = tmp_path / name / "out"
    assert main([*ARGS, "--out", str(out), *extra]) == 0
    return json.loads((out / "results.json").read_text())


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        return _run(tmp_path_factory.mktemp("executors"), mp, "one")


def test_two_local_worker_processes_give_identical_numbers(in_process, tmp_path, monkeypatch):
    two = _run(tmp_path, monkeypatch, "two", "--jobs", "2")
    assert "2 local worker processes, 1 thread per part" in two["parts"]["executor"]
    assert not any(row["from_cache"] for row in two["instances"])  # it trained its own
    assert numbers(two) == numbers(in_process)


def test_a_dask_cluster_gives_identical_numbers(in_process, cluster, tmp_path, monkeypatch):
    remote = _run(tmp_path, monkeypatch, "dask", "--scheduler", cluster.scheduler_address)
    assert "Dask scheduler" in remote["parts"]["executor"]
    assert numbers(remote) == numbers(in_process)


def test_a_killed_worker_loses_nothing(in_process, cluster, tmp_path, monkeypatch):
    from divnet_nb.experiments.settings import settings_for
    from divnet_nb.tasks.driver import run_experiment
    from divnet_nb.tasks.executors import DaskCluster
    from divnet_nb.tasks.protocol import get_experiment

    # a worker that the nanny restarts takes this process's environment: give it the cache
    # the cluster's workers share, as a real cluster's shared filesystem would
    monkeypatch.setenv("DIVNET_CACHE", str(cluster.divnet_cache))
    killed = []
    with DaskCluster(cluster.scheduler_address) as executor:
        client = executor.client

        def kill_a_busy_worker(key, value):
            if killed or key.startswith("train-"):
                return
            busy = [w for w, tasks in client.processing().items() if tasks]
            if busy:
                pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append((busy[0], pid))

        result = run_experiment(
            get_experiment("reproduce"),
            settings_for("digits", fast=True),
            store_root=tmp_path / "parts",
            executor=executor,
            threads=1,
            progress=False,
            on_part=kill_a_busy_worker,
        )
        assert killed, "no worker was busy when the first measuring part arrived"
        client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker
    assert result["parts"]["computed"] == 2 + 8
    assert numbers(json.loads(json.dumps(result))) == numbers(in_process)


def test_an_unreachable_scheduler_is_a_usage_error_before_any_work(capsys, tmp_path):
    code = main([*ARGS, "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach a Dask scheduler at tcp://127.0.0.1:9" in err
    assert err.count("\n") == 1 and not (tmp_path / ".parts").exists()
