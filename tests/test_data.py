"""Datasets: digits offline, MNIST and CIFAR-10 from the data folder, the MNIST_ROT rebuild, errors.

Tests that need the real MNIST or CIFAR-10 files read :func:`divnet_nb.paths.data_dir`.
When ``DIVNET_DATA`` is set (CI) a missing dataset is a failure; otherwise the test is
skipped with the reason. Everything else writes its own small files under ``tmp_path``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import socket
from pathlib import Path

import naive
import numpy as np
import pytest
from conftest import DATA_REQUIRED
from sklearn.datasets import load_digits
from torchvision.datasets import CIFAR10, MNIST

from divnet_nb import paths
from divnet_nb.datasets import (
    DATASETS,
    Dataset,
    DatasetNotFoundError,
    _common,
    cifar10,
    load_dataset,
    mnist_rot,
    registry,
    status,
)
from divnet_nb.datasets import mnist as mnist_module

MNIST_NAMES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]
# From the data README (the published MNIST training-set label counts).
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
CIFAR_FIRST_TRAIN = [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
CIFAR_FIRST_TEST = [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
CIFAR_TRAIN_MEAN = [0.49139968, 0.48215841, 0.44653091]  # per RGB channel, pixel / 255


# The real data folder, read before any test points DIVNET_DATA elsewhere.
REAL_DATA = paths.data_dir()
IN_CI = DATA_REQUIRED


def real_data(*relative: str) -> Path:
    """The real data folder if it holds all ``relative`` files: else fail in CI, skip elsewhere."""
    missing = [name for name in relative if not (REAL_DATA / name).is_file()]
    if missing:
        what = f"{', '.join(missing)} not found in {REAL_DATA}"
        if IN_CI:
            pytest.fail(f"{what}, although CI or DIVNET_DATA is set: the real data must be there")
        pytest.skip(f"{what}; set DIVNET_DATA to a folder holding the datasets")
    return REAL_DATA


def real_mnist_raw() -> Path:
    """The real MNIST/raw folder (.gz files, or the uncompressed ones)."""
    raw = REAL_DATA / "MNIST" / "raw"
    if not all((raw / name).is_file() for name in MNIST_NAMES):
        real_data(*(f"MNIST/raw/{name}.gz" for name in MNIST_NAMES))
    return raw


@pytest.fixture(scope="module")
def mnist() -> Dataset:
    real_mnist_raw()
    return load_dataset("mnist")


@pytest.fixture(scope="module")
def cifar(tmp_path_factory) -> Dataset:
    """CIFAR-10 read through the .npz path (a folder holding only the real .npz)."""
    npz = real_data("cifar-10/cifar10.npz") / "cifar-10"
    root = tmp_path_factory.mktemp("cifar_npz")
    (root / "cifar-10").symlink_to(npz, target_is_directory=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIVNET_DATA", str(root))
        return load_dataset("cifar10")


@pytest.fixture
def data_in(tmp_path, monkeypatch):
    """Point DIVNET_DATA and DIVNET_CACHE to fresh folders under tmp_path; returns the data folder."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("DIVNET_DATA", str(root))
    monkeypatch.setenv("DIVNET_CACHE", str(tmp_path / "cache"))
    return root


def assert_scaled(ds: Dataset, n_train: int, n_test: int, n_features: int):
    assert ds.x_train.shape == (n_train, n_features) and ds.x_test.shape == (n_test, n_features)
    assert ds.y_train.shape == (n_train,) and ds.y_test.shape == (n_test,)
    for x in (ds.x_train, ds.x_test):
        assert x.dtype == np.float32
        assert x.min() == 0.0 and x.max() == 1.0
    for y in (ds.y_train, ds.y_test):
        assert y.dtype == np.int64
        assert set(np.unique(y)) == set(range(10))
    assert (ds.n_train, ds.n_test, ds.n_features, ds.n_classes) == (n_train, n_test, n_features, 10)


# --------------------------------------------------------------------------- digits


def test_digits_shapes_dtypes_and_range():
    ds = load_dataset("digits")
    assert_scaled(ds, 1297, 500, 64)
    assert ds.name == "digits" and ds.image_shape == (8, 8) and ds.x_valid is None
    assert ds.images("test").shape == (500, 8, 8)
    # stratified: each class's share of the test set is its share of the data, to one image
    counts = np.bincount(load_digits().target)
    assert np.all(np.abs(np.bincount(ds.y_test) - counts * 500 / counts.sum()) < 1)
    text = repr(ds)
    assert "digits" in text and "1297" in text and len(text) < 400 and "[" not in text


