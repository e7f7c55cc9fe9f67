"""Exact DPP / k-DPP samplers, greedy MAP and best-of-m.

The statistical tests draw many samples at fixed seeds (so they never flake) and
compare frequencies with probabilities computed exactly by enumeration or from
the marginal kernel K = L (L + I)^-1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import naive
import numpy as np
import pytest
from conftest import JIT_DISABLED, random_psd
from scipy import stats

from divnet_nb import (
    best_of,
    eigendecompose,
    greedy_map,
    inclusion_probabilities,
    log_likelihood,
    marginal_kernel,
    rbf_kernel,
    sample_dpp,
    sample_kdpp,
    sample_projection,
    scale_to_size,
    select_eigenvectors,
)
from divnet_nb.core import dpp as dpp_module
from divnet_nb.core import sample as sample_module

P_MIN = 1e-3  # fixed seeds: a correct sampler passes at these seeds; a wrong one fails (see below)


def chi_square_pvalue(samples, probs):
    """Pearson chi-square p-value of observed subset counts against exact probabilities."""
    counts = Counter(tuple(int(i) for i in s) for s in samples)
    assert set(counts) <= {Y for Y, p in probs.items() if p > 0}, (
        "sampled a subset of probability 0"
    )
    keys = [Y for Y, p in probs.items() if p > 0]
    observed = np.array([counts.get(Y, 0) for Y in keys], dtype=float)
    expected = np.array([probs[Y] for Y in keys]) * len(samples)
    big = expected >= 5  # pool the rare cells so the chi-square approximation holds
    obs = np.append(observed[big], observed[~big].sum())
    exp = np.append(expected[big], expected[~big].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    return stats.chisquare(obs, exp).pvalue


def max_z(freq, prob, n):
    """Largest |z| of empirical frequencies against Bernoulli probabilities."""
    sd = np.sqrt(np.maximum(prob * (1 - prob), 1e-12) / n)
    return float(np.max(np.abs(freq - prob) / sd))


def draw(fn, n_draws, seed):
    rng = np.random.default_rng(seed)
    return [fn(rng) for _ in range(n_draws)]


# ------------------------------------------------------------------ DPP
def test_dpp_subset_frequencies_match_eq1(rng):
    L = random_psd(rng, 5, scale=1.2)
    eig = eigendecompose(L)
    samples = draw(lambda r: sample_dpp(eig, r), 20000, seed=1)
    assert chi_square_pvalue(samples, naive.dpp_probabilities(L)) > P_MIN


def test_dpp_singleton_and_pair_inclusion_match_marginal_kernel(rng):
    n = 8
    L = random_psd(rng, n, scale=0.8)
    eig = eigendecompose(L)
    n_draws = 20000
    samples = draw(lambda r: sample_dpp(eig, r), n_draws, seed=2)
    X = np.zeros((n_draws, n))
    for t, s in enumerate(samples):
        X[t, s] = 1.0
    K = marginal_kernel(L)
    pairs = K.diagonal()[:, None] * K.diagonal()[None, :] - K**2  # P(i, j in Y) = det K_{ij}
    np.fill_diagonal(pairs, K.diagonal())
    assert max_z(X.mean(0), K.diagonal(), n_draws) < 4.5
    iu = np.triu_indices(n, 1)
    assert max_z((X.T @ X / n_draws)[iu], pairs[iu], n_draws) < 4.5
    sizes = X.sum(1)
    assert abs(sizes.mean() - np.trace(K)) < 4.5 * sizes.std() / np.sqrt(n_draws)


def test_dpp_rank_deficient_kernel(rng):
    L = random_psd(rng, 6, rank=3, scale=2.0)
    eig = eigendecompose(L)
    samples = draw(lambda r: sample_dpp(eig, r), 10000, seed=3)
    assert max(len(s) for s in samples) <= 3
    assert chi_square_pvalue(samples, naive.dpp_probabilities(L)) > P_MIN


def test_chi_square_detects_a_wrong_sampler(rng):
    """The statistical test has power: uniform subsets of the right size fail it."""
    L = random_psd(rng, 6)
    probs = naive.dpp_probabilities(L, 3)
    wrong = draw(lambda r: np.sort(r.choice(6, 3, replace=False)), 20000, seed=4)
    assert chi_square_pvalue(wrong, probs) < 1e-12


# ------------------------------------------------------------------ k-DPP
@pytest.mark.parametrize(("n", "k"), [(6, 1), (6, 3), (7, 5)])
def test_kdpp_subset_frequencies(rng, n, k):
    L = random_psd(rng, n, scale=1.0)
    eig = eigendecompose(L)
    samples = draw(lambda r: sample_kdpp(eig, k, r), 20000, seed=5 + k)
    assert all(len(s) == k for s in samples)
    assert chi_square_pvalue(samples, naive.dpp_probabilities(L, k)) > P_MIN


def test_kdpp_pair_inclusion_matches_enumeration(rng):
    n, k = 8, 4
    L = random_psd(rng, n)
    eig = eigendecompose(L)
    p1, p2 = naive.inclusion(naive.dpp_probabilities(L, k), n)
    n_draws = 20000
    X = np.zeros((n_draws, n))
    for t, s in enumerate(draw(lambda r: sample_kdpp(eig, k, r), n_draws, seed=9)):
        X[t, s] = 1.0
    assert max_z(X.mean(0), p1, n_draws) < 4.5
    iu = np.triu_indices(n, 1)
    assert max_z((X.T @ X / n_draws)[iu], p2[iu], n_draws) < 4.5


def test_kdpp_on_projection_kernel(rng):
    """k equal to the rank: phase 1 has no choice, phase 2 alone must be exact."""
    L = random_psd(rng, 7, rank=3)
    eig = eigendecompose(L)
    samples = draw(lambda r: sample_kdpp(eig, 3, r), 15000, seed=10)
    assert chi_square_pvalue(samples, naive.dpp_probabilities(L, 3)) > P_MIN


def test_kdpp_inclusion_at_moderate_size():
    """N = 150 (beyond enumeration): item frequencies against the exact k-DPP marginals."""
    gen = np.random.default_rng(11)
    L = rbf_kernel(gen.random((400, 150)))
    eig = eigendecompose(L)
    k, n_draws = 20, 3000
    X = np.zeros((n_draws, 150))
    for t, s in enumerate(draw(lambda r: sample_kdpp(eig, k, r), n_draws, seed=12)):
        X[t, s] = 1.0
    assert max_z(X.mean(0), inclusion_probabilities(eig, k), n_draws) < 4.5


def test_sample_kdpp_is_scale_invariant_in_distribution(rng):
    L = random_psd(rng, 6)
    samples = draw(lambda r: sample_kdpp(1e6 * L, 2, r), 10000, seed=13)
    assert chi_square_pvalue(samples, naive.dpp_probabilities(L, 2)) > P_MIN


# ------------------------------------------------------------------ the two phases
def test_phase1_eigenvector_frequencies(rng):
    L = random_psd(rng, 5, scale=1.5)
    eig = eigendecompose(L)
    w = eig.values
    gen = np.random.default_rng(30)
    n_draws = 20000
    X = np.zeros((n_draws, 5))
    for t in range(n_draws):
        X[t, select_eigenvectors(eig, None, gen)] = 1.0
    assert max_z(X.mean(0), w / (1 + w), n_draws) < 4.5
    # k-DPP: P(J) proportional to the product of the chosen eigenvalues, |J| = k
    k = 2
    weights = {J: np.prod(w[list(J)]) for J in naive.subsets(5) if len(J) == k}
    total = sum(weights.values())
    samples = draw(lambda r: select_eigenvectors(eig, k, r), n_draws, seed=31)
    assert chi_square_pvalue(samples, {J: p / total for J, p in weights.items()}) > P_MIN


def test_phase2_projection_sampler(rng):
    V = np.linalg.qr(rng.standard_normal((6, 3)))[0]
    K = V @ V.T
    probs = {Y: naive.det_sub(K, list(Y)) for Y in naive.subsets(6) if len(Y) == 3}
    samples = draw(lambda r: sample_projection(V, r), 20000, seed=32)
    assert all(len(s) == 3 for s in samples)
    assert chi_square_pvalue(samples, probs) > P_MIN
    assert sample_projection(np.zeros((4, 0)), 0).size == 0
    with pytest.raises(ValueError, match="at most as many columns as rows"):
        sample_projection(np.ones((2, 3)), 0)


def test_samplers_are_the_two_phases(rng):
    eig = eigendecompose(random_psd(rng, 30))
    for seed in range(3):
        gen = np.random.default_rng(seed)
        J = select_eigenvectors(eig, 5, gen)
        expected = sample_projection(eig.vectors[:, J], gen)
        np.testing.assert_array_equal(sample_kdpp(eig, 5, seed), expected)


# ------------------------------------------------------------------ stability
def binned_z(samples, p, bins: int = 10):
    """z scores of how often items of each marginal-probability decile were sampled.

    Items are sorted by their exact marginal p and cut into ``bins`` groups; for each,
    the observed count over the samples is compared with M sum(p), scaled by
    sqrt(M sum p(1 - p)), which bounds the standard deviation for a DPP (its
    inclusions are negatively associated).
    """
    order = np.argsort(p)
    counts = np.bincount(np.concatenate(samples), minlength=p.size)
    m = len(samples)
    z = []
    for group in np.array_split(order, bins):
        expected = m * p[group].sum()
        z.append((counts[group].sum() - expected) / np.sqrt(m * (p[group] * (1 - p[group])).sum()))
    return np.array(z)


def uniform_sampler(n, k, seed, m):
    g = np.random.default_rng(seed)
    return [np.sort(g.choice(n, size=k, replace=False)) for _ in range(m)]


@pytest.mark.slow
@pytest.mark.parametrize("k", [50, 200, 392])
def test_kdpp_rank_deficient_784(k):
    """N = 784 with rank 392: the case where plain ESP recursions fail.

    Rows of B are scaled over two decades, so the exact marginals are far from uniform;
    200 samples must match them decile by decile (|z| < 4.5), which a sampler that
    ignored the kernel does not (checked on a uniform sampler).
    """
    gen = np.random.default_rng(784)
    B = gen.standard_normal((784, 392)) * np.exp(gen.uniform(-2.3, 2.3, 784))[:, None]
    eig = eigendecompose(B @ B.T)
    assert eig.rank == 392
    p = inclusion_probabilities(eig, k)
    assert p.sum() == pytest.approx(k)
    rng = np.random.default_rng(k)
    samples = [sample_kdpp(eig, k, rng) for _ in range(200)]
    assert all(s.dtype == np.int64 and s.shape == (k,) for s in samples)
    assert np.linalg.matrix_rank(B[samples[0]]) == k  # det(L_S) > 0
    assert np.abs(binned_z(samples, p)).max() < 4.5
    assert np.abs(binned_z(uniform_sampler(784, k, 0, 200), p)).max() > 10  # the check has teeth


def test_kdpp_above_rank_raises():
    gen = np.random.default_rng(784)
    B = gen.standard_normal((784, 392))
    with pytest.raises(ValueError, match="k = 393 exceeds the numerical rank 392"):
        sample_kdpp(B @ B.T, 393, 0)


@pytest.mark.slow
@pytest.mark.parametrize("k", [10, 100, 500, 900])
def test_kdpp_ill_conditioned_1000(k):
    """A DivNet kernel over 1000 near-duplicate neurons: eigenvalues spread over 5 decades.

    Item frequencies of 200 samples against the exact k-DPP marginals, by decile, as
    above; the neurons' scales differ, so the marginals do too.
    """
    gen = np.random.default_rng(1000)
    base = gen.random((2000, 20))
    A = base @ gen.random((20, 1000)) / 20 + 1e-3 * gen.random((2000, 1000))
    A *= np.exp(gen.uniform(-2, 2, 1000))
    L = rbf_kernel(A)
    w = eigendecompose(L).values
    assert w.max() / w.min() > 1e4
    scaled, _ = scale_to_size(L, k)
    eig = eigendecompose(scaled)
    p = inclusion_probabilities(eig, k)
    rng = np.random.default_rng(k)
    samples = [sample_kdpp(eig, k, rng) for _ in range(200)]
    assert all(s.shape == (k,) for s in samples)
    assert np.abs(binned_z(samples, p)).max() < 4.5
    assert np.abs(binned_z(uniform_sampler(1000, k, 0, 200), p)).max() > 10


def test_dpp_on_huge_and_tiny_eigenvalues():
    L = np.diag(np.r_[np.full(5, 1e12), np.full(5, 1e-12)])
    S = sample_dpp(L, 0)
    np.testing.assert_array_equal(S, np.arange(5))


# ------------------------------------------------------------------ reproducibility
def test_same_seed_same_sample_and_eig_reuse(rng):
    L = rbf_kernel(rng.random((100, 60)))
    eig = eigendecompose(L)
    for seed in range(5):
        a = sample_kdpp(L, 12, seed)
        np.testing.assert_array_equal(a, sample_kdpp(L, 12, np.random.default_rng(seed)))
        np.testing.assert_array_equal(a, sample_kdpp(eig, 12, seed))
        np.testing.assert_array_equal(a, sample_kdpp(None, 12, seed, eig=eig))
        np.testing.assert_array_equal(a, sample_kdpp(L, 12, seed, eig=eig))
        np.testing.assert_array_equal(sample_dpp(L, seed), sample_dpp(None, seed, eig=eig))
    gen = np.random.default_rng(0)
    assert not np.array_equal(sample_kdpp(eig, 12, gen), sample_kdpp(eig, 12, gen))


@pytest.mark.skipif(JIT_DISABLED, reason="compares compiled kernels with their Python twins")
def test_jit_and_python_phases_give_identical_samples(rng, monkeypatch):
    L = scale_to_size(rbf_kernel(rng.random((300, 80))), 15).kernel
    eig = eigendecompose(L)
    compiled = [(sample_kdpp(eig, 15, s), sample_dpp(eig, s)) for s in range(10)]
    for module, name in (
        (sample_module, "_phase1_kdpp"),
        (sample_module, "_phase2_projection"),
        (dpp_module, "_log_esp_table"),
    ):
        monkeypatch.setattr(module, name, getattr(module, name).py_func)
    eig = eigendecompose(L)  # a fresh object: nothing cached from the compiled run
    python = [(sample_kdpp(eig, 15, s), sample_dpp(eig, s)) for s in range(10)]
    for (a, b), (c, d) in zip(compiled, python, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


@pytest.mark.slow
def test_same_samples_in_a_process_without_jit():
    code = (
        "import numpy as np, divnet_nb as d\n"
        "g = np.random.default_rng(5); L = d.rbf_kernel(g.random((200, 50)))\n"
        "print([d.sample_kdpp(L, 8, s).tolist() for s in range(4)], d.greedy_map(L, 6).tolist())\n"
    )
    env = dict(os.environ)
    outputs = []
    for flag in ("0", "1"):
        env["NUMBA_DISABLE_JIT"] = flag
        outputs.append(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
    assert outputs[0] == outputs[1]


def test_mismatched_eig_is_rejected(rng):
    L = random_psd(rng, 10)
    other = eigendecompose(random_psd(rng, 10))
    with pytest.raises(ValueError, match="eig is not an eigendecomposition of L"):
        sample_kdpp(L, 3, 0, eig=other)
    with pytest.raises(ValueError, match="eig is for a 10 x 10 kernel"):
        sample_dpp(np.eye(4), 0, eig=other)
    with pytest.raises(ValueError, match="eig.vectors must have orthonormal columns"):
        sample_dpp(None, 0, eig=(np.ones(3), 2 * np.eye(3)))
    with pytest.raises(ValueError, match=r"eig.vectors must have shape \(3, 3\)"):
        sample_dpp(None, 0, eig=(np.ones(3), np.eye(2)))
    with pytest.raises(ValueError, match="eig.values must be positive semidefinite"):
        sample_dpp(None, 0, eig=(-np.ones(3), np.eye(3)))


# ------------------------------------------------------------------ greedy MAP, best-of-m
def test_greedy_map_matches_brute_force_greedy(rng):
    for _ in range(5):
        L = random_psd(rng, 9)
        for k in (1, 3, 6, 9):
            np.testing.assert_array_equal(greedy_map(L, k), naive.greedy_map(L, k))


def test_greedy_map_on_divnet_kernel_and_rank(rng):
    L = rbf_kernel(rng.random((500, 200)))
    S = greedy_map(L, 40)
    assert S.shape == (40,) and np.all(np.diff(S) > 0)
    # greedy beats typical random samples in likelihood
    assert log_likelihood(L, S) > max(log_likelihood(L, sample_kdpp(L, 40, s)) for s in range(5))
    low = random_psd(rng, 30, rank=5)
    full = greedy_map(low, 5)  # up to the rank, greedy finds a set of positive probability
    assert np.isfinite(log_likelihood(low, full))
    np.testing.assert_array_equal(full, naive.greedy_map(low, 5))
    with pytest.raises(ValueError, match="k = 6 exceeds the numerical rank of L"):
        greedy_map(low, 6)


def test_best_of_picks_highest_likelihood_of_the_same_draws(rng):
    L = rbf_kernel(rng.random((300, 50)))
    eig = eigendecompose(L)
    gen = np.random.default_rng(21)
    draws = [sample_kdpp(eig, 8, gen) for _ in range(6)]
    expected = max(draws, key=lambda s: log_likelihood(L, s))
    np.testing.assert_array_equal(best_of(L, 8, 6, 21), expected)
    np.testing.assert_array_equal(best_of(L, 8, 1, 21), draws[0])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: sample_kdpp(np.eye(4), 0, 0), "k must satisfy 1 <= k <= N = 4; got k = 0"),
        (lambda: sample_kdpp(np.eye(4), 5, 0), "k must satisfy 1 <= k <= N = 4; got k = 5"),
        (lambda: sample_kdpp(np.eye(4), True, 0), "k must be an integer"),
        (lambda: sample_kdpp(np.diag([1.0, 1.0, 0.0]), 3, 0), "k = 3 exceeds the numerical rank 2"),
        (lambda: sample_dpp(np.array([[1.0, 0.5], [0.4, 1.0]]), 0), "L must be symmetric"),
        (lambda: sample_dpp(np.diag([1.0, -1.0]), 0), "L must be positive semidefinite"),
        (lambda: sample_dpp(np.full((2, 2), np.inf), 0), "L contains 4 NaN or infinite"),
        (lambda: sample_dpp(np.eye(2), rng="seed"), "rng must be None, a non-negative int seed"),
        (lambda: sample_dpp(np.eye(2), rng=-3), "rng must be a non-negative int seed"),
        (lambda: sample_dpp(None, 0), "pass a kernel L or its eigendecomposition"),
        (lambda: sample_dpp(None, 0, eig="nope"), "eig must be a"),
        (lambda: greedy_map(np.eye(3), 4), "k must satisfy"),
        (lambda: best_of(np.eye(3), 2, 0), "m must be an integer >= 1"),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_inputs_not_modified(rng):
    L = random_psd(rng, 12)
    eig = eigendecompose(L)
    before = (L.copy(), eig.values.copy(), eig.vectors.copy())
    sample_dpp(L, 0)
    sample_kdpp(eig, 4, 0)
    greedy_map(L, 4)
    best_of(L, 3, 3, 0)
    for a, b in zip((L, eig.values, eig.vectors), before, strict=True):
        np.testing.assert_array_equal(a, b)
