"""MNIST_ROT (Larochelle et al. 2007, ``mnist_rotation_new``): the official files, or a rebuild.

Larochelle et al. (2007) made ``mnist_rotation_new`` by rotating MNIST digits
by angles drawn uniformly in [0, 2 pi) and splitting them 10000 / 2000 /
50000. When the official ``.amat`` files are not in
``<data>/mnist_rotation_new/``, this module rebuilds an equivalent set the
same way: 62000 distinct images drawn from MNIST's 70000 (training images
0-59999, then test images as 60000-69999) with seed :data:`MNIST_ROT_SEED`,
each rotated counterclockwise by its own angle from the same generator,
bilinear interpolation with zero padding (:func:`scipy.ndimage.rotate`), 28 x 28 kept. The pixels differ from
the original files (other digits, other angles, other interpolation); the task
is the same. The result is cached as a compressed ``.npz`` with its seed and a
sha256 checksum, in ``<data>/mnist_rotation_new/`` when that folder is
writable, else in ``<cache>/data/mnist_rotation_new/``; a cache file that is
corrupt or was built differently is rebuilt. Its ``source`` says "rebuilt".
"""

from __future__ import annotations

import hashlib
import math
import sys
import time
from pathlib import Path

import numpy as np

from .. import paths
from .._io import atomic_write
from . import mnist
from ._common import REPLACE, DatasetError, DatasetNotFoundError, RawArrays, is_writable
from .registry import DatasetSource, register_dataset

__all__ = ["MNIST_ROT_SEED", "MNIST_ROT_SIZES", "load_mnist_rot"]

#: Seed of the MNIST_ROT rebuild (which MNIST images, which angles).
MNIST_ROT_SEED = 0
#: Train, validation and test sizes of MNIST_ROT (Larochelle et al. 2007).
MNIST_ROT_SIZES = (10000, 2000, 50000)

FOLDER = "mnist_rotation_new"
AMAT_TRAIN = "mnist_all_rotation_normalized_float_train_valid.amat"
AMAT_TEST = "mnist_all_rotation_normalized_float_test.amat"
FORMAT = 1  # bump when the rebuild changes, so old caches are rebuilt
ARRAYS = ("x_train", "y_train", "x_valid", "y_valid", "x_test", "y_test", "index", "angle")


def load_mnist_rot(root: Path) -> RawArrays:
    """MNIST_ROT from the official files under ``root``, else the cached or freshly built rebuild."""
    folder = root / FOLDER
    n_train, n_valid, n_test = MNIST_ROT_SIZES
    if (folder / AMAT_TRAIN).is_file() and (folder / AMAT_TEST).is_file():
        x, y = _read_amat(folder / AMAT_TRAIN, n_train + n_valid)
        x_test, y_test = _read_amat(folder / AMAT_TEST, n_test)
        return RawArrays(
            x[:n_train],
            y[:n_train],
            x_test,
            y_test,
            1.0,
            (28, 28),
            f"official mnist_rotation_new .amat files in {folder}",
            x[n_train:],
            y[n_train:],
        )
    arrays, path = _mnist_rot_rebuilt(root)
    return RawArrays(
        arrays["x_train"],
        arrays["y_train"],
        arrays["x_test"],
        arrays["y_test"],
        1.0,
        (28, 28),
        f"rebuilt from MNIST (seed {MNIST_ROT_SEED}, random rotations), not the original "
        f"mnist_rotation_new files; cached in {path}",
        arrays["x_valid"],
        arrays["y_valid"],
    )


