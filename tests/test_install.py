"""The package as a researcher gets it: a wheel installed into a fresh virtual environment.

The wheel is built from a copy of the sources (a build in place would leave ``build/``
and ``*.egg-info`` in the repository) and installed, without its dependencies, into a
new ``python -m venv``; the dependencies come from the environment running the tests,
through a ``.pth`` file naming its ``site-packages``. The ``.pth`` files *inside* that
folder (among them the editable install of this checkout) are not processed, so the
checkout's package cannot leak in: the test checks that ``divnet_nb`` is the installed
one. Then ``divnet-nb reproduce`` runs from an empty folder with an empty HOME, and the
test checks where everything went, and that nothing was written into ``site-packages``
or into the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What the checkout and concurrent test runs write while this test runs; anything else
# appearing or changing in the repository is this test's doing.
VOLATILE = {".git", "runs", "results", ".pytest_cache", ".ruff_cache", "htmlcov", "__pycache__"}


def listing(folder: Path, skip: set[str] = frozenset()) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``folder`` (names in ``skip`` pruned): mtime and size."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for name in dirnames + [f for f in filenames if not f.startswith(".coverage")]:
            path = Path(dirpath, name)
            stat = path.lstat()
            found[str(path.relative_to(folder))] = (stat.st_mtime_ns, stat.st_size)
    return found


def clean_environment(home: Path) -> dict[str, str]:
    """The user's environment with HOME and the XDG folders in ``home``, no DIVNET_* and no
    Python or Numba settings of the test run."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DIVNET_", "XDG_", "PYTHON", "NUMBA_", "COVERAGE_"))
        and k not in ("VIRTUAL_ENV", "MPLCONFIGDIR", "CI")
    }
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
    )
    return env


def build_and_install(tmp: Path) -> tuple[Path, Path]:
    """A wheel of this checkout installed into a new venv; its python and site-packages."""
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "divnet_nb",
        source / "divnet_nb",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc"),
    )
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    offline = ["--no-deps", "--no-index"]
    subprocess.run(
        [*pip, "wheel", *offline, "--no-build-isolation", "-w", tmp / "wheel", source], check=True
    )
    (wheel,) = (tmp / "wheel").glob("divnet_nb-*.whl")
    venv.EnvBuilder(with_pip=False).create(tmp / "venv")
    python = tmp / "venv" / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([*pip, "--python", python, "install", *offline, wheel], check=True)
    return python, site


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="venv layout and XDG folders of Linux")
def test_an_installed_wheel_writes_only_to_the_user_folders_and_the_current_directory(tmp_path):
    start = time.perf_counter()
    python, site = build_and_install(tmp_path)
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = clean_environment(home)
    site_before, repo_before = listing(site), listing(ROOT, VOLATILE)

    def run(*argv, check=True):
        out = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True)
        assert not check or out.returncode == 0, out.stderr[-3000:]
        return out

    where = run(python, "-c", "import divnet_nb, divnet_nb.paths as p; print(divnet_nb.__file__)")
    assert Path(where.stdout.strip()).is_relative_to(site), where.stdout
    installed = time.perf_counter() - start

    data = run(python.parent / "divnet-nb", "data").stdout
    assert f"results folder: {work / 'results'}  (results/ in the current directory" in data
    assert f"cache folder:   {home / '.cache' / 'divnet-nb'}  (platform user cache" in data
    t = time.perf_counter()
    # the smallest run that still trains a network and compiles (and caches) the DPP kernels
    out = run(
        python.parent / "divnet-nb", "reproduce", "--dataset", "digits", "--fast", "--quiet",
        "--instances", "1", "--methods", "dpp", "--sizes", "20", "--fractions", "0.5",
        "--train-samples", "300", "--test-samples", "100",
    )  # fmt: skip
    reproduced = time.perf_counter() - t
    written = sorted(set(listing(site).items()) ^ set(site_before.items()))
    assert not written, f"the package wrote into site-packages: {written[:5]}"
    results = work / "results" / "digits"
    assert f"report at {results / 'report.md'}" in out.stdout
    assert (results / "results.json").is_file() and (results / "report.md").is_file()
    assert sorted(p.name for p in work.iterdir()) == ["results"]
    cache = home / ".cache" / "divnet-nb"
    assert len(list((cache / "networks").glob("digits-*.pt"))) == 1
    assert list((cache / "numba").rglob("*.nbi")), "the compiled kernels were not cached there"
    # the committed references are a checkout's: a one-line error, nothing written
    ref = run(
        python, "-m", "divnet_nb.experiments.reference", results / "results.json", check=False
    )
    assert ref.returncode == 2 and ref.stderr.count("\n") == 1
    assert "live in a checkout of the divnet-nb repository" in ref.stderr

    assert listing(site) == site_before, "the package wrote into site-packages"
    assert listing(ROOT, VOLATILE) == repo_before, "the package wrote into the repository"
    total = time.perf_counter() - start
    print(
        f"wheel built and installed {installed:.1f} s, reproduce {reproduced:.1f} s, all {total:.1f} s"
    )
