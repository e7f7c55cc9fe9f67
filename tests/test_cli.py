"""The divnet-nb command: errors, and end-to-end --fast runs that check what they write.

The end-to-end runs train into the normal cache ($DIVNET_CACHE, default runs/), so a
second run, and the notebooks, reuse the networks.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import require_data

from divnet_nb.cli import main
from divnet_nb.experiments import VARIANTS
from divnet_nb.paper import TABLE2


def run(capsys, *argv):
    """Run the command in-process; argparse's own errors exit through SystemExit."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["reproduce", "--dataset", "imagenet"], "invalid choice: 'imagenet'"),
        (
            ["reproduce", "--dataset", "mnist", "--sizes", "10,500"],
            r"--sizes must be kept-neuron counts with 1 <= k < 500",
        ),
        (
            ["reproduce", "--dataset", "digits", "--sizes", "0"],
            r"--sizes must be kept-neuron counts with 1 <= k < 100",
        ),
        (
            ["reproduce", "--dataset", "mnist", "--fractions", "0.5,1.5"],
            r"--fractions must lie in \(0, 1\]",
        ),
        (
            ["reproduce", "--dataset", "mnist", "--fractions", "0"],
            r"--fractions must lie in \(0, 1\]",
        ),
        (["reproduce", "--dataset", "mnist", "--instances", "0"], "--instances must be >= 1"),
        (
            ["reproduce", "--dataset", "mnist", "--kernel-samples", "0"],
            "--kernel-samples must be >= 1",
        ),
        (
            ["reproduce", "--dataset", "mnist", "--sizes", "ten"],
            "expected comma-separated integers",
        ),
        (["reproduce"], "the following arguments are required: --dataset"),
        ([], "the following arguments are required"),
    ],
)
def test_usage_errors_are_one_line_with_exit_code_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert re.search(message, err), err
    assert err.count("\n") == 1 and err.startswith("divnet-nb: error:") and "Traceback" not in err


@pytest.mark.parametrize("dataset", ["mnist", "cifar10"])
def test_missing_data_is_a_one_line_error(capsys, tmp_path, monkeypatch, no_network, dataset):
    monkeypatch.setenv("DIVNET_DATA", str(tmp_path))
    code, _, err = run(capsys, "reproduce", "--dataset", dataset, "--fast", "--quiet")
    assert code == 2
    assert (
        err.count("\n") == 1
        and "not found" in err
        and str(tmp_path) in err
        and "DIVNET_DATA" in err
    )


def test_data_command_lists_datasets(capsys):
    code, out, _ = run(capsys, "data")
    assert code == 0
    for name in ("digits", "mnist", "mnist_rot", "cifar10"):
        assert name in out
    assert "digits     ok" in out


def check_outputs(out_dir, dataset, fast=True):
    results = json.loads((out_dir / "results.json").read_text())
    assert results["dataset"] == dataset and results["settings"]["fast"] is fast
    n = results["settings"]["instances"]
    assert len(results["instances"]) == n and all(i["reached"] for i in results["instances"])
    fractions = results["table2"]["fractions"]
    assert fractions == [0.1, 0.25, 0.5, 0.75, 1.0]
    for v in VARIANTS:
        for which in ("train", "test"):
            errs = np.asarray(results["table2"]["errors"][v.key][which])
            assert errs.shape == (n, 5) and ((errs >= 0) & (errs <= 1)).all()
    # at 100 % nothing is pruned: every variant is the trained network
    full = {v.key: results["table2"]["errors"][v.key]["test"] for v in VARIANTS}
    assert len({tuple(e[-1] for e in errs) for errs in full.values()}) == 1
    for layer in ("0", "1"):
        sweep = results["sweeps"][layer]
        assert all(1 <= k < sweep["layer_size"] for k in sweep["sizes"])
        for v in VARIANTS:
            assert np.asarray(sweep["test_error"][v.key]).shape == (n, len(sweep["sizes"]))
    assert {c["claim"][:20] for c in results["claims"]} and all(
        isinstance(c["holds"], bool) for c in results["claims"]
    )
    pngs = sorted(p.name for p in out_dir.glob("*.png"))
    assert pngs == sorted(
        [
            "fig2_dpp_vs_random.png",
            "fig3_fusion.png",
            "fig4_divnet_vs_random_fused.png",
            "fig5_importance.png",
            "fig6_layer2_dpp_vs_random.png",
            "fig7_layer2_fusion.png",
            "fig8_layer2_divnet_vs_random_fused.png",
            "layer1_all_variants.png",
            "layer2_all_variants.png",
            "table2.png",
        ]
    )
    assert all((out_dir / p).stat().st_size > 10_000 for p in pngs)
    report = (out_dir / "report.md").read_text()
    assert "## Table 2" in report and "## The paper's claims, checked" in report
    optimizer = "Adam, lr 0.001" if dataset == "cifar10" else "SGD, lr 0.1, momentum 0.9"
    assert f"({optimizer}, batch 100)" in report
    divnet_test = np.asarray(results["table2"]["errors"]["dpp+fuse"]["test"])
    for j, f in enumerate(fractions):  # the report prints the measured numbers
        row = next(
            line for line in report.splitlines() if line.startswith(f"| {f:.0%} | ") and "±" in line
        )
        assert f"{divnet_test[:, j].mean():.3f} ± {divnet_test[:, j].std():.3f}" in row
        if dataset in TABLE2:
            mean, std = TABLE2[dataset]["test"][j]
            assert f"{mean:.3f} ± {std:.3f}" in row
    for png in pngs:
        assert f"({png})" in report
    return results


def test_reproduce_digits_fast(capsys, tmp_path):
    code, out, _ = run(
        capsys, "reproduce", "--dataset", "digits", "--fast", "--out", str(tmp_path), "--quiet"
    )
    assert code == 0 and f"report at {tmp_path / 'report.md'}" in out
    check_outputs(tmp_path, "digits")


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["mnist", "cifar10"])
def test_reproduce_fast_on_real_data(capsys, tmp_path, dataset):
    require_data(dataset)
    code, out, _ = run(
        capsys, "reproduce", "--dataset", dataset, "--fast", "--out", str(tmp_path), "--quiet"
    )
    assert code == 0
    check_outputs(tmp_path, dataset)


def test_experiment_beta_sweep_and_expected_sizes():
    from divnet_nb.experiments import Experiment, settings_for

    exp = Experiment("digits", settings_for("digits", fast=True, instances=1), progress=False)
    out = exp.beta_sweep(0, factors=(1, 10, 1000))
    assert out["betas"] == [f / exp.x_kernel.shape[0] for f in (1, 10, 1000)]
    kept = out["kept"][0]
    assert (
        kept[0] <= kept[1] <= kept[2] <= 100
    )  # a narrower kernel (larger beta) keeps more neurons
    assert all(0 <= e <= 1 for e in out["test_error"][0] + out["train_error"][0])
    sizes = exp.expected_sizes()
    assert len(sizes) == 1 and len(sizes[0]) == 2 and all(0 < s < 100 for s in sizes[0])


def test_experiment_knows_whether_it_is_cached(tmp_path, monkeypatch):
    from divnet_nb.experiments import Experiment, settings_for

    monkeypatch.setenv("DIVNET_CACHE", str(tmp_path))
    exp = Experiment("digits", settings_for("digits", fast=True, instances=1), progress=False)
    assert not exp.is_cached()
    assert len(exp.runs) == 1  # trains into the empty cache
    assert exp.is_cached()
