"""Image data: sklearn digits, IDX (plain/gz, with sibling labels) and .npz loading, errors."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from gancli.data.images import (
    ImageData,
    load_digits,
    load_image_file,
    load_images,
)
from gancli.errors import DataError


def _idx_bytes(arr: np.ndarray, code: int = 0x08) -> bytes:
    arr = np.asarray(arr, np.uint8)
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.tobytes()


def _write(path, data: bytes):
    if path.name.endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)
    return path


def _mnist_like(n=5, h=28, w=28, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, h, w), dtype=np.uint8)
    x[:, 0, 0] = 0
    x[:, 1, 1] = 255
    y = rng.integers(0, 10, n).astype(np.uint8)
    return x, y


def _expect_scaled(x_u8):
    return x_u8.astype(np.float32) / 127.5 - 1.0


# ------------------------------------------------------------------------------ digits


def test_digits_default():
    d = load_digits()
    assert isinstance(d, ImageData)
    assert d.images.shape == (1797, 16, 16, 1) and d.images.dtype == np.float32
    assert d.images.min() == -1.0 and d.images.max() == 1.0
    assert d.labels.shape == (1797,) and d.labels.dtype == np.int32
    assert sorted(np.unique(d.labels)) == list(range(10))
    assert d.name == "digits" and d.num_classes == 10
    assert (d.image_size, d.channels, d.num_examples) == (16, 1, 1797)
    # exact 2x nearest upsampling: each 2x2 block is constant, 17 grey levels survive
    blocks = d.images[:, :, :, 0].reshape(1797, 8, 2, 8, 2)
    assert np.all(blocks == blocks[:, :, :1, :, :1])
    assert len(np.unique(d.images)) == 17


def test_digits_sizes_and_load_images_spec():
    from sklearn.datasets import load_digits as sk

    native = load_digits(8)
    np.testing.assert_array_equal(native.images[..., 0], sk().images / 8.0 - 1.0)
    assert load_digits(32).images.shape == (1797, 32, 32, 1)
    assert load_images("digits").images.shape == (1797, 16, 16, 1)
    assert load_images("digits", 8).images.shape == (1797, 8, 8, 1)
    for bad in (12, 4, 0):
        with pytest.raises(DataError, match="power of two"):
            load_digits(bad)


# ------------------------------------------------------------------------------ IDX


@pytest.mark.parametrize("gz", [False, True])
def test_idx_images_and_sibling_labels(tmp_path, gz):
    x, y = _mnist_like()
    sfx = ".gz" if gz else ""
    img = _write(tmp_path / f"train-images-idx3-ubyte{sfx}", _idx_bytes(x))
    _write(tmp_path / f"train-labels-idx1-ubyte{sfx}", _idx_bytes(y))
    d = load_image_file(img)
    assert d.images.shape == (5, 32, 32, 1) and d.images.dtype == np.float32
    # 28x28 centred in 32x32: 2 pixels of -1 background on every side
    np.testing.assert_array_equal(d.images[:, 2:30, 2:30, 0], _expect_scaled(x))
    border = np.ones((32, 32), bool)
    border[2:30, 2:30] = False
    assert np.all(d.images[:, border, 0] == -1.0)
    assert d.images[0, 2, 2, 0] == -1.0 and d.images[0, 3, 3, 0] == 1.0
    np.testing.assert_array_equal(d.labels, y.astype(np.int32))
    assert d.labels.dtype == np.int32
    assert d.num_classes == int(y.max()) + 1
    assert d.name == str(img)
    # the spec form goes through the same path
    assert load_images(str(img)).images.shape == (5, 32, 32, 1)


def test_idx_without_labels_and_t10k_mixed_gz(tmp_path):
    x, y = _mnist_like(3)
    img = _write(tmp_path / "t10k-images-idx3-ubyte", _idx_bytes(x))
    d = load_image_file(img)
    assert d.labels is None and d.num_classes is None
    _write(tmp_path / "t10k-labels-idx1-ubyte.gz", _idx_bytes(y))  # only the .gz sibling
    np.testing.assert_array_equal(load_image_file(img).labels, y)


def test_idx_resize_down_and_up(tmp_path):
    x, _ = _mnist_like(2)
    img = _write(tmp_path / "train-images-idx3-ubyte", _idx_bytes(x))
    padded = load_image_file(img).images
    small = load_image_file(img, image_size=16).images
    assert small.shape == (2, 16, 16, 1)
    # exact 2x2 area averaging of the padded 32x32 image
    expect = padded.reshape(2, 16, 2, 16, 2, 1).mean(axis=(2, 4))
    np.testing.assert_allclose(small, expect, atol=1e-6)
    assert small.min() >= -1.0 and small.max() <= 1.0
    assert small[0, 0, 0, 0] == -1.0  # corner is pure background
    big = load_image_file(img, image_size=64).images
    assert big.shape == (2, 64, 64, 1)
    np.testing.assert_array_equal(big[:, ::2, ::2], padded)
    assert load_image_file(img, image_size=32).images.shape == (2, 32, 32, 1)
    with pytest.raises(DataError, match="power of two"):
        load_image_file(img, image_size=28)


def test_idx_errors_name_the_file(tmp_path):
    x, y = _mnist_like(4)
    good = _idx_bytes(x)

    trunc = _write(tmp_path / "trunc-images-idx3-ubyte", good[:-10])
    with pytest.raises(DataError, match="truncated") as e:
        load_image_file(trunc)
    assert "trunc-images-idx3-ubyte" in str(e.value)

    short = _write(tmp_path / "short-images-idx3-ubyte", good[:9])  # header cut off
    with pytest.raises(DataError, match="truncated"):
        load_image_file(short)

    magic = _write(tmp_path / "magic-images-idx3-ubyte", b"\x12\x34" + good[2:])
    with pytest.raises(DataError, match="magic") as e:
        load_image_file(magic)
    assert "magic-images-idx3-ubyte" in str(e.value)

    code = _write(tmp_path / "code-images-idx3-ubyte", _idx_bytes(x, code=0x0D))
    with pytest.raises(DataError, match="dtype code 0x0d"):
        load_image_file(code)

    img = _write(tmp_path / "mm-images-idx3-ubyte.gz", good)
    _write(tmp_path / "mm-labels-idx1-ubyte.gz", _idx_bytes(y[:3]))
    with pytest.raises(DataError, match="3 labels for 4 images") as e:
        load_image_file(img)
    assert "mm-labels-idx1-ubyte.gz" in str(e.value) and "mm-images-idx3-ubyte.gz" in str(e.value)

    notgz = tmp_path / "bad-images-idx3-ubyte.gz"
    notgz.write_bytes(good)  # plain bytes with a .gz name
    with pytest.raises(DataError, match="gzip") as e:
        load_image_file(notgz)
    assert "bad-images-idx3-ubyte.gz" in str(e.value)


# ------------------------------------------------------------------------------ npz


def test_keras_style_npz(tmp_path):
    x, y = _mnist_like(6)
    xt, yt = _mnist_like(2, seed=1)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x, y_train=y.astype(np.int64), x_test=xt, y_test=yt)
    d = load_image_file(path)
    assert d.images.shape == (6, 32, 32, 1)
    np.testing.assert_array_equal(d.images[:, 2:30, 2:30, 0], _expect_scaled(x))
    np.testing.assert_array_equal(d.labels, y)
    assert d.labels.dtype == np.int32 and d.name == str(path)


def test_rgb_uint8_npz_and_float_npz(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    path = tmp_path / "rgb.npz"
    np.savez(path, images=x, labels=np.array([0, 1, 2, 1]))
    d = load_image_file(path)
    assert d.images.shape == (4, 16, 16, 3)
    np.testing.assert_allclose(d.images, _expect_scaled(x), atol=1e-6)
    assert d.num_classes == 3
    # float images in [0, 1], non-square 10x12 -> padded to 16 with -1, no labels
    xf = rng.uniform(0, 1, (3, 10, 12)).astype(np.float32)
    path = tmp_path / "float.npz"
    np.savez(path, x=xf)
    d = load_image_file(path)
    assert d.images.shape == (3, 16, 16, 1) and d.labels is None
    np.testing.assert_allclose(d.images[:, 3:13, 2:14, 0], xf * 2 - 1, atol=1e-6)
    assert np.all(d.images[:, :3] == -1) and np.all(d.images[:, :, :2] == -1)
    # tiny images are padded to at least 8
    np.savez(tmp_path / "tiny.npz", x=np.zeros((2, 5, 5), np.uint8))
    assert load_image_file(tmp_path / "tiny.npz").images.shape == (2, 8, 8, 1)


@pytest.mark.parametrize(
    ("fname", "arrays", "message"),
    [
        ("unknown_key.npz", {"pixels": np.zeros((2, 8, 8), np.uint8)}, "no recognised image"),
        ("flat.npz", {"x": np.zeros((5, 784), np.uint8)}, r"shape \(5, 784\)"),
        ("two_ch.npz", {"x": np.zeros((2, 8, 8, 2), np.uint8)}, "1 or 3 channels"),
        ("chfirst.npz", {"x": np.zeros((2, 3, 8, 8), np.uint8)}, "channels-first"),
        ("empty.npz", {"x": np.zeros((0, 8, 8), np.uint8)}, "empty"),
        (
            "neg_labels.npz",
            {"x": np.zeros((2, 8, 8), np.uint8), "y": np.array([0, -1])},
            "non-negative",
        ),
        (
            "frac_labels.npz",
            {"x": np.zeros((2, 8, 8), np.uint8), "y": np.array([0.5, 1.0])},
            "non-negative",
        ),
        (
            "count.npz",
            {"images": np.zeros((3, 8, 8), np.uint8), "labels": np.arange(2)},
            "2 labels for 3 images",
        ),
        ("range.npz", {"x": np.full((2, 8, 8), 300, np.int32)}, "0..255"),
        ("nan.npz", {"x": np.full((2, 8, 8), np.nan, np.float32)}, "NaN"),
    ],
)
def test_npz_errors_name_the_file(tmp_path, fname, arrays, message):
    path = tmp_path / fname
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=message) as e:
        load_image_file(path)
    assert fname in str(e.value)
    assert "\n" not in str(e.value)


def test_file_level_errors(tmp_path):
    missing = tmp_path / "nope-images-idx3-ubyte"
    with pytest.raises(DataError, match="not found") as e:
        load_image_file(missing)
    assert "nope-images-idx3-ubyte" in str(e.value)
    with pytest.raises(DataError, match="not found"):
        load_images(str(tmp_path / "missing.npz"))

    odd = tmp_path / "pictures.png"
    odd.write_bytes(b"\x89PNG")
    with pytest.raises(DataError, match="unknown file type") as e:
        load_image_file(odd)
    assert "pictures.png" in str(e.value)

    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"this is not a zip file")
    with pytest.raises(DataError, match="broken.npz"):
        load_image_file(broken)

    with pytest.raises(DataError, match="not a file"):
        load_image_file(tmp_path)

    pickled = tmp_path / "objects.npz"
    np.savez(pickled, x=np.array([None, 1], dtype=object))
    with pytest.raises(DataError, match="objects.npz"):
        load_image_file(pickled)

    assert issubclass(DataError, ValueError)


def test_explicit_labels_path(tmp_path):
    x, y = _mnist_like(4)
    img = _write(tmp_path / "imgs-idx3-ubyte", _idx_bytes(x))
    lab = _write(tmp_path / "my-labels-idx1-ubyte", _idx_bytes(y))
    d = load_image_file(img, labels_path=lab)
    np.testing.assert_array_equal(d.labels, y)
    with pytest.raises(DataError, match="labels file not found"):
        load_image_file(img, labels_path=tmp_path / "absent-idx1-ubyte")
