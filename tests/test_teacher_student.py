"""The teacher-student model: the exact generalisation error against sampling and a closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from divnet_nb.theory import committee_output, generalization_error, order_parameters


def specialised_pruned_error(c: float, M: int, K: int, v_star: float) -> float:
    """eps_g of the specialised student (K/M copies of each teacher unit, v = v*/(K/M)) whose
    first-layer edges are kept with probability c, derived by hand from the order parameters
    Q_ii = c, Q_ik = c^2 (copies of one teacher unit), R_in = c (copy of n), T = I."""
    r = K // M
    a = v_star / r
    per_teacher = (
        r * a * a * math.asin(c / (1 + c))
        + r * (r - 1) * a * a * math.asin(c * c / (1 + c))
        + v_star * v_star * math.asin(0.5)
        - 2 * r * a * v_star * math.asin(c / math.sqrt(2 * (1 + c)))
    )
    return M * per_teacher / math.pi


def specialised_pruned_order_parameters(c: float, M: int, K: int, v_star: float):
    r = K // M
    teacher_of = np.repeat(np.arange(M), r)
    same = teacher_of[:, None] == teacher_of[None, :]
    Q = np.where(same, c * c, 0.0)
    np.fill_diagonal(Q, c)
    R = np.where(teacher_of[:, None] == np.arange(M)[None, :], c, 0.0)
    return Q, R, np.eye(M), np.full(K, v_star / r), np.full(M, v_star)


@pytest.mark.parametrize("M, K", [(2, 6), (5, 20)])
def test_the_pruned_specialised_student_matches_its_closed_form(M, K):
    for kept in range(83, 418):
        c = kept / 500
        got = generalization_error(*specialised_pruned_order_parameters(c, M, K, 4.0))
        assert got == pytest.approx(specialised_pruned_error(c, M, K, 4.0), rel=1e-10, abs=1e-12)


def test_an_unpruned_specialised_student_has_no_error():
    assert generalization_error(
        *specialised_pruned_order_parameters(1.0, 2, 6, 4.0)
    ) == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 40))
    v = rng.standard_normal(3)
    Q, R, T = order_parameters(W, W)
    assert generalization_error(Q, R, T, v, v) == pytest.approx(0.0, abs=1e-12)


def related_pair(rng, N):
    """A teacher with 2 units and a student with 3: two noisy copies of the teacher's units and one unrelated unit."""
    W_star = rng.standard_normal((2, N))
    W = np.vstack([W_star + 0.6 * rng.standard_normal((2, N)), rng.standard_normal((1, N))])
    return W_star, np.array([1.5, -1.0]), W, np.array([1.2, -0.8, 0.3])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_formula_agrees_with_sampling(seed):
    rng = np.random.default_rng(seed)
    N, n = 50, 200_000
    W_star, v_star, W, v = related_pair(rng, N)
    X = rng.standard_normal((n, N))
    half_sq = 0.5 * (committee_output(W, v, X) - committee_output(W_star, v_star, X)) ** 2
    estimate, stderr = half_sq.mean(), half_sq.std(ddof=1) / math.sqrt(n)
    exact = generalization_error(*order_parameters(W, W_star), v, v_star)
    assert abs(estimate - exact) <= 3 * stderr, (estimate, exact, stderr)


def test_the_sampling_check_has_teeth():
    """A cross term without its factor 2 is far outside the sampling check's 3 standard errors."""
    rng = np.random.default_rng(0)
    N, n = 50, 200_000
    W_star, v_star, W, v = related_pair(rng, N)
    X = rng.standard_normal((n, N))
    half_sq = 0.5 * (committee_output(W, v, X) - committee_output(W_star, v_star, X)) ** 2
    Q, R, T = order_parameters(W, W_star)
    wrong = generalization_error(Q, R, T, v, v_star) + generalization_error(
        Q, np.zeros_like(R), T, v, v_star
    )  # = 2 x (student + teacher terms) - 2 x cross: the cross term's weight halved
    assert abs(half_sq.mean() - wrong / 2) > 3 * half_sq.std(ddof=1) / math.sqrt(n)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(Q=np.eye(2)), "Q must be 3 x 3"),
        (dict(R=np.zeros((2, 3))), "R must be 3 x 2"),
        (dict(T=-np.eye(2)), "T must have a non-negative diagonal"),
        (dict(v=np.ones(2)), "Q must be 2 x 2"),
        (dict(v_star=np.array([1.0, np.nan])), "v_star"),
    ],
)
def test_bad_input_is_one_clear_error(change, message):
    args = dict(Q=np.eye(3), R=np.zeros((3, 2)), T=np.eye(2), v=np.ones(3), v_star=np.ones(2))
    args.update(change)
    with pytest.raises(ValueError, match=message):
        generalization_error(**args)
    with pytest.raises(ValueError, match="same input dimension"):
        order_parameters(np.ones((2, 5)), np.ones((2, 6)))


