"""A layer's size chosen by the fusion error: the DPP's scale and its mode (core.sizes, the sized rules)."""

from __future__ import annotations

import warnings

import naive
import numpy as np
import pytest
import torch
from conftest import random_psd

import divnet_nb.core.sample
from divnet_nb import FusionWarning
from divnet_nb.core.dpp import eigendecompose, expected_size, scaling_factor
from divnet_nb.core.kernel import rbf_kernel_from_gram
from divnet_nb.core.objective import fusion_error
from divnet_nb.core.sample import greedy_map, sample_dpp
from divnet_nb.core.sizes import dpp_scale_for_error, map_for_error, map_gains, relative_errors
from divnet_nb.nets import MLP
from divnet_nb.prune import (
    get_method,
    outgoing_weights,
    prune_layer,
    prune_network,
    read_layer_data,
    select_neurons,
)
from divnet_nb.pruning.neuron.sizes import TOLERANCE, SizeWarning

SIZED = ("dpp-sized", "map-sized")


def layer(rng, n=8, n_samples=40, m=3):
    """Activations A, outgoing weights W, Gram matrix G and eq. 2's kernel L of a random layer."""
    A = rng.random((n_samples, n))
    W = rng.standard_normal((n, m))
    G = A.T @ A
    return A, W, G, rbf_kernel_from_gram(G, n_samples=n_samples)


def relative(A, W, keep):
    return naive.fusion_error(A, W, keep) / float(np.sum((A @ W) ** 2))


def shortest_prefix(A, W, order, tolerance):
    """(length, relative error, met) of the first prefix of ``order`` within ``tolerance``."""
    for t in range(1, len(order) + 1):
        error = relative(A, W, order[:t])
        if error <= tolerance:
            return t, error, True
    return len(order), error, False


def tolerances_between(errors):
    """One tolerance strictly inside each gap of a decreasing list of errors, and one above the first."""
    above = [(errors[0] + 1.0) / 2]
    return above + [(a + b) / 2 for a, b in zip(errors, errors[1:], strict=False) if a > b]


def dpp_oracle(L, G, W, seed, draws):
    """(gamma, mean relative error of the draws) for every expected size 1 .. rank - 1."""
    eig = eigendecompose(L)
    seeds = np.random.default_rng(seed).integers(2**63 - 1, size=draws)
    total = float(np.sum(W * (G @ W)))
    rows = []
    for mu in range(1, eig.rank):
        gamma = scaling_factor(eig.values, mu, "exact")
        samples = [sample_dpp(None, np.random.default_rng(s), eig=eig.scaled(gamma)) for s in seeds]
        rows.append((gamma, float(np.mean([fusion_error(G, W, S) / total for S in samples]))))
    return rows


# ---------------------------------------------------------------- map_gains
def test_map_gains_are_the_greedy_order_and_its_determinant_ratios(rng):
    for n in (6, 9, 14):
        _, _, G, L = layer(rng, n=n)
        order, gains = map_gains(L)
        assert sorted(order) == list(range(n))
        assert np.all(gains > 0) and np.all(np.diff(gains) <= 1e-12 * gains[0])
        dets = [np.linalg.det(L[np.ix_(order[:t], order[:t])]) for t in range(1, n + 1)]
        np.testing.assert_allclose(np.cumprod(gains), dets, rtol=1e-9)
        for t in range(1, n + 1):
            np.testing.assert_array_equal(np.sort(order[:t]), greedy_map(L, t))
        slow_order, slow_gains = naive.greedy_map_order(L, n)
        assert list(order) == slow_order
        np.testing.assert_allclose(gains, slow_gains, rtol=1e-9)


def test_map_gains_stop_at_the_rank_of_a_low_rank_kernel(rng):
    L = random_psd(rng, 10, rank=4)
    order, gains = map_gains(L)
    assert len(order) == len(gains) == 4 and np.all(gains > 0)
    slow_order, slow_gains = naive.greedy_map_order(L, 4)
    assert list(order) == slow_order
    np.testing.assert_allclose(gains, slow_gains, rtol=1e-8)


