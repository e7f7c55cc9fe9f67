"""Build every assignment with otter-grader: student notebooks and autograders in assignments/dist/.

``python assignments/build.py [names...]`` (``make assignments``) runs ``otter assign`` on each
master notebook ``assignments/<name>.ipynb`` into ``assignments/dist/<name>/``:

* ``student/<name>.ipynb`` - the handout: solutions replaced by stubs that raise
  ``NotImplementedError``, hidden tests removed, public tests kept (``grader.check``);
* ``autograder/<name>-autograder_*.zip`` - what ``otter run`` (and ``grade.py``) grade with;
* ``autograder/<name>.ipynb`` - the solutions, which ``otter assign`` has already run the
  tests against.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DIST = HERE / "dist"
OTTER = Path(sys.executable).with_name("otter")


def masters() -> list[Path]:
    """The master notebooks, in order."""
    return sorted(HERE.glob("a[0-9]_*.ipynb"))


def build(master: Path, dist: Path = DIST, *, run_tests: bool = True) -> Path:
    """``otter assign`` one master into ``dist/<name>/``; returns that folder.

    ``run_tests=False`` skips otter's run of the tests against the solutions: the student
    version is the same, and the website (``docs/_site.py``) needs only that.
    """
    out = dist / master.stem
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [str(OTTER), "assign", master.name, str(out)] + ([] if run_tests else ["--no-run-tests"]),
        cwd=master.parent,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"otter assign failed on {master.name}:\n{result.stderr[-3000:]}")
    return out


def autograder_zip(folder: Path) -> Path:
    """The autograder zip of a built assignment."""
    zips = sorted((folder / "autograder").glob("*-autograder_*.zip"))
    if not zips:
        raise FileNotFoundError(f"no autograder zip in {folder / 'autograder'}: build it first")
    return zips[-1]


def main(argv=None) -> int:
    names = sys.argv[1:] if argv is None else argv
    chosen = [m for m in masters() if not names or m.stem in names]
    if not chosen:
        print(f"no master notebook matches {names}; masters: {[m.stem for m in masters()]}")
        return 2
    for master in chosen:
        start = time.perf_counter()
        out = build(master)
        print(
            f"{master.stem}: {out.relative_to(HERE.parent)} in {time.perf_counter() - start:.0f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
