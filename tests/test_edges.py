"""Edge pruning on real networks: ``prune_edges`` with the registered rules, the experiment, the command."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from divnet_nb.cli import main
from divnet_nb.experiments import Experiment, settings_for
from divnet_nb.experiments.edges import edge_comparisons, edge_experiment, edge_sizes, matched_nodes
from divnet_nb.nets import MLP
from divnet_nb.prune import count_parameters, prune_edges
from divnet_nb.pruning import edge_statistics, method_names, select_edge_masks, select_edges


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return MLP([12, 9, 7, 3]).double()


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(1)
    X = rng.random((80, 12))
    X[:, 3] = 0.0  # a dead input
    return X


def test_the_three_edge_rules_are_registered():
    assert {"dpp", "random", "magnitude"} <= set(method_names("edge"))
    assert "dpp" in method_names("neuron")  # the same name, another kind


@pytest.mark.parametrize("method", ["dpp", "random", "magnitude"])
def test_prune_edges_keeps_exactly_k_weights_per_unit_and_leaves_the_model_alone(net, X, method):
    before = {k: v.clone() for k, v in net.state_dict().items()}
    pruned = prune_edges(net, 0, 5, method, rng=0, data=X)
    weight = pruned[0].weight.detach()
    assert torch.all((weight != 0).sum(dim=1) == 5)
    kept = weight != 0
    assert torch.equal(weight[kept], net[0].weight.detach()[kept])  # kept weights unchanged
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert count_parameters(pruned) == count_parameters(net) - 9 * (12 - 5)
    again = prune_edges(net, 0, 5, method, rng=0, data=X)
    assert torch.equal(again[0].weight, pruned[0].weight)  # a seed repeats the masks


def test_dpp_is_the_default_edge_rule(net, X):
    a = prune_edges(net, 0, 4, rng=3, data=X)[0].weight_mask
    b = prune_edges(net, 0, 4, "dpp", rng=3, data=X)[0].weight_mask
    assert torch.equal(a, b)


def test_magnitude_keeps_the_largest_weights(net, X):
    W = net[0].weight.detach().numpy()
    mask = prune_edges(net, 0, 3, "magnitude", data=X)[0].weight_mask.numpy().astype(bool)
    for h in range(W.shape[0]):
        assert set(np.flatnonzero(mask[h])) == set(np.argsort(-np.abs(W[h]))[:3])


def test_random_edges_are_uniform_over_inputs(net, X):
    data = edge_statistics(net, 0, X)
    masks = [select_edge_masks("random", [4], data, rng=s)[4] for s in range(300)]
    freq = np.mean(masks, axis=0)  # each edge kept with probability 4 / 12
    assert np.all(np.abs(freq - 4 / 12) < 4 * np.sqrt((1 / 3) * (2 / 3) / 300))


def test_reweighted_edges_reproduce_the_units_inputs_better(net, X):
    data = edge_statistics(net, 0, X)
    plain = prune_edges(net, 0, 4, "dpp", rng=1, edge_data=data)
    fused = prune_edges(net, 0, 4, "dpp", rng=1, edge_data=data, reweight=True)
    assert torch.equal(plain[0].weight_mask, fused[0].weight_mask)
    Xt = torch.from_numpy(X)
    full = Xt @ net[0].weight.detach().T
    err = [torch.linalg.norm(Xt @ m[0].weight.detach().T - full) for m in (plain, fused)]
    assert err[1] < err[0]
    mask = plain[0].weight_mask.numpy().astype(bool)
    W = net[0].weight.detach().numpy()
    live = X.any(axis=0)
    for h in range(W.shape[0]):  # the best any weights on the kept inputs can do
        S = mask[h] & live
        best = np.linalg.lstsq(X[:, S], X @ W[h], rcond=None)[0]
        got = fused[0].weight.detach().numpy()[h, S]
        np.testing.assert_allclose(got, best, atol=1e-8)


def test_a_given_mask_is_applied_as_chosen_with_and_without_reweighting(net, X):
    data = edge_statistics(net, 0, X)
    mask = select_edges("dpp", 4, data, rng=1)
    for reweight in (False, True):
        chosen = prune_edges(net, 0, 4, "dpp", reweight, rng=1, edge_data=data)
        given = prune_edges(net, 0, 4, "dpp", reweight, edge_data=data, mask=mask)
        assert torch.equal(given[0].weight_mask, chosen[0].weight_mask)
        assert torch.equal(given[0].weight, chosen[0].weight)
    other = select_edges("random", 4, data, rng=2)
    assert not torch.equal(
        prune_edges(net, 0, 4, "dpp", edge_data=data, mask=other)[0].weight_mask,
        prune_edges(net, 0, 4, "dpp", edge_data=data, mask=mask)[0].weight_mask,
    )


def test_bad_edge_input_is_one_line(net, X):
    broken = MLP([12, 9, 7, 3]).double()
    with torch.no_grad():
        broken[0].weight[2, 3] = float("nan")
    cases = [
        (lambda: prune_edges(net, 0, 0, data=X), "k must satisfy 1 <= k"),
        (lambda: prune_edges(net, 0, 13, data=X), "k must satisfy 1 <= k"),
        (lambda: prune_edges(net, 5, 2, data=X), "layer"),
        (lambda: prune_edges(net, 0, 2, "importance", data=X), "registered edge methods"),
        (lambda: prune_edges(net, 0, 2), "pass data"),
        (lambda: prune_edges(net, 0, 2, "random", data=X, beta=1.0), "takes no option"),
        (lambda: prune_edges(broken, 0, 2, "magnitude", data=X), "must be finite"),
        (lambda: prune_edges(net, 0, 2, data=X, mask=np.ones((9, 12), bool)), "exactly k = 2"),
        (lambda: prune_edges(net, 0, 2, data=X, mask=np.ones((9, 11), bool)), "shape \\(9, 12\\)"),
        (lambda: prune_edges(net, 0, 2, rng=0, data=X, mask=np.eye(9, 12, dtype=bool)), "no rng"),
        (lambda: matched_nodes(500, 800, 784, 500), "k must satisfy"),
        (lambda: matched_nodes(0, 8, 784, 500), "H must be a positive integer"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message) as info:
            call()
        assert "\n" not in str(info.value)


def test_parameter_matching_counts_w1_and_w2():
    # n nodes keep n (d + H') weights; k edges per unit keep H k + H H'
    assert matched_nodes(500, 784, 784, 500) == 500
    assert matched_nodes(500, 157, 784, 500) == 256  # ceil(500 * 657 / 1284) = ceil(255.8)
    assert edge_sizes(784, (0.1, 0.5)) == [78, 392]


def test_the_edge_experiment_runs_and_compares_on_paired_networks(tmp_path):
    settings = settings_for("digits", instances=2)
    exp = Experiment("digits", settings, progress=False, store_root=tmp_path)
    result = edge_experiment(exp, fractions=(0.2, 0.5))
    assert result["k"] == [13, 32] and result["matched_nodes"] == [69, 81]
    keys = set(result["test_error"])
    assert {"dpp", "dpp+rw", "random", "magnitude+rw", "node dpp", "node swap"} <= keys
    assert all(np.shape(v) == (2, 2) for v in result["test_error"].values())
    unpruned = np.mean(result["unpruned_test_error"])
    assert np.mean(result["test_error"]["random"]) > unpruned  # pruning 80 % of edges hurts
    verdicts = {(c["a"], c["b"]): c for c in edge_comparisons(result)}
    assert ("dpp+rw", "node importance") in verdicts
    row = verdicts[("dpp", "random")]["rows"][0]
    diff = np.subtract(result["test_error"]["dpp"], result["test_error"]["random"])[:, 0]
    assert row["difference"] == pytest.approx(diff.mean())
    again = edge_experiment(exp, fractions=(0.2, 0.5))  # resumed from the store
    assert again["test_error"] == result["test_error"]


def test_the_edges_command_writes_its_report(tmp_path, capsys):
    assert main(["edges", "--dataset", "digits", "--instances", "1", "--quiet",
                 "--out", str(tmp_path)]) == 0  # fmt: skip
    assert {"edges.json", "edges.md", "edges.png"} <= {p.name for p in tmp_path.iterdir()}
    assert "DPP edge + reweighting" in (tmp_path / "edges.md").read_text()
    assert main(["edges", "--dataset", "digits", "--instances", "0"]) == 2
    assert "--instances must be >= 1" in capsys.readouterr().err


def test_one_network_gives_differences_and_no_verdict():
    from divnet_nb.experiments.edges import _describe
    from divnet_nb.report.edges import edges_markdown

    keys = ["dpp", "dpp+rw", "random", "random+rw", "magnitude", "magnitude+rw", "node dpp"]
    errors = {k: [[0.1 + 0.01 * j, 0.05]] for j, k in enumerate(keys)}
    result = {
        "dataset": "mnist", "fractions": [0.2, 0.5], "k": [157, 392], "matched_nodes": [256, 348],
        "test_error": errors, "unpruned_test_error": [0.02],
        "variants": {k: _describe(k) for k in keys},
    }  # fmt: skip
    one = edges_markdown(result)
    assert "One network gives no interval, so no verdict is drawn" in one
    assert "DPP edge minus random edge: 20%: -2.00; 50%: +0.00." in one
    assert "holds" not in one and "not resolved" not in one
    result["test_error"] = {k: v * 2 for k, v in errors.items()}  # two networks: verdicts
    result["unpruned_test_error"] = [0.02, 0.02]
    assert "**does not hold**" in edges_markdown(result)
