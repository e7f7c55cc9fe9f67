"""The classroom assignments: built with otter-grader, graded offline, with tests that have teeth.

Every master notebook in ``assignments/`` is built once per session (``otter assign`` without
its own test run, into a temporary folder). ``assignments/check.py`` then grades, in two
processes, each assignment's solutions (full points, no cell raising), its student handout
(0 on every autograded question) and every known-wrong solution of ``assignments/mutants/``
(points lost on the question it breaks, full points on every other question) with the
autograder's own test files and otter's test runner. The real ``otter run`` grades a folder
of three submissions (right, the handout, and one that passes every public test but fails a
hidden one) into the CSV and the per-student feedback files, and shows that no report says
"all tests passed" when a hidden test failed. ``tests/test_gradescope.py`` installs one autograder zip into a fresh virtual
environment.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1] / "assignments"
sys.path.insert(0, str(ROOT))
from build import autograder_zip, build, masters  # noqa: E402
from check import mutants, solution_lines  # noqa: E402
from grade import grade_folder  # noqa: E402

pytestmark = pytest.mark.assignments

ASSIGNMENTS = [m.stem for m in masters()]
#: Masters whose notebooks train or load networks: spread over the two grading processes first.
HEAVY = ("load_or_train", "Experiment(", "train_gated")


def master(name: str):
    return nbformat.read(ROOT / f"{name}.ipynb", as_version=4)


def question_tests(nb) -> dict[str, dict]:
    """{question: {"points", "public": [points], "hidden": [points], "messages": [...]}} of a master."""
    out, question = {}, None
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION"):
            question = re.search(r"name:\s*(\S+)", cell.source).group(1)
            points = float(re.search(r"points:\s*([\d.]+)", cell.source).group(1))
            manual = "manual: true" in cell.source
            if not manual:
                out[question] = {"points": points, "public": [], "hidden": [], "messages": []}
        elif cell.cell_type == "code" and "BEGIN TEST CONFIG" in cell.source:
            config = cell.source.split('""" # END TEST CONFIG')[0]
            points = float(re.search(r"points:\s*([\d.]+)", config).group(1))
            hidden = re.search(r"hidden:\s*true", config) is not None
            out[question]["hidden" if hidden else "public"].append(points)
            if hidden:
                found = re.search(r"failure_message:\s*(.+)", config)
                out[question]["messages"].append(json.loads(found.group(1)) if found else None)
    return out


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict[str, Path]:
    """Every assignment built once (student version and autograder), without otter's test run."""
    dist = tmp_path_factory.mktemp("dist")
    return {m.stem: build(m, dist, run_tests=False) for m in masters()}


@pytest.fixture(scope="session")
def checked(built) -> dict:
    """``check.py``'s report for every assignment, from two processes that share the work."""
    cost = {n: 10 if any(h in (ROOT / f"{n}.ipynb").read_text() for h in HEAVY) else 1
            for n in ASSIGNMENTS}  # fmt: skip
    groups: list[list[str]] = [[], []]
    for name in sorted(ASSIGNMENTS, key=lambda n: -cost[n]):
        min(groups, key=lambda g: sum(cost[n] for n in g)).append(name)
    dist = next(iter(built.values())).parent
    # the digits networks the heavy assignments load (seeds 0-2), trained here if the cache
    # lacks them, so that the two grading processes never train the same one twice
    from divnet_nb.experiments import Experiment, settings_for

    networks = Experiment("digits", settings_for("digits", fast=True, instances=3), progress=False)
    assert len(networks.runs) == 3
    # two processes on two cores: one thread each, or torch and BLAS oversubscribe them
    env = os.environ | {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}

    def run(names):
        result = subprocess.run(
            [sys.executable, str(ROOT / "check.py"), "--dist", str(dist), *names],
            capture_output=True,
            text=True,
            env=env,
        )
        assert result.returncode == 0, result.stderr[-4000:]
        return json.loads(result.stdout)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(run, [g for g in groups if g]))
    return {name: report for part in reports for name, report in part.items()}


