"""Trained networks cached on disk, keyed by everything that decides them.

Networks are cached under ``$DIVNET_CACHE/networks/`` (see :mod:`divnet_nb.paths`),
keyed by a hash of the training data, the architecture, the seed and every training
setting (:func:`cache_key`). Checkpoints are written to a temporary file and renamed,
so an interrupted run never leaves a half-written file under the final name; a file
that cannot be read or does not match its key is reported and trained again.

Processes that share a cache (worker processes, a cluster's workers on a shared folder,
parallel test runs) train a missing network once: training and saving it happen under
a lock on the checkpoint (:func:`training_lock`), and a process that waited for the lock
loads the network that the other one saved. A cached network is read without the lock,
so a read-only cache folder works.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from filelock import FileLock

from .._io import atomic_write
from ..nets.architectures import get_architecture
from ..nets.mlp import MLP
from ..paths import cache_dir
from .config import TrainConfig, default_config, recipe_config
from .loop import TrainResult, train

if TYPE_CHECKING:
    from ..datasets import Dataset

__all__ = [
    "TRAIN_VERSION",
    "cache_key",
    "checkpoint_path",
    "data_fingerprint",
    "load_or_train",
    "train_instances",
    "training_lock",
]

#: Bump when the training procedure changes, so old cached networks are not reused.
TRAIN_VERSION = 1

_fingerprints: dict[int, tuple[weakref.ref, str]] = {}


def data_fingerprint(dataset: Dataset) -> str:
    """Hash of the training inputs and labels (what the network was trained on)."""
    hit = _fingerprints.get(id(dataset))
    if hit is not None and hit[0]() is dataset:
        return hit[1]
    h = hashlib.blake2b(digest_size=16)
    for arr in (dataset.x_train, dataset.y_train):
        arr = np.ascontiguousarray(arr)
        h.update(str((arr.dtype.str, arr.shape)).encode())
        h.update(memoryview(arr).cast("B"))
    digest = h.hexdigest()
    _fingerprints[id(dataset)] = (weakref.ref(dataset), digest)
    return digest


def cache_key(
    dataset: Dataset,
    sizes,
    seed: int,
    config: TrainConfig,
    activation: str = "sigmoid",
    until_threshold: bool = True,
) -> str:
    """The checkpoint's key: a hash of the data, the architecture (layer sizes, or a CNN's
    registered name), the seed and every training setting."""
    spec = {
        "version": TRAIN_VERSION,
        "dataset": dataset.name,
        "data": data_fingerprint(dataset),
        "seed": int(seed),
        "config": dataclasses.asdict(config),
    }
    if isinstance(sizes, str):
        spec["architecture"] = sizes
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]
    spec["sizes"] = list(sizes)
    # Table 1's networks (sigmoid, trained to the threshold) keep the keys they always had
    if activation != "sigmoid":
        spec["activation"] = activation
    if not until_threshold:
        spec["fixed_epochs"] = True
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]


def checkpoint_path(
    dataset: Dataset,
    sizes,
    seed: int,
    config: TrainConfig,
    root: Path | None = None,
    activation: str = "sigmoid",
    until_threshold: bool = True,
) -> Path:
    root = Path(root) if root is not None else cache_dir()
    key = cache_key(dataset, sizes, seed, config, activation, until_threshold)
    if isinstance(sizes, str):
        return root / "networks" / f"{dataset.name}-{sizes}-seed{seed}-{key}.pt"
    act = "" if activation == "sigmoid" else f"-{activation}"
    act += "" if until_threshold else f"-{config.max_epochs}epochs"
    return (
        root / "networks" / f"{dataset.name}-{'-'.join(map(str, sizes))}{act}-seed{seed}-{key}.pt"
    )


def _save(result: TrainResult, path: Path, key: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    name = getattr(result.model, "architecture", None)
    meta = {
        "dataset": result.dataset,
        **({"architecture": name} if name else {"sizes": list(result.model.sizes)}),
        "activation": getattr(result.model, "activation", None),
        "seed": result.seed,
        "config": dataclasses.asdict(result.config),
        "reached": result.reached,
        "epochs": result.epochs,
        "iterations": result.iterations,
        "train_error": result.train_error,
        "seconds": result.seconds,
        "device": result.device,
        "history": result.history,
        "torch": torch.__version__,
    }
    blob = {
        "format": 1,
        "key": key,
        "meta": json.dumps(meta),
        "state_dict": result.model.state_dict(),
    }
    with atomic_write(path) as fh:
        torch.save(blob, fh)


def _load(path: Path, key: str, config: TrainConfig) -> TrainResult:
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != 1 or blob.get("key") != key:
        raise ValueError("its key does not match the requested network")
    meta = json.loads(blob["meta"])
    if "architecture" in meta:
        model = get_architecture(meta["architecture"]).build()
    else:
        model = MLP(meta["sizes"], activation=meta.get("activation", "sigmoid"))
    model.load_state_dict(blob["state_dict"], strict=True)
    model.eval()
    return TrainResult(
        model,
        meta["dataset"],
        meta["seed"],
        config,
        meta["reached"],
        meta["epochs"],
        meta["iterations"],
        meta["train_error"],
        meta["seconds"],
        meta["device"],
        meta["history"],
        from_cache=True,
    )


def training_lock(path: Path) -> FileLock:
    """The inter-process lock held while the network of checkpoint ``path`` is trained and saved.

    A hidden file beside the checkpoint (``.<name>.lock``); the operating system releases
    the lock when its holder exits, however it exits.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(path.parent / f".{path.name}.lock")