# ---------------------------------------------------------------- map_for_error
def test_map_for_error_keeps_the_shortest_greedy_prefix_within_the_tolerance(rng):
    for n in (6, 8, 12):
        A, W, G, L = layer(rng, n=n)
        order, gains = naive.greedy_map_order(L, n)
        errors = [relative(A, W, order[:t]) for t in range(1, n + 1)]
        tolerances = tolerances_between(errors)
        assert len(tolerances) >= n - 1  # every length is the answer for one of them
        for tol in tolerances:
            t, error, met = shortest_prefix(A, W, order, tol)
            choice = map_for_error(L, G, W, tol)
            np.testing.assert_array_equal(choice.keep, sorted(order[:t]))
            assert choice.keep.dtype == np.int64
            assert choice.expected_size == t and choice.met and met
            assert choice.gamma == pytest.approx(1.0 / gains[t - 1], rel=1e-9)
            assert choice.relative_error == pytest.approx(error, rel=1e-8, abs=1e-12)
            assert choice.relative_error <= tol


def test_map_for_error_keeps_more_at_a_smaller_tolerance_and_its_sets_are_nested(rng):
    _, W, G, L = layer(rng, n=12)
    choices = [map_for_error(L, G, W, tol) for tol in np.geomspace(0.6, 1e-5, 15)]
    sizes = [len(c.keep) for c in choices]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert [c.gamma for c in choices] == sorted(c.gamma for c in choices)
    for small, big in zip(choices, choices[1:], strict=False):
        assert set(small.keep) <= set(big.keep)


def test_map_for_error_does_not_meet_a_tolerance_beyond_a_low_rank_kernels_reach(rng):
    A, W, G, _ = layer(rng, n=8)
    L = random_psd(rng, 8, rank=3)  # the mode never has more than 3 items; G has rank 8
    order, gains = naive.greedy_map_order(L, 3)
    reachable = relative(A, W, order)
    choice = map_for_error(L, G, W, reachable / 2)
    np.testing.assert_array_equal(choice.keep, sorted(order))
    assert not choice.met and choice.expected_size == 3
    assert choice.relative_error == pytest.approx(reachable, rel=1e-8)
    assert choice.gamma == pytest.approx(1.0 / gains[2], rel=1e-8)
    assert map_for_error(L, G, W, min(1.5 * reachable, 0.99)).met


def test_map_for_error_stops_before_the_second_copy_of_a_duplicated_neuron(rng):
    A, W, _, _ = layer(rng, n=8)
    A[:, 5] = A[:, 2]
    G = A.T @ A
    L = rbf_kernel_from_gram(G, n_samples=A.shape[0])
    order, _ = map_gains(L)
    assert set(order[-1:]) <= {2, 5}  # the copy adds only the kernel's eps: it comes last
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FusionWarning)  # the full set's G_SS is singular
        choice = map_for_error(L, G, W, 1e-5)  # above the ~1e-7 that the ridge leaves there
    assert choice.met and choice.relative_error <= 1e-12
    np.testing.assert_array_equal(choice.keep, np.sort(order[:-1]))


def test_relative_errors_are_the_fusion_error_over_the_output_energy(rng):
    A, W, G, _ = layer(rng, n=9)
    keeps = [[], [0], [1, 4, 6], list(range(8)), list(range(9))]
    errors = relative_errors(G, W, keeps)
    total = float(np.sum((A @ W) ** 2))
    assert errors[0] == 1.0 and errors[-1] == pytest.approx(0.0, abs=1e-12)
    for keep, error in zip(keeps, errors, strict=True):
        assert error == pytest.approx(fusion_error(G, W, keep) / total, rel=1e-9, abs=1e-12)
        assert error == pytest.approx(relative(A, W, keep), rel=1e-7, abs=1e-12)


