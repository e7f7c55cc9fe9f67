"""The method registry drives everything: a rule registered here, in a test file, runs end to end.

Three test doubles, one per method kind, are defined and registered in this file only:
``first-k`` (neuron: keep the first k neurons), ``first-edges`` (edge: keep the first k
incoming weights of every unit) and ``sigmoid-gate`` (gate: a sigmoid of a trainable
logit, cut at 1/2). Nothing elsewhere in the package names them.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from divnet_nb.cli import main
from divnet_nb.datasets import load_dataset
from divnet_nb.experiments import Experiment, layer_sweep, settings_for, table2
from divnet_nb.nets import MLP, find_sites, site_for
from divnet_nb.pruning import (
    LayerData,
    UnitGate,
    Variant,
    count_parameters,
    edge_statistics,
    get_method,
    layer_statistics,
    method_names,
    prune_edges,
    prune_layer,
    prune_network,
    register_method,
    select_neurons,
    train_gated,
    unregister_method,
    variants,
    wrap_with_gates,
)
from divnet_nb.report import write_report


@pytest.fixture
def first_k():
    """A neuron rule that keeps neurons 0..k-1, registered for the test only."""

    @register_method("first-k", "neuron", label="first k", color="tab:orange", marker="P")
    def rule(data, k, rng):
        return np.arange(k)

    yield "first-k"
    unregister_method("first-k")


@pytest.fixture
def net():
    return MLP((12, 9, 7, 3), seed=1)


@pytest.fixture
def X():
    return np.random.default_rng(0).random((300, 12)).astype(np.float32)


def test_a_test_file_rule_runs_through_prune_layer_and_prune_network(first_k, net, X):
    pruned = prune_layer(net, 0, 4, first_k, reweight=False, data=X)
    with torch.no_grad():
        torch.testing.assert_close(pruned[0].weight, net[0].weight[:4])
    model, keeps = prune_network(net, [3, 2], first_k, True, data=X, return_keep=True)
    assert model.hidden_sizes == (3, 2)
    assert [k.tolist() for k in keeps] == [[0, 1, 2], [0, 1]]


def test_a_test_file_rule_runs_through_the_experiments_and_the_report(first_k, tmp_path):
    exp = Experiment(
        "digits",
        settings_for("digits", fast=True, instances=1, methods=(first_k, "random")),
        progress=False,
    )
    assert [v.key for v in exp.variants] == ["first-k", "first-k+fuse", "random", "random+fuse"]
    sweep = exp.sweep(0, sizes=[5, 20])
    assert set(sweep["test_error"]) == {v.key for v in exp.variants}
    model = exp.models[0]
    direct = layer_sweep(
        model, 0, [5, 20], exp.x_kernel, exp.data.x_test, exp.data.y_test, variants=exp.variants
    )
    assert direct["first-k"] == sweep["test_error"]["first-k"][0]
    t2 = table2(
        model,
        [0.5, 1.0],
        exp.x_kernel,
        {"test": (exp.data.x_test, exp.data.y_test)},
        variants=variants([first_k]),
    )
    assert set(t2) == {"first-k", "first-k+fuse"} and t2["first-k"]["test"][1] == pytest.approx(
        t2["first-k+fuse"]["test"][1]
    )
    results = {
        "dataset": "digits",
        "source": exp.data.source,
        "settings": exp.settings.to_dict(),
        "sizes": list(exp.sizes),
        "variants": {v.key: v.describe() for v in exp.variants},
        "instances": exp.instances(),
        "sweeps": {"0": sweep},
        "table2": exp.table2(fractions=[0.5, 1.0]),
        "fusion_warnings": exp.fusion,
        "timing": {
            "prune_all_layers_seconds": [1.0],
            "train_seconds": [1.0],
            "prune_over_train": [1.0],
        },
    }
    report = write_report(results, tmp_path).read_text()
    assert "first k + fusion" in report and "not checked" in report
    assert (tmp_path / "layer1_all_variants.png").stat().st_size > 10_000
    assert not (tmp_path / "fig2_dpp_vs_random.png").exists()  # needs the k-DPP, not run


def test_a_test_file_rule_runs_through_the_command_line(first_k, tmp_path, capsys):
    code = main(
        ["reproduce", "--dataset", "digits", "--fast", "--instances", "1", "--methods",
         f"{first_k},importance", "--out", str(tmp_path), "--quiet"]
    )  # fmt: skip
    assert code == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert list(results["variants"]) == ["first-k", "first-k+fuse", "importance", "importance+fuse"]
    assert results["variants"]["first-k"]["color"] == "tab:orange"
    assert results["settings"]["methods"] == ["first-k", "importance"]
    assert all(c["holds"] is None for c in results["claims"])  # the paper's claims need the k-DPP


@pytest.mark.parametrize(
    "argv",
    [["--methods", "magic"], ["--methods", "dpp-nonparametric"], ["--methods", "dpp,dpp"]],
)
def test_bad_methods_on_the_command_line_are_one_line(argv, capsys):
    code = main(["reproduce", "--dataset", "digits", "--fast", *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("divnet-nb: error: --methods")
    if argv[1] == "magic":
        assert "dpp, dpp-nonparametric, greedy-map, random, importance" in err


def test_unknown_method_lists_the_registered_ones(first_k):
    with pytest.raises(
        ValueError, match=r"registered neuron methods: dpp, .*importance, .*, first-k; got 'x'"
    ):
        get_method("x", "neuron")
    with pytest.raises(ValueError, match="registered edge methods"):
        get_method("first-k", "edge")  # a neuron method is not an edge method


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "a b"}, "letters, digits and '-'"),
        ({"kind": "layer"}, "kind must be one of neuron, edge, gate"),
        ({"color": "not-a-colour"}, "is not a matplotlib colour"),
        ({"marker": "?"}, "is not a matplotlib marker"),
        ({"needs": ("gram",)}, r"needs \['gram'\] unknown"),
        ({"name": "dpp"}, "already registered"),
    ],
)
def test_registration_is_checked(kwargs, match):
    args = {"name": "ok-name", "kind": "neuron", "label": "x", "color": "k", "marker": "o"} | kwargs
    name = args.pop("name")
    kind = args.pop("kind")
    with pytest.raises(ValueError, match=match):
        register_method(name, kind, **args)(lambda data, k, rng: np.arange(k))
    assert "ok-name" not in method_names()


def test_a_rule_that_breaks_the_contract_is_caught(net, X):
    ld = LayerData(layer_statistics(net, 0, X))

    @register_method("too-many", "neuron", label="x", color="k", marker="o")
    def too_many(data, k, rng):
        return np.arange(k + 1)

    @register_method("repeats", "neuron", label="x", color="k", marker="o")
    def repeats(data, k, rng):
        return np.zeros(k, dtype=int)

    try:
        with pytest.raises(ValueError, match="returned 5 neurons; it must return exactly k = 4"):
            select_neurons("too-many", 4, ld)
        with pytest.raises(ValueError, match="duplicate indices"):
            select_neurons("repeats", 4, ld)
    finally:
        unregister_method("too-many")
        unregister_method("repeats")


@pytest.mark.parametrize("method", method_names("neuron"))
def test_every_registered_neuron_method_keeps_what_it_says(method, net, X):
    m = get_method(method)
    k = 4 if m.sized else None
    pruned = prune_layer(net, 1, k, method, True, rng=0, data=X)
    n = pruned.hidden_sizes[1]
    assert (n == 4) if m.sized else (1 <= n <= 7)
    assert Variant(method, True).label == m.variant_label(True)


def test_variants_and_their_styles():
    vs = variants()
    assert [v.key for v in vs] == [
        "dpp", "dpp+fuse", "random", "random+fuse", "importance", "importance+fuse"
    ]  # fmt: skip
    assert vs[1].label == "DivNet (k-DPP + fusion)" and vs[3].label == "random + fusion"
    assert vs[0].style == ("tab:blue", "--", "o") and vs[1].style == ("tab:blue", "-", "o")
    assert Variant.from_key("importance+fuse") == Variant("importance", True)


# ----------------------------------------------------------------------------- sites


def test_sites_are_found_once_for_any_elementwise_activation():
    relu_net = nn.Sequential(
        nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)
    )
    sites = find_sites(relu_net)
    assert [(s.producer, s.activation, s.consumer) for s in sites] == [(0, 1, 2), (2, 3, 4)]
    assert site_for(relu_net, np.int64(1)) is not None  # numpy integers are layer indices
    with pytest.raises(ValueError, match=r"hidden-layer index 0..1 \(hidden sizes \(4, 3\)\)"):
        site_for(relu_net, 2)
    X = torch.rand(50, 5)
    smaller = prune_layer(relu_net, 0, 2, "random", False, rng=0, data=X.numpy())
    assert smaller[0].out_features == 2 and smaller[2].in_features == 2
    with pytest.raises(ValueError, match="torch.nn.Sequential"):
        find_sites(nn.Linear(3, 3))


# ----------------------------------------------------------------------------- edge kind


@pytest.fixture
def first_edges():
    @register_method("first-edges", "edge", label="first edges", color="tab:brown", marker="X")
    def rule(data, sizes, rng):
        masks = {k: np.zeros((data.n_units, data.n_inputs), dtype=bool) for k in sizes}
        for k, mask in masks.items():
            mask[:, :k] = True
        return masks

    yield "first-edges"
    unregister_method("first-edges")


def test_an_edge_rule_from_a_test_file_masks_exactly_k_weights(first_edges, net, X):
    before = {k: v.clone() for k, v in net.state_dict().items()}
    pruned = prune_edges(net, 0, 5, first_edges, data=X)
    weight = pruned[0].weight.detach()
    assert torch.equal(weight[:, :5], net[0].weight[:, :5]) and not weight[:, 5:].any()
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # untouched
    assert "0.weight_mask" in pruned.state_dict()
    assert count_parameters(pruned) == count_parameters(net) - 9 * 7
    with torch.no_grad():  # the mask persists through a training step
        pruned[0].weight_orig.add_(1.0)
    assert not pruned[0].weight[:, 5:].any()
    # k of the second hidden layer's inputs: that layer reads the first layer's 9 units
    assert prune_edges(net, 1, 9, first_edges, data=X)[2].weight.detach().count_nonzero() == 7 * 9
    with pytest.raises(ValueError, match=r"k must satisfy 1 <= k <= the number of inputs d = 12"):
        prune_edges(net, 0, 13, first_edges, data=X)


def test_edge_reweighting_is_least_squares_per_unit(first_edges, net, X):
    data = edge_statistics(net, 0, X.astype(np.float64))
    pruned = prune_edges(net, 0, 5, first_edges, reweight=True, edge_data=data)
    W = net[0].weight.detach().double().numpy()
    Xd = X.astype(np.float64)
    for h in range(
        W.shape[0]
    ):  # each unit: its removed inputs' contribution, fitted on the kept ones
        delta = np.linalg.lstsq(Xd[:, :5], Xd[:, 5:] @ W[h, 5:], rcond=None)[0]
        np.testing.assert_allclose(
            pruned[0].weight[h, :5].detach().numpy(), W[h, :5] + delta, rtol=1e-4, atol=1e-5
        )


# ----------------------------------------------------------------------------- gate kind


class SigmoidGate(UnitGate):
    """Test double: z = sigmoid(logit) while training; at test time z, or 0 below 1/2."""

    def __init__(self, n_units, init):
        super().__init__(n_units)
        self.logit = nn.Parameter(torch.full((n_units,), float(init)))

    def gates(self):
        return torch.sigmoid(self.logit)

    def test_gates(self):
        z = torch.sigmoid(self.logit)
        return torch.where(z > 0.5, z, torch.zeros_like(z))

    def penalty(self):
        return torch.sigmoid(self.logit).sum()


@pytest.fixture
def sigmoid_gate():
    @register_method(
        "sigmoid-gate",
        "gate",
        label="sigmoid gate",
        color="tab:gray",
        marker="h",
        options=("init",),
    )
    def factory(n_units, layer, init=3.0):
        return SigmoidGate(n_units, init)

    yield "sigmoid-gate"
    unregister_method("sigmoid-gate")


def test_a_gate_method_from_a_test_file_trains_and_extracts(sigmoid_gate):
    digits = load_dataset("digits")
    from divnet_nb.training import default_config

    config = default_config("digits", max_epochs=20, threshold=0.001)
    small, gated, result = train_gated(
        digits, (64, 40, 30, 10), sigmoid_gate, 0, 0.012, config, progress=False, init=0.5
    )
    assert "running_penalty" in result.history[0] and "open_0" in result.history[-1]
    kept = [int((g.test_gates() > 0).sum()) for g in gated.gates.values()]
    assert small.hidden_sizes == tuple(kept) and 0 < sum(kept) < 70  # the penalty closed some gates
    x = torch.from_numpy(digits.x_test)
    with torch.no_grad():
        torch.testing.assert_close(small(x), gated.eval()(x), rtol=1e-5, atol=1e-6)
    # no penalty: every gate stays open
    _, open_gated, _ = train_gated(
        digits, (64, 40, 30, 10), sigmoid_gate, 0, 0.0, config, progress=False, init=0.5
    )
    assert all(bool((g.test_gates() > 0).all()) for g in open_gated.gates.values())


def test_gates_that_all_close_stop_with_a_clear_message(sigmoid_gate):
    gated = wrap_with_gates(MLP((6, 5, 4, 2), seed=0), sigmoid_gate, init=-5.0)
    with pytest.raises(ValueError, match="every gate of hidden layer 0 is closed"):
        gated.extract()
    with pytest.raises(ValueError, match=r"takes no setting\(s\) \['temperature'\]"):
        wrap_with_gates(MLP((6, 5, 4, 2), seed=0), sigmoid_gate, temperature=1.0)
    with pytest.raises(ValueError, match="lam"):
        train_gated(load_dataset("digits"), (64, 5, 10), sigmoid_gate, 0, lam=-1.0)
