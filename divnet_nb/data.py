"""The paper's datasets as flat float32 arrays in [0, 1], found offline first.

============  ========================  ===============  =============================================
name          train / valid / test      image shape      where it comes from
============  ========================  ===============  =============================================
``digits``    1297 / - / 500            (8, 8)           scikit-learn's bundled copy (no download);
                                                         a fixed stratified split, seed 0
``mnist``     60000 / - / 10000         (28, 28)         ``MNIST/raw/`` under the data folder
``mnist_rot`` 10000 / 2000 / 50000      (28, 28)         ``mnist_rotation_new/*.amat`` if present,
                                                         else **rebuilt from MNIST** (see below)
``cifar10``   50000 / - / 10000         (32, 32, 3)      ``cifar-10-batches-py/`` or
                                                         ``cifar-10/cifar10.npz``
============  ========================  ===============  =============================================

The data folder is :func:`divnet_nb.paths.data_dir` (``$DIVNET_DATA``, default
``data/`` in the repository). Inputs are scaled to [0, 1] as the paper's MATLAB
toolbox did (MNIST and CIFAR-10 by 1/255, digits by 1/16) and flattened in C
order: pixel ``(row, col)`` of a grey image is feature ``row * width + col``,
and channel ``ch`` of a CIFAR-10 pixel (images are height x width x channel,
RGB) is feature ``(row * 32 + col) * 3 + ch``. Labels are int64.

MNIST is read from torchvision's uncompressed files when they exist (with
:class:`torchvision.datasets.MNIST`), otherwise straight from the four original
gzip IDX files, whose md5 must match the list torchvision carries
(``torchvision.datasets.MNIST.resources``). CIFAR-10 is read with
:class:`torchvision.datasets.CIFAR10` from the original pickled batches (it
checks their md5), otherwise from a Keras-layout ``.npz`` whose arrays must
match the sha256 hashes of the canonical CIFAR-10 arrays. Only when none of
these files exist, and the folder is writable, is torchvision's download tried
(with a timeout); any failure becomes a :class:`DatasetNotFoundError` that
says where it looked and which files it wanted.

MNIST_ROT is a rebuild from MNIST unless the official files are present: see
:mod:`divnet_nb.mnist_rot`.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import socket
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import paths
from ._validate import as_size, is_int

__all__ = [
    "DATASETS",
    "status",
    "Dataset",
    "DatasetNotFoundError",
    "load_dataset",
]

DATASETS = ("digits", "mnist", "mnist_rot", "cifar10")

#: Seed of the fixed stratified train/test split of ``digits``, and its test size.
DIGITS_SPLIT_SEED = 0
DIGITS_N_TEST = 500

#: Seconds torchvision may wait on the network per socket operation when downloading.
DOWNLOAD_TIMEOUT = 20.0

_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IDX_IMAGES, _IDX_LABELS = 2051, 2049  # magic numbers of the IDX headers

_CIFAR_BATCHES = "cifar-10-batches-py"
_CIFAR_NPZ = Path("cifar-10") / "cifar10.npz"
# sha256 of the raw C-order bytes of the four canonical CIFAR-10 arrays in Keras
# layout (images N x 32 x 32 x 3 uint8 RGB, labels uint8), in the original order
# of data_batch_1..5 and test_batch. They do not depend on the .npz container.
CIFAR10_SHA256 = {
    "x_train": "47af8b02cfcfb6cdf3dbbd1969ad7f1b70f4413f6f80f437b020ee4e5bc8304a",
    "y_train": "2b7cd2f24487317614016b72ffd53071c3062f592f0eb300c18a770d41ae1253",
    "x_test": "f9b1e2130bab680db56eb06d886f7f1ad0f1183907ceff4659d1735c890f5b04",
    "y_test": "cec8a24a1e92aa2ecaa0bbd3dbfa86bf6cd8759fbd209a832824c8cf0afca9d5",
}
_CIFAR_SHAPES = {
    "x_train": (50000, 32, 32, 3),
    "y_train": (50000,),
    "x_test": (10000, 32, 32, 3),
    "y_test": (10000,),
}


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are not in the data folder and could not be downloaded.

    The message names the folders searched, the files expected there and the
    environment variable (``DIVNET_DATA``) that points to another data folder.
    """


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """One dataset, split, flattened and scaled; returned by :func:`load_dataset`.

    Attributes
    ----------
    name : str
        One of :data:`DATASETS`.
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
                raise ValueError(f"x_{split} must be a 2-D float32 array; got {_describe(x)}")
            if x.shape[1] != n_features:
                raise ValueError(
                    f"x_{split} must have {n_features} columns (image_shape {self.image_shape}); "
                    f"got shape {x.shape}"
                )
            if not isinstance(y, np.ndarray) or y.dtype != np.int64 or y.shape != (len(x),):
                raise ValueError(
                    f"y_{split} must be an int64 array of shape ({len(x)},); got {_describe(y)}"
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


def load_dataset(
    name: str, *, n_train: int | None = None, n_test: int | None = None, subset_seed: int = 0
) -> Dataset:
    """Load one of :data:`DATASETS`, optionally a random subset of it.

    Parameters
    ----------
    name : str
        ``"digits"``, ``"mnist"``, ``"mnist_rot"`` or ``"cifar10"``.
    n_train, n_test : int or None
        Keep this many training / test examples, drawn at random without
        replacement with ``subset_seed`` (the first ``n`` of one fixed
        permutation, so a smaller subset is contained in a larger one; kept in
        their original order). ``None`` keeps all. The MNIST_ROT validation
        split is always kept whole.
    subset_seed : int
        Seed of the subsets (train and test use independent streams).

    Returns
    -------
    Dataset
        float32 inputs in [0, 1], flattened in C order (HWC for CIFAR-10); int64 labels.

    Raises
    ------
    ValueError
        Unknown ``name``; ``n_train`` / ``n_test`` below 1 or above the split's
        size; a data file whose checksum does not match.
    DatasetNotFoundError
        The files are missing and could not be downloaded.
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"name must be one of {', '.join(map(repr, DATASETS))}; got {name!r}")
    for arg, value in (("n_train", n_train), ("n_test", n_test)):
        if value is not None and not (is_int(value) and value >= 1):
            raise ValueError(f"{arg} must be None or an integer >= 1; got {value!r}")
    if not is_int(subset_seed) or subset_seed < 0:
        raise ValueError(f"subset_seed must be a non-negative int; got {subset_seed!r}")

    raw = _LOADERS[name](paths.data_dir())
    keep_train = _subset(len(raw.y_train), n_train, "n_train", int(subset_seed), 0)
    keep_test = _subset(len(raw.y_test), n_test, "n_test", int(subset_seed), 1)
    source = raw.source
    parts = [
        f"{n} of {len(y)} {split}"
        for split, n, y in (("train", n_train, raw.y_train), ("test", n_test, raw.y_test))
        if n is not None
    ]
    if parts:
        source += f"; random subset: {', '.join(parts)} (subset_seed {subset_seed})"
    has_valid = raw.x_valid is not None
    return Dataset(
        name=name,
        x_train=_features(raw.x_train, keep_train, raw.scale),
        y_train=_labels(raw.y_train, keep_train),
        x_test=_features(raw.x_test, keep_test, raw.scale),
        y_test=_labels(raw.y_test, keep_test),
        image_shape=raw.image_shape,
        n_classes=10,
        source=source,
        x_valid=_features(raw.x_valid, None, raw.scale) if has_valid else None,
        y_valid=_labels(raw.y_valid, None) if has_valid else None,
    )


