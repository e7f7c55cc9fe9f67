"""The kernel experiment: its parts, its pairing with the leaderboard, its verdicts and its report."""

from __future__ import annotations

import numpy as np
import pytest

from divnet_nb.experiments import Experiment, settings_for
from divnet_nb.experiments import kernels as experiment
from divnet_nb.experiments.leaderboard import leaderboard_part
from divnet_nb.report.kernels import kernels_markdown
from divnet_nb.report.outputs import write_outputs
from divnet_nb.tasks.driver import run_experiment
from divnet_nb.tasks.protocol import get_experiment
from divnet_nb.verdicts import holm, t_interval, t_test


def test_holm_by_hand_and_the_t_test_agrees_with_the_t_interval(rng):
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]).tolist() == [1.0, 1.0]
    for _ in range(50):
        d = rng.normal(rng.normal(0, 1), 1, size=5)
        _, low, high = t_interval(d)
        assert (t_test(d) < 0.05) == (low > 0 or high < 0)
    assert t_test([0.5, 0.5, 0.5]) == 0.0 and t_test([0.3]) == 1.0


def fake_result(n=5, seed=0):
    """A result in which cosine is clearly below rbf with every selector, linear is not."""
    r = np.random.default_rng(seed)
    fr = [0.1, 0.5]
    base = r.uniform(0.05, 0.1, size=(n, len(fr)))
    test = {}
    for kernel, shift in (("rbf", 0.0), ("cosine", -0.02), ("linear", 0.0)):
        for selector in experiment.SELECTORS:
            noise = r.normal(0, 0.01 if kernel == "linear" else 1e-4, size=base.shape)
            test[experiment.kernel_entry(kernel, selector)] = (base + shift + noise).tolist()
    return {
        "experiment": "kernels", "dataset": "digits", "fractions": fr,
        "kernels": ["rbf", "cosine", "linear"], "selectors": list(experiment.SELECTORS),
        "test_error": test, "importance_test_error": (base + 0.01).tolist(),
        "relative_E_layer1": {k: [[0.1, 0.01]] * n for k in test},
        "importance_relative_E_layer1": [[0.1, 0.01]] * n,
        "kernel_params": {"rbf": [[{}, {}]] * n, "cosine": [[{}, {}]] * n, "linear": [[{}, {}]] * n},
        "unpruned_test_error": [0.03] * n, "settings": {"n_kernel": None},
    }  # fmt: skip


def test_comparisons_count_their_intervals_and_correct_them_by_holm():
    result = fake_result()
    families = experiment.kernel_comparisons(result)
    assert len(families["rbf"]) == 2 * 3 * 2  # two kernels besides rbf, 3 selectors, 2 fractions
    assert len(families["importance"]) == 3 * 3 * 2
    cosine = [r for r in families["rbf"] if r["kernel"] == "cosine"]
    assert all(r["verdict"] == "holds" and r["mean"] < 0 for r in cosine)
    p = [r["p"] for r in families["rbf"]]
    assert [r["p_holm"] for r in families["rbf"]] == pytest.approx(holm(p).tolist())
    assert all(r["p_holm"] >= r["p"] for r in families["rbf"])
    text = kernels_markdown(result)
    assert "12 intervals in this family. With Holm's correction over all 12: 6 hold" in text
    assert "30 intervals in two families" in text


@pytest.fixture(scope="module")
def digits_exp():
    return Experiment("digits", settings_for("digits", fast=True, instances=1), progress=False)


def test_the_paper_kernel_repeats_the_leaderboards_divnet_number_for_number(digits_exp):
    fractions = (0.05, 0.1, 0.25)  # streams are keyed by the index of the fraction
    ours = experiment.kernel_part(digits_exp, 0, "rbf", fractions)
    board = leaderboard_part(digits_exp, 0, fractions=fractions,
                             entry_list=[("dpp", "uniform", "pruned")])  # fmt: skip
    assert ours["test_error"]["dpp"] == board["test_error"]["dpp"]
    assert ours["relative_E_layer1"]["dpp"] == board["relative_E_layer1"]["dpp"]
    cosine = experiment.kernel_part(digits_exp, 0, "cosine", fractions)
    assert cosine["test_error"]["dpp"] != ours["test_error"]["dpp"]


def test_a_small_run_through_the_driver_and_the_writer(digits_exp, tmp_path, monkeypatch):
    monkeypatch.setattr(experiment, "KERNELS", ("rbf", "cosine", "learned"))
    monkeypatch.setattr(experiment, "FAST_FRACTIONS", (0.25,))
    protocol = get_experiment("kernels")
    settings = digits_exp.settings
    keys = protocol.phases(settings)[1]
    assert keys == [
        "net0-kernel-rbf",
        "net0-kernel-cosine",
        "net0-kernel-learned",
        "net0-importance",
    ]
    result = run_experiment(protocol, settings, store_root=tmp_path / "parts", progress=False)
    assert result["experiment"] == "kernels" and result["fractions"] == [0.25]
    assert set(result["test_error"]) == {
        experiment.kernel_entry(k, s)
        for k in ("rbf", "cosine", "learned")
        for s in experiment.SELECTORS
    }
    fit = result["kernel_params"]["learned"][0][0]
    assert fit["objective"] <= fit["default_objective"] and "factor" in fit
    again = run_experiment(protocol, settings, store_root=tmp_path / "parts", progress=False)
    assert again["test_error"] == result["test_error"]  # read back from the store
    md = write_outputs(result, tmp_path / "out")
    assert (tmp_path / "out" / "kernels.png").stat().st_size > 10_000
    assert "## Paired comparisons" in md.read_text() and "learned kernel" in md.read_text()
    with pytest.raises(ValueError, match="no part 'net0-kernel-gaussian'"):
        protocol.measure(digits_exp, "net0-kernel-gaussian")


def test_fusions_that_need_a_ridge_are_counted_not_printed(digits_exp, monkeypatch, recwarn):
    import divnet_nb.pruning.apply as apply
    from divnet_nb import FusionWarning

    real = apply.fuse_from_gram

    def ridged(*args, **kwargs):
        import warnings

        warnings.warn(
            FusionWarning("a singular kept block (a test double)", ridge=1e-9), stacklevel=2
        )
        return real(*args, **kwargs)

    monkeypatch.setattr(apply, "fuse_from_gram", ridged)
    part = experiment.kernel_part(digits_exp, 0, "cosine", (0.25, 0.5))
    assert part["ridged_solves"] == 2 * 3 * 2  # two hidden layers, three selectors, two sizes
    assert not [w for w in recwarn if issubclass(w.category, FusionWarning)]
    result = {"ridged_solves": part["ridged_solves"], "settings": {}}
    from divnet_nb.report.kernels import _ridged

    assert "singular in 12 pruned layers" in _ridged(result) and _ridged({}) == ""
