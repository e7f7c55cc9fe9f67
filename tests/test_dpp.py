"""Exact DPP quantities: eigendecomposition, expected size, scaling, ESPs, marginals, likelihood."""

from __future__ import annotations

import math

import naive
import numpy as np
import pytest
from conftest import random_psd

from divnet_nb import (
    Eigendecomposition,
    eigendecompose,
    expected_size,
    inclusion_probabilities,
    log_elementary_symmetric,
    log_likelihood,
    marginal_kernel,
    rbf_kernel,
    scale_to_size,
    scaling_factor,
)


def test_eigendecompose_reconstructs_and_zeroes_round_off(rng):
    L = random_psd(rng, 30, rank=12)
    eig = eigendecompose(L)
    assert isinstance(eig, Eigendecomposition)
    np.testing.assert_allclose((eig.vectors * eig.values) @ eig.vectors.T, L, atol=1e-12)
    assert eig.rank == 12
    assert np.count_nonzero(eig.values == 0.0) == 18
    np.testing.assert_allclose(eig.scaled(3.0).values, 3.0 * eig.values)
    values, vectors = eig  # unpacks like a pair
    assert values is eig.values and vectors is eig[1] and len(eig) == 2
    with pytest.raises(ValueError, match="read-only"):
        eig.values[0] = 1.0
    assert "rank=12" in repr(eig)


def test_esp_table_is_cached_and_sliced(rng):
    eig = eigendecompose(random_psd(rng, 40))
    big = eig.log_esp_table(20)
    small = eig.log_esp_table(5)
    assert small.shape == (41, 6) and small.flags.c_contiguous
    np.testing.assert_allclose(small[-1], log_elementary_symmetric(eig.values, 5), rtol=1e-13)
    larger = eig.log_esp_table(30)
    assert larger.shape == (41, 31)
    np.testing.assert_allclose(larger[:, :21], big, rtol=1e-13)
    assert eig.log_esp_table(30) is larger  # cached


def test_user_built_eigendecomposition_is_checked(rng):
    L = random_psd(rng, 6)
    w, V = np.linalg.eigh(L)
    eig = Eigendecomposition(w, V)
    np.testing.assert_allclose(eig.values, eigendecompose(L).values, atol=1e-12)
    assert eig.vectors is not V  # a private, read-only copy
    with pytest.raises(ValueError, match="vectors must have orthonormal columns"):
        Eigendecomposition(w, 2 * V)


def test_expected_size_matches_trace_formula(rng):
    L = random_psd(rng, 12)
    assert expected_size(L) == pytest.approx(naive.expected_size(L), rel=1e-12)
    assert expected_size(eigendecompose(L)) == pytest.approx(naive.expected_size(L), rel=1e-12)
    probs = naive.dpp_probabilities(L[:8, :8])
    assert expected_size(L[:8, :8]) == pytest.approx(
        sum(p * len(Y) for Y, p in probs.items()), rel=1e-10
    )


def test_marginal_kernel(rng):
    L = random_psd(rng, 10)
    np.testing.assert_allclose(marginal_kernel(L), L @ np.linalg.inv(L + np.eye(10)), atol=1e-12)


def test_paper_scaling_formula(rng):
    L = rbf_kernel(rng.random((200, 40)))
    n, k = 40, 10
    k_prime = naive.expected_size(L)
    scaled, gamma = scale_to_size(L, k)
    assert gamma == pytest.approx(k / (n - k) * (n - k_prime) / k_prime, rel=1e-12)
    np.testing.assert_allclose(scaled, gamma * L)


def test_paper_scaling_is_exact_for_equal_eigenvalues():
    L = 0.7 * np.eye(20)
    scaled, _ = scale_to_size(L, 5, method="paper")
    assert expected_size(scaled) == pytest.approx(5.0, rel=1e-12)


@pytest.mark.parametrize("k", [1, 7, 25, 38])
def test_exact_scaling_hits_k(rng, k):
    L = rbf_kernel(rng.random((500, 40)))
    result = scale_to_size(L, k, method="exact")
    assert abs(expected_size(result.kernel) - k) <= 1e-8 * k
    assert result.gamma > 0


def test_exact_scaling_on_rank_deficient_kernel(rng):
    L = random_psd(rng, 60, rank=20)
    gamma = scaling_factor(eigendecompose(L).values, 19, "exact")
    assert abs(expected_size(gamma * L) - 19) <= 1e-8 * 19
    with pytest.raises(ValueError, match="below the kernel's numerical rank 20"):
        scaling_factor(eigendecompose(L).values, 20, "exact")


def test_log_esp_matches_enumeration(rng):
    values = rng.random(9) * 3
    expected = naive.elementary_symmetric(values, 9)
    np.testing.assert_allclose(np.exp(log_elementary_symmetric(values, 9)), expected, rtol=1e-12)


