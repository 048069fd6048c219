"""Image datasets held as in-memory arrays: scikit-learn digits, IDX (MNIST) and .npz files.

Every loader returns an `ImageData` whose images are float32 (N, S, S, C) in [-1, 1] with S a
power of two >= 8, the sizes the DCGAN in `gancli.models.dcgan` handles. Anything wrong with a
file raises `DataError` with one readable line naming the file and the problem. The files
themselves are read by `gancli.data.image_files`; here they are checked, scaled and sized.

Sizing rule for files (pure numpy, exact, no interpolation):
  1. pad centrally with -1 (the background after scaling) to the smallest power-of-two square
     >= max(H, W) and >= 8, e.g. MNIST 28x28 -> 32x32;
  2. if `image_size` is given and differs, rescale by the (power-of-two) ratio: exact area
     averaging of 2^k x 2^k blocks to shrink (32 -> 16 averages 2x2 blocks), nearest-neighbour
     repetition to grow (32 -> 64).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from gancli.data.image_files import IDX_RE, load_idx, load_labels_file, load_npz, strip_gz
from gancli.errors import DataError


@dataclasses.dataclass(frozen=True, eq=False)  # eq=False: arrays make field-wise == ambiguous
class ImageData:
    images: np.ndarray  # float32 (N, H, W, C) scaled to [-1, 1], H == W == image_size
    labels: np.ndarray | None  # int32 (N,) or None
    name: str  # "digits" or the file's path
    num_classes: int | None

    @property
    def num_examples(self) -> int:
        return int(self.images.shape[0])

    @property
    def image_size(self) -> int:
        return int(self.images.shape[1])

    @property
    def channels(self) -> int:
        return int(self.images.shape[3])


# --------------------------------------------------------------------------------------------
# helpers


def _is_pow2(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


def _check_image_size(image_size: int | None, where: str) -> None:
    if image_size is None:
        return
    if (
        isinstance(image_size, bool)
        or not isinstance(image_size, (int, np.integer))
        or not _is_pow2(int(image_size))
        or image_size < 8
    ):
        raise DataError(f"{where}: image_size must be a power of two >= 8, got {image_size!r}")


def _natural_size(h: int, w: int) -> int:
    """Smallest power of two >= max(h, w) and >= 8."""
    return max(8, 1 << (max(h, w) - 1).bit_length())


def _pad_square(x_NxHxWxC: np.ndarray, size: int) -> np.ndarray:
    """Pad centrally with -1 to (N, size, size, C); the extra odd pixel goes bottom/right."""
    _, h, w, _ = x_NxHxWxC.shape
    top, left = (size - h) // 2, (size - w) // 2
    pad = ((0, 0), (top, size - h - top), (left, size - w - left), (0, 0))
    return np.pad(x_NxHxWxC, pad, mode="constant", constant_values=-1.0)


def _rescale_pow2(x_NxSxSxC: np.ndarray, size: int) -> np.ndarray:
    """Rescale a power-of-two square to another power of two: block mean down, repeat up."""
    n, s, _, c = x_NxSxSxC.shape
    if size == s:
        return x_NxSxSxC
    if size < s:
        f = s // size
        out = np.empty((n, size, size, c), np.float32)
        for i in range(0, n, 4096):  # chunked to keep the float64-free temporary small
            blk = x_NxSxSxC[i : i + 4096].reshape(-1, size, f, size, f, c)
            out[i : i + 4096] = blk.mean(axis=(2, 4), dtype=np.float32)
        return out
    f = size // s
    return np.repeat(np.repeat(x_NxSxSxC, f, axis=1), f, axis=2)


def _to_unit_range(x: np.ndarray, where: str) -> np.ndarray:
    """uint8/int 0..255 or float in [0, 1] (or 0..255, or already [-1, 1]) -> float32 [-1, 1]."""
    if np.issubdtype(x.dtype, np.bool_):
        return np.where(x, 1.0, -1.0).astype(np.float32)
    if np.issubdtype(x.dtype, np.integer):
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi > 255:
            raise DataError(f"{where}: integer pixel values must be in 0..255, got {lo}..{hi}")
        return (x.astype(np.float32) / np.float32(127.5) - 1.0).astype(np.float32)
    if np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32, copy=False)
        if not np.all(np.isfinite(x)):
            raise DataError(f"{where}: images contain NaN or infinite values")
        lo, hi = float(x.min()), float(x.max())
        if lo >= 0.0 and hi <= 1.0:
            return x * np.float32(2.0) - np.float32(1.0)
        if lo >= -1.0 and hi <= 1.0:
            return x.copy()
        if lo >= 0.0 and hi <= 255.0:
            return x / np.float32(127.5) - np.float32(1.0)
        raise DataError(
            f"{where}: float pixel values must be in [0, 1], [-1, 1] or [0, 255], "
            f"got {lo:g}..{hi:g}"
        )
    raise DataError(f"{where}: unsupported image dtype {x.dtype} (expected uint8 or float)")


def _prepare_images(raw: np.ndarray, where: str) -> np.ndarray:
    """Check shape/dtype and return float32 (N, H, W, C) in [-1, 1] (no resizing yet)."""
    if raw.ndim not in (3, 4):
        raise DataError(
            f"{where}: images must have shape (N, H, W) or (N, H, W, C), got shape {raw.shape}"
        )
    if raw.size == 0:
        raise DataError(f"{where}: image array is empty (shape {raw.shape})")
    if raw.ndim == 4 and raw.shape[3] not in (1, 3):
        hint = " (channels-first? expected channels last)" if raw.shape[1] in (1, 3) else ""
        raise DataError(
            f"{where}: images must have 1 or 3 channels, got {raw.shape[3]} "
            f"in shape {raw.shape}{hint}"
        )
    x = _to_unit_range(raw, where)
    if x.ndim == 3:
        x = x[..., None]
    return np.ascontiguousarray(x, dtype=np.float32)


def _prepare_labels(
    raw: np.ndarray, n: int, where: str, images_where: str
) -> tuple[np.ndarray, int]:
    """Check labels are n non-negative integers; return (int32 labels, num_classes)."""
    y = np.asarray(raw)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(f"{where}: labels must have shape (N,), got shape {y.shape}")
    if y.shape[0] != n:
        other = "" if images_where == where else f" in {images_where}"
        raise DataError(f"{where}: {y.shape[0]} labels for {n} images{other} (counts must match)")
    if n == 0:
        raise DataError(f"{where}: label array is empty")
    if np.issubdtype(y.dtype, np.floating):
        if not (np.all(np.isfinite(y)) and np.all(y == np.round(y))):
            raise DataError(
                f"{where}: labels must be non-negative integers, got non-integer values"
            )
    elif not np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_):
        raise DataError(f"{where}: labels must be non-negative integers, got dtype {y.dtype}")
    lo, hi = y.min(), y.max()
    if lo < 0 or hi > np.iinfo(np.int32).max:
        raise DataError(f"{where}: labels must be non-negative integers, got range {lo}..{hi}")
    return y.astype(np.int32), int(hi) + 1


def _finish(
    x_NxHxWxC: np.ndarray,
    labels: np.ndarray | None,
    num_classes: int | None,
    name: str,
    image_size: int | None,
) -> ImageData:
    _, h, w, _ = x_NxHxWxC.shape
    x = _pad_square(x_NxHxWxC, _natural_size(h, w))
    if image_size is not None:
        x = _rescale_pow2(x, int(image_size))
    return ImageData(np.ascontiguousarray(x, dtype=np.float32), labels, name, num_classes)


# --------------------------------------------------------------------------------------------
# digits


def load_digits(image_size: int = 16) -> ImageData:
    """scikit-learn's bundled 8x8 digits (1,797 images, 10 classes, no download) in [-1, 1].

    Pixel values 0..16 map linearly to [-1, 1] (x / 8 - 1). The default size is 16: an exact
    2x nearest-neighbour upsampling, so the 17 grey levels and the exact -1/1 extremes survive,
    and a 16x16 DCGAN needs only two stride-2 stages (4 -> 8 -> 16), small enough to train on a
    CPU. Any power of two >= 8 works (8 = native, larger = integer nearest repetition).
    """
    _check_image_size(image_size, "digits")
    from sklearn.datasets import load_digits as _sk_load_digits

    d = _sk_load_digits()
    x = d.images.astype(np.float32) / np.float32(8.0) - np.float32(1.0)  # (1797, 8, 8)
    x = _rescale_pow2(x[..., None], int(image_size))
    labels = d.target.astype(np.int32)
    return ImageData(np.ascontiguousarray(x, dtype=np.float32), labels, "digits", 10)


# --------------------------------------------------------------------------------------------
# public entry points


def load_image_file(
    path: str | os.PathLike, image_size: int | None = None, labels_path=None
) -> ImageData:
    """Load an IDX images file (plain or .gz) or an .npz, scaled to [-1, 1].

    IDX: `*-images-idx3-ubyte[.gz]`; labels are read from `labels_path` or, if absent, from the
    sibling `*-labels-idx1-ubyte[.gz]` when it exists. npz: Keras' mnist.npz layout (x_train,
    y_train; the test split is ignored) or keys images/labels or x/y. Images (N, H, W) or
    (N, H, W, C) with C in {1, 3}, uint8 0..255 or float in [0, 1]. Sizing: see module doc.
    """
    p = Path(path)
    where = str(p)
    _check_image_size(image_size, where)
    if not p.exists():
        raise DataError(f"{where}: file not found")
    if not p.is_file():
        raise DataError(f"{where}: not a file")
    lp = Path(labels_path) if labels_path is not None else None
    base, _ = strip_gz(p.name)
    if IDX_RE.search(base):
        raw, y_raw, y_src = load_idx(p, lp)
        y_where = str(y_src)
    elif base.lower().endswith(".npz") and base == p.name:
        raw, y_raw = load_npz(p)
        y_where = where
        if lp is not None:
            y_raw, y_where = load_labels_file(lp), str(lp)
    else:
        raise DataError(
            f"{where}: unknown file type (expected an IDX file like train-images-idx3-ubyte"
            "[.gz] or an .npz)"
        )
    x = _prepare_images(raw, where)
    labels = num_classes = None
    if y_raw is not None:
        labels, num_classes = _prepare_labels(y_raw, x.shape[0], y_where, where)
    return _finish(x, labels, num_classes, where, image_size)


def load_images(spec: str, image_size: int | None = None) -> ImageData:
    """ "digits" -> `load_digits` (default size 16); anything else is a file path."""
    if str(spec) == "digits":
        return load_digits(16 if image_size is None else image_size)
    return load_image_file(spec, image_size)
