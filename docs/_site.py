"""Sources of the website that are generated from the repository at build time.

:func:`prepare` writes them into ``docs/`` (git-ignored), where the repository has them:

* the numbered notebooks, copied as committed (their stored full-mode outputs);
* :func:`write_api_page` - one API page listing every public module of ``divnet_nb``,
  grouped by subpackage, so a new module appears without an edit here;
* :func:`copy_handouts` - the assignments' student versions (``assignments/dist/<name>/
  student/<name>.ipynb``, built by ``assignments/build.py``) and a page that links them.
"""

from __future__ import annotations

import importlib.util
import pkgutil
import re
import shutil
import tempfile
from pathlib import Path

import divnet_nb


def public_modules() -> list[str]:
    """Every module of the package whose dotted name has no part starting with ``_``."""
    names = ["divnet_nb"]
    for info in pkgutil.walk_packages(divnet_nb.__path__, prefix="divnet_nb."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def write_api_page(path: Path) -> None:
    """The API reference: an ``automodule`` per public module, in package order."""
    lines = [
        "# API reference",
        "",
        "Read from the package's numpydoc docstrings. `import divnet_nb as dn` re-exports the",
        "numerical core (eqs. 1-4 of the paper); every other stage is a subpackage, and data",
        "flows one way through them: datasets, training, nets, pruning, experiments, report.",
        "",
    ]
    for name in public_modules():
        # A package's re-exports are documented where they are defined, once.
        lines += [f"## `{name}`", "", "```{eval-rst}", f".. automodule:: {name}"]
        lines += ["   :members:", "   :ignore-module-all:", "   :show-inheritance:", "```", ""]
    _write(path, "\n".join(lines))


def copy_handouts(assignments: Path, out: Path) -> list[str]:
    """Build the student handouts into the site and write the page that lists them.

    ``otter assign`` runs on every master (``assignments/build.py``, without running the
    tests against the solutions: ``make test`` does that), and only the student version
    is kept: solutions and hidden tests never reach the site.
    """
    spec = importlib.util.spec_from_file_location("_assignments_build", assignments / "build.py")
    build_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_module)
    build, masters = build_module.build, build_module.masters

    out.mkdir(parents=True, exist_ok=True)
    handouts = []
    with tempfile.TemporaryDirectory() as tmp:
        for master in masters():
            folder = build(master, Path(tmp), run_tests=False)
            handout = folder / "student" / f"{master.stem}.ipynb"
            _copy(handout, out / handout.name)
            handouts.append(handout)
    lines = [
        "# Assignments",
        "",
        f"{len(handouts)} graded assignments on the notebook series. Below are the **student",
        "versions** as they are handed out: solutions replaced by stubs, hidden tests",
        "removed. Download one with the button at the top of its page, open it in Jupyter",
        "with `divnet_nb` and `otter-grader` installed, and check your answers with its",
        "`grader.check` cells, which run the public tests (each handout's table says which",
        "they are). Instructors build, grade and test them with `make assignments` (see",
        "`assignments/README.md` in the repository).",
        "",
        "```{toctree}",
        ":maxdepth: 1",
        "",
    ]
    lines += [h.stem for h in handouts] + ["```", ""]
    _write(out / "README.md", "\n".join(lines))
    return [h.stem for h in handouts]


def _write(path: Path, text: str) -> None:
    """Write only when the text changes, so Sphinx re-reads only what changed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _copy(source: Path, target: Path) -> None:
    _write(target, source.read_text())


def prepare(root: Path, docs: Path) -> None:
    """Notebooks, handouts and the API page into ``docs`` (kept in step with the repository).

    ``docs/notebooks/`` and ``docs/assignments/`` mirror the repository's folders, so the
    links keep working: a notebook's ``../assignments/<name>.ipynb`` lands on the student
    version, and the README's ``assignments/README.md`` on the page listing them.
    """
    generated = docs
    notebooks = sorted((root / "notebooks").glob("[0-9]*.ipynb"))
    for notebook in notebooks:
        _copy(notebook, generated / "notebooks" / notebook.name)
    names = {n.name for n in notebooks}
    for stale in (generated / "notebooks").glob("*.ipynb"):
        if stale.name not in names:
            stale.unlink()
    copy_handouts(root / "assignments", docs / "assignments")
    write_api_page(docs / "api.md")
    write_landing_page(root / "README.md", docs)


#: The site's navigation, after the README's text on the landing page.
TOCTREES = """

```{toctree}
:hidden:
:caption: The notebook series
:glob:

notebooks/[0-9]*
```

```{toctree}
:hidden:
:caption: Teach and look up

assignments/README
api
```
"""

IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")


def write_landing_page(readme: Path, docs: Path) -> None:
    """``docs/index.md``: the README as it is, its images beside it, then the navigation."""
    text = readme.read_text()
    # The README shows the site's own screenshot from docs/: on the site it sits beside us.
    text = text.replace("](docs/", "](")
    for target in IMAGE.findall(text):
        if "://" in target:
            continue
        dest = (docs / target).resolve()
        if not dest.is_relative_to(docs.resolve()):
            raise ValueError(f"README image {target} would be copied outside docs/")
        if dest.is_relative_to((docs / "_static").resolve()):
            continue  # the site's own files, committed under docs/_static
        source = readme.parent / target
        if not source.exists():
            raise FileNotFoundError(f"README shows {target}, which does not exist")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists() or dest.read_bytes() != source.read_bytes():
            shutil.copyfile(source, dest)
    _write(docs / "index.md", text + TOCTREES)
