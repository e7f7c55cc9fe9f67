"""The size experiment: rivals get exactly the sizes the rules chose, its verdicts, its report."""

from __future__ import annotations

import numpy as np
import pytest

from divnet_nb.experiments import Experiment, settings_for
from divnet_nb.experiments import sizes as experiment
from divnet_nb.report.outputs import write_outputs
from divnet_nb.report.sizes import sizes_markdown, sizes_summary
from divnet_nb.tasks.driver import run_experiment
from divnet_nb.tasks.protocol import get_experiment
from divnet_nb.verdicts import holm


def fake_result(n=5, seed=0):
    """map-sized is clearly below both rivals at both tolerances; dpp-sized is noise."""
    r = np.random.default_rng(seed)
    base = r.uniform(0.05, 0.1, size=(n, 2))
    test, sizes = {}, {}
    for rule, shift in (("dpp-sized", 0.0), ("map-sized", -0.02)):
        test[experiment.entry(rule)] = (base + shift + r.normal(0, 0.01 if shift == 0 else 1e-4,
                                                                size=base.shape)).tolist()  # fmt: skip
        for rival in experiment.RIVALS:
            test[experiment.entry(rule, rival)] = base.tolist()
        for key in (
            experiment.entry(rule),
            *(experiment.entry(rule, v) for v in experiment.RIVALS),
        ):
            sizes[key] = [[[40, 20], [20, 10]]] * n
    return {
        "experiment": "sizes", "dataset": "digits", "tolerances": [0.01, 0.05],
        "rules": list(experiment.RULES), "rivals": list(experiment.RIVALS), "widths": [100, 100],
        "sizes": sizes, "test_error": test, "unpruned_test_error": [0.03] * n,
        "ridged_solves": 0, "settings": {},
    }  # fmt: skip


def test_comparisons_are_one_family_corrected_by_holm():
    result = fake_result()
    rows = experiment.size_comparisons(result)
    assert len(rows) == 2 * 3 * 2  # rules x rivals x tolerances
    mapped = [r for r in rows if r["rule"] == "map-sized"]
    assert all(
        r["verdict"] == "holds" and r["mean"] == pytest.approx(-0.02, abs=1e-3) for r in mapped
    )
    assert [r["p_holm"] for r in rows] == pytest.approx(holm([r["p"] for r in rows]).tolist())
    text = sizes_markdown(result)
    assert "12 intervals, one family. With Holm's correction over all 12: 6 hold" in text
    assert "| map-sized | its own | 40 / 20 | 60 |" in text and "## Tolerance 5%" in text
    assert "Of 12 paired comparisons (Holm): 6 hold" in sizes_summary(result)
    assert "| greedy-map | a shared budget, map-sized's total |" in text


@pytest.fixture(scope="module")
def digits_exp():
    return Experiment("digits", settings_for("digits", fast=True, instances=1), progress=False)


def test_the_rivals_get_the_sizes_the_rules_chose(digits_exp, tmp_path, monkeypatch):
    monkeypatch.setattr(experiment, "TOLERANCES", (0.05,))
    protocol = get_experiment("sizes")
    settings = digits_exp.settings
    assert protocol.phases(settings)[1] == ["net0-sizes"]
    result = run_experiment(protocol, settings, store_root=tmp_path / "parts", progress=False)
    assert result["tolerances"] == [0.05] and result["widths"] == [100, 100]
    for rule in experiment.RULES:
        own = result["sizes"][experiment.entry(rule)][0][0]
        assert 1 <= min(own) and max(own) < 100  # the rule chose, and pruned something
        assert result["sizes"][experiment.entry(rule, "k-dpp")][0][0] == own
        for rival in ("uniform", "budget"):
            assert sum(result["sizes"][experiment.entry(rule, rival)][0][0]) == sum(own)
        assert result["sizes"][experiment.entry(rule, "uniform")][0][0] == (
            experiment.uniform_sizes([100, 100], sum(own))
        )
    again = run_experiment(protocol, settings, store_root=tmp_path / "parts", progress=False)
    assert again["test_error"] == result["test_error"]  # read back from the store
    md = write_outputs(result, tmp_path / "out")
    assert (tmp_path / "out" / "sizes.png").stat().st_size > 10_000
    assert "## Paired comparisons" in md.read_text()
    with pytest.raises(ValueError, match="no part 'net0-size'"):
        protocol.measure(digits_exp, "net0-size")


def test_uniform_sizes_split_a_total_in_proportion_to_the_widths():
    assert experiment.uniform_sizes([500, 500], 135) == [68, 67]
    assert experiment.uniform_sizes([1000, 1000, 1000], 100) == [34, 33, 33]
    assert experiment.uniform_sizes([10, 1000], 12) == [1, 11]
    assert experiment.uniform_sizes([3, 5], 8) == [3, 5]
    with pytest.raises(ValueError, match="total must be between 2 and 8"):
        experiment.uniform_sizes([3, 5], 9)


def test_a_smaller_tolerance_keeps_at_least_as_many_neurons_in_the_first_layer(digits_exp):
    """The mode's first layer is chosen on the unpruned network: nested sets, monotone sizes."""
    from divnet_nb.prune import prune_layer

    model, x = digits_exp.model(0), digits_exp.x_kernel
    widths = [
        prune_layer(model, 0, None, "map-sized", True, data=x, tolerance=tol).hidden_sizes[0]
        for tol in (0.2, 0.05, 0.01, 0.002)
    ]
    assert widths == sorted(widths) and widths[0] < widths[-1]


def test_open_questions_are_answered_in_words_from_their_counts():
    from divnet_nb.report.questions import answer, answers_markdown, open_questions
    from divnet_nb.report.readme import load_kernels

    assert answer({"holds": 3, "does not hold": 0, "not resolved": 0}) == "holds"
    assert answer({"holds": 1, "does not hold": 0, "not resolved": 5}) == "holds in 1 of 6"
    assert answer({"holds": 0, "does not hold": 2, "not resolved": 1}) == "does not hold in 2 of 3"
    assert answer({"holds": 1, "does not hold": 1, "not resolved": 0}) == "mixed"
    assert answer({"holds": 0, "does not hold": 0, "not resolved": 4}) == "not resolved"
    sizes = {"digits": fake_result()}
    inter = {"test_error": {"dpp": [0.01] * 5, "random": [0.02, 0.021, 0.019, 0.02, 0.02],
                            "post-hoc": [0.01, 0.012, 0.009, 0.011, 0.01]}}  # fmt: skip
    rows = open_questions(load_kernels(), sizes, inter)
    assert [sum(c.values()) for _, c in rows] == [45, 90, 45, 2, 2, 2, 2, 1, 1]
    text = answers_markdown(rows)
    assert "| interleaved pruning: dpp below random | 1 | 0 | 0 | holds |" in text
    assert (
        "| DPP-chosen sizes (mode) below a shared budget, same total | 2 | 0 | 0 | holds |" in text
    )
