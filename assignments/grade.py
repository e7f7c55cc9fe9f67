"""Grade a folder of submitted notebooks into a CSV of scores and one feedback file per student, offline.

``python assignments/grade.py <assignment> <folder> [--csv scores.csv] [--feedback DIR] [--jobs N]``
runs ``otter run`` (no Docker) with the assignment's autograder (build it first: ``make
assignments``) on every ``.ipynb`` in the folder and writes

* one CSV row per submission: its file name, the points of each autograded question, the
  total and the maximum (manually graded questions are not in the CSV);
* one feedback file per submission, ``<DIR>/<submission>.txt`` (``DIR`` defaults to
  ``feedback/`` beside the CSV): each question's points and what each test checked, as the
  autograder's feedback plugin (:mod:`divnet_nb._feedback`) reports it. It says that all tests
  passed only when every test, hidden ones included, passed, and it names a failed hidden
  test by what it checked, never by its code or the value it expected. Beside it,
  ``<submission>.json`` is otter's ``results.json`` (what Gradescope would show).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from build import DIST, OTTER_CLI, autograder_zip  # noqa: E402


def run(submission: Path, zip_path: Path) -> dict:
    """otter's ``results.json`` for one submission notebook (graded without Docker)."""
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [*OTTER_CLI, "run", "-a", str(zip_path), "-o", tmp, str(submission)],
            capture_output=True,
            text=True,
        )
        path = Path(tmp) / "results.json"
        if not path.exists():
            raise RuntimeError(f"otter run failed on {submission}:\n{result.stderr[-3000:]}")
        return json.loads(path.read_text())


def scores(results: dict) -> dict[str, tuple[float, float]]:
    """{question: (score, max)} from otter's results."""
    return {
        t["name"]: (float(t["score"]), float(t["max_score"]))
        for t in results["tests"]
        if t.get("score") is not None
    }


def grade(submission: Path, zip_path: Path) -> dict[str, tuple[float, float]]:
    """{question: (score, max)} for one submission notebook."""
    return scores(run(submission, zip_path))


def feedback(assignment: str, submission: str, results: dict) -> str:
    """The text of one student's feedback file (see the module notes)."""
    per_question = [t for t in results["tests"] if t.get("score") is not None]
    total = sum(float(t["score"]) for t in per_question)
    possible = sum(float(t["max_score"]) for t in per_question)
    lines = [
        f"{assignment} · {submission}",
        f"Autograded: {total:g} of {possible:g} points. Written answers, if the assignment has "
        "any, are graded by reading.",
        "",
    ]
    for test in per_question:
        lines += [test.get("output", "").strip(), ""]
    return "\n".join(lines)


def grade_folder(
    assignment: str,
    folder: Path,
    csv_path: Path | None = None,
    feedback_dir: Path | None = None,
    *,
    dist: Path = DIST,
    jobs: int = 1,
) -> list[dict]:
    """Grade every notebook in ``folder``; rows of {submission, <question>..., total, max}."""
    zip_path = autograder_zip(Path(dist) / assignment)
    submissions = sorted(Path(folder).glob("*.ipynb"))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        graded = list(pool.map(lambda s: run(s, zip_path), submissions))
    rows = []
    for submission, results in zip(submissions, graded, strict=True):
        got = scores(results)
        row = {"submission": submission.name}
        row |= {q: s for q, (s, _) in sorted(got.items())}
        row["total"] = sum(s for s, _ in got.values())
        row["max"] = sum(m for _, m in got.values())
        rows.append(row)
        if feedback_dir is not None:
            Path(feedback_dir).mkdir(parents=True, exist_ok=True)
            text = feedback(assignment, submission.name, results)
            (Path(feedback_dir) / f"{submission.stem}.txt").write_text(text)
            (Path(feedback_dir) / f"{submission.stem}.json").write_text(
                json.dumps(results, indent=1)
            )
    if csv_path is not None:
        fields = list(dict.fromkeys(k for row in rows for k in row))
        with open(csv_path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment", help="e.g. a1_dpp_enumeration")
    parser.add_argument("folder", type=Path, help="folder of submitted .ipynb files")
    parser.add_argument("--csv", type=Path, default=Path("scores.csv"), help="output (scores.csv)")
    parser.add_argument(
        "--feedback",
        type=Path,
        default=None,
        help="feedback folder (default: feedback/ beside the CSV)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once (1)")
    args = parser.parse_args(argv)
    feedback_dir = args.feedback or args.csv.parent / "feedback"
    rows = grade_folder(args.assignment, args.folder, args.csv, feedback_dir, jobs=args.jobs)
    for row in rows:
        print(f"{row['submission']}: {row['total']:g} / {row['max']:g}")
    print(f"{len(rows)} submissions graded into {args.csv}, feedback in {feedback_dir}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
