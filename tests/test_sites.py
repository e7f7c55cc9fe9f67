"""Sites are data: found once, handed on. Every pruning entry point takes a layer index or its
site, and resolves an index once; nothing below the entry walks the model again."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from torch import nn

import divnet_nb.nets.sites as sites_module
import divnet_nb.pruning.apply
import divnet_nb.pruning.edge.masks
import divnet_nb.pruning.gate.gating
import divnet_nb.pruning.neuron.budget
import divnet_nb.pruning.statistics  # noqa: F401 - every user of find_sites, for the counter
from divnet_nb.nets import MLP, DenseSite, as_site, find_sites, site_for
from divnet_nb.prune import (
    apply_pruning,
    collect_activations,
    cross_statistics,
    edge_statistics,
    importance_scores,
    layer_statistics,
    next_layer_error,
    outgoing_weights,
    prune_edges,
    prune_layer,
    prune_network,
    reweight_edges,
    select_edge_masks,
)


@pytest.fixture
def net():
    return MLP((12, 9, 7, 3), seed=1)


@pytest.fixture
def X():
    return np.random.default_rng(0).random((200, 12)).astype(np.float32)


@pytest.fixture
def walks(monkeypatch):
    """The models that ``find_sites`` walked, in order, while the test ran (every module's
    reference to it is counted)."""
    real, walked = sites_module.find_sites, []

    def counting(model):
        walked.append(model)
        return real(model)

    for name, module in list(sys.modules.items()):
        if name.startswith("divnet_nb") and getattr(module, "find_sites", None) is real:
            monkeypatch.setattr(module, "find_sites", counting)
    return walked


def same_model(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_as_site_takes_an_index_or_a_site(net):
    sites = find_sites(net)
    assert as_site(net, 1) == sites[1] == site_for(net, np.int64(1))
    assert as_site(net, 0, sites) is sites[0]
    assert as_site(net, sites[1]) is sites[1]
    assert as_site(MLP((12, 3, 2, 3), seed=0), sites[1]) is sites[1]  # positions, any widths
    with pytest.raises(ValueError, match=r"hidden-layer index 0..1 \(hidden sizes \(9, 7\)\)"):
        as_site(net, 2, sites)
    with pytest.raises(ValueError, match="the site of hidden layer 1 .* is not in this model"):
        as_site(MLP((12, 9, 3), seed=0), sites[1])
    with pytest.raises(ValueError, match="is not in this model"):
        as_site(nn.Sequential(nn.Linear(12, 9), nn.Linear(9, 7), nn.Linear(7, 3)), sites[0])
    with pytest.raises(ValueError, match="is not in this model"):
        DenseSite(0, 0, 1, 2).check(nn.Linear(3, 3))


def test_every_entry_point_takes_a_site_and_gives_what_the_index_gives(net, X):
    site = find_sites(net)[1]
    for index_form, site_form in [
        (layer_statistics(net, 1, X).gram, layer_statistics(net, site, X).gram),
        (collect_activations(net, 1, X), collect_activations(net, site, X)),
        (importance_scores(net, 1), importance_scores(net, site)),
        (outgoing_weights(net, 1), outgoing_weights(net, site)),
        (edge_statistics(net, 1, X).stats.gram, edge_statistics(net, site, X).stats.gram),
    ]:
        np.testing.assert_array_equal(index_form, site_form)
    stats = layer_statistics(net, site, X)
    assert next_layer_error(net, 1, [0, 2, 4], X, stats) == next_layer_error(
        net, site, [0, 2, 4], X, stats
    )
    assert same_model(apply_pruning(net, 1, [1, 3], stats), apply_pruning(net, site, [1, 3], stats))
    for method in ("dpp", "swap"):
        assert same_model(
            prune_layer(net, 1, 4, method, True, 3, data=X),
            prune_layer(net, site, 4, method, True, 3, data=X),
        )
    assert same_model(
        prune_edges(net, 1, 5, "dpp", True, 2, data=X),
        prune_edges(net, site, 5, "dpp", True, 2, data=X),
    )
    small = prune_layer(net, 0, 5, "random", True, 0, data=X)
    for by_index, by_site in zip(
        cross_statistics(small, net, 1, X), cross_statistics(small, net, site, X), strict=True
    ):
        np.testing.assert_array_equal(
            getattr(by_index, "gram", by_index), getattr(by_site, "gram", by_site)
        )
    with pytest.raises(ValueError, match="is not in this model"):
        cross_statistics(small, MLP((12, 9, 3), seed=0), 1, X)


def test_prune_layer_resolves_its_layer_once(net, X, walks):
    for method in ("dpp", "swap", "importance"):
        walks.clear()
        prune_layer(net, 1, 4, method, True, 0, data=X)
        assert len(walks) == 1, method
    site = find_sites(net)[0]
    walks.clear()
    prune_layer(net, site, 4, "dpp", True, 0, data=X)
    assert walks == []  # a site is never looked up again
    walks.clear()
    next_layer_error(net, 0, [1, 2], X, layer_statistics(net, site, X))
    apply_pruning(net, 1, [1, 2])
    assert len(walks) == 2


@pytest.mark.parametrize("target", ["pruned", "original"])
def test_prune_network_resolves_each_layer_at_most_once(net, X, walks, target):
    n_layers = len(find_sites(net))
    for method, sizes in (("dpp", [5, 4]), ("swap", 0.5)):
        walks.clear()
        prune_network(net, sizes, method, True, 1, data=X, target=target)
        assert len(walks) <= n_layers, (method, len(walks))


def test_the_edge_path_walks_the_model_once(net, X, walks):
    site = as_site(net, 0)
    data = edge_statistics(net, site, X)
    masks = select_edge_masks("dpp", [3, 6], data, rng=0)
    for mask in masks.values():
        weights = reweight_edges(data.stats, mask, data.weights)
        site.mask_incoming(net, mask, weights)
        site.mask_incoming(net, mask)
    assert walks == [net]
    walks.clear()
    prune_edges(net, 1, 4, "magnitude", True, data=X)
    assert len(walks) == 1


def test_the_counter_sees_repeated_walks(net, X, walks):
    layer_statistics(net, 0, X)
    importance_scores(net, 0)
    outgoing_weights(net, 0)
    assert len(walks) == 3  # one per call with an index: why the entry points pass sites on
