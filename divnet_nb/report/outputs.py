"""What each experiment writes into its output folder: its result as JSON, Markdown, figures.

Each experiment of :mod:`divnet_nb.tasks` has one writer here, registered with
:func:`writes` under the experiment's name by the report module that presents it
(:data:`_MODULES`: ``write`` for ``reproduce``, and ``leaderboard``, ``kernels``, ``edges``,
``gates``, ``theory``, ``cnn``, ``sizes``, ``interleaved``, ``edge-bandwidths``). :func:`write_outputs` looks the writer up by the result's ``"experiment"``
key, so nothing guesses the kind of a result from its other keys. Every file is written
atomically (:func:`divnet_nb._io.atomic_write`).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path

from .._io import atomic_write

__all__ = ["writes", "write_outputs", "write_json", "write_text", "writer_names"]

#: The report modules that register writers (one entry per experiment's presentation).
_MODULES = (
    "write",
    "leaderboard",
    "kernels",
    "edges",
    "gates",
    "theory",
    "cnn",
    "sizes",
    "interleaved",
    "edge_bandwidths",
)
_WRITERS: dict[str, Callable[[dict, Path], Path]] = {}


def writes(experiment: str):
    """Decorator: ``fn(result, folder) -> Path`` writes ``experiment``'s files (returns the Markdown)."""

    def register(fn):
        _WRITERS[experiment] = fn
        return fn

    return register


def _load() -> None:
    for name in _MODULES:
        importlib.import_module(f"{__package__}.{name}")


def writer_names() -> list[str]:
    """The experiments that have a writer."""
    _load()
    return sorted(_WRITERS)


def write_outputs(result: dict, folder) -> Path:
    """Write ``result``'s files into ``folder`` (created); return the path of its Markdown."""
    _load()
    kind = result.get("experiment")
    if kind not in _WRITERS:
        raise ValueError(
            f"a result must name its experiment (one of {', '.join(sorted(_WRITERS))}); got {kind!r}"
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return _WRITERS[kind](result, folder)


def write_json(result: dict, path: Path) -> Path:
    with atomic_write(path, "w") as f:
        json.dump(result, f, indent=1, default=float)
    return path


def write_text(text: str, path: Path) -> Path:
    with atomic_write(path, "w") as f:
        f.write(text)
    return path
