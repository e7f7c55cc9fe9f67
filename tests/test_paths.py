"""Where the package reads and writes: inside a checkout of the repository, and installed.

The package's location is monkeypatched (``paths.REPO_ROOT``, the folder holding it), so
these tests see both cases without installing anything; tests/test_install.py installs a
real wheel (slow lane).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numba
import pytest
from conftest import JIT_DISABLED

from divnet_nb import paths
from divnet_nb.cli import main
from divnet_nb.core import _config
from divnet_nb.experiments import reference
from divnet_nb.report import readme

VARIABLES = ("DIVNET_DATA", "DIVNET_CACHE", "DIVNET_RESULTS")


def write_pyproject(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(f'[project]\nname = "{name}"\nversion = "1"\n')
    return folder


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty HOME (and XDG folders inside it), no DIVNET_* variables, cwd in it."""
    home = tmp_path / "home"
    (home / "work").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg-cache"))
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(home / "work")
    return home


@pytest.fixture
def installed(tmp_path, monkeypatch, home):
    """The package as if installed: its folder holds no pyproject.toml."""
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.setattr(paths, "REPO_ROOT", site)
    return site


def test_this_repository_is_a_checkout():
    root = Path(__file__).resolve().parents[1]
    assert paths.checkout_root() == root == paths.REPO_ROOT
    assert paths.require_checkout("anything") == root


@pytest.mark.parametrize("name", ["divnet-nb", "divnet_nb", "DivNet.NB"])
def test_a_folder_with_this_projects_pyproject_is_a_checkout(tmp_path, name):
    assert paths.checkout_root(write_pyproject(tmp_path, name)) == tmp_path


@pytest.mark.parametrize(
    "text",
    [
        None,  # no pyproject.toml at all
        '[project]\nname = "other-project"\n',  # another project's
        '[project]\nname = "divnet-nb-extras"\n',  # a name that only starts like ours
        "[tool.ruff]\nline-length = 100\n",  # no [project] table
        "[project]\nname = 3\n",  # a name that is no string
        "[project\nname = 'divnet-nb'\n",  # not TOML
    ],
)
def test_a_folder_without_this_projects_pyproject_is_not_a_checkout(tmp_path, text):
    if text is not None:
        (tmp_path / "pyproject.toml").write_text(text)
    assert paths.checkout_root(tmp_path) is None


def test_defaults_inside_a_checkout_are_the_repository_folders(tmp_path, monkeypatch, home):
    root = write_pyproject(tmp_path / "clone", "divnet-nb")
    monkeypatch.setattr(paths, "REPO_ROOT", root)
    assert paths.data_dir() == root / "data"
    assert paths.cache_dir() == root / "runs"
    assert paths.results_dir() == root / "results"
    assert paths.kernel_cache_dir() is None  # Numba's own place, as before
    for folder in paths.folders().values():
        assert folder.reason == f"default inside the checkout at {root}"
        assert folder.why.endswith(f"; set {folder.variable} to change")


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG folders are Linux's")
def test_defaults_when_installed_are_the_platform_folders_and_the_current_directory(installed):
    home = Path.home()
    assert paths.data_dir() == home / "xdg-data" / "divnet-nb"
    assert paths.cache_dir() == home / "xdg-cache" / "divnet-nb"
    assert paths.results_dir() == home / "work" / "results"
    assert paths.kernel_cache_dir() == home / "xdg-cache" / "divnet-nb" / "numba"
    reasons = {name: folder.reason for name, folder in paths.folders().items()}
    assert reasons == {
        "data": "platform user data folder; not in a checkout",
        "cache": "platform user cache folder; not in a checkout",
        "results": "results/ in the current directory; not in a checkout",
    }
    assert not any(p.is_relative_to(installed) for p in (paths.data_dir(), paths.cache_dir()))


def test_another_projects_pyproject_beside_the_package_is_not_a_checkout(installed):
    write_pyproject(installed, "some-other-project")
    assert paths.checkout_root() is None
    assert paths.results_dir() == Path.cwd() / "results"
    assert not paths.data_dir().is_relative_to(installed)