def _read_amat(path: Path, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Read an ``.amat`` file of Larochelle et al.: per row 784 pixels in [0, 1], then the label.

    The pixels are kept in file order and read as a 28 x 28 image row by row,
    as the usual readers of these files do.
    """
    try:
        table = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise DatasetError(f"{path} is not a table of numbers ({exc}). {REPLACE}") from None
    if table.shape != (n_rows, 785):
        raise DatasetError(
            f"{path} must hold {n_rows} rows of 785 numbers; got {table.shape}. {REPLACE}"
        )
    x, label = table[:, :784], table[:, 784]
    if not (np.all(x >= 0) and np.all(x <= 1)):
        raise DatasetError(f"{path} holds pixel values outside [0, 1]. {REPLACE}")
    if not np.all((label == np.round(label)) & (label >= 0) & (label <= 9)):
        raise DatasetError(
            f"{path} holds labels that are not integers 0-9 in its last column. {REPLACE}"
        )
    return x.astype(np.float32), label.astype(np.int64)


def _rot_cache_paths(root: Path) -> list[Path]:
    """Where a rebuilt MNIST_ROT may live: the data folder first, then the cache folder."""
    name = f"mnist_rot_rebuilt_v{FORMAT}_seed{MNIST_ROT_SEED}.npz"
    return [root / FOLDER / name, paths.cache_dir() / "data" / FOLDER / name]


def _mnist_rot_rebuilt(root: Path) -> tuple[dict[str, np.ndarray], Path]:
    """Read the rebuilt MNIST_ROT from a cache file, or rebuild it and write the cache."""
    candidates = _rot_cache_paths(root)
    for path in candidates:
        arrays = _read_rot_cache(path)
        if arrays is not None:
            return arrays, path
    try:
        source = mnist.load_raw(root)
    except DatasetNotFoundError as exc:
        raise DatasetNotFoundError(
            f"MNIST_ROT not found: neither {AMAT_TRAIN} and {AMAT_TEST} in "
            f"{root / FOLDER} nor a rebuilt copy ({candidates[0].name}) in "
            f"{candidates[0].parent} or {candidates[1].parent}; rebuilding it needs MNIST. {exc}"
        ) from None
    target = next((p for p in candidates if is_writable(p.parent)), None)
    print(
        f"divnet_nb.datasets.mnist_rot: rebuilding MNIST_ROT from MNIST (seed {MNIST_ROT_SEED}); "
        f"this is done once and cached in {target if target else '(nowhere: no writable folder)'}",
        file=sys.stderr,
    )
    start = time.perf_counter()
    arrays = _build_mnist_rot(
        np.concatenate([source.x_train, source.x_test]),
        np.concatenate([source.y_train, source.y_test]),
        seed=MNIST_ROT_SEED,
        sizes=MNIST_ROT_SIZES,
    )
    if target is not None:
        try:
            _write_rot_cache(target, arrays, MNIST_ROT_SEED)
        except OSError as exc:
            print(
                f"divnet_nb.datasets.mnist_rot: could not write {target} ({exc})", file=sys.stderr
            )
            target = None
    print(
        f"divnet_nb.datasets.mnist_rot: MNIST_ROT rebuilt in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    return arrays, target if target is not None else Path("(not cached)")


def _build_mnist_rot(
    images: np.ndarray, labels: np.ndarray, *, seed: int, sizes: tuple[int, int, int]
) -> dict[str, np.ndarray]:
    """Rotated-digit splits from ``images`` (uint8, (n, h, w)): the MNIST_ROT recipe.

    ``sum(sizes)`` distinct images are drawn with ``numpy.random.default_rng(seed)``,
    then one angle per image, uniform in [0, 2 pi), from the same generator.
    Returns the splits (images in [0, 1] as float32 ``(n, h, w)``, int64
    labels) and, as ``index`` and ``angle``, which image was rotated by how much.
    """
    n_train, n_valid, n_test = sizes
    n = n_train + n_valid + n_test
    if n > len(images):
        raise ValueError(f"sizes {sizes} need {n} images; got {len(images)}")
    rng = np.random.default_rng(seed)
    index = rng.choice(len(images), size=n, replace=False)
    angle = rng.uniform(0.0, 2.0 * math.pi, size=n)
    x = _rotate_images(images[index] / 255.0, angle)
    y = np.asarray(labels)[index].astype(np.int64)
    a, b = n_train, n_train + n_valid
    return {
        "x_train": x[:a],
        "y_train": y[:a],
        "x_valid": x[a:b],
        "y_valid": y[a:b],
        "x_test": x[b:],
        "y_test": y[b:],
        "index": index.astype(np.int64),
        "angle": angle,
    }


def _rotate_images(images: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Rotate each image counterclockwise about its centre by its angle (radians).

    :func:`scipy.ndimage.rotate` with bilinear interpolation (``order=1``), zero
    outside the image (``mode="grid-constant"``) and the output the same size,
    clipped to [0, 1] and returned as float32. (This replaced a hand-written
    rotation; on the 62000 rebuilt digits the two agree bit for bit in float32.)
    """
    import scipy.ndimage  # here, not at the top: the command line lists datasets without it

    images = np.asarray(images, dtype=np.float64)
    out = np.empty(images.shape, dtype=np.float32)
    for i, (image, angle) in enumerate(
        zip(images, np.asarray(angles, dtype=np.float64), strict=True)
    ):
        rotated = scipy.ndimage.rotate(
            image, math.degrees(angle), reshape=False, order=1, mode="grid-constant", cval=0.0
        )
        out[i] = np.clip(rotated, 0.0, 1.0)
    return out


def _rot_checksum(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over the names, dtypes, shapes and bytes of the MNIST_ROT arrays."""
    digest = hashlib.sha256()
    for key in ARRAYS:
        a = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}:{a.dtype.str}:{a.shape};".encode())
        digest.update(memoryview(a).cast("B"))
    return digest.hexdigest()


def _write_rot_cache(path: Path, arrays: dict[str, np.ndarray], seed: int) -> None:
    """Write the arrays, seed, sizes and checksum atomically (:func:`divnet_nb._io.atomic_write`)."""
    meta = {
        "seed": np.int64(seed),
        "format": np.int64(FORMAT),
        "checksum": np.str_(_rot_checksum(arrays)),
    }
    with atomic_write(path) as f:
        np.savez_compressed(f, **{key: arrays[key] for key in ARRAYS}, **meta)


def _read_rot_cache(path: Path) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None if absent; a bad file is reported on stderr and ignored."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in ARRAYS}
            seed, fmt, checksum = int(npz["seed"]), int(npz["format"]), str(npz["checksum"])
    except Exception as exc:  # truncated zip, bad CRC, missing arrays, ...: all mean "rebuild"
        problem = f"cannot be read ({type(exc).__name__}: {exc})"
    else:
        sizes = tuple(len(arrays[f"y_{split}"]) for split in ("train", "valid", "test"))
        if seed != MNIST_ROT_SEED or fmt != FORMAT:
            problem = f"was built with seed {seed}, format {fmt} (want {MNIST_ROT_SEED}, {FORMAT})"
        elif sizes != tuple(MNIST_ROT_SIZES):
            problem = f"holds splits of sizes {sizes}, not {tuple(MNIST_ROT_SIZES)}"
        elif _rot_checksum(arrays) != checksum:
            problem = "does not match its stored sha256 checksum"
        else:
            return arrays
    print(
        f"divnet_nb.datasets.mnist_rot: the MNIST_ROT cache {path} {problem}; rebuilding it.",
        file=sys.stderr,
    )
    return None


def files_present(root: Path) -> str | None:
    """Where the official ``.amat`` files are, or None (then the dataset is rebuilt on first use)."""
    folder = root / FOLDER
    if (folder / AMAT_TRAIN).is_file() and (folder / AMAT_TEST).is_file():
        return f"official files in {folder}"
    return None


register_dataset(
    DatasetSource(
        "mnist_rot",
        "MNIST_ROT",
        load_mnist_rot,
        files_present,
        (MNIST_ROT_SIZES[0], MNIST_ROT_SIZES[2]),
        verify_by_loading=False,
        absent="rebuilt from MNIST on first use (the official files are not here)",
    )
)
