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