# ---- online SGD --------------------------------------------------------------------------


def naive_sgd(W, v, W_star, v_star, X, noise, eta, train_v):
    """The update rule written with numpy, one step at a time (the kernel's slow twin)."""
    from scipy.special import erf

    W, v = W.copy(), v.copy()
    N = W.shape[1]
    for x, xi in zip(X, noise, strict=True):
        lam = W @ x / math.sqrt(N)
        delta = v @ erf(lam / math.sqrt(2)) - v_star @ erf(W_star @ x / math.sqrt(2 * N)) - xi
        gprime = math.sqrt(2 / math.pi) * np.exp(-(lam**2) / 2)
        new_v = v - eta / N * erf(lam / math.sqrt(2)) * delta if train_v else v
        W = W - np.outer(eta / math.sqrt(N) * v * gprime * delta, x)
        v = new_v
    return W, v


@pytest.mark.parametrize("train_v", [True, False])
def test_the_sgd_kernel_follows_the_update_rule(train_v):
    from divnet_nb.theory.online import _sgd_block

    rng = np.random.default_rng(3)
    N, K, M, steps = 20, 4, 2, 300
    W, v = rng.standard_normal((K, N)), rng.standard_normal(K)
    W_star, v_star = rng.standard_normal((M, N)), np.array([2.0, -1.0])
    X, noise = rng.standard_normal((steps, N)), 0.25 * rng.standard_normal(steps)
    want_W, want_v = naive_sgd(W, v, W_star, v_star, X, noise, 0.5, train_v)
    for kernel in (_sgd_block, getattr(_sgd_block, "py_func", _sgd_block)):  # compiled, plain
        got_W, got_v = W.copy(), v.copy()
        kernel(got_W, got_v, W_star, v_star, X, noise, 0.5, train_v)
        np.testing.assert_allclose(got_W, want_W, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got_v, want_v, rtol=1e-10, atol=1e-12)
    assert train_v or np.array_equal(got_v, v)


def test_a_seed_gives_the_same_run_and_the_student_learns():
    from divnet_nb.theory import online_sgd

    rng = np.random.default_rng(0)
    N, K, M = 100, 4, 2
    W_star, v_star = rng.standard_normal((M, N)), np.full(M, 2.0)
    W, v = 0.1 * rng.standard_normal((K, N)), 0.1 * rng.standard_normal(K)
    before = W.copy(), v.copy()
    runs = [online_sgd(W, v, W_star, v_star, steps=60_000, records=6, rng=7) for _ in range(2)]
    assert np.array_equal(runs[0].W, runs[1].W) and np.array_equal(runs[0].error, runs[1].error)
    assert np.array_equal(W, before[0]) and np.array_equal(v, before[1])  # inputs untouched
    curve = runs[0]
    assert curve.alpha.tolist() == [0, 100, 200, 300, 400, 500, 600]
    assert curve.error[0] == pytest.approx(
        generalization_error(*order_parameters(W, W_star), v, v_star)
    )
    assert curve.error[-1] < 0.1 * curve.error[0]  # a realisable teacher is learned
    Q, R, T = order_parameters(curve.W, W_star)
    assert curve.error[-1] == pytest.approx(generalization_error(Q, R, T, curve.v_final, v_star))


def test_online_sgd_rejects_bad_input_before_work():
    from divnet_nb.theory import online_sgd

    W, v, Ws, vs = np.ones((3, 5)), np.ones(3), np.ones((2, 5)), np.ones(2)
    with pytest.raises(ValueError, match="same input dimension"):
        online_sgd(W, v, np.ones((2, 6)), vs)
    with pytest.raises(ValueError, match="one entry per row"):
        online_sgd(W, np.ones(2), Ws, vs)
    with pytest.raises(ValueError, match="eta"):
        online_sgd(W, v, Ws, vs, eta=0)
    with pytest.raises(ValueError, match="steps"):
        online_sgd(W, v, Ws, vs, steps=0)
    with pytest.raises(ValueError, match="W"):
        online_sgd(np.full((3, 5), np.nan), v, Ws, vs)


@pytest.mark.parametrize("sigma", [0.0, 0.25])
def test_the_number_of_records_does_not_change_the_run(sigma):
    """Blocks of random numbers are fixed stretches of steps: recording more often changes nothing."""
    from divnet_nb.theory import online_sgd

    rng = np.random.default_rng(4)
    W_star, W = rng.standard_normal((2, 20)), 0.1 * rng.standard_normal((3, 20))
    runs = [
        online_sgd(
            W, np.full(3, 0.5), W_star, np.ones(2), steps=9_000, sigma=sigma, records=r, rng=3
        )  # fmt: skip
        for r in (1, 10, 7)
    ]
    for other in runs[1:]:
        assert np.array_equal(other.W, runs[0].W) and np.array_equal(other.v_final, runs[0].v_final)
    assert runs[1].error[-1] == runs[0].error[-1] and len(runs[1].alpha) == 11