def _identity(path: Path) -> tuple[int, int, int] | None:
    """Which file is at ``path`` (inode, size, modification time), None when there is none."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _load_or_report(path: Path, key: str, config: TrainConfig) -> TrainResult | None:
    """The cached network, or None when there is none or it is unusable (said on stderr)."""
    if not path.exists():
        return None
    try:
        return _load(path, key, config)
    except Exception as exc:  # any unreadable or mismatched file: say so, train again
        print(
            f"divnet-nb: cached network {path} is unusable ({type(exc).__name__}: {exc}); training it again",
            file=sys.stderr,
        )
        return None


def load_or_train(
    dataset: Dataset,
    sizes,
    seed: int,
    config: TrainConfig | None = None,
    *,
    cache: bool = True,
    cache_root: Path | None = None,
    device: str | None = None,
    progress: bool = True,
    activation: str = "sigmoid",
    until_threshold: bool = True,
) -> TrainResult:
    """:func:`train`, but reuse a cached network trained with exactly the same inputs and settings.

    A missing network is trained under :func:`training_lock`, so two processes that ask
    for it at the same time train it once.
    """
    if isinstance(sizes, str):
        arch = get_architecture(sizes)
        if arch.sizes is not None:  # an MLP keeps the key of its layer sizes
            sizes, activation = arch.sizes, arch.activation
        else:
            config = config or recipe_config(arch)
            until_threshold = not arch.fixed_epochs
    config = config or default_config(dataset.name)
    if not isinstance(sizes, str):
        sizes = tuple(int(s) for s in sizes)
    options = {
        "device": device,
        "progress": progress,
        "activation": activation,
        "until_threshold": until_threshold,
    }
    if not cache:
        return train(dataset, sizes, seed, config, **options)
    key = cache_key(dataset, sizes, seed, config, activation, until_threshold)
    path = checkpoint_path(dataset, sizes, seed, config, cache_root, activation, until_threshold)
    seen = _identity(path)
    cached = _load_or_report(path, key, config)
    if cached is not None:
        return cached
    with training_lock(path):
        # another process may have saved it while this one waited for the lock
        if _identity(path) not in (None, seen):
            cached = _load_or_report(path, key, config)
            if cached is not None:
                return cached
        result = train(dataset, sizes, seed, config, **options)
        _save(result, path, key)
    return result


def train_instances(
    dataset: Dataset,
    sizes,
    n_instances: int,
    config: TrainConfig | None = None,
    *,
    first_seed: int = 0,
    progress: bool = True,
    **kwargs,
) -> list[TrainResult]:
    """Instances ``first_seed, ..., first_seed + n_instances - 1`` (Table 1 uses 5), cached."""
    if n_instances < 1:
        raise ValueError(f"n_instances must be >= 1; got {n_instances}")
    results = []
    for seed in range(first_seed, first_seed + n_instances):
        result = load_or_train(dataset, sizes, seed, config, progress=progress, **kwargs)
        if progress:
            print("  " + result.summary(), file=sys.stderr)
        results.append(result)
    return results
