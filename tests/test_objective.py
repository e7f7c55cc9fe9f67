"""The fusion objective E(S) and the rules that minimise it (greedy, swaps, ID, quality-diversity k-DPP)."""

from __future__ import annotations

import itertools
import warnings

import naive
import numpy as np
import pytest
import scipy.linalg
import torch

from divnet_nb import FusionWarning, GramAccumulator, inclusion_probabilities
from divnet_nb.core.objective import (
    backward_path,
    exchange_deltas,
    forward_path,
    fusion_error,
    pivoted_cholesky,
    swap_search,
)
from divnet_nb.nets import MLP
from divnet_nb.pruning import (
    LayerData,
    apply_pruning,
    layer_statistics,
    quality_diversity_kernel,
    select_neurons,
)


def layer(rng, n_samples=60, n=9, m=4):
    A = rng.random((n_samples, n))
    return A, rng.standard_normal((n, m))


def test_fusion_error_is_the_least_squares_residual(rng):
    A, W = layer(rng)
    for keep in ([0], [1, 4, 6], list(range(8))):
        assert fusion_error(A.T @ A, W, keep) == pytest.approx(naive.fusion_error(A, W, keep))
    assert fusion_error(A.T @ A, W, []) == pytest.approx(np.sum((A @ W) ** 2))


def test_fusion_error_is_the_change_of_the_next_layers_input_on_a_real_layer():
    """The identity behind every rule: after fusion, ||z' - z||^2 = tr(W^T C(S) W), to 1e-8."""
    net = MLP((30, 40, 10), seed=0).double()
    X = torch.rand(3000, 30, dtype=torch.float64)
    stats = layer_statistics(net, 0, X)
    keep = np.arange(0, 40, 3)
    pruned = apply_pruning(net, 0, keep, stats)
    with torch.no_grad():
        change = float(((pruned(X) - net(X)) ** 2).sum())  # the last layer is linear: z itself
    W = net[2].weight.detach().numpy().T
    assert fusion_error(stats.gram, W, keep) == pytest.approx(change, rel=1e-8)


def test_greedy_paths_pick_what_recomputing_from_scratch_picks(rng):
    for _ in range(4):
        A, W = layer(rng)
        G = A.T @ A
        forward, f_err = forward_path(G, W)
        backward, b_err = backward_path(G, W)
        for k in (1, 3, 6):
            assert sorted(forward[:k]) == sorted(naive.greedy_forward(A, W, k))
            assert f_err[k] == pytest.approx(naive.fusion_error(A, W, forward[:k]))
            kept = sorted(set(range(9)) - set(backward[: 9 - k]))
            assert kept == naive.greedy_backward(A, W, k)
            assert b_err[9 - k] == pytest.approx(naive.fusion_error(A, W, kept))


def test_exchange_scores_and_swaps_never_raise_the_error(rng):
    A, W = layer(rng, n=8, m=3)
    G = A.T @ A
    S = [1, 4, 6]
    delta, removed, E = exchange_deltas(G, W, S)
    for a, i in enumerate(S):
        for b, j in enumerate(removed):
            new = sorted(set(S) - {i} | {j})
            assert E + delta[a, b] == pytest.approx(naive.fusion_error(A, W, new))
    improved = 0
    for _ in range(6):
        A, W = layer(rng)
        G = A.T @ A
        for k in (2, 4, 7):
            start = forward_path(G, W, k)[0]
            keep, err, swaps = swap_search(G, W, start)
            assert err <= naive.fusion_error(A, W, start) + 1e-9
            assert err == pytest.approx(naive.fusion_error(A, W, keep))
            best = min(naive.fusion_error(A, W, c) for c in itertools.combinations(range(9), k))
            assert err >= best - 1e-9
            improved += swaps > 0
    assert improved  # the search does move, sometimes


def test_swaps_end_at_a_one_exchange_local_optimum_beyond_the_candidate_round(rng):
    from divnet_nb.core.objective import SWAP_CANDIDATES, SWAP_REFRESH

    n, k = 120, 50  # 70 removed neurons: more than one candidate round scores
    assert n - k > SWAP_CANDIDATES
    A = rng.standard_normal((600, n))
    W = rng.standard_normal((n, 6)) * rng.random((n, 1)) ** 3  # weights of very unequal size
    G = A.T @ A
    start = rng.choice(n, k, replace=False)  # a random start: many exchanges to make
    keep, err, swaps = swap_search(G, W, start)
    assert swaps > SWAP_REFRESH  # the state was refreshed on the way
    delta, _, E = exchange_deltas(G, W, keep)
    assert E == pytest.approx(err, rel=1e-9)
    assert delta.min() >= -1e-9 * E  # no exchange lowers E any more
    one, _, made = swap_search(G, W, start, max_swaps=1)
    assert made == 1 and err <= fusion_error(G, W, one) < fusion_error(G, W, start)
    assert swap_search(G, W, start, max_swaps=0)[2] == 0
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="max_swaps"):
            swap_search(G, W, start, max_swaps=bad)


