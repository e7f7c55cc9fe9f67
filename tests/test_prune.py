"""Pruning torch MLPs: activations by hooks, selection methods, fusion into a smaller model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from divnet_nb import GramAccumulator, fuse
from divnet_nb.nets import MLP, table1_sizes
from divnet_nb.prune import (
    LayerData,
    apply_pruning,
    collect_activations,
    importance_scores,
    layer_statistics,
    prune_layer,
    prune_network,
    select_neurons,
    sizes_for_fraction,
)


@pytest.fixture
def net():
    torch.manual_seed(0)
    return MLP((12, 9, 7, 3), seed=1)


@pytest.fixture
def X():
    return np.random.default_rng(0).random((300, 12)).astype(np.float32)


def state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def same_state(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_mlp_structure_and_seeded_init():
    m = MLP((784, 500, 500, 10), seed=3)
    assert (
        m.sizes == (784, 500, 500, 10) and m.hidden_sizes == (500, 500) and m.n_hidden_layers == 2
    )
    assert len(m.linears) == 3 and len(m.activations) == 2
    assert same_state(state(m), state(MLP((784, 500, 500, 10), seed=3)))
    assert not same_state(state(m), state(MLP((784, 500, 500, 10), seed=4)))
    assert table1_sizes("cifar10") == (3072, 1000, 1000, 1000, 10)
    probs = m.predict_proba(torch.zeros(2, 784))
    torch.testing.assert_close(probs.sum(1), torch.ones(2))
    with pytest.raises(ValueError, match="hidden-layer index 0..1"):
        m.check_layer(2)
    with pytest.raises(ValueError, match="at least input, one hidden and output"):
        MLP((4, 2))
    with pytest.raises(ValueError, match="no Table 1 network"):
        table1_sizes("imagenet")


def test_activations_by_hook_match_a_manual_forward(net, X):
    A = collect_activations(net, 1, X, batch_size=64)
    with torch.no_grad():
        manual = net[:4](torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(A, manual, rtol=1e-6)
    stats = layer_statistics(net, 1, X, batch_size=64)
    np.testing.assert_allclose(stats.gram, GramAccumulator().update(A).gram, rtol=1e-6)
    assert stats.n_samples == 300
    assert all(not m._forward_hooks for m in net.modules())  # hooks removed


def test_apply_pruning_shapes_and_original_untouched(net, X):
    before = state(net)
    stats = layer_statistics(net, 0, X)
    pruned = apply_pruning(net, 0, [1, 4, 6], stats)
    assert pruned.sizes == (12, 3, 7, 3)
    assert same_state(state(net), before)
    with torch.no_grad():  # kept neurons' incoming weights are the originals
        torch.testing.assert_close(pruned.linears[0].weight, net.linears[0].weight[[1, 4, 6]])


def test_deletion_without_fusion_is_plain_deletion(net, X):
    pruned = apply_pruning(net, 0, [0, 2, 5])
    with torch.no_grad():
        torch.testing.assert_close(pruned.linears[1].weight, net.linears[1].weight[:, [0, 2, 5]])
        torch.testing.assert_close(pruned.linears[1].bias, net.linears[1].bias)


def test_fused_weights_are_eq4(net, X):
    A = collect_activations(net, 0, X).astype(np.float64)
    keep = [0, 3, 4, 8]
    W = net.linears[1].weight.detach().numpy().T
    expected = fuse(A, keep, W)
    exact = apply_pruning(net, 0, keep, layer_statistics(net, 0, X))  # float64 by default
    np.testing.assert_allclose(
        exact.linears[1].weight.detach().numpy().T, expected, rtol=1e-5, atol=1e-6
    )
    # products in float32 (dtype=None): weights agree loosely (ill-conditioned directions),
    # outputs closely
    fast = apply_pruning(net, 0, keep, layer_statistics(net, 0, X, dtype=None))
    np.testing.assert_allclose(
        fast.linears[1].weight.detach().numpy().T, expected, rtol=1e-2, atol=1e-3
    )
    with torch.no_grad():
        x = torch.from_numpy(X)
        torch.testing.assert_close(fast(x), exact(x), rtol=1e-4, atol=1e-5)


def redundant_net():
    """Hidden neurons 2 = neuron 0 and 3 = 1 - neuron 1 = neuron 4 - neuron 1 (neuron 4 is constant 1)."""
    m = MLP((6, 5, 4, 3), seed=0).double()
    with torch.no_grad():
        W, b = m.linears[0].weight, m.linears[0].bias
        b.copy_(torch.randn(5, dtype=torch.float64))
        W[2], b[2] = W[0], b[0]
        W[3], b[3] = -W[1], -b[1]
        W[4], b[4] = 0.0, 60.0  # sigmoid(60) == 1.0 in float64
    return m


def test_fusion_keeps_the_function_when_removed_neurons_are_combinations():
    m = redundant_net()
    X = torch.rand(500, 6, dtype=torch.float64)
    stats = layer_statistics(m, 0, X)
    fused = apply_pruning(m, 0, [0, 1, 4], stats)
    with torch.no_grad():
        torch.testing.assert_close(fused(X), m(X), rtol=1e-9, atol=1e-9)
        deleted = apply_pruning(m, 0, [0, 1, 4])
        assert not torch.allclose(
            deleted(X), m(X), atol=1e-3
        )  # without fusion the function changes


@pytest.mark.parametrize("method", ["dpp", "greedy-map", "random", "importance"])
@pytest.mark.parametrize("reweight", [False, True])
def test_prune_layer_every_method(net, X, method, reweight):
    before = state(net)
    pruned = prune_layer(net, 1, 4, method=method, reweight=reweight, rng=0, data=X)
    assert pruned.sizes == (12, 9, 4, 3)
    assert same_state(state(net), before)
    again = prune_layer(net, 1, 4, method=method, reweight=reweight, rng=0, data=X)
    assert same_state(state(pruned), state(again))  # seeded: reproducible


def test_importance_keeps_largest_onorm(net, X):
    scores = importance_scores(net, 0)
    np.testing.assert_allclose(
        scores, net.linears[1].weight.abs().mean(0).detach().numpy(), rtol=1e-6
    )
    ld = LayerData(layer_statistics(net, 0, X))
    keep = select_neurons("importance", 3, ld, importance=scores)
    np.testing.assert_array_equal(keep, np.sort(np.argsort(-scores)[:3]))


def test_dpp_uses_paper_kernel_and_scaling(net, X):
    ld = LayerData(layer_statistics(net, 0, X))
    assert ld.stats.n_samples == 300
    from divnet_nb import expected_size, rbf_kernel

    np.testing.assert_allclose(
        ld.kernel, rbf_kernel(collect_activations(net, 0, X)), atol=1e-5
    )  # float32 products
    k = 4
    n = 9
    k_prime = expected_size(ld.eig)
    np.testing.assert_allclose(
        ld.scaled_eig(k).values, ld.eig.values * (k / (n - k)) * ((n - k_prime) / k_prime)
    )


def test_dpp_nonparametric_size_follows_beta(net, X):
    small = prune_layer(net, 0, None, method="dpp-nonparametric", rng=0, data=X, beta=1e-4)
    big = prune_layer(net, 0, None, method="dpp-nonparametric", rng=0, data=X, beta=10.0)
    assert small.hidden_sizes[0] <= big.hidden_sizes[0]
    with pytest.raises(ValueError, match="pass k=None"):
        prune_layer(net, 0, 3, method="dpp-nonparametric", data=X)


def test_keeping_everything_is_a_copy(net, X):
    same = prune_layer(net, 0, 9, method="dpp", data=X, rng=0)
    assert same is not net and same_state(state(same), state(net))


def test_prune_network_is_sequential(net, X):
    model, keeps = prune_network(net, [4, 3], "dpp", True, 5, data=X, return_keep=True)
    assert model.sizes == (12, 4, 3, 3)
    rng = np.random.default_rng(5)
    step1 = prune_layer(net, 0, 4, "dpp", True, rng, data=X)
    step2 = prune_layer(
        step1, 1, 3, "dpp", True, rng, data=X
    )  # on the activations of the pruned network
    assert same_state(state(model), state(step2))
    assert [k.size for k in keeps] == [4, 3]
    assert sizes_for_fraction(net, 0.5) == [4, 4] and sizes_for_fraction(net, 1.0) == [9, 7]
    half = prune_network(net, 0.5, "random", False, 0, data=X)
    assert half.hidden_sizes == (4, 4)


def test_prune_network_shares_first_layer_data(net, X):
    first = LayerData(layer_statistics(net, 0, X))
    a = prune_network(net, 0.5, "dpp", True, 1, data=X, first_layer_data=first)
    b = prune_network(net, 0.5, "dpp", True, 1, data=X)
    assert same_state(state(a), state(b))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda n, X: prune_layer(n, 0, 0, data=X), r"k must be an integer with 1 <= k <= 9"),
        (lambda n, X: prune_layer(n, 0, 10, data=X), "k must be an integer"),
        (
            lambda n, X: prune_layer(n, 0, 3, method="magic", data=X),
            "method must be one of the registered neuron methods: dpp, ",
        ),
        (lambda n, X: prune_layer(n, 2, 3, data=X), "hidden-layer index"),
        (lambda n, X: prune_layer(n, 0, 3), "pass data"),
        (
            lambda n, X: prune_layer(n, 0, 3, data=X[:, :5]),
            r"data must be a 2-D array of inputs \(n_samples, \d+\) for the first layer",
        ),
        (lambda n, X: prune_network(n, 1.5, data=X), r"fraction must be in \(0, 1\]"),
        (lambda n, X: prune_network(n, 0.0, data=X), r"fraction must be in \(0, 1\]"),
        (lambda n, X: prune_network(n, [3], data=X), "one kept size per hidden layer"),
        (
            lambda n, X: prune_network(n, None, data=X),
            "only for methods that choose their own size",
        ),
        (
            lambda n, X: prune_network(n, 0.5, data=X, colour="red"),
            r"takes no option\(s\) \['colour'\]",
        ),
        (lambda n, X: apply_pruning(n, 0, [0, 0]), "keep holds duplicate"),
        (lambda n, X: apply_pruning(n, 0, []), "at least one neuron"),
    ],
)
def test_bad_arguments(net, X, call, match):
    with pytest.raises((ValueError, RuntimeError), match=match):
        call(net, X)


def test_collect_activations_keeps_the_model_dtype():
    m = redundant_net()
    X = torch.rand(20, 6, dtype=torch.float64)
    assert collect_activations(m, 0, X).dtype == np.float64
    assert collect_activations(m, 0, X, dtype=torch.float32).dtype == np.float32


def test_next_layer_error_is_what_fusion_minimises(net, X):
    from divnet_nb.prune import next_layer_error

    stats = layer_statistics(net, 0, X)
    keep = [0, 2, 5, 7]
    fused = next_layer_error(net, 0, keep, X, stats)
    deleted = next_layer_error(net, 0, keep, X)
    assert 0 <= fused < deleted
    m = redundant_net()
    Xd = torch.rand(200, 6, dtype=torch.float64)
    assert next_layer_error(m, 0, [0, 1, 4], Xd, layer_statistics(m, 0, Xd)) < 1e-18


def test_layer_indices_may_be_numpy_integers(net, X):
    assert net.check_layer(np.int64(1)) == 1
    a = prune_layer(net, np.int64(0), np.int64(4), "importance", data=X)
    b = prune_layer(net, 0, 4, "importance", data=X)
    assert same_state(state(a), state(b))


def test_training_mode_is_restored_even_when_evaluation_fails(net, X):
    from divnet_nb.nets import error_rate
    from divnet_nb.prune import next_layer_error

    net.train()
    with pytest.raises(RuntimeError):
        error_rate(net, X[:, :5], np.zeros(len(X), dtype=np.int64))  # wrong input width
    assert net.training
    with pytest.raises(ValueError, match="data must be a 2-D array"):  # refused before any work
        next_layer_error(net, 0, [0, 1], X[:, :5])
    assert net.training
    net.eval()
    error_rate(net, X, np.zeros(len(X), dtype=np.int64))
    assert not net.training


def test_kernel_settings_are_never_silently_ignored(net, X):
    first = LayerData(layer_statistics(net, 0, X))
    with pytest.raises(ValueError, match="beta and eps define the kernel of layer_data"):
        prune_network(net, 0.5, "dpp", True, 0, data=X, first_layer_data=first, beta=1.0)
    with pytest.raises(ValueError, match="beta and eps define the kernel of layer_data"):
        prune_layer(net, 0, 3, "dpp", layer_data=first, eps=0.5)
    # with the settings in the LayerData itself they are used
    wide = LayerData(layer_statistics(net, 0, X), beta=1e-6)
    assert wide.kernel[0, 1] > LayerData(layer_statistics(net, 0, X)).kernel[0, 1]
