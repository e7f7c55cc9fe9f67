"""Files that are either whole or absent: the one atomic-write helper of the package.

:func:`atomic_write` writes to a temporary file in the target's folder, flushes it to
disk, and renames it over the target (:func:`os.replace`, atomic on POSIX), so a reader
never sees a half-written file and an interrupted write (Ctrl-C, a crash, a full disk)
leaves the previous file, or none, under the final name. Used for trained networks,
the MNIST_ROT rebuild and experiment results.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write"]


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", *, permissions: int = 0o644):
    """Context manager yielding a file object whose content replaces ``path`` only on success.

    Parameters
    ----------
    path : str or Path
        The final file; its folder is created if needed.
    mode : {"wb", "w"}
        Binary or text.
    permissions : int
        Mode bits of the finished file (temporary files are created private).
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w'; got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, permissions)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
