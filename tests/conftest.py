"""Shared fixtures. ``naive`` (the slow reference twins) is importable because
pytest puts this folder on ``sys.path``."""

from __future__ import annotations

import os
import urllib.error
import urllib.request

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


@pytest.fixture
def no_network(monkeypatch):
    """Every URL fails at once; records the URLs torchvision tried."""
    tried = []

    def fail(request, *args, **kwargs):
        tried.append(getattr(request, "full_url", request))
        raise urllib.error.URLError("network disabled by the test")

    monkeypatch.setattr(urllib.request, "urlopen", fail)
    return tried


#: In CI (CI set, as .ci/run does) or with DIVNET_DATA set, a missing dataset is a failure.
DATA_REQUIRED = bool(os.environ.get("CI") or os.environ.get("DIVNET_DATA"))


def require_data(name: str):
    """Skip when a dataset is missing on a developer's machine; fail in CI or when DIVNET_DATA is set."""
    from divnet_nb.datasets import DatasetNotFoundError, load_dataset

    try:
        load_dataset(name, n_train=1, n_test=1)
    except DatasetNotFoundError as exc:
        if DATA_REQUIRED:
            pytest.fail(f"{name} is missing (CI or DIVNET_DATA is set, so it must be there): {exc}")
        pytest.skip(f"{name} not available (set DIVNET_DATA): {exc}")