# --------------------------------------------------------------------------- common


class _Raw(NamedTuple):
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


def _describe(a) -> str:
    if isinstance(a, np.ndarray):
        return f"dtype {a.dtype}, shape {a.shape}"
    return type(a).__name__


def _subset(n_total: int, n, name: str, seed: int, stream: int) -> np.ndarray | None:
    if n is None:
        return None
    n = as_size(n, n_total, name, upper=f"the number of examples ({n_total})")
    order = np.random.default_rng([seed, stream]).permutation(n_total)
    return np.sort(order[:n])


def _features(x: np.ndarray, keep: np.ndarray | None, scale: float) -> np.ndarray:
    if keep is not None:
        x = x[keep]
    out = np.asarray(x).reshape(len(x), -1).astype(np.float32)  # always a copy
    if scale != 1:
        out /= np.float32(scale)
    return out


def _labels(y: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
    y = np.asarray(y)
    return (y if keep is None else y[keep]).astype(np.int64)


def _is_writable(folder: Path) -> bool:
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
    return f"DIVNET_DATA is unset, so the default {paths.data_dir()} is used"


def _not_found(what: str, searched: list[str], reason: str) -> DatasetNotFoundError:
    return DatasetNotFoundError(
        f"{what} not found. Searched: {'; '.join(searched)}. {reason} "
        f"Put the files there, or set DIVNET_DATA to a data folder that holds them "
        f"({_where_data_is()})."
    )


_downloads_allowed = True


def _download(what: str, fetch, target: Path, searched: list[str]) -> None:
    """Run torchvision's download ``fetch()`` into ``target``; any failure -> DatasetNotFoundError."""
    if not _downloads_allowed:
        raise _not_found(what, searched, "Nothing was downloaded (only checking what is here).")
    if not _is_writable(target):
        raise _not_found(what, searched, f"{target} is not writable, so no download was tried.")
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
        raise _not_found(
            what, searched, f"Downloading with torchvision into {target} failed ({failure})."
        ) from None


def _sha256(a: np.ndarray) -> str:
    return hashlib.sha256(memoryview(np.ascontiguousarray(a)).cast("B")).hexdigest()


# --------------------------------------------------------------------------- digits


def _load_digits(root: Path) -> _Raw:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.images  # (1797, 8, 8) float64, values 0..16
    y = np.asarray(bunch.target, dtype=np.int64)
    test = _stratified_test_index(y, DIGITS_N_TEST, DIGITS_SPLIT_SEED)
    train = np.setdiff1d(np.arange(len(y)), test)
    return _Raw(
        x[train],
        y[train],
        x[test],
        y[test],
        16.0,
        (8, 8),
        f"scikit-learn's bundled digits (sklearn.datasets.load_digits, 8x8, values 0-16), "
        f"stratified split {len(train)}/{len(test)} with seed {DIGITS_SPLIT_SEED}",
    )


def _stratified_test_index(y: np.ndarray, n_test: int, seed: int) -> np.ndarray:
    """Sorted indices of a test set of ``n_test`` with each class in proportion (largest remainder)."""
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    quota = counts * n_test / len(y)
    take = np.floor(quota).astype(np.int64)
    short = n_test - int(take.sum())
    take[np.argsort(-(quota - take), kind="stable")[:short]] += 1
    picked = [
        rng.permutation(np.flatnonzero(y == c))[:k] for c, k in zip(classes, take, strict=True)
    ]
    return np.sort(np.concatenate(picked))


# --------------------------------------------------------------------------- MNIST


def _load_mnist(root: Path) -> _Raw:
    raw_dir = root / "MNIST" / "raw"
    names = [name for pair in _MNIST_FILES.values() for name in pair]
    if not all((raw_dir / name).is_file() for name in names):
        if all((raw_dir / f"{name}.gz").is_file() for name in names):
            return _mnist_from_gz(raw_dir)
        from torchvision.datasets import MNIST

        def fetch():
            MNIST(root, train=True, download=True)

        searched = [
            f"{raw_dir} for {', '.join(n + '.gz' for n in names)} (or the same uncompressed)"
        ]
        _download("MNIST", fetch, raw_dir, searched)
    return _mnist_from_torchvision(root, raw_dir)


def _mnist_from_torchvision(root: Path, raw_dir: Path) -> _Raw:
    from torchvision.datasets import MNIST

    arrays = []
    for train in (True, False):
        ds = MNIST(root, train=train, download=False)
        arrays += [ds.data.numpy(), ds.targets.numpy()]
    _check_mnist_shapes(*arrays, raw_dir)
    return _Raw(*arrays, 255.0, (28, 28), f"MNIST IDX files in {raw_dir} (read by torchvision)")


def _mnist_from_gz(raw_dir: Path) -> _Raw:
    from torchvision.datasets import MNIST

    md5 = dict(MNIST.resources)  # torchvision's (file name, md5) list of the .gz files
    arrays = []
    for split in ("train", "test"):
        for name in _MNIST_FILES[split]:
            arrays.append(_read_idx_gz(raw_dir / f"{name}.gz", md5[f"{name}.gz"]))
    _check_mnist_shapes(*arrays, raw_dir)
    return _Raw(
        *arrays,
        255.0,
        (28, 28),
        f"MNIST gzip IDX files in {raw_dir} (md5-checked against torchvision's list)",
    )


def _read_idx_gz(path: Path, md5: str) -> np.ndarray:
    """Read a gzip IDX file of uint8 images or labels after checking its md5."""
    data = path.read_bytes()
    actual = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if actual != md5:
        raise ValueError(
            f"{path} is corrupt or not the original MNIST file: its md5 is {actual}, "
            f"torchvision's list expects {md5}. Replace it with the original file."
        )
    raw = gzip.decompress(data)
    (magic,) = struct.unpack(">I", raw[:4])
    if magic == _IDX_IMAGES:
        shape, offset = struct.unpack(">III", raw[4:16]), 16
    elif magic == _IDX_LABELS:
        shape, offset = struct.unpack(">I", raw[4:8]), 8
    else:
        raise ValueError(f"{path} is not an IDX file of uint8 images or labels (magic {magic})")
    if len(raw) != offset + math.prod(shape):
        raise ValueError(f"{path} holds {len(raw) - offset} data bytes; its header says {shape}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def _check_mnist_shapes(x_train, y_train, x_test, y_test, where: Path) -> None:
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.shape[1:] != (28, 28) or y.shape != (len(x),):
            raise ValueError(
                f"MNIST {split} files in {where} hold images {x.shape} and labels {y.shape}; "
                f"expected (n, 28, 28) and (n,)"
            )


# --------------------------------------------------------------------------- CIFAR-10


def _load_cifar10(root: Path) -> _Raw:
    from torchvision.datasets import CIFAR10

    batches = root / _CIFAR_BATCHES
    expected = [name for name, _ in CIFAR10.train_list + CIFAR10.test_list]
    expected.append(CIFAR10.meta["filename"])
    if all((batches / name).is_file() for name in expected):
        return _cifar_from_torchvision(root, batches)
    if (root / _CIFAR_NPZ).is_file():
        return _cifar_from_npz(root / _CIFAR_NPZ)
    searched = [f"{batches} for {', '.join(expected)}", f"{root / _CIFAR_NPZ}"]
    _download("CIFAR-10", lambda: CIFAR10(root, train=True, download=True), root, searched)
    return _cifar_from_torchvision(root, batches)


def _cifar_from_torchvision(root: Path, batches: Path) -> _Raw:
    from torchvision.datasets import CIFAR10
    from torchvision.datasets.utils import calculate_md5

    files = (
        CIFAR10.train_list + CIFAR10.test_list + [[CIFAR10.meta["filename"], CIFAR10.meta["md5"]]]
    )
    arrays = []
    for train in (True, False):
        try:
            ds = CIFAR10(root, train=train, download=False)  # checks every batch's md5
        except RuntimeError:
            for name, md5 in files:  # say which file failed
                actual = calculate_md5(batches / name) if (batches / name).is_file() else "missing"
                if actual != md5:
                    raise ValueError(
                        f"{batches / name} is corrupt or not the original CIFAR-10 file: its md5 "
                        f"is {actual}, torchvision's list expects {md5}"
                    ) from None
            raise
        arrays += [np.asarray(ds.data), np.asarray(ds.targets, dtype=np.int64)]
    return _Raw(
        *arrays, 255.0, (32, 32, 3), f"CIFAR-10 batches in {batches} (md5-checked by torchvision)"
    )


def _cifar_from_npz(path: Path) -> _Raw:
    """Read a Keras-layout CIFAR-10 .npz and check each array's sha256."""
    arrays = {}
    with np.load(path, allow_pickle=False) as npz:
        missing = [key for key in CIFAR10_SHA256 if key not in npz.files]
        if missing:
            raise ValueError(f"{path} lacks the arrays {missing}; it holds {npz.files}")
        for key in CIFAR10_SHA256:
            arrays[key] = npz[key]
    for key, a in arrays.items():
        if key.startswith("y") and a.dtype.kind in "iu" and a.shape in ((len(a),), (len(a), 1)):
            if a.size and (a.min() < 0 or a.max() > 9):
                raise ValueError(f"{key} in {path} holds labels outside 0-9")
            a = arrays[key] = a.reshape(-1).astype(np.uint8)  # the hashed form
        if a.shape != _CIFAR_SHAPES[key] or (key.startswith("x") and a.dtype != np.uint8):
            raise ValueError(
                f"{key} in {path} must be {'uint8' if key.startswith('x') else 'integer'} with "
                f"shape {_CIFAR_SHAPES[key]}; got {_describe(a)}"
            )
        actual = _sha256(a)
        if actual != CIFAR10_SHA256[key]:
            raise ValueError(
                f"{key} in {path} is not the canonical CIFAR-10 array: sha256 of its bytes is "
                f"{actual}, expected {CIFAR10_SHA256[key]}"
            )
    return _Raw(
        arrays["x_train"],
        arrays["y_train"],
        arrays["x_test"],
        arrays["y_test"],
        255.0,
        (32, 32, 3),
        f"CIFAR-10 arrays in {path} (Keras layout, sha256-checked)",
    )


# --------------------------------------------------------------------------- MNIST_ROT


def _load_mnist_rot(root: Path) -> _Raw:
    from .mnist_rot import load_mnist_rot  # its own module: it builds a dataset from MNIST

    return load_mnist_rot(root)


_LOADERS = {
    "digits": _load_digits,
    "mnist": _load_mnist,
    "mnist_rot": _load_mnist_rot,
    "cifar10": _load_cifar10,
}


def status(*names: str, verify: bool = True) -> dict[str, str]:
    """One line per dataset: "ok: ..." (with where from), "missing: ..." or how MNIST_ROT is obtained.

    Nothing is downloaded. With ``verify`` (the default) each dataset is loaded and
    its checksums checked, which takes seconds; ``verify=False`` only looks for the
    files. ``names`` restricts the answer to some datasets (default: all).
    """
    global _downloads_allowed
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        raise ValueError(f"unknown dataset(s) {unknown}; choose from {', '.join(DATASETS)}")
    out: dict[str, str] = {}
    _downloads_allowed, before = False, _downloads_allowed
    try:
        return _status(out, names or DATASETS, verify)
    finally:
        _downloads_allowed = before


def _files_present(name: str, root: Path) -> str | None:
    """Where the files of ``name`` are, or None (a presence check, no reading)."""
    if name == "mnist":
        raw_dir = root / "MNIST" / "raw"
        names = [n for pair in _MNIST_FILES.values() for n in pair]
        if all((raw_dir / n).is_file() for n in names) or all(
            (raw_dir / f"{n}.gz").is_file() for n in names
        ):
            return f"MNIST files in {raw_dir}"
        return None
    if (root / _CIFAR_BATCHES / "data_batch_1").is_file() and (
        root / _CIFAR_BATCHES / "test_batch"
    ).is_file():
        return f"CIFAR-10 batches in {root / _CIFAR_BATCHES}"
    return f"CIFAR-10 npz in {root / _CIFAR_NPZ}" if (root / _CIFAR_NPZ).is_file() else None


def _status(out: dict[str, str], names, verify: bool) -> dict[str, str]:
    for name in names:
        if name == "mnist_rot":
            from .mnist_rot import AMAT_TEST, AMAT_TRAIN, FOLDER

            folder = paths.data_dir() / FOLDER
            if (folder / AMAT_TRAIN).exists() and (folder / AMAT_TEST).exists():
                out[name] = f"ok: official files in {folder}"
            else:
                out[name] = "rebuilt from MNIST on first use (the official files are not here)"
            continue
        if not verify and name != "digits":
            where = _files_present(name, paths.data_dir())
            out[name] = (
                f"ok: {where} (not verified)" if where else f"missing: {_NAMES[name]} not found"
            )
            continue
        try:
            out[name] = "ok: " + _LOADERS[name](paths.data_dir()).source
        except DatasetNotFoundError as exc:
            out[name] = "missing: " + str(exc).split(". ")[0]
    return out


_NAMES = {"mnist": "MNIST", "cifar10": "CIFAR-10"}
