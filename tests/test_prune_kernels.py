"""The kernel option of the k-DPP neuron rules: prune_layer(..., kernel=...), LayerData, statistics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import divnet_nb as dn
from divnet_nb.nets import MLP
from divnet_nb.prune import (
    LayerData,
    held_out_statistics,
    layer_statistics,
    prune_layer,
    prune_network,
    read_layer_data,
    select_neurons,
)

KERNEL_RULES = ("dpp", "greedy-map", "dpp-best")


@pytest.fixture
def net():
    torch.manual_seed(0)
    return MLP((12, 9, 7, 3), seed=1)


@pytest.fixture
def X():
    return np.random.default_rng(0).random((300, 12)).astype(np.float32)


def state(model):
    return [v.clone() for v in model.state_dict().values()]


def same(a, b):
    return all(torch.equal(x, y) for x, y in zip(state(a), state(b), strict=True))


@pytest.mark.parametrize("kernel", dn.kernel_names())
def test_every_kernel_prunes_with_every_kernel_rule(kernel, net, X):
    for method in KERNEL_RULES:
        pruned = prune_layer(net, 1, 4, method, True, 0, data=X, kernel=kernel)
        again = prune_layer(net, 1, 4, method, True, 0, data=X, kernel=kernel)
        assert pruned.hidden_sizes == (9, 4) and same(pruned, again)
    whole = prune_network(net, 0.5, "dpp", True, 3, data=X, kernel=kernel)
    assert whole.hidden_sizes == (4, 4)


def test_the_default_kernel_is_rbf_bit_for_bit(net, X):
    for method in ("dpp", "greedy-map"):
        assert same(
            prune_network(net, 0.5, method, True, 2, data=X),
            prune_network(net, 0.5, method, True, 2, data=X, kernel="rbf"),
        )
    ld = LayerData(layer_statistics(net, 0, X))
    assert np.array_equal(ld.kernel, ld.stats.kernel()) and ld.kernel_name == "rbf"


def test_every_layer_reads_the_same_kernel(net, X):
    model, keeps = prune_network(net, [4, 3], "greedy-map", True, 0, data=X, kernel="cosine",
                                 return_keep=True)  # fmt: skip
    step1 = prune_layer(net, 0, 4, "greedy-map", True, data=X, kernel="cosine")
    step2 = prune_layer(step1, 1, 3, "greedy-map", True, data=X, kernel="cosine")
    assert same(model, step2)
    first = LayerData(layer_statistics(net, 0, X), kernel_name="cosine")
    shared = prune_network(net, [4, 3], "greedy-map", True, 0, data=X, first_layer_data=first)
    assert same(shared, model)  # deeper layers take the first layer's kernel
    rbf = prune_network(net, [4, 3], "greedy-map", True, 0, data=X, return_keep=True)[1]
    assert any(not np.array_equal(a, b) for a, b in zip(keeps, rbf, strict=True))


def test_a_kernel_that_no_rule_reads_or_does_not_exist_is_an_error(net, X):
    with pytest.raises(ValueError, match="method 'importance' reads no kernel"):
        prune_layer(net, 0, 3, "importance", data=X, kernel="cosine")
    with pytest.raises(ValueError, match="registered kernels: rbf, linear, cosine"):
        prune_network(net, 0.5, "dpp", data=X, kernel="gaussian")
    with pytest.raises(ValueError, match="registered kernels"):
        LayerData(layer_statistics(net, 0, X), kernel_name="gaussian")
    first = LayerData(layer_statistics(net, 0, X))
    with pytest.raises(ValueError, match="layer_data's kernel is 'rbf', not 'cosine'"):
        prune_layer(net, 0, 3, "dpp", layer_data=first, kernel="cosine")
    with pytest.raises(ValueError, match="kernel 'cosine' takes no beta"):
        LayerData(layer_statistics(net, 0, X), beta=0.1, kernel_name="cosine")


def test_the_learned_kernel_is_fitted_per_size_on_the_held_out_half(net, X):
    ld = read_layer_data(net, 0, X, kernel="learned")
    assert ld.held_out.n_samples == 150 and ld.weights is not None
    np.testing.assert_allclose(ld.held_out.gram, layer_statistics(net, 0, X[1::2]).gram, rtol=1e-12)
    with pytest.raises(ValueError, match="fitted for a sample size k"):
        _ = ld.kernel
    fit3 = ld.built_kernel(3)
    assert fit3.params["objective"] <= fit3.params["default_objective"]
    assert ld.built_kernel(3) is fit3  # built once per size
    assert set(fit3.params) >= {"factor", "beta", "exponent"}
    bare = LayerData(layer_statistics(net, 0, X), kernel_name="learned")
    with pytest.raises(ValueError, match="needs the layer's weights and held_out"):
        select_neurons("dpp", 3, bare, rng=0)
    with pytest.raises(ValueError, match="fitted for a sample size k"):
        prune_layer(net, 0, None, "dpp-nonparametric", data=X, kernel="learned")
    with pytest.raises(ValueError, match="at least 4 inputs"):
        held_out_statistics(net, 0, X[:3])


def test_new_weights_rebuild_a_kernel_that_reads_them(net, X):
    ld = read_layer_data(net, 0, X, kernel="qd")
    L = ld.kernel
    doubled = ld.with_inputs(weights=2.0 * ld.weights)
    np.testing.assert_allclose(doubled.kernel, 4.0 * L, rtol=1e-12)
    assert ld.with_inputs(weights=ld.weights).kernel is L  # the same weights share it


def test_zero_quality_neurons_complete_a_selection_larger_than_the_rest():
    net = MLP((4, 6, 3), seed=0)
    with torch.no_grad():  # neurons 4 and 5 never vary: quality 0 under "qd"
        net.linears[0].weight[4:] = 0.0
        net.linears[0].bias[4:] = 0.0
    X = np.random.default_rng(1).random((200, 4)).astype(np.float32)
    ld = read_layer_data(net, 0, X, kernel="qd")
    assert np.count_nonzero(np.diag(ld.kernel) > 0) == 4
    for method in KERNEL_RULES:
        keep = select_neurons(method, 5, ld, rng=0)
        assert keep.tolist() == [0, 1, 2, 3, 4]
        assert set(select_neurons(method, 3, ld, rng=0)) <= {0, 1, 2, 3}
