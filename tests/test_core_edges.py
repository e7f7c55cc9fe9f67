"""DPP edge pruning's numerical core: the kernel over edges from one Gram matrix, the sampler, reweighting."""

from __future__ import annotations

import numpy as np
import pytest

from divnet_nb.core.dpp import inclusion_probabilities
from divnet_nb.core.edges import (
    dpp_edge_masks,
    edge_eigendecomposition,
    edge_gram,
    edge_kernel,
    median_beta,
    reweight_edge_weights,
    sample_edges,
    shifted_gram,
)
from divnet_nb.core.kernel import rbf_kernel


@pytest.fixture
def layer():
    rng = np.random.default_rng(7)
    X = rng.random((60, 9))
    X[:, 4] = 0.0  # a dead input (MNIST's border pixels)
    X[:, 5] = X[:, 6]  # two identical inputs
    W = rng.standard_normal((4, 9))
    return X, W


def test_the_edge_kernel_is_divnets_kernel_over_the_edges_contributions(layer):
    X, W = layer
    G = X.T @ X
    for h in range(W.shape[0]):
        C = X * W[h]  # column a: input a's contribution to unit h over the data
        np.testing.assert_allclose(edge_gram(G, W[h]), C.T @ C, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            edge_kernel(G, W[h], n_samples=60), rbf_kernel(C), rtol=1e-10, atol=1e-12
        )
        np.testing.assert_allclose(
            edge_kernel(G, W[h], beta=0.3, eps=0.2), rbf_kernel(C, beta=0.3, eps=0.2), atol=1e-12
        )


@pytest.mark.parametrize("k", [2, 6])  # 6 > d / 2: the sampler takes the complement route
def test_sampled_edges_follow_the_exact_k_dpp_marginals(k):
    rng = np.random.default_rng(3)
    X = rng.random((40, 8))
    w = rng.standard_normal(8)
    G = X.T @ X
    L = edge_kernel(G, w, beta=0.05)
    exact = inclusion_probabilities(L, k)
    eig = edge_eigendecomposition(G, w, beta=0.05)
    n = 6000
    counts = np.zeros(8)
    draws = np.random.default_rng(11)
    for _ in range(n):
        picked = sample_edges(eig, k, draws)
        assert picked.size == k and np.all(np.diff(picked) > 0)
        counts[picked] += 1
    se = np.sqrt(exact * (1 - exact) / n)
    assert np.all(np.abs(counts / n - exact) <= 4 * se + 1e-12), (counts / n, exact)
    assert np.ptp(exact) > 10 * se.max()  # the kernel is far from uniform: the test has teeth


def test_sampled_edge_sets_follow_the_exact_subset_probabilities():
    """On 5 edges, every 3-subset's frequency against det(L_S) / e_3 (the complement route)."""
    from itertools import combinations

    rng = np.random.default_rng(5)
    X = rng.random((30, 5))
    w = rng.standard_normal(5) * 2
    G = X.T @ X
    L = edge_kernel(G, w, beta=0.1)
    subsets = list(combinations(range(5), 3))
    dets = np.array([np.linalg.det(L[np.ix_(s, s)]) for s in subsets])
    exact = dets / dets.sum()
    eig = edge_eigendecomposition(G, w, beta=0.1)
    draws = np.random.default_rng(0)
    n = 8000
    freq = np.zeros(len(subsets))
    index = {s: i for i, s in enumerate(subsets)}
    for _ in range(n):
        freq[index[tuple(sample_edges(eig, 3, draws))]] += 1
    se = np.sqrt(exact * (1 - exact) / n)
    assert np.all(np.abs(freq / n - exact) <= 4 * se + 1e-12)


def test_layer_masks_keep_exactly_k_edges_and_a_seed_repeats_them(layer):
    X, W = layer
    G = X.T @ X
    masks = dpp_edge_masks(G, W, [7, 2, 7], rng=4, n_samples=60)
    assert sorted(masks) == [2, 7]
    for k, mask in masks.items():
        assert mask.dtype == bool and mask.shape == W.shape
        assert np.all(mask.sum(axis=1) == k)
    again = dpp_edge_masks(G, W, [2, 7], rng=4, n_samples=60)
    assert all(np.array_equal(masks[k], again[k]) for k in masks)
    ticks = []
    dpp_edge_masks(G, W, 3, rng=0, n_samples=60, progress=ticks.append)
    assert ticks == [1] * W.shape[0]


def test_identical_contributions_are_rarely_kept_together():
    """Two inputs with the same contribution to a unit: a k-DPP keeps both only as often as det allows."""
    rng = np.random.default_rng(2)
    X = rng.random((50, 6))
    X[:, 1] = X[:, 0]
    w = np.ones(6)
    G = X.T @ X
    masks = dpp_edge_masks(G, np.tile(w, (400, 1)), 3, rng=1, n_samples=50)[3]
    both = np.mean(masks[:, 0] & masks[:, 1])
    L = edge_kernel(G, w, n_samples=50)
    from itertools import combinations

    subsets = list(combinations(range(6), 3))
    dets = np.array([np.linalg.det(L[np.ix_(s, s)]) for s in subsets])
    exact = dets[[0 in s and 1 in s for s in subsets]].sum() / dets.sum()
    assert exact < 0.1 and abs(both - exact) <= 4 * np.sqrt(exact * (1 - exact) / 400) + 0.01


