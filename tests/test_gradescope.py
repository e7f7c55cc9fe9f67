"""An autograder zip grades a submission in a fresh virtual environment, as on Gradescope.

Gradescope unpacks an autograder zip into ``/autograder/source``, builds an environment from
the zip's ``environment.yml`` (its pip section: the wheel of ``divnet_nb`` the zip carries,
with its dependencies, and otter-grader) and runs ``run_otter.py``, which calls otter's
``run_autograder`` entry point on ``/autograder``. This test does the same in a temporary
folder, offline but for the package index this machine is configured with:

* a fresh ``python -m venv`` (no system site-packages);
* torch and torchvision (with the CUDA libraries this machine's build needs) are *not*
  installed again: a ``.pth`` file points the new environment at a folder of links to them
  in the environment that runs the tests, so pip counts them as installed. Everything else
  is installed with pip from the zip's own pip lines (the wheel from the zip, otter-grader
  and every dependency from the local mirror or the package index). The zip's
  ``--extra-index-url`` line (PyTorch's CPU wheels, for Gradescope's image) is left out: torch
  is already there, and that index is not reachable here;
* ``run_autograder`` grades the assignment's solutions in that environment, with no
  ``PYTHONPATH``, and from a folder outside the checkout, so the kernel imports the wheel's ``divnet_nb``,
  not this checkout's.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1] / "assignments"
sys.path.insert(0, str(ROOT))
from build import AUTOGRADER_DIR, autograder_zip, build, build_wheel, masters  # noqa: E402

pytestmark = [pytest.mark.assignments, pytest.mark.slow]

#: Distributions reused from the running environment instead of installed again.
REUSED = ("torch", "torchvision", "triton")
REUSED_PREFIXES = ("nvidia-", "cuda-")


def reused_entries(site: Path) -> list[str]:
    """Top-level entries of ``site`` that belong to torch, torchvision and the libraries they load."""
    found = set()
    for dist in importlib.metadata.distributions(path=[str(site)]):
        name = dist.metadata["Name"].lower()
        if name in REUSED or name.startswith(REUSED_PREFIXES):
            found |= {f.parts[0] for f in dist.files or [] if f.parts[0] != ".."}
    return sorted(found)


def pip_lines(environment: dict, source: Path) -> list[str]:
    """The package lines of the zip's pip section, with Gradescope's paths pointing at ``source``."""
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    return [
        line.replace(f"{AUTOGRADER_DIR}/source", str(source))
        for line in pip
        if not line.startswith("-")  # index options are for Gradescope's image
    ]


def test_an_autograder_zip_grades_a_submission_in_a_fresh_environment(tmp_path):
    master = masters()[0]
    wheel = build_wheel(tmp_path / "wheels")
    folder = build(master, tmp_path / "dist", run_tests=False, wheel=wheel)
    autograder = tmp_path / "autograder"
    source = autograder / "source"
    for sub in ("source", "submission", "results"):
        (autograder / sub).mkdir(parents=True)
    with zipfile.ZipFile(autograder_zip(folder)) as z:
        z.extractall(source)
    (autograder / "submission_metadata.json").write_text("{}")
    solutions = folder / "autograder" / f"{master.stem}.ipynb"
    (autograder / "submission" / solutions.name).write_bytes(solutions.read_bytes())

    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    here = Path(sysconfig.get_paths()["purelib"])
    links = tmp_path / "reused"
    links.mkdir()
    entries = reused_entries(here)
    assert "torch" in entries and "torchvision" in entries
    for entry in entries:
        (links / entry).symlink_to(here / entry)
    target = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (Path(target) / "reused-torch.pth").write_text(f"{links}\n")

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env |= {"PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "OMP_NUM_THREADS": "1",
            "DIVNET_CACHE": str(tmp_path / "cache"), "MPLBACKEND": "Agg"}  # fmt: skip
    environment = yaml.safe_load((source / "environment.yml").read_text())
    lines = pip_lines(environment, source)
    assert any(line.endswith(wheel.name) for line in lines), "the zip installs its own wheel"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-compile", *lines],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert installed.returncode == 0, (
        f"pip could not install the zip's requirements:\n{installed.stderr[-3000:]}"
    )
    where = subprocess.run(
        [str(python), "-c", "import divnet_nb, torch; print(divnet_nb.__file__); print(torch.__file__)"],
        capture_output=True, text=True, env=env, check=True, cwd=tmp_path,
    ).stdout.split()  # fmt: skip
    assert where[0].startswith(target), f"divnet_nb comes from the wheel, not from {where[0]}"
    assert where[1].startswith(str(links)), "torch is the reused one"

    graded = subprocess.run(
        [str(python), "-c", "import sys; from otter.run.run_autograder import main; main(sys.argv[1])",
         str(autograder)],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    results_path = autograder / "results" / "results.json"
    assert results_path.exists(), (
        f"run_autograder wrote no results:\n{graded.stdout[-2000:]}{graded.stderr[-2000:]}"
    )
    results = json.loads(results_path.read_text())
    questions = [t for t in results["tests"] if t.get("max_score") is not None]
    assert questions and all(t["score"] == t["max_score"] for t in questions), questions
    assert sum(t["max_score"] for t in questions) == 8
    public = next(t for t in results["tests"] if t["name"] == "Public Tests")
    assert "public test passed" in public["output"], "the feedback plugin ran from the wheel"
