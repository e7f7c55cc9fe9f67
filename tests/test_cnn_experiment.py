"""The CNN experiment: what each setting prunes, its paired cells, its verdicts, costs and report."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from divnet_nb.experiments import Experiment, settings_for
from divnet_nb.experiments import cnn as experiment
from divnet_nb.nets import ConvSite, find_sites, get_architecture
from divnet_nb.nets.costs import latency, layer_costs
from divnet_nb.report.outputs import write_outputs
from divnet_nb.tasks.driver import run_experiment
from divnet_nb.tasks.protocol import SettingError, get_experiment


def test_each_setting_prunes_the_layers_it_names():
    net = get_architecture("digits-cnn").build(0).eval()
    X = np.random.default_rng(0).random((200, 1, 8, 8)).astype(np.float32)
    widths = {
        s: [site.width(m) for site in find_sites(m)]
        for s in experiment.SETTINGS
        for m in [experiment.prune_setting(net, s, 0.5, "importance", True, None, X)]
    }
    assert widths["dense"] == [8, 16, 16]
    assert widths["last-conv"] == [8, 8, 32]
    assert widths["convs"] == [4, 8, 32]
    assert widths["all"] == [4, 8, 16]
    assert sum(widths["budget"]) == round(0.5 * (8 + 16 + 32)) and widths["budget"] != [4, 8, 16]


@pytest.mark.parametrize("rule", ["dpp", "importance"])
def test_statistics_shared_across_a_parts_cells_change_no_number(rule):
    net = get_architecture("digits-cnn").build(0).eval()
    X = np.random.default_rng(0).random((200, 1, 8, 8)).astype(np.float32)
    x = torch.as_tensor(X[:50])
    for setting in ("dense", "last-conv", "convs"):
        shared = {}
        for f, reweight in ((0.25, False), (0.25, True), (0.5, True)):
            rng = np.random.default_rng(int(100 * f))
            alone = experiment.prune_setting(net, setting, f, rule, reweight, rng, X)
            rng = np.random.default_rng(int(100 * f))
            cached = experiment.prune_setting(
                net, setting, f, rule, reweight, rng, X, shared=shared
            )
            with torch.no_grad():
                assert torch.equal(alone(x), cached(x)), (setting, f, reweight)
        assert list(shared) == ([] if setting == "convs" else [setting])  # one site: read once


def test_layer_costs_count_parameters_and_multiply_accumulates_by_hand():
    net = get_architecture("lenet5-caffe").build(0)
    costs = layer_costs(net, (1, 28, 28))
    assert [c["params"] for c in costs] == [20 * 25 + 20, 50 * 20 * 25 + 50, 800 * 500 + 500, 5010]
    assert [c["macs"] for c in costs] == [24 * 24 * 20 * 25, 8 * 8 * 50 * 500, 800 * 500, 5000]
    assert latency(net, (1, 28, 28), 2, repeats=3, warmup=1) > 0


def test_the_cnn_settings_need_a_cnn_of_their_dataset():
    with pytest.raises(SettingError, match="architecture.*'lenet5-caffe' is not a CNN for digits"):
        settings_for("digits", architecture="lenet5-caffe")
    with pytest.raises(SettingError, match="unknown architecture 'lenet6'"):
        settings_for("mnist", architecture="lenet6")
    assert "architecture" not in settings_for("digits").to_dict()  # MLP identities unchanged


@pytest.fixture(scope="module")
def digits_cnn():
    settings = settings_for("digits", fast=True, instances=2, architecture="digits-cnn")
    return Experiment("digits", settings, progress=False)


def test_a_cell_pairs_plain_and_fused_and_fine_tunes_both(digits_cnn):
    part = experiment.cnn_part(digits_cnn, 0, "last-conv", "dpp", (0.25,))
    assert set(part["test_error"]) == set(part["finetuned_error"]) == {"plain", "fused"}
    assert part["widths"] == [[8, 4, 32]]
    for variant in ("plain", "fused"):
        assert part["finetuned_error"][variant] != part["test_error"][variant]  # it trained
    again = experiment.cnn_part(digits_cnn, 0, "last-conv", "dpp", (0.25,))
    assert again["test_error"] == part["test_error"]  # seeded by its coordinates


@pytest.mark.slow
def test_a_small_run_through_the_driver_and_the_writer(digits_cnn, tmp_path, monkeypatch):
    monkeypatch.setattr(experiment, "RULES", ("dpp", "random", "importance"))
    monkeypatch.setattr(experiment, "FAST_FRACTIONS", (0.5,))
    protocol = get_experiment("cnn")
    settings = digits_cnn.settings
    phases = protocol.phases(settings)
    assert phases[0] == ["train-net0", "train-net1"] and phases[-1] == ["latency"]
    assert len(phases[1]) == 2 * 5 * 3
    result = run_experiment(protocol, settings, store_root=tmp_path / "parts", progress=False)
    assert result["experiment"] == "cnn" and result["architecture"] == "digits-cnn"
    rows = experiment.cnn_comparisons(result)
    assert {r["family"] for r in rows} == {"dense", "filters", "best", "fine-tuned"}
    assert all(r["p_holm"] >= r["p"] for r in rows)
    lat = result["latency"]["rows"]
    assert [r["fraction"] for r in lat] == [1.0, 0.5] and lat[1]["params"] < lat[0]["params"]
    md = write_outputs(result, tmp_path / "out").read_text()
    assert "## The paper's claims, as measured" in md and "speed-up" in md
    assert (tmp_path / "out" / "cnn.png").stat().st_size > 10_000
    with pytest.raises(ValueError, match="no part 'net0-dense-magic'"):
        protocol.measure(digits_cnn, "net0-dense-magic")


def test_verdicts_follow_the_per_network_differences():
    n, fr = 5, [0.25, 0.5]
    rng = np.random.default_rng(0)
    base = rng.uniform(0.05, 0.1, size=(n, 2))

    def cell(shift):
        return {
            v: (base + shift + rng.normal(0, 1e-4, base.shape)).tolist() for v in ("plain", "fused")
        }

    rules = ["dpp", "random", "importance"]
    shifts = {"dpp": -0.02, "random": 0.0, "importance": 0.01}
    table = {s: {r: cell(shifts[r]) for r in rules} for s in experiment.SETTINGS}
    result = {"fractions": fr, "rules": rules, "test_error": table, "finetuned_error": table}
    rows = experiment.cnn_comparisons(result)
    dense = [r for r in rows if r["family"] == "dense"]
    assert len(dense) == 2 * 2 * 2 and all(r["verdict"] == "holds" for r in dense)
    best = [r for r in rows if r["family"] == "best"]
    assert {r["rule"] for r in best} == {"dpp"} and {r["rival"] for r in best} == {"importance"}


def test_convolutional_sites_of_the_registered_cnns_are_channels_first():
    for name in ("lenet5-caffe", "cifar10-cnn", "digits-cnn"):
        sites = find_sites(get_architecture(name).build(0))
        kinds = [isinstance(s, ConvSite) for s in sites]
        assert kinds == sorted(kinds, reverse=True) and kinds[-1] is False
        assert torch.tensor(kinds).sum() >= 2
