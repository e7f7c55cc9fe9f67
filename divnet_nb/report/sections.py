"""README blocks of the experiments that answer one question each, declared as data.

Each entry of :data:`SECTIONS` names a README block (``<!-- reference:<name> -->``), the
experiment whose committed references fill it (``reference/<name>-<dataset>.json``), and
the report module's summary and figure functions. :func:`section_blocks` gives every
block's markdown, :func:`draw_section_figures` every figure
(``reference/<name>-<dataset>.png``); :mod:`divnet_nb.report.readme` calls both. A new
experiment's README block is one entry here.
"""

from __future__ import annotations

import importlib
from pathlib import Path

__all__ = ["SECTIONS", "draw_section_figures", "section_blocks"]

#: block name: (experiment, report module, summary function, figure function).
SECTIONS = {
    "sizes": ("sizes", "sizes", "sizes_summary", "save_sizes_figure"),
    "interleaved": ("interleaved", "interleaved", "interleaved_summary", "save_interleaved_figure"),
    "edge-bandwidths": (
        "edge-bandwidths",
        "edge_bandwidths",
        "bandwidths_summary",
        "save_bandwidths_figure",
    ),
}


def _function(module: str, name: str):
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


def section_blocks(load, cite) -> dict[str, str]:
    """``{block name: markdown}`` for every section with at least one committed reference.

    ``load(kind)`` gives the committed references of an experiment, ``{dataset: result}``;
    ``cite(refs, stem, markdown)`` renders them with their files and commits (both from
    :mod:`divnet_nb.report.readme`, which owns the reference folder).
    """
    out = {}
    for name, (kind, module, summary, _figure) in SECTIONS.items():
        refs = load(kind)
        if refs:
            out[name] = cite(refs, lambda ds, n=name: f"{n}-{ds}", _function(module, summary))
    return out


def draw_section_figures(load, folder: Path) -> list[Path]:
    """Every section's figure, ``<folder>/<name>-<dataset>.png``, one per committed reference."""
    paths = []
    for name, (kind, module, _summary, figure) in SECTIONS.items():
        draw = _function(module, figure)
        paths += [draw(r, Path(folder) / f"{name}-{ds}.png") for ds, r in load(kind).items()]
    return paths
