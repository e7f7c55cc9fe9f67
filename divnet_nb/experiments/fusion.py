"""Fusion's warnings over many pruned networks, summarised in one record.

A run prunes hundreds of networks; a near-singular kept block in any of them raises a
:class:`~divnet_nb.FusionWarning`. The experiments report how many were ridged and by how
much, instead of printing one warning per pruned network.
"""

from __future__ import annotations

import contextlib
import warnings

from ..core.fuse import FusionWarning

__all__ = ["fusion_warnings"]


@contextlib.contextmanager
def fusion_warnings():
    """Collect :class:`~divnet_nb.FusionWarning` s instead of printing one per pruned network.

    Yields a dict that, on exit, holds ``count`` and ``max_ridge`` (the largest
    relative ridge used); other warnings pass through.
    """
    summary = {"count": 0, "max_ridge": 0.0}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FusionWarning)
        yield summary
    for w in caught:
        if isinstance(w.message, FusionWarning):
            summary["count"] += 1
            summary["max_ridge"] = max(summary["max_ridge"], w.message.ridge or 0.0)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