@pytest.mark.parametrize("where", ["checkout", "installed"])
def test_the_variables_win_in_both_cases(tmp_path, monkeypatch, home, where):
    root = tmp_path / "pkg"
    if where == "checkout":
        write_pyproject(root, "divnet-nb")
    monkeypatch.setattr(paths, "REPO_ROOT", root)
    monkeypatch.setenv("DIVNET_DATA", "relative-data")
    monkeypatch.setenv("DIVNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DIVNET_RESULTS", "~/out")
    assert paths.data_dir() == home / "work" / "relative-data"  # from the current directory
    assert paths.cache_dir() == tmp_path / "cache"
    assert paths.results_dir() == home / "out"
    for folder in paths.folders().values():
        assert folder.reason == folder.why == folder.variable


def test_the_committed_references_outside_a_checkout_are_a_one_line_error(installed):
    with pytest.raises(paths.NotACheckoutError, match="checkout of the divnet-nb repository"):
        reference.reference_path("mnist")
    with pytest.raises(FileNotFoundError) as info:  # what callers of load_reference catch
        reference.load_reference("mnist")
    assert "\n" not in str(info.value) and str(installed / "divnet_nb") in str(info.value)


def test_writing_a_reference_or_the_readme_outside_a_checkout_stops_before_any_write(
    installed, tmp_path, capsys
):
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"settings": {"fast": False}, "dataset": "digits"}))
    assert reference.main([str(results)]) == 2
    assert readme.main(["--check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and err.count("live in a checkout of the divnet-nb") == 2
    assert list(installed.iterdir()) == []


def test_an_installed_copy_records_no_commit(installed):
    assert reference.environment()["commit"] is None


@pytest.mark.skipif(
    shutil.which("git") is None or not (paths.REPO_ROOT / ".git").exists(), reason="no git clone"
)
def test_a_checkout_records_its_commit():
    assert reference.environment()["commit"]


def test_data_command_says_which_folders_apply_and_why(installed, capsys, monkeypatch):
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert f"results folder: {Path.cwd() / 'results'}  (results/ in the current directory" in out
    assert "(platform user data folder; not in a checkout; set DIVNET_DATA to change)" in out
    monkeypatch.setenv("DIVNET_DATA", "/somewhere")
    assert main(["data"]) == 0
    assert "data folder:    /somewhere  (DIVNET_DATA)\n" in capsys.readouterr().out


@pytest.mark.skipif(JIT_DISABLED, reason="no dispatchers when the JIT is disabled")
@pytest.mark.skipif(bool(numba.config.CACHE_DIR), reason="NUMBA_CACHE_DIR is set: it wins")
@pytest.mark.parametrize("folder", [None, "kernels"])
def test_compiled_kernels_are_cached_beside_the_sources_only_in_a_checkout(
    tmp_path, monkeypatch, folder
):
    monkeypatch.setattr(_config, "CACHE_DIR", folder and tmp_path / folder)
    before = numba.config.CACHE_DIR

    def twice(x):
        return 2 * x

    kernel = _config.jit(twice)
    where = Path(kernel._cache.cache_path)
    if folder is None:
        assert where == Path(__file__).parent / "__pycache__"
    else:
        assert where.is_relative_to(tmp_path / folder)
    assert numba.config.CACHE_DIR == before  # put back: other packages' kernels are unaffected


def test_the_kernel_cache_of_this_checkout_is_numbas_own():
    assert _config.CACHE_DIR is None


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG folders are Linux's")
def test_a_missing_dataset_names_the_user_data_folder_and_why(installed):
    from divnet_nb.datasets._common import not_found

    message = str(not_found("MNIST", ["somewhere"], "Files missing."))
    assert f"DIVNET_DATA is unset, so {Path.home() / 'xdg-data' / 'divnet-nb'} is used" in message
    assert "(platform user data folder; not in a checkout)" in message