def test_there_are_eleven_assignments_with_mutants():
    assert len(ASSIGNMENTS) >= 11
    numbers = [int(re.match(r"a(\d+)_", n).group(1)) for n in ASSIGNMENTS]
    assert numbers == sorted(numbers) and numbers[-1] == 11, "a10 and a11 sort after a9"
    for name in ASSIGNMENTS:
        assert len(mutants(name)) >= 2, name
        assert {q for _, q, _ in mutants(name)} <= set(question_tests(master(name))), name


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_solutions_score_full_points_and_no_cell_raises(checked, name):
    solutions = checked[name]["solutions"]
    assert solutions["errors"] == [], f"{name}: cells that raised: {solutions['errors']}"
    expected = question_tests(master(name))
    assert set(solutions["scores"]) == set(expected)
    for question, (score, possible) in solutions["scores"].items():
        assert score == possible == expected[question]["points"], (name, question)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_student_version_runs_and_scores_nothing(checked, name):
    student = checked[name]["student"]["scores"]
    assert student and all(score == 0 for score, _ in student.values()), student
    assert all(possible > 0 for _, possible in student.values())


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_known_wrong_solution_loses_points_on_its_question_only(checked, name):
    report = checked[name]
    assert set(report["mutants"]) == {m for m, _, _ in mutants(name)}
    for mutant, got in report["mutants"].items():
        for question, (score, possible) in got["scores"].items():
            if question == got["question"]:
                assert score < possible, (
                    f"{name}: {mutant} keeps all {possible} points of {question}"
                )
            else:
                assert score == possible, f"{name}: {mutant} also loses points on {question}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_no_solution_survives_in_the_student_version(built, name):
    student = (built[name] / "student" / f"{name}.ipynb").read_text()
    for cell in master(name).cells:
        if cell.cell_type == "code" and "# BEGIN SOLUTION NO PROMPT" in cell.source:
            body = cell.source.split("# BEGIN SOLUTION NO PROMPT")[1].split("# END SOLUTION")[0]
            for line in body.splitlines():
                line = line.strip()
                if len(line) > 25 and not line.startswith("#"):
                    assert line not in student, f"{name}: solution line in the handout: {line}"
    for marker in ("BEGIN SOLUTION", "BEGIN TEST CONFIG", "own_work import", "hidden: true",
                   "failure_message"):  # fmt: skip
        assert marker not in student, marker
    assert "NotImplementedError" in student and "grader.check(" in student


def test_no_exercise_solution_reaches_a_handout(built):
    lines = solution_lines()
    assert len(lines) > 100
    for name, folder in built.items():
        handout = (folder / "student" / f"{name}.ipynb").read_text()
        leaked = [line for line in lines if line in handout]
        assert not leaked, f"{name}: the handout holds solution lines {leaked[:3]}"


def _count(values) -> str:
    return f"{len(values)} ({sum(values):g})"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_handout_says_which_tests_are_public(built, name):
    """The handout's table: each question's points, its public tests and its hidden tests (points)."""
    handout = nbformat.read(built[name] / "student" / f"{name}.ipynb", as_version=4)
    text = "\n".join(c.source for c in handout.cells if c.cell_type == "markdown")
    assert "Which tests are public" in text, name
    for question, tests in question_tests(master(name)).items():
        row = (
            f"| {question} | {tests['points']:g} | {_count(tests['public'])} | "
            f"{_count(tests['hidden'])} |"
        )
        assert row in text, f"{name}: the handout's table lacks {row}"
        assert sum(tests["public"]) + sum(tests["hidden"]) == tests["points"], (name, question)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_hidden_test_says_what_it_checks(name):
    for question, tests in question_tests(master(name)).items():
        assert tests["hidden"], f"{name} {question}: no hidden test"
        for message in tests["messages"]:
            assert message and len(message) > 30, (
                f"{name} {question}: a hidden test without a message"
            )


def _submissions(built, folder: Path) -> Path:
    """right, empty (the handout), and a submission that passes every public test and fails a
    hidden one (its q2 calls the package)."""
    name = "a1_dpp_enumeration"
    solutions = built[name] / "autograder" / f"{name}.ipynb"
    folder.mkdir()
    (folder / "right.ipynb").write_bytes(solutions.read_bytes())
    (folder / "empty.ipynb").write_bytes((built[name] / "student" / f"{name}.ipynb").read_bytes())
    source = next(s for m, _, s in mutants(name) if m == "calls_the_package")
    nb = nbformat.read(solutions, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "def kdpp_marginals(" in c.source)
    cell.source += "\n\n\n" + source
    nbformat.write(nb, folder / "hidden_fails.ipynb")
    return folder


@pytest.fixture(scope="session")
def graded_folder(built, tmp_path_factory):
    """Three submissions of a1 graded by the real ``otter run``: CSV, feedback files, results."""
    tmp = tmp_path_factory.mktemp("grading")
    folder = _submissions(built, tmp / "submissions")
    rows = grade_folder(
        "a1_dpp_enumeration", folder, tmp / "scores.csv", tmp / "feedback",
        dist=next(iter(built.values())).parent, jobs=2,
    )  # fmt: skip
    return tmp, rows


def test_grading_a_folder_writes_the_expected_csv(graded_folder):
    tmp, _ = graded_folder
    rows = {r["submission"]: r for r in csv.DictReader(open(tmp / "scores.csv"))}
    assert set(rows) == {"right.ipynb", "empty.ipynb", "hidden_fails.ipynb"}
    assert float(rows["right.ipynb"]["total"]) == float(rows["right.ipynb"]["max"]) == 8
    assert float(rows["empty.ipynb"]["total"]) == 0, "the handout scores 0 under otter run too"
    assert 0 < float(rows["hidden_fails.ipynb"]["total"]) < 8
    assert float(rows["hidden_fails.ipynb"]["q2"]) < float(rows["right.ipynb"]["q2"])
    assert rows["hidden_fails.ipynb"]["q1"] == rows["right.ipynb"]["q1"]


