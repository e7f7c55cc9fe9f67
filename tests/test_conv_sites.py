"""Convolutional sites: channels of a Conv2d read by a Conv2d, or by a Linear after Flatten.

The oracles are exact: a channel that is a positive multiple of a kept one (or its copy)
is fused away with the network's outputs unchanged to 1e-6; the streamed Gram matrix
equals the one of the explicit (N H W, C) matrix; the producer's input patches times its
incoming weights are its output map.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from divnet_nb.nets import ConvSite, DenseSite, as_chain, find_sites
from divnet_nb.prune import (
    apply_pruning,
    collect_activations,
    edge_statistics,
    get_method,
    importance_scores,
    layer_statistics,
    method_names,
    prune_edges,
    prune_layer,
    prune_network,
    wrap_with_gates,
)


def small_cnn(seed=0, *, norm=False, padding=0) -> nn.Sequential:
    """conv 4 -> [BN] -> ReLU -> pool -> conv 4 -> ReLU -> pool -> Flatten -> 12 -> ReLU -> 5."""
    torch.manual_seed(seed)
    layers = [nn.Conv2d(1, 4, 3)]
    if norm:
        layers.append(nn.BatchNorm2d(4))
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, padding=padding), nn.ReLU()]
    layers += [nn.MaxPool2d(2), nn.Flatten()]
    side = ((14 - 2) // 2 + 2 * padding - 2) // 2
    layers += [nn.Linear(4 * side * side, 12), nn.ReLU(), nn.Linear(12, 5)]
    net = nn.Sequential(*layers).double()
    if norm:
        bn = net[1]
        with torch.no_grad():
            bn.running_mean.uniform_(-0.2, 0.2)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.1, 0.1)
    return net.eval()


def images(n=64, seed=1):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal((n, 1, 14, 14)))


def with_redundant_channels(net, conv_at, *, scale):
    """Channel 3 := scale x channel 0 and channel 2 := channel 1 (a positive scale commutes
    with ReLU and max-pooling; a following BatchNorm gets the same entries, so scale 1 there)."""
    conv = net[conv_at]
    with torch.no_grad():
        conv.weight[3] = scale * conv.weight[0]
        conv.bias[3] = scale * conv.bias[0]
        conv.weight[2] = conv.weight[1]
        conv.bias[2] = conv.bias[1]
        nxt = net[conv_at + 1]
        if isinstance(nxt, nn.BatchNorm2d):
            for t in (nxt.weight, nxt.bias, nxt.running_mean, nxt.running_var):
                t[3], t[2] = t[0], t[1]
    return net


def test_sites_of_a_cnn_are_its_channels_then_its_units():
    net = small_cnn(norm=True)
    sites = find_sites(net)
    assert [type(s) for s in sites] == [ConvSite, ConvSite, DenseSite]
    assert [s.width(net) for s in sites] == [4, 4, 12]
    assert sites[0].norms == (1,) and sites[0].reads == 4 and sites[0].consumer == 4
    assert sites[1].reads == 7 and sites[1].consumer == 8  # Flatten at 7, Linear at 8


@pytest.mark.parametrize("norm", [False, True])
def test_fusion_over_conv_to_conv_channels_is_exact(norm):
    net = with_redundant_channels(small_cnn(norm=norm), 0, scale=1.0 if norm else 2.0)
    X = images()
    stats = layer_statistics(net, 0, X)
    pruned = apply_pruning(net, 0, [0, 1], stats)
    assert pruned[0].out_channels == 2 and pruned[3 + norm].in_channels == 2
    if norm:
        assert pruned[1].num_features == 2
    with torch.no_grad():
        assert torch.allclose(pruned(X), net(X), atol=1e-6, rtol=0)
        deleted = apply_pruning(net, 0, [0, 1])
        assert not torch.allclose(deleted(X), net(X), atol=1e-3)


def test_fusion_over_conv_to_dense_channels_is_exact():
    net = with_redundant_channels(small_cnn(), 3, scale=3.0)
    X = images()
    pruned = apply_pruning(net, 1, [0, 1], layer_statistics(net, 1, X))
    assert pruned[3].out_channels == 2 and pruned[7].in_features == 2 * 2 * 2
    with torch.no_grad():
        assert torch.allclose(pruned(X), net(X), atol=1e-6, rtol=0)


def test_deletion_drops_exactly_the_removed_channels_taps():
    net, X = small_cnn(), images()
    pruned = apply_pruning(net, 0, [1, 3])
    zeroed = small_cnn()
    with torch.no_grad():
        zeroed[3].weight[:, [0, 2]] = 0.0
        assert torch.allclose(pruned(X), zeroed(X), atol=1e-12)


def test_streamed_gram_is_that_of_the_rows_over_samples_and_positions():
    net, X = small_cnn(), images(50)
    stats = layer_statistics(net, 0, X, batch_size=7)
    with torch.no_grad():
        maps = net[:3](X)  # conv, ReLU, pool: what the next conv reads
    A = maps.permute(0, 2, 3, 1).reshape(-1, 4).numpy()
    assert stats.n_samples == 50 * 6 * 6
    np.testing.assert_allclose(stats.gram, A.T @ A, rtol=1e-12)
    np.testing.assert_allclose(collect_activations(net, 0, X), A, rtol=1e-12)


def test_importance_is_the_mean_absolute_tap_of_the_consumer():
    net = small_cnn()
    expected = net[3].weight.detach().abs().mean(dim=(0, 2, 3)).numpy()
    np.testing.assert_allclose(importance_scores(net, 0), expected, rtol=1e-12)
    dense = net[7].weight.detach().abs().reshape(12, 4, 4).mean(dim=(0, 2)).numpy()
    np.testing.assert_allclose(importance_scores(net, 1), dense, rtol=1e-12)


def test_edges_of_a_conv_producer_are_its_taps():
    net, X = small_cnn(), images(20)
    site = find_sites(net)[1]
    data = edge_statistics(net, site, X)
    W = site.incoming(net)
    assert W.shape == (4, 4 * 9) and data.stats.gram.shape == (36, 36)
    rows = []
    site.read(net, X, rows.append, inputs=True)
    with torch.no_grad():
        out = net[3](net[:3](X))
        expected = out.permute(0, 2, 3, 1).reshape(-1, 4) - net[3].bias
    np.testing.assert_allclose(torch.cat(rows).numpy() @ W.T, expected.numpy(), atol=1e-10)
    masked = prune_edges(net, site, 10, "magnitude", data=X)
    kept = masked[3].weight_mask.reshape(4, -1).sum(1)
    assert kept.tolist() == [10, 10, 10, 10]


@pytest.mark.parametrize("method", method_names("neuron"))
def test_every_neuron_rule_prunes_every_site_of_a_cnn(method):
    net, X = small_cnn(norm=True), images(40)
    sizes = [2, 2, 6] if get_method(method).sized else None
    # rng=1: on layers of 4 channels the plain DPP draws the empty set with probability ~0.2
    # (a refused draw), and generator 0 draws it on the second layer.
    pruned = prune_network(net, sizes, method, reweight=True, rng=1, data=X)
    widths = [s.width(pruned) for s in find_sites(pruned)]
    if sizes is not None:
        assert widths == sizes
    with torch.no_grad():
        assert pruned(X).shape == (40, 5)


def test_intercept_is_refused_where_zero_padding_cuts_the_map():
    net, X = small_cnn(padding=1), images()
    with pytest.raises(ValueError, match=r"zero padding .* use intercept=False"):
        prune_layer(net, 0, 2, "importance", data=X, intercept=True)
    prune_layer(small_cnn(), 0, 2, "importance", data=X, intercept=True)  # unpadded: fine


def test_intercept_fusion_into_an_unpadded_consumer_moves_a_constant_channel_exactly():
    net = small_cnn()
    with torch.no_grad():
        net[0].weight[2] = 0.0
        net[0].bias[2] = 0.7  # a constant map: ReLU(0.7) everywhere
    X = images()
    pruned = apply_pruning(net, 0, [0, 1, 3], layer_statistics(net, 0, X), intercept=True)
    with torch.no_grad():
        assert torch.allclose(pruned(X), net(X), atol=1e-6, rtol=0)


class Traced(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 4, 3), nn.Conv2d(4, 3, 3)
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(torch.relu(self.c2(x)), 2)
        return self.fc(x.view(x.size(0), -1))


def test_a_model_with_its_own_forward_is_read_through_torch_fx():
    torch.manual_seed(0)
    net, X = Traced().double().eval(), images()
    assert [type(s) for s in find_sites(net)] == [ConvSite, ConvSite]
    with torch.no_grad():
        assert torch.allclose(as_chain(net)(X), net(X))
    pruned = prune_layer(net, 1, 2, "importance", data=X)
    assert isinstance(pruned, nn.Sequential) and pruned(X).shape == (64, 5)


def test_nested_sequentials_are_opened():
    net = small_cnn()
    nested = nn.Sequential(net[:3], nn.Sequential(net[3:8]), net[8:])
    assert find_sites(nested) == find_sites(net)
    X = images()
    with torch.no_grad():
        assert torch.allclose(
            prune_layer(nested, 0, 2, "importance", data=X)(X),
            prune_layer(net, 0, 2, "importance", data=X)(X),
        )


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        y = F.relu(self.c1(x))
        return self.c2(y) + y


@pytest.mark.parametrize(
    "model, message",
    [
        (
            nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3, groups=2)),
            "grouped or depthwise",
        ),
        (
            nn.Sequential(nn.Conv2d(1, 4, 3), nn.Softmax(dim=1), nn.Conv2d(4, 2, 3)),
            r"module 1 \(Softmax\)",
        ),
        (
            nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2)),
            r"module 1 \(LayerNorm\)",
        ),
        (
            nn.Sequential(nn.Linear(4, 4), nn.Softmax(dim=1), nn.Linear(4, 2)),
            "expected one elementwise",
        ),
        (nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Linear(4, 2)), "only after Flatten"),
        (Residual(), "residual addition"),
    ],
)
def test_couplings_are_refused_with_one_line_naming_the_layer(model, message):
    with pytest.raises(ValueError, match=message) as info:
        find_sites(model)
    assert "\n" not in str(info.value)


def test_data_of_the_wrong_shape_is_refused_before_any_work():
    net = small_cnn()
    with pytest.raises(
        ValueError, match=r"images of shape \(n_samples, 1, height, width\).*reshape"
    ):
        prune_layer(net, 0, 2, data=np.zeros((10, 144)))
    with pytest.raises(ValueError, match=r"hidden-layer index 0\.\.2"):
        prune_layer(net, 3, 2, data=images())


@pytest.mark.parametrize("method", ["hard-concrete", "diffprune"])
def test_channel_gates_extract_to_a_smaller_cnn_computing_the_same(method):
    gated = wrap_with_gates(small_cnn(norm=True), method)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for gate in gated.gates.values():
            for p in gate.parameters():
                p.copy_((torch.rand(p.shape, generator=gen) * 7 - 3.5).to(p.dtype))
    gated.eval()
    small, X = gated.extract(), images()
    opened = gated.open_gates()
    widths = [s.width(small) for s in find_sites(small)]
    assert widths == [opened["open_0"], opened["open_1"], opened["open_2"]] and widths < [4, 4, 12]
    with torch.no_grad():
        torch.testing.assert_close(small(X), gated(X), rtol=0, atol=1e-12)
    penalty = gated.weight_penalty() + gated.penalty()  # finite, in the graph
    assert torch.isfinite(penalty) and penalty.requires_grad


def test_weight_gates_on_a_conv_producer_are_refused():
    with pytest.raises(ValueError, match="weight gates act on a Linear producer"):
        wrap_with_gates(small_cnn(), "hard-concrete-weights")
    with pytest.raises(ValueError, match="inputs=True gates the inputs of a Linear"):
        wrap_with_gates(small_cnn(), "hard-concrete", inputs=True)


def test_lasso_reads_he_et_al_s_inner_products_from_the_statistics():
    from divnet_nb.pruning.neuron.lasso import lasso_path_weights

    net, X = small_cnn(), images(30)
    site = find_sites(net)[0]
    A = collect_activations(net, site, X).astype(np.float64)
    W = site.outgoing(net)[0].astype(np.float64)
    Z = np.stack([np.outer(A[:, c], W[c]).ravel() for c in range(4)], axis=1)  # Z_c as columns
    G = layer_statistics(net, site, X).gram
    np.testing.assert_allclose(Z.T @ Z, G * (W @ W.T), rtol=1e-10)
    _, betas = lasso_path_weights(G, W)
    assert betas.shape[0] == 4 and (betas[:, 0] == 0).all() and (betas[:, -1] != 0).any()


def test_lasso_keeps_the_channels_that_reach_the_consumer():
    net, X = small_cnn(), images()
    with torch.no_grad():
        net[3].weight[:, [0, 2]] = 0.0  # channels 0 and 2 feed nothing
    pruned, keeps = prune_network(net, [2, 2, 6], "lasso", True, data=X, return_keep=True)
    assert keeps[0].tolist() == [1, 3]


def test_a_gated_cnn_trains_on_its_images_and_extracts_to_what_it_computes():
    from divnet_nb.datasets import load_dataset
    from divnet_nb.nets import error_rate, get_architecture
    from divnet_nb.prune import train_gated
    from divnet_nb.training import TrainConfig

    digits = load_dataset("digits")
    config = TrainConfig(max_epochs=2, optimizer="adam", lr=3e-3, batch_size=50)
    small, gated, run = train_gated(
        digits, "digits-cnn", "hard-concrete", 0, 1e-3, config, progress=False
    )
    x = get_architecture("digits-cnn").inputs(digits.x_test)
    assert run.epochs == 2 and error_rate(small, x, digits.y_test) == error_rate(
        gated, x, digits.y_test
    )
    opened = gated.open_gates()
    assert [s.width(small) for s in find_sites(small)] == [opened[f"open_{i}"] for i in range(3)]


def test_the_accumulator_reads_maps_as_their_sample_position_rows():
    from divnet_nb.core.kernel import GramAccumulator

    maps = torch.from_numpy(np.random.default_rng(3).standard_normal((5, 4, 9)))
    rows = maps.transpose(1, 2).reshape(-1, 4)
    a, b = GramAccumulator().update(maps), GramAccumulator().update(rows)
    np.testing.assert_allclose(a.gram, b.gram, rtol=1e-13)
    np.testing.assert_allclose(a.sums, b.sums, rtol=1e-13)
    assert a.n_samples == b.n_samples == 45
    net, X = small_cnn().float(), images(30).float()
    fast = layer_statistics(net, 0, X, dtype=None)  # float32 products, summed in float64
    exact = layer_statistics(net, 0, X)
    np.testing.assert_allclose(fast.gram, exact.gram, rtol=1e-5)
    with pytest.raises(ValueError, match="not finite|NaN|infinit"):
        GramAccumulator().update(maps * float("nan"))
