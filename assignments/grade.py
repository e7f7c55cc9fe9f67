"""Grade a folder of submitted notebooks into a CSV of scores, with otter-grader, offline.

``python assignments/grade.py <assignment> <folder> [--csv scores.csv]`` runs ``otter run``
(no Docker) with the assignment's autograder (build it first: ``make assignments``) on every
``.ipynb`` in the folder and writes one row per submission: its file name, the points of each
autograded question, the total and the maximum. Manually graded questions are not in the CSV.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from build import DIST, OTTER, autograder_zip  # noqa: E402


def grade(submission: Path, zip_path: Path) -> dict[str, tuple[float, float]]:
    """{question: (score, max)} for one submission notebook."""
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [str(OTTER), "run", "-a", str(zip_path), "-o", tmp, str(submission)],
            capture_output=True,
            text=True,
        )
        path = Path(tmp) / "results.json"
        if not path.exists():
            raise RuntimeError(f"otter run failed on {submission}:\n{result.stderr[-3000:]}")
        results = json.loads(path.read_text())
    return {
        t["name"]: (float(t["score"]), float(t["max_score"]))
        for t in results["tests"]
        if "score" in t and t.get("score") is not None
    }


def grade_folder(assignment: str, folder: Path, csv_path: Path | None = None) -> list[dict]:
    """Grade every notebook in ``folder``; rows of {submission, <question>..., total, max}."""
    zip_path = autograder_zip(DIST / assignment)
    rows = []
    for submission in sorted(Path(folder).glob("*.ipynb")):
        scores = grade(submission, zip_path)
        row = {"submission": submission.name}
        row |= {q: s for q, (s, _) in sorted(scores.items())}
        row["total"] = sum(s for s, _ in scores.values())
        row["max"] = sum(m for _, m in scores.values())
        rows.append(row)
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
    args = parser.parse_args(argv)
    rows = grade_folder(args.assignment, args.folder, args.csv)
    for row in rows:
        print(f"{row['submission']}: {row['total']:g} / {row['max']:g}")
    print(f"{len(rows)} submissions graded into {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
