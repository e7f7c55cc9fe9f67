"""The teacher-student experiment: its dict, JSON, seeds, table, plots and helpers, on a tiny run."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from matplotlib.figure import Figure
from test_teacher_student import specialised_pruned_error

from divnet_nb.report.theory import plot_learning_curves, plot_pruned, theory_markdown
from divnet_nb.theory import (
    CLAIMS,
    edge_masks,
    generalization_error,
    matched_edges,
    ode_learning_curve,
    order_parameters,
)
from divnet_nb.theory.experiment import (
    FAST_SETTINGS,
    matched_parameters,
    mean_masked_order_parameters,
    ode_restarts,
    specialised_student,
    teacher_student_experiment,
    train_student,
    unit_roles,
)
from divnet_nb.theory.pruned import EDGE_RULES, NODE_RULES

TINY = dict(N=60, M=2, K=4, steps=6000, students=2, n_masks=10, n_dpp_edge_masks=3, n_inputs=80)
KEYS = {"settings", "sizes", "edges", "parameters", "rules", "students", "ode", "pooled",
        "unpruned", "claims", "timing", "experiment", "parts", "environment"}  # fmt: skip


@pytest.fixture(scope="module")
def result():
    return teacher_student_experiment(**TINY, fuse=True, seed=3)


def test_the_result_has_every_key_and_survives_json(result):
    assert set(result) == KEYS
    assert set(result["students"][0]) == {"unpruned", "curve", "roles", "restart", "sweep"}
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    assert result["settings"]["records"] == 10 and len(result["ode"]["alpha"]) == 11
    assert result["ode"]["alpha"] == result["students"][0]["curve"]["alpha"]
    assert result["ode"]["error"][0] == result["students"][0]["curve"]["error"][0]
    assert len(result["students"][1]["restart"]["relative"]) == 10
    assert result["timing"]["total"] >= result["timing"]["sweep"] > 0


def test_the_table_has_every_rule_at_every_size(result):
    fused = [f"node {r}+fuse" for r in NODE_RULES]
    want = [f"node {r}" for r in NODE_RULES] + fused + [f"edge {r}" for r in EDGE_RULES]
    assert sorted(result["rules"]) == sorted(want)
    assert result["sizes"] == [1, 2, 3]
    for lab in want:
        assert len(result["pooled"][lab]["mean"]) == len(result["pooled"][lab]["se"]) == 3
        n = result["students"][0]["sweep"][lab]["n"]
        assert n == ([1] * 3 if lab.startswith(("node importance", "edge magnitude")) else
                     [3] * 3 if lab == "edge dpp" else [10] * 3)  # fmt: skip
        mean = np.mean([s["sweep"][lab]["mean"] for s in result["students"]], axis=0)
        np.testing.assert_allclose(result["pooled"][lab]["mean"], mean, rtol=1e-12)
    md = theory_markdown(result)
    for lab in want:
        assert f"| {lab.replace('+fuse', ' + fusion (ours)')} |" in md
    for k, e in zip(result["sizes"], result["edges"], strict=True):
        assert f"k = {k}, e = {e}" in md


def test_parameter_counts(result):
    N, K = 60, 4
    edges = [matched_edges(N, K, k) for k in (1, 2, 3)]
    assert result["edges"] == edges
    assert result["parameters"] == {
        "node": [61, 122, 183], "edge": [K * (e + 1) for e in edges], "unpruned": 244,
    }  # fmt: skip
    assert matched_parameters(500, 6, 2) == (166, 1002, 1002)
    assert matched_parameters(500, 6, 1) == (82, 501, 498)


def test_verdicts_are_three_way_and_every_claim_is_stated(result):
    md = theory_markdown(result)
    for across in ("masks", "students"):
        assert set(result["claims"][across]) == {c.name for c in CLAIMS}
        for c in result["claims"][across].values():
            assert c["verdict"] in {"holds", "does not hold", "not resolved"}
            assert [r["k"] for r in c["rows"]] == [1, 2, 3]
            assert all(
                r["verdict"] in {"holds", "does not hold", "not resolved"} for r in c["rows"]
            )
    for c in CLAIMS:
        assert f"**Claim {c.name}**" in md


def test_a_seed_repeats_the_result_exactly(result):
    again = teacher_student_experiment(**TINY, fuse=True, seed=3)
    drop = lambda r: {k: v for k, v in r.items() if k not in ("timing", "parts")}  # noqa: E731
    assert drop(again) == drop(result)
    other = teacher_student_experiment(**{**TINY, "students": 1}, restarts=False, seed=4)
    assert other["students"][0]["unpruned"] != result["students"][0]["unpruned"]
    assert other["claims"]["students"]["1"]["rows"][0]["low"] is None  # one student: no interval
    assert other["students"][0]["restart"]["mean_abs"] is None


def test_train_student_is_the_experiments_student(result):
    W_star, v_star, run = train_student(N=60, M=2, K=4, steps=6000, seed=3, student=1)
    assert run.error.tolist() == result["students"][1]["curve"]["error"]
    assert v_star.tolist() == [4.0, 4.0] and W_star.shape == (2, 60)


def test_plots_draw(result):
    fig = Figure(figsize=(8, 3), dpi=100)
    a, b = fig.subplots(1, 2)
    plot_pruned(result, a)
    plot_learning_curves(result, b)
    fig.savefig(io.BytesIO(), format="png")
    assert a.get_yscale() == "log" and b.get_xscale() == b.get_yscale() == "log"
    assert len(a.get_legend().get_texts()) == len(result["rules"]) + 1  # + unpruned
    assert len(b.get_lines()) == len(result["students"]) + 1


def test_restarts_of_the_odes_own_curve_are_zero():
    """A "run" that *is* the ODE's curve is predicted by every restart (to solver tolerance)."""
    W_star, v_star, run = train_student(N=60, M=2, K=4, steps=600, seed=0)
    curve = ode_learning_curve(run.Q[0], run.R[0], run.T, run.v[0], v_star, alpha=np.arange(11.0))
    rel = ode_restarts(curve, v_star, window=2)
    assert rel.shape == (5,) and np.abs(rel).max() < 1e-4