# ---------------------------------------------------------------- dpp_scale_for_error
def test_dpp_scale_for_error_is_the_smallest_expected_size_whose_draws_meet_the_tolerance(rng):
    draws = 6
    for seed in (0, 3):
        _, W, G, L = layer(rng, n=8)
        rows = dpp_oracle(L, G, W, seed, draws)
        errors = [e for _, e in rows]
        assert np.all(np.diff(errors) < 0)  # the fixture: bisection's assumption holds
        eig = eigendecompose(L)
        answers = [(tol, 1 + sum(e > tol for e in errors)) for tol in tolerances_between(errors)]
        answers.append((errors[-1] / 2, len(errors)))  # never met: the largest size tried
        assert sorted({mu for _, mu in answers}) == list(range(1, eig.rank))
        for tol, mu in answers:
            choice = dpp_scale_for_error(L, G, W, tol, seed, draws=draws)
            assert choice.expected_size == mu
            assert choice.met == (errors[-1] <= tol)
            assert choice.gamma == pytest.approx(rows[mu - 1][0], rel=1e-12)
            assert choice.relative_error == pytest.approx(errors[mu - 1], rel=1e-8, abs=1e-12)
            assert expected_size(eig.scaled(choice.gamma)) == pytest.approx(mu, rel=1e-6)
            assert choice.keep.size == 0


def test_dpp_scale_for_error_draws_its_seeds_from_rng_and_repeats_with_them(rng):
    _, W, G, L = layer(rng, n=8)
    first = dpp_scale_for_error(L, G, W, 0.05, 11, draws=5)
    again = dpp_scale_for_error(L, G, W, 0.05, 11, draws=5)
    generator = np.random.default_rng(11)
    from_eig = dpp_scale_for_error(None, G, W, 0.05, generator, draws=5, eig=eigendecompose(L))
    for other in (again, from_eig):
        assert (other.gamma, other.expected_size, other.relative_error, other.met) == (
            first.gamma, first.expected_size, first.relative_error, first.met,
        )  # fmt: skip
    reference = np.random.default_rng(11)
    reference.integers(2**63 - 1, size=5)
    assert generator.integers(2**63 - 1) == reference.integers(2**63 - 1)  # drew 5 seeds, no more


def test_dpp_scale_for_error_cannot_pass_the_rank_of_a_low_rank_kernel(rng):
    _, W, G, _ = layer(rng, n=8)
    L = random_psd(rng, 8, rank=3)
    low = dpp_scale_for_error(L, G, W, 1e-6, 0, draws=4)
    assert low.expected_size == 2 and not low.met and low.relative_error > 1e-6
    assert dpp_scale_for_error(L, G, W, 0.99, 0, draws=4).expected_size == 1


# ---------------------------------------------------------------- bad input
def search(name, L, G, W, tolerance=0.1, **kwargs):
    if name == "map":
        return map_for_error(L, G, W, tolerance)
    return dpp_scale_for_error(L, G, W, tolerance, 0, **kwargs)


@pytest.mark.parametrize("name", ["map", "dpp"])
def test_bad_input_is_refused_with_a_clear_message(rng, name):
    _, W, G, L = layer(rng, n=8)
    for tolerance in (0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="tolerance must be finite and > 0"):
            search(name, L, G, W, tolerance)
    for tolerance in (1, 1.0, 2.5):
        with pytest.raises(ValueError, match=r"tolerance must be in \(0, 1\)"):
            search(name, L, G, W, tolerance)
    with pytest.raises(ValueError, match="tolerance must be a finite real number"):
        search(name, L, G, W, "0.1")
    with pytest.raises(ValueError, match=r"W must have one row per neuron \(8\); got 9"):
        search(name, L, G, np.ones((9, 3)))
    with pytest.raises(ValueError, match=r"output energy tr\(W\^T G W\) is 0"):
        search(name, L, G, np.zeros_like(W))
    with pytest.raises(ValueError, match=r"output energy tr\(W\^T G W\) is 0"):
        search(name, L, np.zeros_like(G), W)  # a dead layer
    with pytest.raises(ValueError, match="L and G must be over the same neurons; got 7 and 8"):
        search(name, L[:7, :7], G, W)