def test_reweighting_is_least_squares_over_each_units_live_kept_inputs(layer):
    X, W = layer
    G = X.T @ X
    mask = np.zeros(W.shape, dtype=bool)
    mask[:, [0, 2, 4, 5, 8]] = True  # 4 is dead; the kept 5 duplicates the removed 6
    out = reweight_edge_weights(G, mask, W)
    assert not out[~mask].any()
    live_keep = [0, 2, 5, 8]
    for h in range(W.shape[0]):
        removed = [1, 3, 6, 7]
        target = X[:, removed] @ W[h, removed]
        delta = np.linalg.lstsq(X[:, live_keep], target, rcond=None)[0]
        np.testing.assert_allclose(out[h, live_keep], W[h, live_keep] + delta, atol=1e-9)
        assert out[h, 4] == W[h, 4]  # a dead kept input keeps its weight
        # the unit's input over the data is reproduced as well as least squares can
        full = X @ W[h]
        assert np.linalg.norm(X @ out[h] - full) <= np.linalg.norm(
            X @ np.where(mask[h], W[h], 0) - full
        )


def test_bad_input_is_one_line_and_names_the_argument(layer):
    X, W = layer
    G = X.T @ X
    cases = [
        (lambda: dpp_edge_masks(G, W, 0, n_samples=60), "k must satisfy"),
        (lambda: dpp_edge_masks(G, W, 10, n_samples=60), "k must satisfy"),
        (lambda: dpp_edge_masks(G, W, [], n_samples=60), "ks must name"),
        (lambda: dpp_edge_masks(G, W[:, :5], 2, n_samples=60), "W must have one column per input"),
        (lambda: dpp_edge_masks(G, W * np.nan, 2, n_samples=60), "W"),
        (lambda: edge_kernel(G, W[0]), "n_samples"),
        (lambda: edge_gram(G, W[0, :3]), "w must have 9 entries"),
        (lambda: reweight_edge_weights(G, np.ones((2, 9), bool), W), "mask must be a boolean"),
        (lambda: sample_edges(np.eye(3), 1), "eig must be an Eigendecomposition"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message) as info:
            call()
        assert "\n" not in str(info.value)


def test_the_shifted_gram_is_the_gram_of_the_shifted_inputs(layer):
    X, _ = layer
    G, sums = X.T @ X, X.sum(axis=0)
    for c in (0.0, 0.1307, X.mean(), -2.0):
        assert np.allclose(shifted_gram(G, sums, X.shape[0], c), (X - c).T @ (X - c))
    with pytest.raises(ValueError, match="sums must have 9 entries"):
        shifted_gram(G, sums[:3], X.shape[0], 0.1)
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        shifted_gram(G, sums, 0, 0.1)


def test_the_median_bandwidth_is_one_over_the_median_pairwise_squared_distance(layer):
    from scipy.spatial.distance import pdist

    X, W = layer
    C = X * W[0]  # column a: input a's contribution to unit 0
    expected = 1.0 / np.median(pdist(C.T, "sqeuclidean"))
    assert median_beta(edge_gram(X.T @ X, W[0])) == pytest.approx(expected, rel=1e-10)
    # half the off-diagonal entries of its kernel are above exp(-1), half below
    L = edge_kernel(X.T @ X, W[0], beta="median", eps=0.0)
    off = L[np.triu_indices(9, 1)]
    assert np.mean(off > np.exp(-1.0) + 1e-12) <= 0.5 <= np.mean(off >= np.exp(-1.0) - 1e-12)
    assert np.allclose(L, rbf_kernel(C, beta=expected, eps=0.0))
    # mostly coinciding contributions: the median of the pairs that differ
    Z = np.zeros((5, 6))
    Z[:, 0] = np.arange(5.0)
    assert median_beta(Z.T @ Z) == pytest.approx(1.0 / 30.0)
    with pytest.raises(ValueError, match="same contribution"):
        median_beta(np.zeros((4, 4)))
    with pytest.raises(ValueError, match='beta must be a positive number, None or "median"'):
        edge_kernel(X.T @ X, W[0], beta="mean")


def test_per_unit_median_bandwidths_reach_the_layer_sampler(layer):
    X, W = layer
    G = X.T @ X
    masks = dpp_edge_masks(G, W, [3], np.random.default_rng(0), beta="median")
    again = np.zeros_like(masks[3])
    rng = np.random.default_rng(0)
    for h in range(W.shape[0]):  # the same draws, unit by unit, with each unit's own beta
        beta = median_beta(edge_gram(G, W[h]))
        eig = edge_eigendecomposition(G, W[h], beta=beta)
        again[h, sample_edges(eig, 3, rng)] = True
    assert np.array_equal(masks[3], again)
