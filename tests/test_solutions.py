"""The solutions of the notebooks' coding exercises run, and answer what their exercise asks.

``assignments/solutions/notebook_NN.py`` holds one function per coding exercise of notebook NN
(its hint sits beside the exercise, in a ``<details>`` block). Each test runs one solution on a
small stand-in (the toy layer of notebook 00, random kernels, a network trained on
scikit-learn's digits) and checks a property the exercise's answer rests on, so a wrong
solution fails. The hints themselves are checked here too: every coding exercise has one, and
no hint contains a line of a solution.
"""

from __future__ import annotations

import ast
import importlib.util
import math
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

import divnet_nb as dn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "assignments"))
from check import solution_lines  # noqa: E402

pytestmark = pytest.mark.assignments

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "assignments" / "solutions"
NOTEBOOKS = ROOT / "notebooks"


def solution(number: str):
    path = SOLUTIONS / f"notebook_{number}.py"
    spec = importlib.util.spec_from_file_location(f"solution_{number}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def solution_names(number: str) -> set[str]:
    """The names a solution module defines, read without running it (running one can
    register a rule, as notebook 13's does, which would outlive the test)."""
    tree = ast.parse((SOLUTIONS / f"notebook_{number}.py").read_text())
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}


@pytest.fixture(scope="module")
def digits():
    """The digits network of seed 0 (64-100-100-10, cached) and its data."""
    from divnet_nb.datasets import load_dataset
    from divnet_nb.training import load_or_train

    data = load_dataset("digits")
    return data, load_or_train(data, (64, 100, 100, 10), seed=0, progress=False).model


@pytest.fixture(scope="module")
def toy():
    """Notebook 00's toy layer: 40 sigmoid neurons in 4 groups driven by 4 latent factors."""
    rng = np.random.default_rng(0)
    sizes = [16, 12, 8, 4]
    group = np.repeat(np.arange(4), sizes)
    Z = rng.standard_normal((500, 4))
    U = 2.0 * np.eye(4)[group] + 0.05 * rng.standard_normal((40, 4))
    c = 0.1 * rng.standard_normal(40)
    A = 1.0 / (1.0 + np.exp(-(Z @ U.T + c)))
    W = rng.standard_normal((40, 10))
    return {"Z": Z, "U": U, "c": c, "A": A, "W": W, "L": dn.rbf_kernel(A), "group": group}


# ---------------------------------------------------------------- hints


CODING = re.compile(r"^(\d+)\. \*\*\(Coding", re.M)


def exercises(nb) -> list[tuple[int, str]]:
    """(number, text up to the next exercise) of each coding exercise of a notebook."""
    cell = next(c for c in nb.cells if c.cell_type == "markdown" and "## Exercises" in c.source)
    text = cell.source.split("## Exercises", 1)[1]
    starts = [m for m in re.finditer(r"^(\d+)\. \*\*\(", text, re.M)]
    out = []
    for m, nxt in zip(starts, [*starts[1:], None], strict=True):
        body = text[m.start() : nxt.start() if nxt else len(text)]
        if body.startswith(f"{m.group(1)}. **(Coding"):
            out.append((int(m.group(1)), body))
    return out


NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem[:2])
def test_every_coding_exercise_has_a_hint_and_a_solution(path):
    nb = nbformat.read(path, as_version=4)
    found = exercises(nb)
    names = solution_names(path.stem[:2]) if found else set()
    for number, body in found:
        assert "<details>" in body and "</details>" in body, (
            f"{path.stem} exercise {number}: no hint"
        )
        assert "<summary>Hint</summary>" in body, (
            f"{path.stem} exercise {number}: the hint's summary"
        )
        assert f"exercise_{number}" in names, f"no solution to {path.stem} exercise {number}"


def test_no_hint_contains_a_solution_line():
    code = solution_lines()
    assert len(code) > 100, "the scan sees the solutions' code"
    for path in NOTEBOOK_FILES:
        nb = nbformat.read(path, as_version=4)
        for number, body in exercises(nb):
            hint = body.split("<details>", 1)[1]
            for line in code:
                assert line not in hint, (
                    f"{path.stem} exercise {number}'s hint holds a solution line: {line}"
                )


