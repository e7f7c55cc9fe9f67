"""What every dataset module shares: the :class:`Dataset` it returns, the not-found error,
subsets and scaling, and the one guarded download through torchvision.

A dataset module (:mod:`~divnet_nb.datasets.digits`, :mod:`~divnet_nb.datasets.mnist`,
:mod:`~divnet_nb.datasets.cifar10`, :mod:`~divnet_nb.datasets.mnist_rot`) reads its files
into a :class:`RawArrays` (arrays as stored, before subsetting and scaling) and registers
itself with :mod:`~divnet_nb.datasets.registry`; :func:`~divnet_nb.datasets.load_dataset`
turns the raw arrays into a :class:`Dataset`. Only when a dataset's files are missing and
the data folder is writable is torchvision's download tried (with a timeout); any failure
becomes a :class:`DatasetNotFoundError` that says where it looked and which files it
wanted.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import socket
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import paths
from ..core._validate import as_size

__all__ = [
    "DOWNLOAD_TIMEOUT",
    "REPLACE",
    "Dataset",
    "DatasetError",
    "DatasetNotFoundError",
    "RawArrays",
    "array_sha256",
    "describe",
    "download",
    "int_labels",
    "is_writable",
    "no_downloads",
    "not_found",
    "scaled_features",
    "subset_index",
]

#: Seconds torchvision may wait on the network per socket operation when downloading.
DOWNLOAD_TIMEOUT = 20.0

#: How to fix a corrupt dataset file; ends every DatasetError message.
REPLACE = (
    "Replace it with the original file (or delete it, and torchvision downloads it again "
    "when the machine is online), or point DIVNET_DATA to a folder that holds the originals."
)


class DatasetError(ValueError):
    """A dataset file is there but is not what it should be (corrupt, truncated, another file).

    The message names the file, what is wrong with it and how to fix it.
    """


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are not in the data folder and could not be downloaded.

    The message names the folders searched, the files expected there and the
    environment variable (``DIVNET_DATA``) that points to another data folder.
    """


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """One dataset, split, flattened and scaled, from :func:`~divnet_nb.datasets.load_dataset`.

    Attributes
    ----------
    name : str
        One of :data:`~divnet_nb.datasets.DATASETS`.
    x_train, x_test : numpy.ndarray
        float32, shape ``(n, n_features)``: images flattened in C order
        (``image_shape``; HWC for CIFAR-10), scaled to [0, 1].
    y_train, y_test : numpy.ndarray
        int64 class labels, shape ``(n,)``.
    image_shape : tuple of int
        ``(8, 8)``, ``(28, 28)`` or ``(32, 32, 3)``.
    n_classes : int
        Number of classes (10 for all four).
    source : str
        One line saying where the data came from.
    x_valid, y_valid : numpy.ndarray or None
        The validation split (MNIST_ROT only), else ``None``.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple
    n_classes: int
    source: str
    x_valid: np.ndarray | None = None
    y_valid: np.ndarray | None = None

    def __post_init__(self):
        n_features = math.prod(self.image_shape)
        splits = [("train", self.x_train, self.y_train), ("test", self.x_test, self.y_test)]
        if (self.x_valid is None) != (self.y_valid is None):
            raise ValueError("x_valid and y_valid must both be arrays or both be None")
        if self.x_valid is not None:
            splits.append(("valid", self.x_valid, self.y_valid))
        for split, x, y in splits:
            if not isinstance(x, np.ndarray) or x.dtype != np.float32 or x.ndim != 2:
                raise ValueError(f"x_{split} must be a 2-D float32 array; got {describe(x)}")
            if x.shape[1] != n_features:
                raise ValueError(
                    f"x_{split} must have {n_features} columns (image_shape {self.image_shape}); "
                    f"got shape {x.shape}"
                )
            if not isinstance(y, np.ndarray) or y.dtype != np.int64 or y.shape != (len(x),):
                raise ValueError(
                    f"y_{split} must be an int64 array of shape ({len(x)},); got {describe(y)}"
                )

    @property
    def n_features(self) -> int:
        """Number of input features (pixels times channels)."""
        return self.x_train.shape[1]

    @property
    def n_train(self) -> int:
        """Number of training examples."""
        return self.x_train.shape[0]

    @property
    def n_test(self) -> int:
        """Number of test examples."""
        return self.x_test.shape[0]

    @property
    def n_valid(self) -> int:
        """Number of validation examples (0 when there is no validation split)."""
        return 0 if self.x_valid is None else self.x_valid.shape[0]

    def images(self, split: str = "train") -> np.ndarray:
        """The inputs of ``split`` (``"train"``, ``"valid"`` or ``"test"``) as images.

        Returns a view of shape ``(n, *image_shape)``, e.g. for plotting.
        """
        x = {"train": self.x_train, "valid": self.x_valid, "test": self.x_test}.get(split)
        if x is None:
            have = "train, valid or test" if self.x_valid is not None else "train or test"
            raise ValueError(f"split must be {have} for {self.name}; got {split!r}")
        return x.reshape(len(x), *self.image_shape)

    def __repr__(self) -> str:
        valid = f", valid {self.n_valid}" if self.x_valid is not None else ""
        return (
            f"Dataset({self.name!r}: train {self.n_train}{valid}, test {self.n_test}, "
            f"{self.n_features} features (image {self.image_shape}), {self.n_classes} classes; "
            f"{self.source})"
        )


class RawArrays(NamedTuple):
    """Arrays as stored (uint8 images or floats), before subsetting and scaling."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    scale: float  # divide the stored values by this to get [0, 1]
    image_shape: tuple
    source: str
    x_valid: np.ndarray | None = None
    y_valid: np.ndarray | None = None