def test_unit_roles_find_sign_flipped_copies():
    rng = np.random.default_rng(0)
    W_star = rng.standard_normal((2, 200))
    W = np.vstack([W_star[0], -W_star[1], -W_star[0] * 1.5])
    roles = unit_roles(*order_parameters(W, W_star), [1.0, -1.0, -0.5])
    assert roles["teacher"] == [0, 1, 0] and roles["flipped"] == 2
    np.testing.assert_allclose(roles["cosine"], [1, -1, -1], atol=1e-12)


@pytest.mark.parametrize("c", [0.2, 0.5, 1.0])
def test_the_specialised_student_is_the_closed_form(c):
    got = generalization_error(*specialised_student(2, 6, 4.0, c))
    assert got == pytest.approx(specialised_pruned_error(c, 2, 6, 4.0), rel=1e-12, abs=1e-13)


def test_mean_masked_order_parameters_are_the_masks_mean():
    rng = np.random.default_rng(1)
    W, W_star = rng.standard_normal((3, 40)), rng.standard_normal((2, 40))
    masks = edge_masks(W, 10, "random-bernoulli", n_masks=20_000, rng=2)
    Wm = W[None] * masks
    Q = np.einsum("mkn,mjn->kj", Wm, Wm) / 40 / masks.shape[0]
    R = np.einsum("mkn,jn->kj", Wm, W_star) / 40 / masks.shape[0]
    Qm, Rm = mean_masked_order_parameters(*order_parameters(W, W_star)[:2], 0.25)
    np.testing.assert_allclose(Q, Qm, atol=0.01)
    np.testing.assert_allclose(R, Rm, atol=0.01)


def test_fast_settings_are_small():
    assert FAST_SETTINGS["N"] * FAST_SETTINGS["steps"] <= 500 * 800_000 / 20


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: teacher_student_experiment(**{**TINY, "students": 0}), "students must be an integer >= 1"),
        (lambda: teacher_student_experiment(**TINY, eta=0.0), "eta must be finite and > 0"),
        (lambda: teacher_student_experiment(**TINY, eta=-0.5), "eta must be finite and > 0"),
        (lambda: teacher_student_experiment(**{**TINY, "K": 1}), "K must be an integer >= 2"),
        (lambda: teacher_student_experiment(**{**TINY, "n_masks": 1}), "n_masks must be"),
        (lambda: teacher_student_experiment(**TINY, v_star=0.0), "v_star must be finite and > 0"),
        (lambda: specialised_student(2, 5, 4.0), "K must be a multiple of M"),
        (lambda: mean_masked_order_parameters(np.eye(2), np.eye(2), 1.5), "c must be a keep"),
        (lambda: ode_restarts(None, [1.0], window=0), "window must be an integer >= 1"),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_error(call, message):
    with pytest.raises(ValueError, match=message) as caught:
        call()
    assert "\n" not in str(caught.value)


def test_unit_roles_cosines_are_bounded(result):
    for st in result["students"]:
        assert all(abs(c) <= 1 + 1e-12 for c in st["roles"]["cosine"])
        assert 0 <= st["roles"]["flipped"] <= 4 and not math.isnan(st["unpruned"])
