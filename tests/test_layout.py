"""The house: one subpackage per stage, no import cycles, a torch-free core, modules of a few hundred lines."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "divnet_nb"
MAX_LINES = 520


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """Package modules that ``name`` imports anywhere in its body (functions included)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module
            # "from . import x" imports the submodule x; "from .m import f" imports module m
            targets = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
            targets = targets or [base]
        else:
            continue
        found.update(t for t in targets if t in MODULES and t != name)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_package_has_no_import_cycle():
    graph = {name: imports_of(name) for name in MODULES}
    assert graph["divnet_nb.datasets.mnist_rot"] >= {
        "divnet_nb.datasets.mnist"
    }  # the walk sees edges
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_core_imports_no_torch():
    code = "import sys, divnet_nb.core, divnet_nb; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


#: Outside the core, the core may read where things live (where to cache compiled kernels):
#: a leaf module of the standard library and platformdirs.
CORE_MAY_IMPORT = {"divnet_nb.paths"}


def test_the_core_imports_nothing_outside_itself():
    for name in MODULES:
        if name.startswith("divnet_nb.core"):
            outside = {m for m in imports_of(name) if not m.startswith("divnet_nb.core")}
            assert outside <= CORE_MAY_IMPORT, f"{name} imports {outside - CORE_MAY_IMPORT}"
    for name in CORE_MAY_IMPORT:
        assert not imports_of(name), f"{name} imports {imports_of(name)}: not a leaf"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_are_a_few_hundred_lines(name):
    n = len(MODULES[name].read_text().splitlines())
    assert n <= MAX_LINES, f"{name} has {n} lines"


def test_the_stages_are_subpackages():
    for sub in ("core", "datasets", "nets", "pruning", "training", "experiments", "report"):
        assert (PACKAGE / sub / "__init__.py").is_file(), sub


def _lint_imports(root) -> subprocess.CompletedProcess:
    """import-linter's contract of pyproject.toml, on the package found under ``root``."""
    env = dict(os.environ, PYTHONPATH=str(root))
    config = PACKAGE.parent / "pyproject.toml"
    linter = Path(sys.executable).parent / "lint-imports"
    return subprocess.run(
        [str(linter), "--config", str(config), "--no-cache"],
        capture_output=True, text=True, env=env, cwd=root,
    )  # fmt: skip


def test_the_import_layers_are_kept():
    out = _lint_imports(PACKAGE.parent)
    assert out.returncode == 0 and "1 kept, 0 broken" in out.stdout, out.stdout + out.stderr


def test_the_import_layers_catch_a_stage_that_reaches_up(tmp_path):
    """The two imports the layers were made to forbid: theory reaching up into report (for the
    figure style) and sideways into experiments (for the verdict statistics)."""
    copy = tmp_path / "divnet_nb"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for name, line in (
        ("experiment.py", "from ..report.figures import STYLE  # noqa\n"),
        ("claims.py", "from ..experiments.claims import check_claims  # noqa\n"),
    ):
        path = copy / "theory" / name
        path.write_text(line + path.read_text())
    out = _lint_imports(tmp_path)
    assert out.returncode == 1 and "BROKEN" in out.stdout, out.stdout + out.stderr
    assert "divnet_nb.theory.experiment -> divnet_nb.report.figures" in out.stdout
    assert "divnet_nb.theory.claims -> divnet_nb.experiments.claims" in out.stdout