def describe(a) -> str:
    if isinstance(a, np.ndarray):
        return f"dtype {a.dtype}, shape {a.shape}"
    return type(a).__name__


def subset_index(n_total: int, n, name: str, seed: int, stream: int) -> np.ndarray | None:
    if n is None:
        return None
    n = as_size(n, n_total, name, upper=f"the number of examples ({n_total})")
    order = np.random.default_rng([seed, stream]).permutation(n_total)
    return np.sort(order[:n])


def scaled_features(x: np.ndarray, keep: np.ndarray | None, scale: float) -> np.ndarray:
    if keep is not None:
        x = x[keep]
    out = np.asarray(x).reshape(len(x), -1).astype(np.float32)  # always a copy
    if scale != 1:
        out /= np.float32(scale)
    return out


def int_labels(y: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
    y = np.asarray(y)
    return (y if keep is None else y[keep]).astype(np.int64)


def is_writable(folder: Path) -> bool:
    """Whether ``folder`` (or, if it does not exist, its nearest existing parent) may be written.

    The permission bits are checked as well as :func:`os.access`, so that a
    folder marked read-only (``chmod a-w``) is left alone even by root.
    """
    folder = Path(folder)
    while not folder.exists():
        if folder.parent == folder:
            return False
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        return False
    return bool(folder.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _where_data_is() -> str:
    if os.environ.get("DIVNET_DATA"):
        return f"DIVNET_DATA is {os.environ['DIVNET_DATA']}"
    folder = paths.folders()["data"]
    return f"DIVNET_DATA is unset, so {folder.path} is used ({folder.reason})"


def not_found(what: str, searched: list[str], reason: str) -> DatasetNotFoundError:
    return DatasetNotFoundError(
        f"{what} not found. Searched: {'; '.join(searched)}. {reason} "
        f"Put the files there, or set DIVNET_DATA to a data folder that holds them "
        f"({_where_data_is()})."
    )


_downloads_allowed = True


@contextlib.contextmanager
def no_downloads():
    """Within this block, a missing dataset is reported as missing and nothing is downloaded."""
    global _downloads_allowed
    _downloads_allowed, before = False, _downloads_allowed
    try:
        yield
    finally:
        _downloads_allowed = before


def download(what: str, fetch, target: Path, searched: list[str]) -> None:
    """Run torchvision's download ``fetch()`` into ``target``; any failure -> DatasetNotFoundError."""
    if not _downloads_allowed:
        raise not_found(what, searched, "Nothing was downloaded (only checking what is here).")
    if not is_writable(target):
        raise not_found(what, searched, f"{target} is not writable, so no download was tried.")
    existing = target
    while not existing.exists():
        existing = existing.parent
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
    try:
        fetch()
        failure = None
    except Exception as exc:  # URLError, OSError, RuntimeError, ...: all mean "not here"
        failure = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    finally:
        socket.setdefaulttimeout(previous)
    if failure is not None:
        for folder in [target, *target.parents]:  # remove the empty folders torchvision made
            if folder == existing or not folder.is_relative_to(existing):
                break
            try:
                folder.rmdir()
            except OSError:
                break
        if len(failure) > 300:
            failure = failure[:297] + "..."
        raise not_found(
            what, searched, f"Downloading with torchvision into {target} failed ({failure})."
        ) from None


def array_sha256(a: np.ndarray) -> str:
    return hashlib.sha256(memoryview(np.ascontiguousarray(a)).cast("B")).hexdigest()
