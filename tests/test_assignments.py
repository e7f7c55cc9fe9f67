"""The classroom assignments: built with otter-grader, graded offline, with tests that have teeth.

For every master notebook in ``assignments/``: (a) ``otter assign`` builds it, which fails
unless the solutions score full points; (b) the generated student version executes and scores
0 on every autograded question; (c) every known-wrong solution in ``assignments/mutants/`` loses
points on the question it breaks (mutants are grafted onto the solutions, one per question at a
time); (d) no solution code survives in the student version. Grading a folder of three
submissions (right, partly right, empty) gives the expected CSV.
"""

from __future__ import annotations

import ast
import csv
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1] / "assignments"
sys.path.insert(0, str(ROOT))
from build import build, masters  # noqa: E402
from grade import autograder_zip, grade, grade_folder  # noqa: E402

ASSIGNMENTS = [m.stem for m in masters()]


def mutants(assignment: str) -> list[tuple[str, str, str]]:
    """(name, question, function source) of each known-wrong solution of an assignment."""
    out = []
    for path in sorted((ROOT / "mutants" / assignment).glob("*.py")):
        source = path.read_text()
        tree = ast.parse(source)
        question = next(
            n.value.value for n in tree.body
            if isinstance(n, ast.Assign) and n.targets[0].id == "QUESTION"
        )  # fmt: skip
        functions = [
            ast.get_source_segment(source, n) for n in tree.body if isinstance(n, ast.FunctionDef)
        ]
        out.append((path.stem, question, "\n\n\n".join(functions)))
    return out


def rounds(assignment: str) -> list[list[tuple[str, str, str]]]:
    """Mutants grouped so that each round breaks each question at most once."""
    out: list[list] = []
    for mutant in mutants(assignment):
        for group in out:
            if all(q != mutant[1] for _, q, _ in group):
                group.append(mutant)
                break
        else:
            out.append([mutant])
    return out


def grafted(solution: Path, group, target: Path) -> Path:
    """The solutions notebook with each mutant's function defined again after the right one."""
    nb = nbformat.read(solution, as_version=4)
    for _, _, source in group:
        name = source.split("def ", 1)[1].split("(", 1)[0]
        cell = next(c for c in nb.cells if c.cell_type == "code" and f"def {name}(" in c.source)
        cell.source += "\n\n\n" + source
    nbformat.write(nb, target)
    return target


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Build every assignment, then grade students and mutant rounds, two at a time."""
    dist = tmp_path_factory.mktemp("dist")
    folders = {m.stem: build(m, dist) for m in masters()}  # (a): raises unless full marks
    jobs = {}
    for name, folder in folders.items():
        jobs[(name, "student")] = folder / "student" / f"{name}.ipynb"
        for r, group in enumerate(rounds(name)):
            jobs[(name, r)] = grafted(
                folder / "autograder" / f"{name}.ipynb", group, folder / f"round{r}.ipynb"
            )
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            key: pool.submit(grade, path, autograder_zip(folders[key[0]]))
            for key, path in jobs.items()
        }
        scores = {key: f.result() for key, f in futures.items()}
    return folders, scores


def test_there_are_five_assignments_with_mutants():
    assert len(ASSIGNMENTS) >= 5
    for name in ASSIGNMENTS:
        assert len(mutants(name)) >= 2, name


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_student_version_runs_and_scores_nothing(graded, name):
    _, scores = graded
    student = scores[(name, "student")]
    assert student and all(score == 0 for score, _ in student.values()), student
    assert all(possible > 0 for _, possible in student.values())


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_known_wrong_solution_loses_points_on_its_question(graded, name):
    _, scores = graded
    for r, group in enumerate(rounds(name)):
        got = scores[(name, r)]
        for mutant, question, _ in group:
            score, possible = got[question]
            assert score < possible, (
                f"{name}: mutant {mutant} keeps all {possible} points of {question}"
            )


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_no_solution_survives_in_the_student_version(graded, name):
    folders, _ = graded
    student = (folders[name] / "student" / f"{name}.ipynb").read_text()
    master = nbformat.read(ROOT / f"{name}.ipynb", as_version=4)
    for cell in master.cells:
        if cell.cell_type == "code" and "# BEGIN SOLUTION NO PROMPT" in cell.source:
            body = cell.source.split("# BEGIN SOLUTION NO PROMPT")[1].split("# END SOLUTION")[0]
            for line in body.splitlines():
                line = line.strip()
                if len(line) > 25 and not line.startswith("#"):
                    assert line not in student, f"{name}: solution line in the handout: {line}"
    for marker in ("BEGIN SOLUTION", "BEGIN TEST CONFIG", "own_work import", "hidden: true"):
        assert marker not in student, marker
    assert "NotImplementedError" in student and "grader.check(" in student


def test_grading_a_folder_writes_the_expected_csv(graded, tmp_path):
    folders, _ = graded
    name = "a1_dpp_enumeration"
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "right.ipynb").write_bytes(
        (folders[name] / "autograder" / f"{name}.ipynb").read_bytes()
    )
    (folder / "empty.ipynb").write_bytes((folders[name] / "student" / f"{name}.ipynb").read_bytes())
    grafted(
        folders[name] / "autograder" / f"{name}.ipynb", mutants(name)[:1], folder / "partly.ipynb"
    )
    import build as build_module

    old = build_module.DIST
    try:
        import grade as grade_module

        grade_module.DIST = folders[name].parent
        grade_folder(name, folder, tmp_path / "scores.csv")
    finally:
        build_module.DIST = old
    rows = {r["submission"]: r for r in csv.DictReader(open(tmp_path / "scores.csv"))}
    assert set(rows) == {"right.ipynb", "partly.ipynb", "empty.ipynb"}
    assert float(rows["right.ipynb"]["total"]) == float(rows["right.ipynb"]["max"]) == 8
    _, broken, _ = mutants(name)[0]
    assert 0 < float(rows["partly.ipynb"]["total"]) < 8
    assert float(rows["partly.ipynb"][broken]) < float(rows["right.ipynb"][broken])
    assert float(rows["empty.ipynb"]["total"]) == 0