def test_log_esp_neither_overflows_nor_underflows():
    # e_k(1, ..., 1) = C(N, k): about 1e299 for N = 1000, k = 500, out of reach of plain float64 recursions
    got = log_elementary_symmetric(np.ones(1000), 500)
    for k in (0, 1, 100, 500):
        exact = math.lgamma(1001) - math.lgamma(k + 1) - math.lgamma(1001 - k)
        assert got[k] == pytest.approx(exact, rel=1e-12, abs=1e-12)
    tiny = log_elementary_symmetric(np.full(400, 1e-200), 300)  # e_300 = C(400,300) 1e-60000
    assert np.isfinite(tiny).all()
    exact = math.lgamma(401) - math.lgamma(301) - math.lgamma(101) + 300 * math.log(1e-200)
    assert tiny[300] == pytest.approx(exact, rel=1e-12)
    with_zeros = log_elementary_symmetric(np.array([2.0, 0.0, 3.0]), 3)
    np.testing.assert_allclose(with_zeros[:3], np.log([1.0, 5.0, 6.0]))
    assert with_zeros[3] == -np.inf


def test_inclusion_probabilities_match_enumeration(rng):
    L = random_psd(rng, 7, scale=1.5)
    p1, _ = naive.inclusion(naive.dpp_probabilities(L), 7)
    np.testing.assert_allclose(inclusion_probabilities(L), p1, atol=1e-12)
    for k in (1, 3, 6):
        p1, _ = naive.inclusion(naive.dpp_probabilities(L, k), 7)
        got = inclusion_probabilities(L, k)
        np.testing.assert_allclose(got, p1, atol=1e-12)
        assert got.sum() == pytest.approx(k)


def test_kdpp_inclusion_probabilities_rank_deficient(rng):
    L = random_psd(rng, 8, rank=4)
    p1, _ = naive.inclusion(naive.dpp_probabilities(L, 3), 8)
    np.testing.assert_allclose(inclusion_probabilities(L, 3), p1, atol=1e-10)
    with pytest.raises(ValueError, match="exceeds the numerical rank 4"):
        inclusion_probabilities(L, 5)


def test_log_likelihood(rng):
    L = random_psd(rng, 8)
    for S in ([0], [1, 4], [0, 2, 5, 7], []):
        assert log_likelihood(L, S) == pytest.approx(naive.log_likelihood(L, S), rel=1e-10)
    probs = naive.dpp_probabilities(L)
    assert math.exp(log_likelihood(L, [1, 4])) == pytest.approx(probs[(1, 4)], rel=1e-10)
    singular = random_psd(rng, 6, rank=2)
    assert log_likelihood(singular, [0, 1, 2]) == -np.inf


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: eigendecompose(np.ones((3, 4))), "L must be a square matrix"),
        (lambda: eigendecompose(np.array([[1.0, 2.0], [0.0, 1.0]])), "L must be symmetric"),
        (lambda: eigendecompose(np.array([[1.0, np.nan], [np.nan, 1.0]])), "L contains 2 NaN"),
        (lambda: eigendecompose(np.diag([1.0, -0.5])), "L must be positive semidefinite"),
        (lambda: eigendecompose(np.ones(3)), "L must be a 2-D array"),
        (lambda: expected_size(np.diag([1.0, -1e-3])), "positive semidefinite"),
        (lambda: scale_to_size(np.eye(5), 0), r"k must satisfy 1 <= k <= N - 1 = 4; got k = 0"),
        (lambda: scale_to_size(np.eye(5), 5), "k must satisfy"),
        (lambda: scale_to_size(np.eye(5), 2.5), "k must be an integer"),
        (lambda: scale_to_size(np.eye(5), 2, method="magic"), "method must be 'paper' or 'exact'"),
        (lambda: scale_to_size(np.zeros((5, 5)), 2), "the kernel is zero"),
        (lambda: scale_to_size(np.eye(1), 1), "at least 2 items"),
        (lambda: log_elementary_symmetric([1.0, -1.0], 1), "values must be non-negative"),
        (
            lambda: log_elementary_symmetric([1.0, 2.0], 3),
            "k must be an integer with 0 <= k <= N = 2",
        ),
        (lambda: log_likelihood(np.eye(3), [0, 0]), "S holds duplicate indices"),
        (lambda: log_likelihood(np.eye(3), [3]), r"S holds indices outside \[0, 3\)"),
        (lambda: inclusion_probabilities(np.eye(3), 4), "k must satisfy"),
        (
            lambda: Eigendecomposition(np.ones(2), np.eye(2)).scaled(-1.0),
            "gamma must be finite and > 0",
        ),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_inputs_not_modified(rng):
    L = random_psd(rng, 6)
    before = L.copy()
    eigendecompose(L)
    scale_to_size(L, 2, "exact")
    log_likelihood(L, [1, 2])
    inclusion_probabilities(L, 2)
    np.testing.assert_array_equal(L, before)


def test_log_likelihood_of_a_kdpp_and_with_eig(rng):
    L = random_psd(rng, 7)
    probs = naive.dpp_probabilities(L, 3)
    eig = eigendecompose(L)
    for S in ([0, 1, 2], [1, 4, 6]):
        assert math.exp(log_likelihood(L, S, k=3)) == pytest.approx(probs[tuple(S)], rel=1e-10)
        assert log_likelihood(L, S, eig=eig) == pytest.approx(log_likelihood(L, S), rel=1e-12)
        assert log_likelihood(L, S, k=3, eig=eig) == pytest.approx(
            log_likelihood(L, S, k=3), rel=1e-12
        )
    assert log_likelihood(L, [0, 1], k=3) == -np.inf
    with pytest.raises(ValueError, match="eig is not an eigendecomposition of L"):
        log_likelihood(L, [0], eig=eigendecompose(random_psd(rng, 7)))