def test_digits_split_is_fixed_disjoint_and_complete():
    a, b = load_digits(), load_dataset("digits")
    assert np.array_equal(b.x_train, load_dataset("digits").x_train)
    assert np.array_equal(b.y_test, load_dataset("digits").y_test)
    # train + test is the whole set once: compare the rows (with labels) as sorted multisets
    ours = np.hstack([np.vstack([b.x_train, b.x_test]) * 16, np.r_[b.y_train, b.y_test][:, None]])
    theirs = np.hstack([a.data, a.target[:, None]])
    assert np.array_equal(ours[np.lexsort(ours.T)], theirs[np.lexsort(theirs.T)])


def test_subsets_are_seeded_nested_and_varied():
    small = load_dataset("digits", n_train=100, n_test=50)
    assert_scaled(small, 100, 50, 64)
    again = load_dataset("digits", n_train=100, n_test=50, subset_seed=0)
    assert np.array_equal(small.x_train, again.x_train)
    assert np.array_equal(small.y_test, again.y_test)
    other = load_dataset("digits", n_train=100, n_test=50, subset_seed=1)
    assert not np.array_equal(small.x_train, other.x_train)
    assert "random subset: 100 of 1297 train, 50 of 500 test (subset_seed 0)" in small.source
    # a smaller subset is part of a larger one with the same seed
    full = load_dataset("digits")
    big = load_dataset("digits", n_train=300)
    assert big.n_test == 500 and np.array_equal(big.x_test, full.x_test)

    def rows(x):
        return {r.tobytes() for r in x}

    assert rows(small.x_train) <= rows(big.x_train) <= rows(full.x_train)
    assert len(np.unique(load_dataset("digits", n_train=20, subset_seed=5).y_train)) >= 5


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "imagenet"}, "name must be one of 'digits', 'mnist', 'mnist_rot', 'cifar10'"),
        ({"name": None}, "name must be one of"),
        ({"name": "digits", "n_train": 0}, "n_train must be None or an integer >= 1; got 0"),
        ({"name": "digits", "n_test": -3}, "n_test must be None or an integer >= 1; got -3"),
        ({"name": "digits", "n_train": 2.5}, "n_train must be None or an integer"),
        ({"name": "digits", "n_train": True}, "n_train must be None or an integer"),
        ({"name": "digits", "n_train": 1298}, r"n_train must satisfy 1 <= n_train <= .*1297"),
        ({"name": "digits", "n_test": 501}, r"n_test must satisfy .*500.*got n_test = 501"),
        ({"name": "digits", "subset_seed": -1}, "subset_seed must be a non-negative int"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match):
    name = kwargs.pop("name")
    with pytest.raises(ValueError, match=match):
        load_dataset(name, **kwargs)


def test_dataset_checks_its_arrays():
    x, y = np.zeros((3, 4), np.float32), np.zeros(3, np.int64)
    ds = Dataset("toy", x, y, x, y, (2, 2), 10, "made up")
    assert ds.n_valid == 0 and ds.images().shape == (3, 2, 2)
    with pytest.raises(ValueError, match="split must be train or test for toy"):
        ds.images("valid")
    with pytest.raises(ValueError, match="x_train must be a 2-D float32 array; got dtype float64"):
        Dataset("toy", x.astype(np.float64), y, x, y, (2, 2), 10, "made up")
    with pytest.raises(ValueError, match=r"x_test must have 9 columns"):
        Dataset("toy", np.zeros((3, 9), np.float32), y, x, y, (3, 3), 10, "made up")
    with pytest.raises(ValueError, match=r"y_test must be an int64 array of shape \(3,\)"):
        Dataset("toy", x, y, x, y[:2], (2, 2), 10, "made up")
    with pytest.raises(ValueError, match="x_valid and y_valid must both"):
        Dataset("toy", x, y, x, y, (2, 2), 10, "made up", x_valid=x)


# --------------------------------------------------------------------------- MNIST


