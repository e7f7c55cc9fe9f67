"""RBF kernel over neurons (eq. 2), Gram matrix and its streaming accumulator."""

from __future__ import annotations

import naive
import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

from divnet_nb import GramAccumulator, default_beta, gram, rbf_kernel, rbf_kernel_from_gram


def test_matches_naive_double_loop(rng):
    A = rng.random((40, 9))
    np.testing.assert_allclose(rbf_kernel(A), naive.rbf_kernel(A), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        rbf_kernel(A, beta=0.3, eps=0.5), naive.rbf_kernel(A, 0.3, 0.5), rtol=1e-12
    )


def test_matches_scipy_cdist(rng):
    A = rng.random((3000, 120))
    beta = 10.0 / 3000
    expected = np.exp(-beta * cdist(A.T, A.T, "sqeuclidean")) + 0.01 * np.eye(120)
    np.testing.assert_allclose(rbf_kernel(A), expected, rtol=1e-10, atol=1e-12)


def test_float32_activations_are_accurate(rng):
    A = rng.random((20000, 64)).astype(np.float32)
    L32 = rbf_kernel(A)
    L64 = rbf_kernel(A.astype(np.float64))
    assert L32.dtype == np.float64
    np.testing.assert_allclose(L32, L64, rtol=0, atol=1e-6)


def test_default_beta_is_ten_over_number_of_samples(rng):
    A = rng.random((250, 7))
    np.testing.assert_allclose(rbf_kernel(A), rbf_kernel(A, beta=10 / 250))
    assert default_beta(250) == 10 / 250


def test_structure_symmetric_with_eps_diagonal(rng):
    A = rng.random((50, 30))
    L = rbf_kernel(A, eps=0.25)
    assert np.array_equal(L, L.T)
    np.testing.assert_array_equal(np.diag(L), 1.25)
    assert np.all(L > 0) and np.all(L <= 1.25)
    assert (
        np.linalg.eigvalsh(L).min() >= 0.25 - 1e-9
    )  # L' is PSD, so L' + eps I has eigenvalues >= eps


def test_identical_neurons_give_one_despite_round_off(rng):
    A = rng.random((10000, 3)) * 1e3
    A[:, 2] = A[:, 0]
    L = rbf_kernel(A, eps=0.0)
    assert L[0, 2] == 1.0


def test_accumulator_equals_gram(rng):
    A = rng.random((5000, 40))
    acc = GramAccumulator()
    for part in np.array_split(A, 13):
        acc.update(part)
    np.testing.assert_allclose(acc.gram, naive.gram(A), rtol=1e-12)
    np.testing.assert_allclose(acc.gram, gram(A), rtol=1e-12)
    np.testing.assert_allclose(acc.sums, A.sum(axis=0))
    np.testing.assert_allclose(acc.means, A.mean(axis=0))
    assert acc.n_samples == 5000 and acc.n_features == 40
    np.testing.assert_allclose(acc.kernel(), rbf_kernel(A), rtol=1e-10)


def test_accumulator_float32_blocks_sum_in_float64(rng):
    A = rng.random((9000, 20)).astype(np.float32)
    exact = naive.gram(A)  # float64 arithmetic on the float32 values
    acc = GramAccumulator(20)
    acc.update(A[:4000]).update(A[4000:])
    assert np.max(np.abs(acc.gram - exact)) / np.max(exact) < 1e-6
    assert np.max(np.abs(gram(A) - exact)) / np.max(exact) < 1e-6


