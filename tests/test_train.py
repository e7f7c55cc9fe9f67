"""Training until the error threshold, and the checkpoint cache."""

from __future__ import annotations

import os
import sys
import time
from subprocess import PIPE, Popen

import pytest
import torch

from divnet_nb.datasets import load_dataset
from divnet_nb.nets import error_rate
from divnet_nb.training import (
    GATE,
    TrainConfig,
    checkpoint_path,
    default_config,
    load_or_train,
    train,
    train_instances,
    training_lock,
)

SIZES = (64, 32, 32, 10)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def weights_equal(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_trains_until_threshold(digits):
    config = TrainConfig(threshold=0.02, max_epochs=100)
    result = train(digits, SIZES, seed=0, config=config, progress=False)
    assert result.reached
    assert result.train_error < 0.02
    assert error_rate(result.model, digits.x_train, digits.y_train) == pytest.approx(
        result.train_error
    )
    # stopped at the first full check below the threshold
    full_checks = [h["train_error"] for h in result.history if "train_error" in h]
    assert full_checks[-1] < 0.02 and all(e >= 0.02 for e in full_checks[:-1])
    assert all(h["running_error"] < GATE * 0.02 for h in result.history if "train_error" in h)
    assert "trained" in result.summary() and "threshold" not in result.summary()


def test_seeded_training_is_reproducible(digits):
    config = TrainConfig(threshold=0.2, max_epochs=5)
    a = train(digits, SIZES, seed=3, config=config, progress=False)
    b = train(digits, SIZES, seed=3, config=config, progress=False)
    assert weights_equal(a.model, b.model) and a.iterations == b.iterations


def test_max_epochs_guard_is_flagged(digits, capsys):
    result = train(
        digits, SIZES, seed=0, config=TrainConfig(threshold=1e-6, max_epochs=1), progress=False
    )
    assert not result.reached and result.epochs == pytest.approx(1.0)
    assert "NOT reached" in result.summary()
    assert "stopped at max_epochs=1" in capsys.readouterr().err


def test_cache_round_trip_and_key(digits, tmp_path):
    config = TrainConfig(threshold=0.2, max_epochs=10)
    first = load_or_train(digits, SIZES, 1, config, cache_root=tmp_path, progress=False)
    second = load_or_train(digits, SIZES, 1, config, cache_root=tmp_path, progress=False)
    assert not first.from_cache and second.from_cache
    assert weights_equal(first.model, second.model)
    assert second.iterations == first.iterations and second.history == first.history
    path = checkpoint_path(digits, SIZES, 1, config, tmp_path)
    assert path.exists() and not list(tmp_path.rglob("*.tmp"))
    assert checkpoint_path(digits, SIZES, 2, config, tmp_path) != path
    assert checkpoint_path(digits, SIZES, 1, TrainConfig(threshold=0.3), tmp_path) != path
    other_data = load_dataset("digits", n_train=500)
    assert checkpoint_path(other_data, SIZES, 1, config, tmp_path) != path


def test_truncated_checkpoint_is_detected_and_retrained(digits, tmp_path, capsys):
    config = TrainConfig(threshold=0.2, max_epochs=10)
    first = load_or_train(digits, SIZES, 0, config, cache_root=tmp_path, progress=False)
    path = checkpoint_path(digits, SIZES, 0, config, tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    again = load_or_train(digits, SIZES, 0, config, cache_root=tmp_path, progress=False)
    assert "is unusable" in capsys.readouterr().err
    assert not again.from_cache and weights_equal(first.model, again.model)
    assert load_or_train(digits, SIZES, 0, config, cache_root=tmp_path, progress=False).from_cache


def test_mismatched_checkpoint_is_retrained(digits, tmp_path, capsys):
    config = TrainConfig(threshold=0.2, max_epochs=10)
    load_or_train(digits, SIZES, 0, config, cache_root=tmp_path, progress=False)
    path = checkpoint_path(digits, SIZES, 0, config, tmp_path)
    other = checkpoint_path(digits, SIZES, 5, config, tmp_path)
    load_or_train(digits, SIZES, 5, config, cache_root=tmp_path, progress=False)
    os.replace(other, path)  # a valid file under the wrong key
    result = load_or_train(digits, SIZES, 0, config, cache_root=tmp_path, progress=False)
    assert not result.from_cache and "key does not match" in capsys.readouterr().err


def test_interrupted_save_leaves_no_checkpoint(digits, tmp_path, monkeypatch):
    config = TrainConfig(threshold=0.3, max_epochs=5)

    def crash(obj, fh, *args, **kwargs):
        fh.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        load_or_train(digits, SIZES, 0, config, cache_root=tmp_path, progress=False)
    assert not checkpoint_path(digits, SIZES, 0, config, tmp_path).exists()
    assert not list(tmp_path.rglob("*.tmp"))


#: A process that asks for one small digits network and says whether it trained it.
ASK_FOR_A_NETWORK = """
import sys
from divnet_nb.datasets import load_dataset
from divnet_nb.training import TrainConfig, load_or_train
digits = load_dataset("digits")
print("ready", flush=True)
run = load_or_train(digits, (64, 32, 32, 10), 3, TrainConfig(threshold=0.3, max_epochs=1),
                    cache_root=sys.argv[1], progress=False)
print("loaded" if run.from_cache else "trained", flush=True)
"""


def test_two_processes_asking_for_one_missing_network_train_it_once(digits, tmp_path):
    """Both ask while the lock is held here, so both find no checkpoint; without the lock
    both would train and save it."""
    config = TrainConfig(threshold=0.3, max_epochs=1)
    path = checkpoint_path(digits, SIZES, 3, config, tmp_path)
    argv = [sys.executable, "-c", ASK_FOR_A_NETWORK, str(tmp_path)]
    env = dict(os.environ, OMP_NUM_THREADS="1")  # one epoch of a small network
    with training_lock(path):
        procs = [Popen(argv, stdout=PIPE, stderr=PIPE, text=True, env=env) for _ in range(2)]
        try:
            assert [p.stdout.readline().strip() for p in procs] == ["ready", "ready"]
            time.sleep(2.0)  # both are past their look for a cached file
            assert not path.exists()
        except BaseException:
            for p in procs:
                p.kill()
            raise
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    assert sorted(out.split()[-1] for out, _ in outputs) == ["loaded", "trained"]
    assert load_or_train(digits, SIZES, 3, config, cache_root=tmp_path, progress=False).from_cache


def test_instances_and_defaults(digits, tmp_path):
    runs = train_instances(
        digits,
        SIZES,
        2,
        TrainConfig(threshold=0.3, max_epochs=5),
        cache_root=tmp_path,
        progress=False,
    )
    assert [r.seed for r in runs] == [0, 1]
    assert default_config("cifar10").threshold == 0.5 and default_config("mnist").threshold == 0.01
    with pytest.raises(ValueError, match="threshold must be in"):
        TrainConfig(threshold=0.0)
    with pytest.raises(ValueError, match="does not match the 64 input features"):
        train(digits, (10, 5, 10), 0, progress=False)
    with pytest.raises(ValueError, match="n_instances must be >= 1"):
        train_instances(digits, SIZES, 0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_epochs": 2.5}, "max_epochs must be an integer >= 1; got 2.5"),
        ({"max_epochs": 0}, "max_epochs must be an integer >= 1"),
        ({"batch_size": True}, "batch_size must be an integer >= 1; got True"),
        ({"lr": 0.0}, "lr must be finite and > 0"),
        ({"momentum": 1.0}, r"momentum must be in \[0, 1\)"),
        ({"threshold": 1.0}, r"threshold must be in \(0, 1\)"),
        ({"optimizer": "rmsprop"}, "optimizer must be 'sgd' or 'adam'"),
    ],
)
def test_bad_training_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


# --------------------------------------------------------------------------- ReLU networks, fixed budgets


def test_fixed_epoch_budget_trains_every_epoch_and_says_whether_the_threshold_is_met(
    digits, capsys
):
    config = TrainConfig(threshold=0.5, max_epochs=30)
    result = train(digits, SIZES, seed=0, config=config, progress=False, until_threshold=False)
    # the threshold (met after about 6 epochs) does not stop a fixed budget
    assert result.epochs == pytest.approx(30.0) and result.reached
    assert not any("train_error" in h for h in result.history)  # no full checks on the way
    assert result.train_error == pytest.approx(
        error_rate(result.model, digits.x_train, digits.y_train)
    )
    assert "stopped at max_epochs" not in capsys.readouterr().err
    stopped = train(digits, SIZES, seed=0, config=config, progress=False)
    assert stopped.epochs < 10 and stopped.train_error > result.train_error


def test_relu_networks_train_cache_and_load_as_relu(digits, tmp_path):
    from torch import nn

    from divnet_nb.nets import MLP
    from divnet_nb.training.cache import cache_key

    config = TrainConfig(threshold=0.2, max_epochs=10)
    first = load_or_train(
        digits, SIZES, 1, config, cache_root=tmp_path, progress=False, activation="relu"
    )
    again = load_or_train(
        digits, SIZES, 1, config, cache_root=tmp_path, progress=False, activation="relu"
    )
    assert again.from_cache and weights_equal(first.model, again.model)
    assert all(isinstance(a, nn.ReLU) for a in again.model.activations)
    assert again.model.activation == "relu" and MLP(SIZES).activation == "sigmoid"
    sig = checkpoint_path(digits, SIZES, 1, config, tmp_path)
    relu = checkpoint_path(digits, SIZES, 1, config, tmp_path, "relu")
    fixed = checkpoint_path(digits, SIZES, 1, config, tmp_path, "relu", False)
    assert len({sig, relu, fixed}) == 3 and "-relu-" in relu.name and "epochs" in fixed.name
    # the sigmoid networks trained to the threshold keep the key they always had
    import dataclasses
    import hashlib
    import json

    from divnet_nb.training.cache import TRAIN_VERSION, data_fingerprint

    spec = {
        "version": TRAIN_VERSION,
        "dataset": digits.name,
        "data": data_fingerprint(digits),
        "sizes": list(SIZES),
        "seed": 1,
        "config": dataclasses.asdict(config),
    }
    old = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]
    assert cache_key(digits, SIZES, 1, config) == old != cache_key(digits, SIZES, 1, config, "relu")
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP(SIZES, activation="tanh")
