"""The experiments' design: one selection scored with and without fusion, random streams per method."""

from __future__ import annotations

import numpy as np
import pytest

from divnet_nb.experiments import layer_sweep, table2, variants
from divnet_nb.experiments.sweeps import method_stream
from divnet_nb.pruning import register_method, unregister_method


@pytest.fixture(scope="module")
def digits_net(digits_network):
    return digits_network


@pytest.fixture
def recorder():
    """A random neuron rule that records every selection it makes."""
    calls = []

    @register_method("recorder", "neuron", label="recorder", color="k", marker="x", needs=("rng",))
    def rule(data, k, rng):
        keep = np.sort(rng.choice(data.n, size=k, replace=False))
        calls.append(keep.tolist())
        return keep

    yield calls
    unregister_method("recorder")


def test_a_sweep_draws_one_selection_per_method_and_size(recorder, digits_net):
    data, model = digits_net
    layer_sweep(model, 0, [3, 10], data.x_train, data.x_test, data.y_test,
                variants=variants(["recorder"]))  # fmt: skip
    assert len(recorder) == 2  # one draw per size, scored unfused and fused


def test_table2_gives_fused_and_unfused_the_same_first_layer(recorder, digits_net):
    data, model = digits_net
    table2(model, [0.5], data.x_train, {"test": (data.x_test, data.y_test)},
           variants=variants(["recorder"]))  # fmt: skip
    assert len(recorder) == 4  # two layers, twice (without and with fusion)
    assert recorder[0] == recorder[2]  # the first layer: the same neurons either way


def test_draws_are_keyed_by_method_not_by_the_list_of_variants(digits_net):
    data, model = digits_net
    args = (model, 0, [3, 10], data.x_train, data.x_test, data.y_test)
    alone = layer_sweep(*args, variants=variants(["dpp"]))
    among = layer_sweep(*args, variants=variants(["random", "importance", "dpp"]))
    assert alone["dpp"] == among["dpp"] and alone["dpp+fuse"] == among["dpp+fuse"]
    assert method_stream("dpp") == method_stream("dpp") != method_stream("random")


def test_the_kernel_setting_reaches_every_k_dpp_rule_and_the_identity_only_when_chosen(digits_net):
    from divnet_nb.experiments import settings_for

    data, model = digits_net
    args = (model, 0, [3, 10], data.x_train, data.x_test, data.y_test)
    rules = variants(["greedy-map", "importance"])
    rbf, cosine = (
        layer_sweep(*args, variants=rules),
        layer_sweep(*args, variants=rules, kernel="cosine"),
    )
    assert rbf["importance+fuse"] == cosine["importance+fuse"]  # reads no kernel
    assert rbf["greedy-map"] != cosine["greedy-map"]
    ev, greedy = {"test": (data.x_test, data.y_test)}, variants(["greedy-map"])
    with_cosine = table2(model, [0.3], data.x_train, ev, variants=greedy, kernel="cosine")
    assert with_cosine != table2(model, [0.3], data.x_train, ev, variants=greedy)
    default = settings_for("digits", fast=True)
    assert "kernel" not in default.to_dict() and default.kernel == "rbf"
    chosen = settings_for("digits", fast=True, kernel="cosine")
    assert chosen.to_dict()["kernel"] == "cosine" and chosen != default
