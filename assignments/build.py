"""Build every assignment with otter-grader: student notebooks and autograders in assignments/dist/.

``python assignments/build.py [names...]`` (``make assignments``) builds a wheel of
``divnet_nb`` once (``dist/wheels/``) and runs ``otter assign`` on each master notebook
``assignments/<name>.ipynb`` into ``assignments/dist/<name>/``:

* ``student/<name>.ipynb`` - the handout: solutions replaced by stubs that raise
  ``NotImplementedError``, hidden tests removed, public tests kept (``grader.check``);
* ``autograder/<name>-autograder_*.zip`` - what ``otter run``, ``grade.py`` and Gradescope
  grade with: the tests, ``own_work.py``, the wheel of ``divnet_nb`` and an
  ``environment.yml`` whose pip section installs that wheel (with numpy, torch and the rest
  of its dependencies) and otter-grader on Gradescope's image;
* ``autograder/<name>.ipynb`` - the solutions, which ``otter assign`` has already run the
  tests against.

The masters hold everything but the wheel; :func:`build` stages a copy of the master with
its configuration completed (the wheel, the requirements) in a temporary folder, so builds
never write beside the masters and can run side by side. Assignments are built in this
process (otter's import is the slow part, the build of one master takes a fraction of a
second without the test run).
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DIST = HERE / "dist"
SUPPORT = ("own_work.py",)
#: otter's command line, in this Python.
OTTER_CLI = [sys.executable, "-m", "otter"]
MASTER = re.compile(r"a(\d+)_[a-z0-9_]+")
#: Gradescope's image installs torch from PyPI's default (CUDA) build unless told otherwise.
TORCH_CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"
#: Where Gradescope unpacks an autograder zip (otter's ``autograder_dir``).
AUTOGRADER_DIR = "/autograder"


def masters() -> list[Path]:
    """The master notebooks, in the order of their numbers (a1, a2, ..., a10, a11)."""
    found = [p for p in HERE.glob("a*.ipynb") if MASTER.fullmatch(p.stem)]
    return sorted(found, key=lambda p: int(MASTER.fullmatch(p.stem).group(1)))


def build_wheel(out: Path) -> Path:
    """A wheel of ``divnet_nb`` from this checkout (no dependencies, no build isolation).

    Built from a copy of the sources in a temporary folder, so that setuptools' ``build/``
    and ``*.egg-info`` never land in the checkout.
    """
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("divnet_nb-*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            shutil.copy(ROOT / name, Path(tmp) / name)
        shutil.copytree(
            ROOT / "divnet_nb",
            Path(tmp) / "divnet_nb",
            ignore=shutil.ignore_patterns("__pycache__", "*.py[cod]", "*.nbi", "*.nbc"),
        )
        result = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
             "-w", str(out), tmp],
            capture_output=True, text=True,
        )  # fmt: skip
    wheels = sorted(out.glob("divnet_nb-*.whl"))
    if result.returncode != 0 or not wheels:
        raise RuntimeError(f"pip wheel failed:\n{result.stderr[-3000:]}")
    return wheels[-1]


def requirements(wheel: Path) -> list[str]:
    """The pip lines of the autograder's environment: the wheel (its dependencies follow), otter."""
    import otter

    return [
        TORCH_CPU_INDEX,
        f"{AUTOGRADER_DIR}/source/files/{wheel.name}",
        f"otter-grader[grading]=={otter.__version__}",
    ]


def _config_cell(nb) -> dict:
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.startswith("# ASSIGNMENT CONFIG"):
            return cell
    raise ValueError("the master has no ASSIGNMENT CONFIG cell")


def stage(master: Path, folder: Path, wheel: Path | None) -> Path:
    """A copy of ``master`` in ``folder``, with its support files and, given a wheel, its configuration completed."""
    import nbformat
    import yaml

    nb = nbformat.read(master, as_version=4)
    cell = _config_cell(nb)
    config = yaml.safe_load(cell.source)
    for name in SUPPORT:
        shutil.copy(HERE / name, folder / name)
    if wheel is not None:
        shutil.copy(wheel, folder / wheel.name)
        config["autograder_files"] = [*config.get("autograder_files", []), wheel.name]
        config["requirements"] = requirements(wheel)
        config["overwrite_requirements"] = True
    cell.source = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False)
    staged = folder / master.name
    nbformat.write(nb, staged)
    return staged


def build(
    master: Path, dist: Path = DIST, *, run_tests: bool = True, wheel: Path | None = None
) -> Path:
    """``otter assign`` one master into ``dist/<name>/``; returns that folder.

    ``run_tests=False`` skips otter's run of the tests against the solutions: the student
    version is the same, and the website (``docs/_site.py``) needs only that; the tests of
    ``make test`` grade the solutions themselves (``check.py``). Without ``wheel`` the
    autograder zip carries no wheel of ``divnet_nb`` (enough for ``otter run`` here, where the
    package is installed, not for Gradescope).
    """
    from otter.assign import main as assign

    out = Path(dist).resolve() / master.stem
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        staged = stage(master, Path(tmp), wheel)
        log = io.StringIO()
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                assign(str(staged), str(out), no_run_tests=not run_tests)
        except Exception as exc:
            raise RuntimeError(
                f"otter assign failed on {master.name}: {exc}\n{log.getvalue()[-3000:]}"
            ) from exc
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
    wheel = build_wheel(DIST / "wheels")
    print(f"wheel: {wheel.relative_to(ROOT)}")
    for master in chosen:
        start = time.perf_counter()
        out = build(master, wheel=wheel)
        print(f"{master.stem}: {out.relative_to(ROOT)} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
