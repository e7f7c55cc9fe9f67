"""The divnet-nb command: errors, and end-to-end --fast runs that check what they write.

The end-to-end runs train into the normal cache ($DIVNET_CACHE, default runs/), so a
second run, and the notebooks, reuse the networks.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import numpy as np
import psutil
import pytest
from conftest import require_data

from divnet_nb import paths
from divnet_nb.cli import main
from divnet_nb.experiments import VARIANTS
from divnet_nb.paper import TABLE2, TABLE2_FRACTIONS


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
            r"--kernel-samples must be between 1 and 60000 \(the training inputs used\); got 0",
        ),
        (
            ["reproduce", "--dataset", "mnist", "--sizes", "ten"],
            "expected comma-separated integers",
        ),
        (["reproduce"], "the following arguments are required: --dataset"),
        ([], "the following arguments are required"),
        (["reproduce", "--dataset", "mnist", "--seed", "-1"], "--seed must be >= 0; got -1"),
        (["reproduce", "--dataset", "mnist", "--data-seed", "-2"], "--data-seed must be >= 0"),
        (
            ["reproduce", "--dataset", "mnist", "--train-samples", "70000"],
            r"--train-samples must be between 1 and 60000 \(the training set of mnist\)",
        ),
        (
            ["reproduce", "--dataset", "cifar10", "--test-samples", "10001"],
            "--test-samples must be between 1 and 10000",
        ),
        (
            ["reproduce", "--dataset", "mnist", "--fast", "--kernel-samples", "10001"],
            r"--kernel-samples must be between 1 and 10000 \(the training inputs used\)",
        ),
        (
            ["reproduce", "--dataset", "mnist", "--out", "/proc/divnet-nb-cannot"],
            "--out /proc/divnet-nb-cannot cannot be used",
        ),
        (
            ["leaderboard", "--dataset", "mnist", "--kernel", "gaussian"],
            r"--kernel must be one of the registered kernels: rbf, linear, cosine, .*; "
            r"got 'gaussian'",
        ),
        (
            ["reproduce", "--dataset", "digits", "--kernel", "cosine", "--methods", "random"],
            r"--kernel: 'cosine' would be read by no compared method \(random\)",
        ),
    ],
)
def test_usage_errors_are_one_line_with_exit_code_2(capsys, argv, message, tmp_path, monkeypatch):
    monkeypatch.setenv("DIVNET_RESULTS", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)  # full mode unless --fast: sizes in messages are full
    monkeypatch.delenv("DIVNET_FAST", raising=False)
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert re.search(message, err), err
    assert err.count("\n") == 1 and err.startswith("divnet-nb: error:") and "Traceback" not in err


def test_a_bad_fast_switch_is_an_error_not_a_guess(capsys, monkeypatch):
    monkeypatch.setenv("DIVNET_FAST", "maybe")
    code, _, err = run(capsys, "reproduce", "--dataset", "digits")
    assert (
        code == 2
        and err == "divnet-nb: error: DIVNET_FAST must be 0, 1, true or false; got 'maybe'\n"
    )
    for value, fast in (("1", True), ("TRUE", True), ("0", False), ("false", False)):
        monkeypatch.setenv("DIVNET_FAST", value)
        assert paths.fast_mode() is fast


def test_an_output_folder_that_is_a_file_is_refused_before_any_work(capsys, tmp_path):
    target = tmp_path / "taken"
    target.write_text("a file, not a folder")
    code, _, err = run(capsys, "reproduce", "--dataset", "digits", "--out", str(target / "x"))
    assert code == 2 and "cannot be used" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["--seed", "-1"],
        ["--train-samples", "70000"],
        ["--methods", "magic"],
        ["--sizes", "0"],
        ["--out", "/proc/divnet-nb-cannot"],
        ["--kernel", "gaussian"],
    ],
)
def test_input_errors_come_before_any_heavy_import_or_data(argv):
    """In a fresh interpreter: exit code 2, one line, and neither torch nor torchvision imported.

    Reading any dataset needs torchvision (MNIST's checksums, CIFAR-10's batches) and
    training needs torch, so their absence shows that the error came before any work.
    """
    code = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "from divnet_nb.cli import main\n"
        f"c = main({['reproduce', '--dataset', 'mnist', *argv]!r})\n"
        "heavy = sorted(m for m in ('torch', 'torchvision') if m in sys.modules)\n"
        "print(c, heavy or 'none', f'{time.perf_counter() - t:.2f}')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    exit_code, heavy, seconds = out.stdout.split()
    assert exit_code == "2" and heavy == "none", out.stdout
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("divnet-nb: error:")
    print(f"{argv}: {seconds} s")  # the time, for the record (machines vary 2x: not asserted)


def test_a_corrupt_dataset_file_is_one_line_naming_the_file(capsys, tmp_path, monkeypatch):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):  # fmt: skip
        (raw / f"{name}.gz").write_bytes(b"not the original file")
    monkeypatch.setenv("DIVNET_DATA", str(tmp_path))
    code, _, err = run(
        capsys, "reproduce", "--dataset", "mnist", "--fast", "--out", str(tmp_path / "o")
    )
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"{raw / 'train-images-idx3-ubyte.gz'} is corrupt" in err
    assert "Replace it with the original file" in err


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
    for c in results["claims"]:  # every claim checked, each with a three-way verdict
        assert c["verdict"] in ("holds", "does not hold", f"not resolved with {n} networks")
        assert c["holds"] is {"holds": True, "does not hold": False}.get(c["verdict"])
        assert c["test"] and c["per_size"]
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
        if n > 1:
            assert f"{divnet_test[:, j].mean():.3f} ± {divnet_test[:, j].std(ddof=1):.3f}" in row
        else:  # one network: its number, no spread
            assert f" {divnet_test[0, j]:.3f} |" in row and "nan" not in row
        if dataset in TABLE2:
            mean, std = TABLE2[dataset]["test"][TABLE2_FRACTIONS.index(f)]
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
@pytest.mark.parametrize("dataset, instances", [("mnist", 2), ("cifar10", 1)])
def test_reproduce_fast_on_real_data(capsys, tmp_path, dataset, instances):
    """The fast mode end to end on real data (CIFAR-10 on one network: its two took 270 s
    of a parallel test run, the longest test after the reference checks)."""
    require_data(dataset)
    code, out, _ = run(capsys, "reproduce", "--dataset", dataset, "--fast", "--instances",
                       str(instances), "--out", str(tmp_path), "--quiet")  # fmt: skip
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


def _numbers(results: dict) -> dict:
    """What must not depend on an interruption: everything but timings and bookkeeping."""
    return {k: v for k, v in results.items() if k not in ("timing", "parts", "instances")} | {
        "instances": [{k: v for k, v in i.items() if k not in ("train_seconds", "from_cache")}
                      for i in results["instances"]]
    }  # fmt: skip


def _interruptible(jobs: int) -> list[str]:
    return [sys.executable, "-m", "divnet_nb", "reproduce", "--dataset", "digits", "--full",
            "--instances", "3", "--quiet", "--jobs", str(jobs), "--threads", "1"]  # fmt: skip


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict:
    """The run the interrupted ones must end like, made once in one process: with one thread
    per part, worker processes give the same numbers (tests/test_executors.py)."""
    whole = tmp_path_factory.mktemp("whole")
    subprocess.run([*_interruptible(1), "--out", str(whole)], check=True, capture_output=True)
    return json.loads((whole / "results.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize(
    "sig, jobs",
    [(signal.SIGINT, 1), (signal.SIGKILL, 1), (signal.SIGKILL, 2)],
    ids=["SIGINT", "SIGKILL", "SIGKILL-2-workers"],
)
def test_an_interrupted_run_resumes_and_ends_with_the_same_numbers(
    tmp_path, uninterrupted, sig, jobs
):
    argv = _interruptible(jobs)
    part = tmp_path / "part"
    # a shell that started us in the background ignores SIGINT, and Python then keeps ignoring
    # it: give the run the default disposition, as a terminal's Ctrl-C finds it
    proc = subprocess.Popen([*argv, "--out", str(part)], stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    deadline = time.monotonic() + 300
    while len(list(part.glob(".parts/*/*.json"))) < 3:
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended too early"
        time.sleep(0.02)
    workers = psutil.Process(proc.pid).children(recursive=True)
    assert len(workers) >= (jobs if jobs > 1 else 0)
    proc.send_signal(sig)
    # local workers hold the driver's stderr: it closes once they too are gone
    _, err = proc.communicate(timeout=60)
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, "worker processes outlived their driver"
    finished = {p: p.stat().st_mtime_ns for p in part.glob(".parts/*/*.json")}
    assert finished and not (part / "results.json").exists()
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "run the same command again to resume" in err
    else:
        assert proc.returncode == -signal.SIGKILL
    subprocess.run([*argv, "--out", str(part)], check=True, capture_output=True)
    resumed = json.loads((part / "results.json").read_text())
    assert resumed["parts"]["resumed"] >= len(finished)  # nothing finished was computed again
    stored = 3 * 4  # per network: its timing, two layer sweeps, its Table 2 (not its training)
    assert resumed["parts"]["computed"] == 3 + stored - resumed["parts"]["resumed"]
    assert all(p.stat().st_mtime_ns == t for p, t in finished.items())
    assert _numbers(resumed) == _numbers(uninterrupted)


def test_a_failing_part_ends_the_run_in_one_line_naming_it_and_keeps_the_finished_ones(
    capsys, tmp_path
):
    from divnet_nb.pruning.registry import register_method, unregister_method

    @register_method("fails-on-layer-1", "neuron", label="fails", color="tab:red", marker="x")
    def fails(layer_data, k, rng):
        if layer_data.n == 100 and k == 25:  # digits' layer sweep at 25 kept neurons
            raise FloatingPointError("told to fail here")
        return np.arange(k)

    try:
        code, out, err = run(capsys, "reproduce", "--dataset", "digits", "--fast", "--instances",
                             "1", "--methods", "fails-on-layer-1", "--out", str(tmp_path), "--quiet")  # fmt: skip
    finally:
        unregister_method("fails-on-layer-1")
    assert code == 1 and err.count("\n") == 1, err
    assert err.startswith(
        "divnet-nb: error: part net0-sweep0 failed: FloatingPointError: told to fail here"
    )
    log = next(tmp_path.glob(".parts/*/failed-net0-sweep0.log"))
    assert f"(traceback in {log})" in err and "Traceback" in log.read_text()
    assert (log.parent / "net0-prune-seconds.json").is_file()  # finished before: kept
    assert not (tmp_path / "results.json").exists()


def test_paper_cells_are_matched_by_fraction_not_position():
    from divnet_nb.report import divnet_table

    table = {
        "fractions": [0.3, 1.0],
        "errors": {
            "dpp+fuse": {"train": [[0.1, 0.01], [0.2, 0.01]], "test": [[0.3, 0.02], [0.5, 0.04]]}
        },
    }
    rows = divnet_table("mnist", table)[2:]
    assert rows[0].startswith("| 30% |") and rows[0].endswith("| - | - |")  # the paper has no 30 %
    assert "0.030 ± 0.002" in rows[1] and "+0.000" in rows[1]  # paper 100 %: 0.03 ± 0.002


@pytest.mark.slow
def test_reproduce_with_fractions_the_paper_lacks(capsys, tmp_path):
    require_data("mnist")
    code, _, _ = run(capsys, "reproduce", "--dataset", "mnist", "--fast", "--instances", "1",
                     "--fractions", "0.3,1", "--sizes", "20", "--out", str(tmp_path), "--quiet")  # fmt: skip
    assert code == 0
    report = (tmp_path / "report.md").read_text()
    row30 = next(
        line for line in report.splitlines() if line.startswith("| 30% |") and "paper" not in line
    )
    row100 = next(
        line for line in report.splitlines() if line.startswith("| 100% |") and "±" in line
    )
    assert row30.split("|")[3].strip() == "-" and row30.split("|")[5].strip() == "-"
    assert "0.030 ± 0.002" in row100  # the paper's 100 % cell, beside our 100 %


@pytest.mark.slow  # the fast theory experiment: over 10 s on a quiet machine
def test_the_theory_command_writes_its_report_and_checks_its_arguments(capsys, tmp_path):
    code, _, _ = run(capsys, "theory", "--fast", "--students", "1", "--out", str(tmp_path),
                     "--quiet")  # fmt: skip
    assert code == 0
    assert {"theory.json", "theory.md", "theory.png"} <= {p.name for p in tmp_path.iterdir()}
    result = json.loads((tmp_path / "theory.json").read_text())
    assert result["settings"]["N"] == 100 and len(result["students"]) == 1
    assert "Claim 2" in (tmp_path / "theory.md").read_text()
    for argv, message in (
        (["--K", "1"], "--K must be an integer >= 2 (a student to prune)"),
        (["--students", "0"], "--students"),
    ):
        code, _, err = run(capsys, "theory", "--fast", *argv)
        assert code == 2 and message in err


def test_every_command_help_prints_its_description_as_written(capsys):
    """argparse formats a description only when it names %(prog)s: a doubled %% stays doubled."""
    from divnet_nb.tasks.protocol import experiments

    for exp in experiments():
        with pytest.raises(SystemExit):
            main([exp.name, "--help"])
        out = capsys.readouterr().out
        assert "%%" not in out, exp.name
        assert " ".join(exp.description.split()[:4]) in " ".join(out.split()), exp.name
