"""Kernels over neurons by name (core.kernels): exact values, PSD, scale invariance, refusals;
the learned kernel's objective and fit (core.learned)."""

from __future__ import annotations

import naive
import numpy as np
import pytest

import divnet_nb as dn
from divnet_nb.core import kernels as registry
from divnet_nb.core.learned import fit_learned_kernel, held_out_fusion_error, learned_family
from divnet_nb.core.objective import fusion_error


def activations(rng, n_samples=120, n=10):
    """Sigmoid-like activations with a dead neuron, a constant one and a collinear pair."""
    A = 1.0 / (1.0 + np.exp(-rng.standard_normal((n_samples, 3)) @ rng.standard_normal((3, n))))
    A[:, 2] = 0.0  # never active
    A[:, 3] = 0.7  # constant
    A[:, 5] = 0.5 * A[:, 4]  # collinear with neuron 4
    return A


def inputs(name, A, rng, k=4):
    """The extra inputs a kernel needs, for activations A."""
    out = {}
    spec = dn.get_kernel(name)
    if "weights" in spec.needs:
        out["weights"] = rng.standard_normal((A.shape[1], 6))
    if "held_out" in spec.needs:
        out["held_out"] = dn.GramAccumulator().update(A[1::2])
    if "k" in spec.needs:
        out["k"] = k
    if "rng" in spec.needs:
        out["rng"] = 0
    return out


@pytest.mark.parametrize("name", dn.kernel_names())
def test_every_kernel_is_symmetric_psd_and_works_with_every_sampler(name, rng):
    A = activations(rng)
    L = dn.neuron_kernel(name, A, **inputs(name, A, rng))
    assert L.shape == (10, 10) and np.array_equal(L, L.T)
    w = np.linalg.eigvalsh(L)
    assert w.min() >= -1e-10 * w.max()
    live = np.flatnonzero(np.diag(L) > 0)  # "qd": the dead and the constant neuron have quality 0
    sub = L[np.ix_(live, live)]
    for S in (dn.sample_kdpp(sub, 4, 0), dn.greedy_map(sub, 4), dn.best_of(sub, 4, 5, 0)):
        assert S.shape == (4,) and np.unique(S).size == 4
    eig = dn.eigendecompose(sub)
    assert np.array_equal(dn.best_of(sub, 4, 5, 7), dn.best_of(sub, 4, 5, 7, eig=eig))


def test_exact_values_against_the_explicit_activation_vectors(rng):
    A = activations(rng, 60, 7)
    A[:, 6] += 0.3  # a shift: standardisation removes it
    W = rng.standard_normal((7, 5))
    twins = {
        "rbf": naive.rbf_kernel(A),
        "linear": naive.linear_kernel(A),
        "cosine": naive.cosine_kernel(A),
        "rbf-standardised": naive.standardised_rbf_kernel(A),
        "rbf-median": naive.median_rbf_kernel(A),
    }
    for name, expected in twins.items():
        np.testing.assert_allclose(dn.neuron_kernel(name, A), expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        dn.neuron_kernel("linear", A, eps=0.3), naive.linear_kernel(A, 0.3), rtol=1e-12
    )
    np.testing.assert_allclose(
        dn.neuron_kernel("rbf-standardised", A, beta=0.02, eps=0.0),
        naive.standardised_rbf_kernel(A, 0.02, 0.0), rtol=1e-9, atol=1e-12,
    )  # fmt: skip
    B = np.delete(A, [2, 3], axis=1)  # qd's twin divides by the std: no dead or constant neuron
    Wb = np.delete(W, [2, 3], axis=0)
    np.testing.assert_allclose(
        dn.neuron_kernel("qd", B, weights=Wb), naive.quality_diversity_kernel(B, Wb), rtol=1e-9
    )
    for factor, exponent in ((10.0, 0.0), (2.5, 1.0), (40.0, 0.5)):
        q = np.linalg.norm(W, axis=1) * np.sqrt((A**2).mean(axis=0))
        np.testing.assert_allclose(
            learned_family(dn.gram(A), 60, factor, exponent, q / q.max(), 0.01),
            naive.learned_family(A, W, factor, exponent), rtol=1e-9, atol=1e-12,
        )  # fmt: skip


def test_the_default_kernel_is_eq2_bit_for_bit(rng):
    A = rng.random((300, 20))
    stats = dn.GramAccumulator().update(A)
    assert np.array_equal(dn.neuron_kernel("rbf", stats), stats.kernel())
    assert np.array_equal(
        dn.neuron_kernel("rbf", stats, beta=0.3, eps=0.02), stats.kernel(0.3, 0.02)
    )
    assert np.array_equal(learned_family(stats.gram, 300, 10.0, 0.0, None, 0.01), stats.kernel())
    assert dn.build_kernel("rbf", stats).params == {"beta": 10 / 300, "eps": 0.01}


