"""Files that a kill cannot tear: atomic replacement, and JSON-lines logs read tolerantly.

Small files are replaced atomically (temporary file + rename); logs are appended whole
rows at a time, so a kill leaves at most a torn last line, which readers skip and the
next writer cuts (`truncate_jsonl`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

# ---- atomic files -------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path`; renamed onto it if the block succeeds, else removed.

    The temporary name keeps the suffix (numpy and matplotlib go by it) and starts with a
    dot. Files are created with the usual umask, unlike `tempfile`'s 0600.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}-{secrets.token_hex(3)}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Replace `path` with `data` in one step: readers see the old file or the new one."""
    raw = data.encode() if isinstance(data, str) else data
    with atomic_path(path) as tmp, tmp.open("wb") as f:
        f.write(raw)
        f.flush()
        os.fsync(f.fileno())


def json_default(o):
    """numpy scalars and arrays as JSON numbers and lists; anything else by its str."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def json_safe(obj: Any) -> Any:
    """JSON has no NaN or Infinity: non-finite floats (Python's or numpy's, of any width)
    become null; numpy scalars and arrays become numbers and lists."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        return json_safe(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps(obj: Any, **kw) -> str:
    """The one JSON encoding of what gancli writes: no NaN anywhere (null instead)."""
    return json.dumps(json_safe(obj), allow_nan=False, default=json_default, **kw)


def write_json(path: str | Path, obj: Any) -> None:
    write_atomic(path, dumps(obj, indent=2) + "\n")


# ---- JSON lines ---------------------------------------------------------------------------


def _row(line: bytes) -> dict | None:
    """A log row, or None for a line that is not one (torn, garbage)."""
    try:
        row = json.loads(line)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return None
    if not isinstance(row, dict) or not isinstance(row.get("step"), int):
        return None
    return row


@dataclasses.dataclass
class Scan:
    rows: list[dict]
    ends: list[int]  # byte offset just after each good row's newline
    bad: int  # complete lines that are not rows
    torn: bool  # the last line has no newline (a write cut short)
    size: int


def scan_jsonl(data: bytes) -> Scan:
    rows, ends, bad, offset = [], [], 0, 0
    *complete, tail = data.split(b"\n")
    for line in complete:
        offset += len(line) + 1
        if not line.strip():
            continue
        row = _row(line)
        if row is None:
            bad += 1
        else:
            rows.append(row)
            ends.append(offset)
    return Scan(rows, ends, bad, bool(tail.strip()), len(data))


def append_jsonl(path: Path, rows: list[dict], default=None) -> None:
    """Append whole rows in one write (a kill leaves at most one torn last line)."""
    text = "".join(json.dumps(r, allow_nan=False, default=default) + "\n" for r in rows)
    with path.open("a") as f:
        f.write(text)


def truncate_jsonl(path: Path, last_step: int | None = None) -> None:
    """Drop rows after `last_step` (redone on resume), a torn last line and garbage lines.

    Rows are appended in step order, so usually this cuts the file's tail in place, which
    needs no free space; only garbage in the middle makes it rewrite the file.
    """
    if not path.exists():
        return
    data = path.read_bytes()
    s = scan_jsonl(data)
    keep = [i for i, r in enumerate(s.rows) if last_step is None or r["step"] <= last_step]
    prefix = keep == list(range(len(keep)))
    cut = s.ends[keep[-1]] if keep else 0
    if prefix and s.bad == 0:
        if cut < s.size:
            os.truncate(path, cut)
        return
    text = "".join(json.dumps(s.rows[i]) + "\n" for i in keep)
    write_atomic(path, text)


class ReportDir:
    """A report directory's only writer (compare-losses, --tune, reproduce, the atlas):
    every file written whole and atomically, so a reader or a kill never sees half of one;
    figures go through `plots.save_figure`, which writes the same way."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def write(self, name: str, text: str) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path / name, text)
        return self.path / name

    def write_json(self, name: str, obj: Any) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        write_json(self.path / name, obj)
        return self.path / name

    def write_csv(self, name: str, rows: list[dict]) -> Path:
        import csv
        import io

        buf = io.StringIO(newline="")
        w = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else [])
        w.writeheader()
        w.writerows(rows)
        return self.write(name, buf.getvalue())
