"""Network-level choices: fusion towards the original network, a budget shared across layers, the leaderboard."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.stats
import torch

from divnet_nb import FusionWarning
from divnet_nb.cli import main
from divnet_nb.core.fuse import fuse_from_gram, fuse_to_target
from divnet_nb.experiments import Experiment, settings_for
from divnet_nb.experiments.leaderboard import comparisons, entries, leaderboard
from divnet_nb.nets import MLP
from divnet_nb.pruning import (
    allocate,
    apply_pruning,
    cross_statistics,
    layer_statistics,
    prune_network,
    relative_error_curves,
)
from divnet_nb.report.leaderboard import leaderboard_markdown


def test_fusion_towards_a_target_is_least_squares_and_reduces_to_eq4(rng):
    A = rng.random((200, 8))
    A_orig = A + 0.05 * rng.standard_normal((200, 8))
    W = rng.standard_normal((8, 3))
    keep = [0, 2, 3, 6]
    G, X = A.T @ A, A.T @ A_orig
    expected = np.linalg.lstsq(A[:, keep], A_orig @ W, rcond=None)[0]
    np.testing.assert_allclose(fuse_to_target(G, keep, W, X), expected, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(
        fuse_to_target(G, keep, W, G), fuse_from_gram(G, keep, W), rtol=1e-10
    )


def test_cross_statistics_pair_two_networks_batch_by_batch():
    a, b = MLP((6, 5, 4, 2), seed=0).double(), MLP((6, 5, 4, 2), seed=1).double()
    X = torch.rand(300, 6, dtype=torch.float64)
    stats, cross = cross_statistics(a, b, 1, X, batch_size=64)
    with torch.no_grad():
        A, B = a[:4](X).numpy(), b[:4](X).numpy()
    np.testing.assert_allclose(stats.gram, A.T @ A, rtol=1e-12)
    np.testing.assert_allclose(cross, A.T @ B, rtol=1e-12)


def test_fusing_towards_the_original_brings_the_logits_closer_to_the_original():
    """With the last hidden layer's consumer the logits, the original target minimises exactly
    the squared logit change against the original network on the statistics' data."""
    net = MLP((10, 12, 9, 3), seed=2).double()
    X = torch.rand(2000, 10, dtype=torch.float64)
    with torch.no_grad():
        logits = net(X)
    distance = {}
    for target in ("pruned", "original"):
        pruned = prune_network(net, [5, 4], "importance", True, 0, data=X, target=target)
        with torch.no_grad():
            distance[target] = float(((pruned(X) - logits) ** 2).sum())
    assert distance["original"] < distance["pruned"]
    first = prune_network(net, [5, 9], "importance", True, 0, data=X, target="original")
    same = apply_pruning(net, 0, first[0].weight.shape[0] and np.sort(
        np.argsort(-net[2].weight.abs().mean(0).detach().numpy(), kind="stable")[:5]),
        layer_statistics(net, 0, X))  # fmt: skip
    with torch.no_grad():  # the first layer is fused as always (nothing before it was pruned)
        torch.testing.assert_close(first[:3](X), same[:3](X))
    with pytest.raises(ValueError, match="target must be 'pruned' or 'original'"):
        prune_network(net, 0.5, "importance", data=X, target="both")


def test_the_budget_goes_where_removing_costs_least():
    net = MLP((10, 12, 9, 3), seed=3).double()
    with torch.no_grad():  # the second hidden layer: three copies of three neurons
        for i in range(3, 9):
            net[2].weight[i] = net[2].weight[i % 3]
            net[2].bias[i] = net[2].bias[i % 3]
    X = torch.rand(1000, 10, dtype=torch.float64)
    with pytest.warns(FusionWarning, match="singular"):  # the duplicates: the documented ridge
        curves = relative_error_curves(net, X)
    assert curves[1][3] == pytest.approx(0.0, abs=1e-9)  # 3 of 9 neurons explain the layer
    sizes = allocate(net, 10, curves=curves)
    uniform = [round(10 / 21 * 12), round(10 / 21 * 9)]  # [6, 4]
    assert sum(sizes) == 10 and sizes[1] <= 3 < uniform[1]  # the copies go first
    assert allocate(net, 0.5, curves=curves) == allocate(net, 10, curves=curves)  # 0.5 * 21 -> 10
    with pytest.raises(ValueError, match="at least one neuron per layer"):
        allocate(net, 1, curves=curves)
    # a layer of one neuron keeps it, even when its curve says it costs nothing
    for tie in (1.0, 1 + 1e-15):
        curves = [np.array([1.0, 0.0]), np.array([1.0, tie, 0.0])]
        assert allocate(None, 2, curves=curves) == [1, 1]