def test_wholly_dead_layers_and_blocks_give_zero_costs_not_nan(rng):
    W = rng.standard_normal((4, 2))
    _, errors = backward_path(np.zeros((4, 4)), W)
    assert np.array_equal(errors, np.zeros(4))  # E = 0 whatever is kept
    A = rng.random((50, 4))
    A[:, :2] = 0.0  # neurons 0 and 1 dead
    G = A.T @ A
    delta, removed, E = exchange_deltas(G, W, [0, 1])
    assert np.all(np.isfinite(delta))
    for a, i in enumerate([0, 1]):
        for b, j in enumerate(removed):
            new = sorted({0, 1} - {i} | {j})
            assert E + delta[a, b] == pytest.approx(naive.fusion_error(A, W, new))
    keep, err, _ = swap_search(G, W, [0, 1])
    assert sorted(keep.tolist()) == [2, 3]
    assert err == pytest.approx(naive.fusion_error(A, W, [2, 3]))


def test_bad_shapes_and_counts_are_one_line_errors(rng):
    from divnet_nb.core.objective import centred_gram

    with pytest.raises(ValueError, match="square"):
        pivoted_cholesky(rng.random((4, 3)), 2)
    with pytest.raises(ValueError, match="n_samples"):
        centred_gram(np.eye(3), np.ones(3), 0)


def test_id_pivots_are_those_of_a_pivoted_qr(rng):
    A = rng.random((200, 12)) @ np.diag(np.linspace(0.5, 3, 12))
    _, _, qr_pivots = scipy.linalg.qr(A, pivoting=True)
    assert pivoted_cholesky(A.T @ A, 6).tolist() == qr_pivots[:6].tolist()


def layer_data(A, W):
    stats = GramAccumulator().update(A)
    return LayerData(stats).with_inputs(weights=W, importance=np.abs(W).mean(axis=1))


@pytest.mark.parametrize(
    "method", ["greedy-ls", "swap", "qd-dpp", "qd-greedy", "qd-best", "id", "id-centred"]
)
def test_dead_and_duplicate_neurons_k_1_and_k_n_give_no_nan(method, rng):
    A = rng.random((100, 10))
    A[:, 3] = 0.0  # dead
    A[:, 7] = A[:, 2]  # duplicate
    W = rng.standard_normal((10, 5))
    data = layer_data(A, W)
    for k in (1, 4, 9, 10):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FusionWarning)  # the documented ridge may be needed
            keep = select_neurons(method, k, data, rng=0)
        assert keep.size == k and len(set(keep.tolist())) == k
        if k <= 8 and method in ("greedy-ls", "swap"):
            assert 3 not in keep and not {2, 7} <= set(keep.tolist())  # both add nothing


def test_a_singular_gram_block_warns_instead_of_failing(rng):
    A = rng.random((50, 6))
    A[:, 5] = A[:, 0]
    with pytest.warns(FusionWarning, match="singular"):
        backward_path(A.T @ A, rng.standard_normal((6, 2)))


def test_quality_diversity_kernel_is_psd_and_its_samples_have_the_exact_marginals(rng):
    A = rng.random((500, 7)) * np.array([0.1, 1, 2, 0.5, 3, 1, 0.2])
    W = rng.standard_normal((7, 4))
    data = layer_data(A, W)
    L = quality_diversity_kernel(data)
    assert np.linalg.eigvalsh(L).min() > -1e-10
    q = np.linalg.norm(W, axis=1) * A.std(axis=0)
    np.testing.assert_allclose(np.diag(L), q**2 * (1 + 0.01), rtol=1e-9)
    k, draws = 3, 6000
    gen = np.random.default_rng(1)
    counts = np.zeros(7)
    for _ in range(draws):
        counts[select_neurons("qd-dpp", k, data, rng=gen)] += 1
    p = inclusion_probabilities(L, k)
    z = (counts / draws - p) / np.sqrt(p * (1 - p) / draws)
    assert np.abs(z).max() < 4.5
    uniform = np.full(7, k / 7)
    assert np.abs((uniform - p) / np.sqrt(p * (1 - p) / draws)).max() > 10  # marginals are not flat
