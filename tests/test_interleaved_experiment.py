"""Pruning interleaved with training: the arms share their start, follow the schedule, report."""

from __future__ import annotations

import numpy as np
import pytest

from divnet_nb.experiments import Experiment, settings_for
from divnet_nb.experiments import interleaved as experiment
from divnet_nb.report.interleaved import interleaved_markdown
from divnet_nb.report.outputs import write_outputs
from divnet_nb.tasks.driver import run_experiment
from divnet_nb.tasks.protocol import get_experiment
from divnet_nb.verdicts import holm


def test_steps_are_geometric_and_end_at_the_final_fraction():
    assert experiment.step_sizes([500, 500], 0.25, 3) == [[315, 315], [198, 198], [125, 125]]
    assert experiment.step_sizes([100, 40], 0.5, 1) == [[50, 20]]
    assert experiment.step_sizes([3], 0.01, 2) == [[1], [1]]  # never below one neuron


def fake_result(n=5, seed=0):
    r = np.random.default_rng(seed)
    base = r.uniform(0.02, 0.03, size=n)
    return {
        "experiment": "interleaved", "dataset": "digits", "arms": list(experiment.ARMS),
        "schedule": dict(experiment.SCHEDULE),
        "test_error": {"dpp": (base - 0.01).tolist(), "random": (base + r.normal(0, 1e-3, n)).tolist(),
                       "post-hoc": (base + 0.02 + r.normal(0, 1e-3, n)).tolist()},
        "sizes": {a: [[[315, 315], [198, 198], [125, 125]]] * n for a in experiment.ARMS},
    }  # fmt: skip


def test_the_verdicts_are_one_family_of_three():
    rows = experiment.interleaved_comparisons(fake_result())
    assert [(r["arm"], r["rival"]) for r in rows] == list(experiment.PAIRS)
    assert all(r["verdict"] == "holds" for r in rows)
    assert [r["p_holm"] for r in rows] == pytest.approx(holm([r["p"] for r in rows]).tolist())
    text = interleaved_markdown(fake_result())
    assert "315/315 → 198/198 → 125/125" in text and "3 intervals, one family" in text


def test_every_arm_starts_from_the_same_network_and_follows_the_schedule(tmp_path, monkeypatch):
    monkeypatch.setattr(
        experiment, "FAST_SCHEDULE", {"epochs": 3, "prune_after": (1, 2), "final": 0.25}
    )
    settings = settings_for("digits", fast=True, instances=1)
    protocol = get_experiment("interleaved")
    assert protocol.phases(settings) == [["net0-dpp", "net0-random", "net0-post-hoc"]]
    result = run_experiment(protocol, settings, store_root=tmp_path / "parts", progress=False)
    first = {arm: result["trajectory"][arm][0][0] for arm in experiment.ARMS}
    assert len({(p["epoch"], p["test_error"]) for p in first.values()}) == 1  # trained alike
    assert result["sizes"]["dpp"][0] == result["sizes"]["random"][0] == [[50, 50], [25, 25]]
    assert result["sizes"]["post-hoc"][0] == [[25, 25]]
    events = [(p["epoch"], p["event"], p["hidden"]) for p in result["trajectory"]["dpp"][0]]
    assert events == [
        (1, "trained", [100, 100]), (1, "pruned", [50, 50]),
        (2, "trained", [50, 50]), (2, "pruned", [25, 25]), (3, "trained", [25, 25]),
    ]  # fmt: skip
    assert result["test_error"]["dpp"] != result["test_error"]["random"]
    md = write_outputs(result, tmp_path / "out")
    assert (tmp_path / "out" / "interleaved.png").stat().st_size > 10_000
    assert "## Paired comparisons" in md.read_text()
    with pytest.raises(ValueError, match="no part 'net0-gates'"):
        protocol.measure(Experiment("digits", settings, progress=False), "net0-gates")