def test_bad_input_to_the_helpers_is_refused_with_a_clear_message(rng):
    _, W, G, L = layer(rng, n=8)
    for draws in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="draws must be an integer >= 1"):
            dpp_scale_for_error(L, G, W, 0.1, 0, draws=draws)
    with pytest.raises(ValueError, match="the kernel has rank 1"):
        dpp_scale_for_error(np.ones((8, 8)), G, W, 0.1, 0)
    with pytest.raises(ValueError, match="L is zero"):
        map_gains(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="output energy"):
        relative_errors(G, np.zeros_like(W), [[0]])


# ---------------------------------------------------------------- the rules
@pytest.fixture
def net():
    torch.manual_seed(0)
    return MLP((12, 9, 7, 3), seed=1, activation="relu").double()


@pytest.fixture
def X():
    return np.random.default_rng(0).standard_normal((300, 12))


def output_change(model, pruned, X):
    """||pruned(X) - model(X)||^2 over ||model(X) - b||^2: the last layer's relative input change."""
    x = torch.from_numpy(X)
    with torch.no_grad():
        z = model(x)
        change = float(((pruned(x) - z) ** 2).sum())
        return change / float(((z - model.linears[-1].bias) ** 2).sum())


def test_sized_rules_are_registered_to_choose_their_own_size():
    for name in SIZED:
        method = get_method(name, "neuron")
        assert not method.sized and method.options == ("tolerance",)
        assert {"kernel", "weights"} <= set(method.needs)


@pytest.mark.parametrize("method", SIZED)
def test_sized_rules_keep_between_one_and_all_neurons_of_every_layer(net, X, method):
    pruned, keeps = prune_network(net, None, method, rng=0, data=X, return_keep=True)
    assert [len(k) for k in keeps] == list(pruned.sizes[1:-1])
    assert all(1 <= len(k) <= n for k, n in zip(keeps, (9, 7), strict=True))
    again = prune_network(net, None, method, rng=0, data=X, return_keep=True)[1]
    assert all(np.array_equal(a, b) for a, b in zip(keeps, again, strict=True))
    assert 1 <= prune_layer(net, 1, None, method, rng=0, data=X).sizes[2] <= 7
    with pytest.raises(ValueError, match="pass k=None"):
        prune_layer(net, 0, 3, method, rng=0, data=X)
    with pytest.raises(ValueError, match="pass k=None"):
        prune_network(net, 0.5, method, rng=0, data=X)
    with pytest.raises(ValueError, match=r"tolerance must be in \(0, 1\)"):
        prune_layer(net, 0, None, method, rng=0, data=X, tolerance=1.5)
    with pytest.raises(ValueError, match="takes no option"):
        prune_layer(net, 0, None, method, rng=0, data=X, tol=0.1)


def test_map_sized_is_map_for_error_and_keeps_more_at_a_smaller_tolerance(net, X):
    data = read_layer_data(net, 1, X).with_inputs(weights=outgoing_weights(net, 1))
    sizes = []
    for tol in (0.3, 0.1, 0.01, 1e-3):
        keep = select_neurons("map-sized", None, data, tolerance=tol)
        expected = map_for_error(data.kernel, data.gram, data.weights, tol).keep
        np.testing.assert_array_equal(keep, expected)
        sizes.append(prune_layer(net, 1, None, "map-sized", data=X, tolerance=tol).sizes[2])
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    default = prune_layer(net, 1, None, "map-sized", data=X).sizes
    assert default == prune_layer(net, 1, None, "map-sized", data=X, tolerance=TOLERANCE).sizes


