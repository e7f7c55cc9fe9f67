"""scikit-learn's bundled 8x8 digits: 1297 training and 500 test images, offline.

Not one of the paper's datasets: a small stand-in on which every experiment runs in
seconds without any download (``make demo``). The test set is a fixed stratified
split (:data:`SPLIT_SEED`, :data:`N_TEST` images); pixels (0-16) are scaled by 1/16.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._common import RawArrays
from .registry import DatasetSource, register_dataset

__all__ = ["SPLIT_SEED", "N_TEST", "load_raw"]

#: Seed of the fixed stratified train/test split, and its test size.
SPLIT_SEED = 0
N_TEST = 500

_WHERE = "scikit-learn's bundled digits (sklearn.datasets.load_digits, 8x8, values 0-16)"


def load_raw(root: Path) -> RawArrays:
    """The digits and their fixed split (``root`` is not used: the data ship with scikit-learn)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.images  # (1797, 8, 8) float64, values 0..16
    y = np.asarray(bunch.target, dtype=np.int64)
    test = _stratified_test_index(y, N_TEST, SPLIT_SEED)
    train = np.setdiff1d(np.arange(len(y)), test)
    return RawArrays(
        x[train],
        y[train],
        x[test],
        y[test],
        16.0,
        (8, 8),
        f"{_WHERE}, stratified split {len(train)}/{len(test)} with seed {SPLIT_SEED}",
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


register_dataset(
    DatasetSource(
        "digits", "scikit-learn digits", load_raw, lambda root: _WHERE, verify_by_loading=False
    )
)