ALL_PASSED = re.compile(r"all( \d+)? test(s| cases)? passed", re.IGNORECASE)


def _paragraph(text: str, question: str) -> str:
    return next(p for p in text.split("\n\n") if p.startswith(f"{question}:"))


def test_no_report_says_all_tests_passed_when_a_hidden_test_failed(graded_folder):
    """otter's results (what Gradescope shows) and grade.py's feedback file, for a submission
    that passes every public test and fails a hidden one of q2."""
    tmp, _ = graded_folder
    results = json.loads((tmp / "feedback" / "hidden_fails.json").read_text())
    text = (tmp / "feedback" / "hidden_fails.txt").read_text()
    public = next(t for t in results["tests"] if t["name"] == "Public Tests")
    q2 = next(t for t in results["tests"] if t["name"] == "q2")
    assert public["status"] == "passed" and "q2: 1 of 1 public test passed" in public["output"]
    message = question_tests(master("a1_dpp_enumeration"))["q2"]["messages"][0]
    for shown in (public["output"], q2["output"], _paragraph(text, "q2")):
        assert not ALL_PASSED.search(shown), shown
    for shown in (q2["output"], _paragraph(text, "q2")):
        assert message in shown, "the failed hidden test is named by what it checked"
        assert "FAILED" in shown and "Trying:" not in shown and "Traceback" not in shown
        assert "inclusion_probabilities(L, 3)" not in shown, "never the hidden test's code"
    # a submission that passes everything may say so, and does, once per question
    assert len(ALL_PASSED.findall((tmp / "feedback" / "right.txt").read_text())) == 3


def test_the_feedback_plugin_rewrites_otters_summaries():
    """In-process: otter's summaries before and after the plugin, on a question with a failing hidden test."""
    from otter.run import AutograderConfig
    from otter.test_files import GradingResults
    from otter.test_files.ok_test import OKTestFile

    from divnet_nb._feedback import HonestFeedback

    spec = {
        "name": "q1",
        "points": 3,
        "suites": [{"cases": [
            {"code": ">>> assert f(1) == 2\n", "hidden": False, "points": 1},
            {"code": ">>> secret = 42\n>>> assert f(2) == secret\n", "hidden": True, "points": 2,
             "failure_message": "f at 2, against the table"},
        ]}],
    }  # fmt: skip
    test_file = OKTestFile.from_spec(spec)
    test_file.run({"f": lambda x: 2 * x})
    results = GradingResults([test_file])
    assert "All test cases passed" in test_file.summary(public_only=True)  # otter's own words
    HonestFeedback(None, {}, {}).after_grading(results)
    out = json.dumps(results.to_gradescope_dict(AutograderConfig({"show_hidden": True})))
    assert not ALL_PASSED.search(out) and "secret" not in out and "42" not in out
    assert "f at 2, against the table" in out and "1 of 1 public test passed" in out
    assert "1 of 3 points" in out and "1 hidden test (2 of 3 points) is graded separately" in out
    test_file.run({"f": lambda x: 2 * x if x == 1 else 42})
    assert "all 2 tests passed" in test_file.summary()

    def unwritten(x):
        raise NotImplementedError("write f")

    test_file.run({"f": unwritten})  # a failing public test: its first failing line and error only
    report = test_file.summary(public_only=True)
    assert "failed: assert f(1) == 2" in report and "raised: NotImplementedError: write f" in report
    assert "Trying:" not in report and "Traceback" not in report


def test_the_autograder_zip_carries_what_gradescope_needs(tmp_path):
    """A zip built with the wheel: the wheel itself, and a pip section that installs it and otter."""
    import yaml

    sys.path.insert(0, str(ROOT))
    from build import build_wheel

    wheel = build_wheel(tmp_path / "wheels")
    folder = build(masters()[0], tmp_path / "dist", run_tests=False, wheel=wheel)
    with zipfile.ZipFile(autograder_zip(folder)) as z:
        names = set(z.namelist())
        environment = yaml.safe_load(z.read("environment.yml"))
        config = json.loads(z.read("otter_config.json"))
    assert f"files/{wheel.name}" in names and "files/own_work.py" in names
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert f"/autograder/source/files/{wheel.name}" in pip
    assert any(p.startswith("otter-grader[grading]==") for p in pip)
    assert "python=3.11" in environment["dependencies"]
    assert config["plugins"] == ["divnet_nb._feedback.HonestFeedback"] and config["show_hidden"]
    with zipfile.ZipFile(wheel) as z:
        assert "divnet_nb/_feedback.py" in z.namelist()