def test_the_hint_scan_finds_what_it_should():
    text = (
        "## Exercises\n\n1. **(Study, 5 min)** Look.\n2. **(Coding, 10 min)** Write it.\n\n"
        "   <details>\n   <summary>Hint</summary>\n\n   Start small.\n\n   </details>\n"
        "3. **(Coding, 5 min)** Again.\n"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    found = exercises(nb)
    assert [n for n, _ in found] == [2, 3]
    assert "<details>" in found[0][1] and "<details>" not in found[1][1]


# ---------------------------------------------------------------- notebook 00


def test_00_keeping_more_neurons_lowers_the_fused_error_more_than_the_deleted_one(toy):
    out = solution("00").exercise_3(toy["A"], toy["W"], toy["L"])
    for size in (4, 8):
        assert out[size]["fuse"] < out[size]["delete"] and len(out[size]["keep"]) == size
    drop_fuse = out[4]["fuse"] - out[8]["fuse"]
    drop_delete = out[4]["delete"] - out[8]["delete"]
    assert drop_fuse > 0 and out[8]["delete"] > 0.5 and drop_delete < 0.5


def test_00_greedy_cover_keeps_one_neuron_of_each_group(toy):
    module = solution("00")
    cover = module.greedy_cover(toy["L"], 4)
    assert len(cover) == 4 and set(toy["group"][cover]) == {0, 1, 2, 3}
    out = module.exercise_4(toy["A"], toy["W"], toy["L"])
    assert out["cover fused"] < 0.1


def test_00_the_fused_weights_hold_on_fresh_inputs(toy):
    keep = solution("00").greedy_cover(toy["L"], 4)
    out = solution("00").exercise_5(toy["Z"], toy["U"], toy["c"], toy["W"], keep)
    assert out["train"] < 0.1 and out["new"] < 2 * out["train"] + 0.01


# ---------------------------------------------------------------- notebook 01

POINTS = np.array(
    [[0.20, 0.25], [0.26, 0.20], [0.75, 0.30], [0.80, 0.36], [0.50, 0.80], [0.12, 0.85]]
)


def test_01_duplicate_points_keep_a_tiny_probability_only_with_eps():
    out = solution("01").exercise_1(POINTS)
    assert math.isclose(out[0.01]["det"], 1.01**2 - 1, rel_tol=1e-9) and out[0.01]["P"] > 0
    assert abs(out[0.0]["det"]) < 1e-12


def test_01_scaling_l_moves_the_sizes_not_the_k_dpp_marginals():
    out = solution("01").exercise_2(dn.rbf_kernel(POINTS.T, beta=5.0))
    assert np.allclose(out["marginals"], out["marginals scaled"], atol=1e-12)
    mean = [np.dot(np.arange(7), out[key]) for key in ("sizes", "sizes scaled")]
    assert mean[1] > mean[0] and math.isclose(out["sizes"].sum(), 1.0)


def test_01_a_projection_dpp_draws_exactly_r_items():
    sums = solution("01").exercise_3()
    assert math.isclose(sums[3], 1.0, rel_tol=1e-9)
    assert all(abs(sums[m]) < 1e-12 for m in (4, 5, 6))


def test_01_repulsion_at_two_bandwidths():
    out = solution("01").exercise_4(betas=(30.0, 2000.0), n_points=100, k=10, n_samples=60)
    assert out[30.0]["k-DPP"] > out[30.0]["uniform"]
    gap = {b: out[b]["k-DPP"] - out[b]["uniform"] for b in out}
    assert gap[2000.0] < gap[30.0], "a very narrow kernel barely repels"


# ---------------------------------------------------------------- notebook 02


def test_02_the_float32_gram_trick_loses_precision(digits):
    from divnet_nb.prune import collect_activations

    data, model = digits
    A = collect_activations(model, 0, data.x_train)
    out = solution("02").exercise_3(A)
    assert 1e-9 < out["max error"] < 0.1
    assert out["kernel there"] > 0.5, "the error is largest where neurons are similar"


def test_02_figure_1_for_the_second_layer(digits):
    data, model = digits
    x_digits = data.x_train[[int(np.flatnonzero(data.y_train == d)[0]) for d in range(10)]]
    out = solution("02").exercise_5(model, data.x_train, x_digits, k=20)
    assert out["k-DPP"]["mean similarity"] < out["first"]["mean similarity"]
    assert all(0 <= v["all green"] <= 20 and 0 <= v["all red"] <= 20 for v in out.values())


def test_02_greedy_map_is_at_most_as_redundant_as_samples(digits):
    from divnet_nb.prune import collect_activations

    data, model = digits
    L = dn.rbf_kernel(collect_activations(model, 0, data.x_train).astype(np.float64))
    out = solution("02").exercise_6(L, k=20, n_samples=10)
    assert out["greedy"] <= out["samples"].mean()


# ---------------------------------------------------------------- notebook 03


def test_03_the_variance_of_the_number_of_eigenvectors():
    X = np.random.default_rng(0).random((60, 2))
    out = solution("03").exercise_1(dn.eigendecompose(dn.rbf_kernel(X.T, beta=30.0)), n_draws=3000)
    assert abs(out["sampled"] / out["formula"] - 1) < 0.15


def test_03_one_rescaling_constant_does_not_serve_every_k():
    values = np.random.default_rng(0).uniform(1.0, 1.5, 1000)
    out = solution("03").exercise_2(values, 400)
    assert not np.isfinite(out["plain e_k"]) or out["plain e_k"] > 1e300
    assert 400 in out["finite for k"] and 1e-3 < out["e_k scaled"] < 1e3
    assert len(out["finite for k"]) < 1001, "some k overflow or underflow with the same constant"


def test_03_greedy_det_is_greedy_map():
    rng = np.random.default_rng(1)
    B = rng.standard_normal((30, 30))
    out = solution("03").exercise_4(B @ B.T / 30 + 0.01 * np.eye(30), n=40, k=5)
    assert out["same set"] and out["seconds plain"] > 0


# ---------------------------------------------------------------- notebook 04


def test_04_condition_numbers(digits):
    from divnet_nb.prune import collect_activations

    data, model = digits
    A = collect_activations(model, 0, data.x_train).astype(np.float64)
    keep = np.arange(10)
    out = solution("04").exercise_4(A, keep, keep[::-1])
    assert out["k-DPP"] == pytest.approx(out["random"]) and out["k-DPP"] >= 1


def test_04_breaking_exactness_costs_in_proportion():
    changes = solution("04").exercise_5(deltas=(0.0, 1e-5, 1e-4))
    assert changes[0.0] < 1e-9
    assert 5 < changes[1e-4] / changes[1e-5] < 20, "linear in the perturbation"


# ---------------------------------------------------------------- notebook 05


def test_05_the_cache_key_depends_on_the_data():
    keys = solution("05").exercise_4("digits", n_train=500, sizes=(64, 10, 10))
    assert keys[0] != keys[1]


def test_05_counting_the_full_measurements():
    from divnet_nb.datasets import load_dataset
    from divnet_nb.training import load_or_train

    run = load_or_train(load_dataset("digits"), (64, 100, 100, 10), seed=0, progress=False)
    (row,) = solution("05").exercise_5([run], 0.01)
    assert (
        row["full measurements"] >= 1 and row["above the threshold"] == row["full measurements"] - 1
    )


# ---------------------------------------------------------------- notebooks 06-10


def test_06_relative_residuals(digits):
    data, model = digits
    out = solution("06").exercise_4(model, data.x_train, k=20)
    assert all(0 <= v <= 1 for v in out.values())


def test_07_layer_two_from_the_unpruned_network(digits):
    data, model = digits
    out = solution("07").exercise_3(model, data.x_train, data.x_test, data.y_test, sizes=(30, 30))
    assert all(0 <= v <= 1 for v in out.values())


@pytest.fixture(scope="module")
def digits_sweeps():
    from divnet_nb.experiments import Experiment, settings_for

    exp = Experiment("digits", settings_for("digits", fast=True, instances=2), progress=False)
    keys = ("random", "dpp+fuse", "importance+fuse")
    variants = [v for v in exp.variants if v.key in keys]
    return exp, {layer: exp.sweep(layer, sizes=[10, 25], variants=variants) for layer in (0, 1)}


def test_08_the_relative_gap(digits_sweeps):
    _, sweeps = digits_sweeps
    out = solution("08").exercise_1(sweeps[0], sweeps[1])
    assert out["layer 1"].shape == (2,) and out["verdict"] in (
        "holds",
        "does not hold",
        "not resolved",
    )
    assert np.all(out["layer 1"] < 1)


def test_08_fusion_keeps_the_logits(digits):
    data, model = digits
    out = solution("08").exercise_3(model, data.x_train, k=25)
    assert out["fused"] < out["deleted"]


def test_09_inclusion_probabilities_and_bisection(digits):
    from divnet_nb.prune import layer_statistics

    data, model = digits
    stats = layer_statistics(model, 0, data.x_train)
    n_T = data.x_train.shape[0]
    one = solution("09").exercise_1(stats, n_T)
    assert one["above 0.9"] + one["below 0.1"] <= 100
    assert math.isclose(one["sum"], dn.expected_size(stats.kernel(beta=10 / n_T)), rel_tol=1e-9)
    two = solution("09").exercise_2(stats, n_T, target=20)
    assert abs(two["expected size"] - 20) < 1e-6 and 0 <= two["top overlap"] <= 10


def test_09_near_copies_shrink_the_expected_size():
    out = solution("09").exercise_5()
    assert out["half copies"] < out["original"]


def test_10_parameter_counts():
    left = solution("10").exercise_1((20, 10, 8, 6, 3))
    assert left[1.0] == 1.0 and all(0 < f < 1 for k, f in left.items() if k < 1)


def test_10_error_per_million_parameters_saved(digits_sweeps):
    exp, sweeps = digits_sweeps
    unpruned = float(np.mean([r["test_error"] for r in exp.instances()]))
    out = solution("10").exercise_2(sweeps[0], (64, 100, 100, 10), unpruned)
    assert set(out) == {"dpp+fuse", "importance+fuse"} and all(
        v.shape == (2,) for v in out.values()
    )


def test_10_overlap_of_importance_and_a_k_dpp_sample(digits):
    data, model = digits
    out = solution("10").exercise_4(model, data.x_train, k=30)
    assert 0 <= out["overlap"] <= 30 and out["independent"] == 9.0


# ---------------------------------------------------------------- notebooks 11-14


def test_11_the_objective_with_an_intercept():
    rng = np.random.default_rng(3)
    A = 0.5 + rng.random((200, 12)) @ rng.random((12, 12)) / 4
    W, b = rng.standard_normal((12, 3)), rng.standard_normal(3)
    out = solution("11").exercise_1(A, W, b, [0, 3, 5, 8])
    assert math.isclose(out["formula"], out["measured"], rel_tol=1e-7)


def test_12_the_sign_aware_kernel_sees_flipped_copies():
    """A student with two copies per teacher unit, one of each pair sign-flipped."""
    rng = np.random.default_rng(4)
    N = 60
    W_star = rng.standard_normal((2, N))
    W = np.vstack([W_star[0], -W_star[0], W_star[1], -W_star[1]]) + 0.05 * rng.standard_normal(
        (4, N)
    )
    v, v_star = np.array([2.0, -2.0, 2.0, -2.0]), np.array([4.0, 4.0])
    X = rng.standard_normal((400, N))
    out = solution("12").exercise_2(W, v, W_star, v_star, X, k=2, n_masks=60)
    assert out["sign-aware rbf"] < out["dpp-rbf"]


def test_13_an_edge_rule_over_live_pixels(digits):
    from divnet_nb.pruning import method_names, unregister_method

    data, model = digits
    module = solution("13")
    try:
        assert "dpp-live" in method_names("edge")
        out = module.exercise_2(model, data.x_train, data.x_test, data.y_test)
        assert all(0 <= v <= 1 for v in out.values())
        from divnet_nb.pruning import edge_statistics

        edge = edge_statistics(model, 0, data.x_train)
        masks = module.dpp_live_edges(edge, (5, 60), np.random.default_rng(0))
        dead = np.diag(edge.stats.gram) == 0
        assert dead.any() and not masks[5][:, dead].any() and np.all(masks[60].sum(axis=1) == 60)
    finally:
        unregister_method("dpp-live", "edge")


def test_14_the_formula_holds_at_every_temperature():
    rows = solution("14").exercise_1(n=40_000)
    for row in rows:
        assert (
            abs(row["P(z != 0) sampled"] - row["P(z != 0) formula"])
            < 5 * row["standard error"] + 1e-9
        )
    cold = next(r for r in rows if r["beta"] == 0.1 and r["log alpha"] == 0.0)
    hot = next(r for r in rows if r["beta"] == 2.0 and r["log alpha"] == 0.0)
    assert cold["P(z = 0)"] + cold["P(z = 1)"] > hot["P(z = 0)"] + hot["P(z = 1)"]


# ---------------------------------------------------------------- notebook 15


def test_15_the_cosine_kernel_by_hand_is_the_packages_and_scale_invariant(toy):
    out = solution("15").exercise_2(toy["A"], scale=7.0)
    assert out["max_difference"] < 1e-12 and out["change_after_scaling"] < 1e-12


def test_15_the_smallest_scale_whose_mode_keeps_half(rng):
    from conftest import random_psd

    L = random_psd(rng, 12)
    out = solution("15").exercise_3(L)
    assert out["non_increasing"]
    gains = out["gains"]
    for gamma, kept in ((out["gamma_half"] * (1 + 1e-9), 6), (out["gamma_half"] * (1 - 1e-9), 5)):
        assert int(np.sum(gamma * gains > 1)) == kept


# ---------------------------------------------------------------- notebook 16


def test_16_holm_by_hand_is_the_packages_and_beats_bonferroni(rng):
    out = solution("16").exercise_2(rng)
    assert out["max_difference"] < 1e-15
    assert out["holm_calls"].tolist() == [True, True, True]
    assert out["bonferroni_calls"].tolist() == [True, False, False]


def test_16_holding_at_every_size_needs_no_correction(rng):
    out = solution("16").exercise_3(rng)
    rates, tail = out["holds_wrongly"], out["one_tail"]
    # one size: the one-sided rate of a 95 % interval, 2.5 %, within sampling error
    assert abs(rates[1] - tail) < 4 * math.sqrt(tail * (1 - tail) / 4000)
    assert rates[1] >= rates[3] >= rates[11]
