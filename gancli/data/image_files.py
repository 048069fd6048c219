"""Image files read into raw arrays: IDX (MNIST's format, plain or gzip) with its sibling
labels file, .npz (Keras' mnist.npz layout and the like) and labels files.

Nothing is scaled or sized here (`gancli.data.images` does that). Anything wrong with a
file raises `DataError` with one readable line naming the file and the problem.
"""

from __future__ import annotations

import gzip
import math
import re
import zipfile
from pathlib import Path

import numpy as np

from gancli.errors import DataError

# --------------------------------------------------------------------------------------------
# IDX (MNIST / Fashion-MNIST)

IDX_RE = re.compile(r"idx\d+-ubyte$|\.idx\d*$")


def strip_gz(name: str) -> tuple[str, bool]:
    return (name[:-3], True) if name.lower().endswith(".gz") else (name, False)


def _read_bytes(path: Path, gz: bool) -> bytes:
    try:
        if gz:
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (gzip.BadGzipFile, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: not a valid gzip file ({e})") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read file ({e.strerror or e})") from None


def _parse_idx(buf: bytes, where: str) -> np.ndarray:
    """Parse an IDX buffer: magic 0x00 0x00 <dtype code> <ndim>, ndim big-endian uint32 dims,
    then the data. Only dtype code 0x08 (unsigned byte), as used by MNIST, is supported."""
    if len(buf) < 4:
        raise DataError(f"{where}: truncated IDX file ({len(buf)} bytes, no header)")
    if buf[0] != 0 or buf[1] != 0:
        raise DataError(
            f"{where}: bad IDX magic number 0x{buf[:4].hex()} (must start with 0x0000; "
            "not an IDX file?)"
        )
    code, ndim = buf[2], buf[3]
    if code != 0x08:
        raise DataError(
            f"{where}: unsupported IDX dtype code 0x{code:02x} (only 0x08 unsigned byte)"
        )
    if ndim == 0:
        raise DataError(f"{where}: bad IDX header: 0 dimensions")
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise DataError(f"{where}: truncated IDX file ({len(buf)} bytes, header needs {header})")
    dims = tuple(int(d) for d in np.frombuffer(buf, dtype=">u4", count=ndim, offset=4))
    expected = header + math.prod(dims)
    if len(buf) != expected:
        what = "truncated IDX file" if len(buf) < expected else "IDX file has trailing bytes"
        raise DataError(
            f"{where}: {what}: header says shape {dims} = {expected} bytes, file has {len(buf)}"
        )
    return np.frombuffer(buf, dtype=np.uint8, offset=header).reshape(dims)


def _read_idx(path: Path) -> np.ndarray:
    _, gz = strip_gz(path.name)
    return _parse_idx(_read_bytes(path, gz), str(path))


def _sibling_labels(path: Path) -> Path | None:
    """train-images-idx3-ubyte[.gz] -> train-labels-idx1-ubyte[.gz] if it exists."""
    base, gz = strip_gz(path.name)
    for a, b in (("images-idx3", "labels-idx1"), ("images.idx3", "labels.idx1")):
        if a in base:
            stem = base.replace(a, b)
            for cand in (stem + ".gz", stem) if gz else (stem, stem + ".gz"):
                p = path.with_name(cand)
                if p.is_file():
                    return p
    return None


def load_idx(path: Path, labels_path: Path | None) -> tuple[np.ndarray, np.ndarray | None, Path]:
    raw = _read_idx(path)
    if labels_path is None:
        labels_path = _sibling_labels(path)
    y = None
    if labels_path is not None:
        y = load_labels_file(labels_path)
    return raw, y, labels_path or path


# --------------------------------------------------------------------------------------------
# npz

_NPZ_KEYS = (("x_train", "y_train"), ("images", "labels"), ("x", "y"))


def load_npz(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    where = str(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = list(z.files)
            for xk, yk in _NPZ_KEYS:
                if xk in keys:
                    x = np.asarray(z[xk])
                    y = np.asarray(z[yk]) if yk in keys else None
                    return x, y
    except DataError:
        raise
    except (zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{where}: not a valid .npz file ({e})") from None
    except ValueError as e:  # e.g. object arrays (pickles are refused) or a corrupt member
        raise DataError(f"{where}: cannot read .npz contents ({e})") from None
    except OSError as e:
        raise DataError(f"{where}: cannot read file ({e.strerror or e})") from None
    except Exception as e:  # any other numpy/zip failure: one line
        raise DataError(f"{where}: cannot read .npz ({type(e).__name__}: {e})") from None
    expected = ", ".join(xk for xk, _ in _NPZ_KEYS)
    raise DataError(
        f"{where}: no recognised image array (expected key {expected}); "
        f"found keys: {', '.join(keys) or 'none'}"
    )


def load_labels_file(path: Path) -> np.ndarray:
    """Labels from an IDX (idx1) file, a .npy array or an .npz with y_train/labels/y."""
    if not path.exists():
        raise DataError(f"{path}: labels file not found")
    if not path.is_file():
        raise DataError(f"{path}: labels path is not a file")
    base, _ = strip_gz(path.name)
    if IDX_RE.search(base):
        y = _read_idx(path)
        if y.ndim != 1:
            raise DataError(f"{path}: IDX labels must have 1 dimension, got shape {y.shape}")
        return y
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False)
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                for k in ("y_train", "labels", "y"):
                    if k in z.files:
                        return np.asarray(z[k])
                raise DataError(
                    f"{path}: no labels array (expected key y_train, labels or y); "
                    f"found keys: {', '.join(z.files) or 'none'}"
                )
    except DataError:
        raise
    except Exception as e:
        raise DataError(f"{path}: cannot read labels ({type(e).__name__}: {e})") from None
    raise DataError(f"{path}: unknown labels file type (expected IDX idx1-ubyte, .npy or .npz)")
