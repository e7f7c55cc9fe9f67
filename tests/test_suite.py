"""The suite's own machinery (tests/conftest.py): what a test may not leave behind in a
worker process that runs many tests."""

from __future__ import annotations

import os

import numpy as np
from conftest import snapshot_traces, traces_left

from divnet_nb.pruning import method_names, register_method


def test_a_variable_or_a_rule_left_behind_is_reported_and_undone():
    snapshot = snapshot_traces()
    os.environ["DIVNET_CACHE"] = "/nowhere"  # not through monkeypatch: nothing would undo it
    os.environ["SOME_LIBRARY_SETTING"] = "1"  # a new variable the package does not read
    register_method("left-behind", "neuron", label="left", color="k", marker="o")(
        lambda data, k, rng: np.arange(k)
    )
    try:
        assert traces_left(snapshot) == [
            "environment variables ['DIVNET_CACHE']",
            "method neuron left-behind",
        ]
        assert os.environ.get("DIVNET_CACHE") == snapshot[0].get("DIVNET_CACHE")
        assert "left-behind" not in method_names("neuron")
        assert traces_left(snapshot) == []
    finally:
        os.environ.pop("SOME_LIBRARY_SETTING", None)


def test_a_kernel_left_behind_is_reported_and_undone():
    from divnet_nb.core.kernels import kernel_names, register_kernel

    snapshot = snapshot_traces()
    register_kernel("left-behind")(lambda x, eps=0.01: (np.eye(x.n), {"eps": eps}))
    assert traces_left(snapshot) == ["kernel left-behind"]
    assert "left-behind" not in kernel_names()
    assert traces_left(snapshot) == []
