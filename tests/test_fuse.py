"""Fusing removed neurons into kept ones (eqs. 3-4)."""

from __future__ import annotations

import warnings

import naive
import numpy as np
import pytest

from divnet_nb import (
    FusionWarning,
    GramAccumulator,
    fuse,
    fuse_from_gram,
    fusion_coefficients,
    gram,
)


def layer(rng, n_samples=400, n=12, n_next=5):
    A = 1 / (1 + np.exp(-rng.standard_normal((n_samples, n))))  # sigmoid-like activations
    W = rng.standard_normal((n, n_next))
    b = rng.standard_normal(n_next)
    return A, W, b


def test_matches_per_neuron_lstsq(rng):
    A, W, _ = layer(rng)
    keep = [0, 3, 4, 9, 11]
    np.testing.assert_allclose(fuse(A, keep, W), naive.fuse(A, keep, W), rtol=1e-9, atol=1e-10)


def test_intercept_matches_per_neuron_lstsq(rng):
    A, W, b = layer(rng)
    keep = [1, 2, 7]
    W_new, b_new = fuse(A, keep, W, b, intercept=True)
    W_ref, b_ref = naive.fuse(A, keep, W, b, intercept=True)
    np.testing.assert_allclose(W_new, W_ref, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(b_new, b_ref, rtol=1e-9, atol=1e-10)


def test_coefficients_are_numpy_lstsq(rng):
    A, _, _ = layer(rng)
    keep = np.array([5, 1, 8])
    removed = np.setdiff1d(np.arange(12), keep)
    alpha_ref = np.linalg.lstsq(A[:, keep], A[:, removed], rcond=None)[0]
    np.testing.assert_allclose(fusion_coefficients(A, keep), alpha_ref, rtol=1e-9, atol=1e-11)
    X = np.hstack([A[:, keep], np.ones((400, 1))])
    np.testing.assert_allclose(
        fusion_coefficients(A, keep, intercept=True),
        np.linalg.lstsq(X, A[:, removed], rcond=None)[0],
        rtol=1e-9,
        atol=1e-11,
    )


def test_exact_combinations_leave_next_layer_input_unchanged(rng):
    """If removed neurons are linear combinations of kept ones, eq. 3 has zero residual."""
    kept = rng.random((300, 4))
    mix = rng.standard_normal((4, 3))
    A = np.hstack([kept, kept @ mix])  # neurons 4, 5, 6 are combinations of 0..3
    W = rng.standard_normal((7, 6))
    W_new = fuse(A, [0, 1, 2, 3], W)
    np.testing.assert_allclose(A[:, :4] @ W_new, A @ W, rtol=1e-10, atol=1e-10)
    # with an intercept, affine combinations are absorbed too, through the bias
    A2 = np.hstack([kept, kept @ mix + 0.7])
    b = rng.standard_normal(6)
    W2, b2 = fuse(A2, [0, 1, 2, 3], W, b, intercept=True)
    np.testing.assert_allclose(A2[:, :4] @ W2 + b2, A2 @ W + b, rtol=1e-10, atol=1e-10)


def test_fusion_never_does_worse_than_deleting(rng):
    A, W, _ = layer(rng, n=20, n_next=8)
    keep = rng.choice(20, 6, replace=False)
    target = A @ W
    err_fused = np.linalg.norm(A[:, keep] @ fuse(A, keep, W) - target)
    err_deleted = np.linalg.norm(A[:, keep] @ W[keep] - target)
    assert err_fused < err_deleted


def test_from_gram_and_accumulator_match(rng):
    A, W, b = layer(rng, n_samples=1000)
    keep = [2, 3, 5, 6, 10]
    np.testing.assert_allclose(fuse_from_gram(gram(A), keep, W), fuse(A, keep, W), rtol=1e-10)
    acc = GramAccumulator()
    for part in np.array_split(A, 4):
        acc.update(part)
    got = fuse_from_gram(acc, keep, W, b, intercept=True)
    want = fuse(A, keep, W, b, intercept=True)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
    got2 = fuse_from_gram(
        acc.gram, keep, W, b, intercept=True, sums=acc.sums, n_samples=acc.n_samples
    )
    np.testing.assert_allclose(got2[0], want[0], rtol=1e-9)


def test_keep_order_and_trivial_cases(rng):
    A, W, b = layer(rng)
    keep = np.array([9, 2, 4])
    W_new = fuse(A, keep, W)
    np.testing.assert_allclose(fuse(A, keep[[2, 0, 1]], W), W_new[[2, 0, 1]], rtol=1e-12)
    np.testing.assert_array_equal(fuse(A, np.arange(12), W), W)  # nothing removed
    W_same, b_same = fuse(A, keep, W, b)  # no intercept: bias unchanged
    np.testing.assert_array_equal(b_same, b)
    mask = np.zeros(12, dtype=bool)
    mask[[2, 4, 9]] = True
    np.testing.assert_allclose(fuse(A, mask, W), fuse(A, [2, 4, 9], W))


def test_dtypes_follow_the_weights(rng):
    A, W, b = layer(rng)
    W_new, b_new = fuse(A.astype(np.float32), [0, 1, 2], W.astype(np.float32), b.astype(np.float32))
    assert W_new.dtype == np.float32 and b_new.dtype == np.float32
    np.testing.assert_allclose(W_new, fuse(A, [0, 1, 2], W), rtol=1e-4, atol=1e-4)


def test_dead_kept_neuron_warns_and_still_fuses(rng):
    A, W, _ = layer(rng)
    A[:, 3] = 0.0
    keep = [0, 3, 5, 7]
    with pytest.warns(FusionWarning, match=r"never activate \(all-zero activations: \[3\]\)"):
        W_new = fuse(A, keep, W)
    # the dead neuron contributes nothing: the others get exactly the fusion without it
    others = [0, 5, 7] + [i for i in range(12) if i not in keep]
    ref = naive.fuse(A[:, others], [0, 1, 2], W[others])
    np.testing.assert_allclose(W_new[[0, 2, 3]], ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(W_new[1], W[3], atol=1e-6)


def test_duplicate_kept_neurons_warn_and_split_the_weight(rng):
    A, W, _ = layer(rng)
    A[:, 6] = A[:, 2]
    keep = [2, 6, 8]
    with pytest.warns(FusionWarning, match=r"identical activations \[\(2, 6\)\]"):
        W_new = fuse(A, keep, W)
    target = A @ W
    best = A[:, [2, 8]] @ naive.fuse(A, [2, 8], W)
    # same residual as keeping one copy, which fuses the other into it exactly (up to the tiny ridge)
    assert np.linalg.norm(A[:, keep] @ W_new - target) == pytest.approx(
        np.linalg.norm(best - target), rel=1e-6
    )


def test_well_posed_problem_does_not_warn(rng):
    A, W, _ = layer(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fuse(A, [1, 2, 3], W)


def test_explicit_ridge(rng):
    A, W, _ = layer(rng)
    keep = [1, 2, 3]
    np.testing.assert_allclose(fuse(A, keep, W, ridge=0.0), fuse(A, keep, W), rtol=1e-10)
    shrunk = fuse(A, keep, W, ridge=10.0)
    assert not np.allclose(shrunk, fuse(A, keep, W))
    A[:, 2] = 0.0
    with pytest.raises(ValueError, match="ridge = 0 leaves the fusion system singular"):
        fuse(A, keep, W, ridge=0.0)


def test_inputs_not_modified(rng):
    A, W, b = layer(rng)
    copies = (A.copy(), W.copy(), b.copy())
    keep = np.array([4, 1, 2])
    fuse(A, keep, W, b, intercept=True)
    fuse_from_gram(gram(A), keep, W, b)
    for x, y in zip((A, W, b), copies, strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(keep, [4, 1, 2])


A0 = np.random.default_rng(0).random((20, 4))
W0 = np.ones((4, 2))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: fuse(A0, [0, 1], np.ones((3, 2))),
            r"W must have one row per neuron of the layer \(4",
        ),
        (lambda: fuse(A0, [0, 0], W0), r"keep holds duplicate indices: \[0\]"),
        (lambda: fuse(A0, [0, 4], W0), r"keep holds indices outside \[0, 4\)"),
        (lambda: fuse(A0, [-1], W0), "keep holds indices outside"),
        (lambda: fuse(A0, [], W0), "keep must hold at least one neuron"),
        (lambda: fuse(A0, [[0, 1]], W0), "keep must be a 1-D array"),
        (lambda: fuse(A0, [0.5], W0), "keep must hold integer indices"),
        (
            lambda: fuse(A0, np.ones(3, dtype=bool), W0),
            r"keep as a boolean mask must have shape \(4,\)",
        ),
        (lambda: fuse(A0, [0], W0, np.ones(3)), "b must have length 2"),
        (lambda: fuse(A0, [0], W0, intercept=True), "intercept=True moves the removed neurons"),
        (lambda: fuse(A0, [0], W0, intercept="yes"), "intercept must be True or False"),
        (
            lambda: fuse(A0, [0], W0, ridge=-1.0),
            r"ridge \(None, or a relative ridge\) must be finite and >= 0",
        ),
        (lambda: fuse(np.full((3, 4), np.nan), [0], W0), "A contains 12 NaN"),
        (lambda: fuse(A0, [0], np.full((4, 2), np.inf)), "W contains 8 NaN or infinite"),
        (
            lambda: fuse(np.where(np.arange(4) == 3, np.nan, A0), [0, 1], W0),
            "A contains 20 NaN",
        ),  # removed column only
        (
            lambda: fuse(np.where(np.arange(4) == 0, np.inf, A0), [0, 1], W0),
            "A contains 20 NaN or infinite",
        ),
        (lambda: fuse(A0[0], [0], W0), "A must be a 2-D array"),
        (lambda: fuse_from_gram(np.ones((4, 3)), [0], W0), "G must be a square"),
        (
            lambda: fuse_from_gram(gram(A0), [0], W0, np.zeros(2), intercept=True),
            "intercept=True needs sums",
        ),
        (
            lambda: fuse_from_gram(
                gram(A0), [0], W0, np.zeros(2), intercept=True, sums=np.ones(3), n_samples=20
            ),
            "sums must have length 4",
        ),
        (
            lambda: fuse_from_gram(
                gram(A0), [0], W0, np.zeros(2), intercept=True, sums=np.ones(4), n_samples=0
            ),
            "n_samples must be a positive integer",
        ),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_a_near_singular_block_from_float32_activations_is_reported():
    """Activations in float32, neuron 2 = neuron 0 + neuron 1 up to float32 rounding.

    Accumulated in float64 (what the pipeline does by default) the Gram block of the
    three is as near-singular as the activations are (condition ~1e15), and fusion
    says so. Products formed in float32 blur it by orders of magnitude (condition ~1e8).
    Whether fusion still notices the blurred block depends on how the BLAS rounds its
    float32 sums (it did on one machine and not on another, with the same torch), so the
    test checks the blur itself. This is why layer statistics are accumulated in float64.
    """
    import torch

    rng = np.random.default_rng(3)
    A = rng.random((20000, 4)).astype(np.float32)
    A[:, 2] = A[:, 0] + A[:, 1]
    W = rng.standard_normal((4, 3))
    exact = GramAccumulator().update(torch.from_numpy(A).double())
    with pytest.warns(FusionWarning, match="G_SS is singular"):
        fuse_from_gram(exact, [0, 1, 2], W)
    blurred = GramAccumulator().update(torch.from_numpy(A))
    cond_exact = np.linalg.cond(np.asarray(exact.gram)[:3, :3])
    cond_blurred = np.linalg.cond(np.asarray(blurred.gram)[:3, :3])
    assert cond_exact > 1e13
    assert cond_blurred < 1e-4 * cond_exact, (cond_blurred, cond_exact)


def test_layer_statistics_accumulate_in_float64_by_default():
    import torch

    from divnet_nb.nets import MLP
    from divnet_nb.pruning import collect_activations, layer_statistics

    net = MLP((30, 40, 10), seed=0)
    X = np.random.default_rng(0).random((5000, 30)).astype(np.float32)
    A = collect_activations(net, 0, X).astype(np.float64)  # the float32 activations, exactly
    np.testing.assert_allclose(layer_statistics(net, 0, X).gram, A.T @ A, rtol=1e-13)
    fast = layer_statistics(net, 0, X, dtype=None).gram  # float32 products
    assert np.abs(fast - A.T @ A).max() / np.abs(A.T @ A).max() > 1e-10
    assert torch.get_default_dtype() == torch.float32
