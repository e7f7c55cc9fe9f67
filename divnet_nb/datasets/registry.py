"""The dataset registry: each dataset module declares itself here with one call.

:func:`register_dataset` records how to read a dataset's files and how to tell, without
reading them, whether they are there. :func:`load_dataset` and :func:`status` (and the
``divnet-nb`` command's choices) work from what is registered and never list datasets
themselves, so a new dataset is one new module plus its import in
:mod:`divnet_nb.datasets`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..core._validate import is_int
from ._common import (
    Dataset,
    DatasetNotFoundError,
    RawArrays,
    int_labels,
    no_downloads,
    scaled_features,
    subset_index,
)

__all__ = [
    "DatasetSource",
    "dataset_names",
    "load_dataset",
    "register_dataset",
    "splits",
    "status",
    "title",
]


@dataclass(frozen=True)
class DatasetSource:
    """How one dataset is found and read.

    Attributes
    ----------
    name : str
        The name users type (``"mnist"``).
    title : str
        How reports spell it (``"MNIST"``).
    load_raw : callable
        ``load_raw(root) -> RawArrays``: read (or download, or rebuild) the files
        under the data folder ``root``; raises :class:`DatasetNotFoundError`.
    present : callable
        ``present(root) -> str | None``: where the files are, or None; a presence
        check only, nothing is read.
    splits : (int, int)
        Sizes of the whole training and test sets, so that requests for subsets can
        be checked before anything is read.
    verify_by_loading : bool
        Whether :func:`status` with ``verify=True`` loads the dataset to check its
        checksums (False for a dataset whose loading would build it).
    absent : str, optional
        The status line when the files are not there but that is no error (a
        dataset that is rebuilt on first use).
    """

    name: str
    title: str
    load_raw: Callable[[Path], RawArrays]
    present: Callable[[Path], str | None]
    splits: tuple[int, int]
    verify_by_loading: bool = True
    absent: str | None = None


_SOURCES: dict[str, DatasetSource] = {}


def register_dataset(source: DatasetSource) -> DatasetSource:
    """Add a dataset to the registry (once per name); returns ``source``."""
    if source.name in _SOURCES:
        raise ValueError(f"dataset {source.name!r} is already registered")
    _SOURCES[source.name] = source
    return source


def dataset_names() -> tuple[str, ...]:
    """The registered datasets, in the order they were registered."""
    return tuple(_SOURCES)


def splits(name: str) -> tuple[int, int]:
    """(training, test) set sizes of a registered dataset, known without reading it."""
    return _source(name).splits


def title(name: str) -> str:
    """How reports spell a dataset's name ("MNIST", "CIFAR-10"); the name itself if unknown."""
    source = _SOURCES.get(name)
    return source.title if source else name


def _source(name) -> DatasetSource:
    if not isinstance(name, str) or name not in _SOURCES:
        raise ValueError(f"name must be one of {', '.join(map(repr, _SOURCES))}; got {name!r}")
    return _SOURCES[name]


def load_dataset(
    name: str, *, n_train: int | None = None, n_test: int | None = None, subset_seed: int = 0
) -> Dataset:
    """Load a registered dataset, optionally a random subset of it.

    Parameters
    ----------
    name : str
        ``"digits"``, ``"mnist"``, ``"mnist_rot"`` or ``"cifar10"`` (see :func:`dataset_names`).
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
    source = _source(name)
    for arg, value in (("n_train", n_train), ("n_test", n_test)):
        if value is not None and not (is_int(value) and value >= 1):
            raise ValueError(f"{arg} must be None or an integer >= 1; got {value!r}")
    if not is_int(subset_seed) or subset_seed < 0:
        raise ValueError(f"subset_seed must be a non-negative int; got {subset_seed!r}")

    raw = source.load_raw(paths.data_dir())
    keep_train = subset_index(len(raw.y_train), n_train, "n_train", int(subset_seed), 0)
    keep_test = subset_index(len(raw.y_test), n_test, "n_test", int(subset_seed), 1)
    description = raw.source
    parts = [
        f"{n} of {len(y)} {split}"
        for split, n, y in (("train", n_train, raw.y_train), ("test", n_test, raw.y_test))
        if n is not None
    ]
    if parts:
        description += f"; random subset: {', '.join(parts)} (subset_seed {subset_seed})"
    has_valid = raw.x_valid is not None
    return Dataset(
        name=name,
        x_train=scaled_features(raw.x_train, keep_train, raw.scale),
        y_train=int_labels(raw.y_train, keep_train),
        x_test=scaled_features(raw.x_test, keep_test, raw.scale),
        y_test=int_labels(raw.y_test, keep_test),
        image_shape=raw.image_shape,
        n_classes=10,
        source=description,
        x_valid=scaled_features(raw.x_valid, None, raw.scale) if has_valid else None,
        y_valid=int_labels(raw.y_valid, None) if has_valid else None,
    )


def status(*names: str, verify: bool = True) -> dict[str, str]:
    """One line per dataset: "ok: ..." (with where from), "missing: ..." or how it is obtained.

    Nothing is downloaded. With ``verify`` (the default) each dataset is loaded and
    its checksums checked, which takes seconds; ``verify=False`` only looks for the
    files. ``names`` restricts the answer to some datasets (default: all).
    """
    unknown = [n for n in names if n not in _SOURCES]
    if unknown:
        raise ValueError(f"unknown dataset(s) {unknown}; choose from {', '.join(_SOURCES)}")
    root = paths.data_dir()
    out: dict[str, str] = {}
    with no_downloads():
        for name in names or tuple(_SOURCES):
            source = _SOURCES[name]
            where = source.present(root)
            if where is None and source.absent is not None:
                out[name] = source.absent
            elif not (verify and source.verify_by_loading):
                out[name] = (
                    f"ok: {where}" + (" (not verified)" if source.verify_by_loading else "")
                    if where
                    else f"missing: {source.title} not found"
                )
            else:
                try:
                    out[name] = "ok: " + source.load_raw(root).source
                except DatasetNotFoundError as exc:
                    out[name] = "missing: " + str(exc).split(". ")[0]
    return out