def test_mnist_real_files(mnist):
    assert_scaled(mnist, 60000, 10000, 784)
    assert mnist.image_shape == (28, 28)
    assert np.bincount(mnist.y_train).tolist() == MNIST_TRAIN_COUNTS
    assert mnist.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert mnist.y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert "MNIST" in mnist.source and str(real_mnist_raw()) in mnist.source
    # pixels are k / 255
    k = mnist.x_test[:50] * 255
    np.testing.assert_allclose(k, np.round(k), atol=1e-4)


def test_mnist_corrupt_gz_names_file_and_md5s(data_in):
    src = real_mnist_raw()
    if not all((src / f"{n}.gz").is_file() for n in MNIST_NAMES):
        pytest.skip(f"{src} holds the uncompressed MNIST files only")
    raw = data_in / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_NAMES[:3]:
        (raw / f"{name}.gz").symlink_to(src / f"{name}.gz")
    bad = bytearray((src / "t10k-labels-idx1-ubyte.gz").read_bytes())
    bad[len(bad) // 2] ^= 0xFF
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(bytes(bad))
    expected = dict(MNIST.resources)["t10k-labels-idx1-ubyte.gz"]
    actual = hashlib.md5(bytes(bad)).hexdigest()
    with pytest.raises(ValueError) as info:
        load_dataset("mnist")
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte.gz" in message and expected in message and actual in message


def test_mnist_uncompressed_files_are_read_by_torchvision(data_in, mnist):
    src = real_mnist_raw()
    raw = data_in / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_NAMES:
        if (src / name).is_file():
            (raw / name).symlink_to(src / name)
        else:
            (raw / name).write_bytes(gzip.decompress((src / f"{name}.gz").read_bytes()))
    ds = load_dataset("mnist", n_test=500, subset_seed=3)
    assert "read by torchvision" in ds.source
    assert np.array_equal(ds.x_train, mnist.x_train) and np.array_equal(ds.y_train, mnist.y_train)
    keep = np.sort(np.random.default_rng([3, 1]).permutation(10000)[:500])
    assert np.array_equal(ds.x_test, mnist.x_test[keep])


# --------------------------------------------------------------------------- CIFAR-10


@pytest.mark.slow  # reads and checks all of CIFAR-10: about 10 s on a quiet machine
def test_cifar10_npz_real(cifar):
    assert_scaled(cifar, 50000, 10000, 3072)
    assert cifar.image_shape == (32, 32, 3)
    assert cifar.y_train[:10].tolist() == CIFAR_FIRST_TRAIN
    assert cifar.y_test[:10].tolist() == CIFAR_FIRST_TEST
    assert np.bincount(cifar.y_train).tolist() == [5000] * 10
    assert "cifar10.npz" in cifar.source and "sha256" in cifar.source
    # HWC flattening: every third feature is one colour channel, whose mean is known
    mean = cifar.x_train.reshape(-1, 3).mean(axis=0, dtype=np.float64)
    np.testing.assert_allclose(mean, CIFAR_TRAIN_MEAN, atol=1e-7)


def write_npz(path: Path, **arrays):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)


def test_cifar10_npz_with_wrong_arrays_is_rejected(data_in, monkeypatch):
    path = data_in / "cifar-10" / "cifar10.npz"
    x, y = np.zeros((2, 32, 32, 3), np.uint8), np.array([3, 1], np.uint8)
    write_npz(path, x_train=x, y_train=y, x_test=x, y_test=y)
    with pytest.raises(ValueError, match=r"x_train in .* must be uint8 with shape \(50000, 32"):
        load_dataset("cifar10")
    monkeypatch.setattr(
        cifar10,
        "_SHAPES",
        {"x_train": x.shape, "y_train": (2,), "x_test": x.shape, "y_test": (2,)},
    )
    with pytest.raises(ValueError, match="x_train in .* not the canonical CIFAR-10 array: sha256"):
        load_dataset("cifar10")
    write_npz(path, x_train=x, y_train=y)
    with pytest.raises(ValueError, match=r"lacks the arrays \['x_test', 'y_test'\]"):
        load_dataset("cifar10")


