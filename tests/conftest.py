"""Shared fixtures. ``naive`` (the slow reference twins) is importable because
pytest puts this folder on ``sys.path``."""

from __future__ import annotations

import os

import numpy as np
import pytest

JIT_DISABLED = os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0")


@pytest.fixture
def rng():
    return np.random.default_rng(20160502)


def random_psd(rng, n, rank=None, scale=1.0):
    """A random symmetric PSD matrix of the given rank (full by default)."""
    rank = n if rank is None else rank
    B = rng.standard_normal((n, rank))
    L = B @ B.T / rank * scale
    return (L + L.T) / 2
