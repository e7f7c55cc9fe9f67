"""The gate experiment: gated runs against post-hoc pruning at matched sizes, its store, its report."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import require_data

from divnet_nb.experiments import gates as gx
from divnet_nb.experiments.gates import (
    BASES,
    GateSettings,
    gate_experiment,
    gate_runs,
    gate_settings,
    kept_weights,
)
from divnet_nb.report.gates import best_posthoc, gate_costs, gate_groups, gates_markdown, plot_gates
from divnet_nb.tasks.executors import LocalProcesses, PartFailed

TINY = {
    "n_train": 1500,
    "n_test": 600,
    "n_kernel": 400,
    "epochs": 2,
    "finetune_epochs": 1,
    "neuron_lams": (0.0, 3e-3),
    "gate_lr": 0.1,
    "weight_lams": (1e-5,),
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    require_data("mnist")
    root = tmp_path_factory.mktemp("gates")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIVNET_CACHE", str(root / "cache"))
        settings = gate_settings(fast=True, **TINY)
        # two worker processes compute the parts; a second run in this process gathers them
        first = gate_experiment(
            settings,
            store_root=root / "parts",
            progress=False,
            executor=LocalProcesses(2),
            threads=1,
        )
        result = gate_experiment(settings, store_root=root / "parts", progress=False)
        yield settings, root, first, result


def test_runs_are_every_network_seed_method_and_lambda():
    s = gate_settings(fast=False)
    runs = gate_runs(s)
    assert len(runs) == 2 * 3 * (2 * 4 + 2 * 2) and len(set(runs)) == len(runs)
    assert runs[0] == ("table1", "hard-concrete", 1e-4, 0)
    assert {r[1] for r in runs} == {*gx.NEURON_GATES, *gx.WEIGHT_GATES}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"networks": ("vgg",)}, "networks must be"),
        ({"neuron_lams": (-1.0,)}, "penalty factors"),
        ({"seeds": 0}, "seeds"),
        ({"gate_lr": 0.0}, "gate_lr"),
        ({"finetune_epochs": -1}, "finetune_epochs"),
        ({"neuron_lams": (), "weight_lams": ()}, "at least one"),
    ],
)
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GateSettings(**kwargs)


@pytest.mark.slow  # the tiny experiment: about 30 s on a quiet machine, once per file
def test_worker_processes_compute_every_run_once_and_a_rerun_gathers_them(tiny):
    settings, _, first, result = tiny
    n_train = len(settings.networks) * settings.seeds * len(BASES)
    assert first["parts"]["computed"] == n_train + len(gate_runs(settings))
    assert (
        first["parts"]["resumed"] == 0 and "2 local worker processes" in first["parts"]["executor"]
    )
    assert result["parts"]["resumed"] == len(gate_runs(settings)) == 6
    assert result["parts"]["computed"] == n_train  # the networks, loaded from the cache
    assert [(r["network"], r["method"], r["lam"], r["seed"]) for r in result["runs"]] == gate_runs(
        settings
    )
    assert first["runs"] == result["runs"] and first["networks"] == result["networks"]


@pytest.mark.slow  # the tiny experiment: about 30 s on a quiet machine, once per file
def test_a_rerun_reads_every_run_from_the_store(tiny, monkeypatch):
    settings, root, _, result = tiny
    monkeypatch.setenv("DIVNET_CACHE", str(root / "cache"))

    def refuse(*args):
        raise AssertionError("a stored run was computed again")

    monkeypatch.setattr(gx, "gate_part", refuse)
    again = gate_experiment(settings, store_root=root / "parts", progress=False)
    assert again["runs"] == result["runs"] and again["gates"] == gx.gate_descriptions()
    # another gate setting (here a temperature) is another experiment: nothing is reused
    changed = gx.gate_descriptions()
    changed["hard-concrete"][0]["temperature"] = 0.5
    monkeypatch.setattr(gx, "gate_descriptions", lambda: changed)
    with pytest.raises(PartFailed, match="computed again"):
        gate_experiment(settings, store_root=root / "parts", progress=False)


@pytest.mark.slow  # the tiny experiment: about 30 s on a quiet machine, once per file
def test_rows_record_consistent_sizes_and_weights(tiny):
    _, _, _, result = tiny
    d, out = 784, 10
    by = {(r["method"], r["lam"]): r for r in result["runs"]}
    for r in result["runs"]:
        assert set(r["posthoc"]) == set(BASES)
        if r["method"] in gx.NEURON_GATES:
            k0, k1 = r["kept"]
            assert r["weights"] == [d * k0, k0 * k1, k1 * out]
            assert set(r["posthoc"]["table1"]) == set(gx.POSTHOC)
        else:
            assert r["kept"] == [300, 100] and r["weights"][2] == 100 * out
            assert r["weights"][0] <= d * 300 and r["weights"][1] <= 300 * 100
        assert 0 <= r["test_error"] <= 1 and r["seconds"] > 0
        assert [h["epoch"] for h in r["history"]] == [1.0, 2.0]
    # a larger penalty keeps fewer neurons
    for method in gx.NEURON_GATES:
        assert sum(by[method, 3e-3]["kept"]) < sum(by[method, 0.0]["kept"])


@pytest.mark.slow  # the tiny experiment: about 30 s on a quiet machine, once per file
def test_posthoc_numbers_are_what_the_rules_give_on_the_cached_networks(tiny, monkeypatch):
    settings, root, _, result = tiny
    monkeypatch.setenv("DIVNET_CACHE", str(root / "cache"))
    from divnet_nb.nets import error_rate

    ctx = gx._Context(settings, progress=False)
    row = next(r for r in result["runs"] if r["method"] == "diffprune" and r["lam"] == 3e-3)
    again = gx._neuron_posthoc(ctx, row["network"], row["seed"], row["kept"], "budget")
    for rule, cell in again.items():
        stored = row["posthoc"]["budget"][rule]
        assert cell["test_error"] == stored["test_error"]
        assert cell["finetuned_test_error"] == stored["finetuned_test_error"]
    # the budget network is trained for exactly the gated runs' epochs, the T1 one to the threshold
    assert ctx.plain("lenet-300-100", 0, "budget").epochs == settings.epochs
    assert ctx.plain("lenet-300-100", 0, "table1").reached
    # magnitude pruning keeps the gated run's weights per layer
    wrow = next(r for r in result["runs"] if r["method"] == "hard-concrete-weights")
    plain = ctx.plain("lenet-300-100", 0).model
    import copy

    from torch.nn.utils import prune as torch_prune

    pruned = copy.deepcopy(plain)
    for lin, n in zip(pruned.linears[:2], wrow["weights"][:2], strict=True):
        torch_prune.l1_unstructured(lin, "weight", amount=lin.weight.numel() - n)
    assert kept_weights(pruned) == wrow["weights"]
    x, y = ctx.data.x_test, ctx.data.y_test
    assert error_rate(pruned, x, y) == wrow["posthoc"]["table1"]["magnitude"]["test_error"]


def test_kept_weights_counts_masks():
    from divnet_nb.nets import MLP
    from divnet_nb.nets.sites import site_for

    net = MLP((5, 4, 3, 2), seed=0)
    assert kept_weights(net) == [20, 12, 6]
    mask = np.ones((4, 5), dtype=bool)
    mask[0, :3] = False
    masked = site_for(net, 0).mask_incoming(net, mask)
    assert kept_weights(masked) == [17, 12, 6]


# --------------------------------------------------------------------------- the report


def synthetic(gated, posthoc_t1, seeds=3) -> dict:
    """A result with one network, one neuron-gate setting and known numbers."""
    runs = []
    for s in range(seeds):
        cell = {
            "test_error": posthoc_t1[s],
            "seconds": 2.0,
            "finetuned_test_error": posthoc_t1[s] - 0.001,
            "finetune_seconds": 5.0,
        }
        worse = {k: (v + 0.01 if "error" in k else v) for k, v in cell.items()}
        runs.append(
            {
                "network": "lenet-300-100",
                "method": "hard-concrete",
                "lam": 1e-3,
                "seed": s,
                "kept": [100 + s, 50],
                "weights": [784 * (100 + s), (100 + s) * 50, 500],
                "test_error": gated[s],
                "train_error": 0.0,
                "seconds": 40.0,
                "history": [{"epoch": 1.0, "open_0": 200, "open_1": 80, "running_penalty": 0.1}],
                "posthoc": {
                    "table1": {"dpp": cell, "swap": worse},
                    "budget": {"dpp": worse, "swap": worse},
                },
            }
        )
    runs.append({"network": "lenet-300-100", "method": "diffprune", "lam": 1.0, "seed": 0,
                 "collapsed": "every gate of hidden layer 0 closed during training"})  # fmt: skip
    info = {
        "unpruned_test_error": [0.02] * seeds,
        "seconds": [10.0] * seeds,
        "epochs": [5.0] * seeds,
    }
    return {
        "dataset": "mnist",
        "settings": gate_settings(seeds=seeds).to_dict(),
        "networks": {
            "lenet-300-100": {
                "label": "LeNet-300-100 (ReLU)",
                "sizes": [784, 300, 100, 10],
                "activation": "relu",
                "unpruned_weights": [235200, 30000, 1000],
                "table1": info,
                "budget": info,
            }
        },
        "runs": runs,
    }


def test_groups_summarise_seeds_and_decide_the_comparisons():
    result = synthetic([0.020, 0.021, 0.022], [0.030, 0.032, 0.031])
    groups = gate_groups(result)
    hc = next(g for g in groups if g["method"] == "hard-concrete")
    assert hc["gated"] == pytest.approx((0.021, 0.001))
    assert hc["hidden"][0] == pytest.approx(151.0) and hc["kept"] == pytest.approx([101, 50])
    cell = hc["posthoc"]["table1"]["dpp"]
    assert cell["verdict"] == "holds" and cell["diff"][0] == pytest.approx(-0.010)
    assert best_posthoc(hc)[:2] == ("table1", "dpp")
    collapsed = next(g for g in groups if g["method"] == "diffprune")
    assert collapsed["collapsed"] == 1 and not collapsed["rows"]
    # gated above the post-hoc rule on every seed: does not hold
    worse = gate_groups(synthetic([0.040, 0.041, 0.042], [0.030, 0.032, 0.031]))[0]
    assert worse["posthoc"]["table1"]["dpp"]["verdict_ft"] == "does not hold"
    # mixed signs: not resolved
    mixed = gate_groups(synthetic([0.020, 0.040, 0.030], [0.030, 0.032, 0.031]))[0]
    assert mixed["posthoc"]["table1"]["dpp"]["verdict"] == "not resolved"
    costs = gate_costs(result)["lenet-300-100"]
    assert costs["divnet_over_gated"] == pytest.approx(2.0 / 40.0)
    assert costs["plain_plus_divnet_over_gated"] == pytest.approx(12.0 / 40.0)


def test_findings_group_the_settings_by_verdict():
    from divnet_nb.report.gates import gate_findings

    text = gate_findings(synthetic([0.020, 0.021, 0.022], [0.030, 0.032, 0.031]))
    assert (
        "gated below the best post-hoc rule without retraining: holds at lambda 0.001 (101/50;"
        in text
    )
    assert "-1.00 [-1.25, -0.75]" in text  # best cell without retraining: DivNet T1, 3.10 %
    worse = gate_findings(synthetic([0.040, 0.041, 0.042], [0.030, 0.032, 0.031]))
    assert "fine-tuned: does not hold at lambda 0.001" in worse and "holds at" not in worse


def test_markdown_and_figure_show_the_measured_numbers():
    result = synthetic([0.020, 0.021, 0.022], [0.030, 0.032, 0.031])
    text = gates_markdown(result)
    assert "| 2.10 ± 0.10 |" in text and "3.10 → 3.00" in text and "101/50" in text
    assert "-0.90 [-1.15, -0.65]" in text and "vs DivNet (T1): holds" in text
    assert "every gate of a layer closed (1 run)" in text
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 5), layout="constrained")
    axes = plot_gates(result, fig)
    assert axes.shape == (1, 2) and axes[0, 0].get_yscale() == "log"
    assert axes[0, 1].get_xscale() == "log" and fig.legends
    line = axes[0, 0].lines[0]
    assert np.allclose(sorted(line.get_ydata()), [2.1])  # gated mean, in %


def test_the_command_line_refuses_bad_workers_and_seeds(capsys):
    from divnet_nb.cli import main

    assert main(["gates", "--jobs", "0"]) == 2
    assert "--jobs must be >= 1" in capsys.readouterr().err
    assert main(["gates", "--threads", "0"]) == 2
    assert "--threads must be >= 1" in capsys.readouterr().err
    assert main(["gates", "--seeds", "0"]) == 2
    assert "--seeds must be >= 1" in capsys.readouterr().err


@pytest.mark.slow  # the tiny experiment: about 30 s on a quiet machine, once per file
def test_the_gated_runs_give_gates_their_own_learning_rate(tiny):
    from divnet_nb.datasets import load_dataset
    from divnet_nb.prune import train_gated
    from divnet_nb.training import default_config

    digits = load_dataset("digits")
    config = default_config("digits", max_epochs=2, optimizer="adam", lr=0.01)
    runs = [
        train_gated(
            digits, (64, 20, 10), "hard-concrete", 0, 0.01, config, gate_lr=lr, progress=False
        )
        for lr in (1e-9, 0.1)
    ]
    start = torch.full((20,), np.log(1.0))  # drop rate 0.5: log_alpha 0
    frozen, moved = (r[1].gates["0"].log_alpha.detach() for r in runs)
    assert torch.allclose(frozen, start, atol=1e-5)
    assert (moved - start).abs().max() > 0.05
    assert runs[0][2].epochs == pytest.approx(2.0)


@pytest.mark.slow  # trains the fast experiment's networks: over a minute
def test_the_command_runs_and_writes_its_three_files(tmp_path, monkeypatch, capsys):
    require_data("mnist")
    import json

    from divnet_nb.cli import main

    monkeypatch.setenv("DIVNET_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "gates"
    assert main(["gates", "--fast", "--quiet", "--out", str(out)]) == 0
    result = json.loads((out / "gates.json").read_text())
    assert result["experiment"] == "gates" and result["parts"]["computed"] == 2 + 4
    assert len(result["runs"]) == len(gate_runs(gate_settings(fast=True))) == 4
    assert "LeNet-300-100 (ReLU)" in (out / "gates.md").read_text()
    assert (out / "gates.png").stat().st_size > 10_000