def py2_pickle(entries: dict) -> bytes:
    """A pickle like the original CIFAR-10 batches, written by Python 2: dict keys are byte strings.

    Read with ``encoding="latin1"`` (as torchvision does) the keys are ``"data"``,
    ``"labels"``; with ``encoding="bytes"`` they are ``b"data"``, ``b"labels"``.
    """
    out = io.BytesIO()
    out.write(pickle.PROTO + b"\x02" + pickle.EMPTY_DICT + pickle.MARK)
    for key, value in entries.items():
        k = key.encode("ascii")
        out.write(pickle.SHORT_BINSTRING + bytes([len(k)]) + k)
        out.write(pickle.dumps(value, protocol=2)[2:-1])  # without its PROTO and STOP
    out.write(pickle.SETITEMS + pickle.STOP)
    return out.getvalue()


def write_cifar_batches(root: Path, rng, n_per_batch: int = 3) -> dict:
    """A tiny CIFAR-10 in torchvision's layout; returns the planar rows and labels written."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    md5, written = {}, {}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        rows = rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8)  # R, G, B planes
        labels = rng.integers(0, 10, size=n_per_batch).tolist()
        blob = py2_pickle({"batch_label": name, "labels": labels, "data": rows})
        written[name] = (rows, labels)
        (folder / name).write_bytes(blob)
        md5[name] = hashlib.md5(blob).hexdigest()
    meta = py2_pickle({"label_names": ["airplane", "automobile", "bird", "cat", "deer"]})
    (folder / "batches.meta").write_bytes(meta)
    md5["batches.meta"] = hashlib.md5(meta).hexdigest()
    return {"md5": md5, "written": written, "folder": folder}


@pytest.fixture
def tiny_cifar(data_in, monkeypatch, rng):
    made = write_cifar_batches(data_in, rng)
    md5 = made["md5"]
    monkeypatch.setattr(
        CIFAR10, "train_list", [[f"data_batch_{i}", md5[f"data_batch_{i}"]] for i in range(1, 6)]
    )
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", md5["test_batch"]]])
    monkeypatch.setattr(
        CIFAR10,
        "meta",
        {"filename": "batches.meta", "key": "label_names", "md5": md5["batches.meta"]},
    )
    return made


def test_cifar10_torchvision_layout_gives_hwc_features(tiny_cifar):
    written = tiny_cifar["written"]
    with open(tiny_cifar["folder"] / "test_batch", "rb") as f:
        assert set(pickle.load(f, encoding="bytes")) == {b"batch_label", b"labels", b"data"}
    ds = load_dataset("cifar10")
    assert "cifar-10-batches-py" in ds.source and ds.image_shape == (32, 32, 3)
    rows = np.vstack([written[f"data_batch_{i}"][0] for i in range(1, 6)])
    labels = sum((written[f"data_batch_{i}"][1] for i in range(1, 6)), [])
    assert ds.x_train.shape == (15, 3072) and ds.y_train.tolist() == labels
    assert ds.y_test.tolist() == written["test_batch"][1]
    # original rows are channel planes: value (ch, r, c) at ch * 1024 + r * 32 + c;
    # our features are HWC: (r, c, ch) at (r * 32 + c) * 3 + ch
    ch, r, c = np.meshgrid(np.arange(3), np.arange(32), np.arange(32), indexing="ij")
    planar = (ch * 1024 + r * 32 + c).ravel()
    hwc = ((r * 32 + c) * 3 + ch).ravel()
    assert np.array_equal(ds.x_train[:, hwc] * 255, rows[:, planar].astype(np.float32))
    assert np.array_equal(
        ds.images("test")[1, 5, 7],
        written["test_batch"][0][1, [ch * 1024 + 5 * 32 + 7 for ch in range(3)]] / np.float32(255),
    )


def test_cifar10_corrupt_batch_names_file_and_md5s(tiny_cifar):
    path = tiny_cifar["folder"] / "data_batch_3"
    blob = bytearray(path.read_bytes())
    blob[-10] ^= 0x01
    path.write_bytes(bytes(blob))
    with pytest.raises(ValueError) as info:
        load_dataset("cifar10")
    message = str(info.value)
    assert str(path) in message and tiny_cifar["md5"]["data_batch_3"] in message
    assert hashlib.md5(bytes(blob)).hexdigest() in message


# --------------------------------------------------------------------------- missing data


@pytest.mark.parametrize(
    ("name", "expected_file"),
    [("mnist", "train-images-idx3-ubyte.gz"), ("cifar10", "cifar10.npz")],
)
def test_missing_dataset_raises_not_found_without_urllib_traceback(
    data_in, no_network, name, expected_file
):
    timeout = socket.getdefaulttimeout()
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset(name)
    err = info.value
    message = str(err)
    assert isinstance(err, FileNotFoundError)
    assert str(data_in) in message and expected_file in message and "DIVNET_DATA" in message
    assert "network disabled by the test" in message and no_network  # a download was tried
    assert err.__cause__ is None and err.__suppress_context__
    assert socket.getdefaulttimeout() == timeout
    assert list(data_in.iterdir()) == []  # no empty folders left behind


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_read_only_data_folder_is_not_downloaded_into(data_in, no_network, name):
    data_in.chmod(0o555)
    try:
        with pytest.raises(DatasetNotFoundError, match="is not writable, so no download was tried"):
            load_dataset(name)
    finally:
        data_in.chmod(0o755)
    assert no_network == []


def test_mnist_rot_without_anything_raises_not_found(data_in, no_network):
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("mnist_rot")
    message = str(info.value)
    assert "mnist_all_rotation_normalized_float_test.amat" in message
    assert "rebuilding it needs MNIST" in message and "DIVNET_DATA" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


# --------------------------------------------------------------------------- MNIST_ROT


def test_rotation_matches_a_pixel_by_pixel_twin_and_is_exact_at_zero(rng):
    images = rng.random((6, 28, 28))
    angles = np.array([0.0, 0.3, 1.0, np.pi / 2, 3.0, 5.5])
    out = mnist_rot._rotate_images(images, angles)
    assert out.dtype == np.float32 and out.shape == images.shape
    assert np.array_equal(out[0], images[0].astype(np.float32))  # angle 0: the source itself
    for image, angle, rotated in zip(images[1:], angles[1:], out[1:], strict=True):
        np.testing.assert_allclose(rotated, np.clip(naive.rotate(image, angle), 0, 1), atol=1e-6)
        assert np.abs(rotated - image).max() > 0.1
    np.testing.assert_allclose(
        out[3], np.rot90(images[3]), atol=1e-6
    )  # a quarter turn, counterclockwise
    # the batch size does not change the result
    single = np.stack(
        [mnist_rot._rotate_images(im[None], [a])[0] for im, a in zip(images, angles, strict=True)]
    )
    assert np.array_equal(single, out)


def fake_mnist(rng, n_train: int = 80, n_test: int = 40) -> _common.RawArrays:
    x = rng.integers(0, 256, size=(n_train + n_test, 28, 28), dtype=np.uint8)
    x[:, :4] = 0  # a zero border, like MNIST
    y = np.arange(n_train + n_test) % 10
    return _common.RawArrays(
        x[:n_train], y[:n_train], x[n_train:], y[n_train:], 255.0, (28, 28), "fake"
    )


def test_build_mnist_rot_is_deterministic_and_rotates(rng):
    source = fake_mnist(rng)
    images = np.concatenate([source.x_train, source.x_test])
    labels = np.concatenate([source.y_train, source.y_test])
    first = mnist_rot._build_mnist_rot(images, labels, seed=0, sizes=(30, 10, 50))
    second = mnist_rot._build_mnist_rot(images, labels, seed=0, sizes=(30, 10, 50))
    for key, value in first.items():
        assert np.array_equal(value, second[key]), key
    other = mnist_rot._build_mnist_rot(images, labels, seed=1, sizes=(30, 10, 50))
    assert not np.array_equal(first["angle"], other["angle"])
    index, angle = first["index"], first["angle"]
    assert len(np.unique(index)) == 90 and np.all((angle >= 0) & (angle < 2 * np.pi))
    x = np.concatenate([first["x_train"], first["x_valid"], first["x_test"]])
    y = np.concatenate([first["y_train"], first["y_valid"], first["y_test"]])
    assert x.shape == (90, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.array_equal(y, labels[index])
    assert np.array_equal(x, mnist_rot._rotate_images(images[index] / 255.0, angle))
    moved = np.abs(x - images[index] / 255.0).reshape(90, -1).max(axis=1)
    assert np.all(moved > 0.05)  # every image really changed
    with pytest.raises(ValueError, match="need 200 images; got 120"):
        mnist_rot._build_mnist_rot(images, labels, seed=0, sizes=(100, 50, 50))


@pytest.fixture
def small_rot(data_in, monkeypatch, rng):
    """MNIST_ROT at 20 / 5 / 30, rebuilt from a fake MNIST into the tmp data folder."""
    monkeypatch.setattr(mnist_rot, "MNIST_ROT_SIZES", (20, 5, 30))
    source = fake_mnist(rng)
    monkeypatch.setattr(mnist_module, "load_raw", lambda root: source)
    return data_in


def test_mnist_rot_rebuild_is_cached_with_checksum(small_rot, capsys):
    ds = load_dataset("mnist_rot")
    log = capsys.readouterr().err
    assert "rebuilding MNIST_ROT from MNIST (seed 0)" in log and "rebuilt in" in log
    assert (ds.n_train, ds.n_valid, ds.n_test, ds.n_features) == (20, 5, 30, 784)
    assert ds.images("valid").shape == (5, 28, 28)
    assert "rebuilt from MNIST" in ds.source and "not the original" in ds.source
    cache = small_rot / "mnist_rotation_new" / "mnist_rot_rebuilt_v1_seed0.npz"
    assert str(cache) in ds.source
    assert [p.name for p in cache.parent.iterdir()] == [cache.name]  # no temp file left
    with np.load(cache) as npz:
        assert int(npz["seed"]) == 0 and len(str(npz["checksum"])) == 64
        assert str(npz["checksum"]) == mnist_rot._rot_checksum(
            {k: npz[k] for k in mnist_rot.ARRAYS}
        )
    again = load_dataset("mnist_rot")
    assert capsys.readouterr().err == ""  # read from the cache
    for key in ("x_train", "y_train", "x_valid", "y_valid", "x_test", "y_test"):
        assert np.array_equal(getattr(ds, key), getattr(again, key)), key
    sub = load_dataset("mnist_rot", n_train=10)
    assert sub.n_train == 10 and sub.n_valid == 5


def test_read_only_data_folder_puts_the_rebuild_in_the_cache_folder(small_rot, tmp_path):
    small_rot.chmod(0o555)
    try:
        ds = load_dataset("mnist_rot")
    finally:
        small_rot.chmod(0o755)
    cache = tmp_path / "cache" / "data" / "mnist_rotation_new" / "mnist_rot_rebuilt_v1_seed0.npz"
    assert cache.is_file() and str(cache) in ds.source
    assert not (small_rot / "mnist_rotation_new").exists()


def damage_truncate(path: Path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def damage_pixels(path: Path):
    with np.load(path) as npz:
        arrays = dict(npz)
    arrays["x_test"][0, 10, 10] += 0.5  # the stored checksum no longer fits
    np.savez(path, **arrays)


def damage_seed(path: Path):
    with np.load(path) as npz:
        arrays = dict(npz)
    arrays["seed"] = np.int64(7)
    np.savez(path, **arrays)


def damage_garbage(path: Path):
    path.write_bytes(b"not a zip file at all")


@pytest.mark.parametrize(
    ("damage", "complaint"),
    [
        (damage_truncate, "cannot be read"),
        (damage_garbage, "cannot be read"),
        (damage_pixels, "does not match its stored sha256 checksum"),
        (damage_seed, "was built with seed 7"),
    ],
)
def test_bad_cache_file_is_detected_and_rebuilt(small_rot, capsys, damage, complaint):
    good = load_dataset("mnist_rot")
    cache = small_rot / "mnist_rotation_new" / "mnist_rot_rebuilt_v1_seed0.npz"
    damage(cache)
    capsys.readouterr()
    rebuilt = load_dataset("mnist_rot")
    log = capsys.readouterr().err
    assert complaint in log and "rebuilding it" in log and str(cache) in log
    assert np.array_equal(rebuilt.x_test, good.x_test) and np.array_equal(
        rebuilt.y_train, good.y_train
    )
    assert mnist_rot._read_rot_cache(cache) is not None  # rewritten whole


def test_cache_of_other_sizes_is_rebuilt(small_rot, monkeypatch, capsys):
    load_dataset("mnist_rot")
    monkeypatch.setattr(mnist_rot, "MNIST_ROT_SIZES", (10, 5, 30))
    capsys.readouterr()
    assert load_dataset("mnist_rot").n_train == 10
    assert "holds splits of sizes (20, 5, 30), not (10, 5, 30)" in capsys.readouterr().err


def write_amat(path: Path, x: np.ndarray, y: np.ndarray):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, np.hstack([x, y[:, None]]), fmt="%.8g")


def test_official_amat_files_are_read(data_in, monkeypatch, rng):
    monkeypatch.setattr(mnist_rot, "MNIST_ROT_SIZES", (4, 2, 3))
    folder = data_in / "mnist_rotation_new"
    x_tv, y_tv = rng.random((6, 784)).astype(np.float32), np.array([1, 2, 3, 4, 5, 6])
    x_te, y_te = rng.random((3, 784)).astype(np.float32), np.array([7, 8, 9])
    x_tv[0, :3] = [0.0, 1.0, 0.5]
    write_amat(folder / "mnist_all_rotation_normalized_float_train_valid.amat", x_tv, y_tv)
    write_amat(folder / "mnist_all_rotation_normalized_float_test.amat", x_te, y_te)
    ds = load_dataset("mnist_rot")
    assert ds.source.startswith("official mnist_rotation_new .amat files")
    np.testing.assert_allclose(ds.x_train, x_tv[:4], rtol=1e-7)
    np.testing.assert_allclose(ds.x_valid, x_tv[4:], rtol=1e-7)
    np.testing.assert_allclose(ds.x_test, x_te, rtol=1e-7)
    assert ds.y_train.tolist() == [1, 2, 3, 4] and ds.y_valid.tolist() == [5, 6]
    assert ds.y_test.tolist() == [7, 8, 9] and ds.y_test.dtype == np.int64
    write_amat(folder / "mnist_all_rotation_normalized_float_test.amat", x_te, np.array([7, 8, 11]))
    with pytest.raises(ValueError, match="labels that are not integers 0-9"):
        load_dataset("mnist_rot")
    write_amat(folder / "mnist_all_rotation_normalized_float_test.amat", x_te[:2], y_te[:2])
    with pytest.raises(ValueError, match=r"must hold 3 rows of 785 numbers; got \(2, 785\)"):
        load_dataset("mnist_rot")


@pytest.mark.slow  # about 8 s: rotates 62000 digits and writes a 49 MB cache
def test_mnist_rot_full_rebuild_from_real_mnist(data_in, capsys):
    (data_in / "MNIST").symlink_to(real_mnist_raw().parent, target_is_directory=True)
    ds = load_dataset("mnist_rot")
    assert (ds.n_train, ds.n_valid, ds.n_test) == mnist_rot.MNIST_ROT_SIZES == (10000, 2000, 50000)
    assert_scaled(ds, 10000, 50000, 784)
    assert ds.x_valid.dtype == np.float32 and set(np.unique(ds.y_valid)) == set(range(10))
    assert "rebuilt from MNIST (seed 0" in ds.source
    assert "MNIST_ROT rebuilt in" in capsys.readouterr().err
    again = load_dataset("mnist_rot", n_test=1000)
    assert capsys.readouterr().err == "" and np.array_equal(again.x_valid, ds.x_valid)
    assert np.array_equal(again.x_train, ds.x_train)


def test_load_dataset_names_are_the_public_list():
    assert DATASETS == ("digits", "mnist", "mnist_rot", "cifar10")
    assert registry.dataset_names() == DATASETS


def test_status_quick_and_verified(monkeypatch, tmp_path):
    quick = status(verify=False)
    assert list(quick) == list(DATASETS) and quick["digits"].startswith("ok")
    assert status("digits") == {"digits": quick["digits"]}
    if os.environ.get("DIVNET_DATA"):
        assert quick["mnist"].startswith("ok") and quick["mnist"].endswith("(not verified)")
        assert status("cifar10")["cifar10"].startswith("ok: CIFAR-10")
    monkeypatch.setenv("DIVNET_DATA", str(tmp_path))
    empty = status("mnist", "cifar10", verify=False)
    assert empty == {"mnist": "missing: MNIST not found", "cifar10": "missing: CIFAR-10 not found"}
    assert status("mnist")["mnist"].startswith("missing: MNIST not found")
    assert list(tmp_path.iterdir()) == []  # nothing downloaded, no folders made
    with pytest.raises(ValueError, match="unknown dataset"):
        status("imagenet")
