"""Results that survive an interruption: each finished part is on disk before the next starts.

An experiment is a set of parts (:mod:`divnet_nb.tasks.protocol`: network i's sweep of
layer l, its Table 2, one gated run, one student). :class:`ResultStore` writes each
finished part as one JSON file, atomically, into a folder named by a hash of everything
that decides the numbers (the experiment's identity: its settings, the trained networks'
cache keys, the format below). A rerun with the same settings
finds the folder and reads the finished parts instead of computing them again, so a
run stopped by Ctrl-C, a kill or a power cut picks up where it stopped; a run with
other settings gets another folder and shares nothing.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .._io import atomic_write

__all__ = ["RESULTS_FORMAT", "ResultStore"]

#: Bump when the computation of a part changes, so that stored parts are not reused.
RESULTS_FORMAT = 2


class ResultStore:
    """Finished parts of one experiment under ``root``, keyed by ``identity``.

    Parameters
    ----------
    root : Path
        Where stores live (``<out>/.parts`` for the command line).
    identity : dict
        Everything that decides the parts' numbers; its hash names the folder.
    """

    def __init__(self, root, identity: dict):
        digest = hashlib.sha256(
            json.dumps({"format": RESULTS_FORMAT, **identity}, sort_keys=True, default=str).encode()
        ).hexdigest()[:16]
        self.folder = Path(root) / digest
        self.resumed = 0
        self.computed = 0

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def get(self, name: str):
        """The stored part, or None (also for an unreadable file, which is then recomputed)."""
        try:
            return json.loads(self._path(name).read_text())
        except (OSError, ValueError):
            return None

    def put(self, name: str, value) -> None:
        with atomic_write(self._path(name), "w") as f:
            json.dump(value, f)

    def has(self, name: str) -> bool:
        """Whether part ``name`` is on disk (readable or not)."""
        return self._path(name).is_file()

    def note_failure(self, name: str, text: str) -> Path:
        """Write the traceback of a failed part beside the finished ones; returns the file."""
        path = self.folder / f"failed-{name}.log"
        with atomic_write(path, "w") as f:
            f.write(text)
        return path

    def part(self, name: str, compute):
        """The stored part ``name``, or ``compute()``'s value, stored before it is returned."""
        value = self.get(name)
        if value is not None:
            self.resumed += 1
            return value
        value = compute()
        self.put(name, value)
        self.computed += 1
        return value