def test_the_leaderboard_scores_every_entry_on_the_same_networks(tmp_path):
    exp = Experiment("digits", settings_for("digits", fast=True, instances=2), progress=False,
                     store_root=tmp_path)  # fmt: skip
    chosen = [e for e in entries() if e[0] in ("importance", "greedy-ls")]
    chosen += [("dpp", "uniform", "pruned"), ("swap", "allocated", "original")]
    board = leaderboard(exp, fractions=(0.1, 0.5), entry_list=chosen)
    keys = set(board["test_error"])
    assert keys == {"importance", "greedy-ls", "importance | allocated", "importance | original",
                    "importance | allocated, original", "greedy-ls | allocated",
                    "greedy-ls | original", "greedy-ls | allocated, original", "dpp",
                    "swap | allocated, original"}  # fmt: skip
    assert all(np.asarray(v).shape == (2, 2) for v in board["test_error"].values())
    found = comparisons(board)  # 2 contenders x 2 rivals x 2 fractions, paired on networks
    assert len(found) == 8
    for c in found:
        d = np.subtract(board["test_error"][c["best"]], board["test_error"][c["rival"]])[
            :, board["fractions"].index(c["fraction"])
        ]
        assert c["mean"] == pytest.approx(d.mean())
    text = leaderboard_markdown(board, {"importance": "importance", "greedy-ls": "greedy on E(S)",
                             "dpp": "DivNet", "swap": "swaps"})  # fmt: skip
    assert "greedy on E(S) + fusion (allocated, original)" in text and "| 10% |" in text
    assert "swaps + fusion (allocated, original) | DivNet |" in text


def test_leaderboard_comparisons_and_summary_on_a_known_board():
    board = {
        "dataset": "toy",
        "fractions": [0.1, 0.5],
        "settings": {},
        "unpruned_test_error": [0.02, 0.02, 0.02],
        "test_error": {
            "importance": [[0.10, 0.03], [0.12, 0.03], [0.11, 0.03]],
            "dpp": [[0.20, 0.04], [0.22, 0.03], [0.19, 0.05]],
            "greedy-ls": [[0.08, 0.03], [0.09, 0.04], [0.085, 0.02]],
        },
        "relative_E_layer1": {k: [[0.5, 0.1]] * 3 for k in ("importance", "dpp", "greedy-ls")},
    }
    found = {(c["fraction"], c["rival"]): c for c in comparisons(board)}
    assert set(found) == {(f, r) for f in (0.1, 0.5) for r in ("importance", "dpp")}
    d = np.array([-0.02, -0.03, -0.025])  # greedy - importance at 10 %
    half = scipy.stats.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)
    c = found[0.1, "importance"]
    assert c["mean"] == pytest.approx(d.mean())
    assert c["interval"] == pytest.approx([d.mean() - half, d.mean() + half])
    assert c["verdict"] == "holds"
    assert found[0.5, "importance"]["verdict"].startswith("not resolved")  # 0, +0.01, -0.01
    text = leaderboard_markdown(board, {"greedy-ls": "greedy"})
    # the best mean at 10 %, in bold, std with ddof = 1
    assert "| greedy + fusion | **0.0850** ± 0.0050 |" in text
    assert "4 of them, no correction for multiplicity" in text


@pytest.mark.slow
def test_the_leaderboard_command(tmp_path, capsys):
    code = main(["leaderboard", "--dataset", "digits", "--fast", "--out", str(tmp_path), "--quiet"])
    assert code == 0
    board = json.loads((tmp_path / "leaderboard.json").read_text())
    assert len(board["entries"]) == 10 + 3 * 3 and board["fractions"] == [
        0.05,
        0.1,
        0.25,
        0.5,
        0.75,
    ]
    assert (tmp_path / "leaderboard.png").stat().st_size > 10_000
    assert "Two contenders, declared before measuring" in (tmp_path / "leaderboard.md").read_text()


def test_the_fusion_settings_reach_the_fusion_and_are_checked_before_work(tmp_path):
    from divnet_nb.experiments.leaderboard import fusion_options
    from divnet_nb.nets import error_rate
    from divnet_nb.report.leaderboard import fusion_table

    exp = Experiment("digits", settings_for("digits", fast=True, instances=2), progress=False,
                     store_root=tmp_path)  # fmt: skip
    fusions = {"paper": {}, "intercept": {"intercept": True}, "ridge 1e3": {"ridge": 1e3}}
    result = fusion_options(exp, ("importance", "greedy-ls"), (0.1, 0.5), fusions)
    errors = result["test_error"]
    assert np.asarray(errors["paper"]["importance"]).shape == (2, 2)
    model, x = exp.models[1], exp.x_kernel
    for setting, kw in fusions.items():  # each row is prune_network with that setting
        pruned = prune_network(model, 0.1, "importance", data=x, **kw)
        assert errors[setting]["importance"][1][0] == error_rate(
            pruned, exp.data.x_test, exp.data.y_test
        )
    # a huge ridge shrinks the fused weights towards zero: not the paper's fusion
    assert errors["ridge 1e3"]["greedy-ls"] != errors["paper"]["greedy-ls"]
    assert "| importance | intercept |" in fusion_table(result, {})
    for bad, match in (({"ridge": -1.0}, "ridge"), ({"intercept": "yes"}, "intercept"),
                       ({"intercept": True, "target": "original"}, "intercept")):  # fmt: skip
        with pytest.raises(ValueError, match=match):
            prune_network(model, 0.1, "importance", data=None, **bad)  # before any data is read
