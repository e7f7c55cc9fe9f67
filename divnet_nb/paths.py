"""Where things live, and the one size switch, all read from the environment.

The defaults depend on where the package runs from. In a *checkout* of the repository
(the folder holding the package also holds this project's ``pyproject.toml``, the one
whose ``[project] name`` is ``divnet-nb``; an editable install is one too) everything
stays inside the checkout. An *installed* package (a wheel in ``site-packages``) never
writes next to its own files: it uses the user's platform folders (platformdirs) and the
current directory.

==================  =====================  ===============================  ========================
variable            default in a checkout  default when installed           what
==================  =====================  ===============================  ========================
``DIVNET_DATA``     ``data/``              the platform user data folder    datasets, in
                                                                            torchvision's layout
``DIVNET_CACHE``    ``runs/``              the platform user cache folder   trained networks,
                                                                            rebuilt datasets,
                                                                            compiled kernels
``DIVNET_RESULTS``  ``results/``           ``results/`` in the current      what ``divnet-nb
                                           directory                        reproduce`` writes
``DIVNET_FAST``     unset                  unset                            ``1``: small runs of
                                                                            the same code
==================  =====================  ===============================  ========================

The platform folders are platformdirs' ``user_data_path`` and ``user_cache_path`` of
``divnet-nb``: on Linux ``~/.local/share/divnet-nb`` and ``~/.cache/divnet-nb`` (or
under ``$XDG_DATA_HOME`` and ``$XDG_CACHE_HOME``). A variable that is set wins in both
cases; :func:`folders` says which folder applies and why (``divnet-nb data`` prints it).
Compiled Numba kernels stay in ``__pycache__`` beside the sources in a checkout (Numba's
default) and go to ``numba/`` in the cache folder otherwise (:func:`kernel_cache_dir`).
The committed references (``reference/*.json``) and the README exist only in a
checkout: asking for them outside one raises :class:`NotACheckoutError`, a one-line
message (:func:`require_checkout`).

Fast mode is on when ``DIVNET_FAST`` is ``1`` or ``true``, or when it is unset (or
empty) and ``CI`` is set; ``DIVNET_FAST=0`` (or ``false``) turns it off even in CI. Any
other value is an error, not a guess. Relative paths are taken from the current
directory.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import NamedTuple

import platformdirs

__all__ = [
    "PROJECT",
    "REPO_ROOT",
    "Folder",
    "NotACheckoutError",
    "cache_dir",
    "checkout_root",
    "data_dir",
    "fast_mode",
    "folders",
    "kernel_cache_dir",
    "require_checkout",
    "results_dir",
]

#: The distribution name, in ``pyproject.toml`` and for the platform folders.
PROJECT = "divnet-nb"
#: The folder holding the package: the repository's root in a checkout, ``site-packages``
#: (or wherever it was installed) otherwise; :func:`checkout_root` tells which.
REPO_ROOT = Path(__file__).resolve().parents[1]

_TRUE = {"1", "true"}
_FALSE = {"0", "false"}

# name: (variable, folder inside a checkout, platform folder when installed or None for ./)
_FOLDERS = {
    "data": ("DIVNET_DATA", "data", "data"),
    "cache": ("DIVNET_CACHE", "runs", "cache"),
    "results": ("DIVNET_RESULTS", "results", None),
}


class NotACheckoutError(FileNotFoundError):
    """A file that only a checkout of the repository has was asked for outside one."""


class Folder(NamedTuple):
    """A folder the package reads or writes, and why it is that one."""

    path: Path
    reason: str
    variable: str

    @property
    def why(self) -> str:
        """The reason, with the variable that changes it when the variable is not set."""
        if self.reason == self.variable:
            return self.reason
        return f"{self.reason}; set {self.variable} to change"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def checkout_root(folder: Path | str | None = None) -> Path | None:
    """The checkout of the repository the package runs from, or None when it is installed.

    Parameters
    ----------
    folder : path, optional
        The folder to look at; default :data:`REPO_ROOT`, the folder holding the package.

    Returns
    -------
    Path or None
        ``folder`` when it holds this project's ``pyproject.toml`` (``[project] name``
        ``divnet-nb``); None when there is none, it cannot be read, or it is another
        project's.
    """
    folder = Path(REPO_ROOT if folder is None else folder)
    try:
        project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
        name = project["project"]["name"]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError):
        return None
    return folder if isinstance(name, str) and _canonical(name) == PROJECT else None


def require_checkout(what: str) -> Path:
    """The checkout's root; outside a checkout a :class:`NotACheckoutError` naming ``what``."""
    root = checkout_root()
    if root is None:
        raise NotACheckoutError(
            f"{what} live in a checkout of the {PROJECT} repository; this divnet_nb is an "
            f"installed copy ({REPO_ROOT / 'divnet_nb'}), so run this from a clone of the repository"
        )
    return root


def _folder(name: str) -> Folder:
    variable, in_checkout, platform = _FOLDERS[name]
    value = os.environ.get(variable)
    if value:
        return Folder(Path(value).expanduser().resolve(), variable, variable)
    root = checkout_root()
    if root is not None:
        return Folder(root / in_checkout, f"default inside the checkout at {root}", variable)
    if platform is None:
        return Folder(
            Path.cwd() / in_checkout,
            f"{in_checkout}/ in the current directory; not in a checkout",
            variable,
        )
    where = platformdirs.user_data_path if platform == "data" else platformdirs.user_cache_path
    return Folder(
        where(PROJECT, appauthor=False),
        f"platform user {platform} folder; not in a checkout",
        variable,
    )


def folders() -> dict[str, Folder]:
    """The data, cache and results folders now in use, each with the reason it is that one."""
    return {name: _folder(name) for name in _FOLDERS}


def data_dir() -> Path:
    """Dataset folder: ``$DIVNET_DATA``, else ``data/`` in a checkout, else the user data folder."""
    return _folder("data").path


def cache_dir() -> Path:
    """Trained networks and rebuilt datasets: ``$DIVNET_CACHE``, else ``runs/`` in a checkout,
    else the user cache folder."""
    return _folder("cache").path


def results_dir() -> Path:
    """Output of ``divnet-nb reproduce``: ``$DIVNET_RESULTS``, else ``results/`` in a checkout,
    else ``results/`` in the current directory."""
    return _folder("results").path


def kernel_cache_dir() -> Path | None:
    """Where Numba caches compiled kernels: None in a checkout (``__pycache__`` beside the
    sources, Numba's default), else ``numba/`` in :func:`cache_dir`."""
    return None if checkout_root() is not None else cache_dir() / "numba"


def fast_mode() -> bool:
    """True when runs should be small (``DIVNET_FAST``, or ``CI`` when that is unset)."""
    value = (os.environ.get("DIVNET_FAST") or "").strip().lower()
    if not value:
        return bool(os.environ.get("CI"))
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"DIVNET_FAST must be 0, 1, true or false; got {os.environ['DIVNET_FAST']!r}")
