"""Check built assignments in one process: the solutions score full points, the handout scores 0,
every known-wrong solution loses points on the question it breaks.

``python assignments/check.py [--dist DIR] names...`` (after ``build.py``) prints, as JSON, for each
assignment built in ``dist/<name>/``:

* ``solutions``: {question: [score, possible]} of the solutions notebook, and the cells that
  raised (``errors``, which must be empty);
* ``student``: the same for the student handout (its stubs raise ``NotImplementedError``);
* ``mutants``: for each file of ``mutants/<name>/``, the scores of every question with that
  wrong function defined after the right one (as in a submission that contains both).

A notebook is graded as ``otter run`` grades it: its code cells are executed in order in one
namespace (a cell that raises does not stop the rest), in a folder holding the autograder's
support files, and then the autograder's own test files (``tests/q*.py`` of its zip) are run
on that namespace with otter's test runner, question by question. What differs is only the
cost: one Python process for all the assignments instead of a Jupyter kernel per graded
notebook, and a mutant re-executes the notebook from the cell that defines its function (the
namespace before that cell is kept), not from the start. ``tests/test_assignments.py`` grades
a few submissions with the real ``otter run`` as well.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import sys
import tempfile
import types
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from build import DIST, autograder_zip, masters  # noqa: E402

#: Cells that otter adds to a notebook (its set-up and its checks): neither solution nor submission.
OTTER_CELL_MARKERS = ("import otter", "grader.check", "grader.export", "otter.Notebook")


def mutants(assignment: str) -> list[tuple[str, str, str]]:
    """(name, question, function source) of each known-wrong solution of an assignment."""
    out = []
    for path in sorted((HERE / "mutants" / assignment).glob("*.py")):
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


def public_text() -> str:
    """Code anyone can read, as one text: the README, the package, the notebooks' code cells
    and the masters' given code (not their solutions or hidden tests)."""
    import nbformat

    parts = [(HERE.parent / "README.md").read_text()]
    parts += [path.read_text() for path in sorted((HERE.parent / "divnet_nb").rglob("*.py"))]
    sources = sorted((HERE.parent / "notebooks").glob("[0-9]*.ipynb")) + list(masters())
    for path in sources:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and "BEGIN SOLUTION" not in cell.source:
                if "BEGIN TEST CONFIG" not in cell.source:
                    parts.append(cell.source)
    return "\n".join(parts)


def solution_lines(folder: Path = HERE / "solutions", shortest: int = 20) -> set[str]:
    """The telling lines of code of the exercises' solutions (``solutions/notebook_*.py``).

    Docstrings, comments, imports, ``def`` lines and lines that the README, the package, the
    notebooks or the masters show anyway (:func:`public_text`) are left out; what remains must never appear in a hint,
    a handout or the website.
    """
    lines = set()
    for path in sorted(Path(folder).glob("notebook_*.py")):
        in_docstring = False
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if line.count('"""') == 1:
                in_docstring = not in_docstring
                continue
            if in_docstring or line.startswith(("#", "def ", "from ", "import ", '"""')):
                continue
            if len(line) >= shortest:
                lines.add(line)
    public = public_text()
    return {line for line in lines if line not in public}


def code_cells(notebook: Path) -> list[str]:
    """The sources of a notebook's code cells, otter's own cells (set-up, checks) left out."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    return [c for c in cells if not any(m in c for m in OTTER_CELL_MARKERS)]


def _run_cells(cells, ns: dict, start: int = 0, snapshots: list | None = None) -> list[int]:
    """Execute ``cells[start:]`` in ``ns``; the indices of the cells that raised."""
    errors = []
    for i in range(start, len(cells)):
        if snapshots is not None:
            snapshots.append(dict(ns))
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(cells[i], f"<cell {i}>", "exec"), ns)
        except Exception:  # a failing cell does not stop the notebook, as in otter's grading
            errors.append(i)
    return errors


def _rebound(snapshot: dict, old: dict) -> dict:
    """A copy of a namespace snapshot whose functions look up their globals in the copy."""
    ns = dict(snapshot)
    for name, value in snapshot.items():
        if isinstance(value, types.FunctionType) and value.__globals__ is old:
            f = types.FunctionType(
                value.__code__, ns, value.__name__, value.__defaults__, value.__closure__
            )
            f.__kwdefaults__, f.__dict__ = value.__kwdefaults__, dict(value.__dict__)
            f.__doc__, f.__qualname__ = value.__doc__, value.__qualname__
            ns[name] = f
    return ns


def _grade(tests: list[Path], ns: dict) -> dict[str, list[float]]:
    from otter.test_files.ok_test import OKTestFile

    scores = {}
    for path in tests:
        test_file = OKTestFile.from_file(str(path))
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            test_file.run(ns)
        scores[test_file.name] = [float(test_file.score), float(test_file.possible)]
    return scores


def check(assignment: str, dist: Path = DIST) -> dict:
    """Grade the solutions, the handout and each mutant of one built assignment (module notes)."""
    folder = Path(dist).resolve() / assignment  # before the chdir below
    report: dict = {"mutants": {}}
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        with zipfile.ZipFile(autograder_zip(folder)) as z:
            z.extractall(tmp)
        tests = sorted(Path(tmp, "tests").glob("*.py"))
        sys.path.insert(0, str(Path(tmp, "files")))
        os.chdir(Path(tmp, "files"))
        try:
            solutions = code_cells(folder / "autograder" / f"{assignment}.ipynb")
            ns: dict = {"__name__": "__main__"}
            snapshots: list = []
            errors = _run_cells(solutions, ns, snapshots=snapshots)
            report["solutions"] = {"scores": _grade(tests, ns), "errors": errors}
            student: dict = {"__name__": "__main__"}
            _run_cells(code_cells(folder / "student" / f"{assignment}.ipynb"), student)
            report["student"] = {"scores": _grade(tests, student)}
            for name, question, source in mutants(assignment):
                function = source.split("def ", 1)[1].split("(", 1)[0]
                index = next(i for i, c in enumerate(solutions) if f"def {function}(" in c)
                cells = list(solutions)
                cells[index] += "\n\n\n" + source
                mutant = _rebound(snapshots[index], ns)
                _run_cells(cells, mutant, start=index)
                report["mutants"][name] = {"question": question, "scores": _grade(tests, mutant)}
        finally:
            sys.path.remove(str(Path(tmp, "files")))
    return report


def main(argv=None) -> int:
    import argparse

    import matplotlib

    matplotlib.use("Agg")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="built assignments, e.g. a1_dpp_enumeration")
    parser.add_argument("--dist", type=Path, default=DIST, help="where they were built")
    args = parser.parse_args(argv)
    print(json.dumps({name: check(name, args.dist) for name in args.names}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