def test_accepts_torch_tensors_and_integers(rng):
    A = rng.random((100, 5))
    np.testing.assert_allclose(rbf_kernel(torch.from_numpy(A)), rbf_kernel(A))
    ints = rng.integers(0, 3, size=(30, 4))
    np.testing.assert_allclose(rbf_kernel(ints), naive.rbf_kernel(ints.astype(float)), rtol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_accumulator_takes_torch_tensors(rng, dtype):
    A = rng.random((5000, 30))
    acc = GramAccumulator()
    for part in np.array_split(A, 3):
        acc.update(torch.from_numpy(part).to(dtype))
    exact = naive.gram(torch.from_numpy(A).to(dtype).double().numpy())
    rtol = 1e-12 if dtype == torch.float64 else 1e-6
    assert np.max(np.abs(acc.gram - exact)) / np.max(exact) < rtol
    np.testing.assert_allclose(
        acc.sums, torch.from_numpy(A).to(dtype).double().sum(0).numpy(), rtol=rtol
    )
    assert acc.n_samples == 5000
    bad = torch.ones(4, 30)
    bad[2, 3] = float("nan")
    with pytest.raises(ValueError, match="batch contains 1 NaN"):
        acc.update(bad)
    with pytest.raises(ValueError, match="batch must have 30 columns"):
        acc.update(torch.ones(2, 3))
    acc2 = GramAccumulator().update(torch.ones(3, 2, dtype=torch.int64))
    np.testing.assert_allclose(acc2.gram, np.full((2, 2), 3.0))


def test_kernel_from_gram(rng):
    A = rng.random((300, 11))
    G = gram(A)
    np.testing.assert_allclose(rbf_kernel_from_gram(G, n_samples=300), rbf_kernel(A))
    np.testing.assert_allclose(
        rbf_kernel_from_gram(G, beta=0.2, eps=0), naive.rbf_kernel(A, 0.2, 0)
    )


def test_inputs_not_modified(rng):
    A = rng.random((64, 6)).astype(np.float32)
    before = A.copy()
    rbf_kernel(A)
    gram(A)
    GramAccumulator().update(A)
    np.testing.assert_array_equal(A, before)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: rbf_kernel(np.ones(5)), "A must be a 2-D"),
        (lambda: rbf_kernel(np.array([[1.0, np.nan]])), "A contains 1 NaN"),
        (lambda: rbf_kernel(np.array([[1.0, np.inf]])), "A contains 1 NaN or infinite"),
        (lambda: rbf_kernel(np.zeros((0, 3))), "A must not be empty"),
        (lambda: rbf_kernel(np.ones((3, 2), dtype=complex)), "A must hold real numbers"),
        (lambda: rbf_kernel(np.ones((3, 2)), beta=-1.0), "beta must be finite and > 0"),
        (lambda: rbf_kernel(np.ones((3, 2)), beta=0.0), "beta must be finite and > 0"),
        (lambda: rbf_kernel(np.ones((3, 2)), eps=-0.1), "eps must be finite and >= 0"),
        (lambda: rbf_kernel(np.ones((3, 2)), eps=np.nan), "eps must be finite"),
        (lambda: rbf_kernel_from_gram(np.ones((3, 2)), n_samples=3), "G must be a square"),
        (lambda: rbf_kernel_from_gram(np.eye(3)), "pass n_samples"),
        (
            lambda: rbf_kernel_from_gram(np.eye(3), n_samples=2.5),
            "n_samples must be a positive integer",
        ),
        (lambda: GramAccumulator(3).update(np.ones((4, 2))), "batch must have 3 columns"),
        (lambda: GramAccumulator().gram, "GramAccumulator is empty"),
        (lambda: GramAccumulator(0), "n_features must be a positive integer"),
        (
            lambda: GramAccumulator(track_sums=False).update(np.ones((2, 2))).sums,
            "track_sums=False",
        ),
        (
            lambda: GramAccumulator().update(np.ones((2, 2))).update(np.array([[0.0, -np.inf]])),
            "batch contains 1 NaN",
        ),
        (
            lambda: rbf_kernel(np.full((4, 2), 1e30, dtype=np.float32)),
            "A is too large for float32 arithmetic",
        ),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_the_papers_constants_are_the_kernels_defaults(rng):
    from divnet_nb import paper
    from divnet_nb.core import kernel

    assert (paper.BETA_NUMERATOR, paper.EPS) == (10.0, 0.01)  # section 2.1.1
    assert paper.BETA_NUMERATOR is kernel.BETA_NUMERATOR and paper.EPS is kernel.DEFAULT_EPS
    A = rng.random((40, 6))
    explicit = rbf_kernel(A, beta=paper.BETA_NUMERATOR / 40, eps=paper.EPS)
    np.testing.assert_array_equal(rbf_kernel(A), explicit)
    assert default_beta(40) == paper.BETA_NUMERATOR / 40


@pytest.mark.parametrize(
    ("value", "allow_zero", "ok"),
    [
        (1.5, False, True),
        (np.float32(2.0), False, True),
        (3, False, True),
        (0.0, True, True),
        (0.0, False, False),
        (-1e-300, True, False),
        (np.inf, False, False),
        (np.nan, True, False),
        (True, False, False),
        ("1.0", False, False),
        (None, False, False),
    ],
)
def test_one_finite_positive_real_check(value, allow_zero, ok):
    from divnet_nb.core._validate import as_positive_real

    if ok:
        assert as_positive_real(value, "x", allow_zero=allow_zero) == float(value)
    else:
        with pytest.raises(ValueError, match=r"^x must be (a )?finite"):
            as_positive_real(value, "x", allow_zero=allow_zero)
