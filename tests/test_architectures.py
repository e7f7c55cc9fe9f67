"""The architecture registry: builders, input shapes, recipes, and their cached training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from divnet_nb.datasets import load_dataset
from divnet_nb.nets import (
    CNN,
    ConvSite,
    DenseSite,
    architecture_names,
    error_rate,
    find_sites,
    get_architecture,
)
from divnet_nb.training import checkpoint_path, load_or_train, recipe_config


@pytest.mark.parametrize("name", architecture_names())
def test_every_architecture_builds_the_same_network_from_a_seed_and_reads_its_input_shape(name):
    arch = get_architecture(name)
    a, b, c = arch.build(3), arch.build(3), arch.build(4)
    same = all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    differ = any(not torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters(), strict=True))
    assert same and differ
    with torch.no_grad():
        assert a.eval()(torch.zeros(2, *arch.input_shape)).shape == (2, 10)
    kinds = {type(s) for s in find_sites(a)}
    assert kinds == ({DenseSite} if arch.sizes else {ConvSite, DenseSite})


def test_lenet5_caffe_is_the_l0_papers_network():
    net = get_architecture("lenet5-caffe").build(0)
    assert isinstance(net, CNN) and net.sizes == (20, 50, 500, 10)
    assert [s.width(net) for s in find_sites(net)] == [20, 50, 500]
    assert net[7].in_features == 800  # 50 channels of 4 x 4 after two 5x5 convs and pools


def test_inputs_turn_hwc_rows_into_chw_images():
    arch = get_architecture("cifar10-cnn")
    img = np.arange(32 * 32 * 3, dtype=np.float32).reshape(32, 32, 3)  # H, W, C
    x = arch.inputs(img.reshape(1, -1))
    assert x.shape == (1, 3, 32, 32) and x[0, 2, 5, 7] == img[5, 7, 2]
    with pytest.raises(ValueError, match=r"reads images of shape \(3, 32, 32\)"):
        arch.inputs(np.zeros((2, 784)))


def test_unknown_and_mismatched_architectures_are_refused_in_one_line():
    with pytest.raises(
        ValueError, match="unknown architecture 'lenet6'; registered: .*lenet5-caffe"
    ):
        get_architecture("lenet6")
    with pytest.raises(ValueError, match="'lenet5-caffe' is for mnist, not digits"):
        load_or_train(load_dataset("digits"), "lenet5-caffe", 0, cache=False, progress=False)


def test_a_table1_mlp_by_name_keeps_the_cache_key_of_its_sizes(tmp_path):
    digits = load_dataset("digits")
    arch = get_architecture("table1-digits")
    config = recipe_config(arch)
    by_sizes = checkpoint_path(digits, arch.sizes, 0, config, tmp_path)
    assert by_sizes.name.startswith("digits-64-100-100-10-seed0-")
    cnn = checkpoint_path(
        digits, "digits-cnn", 0, recipe_config(get_architecture("digits-cnn")), tmp_path
    )
    assert cnn.name.startswith("digits-digits-cnn-seed0-") and cnn != by_sizes


def test_a_cnn_trains_for_its_recipe_and_comes_back_from_the_cache(tmp_path):
    digits = load_dataset("digits")
    arch = get_architecture("digits-cnn")
    first = load_or_train(digits, "digits-cnn", 0, cache_root=tmp_path, progress=False)
    again = load_or_train(digits, "digits-cnn", 0, cache_root=tmp_path, progress=False)
    assert not first.from_cache and again.from_cache
    assert first.epochs == arch.recipe["max_epochs"] and "digits-cnn seed 0" in again.summary()
    for p, q in zip(
        first.model.state_dict().values(), again.model.state_dict().values(), strict=True
    ):
        assert torch.equal(p, q)
    assert error_rate(again.model, arch.inputs(digits.x_test), digits.y_test) < 0.06


@pytest.mark.parametrize("name", ["lenet5-caffe", "cifar10-cnn"])
def test_prune_network_halves_every_layer_of_the_registered_cnns(name):
    from divnet_nb.prune import prune_network

    arch = get_architecture(name)
    net = arch.build(0).eval()
    X = torch.rand(48, *arch.input_shape)
    widths = [s.width(net) for s in find_sites(net)]
    half = prune_network(net, 0.5, "importance", True, data=X)
    assert [s.width(half) for s in find_sites(half)] == [max(1, round(w / 2)) for w in widths]
    with torch.no_grad():
        assert half(X).shape == (48, 10) and torch.isfinite(half(X)).all()
