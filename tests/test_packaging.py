"""pyproject.toml is the source of truth; environment.yml must list the same packages and bounds."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import divnet_nb
from divnet_nb.core import _config

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI's
CONDA_NAMES = {"pytorch": "torch"}


def parse_requirement(text: str) -> tuple[str, str]:
    """``name[extras]`` (normalised) and the version bounds of one requirement line."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(\[[^\]]*\])?\s*(.*?)\s*", text)
    assert match, text
    name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
    extras = sorted(
        e.strip().lower() for e in (match.group(2) or "[]")[1:-1].split(",") if e.strip()
    )
    return name + (f"[{','.join(extras)}]" if extras else ""), match.group(3).replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    """The dependencies and every optional extra of pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    return dict(parse_requirement(r) for r in reqs)


def test_requirements_are_parsed_with_their_extras():
    assert parse_requirement("Dask[Distributed] >= 2024.1") == ("dask[distributed]", ">=2024.1")
    assert parse_requirement("lazy_loader>=0.4") == ("lazy-loader", ">=0.4")


def test_every_extra_is_checked_and_the_makefile_installs_them_all():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert {"dev", "bench", "docs", "cluster"} <= set(extras)
    installed = re.search(
        r'pip install --quiet -e "\.\[([a-z,]+)\]"', (ROOT / "Makefile").read_text()
    )
    assert installed and set(installed.group(1).split(",")) == set(extras)
    assert "dask-jobqueue" in pyproject_requirements()


def environment_requirements() -> dict[str, str]:
    """Package lines of environment.yml (conda and pip sections), conda names mapped to PyPI's."""
    found = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        item = re.fullmatch(r"\s*-\s+(.+?)\s*", line)
        if not item or item.group(1).endswith(":") or item.group(1).startswith("-e"):
            continue
        if item.group(1) in ("conda-forge", "pip"):
            continue
        name, spec = parse_requirement(item.group(1))
        found[CONDA_NAMES.get(name, name)] = spec
    return found


def test_environment_yml_lists_the_same_packages_as_pyproject():
    env = environment_requirements()
    python = env.pop("python")
    assert (
        python
        == ">="
        + tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"][2:]
    )
    assert env == pyproject_requirements()


#: The only upper bounds, each with its reason.
UPPER_BOUNDS = {
    "pytest": "pytest-xdist 3.8 puts xdist_group into item._nodeid, which pytest 9 no longer "
    "reads: under pytest 9 every group is silently ignored",
}


def test_environment_yml_has_lower_bounds_only():
    for name, spec in environment_requirements().items():
        bound = r">=[0-9.]+,<[0-9.]+" if name in UPPER_BOUNDS else r">=[0-9.]+"
        assert re.fullmatch(bound, spec), f"{name}: {spec!r} is not a lower bound"


def test_environment_yml_installs_the_package_with_dev_extra():
    assert "- -e .[dev]" in (ROOT / "environment.yml").read_text()


def test_public_api_is_exported():
    for name in divnet_nb.__all__:
        assert getattr(divnet_nb, name).__doc__, f"{name} has no docstring"


@pytest.mark.skipif(
    _config.numba.config.DISABLE_JIT, reason="no dispatchers when the JIT is disabled"
)
def test_every_jitted_kernel_uses_the_config_flags():
    import divnet_nb.core.dpp
    import divnet_nb.core.kernel
    import divnet_nb.core.sample

    kernels = [
        obj
        for module in (divnet_nb.core.kernel, divnet_nb.core.dpp, divnet_nb.core.sample)
        for obj in vars(module).values()
        if isinstance(obj, _config.numba.core.registry.CPUDispatcher)
    ]
    assert len(kernels) >= 6
    for kernel in kernels:
        assert kernel.targetoptions["fastmath"] == _config.FASTMATH, kernel
        assert kernel.targetoptions["parallel"] == _config.PARALLEL, kernel
        assert (type(kernel._cache).__name__ != "NullCache") == _config.CACHE, kernel
