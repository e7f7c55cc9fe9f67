"""CIFAR-10: 50000 training and 10000 test colour images, 32x32x3, from either of two layouts.

Read with :class:`torchvision.datasets.CIFAR10` from the original pickled batches
(``cifar-10-batches-py/``, md5-checked by torchvision), otherwise from a Keras-layout
``cifar-10/cifar10.npz`` whose four arrays must match the sha256 hashes of the canonical
CIFAR-10 arrays (:data:`SHA256`). Images are height x width x channel, RGB; a pixel's
channel ``ch`` at ``(row, col)`` becomes feature ``(row * 32 + col) * 3 + ch``, scaled by
1/255.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._common import REPLACE, DatasetError, RawArrays, array_sha256, describe, download
from .registry import DatasetSource, register_dataset

__all__ = ["SHA256", "load_raw", "files_present"]

BATCHES = "cifar-10-batches-py"
NPZ = Path("cifar-10") / "cifar10.npz"
# sha256 of the raw C-order bytes of the four canonical CIFAR-10 arrays in Keras
# layout (images N x 32 x 32 x 3 uint8 RGB, labels uint8), in the original order
# of data_batch_1..5 and test_batch. They do not depend on the .npz container.
SHA256 = {
    "x_train": "47af8b02cfcfb6cdf3dbbd1969ad7f1b70f4413f6f80f437b020ee4e5bc8304a",
    "y_train": "2b7cd2f24487317614016b72ffd53071c3062f592f0eb300c18a770d41ae1253",
    "x_test": "f9b1e2130bab680db56eb06d886f7f1ad0f1183907ceff4659d1735c890f5b04",
    "y_test": "cec8a24a1e92aa2ecaa0bbd3dbfa86bf6cd8759fbd209a832824c8cf0afca9d5",
}
_SHAPES = {
    "x_train": (50000, 32, 32, 3),
    "y_train": (50000,),
    "x_test": (10000, 32, 32, 3),
    "y_test": (10000,),
}


def load_raw(root: Path) -> RawArrays:
    """CIFAR-10 from the pickled batches or the npz under ``root`` (torchvision's download if neither)."""
    from torchvision.datasets import CIFAR10

    batches = root / BATCHES
    expected = [name for name, _ in CIFAR10.train_list + CIFAR10.test_list]
    expected.append(CIFAR10.meta["filename"])
    if all((batches / name).is_file() for name in expected):
        return _cifar_from_torchvision(root, batches)
    if (root / NPZ).is_file():
        return _cifar_from_npz(root / NPZ)
    searched = [f"{batches} for {', '.join(expected)}", f"{root / NPZ}"]
    download("CIFAR-10", lambda: CIFAR10(root, train=True, download=True), root, searched)
    return _cifar_from_torchvision(root, batches)


def _cifar_from_torchvision(root: Path, batches: Path) -> RawArrays:
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
                    raise DatasetError(
                        f"{batches / name} is corrupt or not the original CIFAR-10 file: its md5 "
                        f"is {actual}, torchvision's list expects {md5}. {REPLACE}"
                    ) from None
            raise
        arrays += [np.asarray(ds.data), np.asarray(ds.targets, dtype=np.int64)]
    return RawArrays(
        *arrays, 255.0, (32, 32, 3), f"CIFAR-10 batches in {batches} (md5-checked by torchvision)"
    )


def _cifar_from_npz(path: Path) -> RawArrays:
    """Read a Keras-layout CIFAR-10 .npz and check each array's sha256."""
    arrays = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in SHA256 if key not in npz.files]
            if missing:
                raise DatasetError(
                    f"{path} lacks the arrays {missing}; it holds {npz.files}. {REPLACE}"
                )
            for key in SHA256:
                arrays[key] = npz[key]
    except DatasetError:
        raise
    except Exception as exc:  # BadZipFile, a truncated member, a pickled array: all unreadable
        raise DatasetError(
            f"{path} cannot be read as an .npz file ({type(exc).__name__}: {exc}). {REPLACE}"
        ) from None
    for key, a in arrays.items():
        if key.startswith("y") and a.dtype.kind in "iu" and a.shape in ((len(a),), (len(a), 1)):
            if a.size and (a.min() < 0 or a.max() > 9):
                raise DatasetError(f"{key} in {path} holds labels outside 0-9. {REPLACE}")
            a = arrays[key] = a.reshape(-1).astype(np.uint8)  # the hashed form
        if a.shape != _SHAPES[key] or (key.startswith("x") and a.dtype != np.uint8):
            raise DatasetError(
                f"{key} in {path} must be {'uint8' if key.startswith('x') else 'integer'} with "
                f"shape {_SHAPES[key]}; got {describe(a)}. {REPLACE}"
            )
        actual = array_sha256(a)
        if actual != SHA256[key]:
            raise DatasetError(
                f"{key} in {path} is not the canonical CIFAR-10 array: sha256 of its bytes is "
                f"{actual}, expected {SHA256[key]}. {REPLACE}"
            )
    return RawArrays(
        arrays["x_train"],
        arrays["y_train"],
        arrays["x_test"],
        arrays["y_test"],
        255.0,
        (32, 32, 3),
        f"CIFAR-10 arrays in {path} (Keras layout, sha256-checked)",
    )


def files_present(root: Path) -> str | None:
    """Where the CIFAR-10 files are (batches or npz), or None; nothing is read."""
    if (root / BATCHES / "data_batch_1").is_file() and (root / BATCHES / "test_batch").is_file():
        return f"CIFAR-10 batches in {root / BATCHES}"
    return f"CIFAR-10 npz in {root / NPZ}" if (root / NPZ).is_file() else None


register_dataset(DatasetSource("cifar10", "CIFAR-10", load_raw, files_present, (50000, 10000)))