@pytest.mark.parametrize("name", dn.kernel_names())
def test_scale_invariance_holds_where_claimed_and_fails_where_not(name, rng):
    A = activations(rng)
    scales = rng.uniform(0.1, 10.0, A.shape[1])  # every neuron by its own positive factor
    extra = inputs(name, A, rng)
    if name == "learned":
        extra["held_out"] = dn.GramAccumulator().update(A[1::2])
        scaled_extra = dict(extra, held_out=dn.GramAccumulator().update((A * scales)[1::2]))
    else:
        scaled_extra = extra
    L, L_scaled = (
        dn.neuron_kernel(name, A, **extra),
        dn.neuron_kernel(name, A * scales, **scaled_extra),
    )
    same = np.allclose(L, L_scaled, rtol=1e-9, atol=1e-12)
    assert same == dn.get_kernel(name).scale_invariant
    assert dn.get_kernel(name).scale_invariant == (name in ("cosine", "rbf-standardised"))


def test_collinear_neurons_are_duplicates_to_cosine_but_not_to_rbf(rng):
    v = rng.random(200)
    A = np.column_stack([v, 3.0 * v, rng.random(200)])
    cos, rbf = dn.neuron_kernel("cosine", A, eps=0.0), dn.neuron_kernel("rbf", A, eps=0.0)
    assert cos[0, 1] == pytest.approx(1.0, abs=1e-12) and rbf[0, 1] < 0.1
    assert np.linalg.det(cos[:2, :2]) == pytest.approx(0.0, abs=1e-10)  # never sampled together
    assert np.linalg.det(rbf[:2, :2]) > 0.9


def test_an_unknown_kernel_is_one_line_listing_the_registered_ones(rng):
    with pytest.raises(ValueError) as info:
        dn.neuron_kernel("gaussian", rng.random((10, 3)))
    message = str(info.value)
    assert "\n" not in message and "'gaussian'" in message
    assert all(name in message for name in dn.kernel_names())


def test_parameters_that_break_psd_are_refused_with_the_reason(rng):
    A = rng.random((50, 6))
    with pytest.raises(ValueError, match=r"'rbf' is not positive semidefinite at beta = -1.*grows"):
        dn.neuron_kernel("rbf", A, beta=-1.0)
    with pytest.raises(ValueError, match=r"'cosine' is not positive semidefinite at eps = -0.5"):
        dn.neuron_kernel("cosine", A, eps=-0.5)
    with pytest.raises(ValueError, match=r"'linear' takes no parameter\(s\) \['beta'\]"):
        dn.neuron_kernel("linear", A, beta=1.0)
    with pytest.raises(ValueError, match="kernel 'qd' needs weights"):
        dn.neuron_kernel("qd", A)


@pytest.fixture
def sigmoid_kernel():
    """tanh(a <v_i, v_j> / |T| + c): positive semidefinite for some (a, c), not for others."""

    @dn.register_kernel("tanh-test", params=("a", "c"), psd=False)
    def build(x, a=1.0, c=0.0):
        return np.tanh(a * x.gram / x.n_samples + c), {"a": a, "c": c}

    yield "tanh-test"
    dn.unregister_kernel("tanh-test")


def test_a_kernel_not_psd_at_its_parameters_is_refused_never_sampled(
    sigmoid_kernel, rng, monkeypatch
):
    A = rng.random((80, 8))
    L = dn.neuron_kernel(sigmoid_kernel, A, a=0.5, c=1.0)  # PSD here: accepted
    assert np.linalg.eigvalsh(L).min() >= -1e-10
    with pytest.raises(ValueError, match=r"'tanh-test' is not positive semidefinite at a = 4, c = -1"
                       r": its smallest eigenvalue is -"):  # fmt: skip
        dn.neuron_kernel(sigmoid_kernel, A, a=4.0, c=-1.0)
    from divnet_nb.core import sample
    from divnet_nb.prune import LayerData, select_neurons

    def never(*args, **kwargs):
        raise AssertionError("an indefinite kernel reached a sampler")

    monkeypatch.setattr(sample, "sample_kdpp", never)
    monkeypatch.setattr(sample, "greedy_map", never)
    monkeypatch.setattr(sample, "best_of", never)
    data = LayerData(
        dn.GramAccumulator().update(A),
        kernel_name=sigmoid_kernel,
        kernel_params={"a": 4.0, "c": -1.0},
    )
    for method in ("dpp", "greedy-map", "dpp-best"):
        with pytest.raises(ValueError, match="is not positive semidefinite"):
            select_neurons(method, 3, data, rng=0)


