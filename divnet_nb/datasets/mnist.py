"""MNIST: 60000 training and 10000 test images of 28x28 grey digits, from the original IDX files.

The files live in ``MNIST/raw/`` under the data folder (torchvision's layout). They are
read with :class:`torchvision.datasets.MNIST` when the uncompressed files exist, and
otherwise straight from the four original gzip IDX files, whose md5 must match the
list torchvision carries (``torchvision.datasets.MNIST.resources``), so a read-only
folder of ``.gz`` files works. Pixels are scaled by 1/255 and flattened row by row.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import struct
from pathlib import Path

import numpy as np

from ._common import REPLACE, DatasetError, RawArrays, download
from .registry import DatasetSource, register_dataset

__all__ = ["FILES", "UNCOMPRESSED_MD5", "load_raw", "files_present"]

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
#: md5 of the four original files after gunzip (torchvision lists only the .gz files').
UNCOMPRESSED_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
_IDX_IMAGES, _IDX_LABELS = 2051, 2049  # magic numbers of the IDX headers


def load_raw(root: Path) -> RawArrays:
    """The four MNIST files under ``root / "MNIST" / "raw"`` (torchvision's download if absent)."""
    raw_dir = root / "MNIST" / "raw"
    names = [name for pair in FILES.values() for name in pair]
    if not all((raw_dir / name).is_file() for name in names):
        if all((raw_dir / f"{name}.gz").is_file() for name in names):
            return _mnist_from_gz(raw_dir)
        from torchvision.datasets import MNIST

        def fetch():
            MNIST(root, train=True, download=True)

        searched = [
            f"{raw_dir} for {', '.join(n + '.gz' for n in names)} (or the same uncompressed)"
        ]
        download("MNIST", fetch, raw_dir, searched)
    return _mnist_from_torchvision(root, raw_dir)


def _gunzip(path: Path, data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise DatasetError(f"{path} is not a readable gzip file ({exc}). {REPLACE}") from None


def _mnist_from_torchvision(root: Path, raw_dir: Path) -> RawArrays:
    from torchvision.datasets import MNIST

    for name, md5 in UNCOMPRESSED_MD5.items():  # torchvision reads them without a check
        actual = hashlib.md5((raw_dir / name).read_bytes(), usedforsecurity=False).hexdigest()
        if actual != md5:
            raise DatasetError(
                f"{raw_dir / name} is corrupt or not the original MNIST file: its md5 is "
                f"{actual}, the original's is {md5}. {REPLACE}"
            )
    arrays = []
    for train in (True, False):
        ds = MNIST(root, train=train, download=False)
        arrays += [ds.data.numpy(), ds.targets.numpy()]
    _check_mnist_shapes(*arrays, raw_dir)
    return RawArrays(
        *arrays, 255.0, (28, 28), f"MNIST IDX files in {raw_dir} (read by torchvision)"
    )


def _mnist_from_gz(raw_dir: Path) -> RawArrays:
    from torchvision.datasets import MNIST

    md5 = dict(MNIST.resources)  # torchvision's (file name, md5) list of the .gz files
    arrays = []
    for split in ("train", "test"):
        for name in FILES[split]:
            arrays.append(_read_idx_gz(raw_dir / f"{name}.gz", md5[f"{name}.gz"]))
    _check_mnist_shapes(*arrays, raw_dir)
    return RawArrays(
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
        raise DatasetError(
            f"{path} is corrupt or not the original MNIST file: its md5 is {actual}, "
            f"torchvision's list expects {md5}. {REPLACE}"
        )
    raw = _gunzip(path, data)
    (magic,) = struct.unpack(">I", raw[:4])
    if magic == _IDX_IMAGES:
        shape, offset = struct.unpack(">III", raw[4:16]), 16
    elif magic == _IDX_LABELS:
        shape, offset = struct.unpack(">I", raw[4:8]), 8
    else:
        raise DatasetError(
            f"{path} is not an IDX file of uint8 images or labels (magic {magic}). {REPLACE}"
        )
    if len(raw) != offset + math.prod(shape):
        raise DatasetError(
            f"{path} holds {len(raw) - offset} data bytes; its header says {shape}. {REPLACE}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def _check_mnist_shapes(x_train, y_train, x_test, y_test, where: Path) -> None:
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.shape[1:] != (28, 28) or y.shape != (len(x),):
            raise DatasetError(
                f"MNIST {split} files in {where} hold images {x.shape} and labels {y.shape}; "
                f"expected (n, 28, 28) and (n,). {REPLACE}"
            )


def files_present(root: Path) -> str | None:
    """Where the four MNIST files are (uncompressed or gzipped), or None; nothing is read."""
    raw_dir = root / "MNIST" / "raw"
    names = [n for pair in FILES.values() for n in pair]
    if all((raw_dir / n).is_file() for n in names) or all(
        (raw_dir / f"{n}.gz").is_file() for n in names
    ):
        return f"MNIST files in {raw_dir}"
    return None


register_dataset(DatasetSource("mnist", "MNIST", load_raw, files_present, (60000, 10000)))