def test_map_sized_fused_layer_loses_at_most_the_tolerance(net, X):
    data = read_layer_data(net, 1, X).with_inputs(weights=outgoing_weights(net, 1))
    for tol in (0.3, 0.05, 0.01, 1e-3):
        pruned = prune_layer(net, 1, None, "map-sized", data=X, tolerance=tol)
        choice = map_for_error(data.kernel, data.gram, data.weights, tol)
        assert pruned.sizes[2] == len(choice.keep) < 7
        assert output_change(net, pruned, X) == pytest.approx(choice.relative_error, rel=1e-6)
        assert output_change(net, pruned, X) <= tol


def test_dpp_sized_draws_one_sample_at_the_chosen_scale(net, X):
    data = read_layer_data(net, 1, X).with_inputs(weights=outgoing_weights(net, 1))
    for seed in range(3):
        keep = select_neurons(
            "dpp-sized", None, data, rng=np.random.default_rng(seed), tolerance=0.05
        )
        generator = np.random.default_rng(seed)
        choice = dpp_scale_for_error(None, data.gram, data.weights, 0.05, generator, eig=data.eig)
        np.testing.assert_array_equal(
            keep, sample_dpp(None, generator, eig=data.eig.scaled(choice.gamma))
        )


def test_an_empty_dpp_sample_keeps_the_neuron_with_the_largest_kernel_diagonal(net, X, monkeypatch):
    monkeypatch.setattr(divnet_nb.core.sample, "sample_dpp", lambda *a, **k: np.empty(0, np.int64))
    with pytest.warns(SizeWarning, match="was empty; kept one neuron"):
        pruned = prune_layer(net, 1, None, "dpp-sized", rng=0, data=X)
    assert pruned.sizes == (12, 9, 1, 3)
    data = read_layer_data(net, 0, X, kernel="linear").with_inputs(weights=outgoing_weights(net, 0))
    largest = int(np.argmax(np.diag(data.kernel)))
    assert largest != 0  # the fixture: the fallback is not simply the first neuron
    with pytest.warns(SizeWarning, match=f"the largest kernel diagonal, {largest}"):
        keep = select_neurons("dpp-sized", None, data, rng=0)
    np.testing.assert_array_equal(keep, [largest])


def test_met_says_whether_the_returned_set_meets_the_tolerance_even_below_the_ridge_floor(rng):
    """With a duplicated neuron the full set carries the ridge's ~1e-7; the returned prefix
    without the copy loses nothing, and ``met`` is about that prefix."""
    A, W, _, _ = layer(rng, n=8)
    A[:, 5] = A[:, 2]
    G = A.T @ A
    L = rbf_kernel_from_gram(G, n_samples=A.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FusionWarning)
        choice = map_for_error(L, G, W, 1e-9)
    assert choice.met == (choice.relative_error <= 1e-9)
    assert choice.met and choice.keep.size == 7


def test_dpp_sized_keeps_a_layer_of_one_neuron(net, X):
    one = prune_network(net, [1, 7], "greedy-map", data=X)
    again = prune_network(one, None, "dpp-sized", rng=0, data=X)
    assert again.hidden_sizes[0] == 1


def test_the_dpp_error_curve_is_what_the_scale_search_bisects(rng):
    from divnet_nb.core.sizes import dpp_error_curve

    A, W, G, L = layer(rng, n=10)
    choice = dpp_scale_for_error(L, G, W, 0.05, 3, draws=6)
    gammas, errors = dpp_error_curve(L, G, W, range(1, 10), 3, draws=6)
    mu = int(choice.expected_size)
    assert gammas[mu - 1] == choice.gamma and errors[mu - 1] == choice.relative_error
    assert choice.met == (errors[mu - 1] <= 0.05) and (mu == 1 or errors[mu - 2] > 0.05)
    np.testing.assert_allclose([expected_size(eigendecompose(g * L)) for g in gammas], range(1, 10))
    with pytest.raises(ValueError, match="same neurons"):
        dpp_error_curve(L, G[:5, :5], W[:5], [1])