def test_registering_a_kernel_is_checked():
    with pytest.raises(ValueError, match="already registered"):
        dn.register_kernel("rbf")(lambda x: None)
    with pytest.raises(ValueError, match="letters, digits"):
        dn.register_kernel("my kernel")(lambda x: None)
    with pytest.raises(ValueError, match="unknown"):
        dn.register_kernel("needy", needs=("labels",))(lambda x: None)
    assert registry.DEFAULT_KERNEL == "rbf" == dn.kernel_names()[0]


# ---------------------------------------------------------------- the learned kernel
def test_held_out_fusion_error_matches_its_twin_and_the_in_sample_objective(rng):
    A = rng.random((90, 8)) @ rng.random((8, 8))
    W = rng.standard_normal((8, 5))
    keep = [0, 3, 4, 7]
    fit, held = A[0::2], A[1::2]
    np.testing.assert_allclose(
        held_out_fusion_error(dn.gram(fit), dn.gram(held), W, keep),
        naive.held_out_fusion_error(fit, held, W, keep), rtol=1e-9,
    )  # fmt: skip
    G = dn.gram(A)
    np.testing.assert_allclose(
        held_out_fusion_error(G, G, W, keep), fusion_error(G, W, keep), rtol=1e-9
    )


def grouped_layer(rng, amplitude, n_samples=400, groups=6, size=5):
    """Groups of near-duplicate neurons at a small scale, where eq. 2's bandwidth sees no structure."""
    base = rng.standard_normal((n_samples, groups))
    A = np.repeat(base, size, axis=1) + 0.05 * rng.standard_normal((n_samples, groups * size))
    return amplitude * A, rng.standard_normal((groups * size, 4))


def heldout_objective(A, W, factor, exponent, k, seed, m=48):
    """J(c, a) of the learned kernel's objective, from fresh random numbers."""
    fit, held = A[0::2], A[1::2]
    G_fit, G_held = dn.gram(fit), dn.gram(held)
    q = np.linalg.norm(W, axis=1) * np.sqrt(np.diag(G_fit) / fit.shape[0])
    L = learned_family(G_fit, fit.shape[0], factor, exponent, q / q.max(), 0.01)
    gen = np.random.default_rng(seed)
    total = float(np.sum((held @ W) ** 2))
    return (
        np.mean(
            [held_out_fusion_error(G_fit, G_held, W, dn.sample_kdpp(L, k, gen)) for _ in range(m)]
        )
        / total
    )


def test_the_learned_kernel_lowers_the_held_out_objective_where_the_default_bandwidth_is_blind(rng):
    A, W = grouped_layer(rng, amplitude=0.02)
    k = 6
    fit = fit_learned_kernel(dn.gram(A), A.shape[0], dn.GramAccumulator().update(A[1::2]), W, k, 0)
    assert fit.factor > 10.0  # a narrower kernel than eq. 2's
    assert fit.objective < fit.default_objective
    assert fit.objective == min(j for _, _, j in fit.evaluations) and len(fit.evaluations) <= 16
    learned = heldout_objective(A, W, fit.factor, fit.exponent, k, seed=99)
    default = heldout_objective(A, W, 10.0, 0.0, k, seed=99)
    assert learned < 0.5 * default  # on random numbers the fit never saw
    L = dn.build_kernel(
        "learned", A, weights=W, held_out=dn.GramAccumulator().update(A[1::2]), k=k, rng=0
    )
    assert L.params["factor"] == fit.factor and L.params["exponent"] == fit.exponent
    np.testing.assert_array_equal(L.matrix, fit.kernel)


def test_the_learned_kernel_keeps_eq2_where_nothing_beats_it(rng):
    A, W = grouped_layer(rng, amplitude=1.0, groups=4, size=3)
    fit = fit_learned_kernel(dn.gram(A), A.shape[0], dn.GramAccumulator().update(A[1::2]), W, 12, 0)
    assert (fit.factor, fit.exponent) == (
        10.0,
        0.0,
    ) and fit.objective == 0.0  # k = n: nothing to fit
    with pytest.raises(ValueError, match="held_out must hold statistics of 12 neurons"):
        fit_learned_kernel(dn.gram(A), A.shape[0], dn.GramAccumulator().update(A), W, 4, 0)
