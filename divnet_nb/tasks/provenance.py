"""Where a set of numbers came from: package versions, the machine, the commit, the date.

Every result records :func:`environment` (the command line adds it to results that lack
it), so a committed reference says which code and which machine made it.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from ..paths import REPO_ROOT, checkout_root

__all__ = ["PACKAGES", "environment"]

PACKAGES = ("divnet-nb", "numpy", "scipy", "numba", "torch", "scikit-learn", "matplotlib")


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git(*args) -> str | None:
    if checkout_root() is None:  # an installed copy has no commit of its own
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _commit() -> str | None:
    """HEAD, marked "+changes" when tracked files differ from it."""
    head = _git("rev-parse", "HEAD")
    if head and _git("status", "--porcelain", "--untracked-files=no"):
        head += "+changes"
    return head


def environment() -> dict:
    """Package versions, machine and commit: where a set of numbers came from."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    threads = None
    if "torch" in sys.modules:
        threads = sys.modules["torch"].get_num_threads()
    return {
        "packages": versions,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {_cpu()}",
        "torch_threads": threads,
        "commit": _commit(),
        "date": datetime.date.today().isoformat(),
    }
