"""Where things live, and the one size switch, all read from the environment.

========================  ==============================  =========================================
variable                  default                         what
========================  ==============================  =========================================
``DIVNET_DATA``           ``data/`` in the repository     datasets, in torchvision's layout
``DIVNET_CACHE``          ``runs/`` in the repository     trained networks, rebuilt datasets
``DIVNET_RESULTS``        ``results/`` in the repository  what ``divnet-nb reproduce`` writes
``DIVNET_FAST``           unset                           ``1``: small runs of the same code
========================  ==============================  =========================================

Fast mode is on when ``DIVNET_FAST`` is ``1`` or ``true``, or when it is unset (or
empty) and ``CI`` is set; ``DIVNET_FAST=0`` (or ``false``) turns it off even in CI. Any
other value is an error, not a guess. Relative paths are taken from the current
directory.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

_TRUE = {"1", "true"}
_FALSE = {"0", "false"}


def _dir(variable: str, default: str) -> Path:
    value = os.environ.get(variable)
    return Path(value).expanduser().resolve() if value else REPO_ROOT / default


def data_dir() -> Path:
    """Dataset folder: ``$DIVNET_DATA``, else ``data/`` in the repository."""
    return _dir("DIVNET_DATA", "data")


def cache_dir() -> Path:
    """Cache for trained networks and rebuilt datasets: ``$DIVNET_CACHE``, else ``runs/``."""
    return _dir("DIVNET_CACHE", "runs")


def results_dir() -> Path:
    """Output folder of ``divnet-nb reproduce``: ``$DIVNET_RESULTS``, else ``results/``."""
    return _dir("DIVNET_RESULTS", "results")


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
