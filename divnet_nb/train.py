"""Training the Table 1 networks until a training-error threshold, with a cache on disk.

The paper trains "until the first iteration of backprop for which the training error
reaches a predefined threshold" (< 1 % for MNIST and MNIST_ROT, < 50 % for CIFAR-10).
Measuring the error on the whole training set after every mini-batch would cost more
than the training, so :func:`train` watches the error on the mini-batches as they
are trained on (free: their logits are computed anyway), and every ``check_every`` of
an epoch, when that running error is within :data:`GATE` times the threshold,
measures the full training error; the first full measurement below the threshold
stops training. ``max_epochs`` is a guard: a run that stops there is flagged
(``reached=False``) instead of silently passing as converged.

Optimiser: SGD with momentum on the cross-entropy of the softmax output
(DeepLearnToolbox, which the paper used, trains with SGD too), mini-batches of 100,
Glorot-uniform initialisation; all seeded, so instance ``i`` is the same network
on every CPU. CIFAR-10's 3072-1000-1000-1000-10 sigmoid network is the exception:
measured on 5000 training images, SGD (lr 0.1 or 0.01, momentum 0.9) was still
above 73 % training error after 30 epochs, so its default is Adam (lr 1e-3), which
reaches the < 50 % threshold.

Trained networks are cached under ``$DIVNET_CACHE/networks/`` (see
:mod:`divnet_nb.paths`), keyed by a hash of the training data, the architecture, the
seed and every training setting. Checkpoints are written to a temporary file and
renamed, so an interrupted run never leaves a half-written file under the final name;
a file that cannot be read or does not match its key is reported and trained again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import sys
import tempfile
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from .evaluate import default_device, error_rate
from .models import MLP
from .paths import cache_dir

if TYPE_CHECKING:
    from .data import Dataset

__all__ = [
    "TrainConfig",
    "TrainResult",
    "train",
    "load_or_train",
    "train_instances",
    "default_config",
]

#: Bump when the training procedure changes, so old cached networks are not reused.
TRAIN_VERSION = 1
#: The full training error is measured once the running mini-batch error is below GATE x threshold.
GATE = 1.25


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; every field is part of the cache key."""

    threshold: float = 0.01
    max_epochs: int = 100
    batch_size: int = 100
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    check_every: float = 0.25

    def __post_init__(self):
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam'; got {self.optimizer!r}")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1); got {self.threshold}")
        for name in ("max_epochs", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1; got {getattr(self, name)}")
        if not (self.lr > 0 and 0 <= self.momentum < 1 and 0 < self.check_every <= 1):
            raise ValueError("lr must be > 0, momentum in [0, 1), check_every in (0, 1]")


def default_config(dataset: str, **overrides) -> TrainConfig:
    """Table 1's threshold for the dataset (< 1 % digits, MNIST, MNIST_ROT; < 50 % CIFAR-10)."""
    from .paper import TABLE1

    threshold = TABLE1[dataset]["threshold"] if dataset in TABLE1 else 0.01
    settings = {"threshold": threshold, "max_epochs": 200 if dataset == "digits" else 100}
    if dataset == "cifar10":
        settings.update(optimizer="adam", lr=1e-3)
    settings.update(overrides)
    return TrainConfig(**settings)


@dataclass
class TrainResult:
    """A trained network and how it got there."""

    model: MLP
    dataset: str
    seed: int
    config: TrainConfig
    reached: bool
    epochs: float
    iterations: int
    train_error: float
    seconds: float
    device: str
    history: list[dict] = field(default_factory=list)
    from_cache: bool = False

    def summary(self) -> str:
        origin = "loaded from cache" if self.from_cache else "trained"
        flag = "" if self.reached else f" (threshold {self.config.threshold:g} NOT reached)"
        return (
            f"{self.dataset} {'-'.join(map(str, self.model.sizes))} seed {self.seed}: {origin}, "
            f"{self.epochs:.2f} epochs ({self.iterations} iterations, {self.seconds:.1f} s on {self.device}), "
            f"training error {self.train_error:.4f}{flag}"
        )


def train(
    dataset: Dataset,
    sizes,
    seed: int,
    config: TrainConfig | None = None,
    *,
    device: str | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train one MLP on ``dataset`` until its training error is below ``config.threshold``.

    Parameters
    ----------
    dataset : Dataset
        From :func:`divnet_nb.data.load_dataset`.
    sizes : sequence of int
        Layer widths, e.g. ``table1_sizes("mnist")``.
    seed : int
        Seeds the initialisation and the mini-batch order.
    config : TrainConfig, optional
        Default: :func:`default_config` for the dataset.
    device : str, optional
        ``"cuda"`` when available, else ``"cpu"``.
    progress : bool
        Show a tqdm bar (on stderr).
    """
    config = config or default_config(dataset.name)
    device = device or default_device()
    sizes = tuple(sizes)
    if sizes[0] != dataset.n_features:
        raise ValueError(
            f"sizes[0] = {sizes[0]} does not match the {dataset.n_features} input features of {dataset.name}"
        )
    torch.manual_seed(seed)
    model = MLP(sizes, seed=seed).to(device)
    X = torch.from_numpy(dataset.x_train).to(device)
    y = torch.from_numpy(dataset.y_train).to(device)
    n = X.shape[0]
    if config.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    gen = torch.Generator().manual_seed(seed)
    per_epoch = math.ceil(n / config.batch_size)
    window = max(1, round(config.check_every * per_epoch))
    history: list[dict] = []
    iteration, wrong, seen, loss_sum = 0, 0, 0, 0.0
    reached, full_error = False, float("nan")
    start = time.perf_counter()
    bar = tqdm(
        total=config.max_epochs * per_epoch,
        desc=f"train {dataset.name} seed {seed}",
        unit="it",
        disable=not progress,
        leave=False,
        file=sys.stderr,
        mininterval=1.0,
    )
    model.train()
    for _epoch in range(config.max_epochs):
        order = torch.randperm(n, generator=gen).to(device)
        for s in range(0, n, config.batch_size):
            idx = order[s : s + config.batch_size]
            logits = model(X[idx])
            loss = F.cross_entropy(logits, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            iteration += 1
            wrong += int((logits.argmax(1) != y[idx]).sum())
            seen += idx.numel()
            loss_sum += loss.item() * idx.numel()
            bar.update(1)
            if iteration % window and iteration % per_epoch:
                continue
            record = {
                "iteration": iteration,
                "epoch": iteration / per_epoch,
                "running_error": wrong / seen,
                "running_loss": loss_sum / seen,
            }
            if wrong / seen < GATE * config.threshold:
                full_error = error_rate(model, X, y)
                model.train()
                record["train_error"] = full_error
                reached = full_error < config.threshold
            history.append(record)
            bar.set_postfix(err=f"{wrong / seen:.4f}")
            wrong, seen, loss_sum = 0, 0, 0.0
            if reached:
                break
        if reached:
            break
    bar.close()
    seconds = time.perf_counter() - start
    if not reached:
        full_error = error_rate(model, X, y)
        print(
            f"divnet-nb: {dataset.name} seed {seed} stopped at max_epochs={config.max_epochs} "
            f"with training error {full_error:.4f} >= threshold {config.threshold}",
            file=sys.stderr,
        )
    model.eval()
    return TrainResult(
        model.cpu(),
        dataset.name,
        seed,
        config,
        reached,
        iteration / per_epoch,
        iteration,
        full_error,
        seconds,
        str(device),
        history,
    )


# ------------------------------------------------------------------ cache
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


def cache_key(dataset: Dataset, sizes, seed: int, config: TrainConfig) -> str:
    spec = {
        "version": TRAIN_VERSION,
        "dataset": dataset.name,
        "data": data_fingerprint(dataset),
        "sizes": list(sizes),
        "seed": int(seed),
        "config": dataclasses.asdict(config),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]


def checkpoint_path(
    dataset: Dataset, sizes, seed: int, config: TrainConfig, root: Path | None = None
) -> Path:
    root = Path(root) if root is not None else cache_dir()
    key = cache_key(dataset, sizes, seed, config)
    return root / "networks" / f"{dataset.name}-{'-'.join(map(str, sizes))}-seed{seed}-{key}.pt"


def _save(result: TrainResult, path: Path, key: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "dataset": result.dataset,
        "sizes": list(result.model.sizes),
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
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(blob, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load(path: Path, key: str, config: TrainConfig) -> TrainResult:
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != 1 or blob.get("key") != key:
        raise ValueError("its key does not match the requested network")
    meta = json.loads(blob["meta"])
    model = MLP(meta["sizes"])
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
) -> TrainResult:
    """:func:`train`, but reuse a cached network trained with exactly the same inputs and settings."""
    config = config or default_config(dataset.name)
    sizes = tuple(int(s) for s in sizes)
    if not cache:
        return train(dataset, sizes, seed, config, device=device, progress=progress)
    key = cache_key(dataset, sizes, seed, config)
    path = checkpoint_path(dataset, sizes, seed, config, cache_root)
    if path.exists():
        try:
            return _load(path, key, config)
        except Exception as exc:  # any unreadable or mismatched file: say so, train again
            print(
                f"divnet-nb: cached network {path} is unusable ({type(exc).__name__}: {exc}); training it again",
                file=sys.stderr,
            )
    result = train(dataset, sizes, seed, config, device=device, progress=progress)
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
