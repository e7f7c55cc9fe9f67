"""scikit-learn's bundled 8x8 digits: 1297 training and 500 test images, offline.

Not one of the paper's datasets: a small stand-in on which every experiment runs in
seconds without any download (``make demo``). The test set is a fixed stratified
split made by scikit-learn's :func:`~sklearn.model_selection.train_test_split`
(``random_state`` :data:`SPLIT_SEED`, :data:`N_TEST` images); pixels (0-16) are
scaled by 1/16.
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
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = bunch.images  # (1797, 8, 8) float64, values 0..16
    y = np.asarray(bunch.target, dtype=np.int64)
    train, test = train_test_split(
        np.arange(len(y)), test_size=N_TEST, stratify=y, random_state=SPLIT_SEED
    )
    train, test = np.sort(train), np.sort(test)
    return RawArrays(
        x[train],
        y[train],
        x[test],
        y[test],
        16.0,
        (8, 8),
        f"{_WHERE}, stratified split {len(train)}/{len(test)} "
        f"(sklearn.model_selection.train_test_split, random_state {SPLIT_SEED})",
    )


register_dataset(
    DatasetSource(
        "digits",
        "scikit-learn digits",
        load_raw,
        lambda root: _WHERE,
        (1797 - N_TEST, N_TEST),
        verify_by_loading=False,
    )
)
