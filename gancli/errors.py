"""The errors gancli reports as one line a user can act on, wherever they arise.

`ConfigError` is bad input (a flag, a TOML file, a size that will not fit), and
`DataError` a data file that cannot be used: the command line prints either as
`error: ...` and exits 2. `RunDirError` is a run directory that cannot be written (busy:
exit 2; a full disk or another I/O error: exit 1). `warn` prints a warning the same way,
as one line on stderr, and the work goes on.
"""

from __future__ import annotations

import errno
import sys


class ConfigError(ValueError):
    """A bad experiment: the message is one line a user can act on."""


class DataError(ValueError):
    """A data file or dataset spec that cannot be used; message is one readable line naming the
    file and the problem."""


DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class RunDirError(RuntimeError):
    """A run directory that cannot be written; one readable line. Exit code 1."""

    exit_code = 1


class RunDirBusy(RunDirError):
    """Another live process is writing the run directory."""

    exit_code = 2


class DiskFull(RunDirError):
    """The file system is full (or over quota)."""


def is_disk_full(exc: BaseException | None) -> bool:
    """True when `exc` (or what caused it) says the disk or quota is full.

    Orbax reports tensorstore's ENOSPC as a ValueError whose text carries the errno.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in DISK_FULL:
            return True
        text = str(exc)
        if "No space left on device" in text or "Disk quota exceeded" in text:
            return True
        if any(f"os_error_code='{n}'" in text for n in DISK_FULL):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def write_error(what: str, e: BaseException) -> RunDirError:
    """`e`, raised while writing `what`, as one line: DiskFull when the disk or quota is
    full, else RunDirError with the cause (an OSError's own words, or the first line)."""
    if is_disk_full(e):
        return DiskFull(f"disk full writing {what}")
    if isinstance(e, OSError) and e.strerror:
        return RunDirError(f"cannot write {what}: {e.strerror}")
    return RunDirError(f"cannot write {what}: {first_line(e)}")


def first_line(e: BaseException) -> str:
    """An exception's message cut to one line (its type's name if it has none)."""
    text = str(e).strip()
    return text.splitlines()[0][:160] if text else type(e).__name__


def os_error_line(e: OSError) -> str:
    """An OSError as one line: its own words and the path(s) it names."""
    paths = [str(p) for p in (e.filename, e.filename2) if p is not None]
    what = e.strerror or first_line(e)
    return f"{what}: {' -> '.join(paths)}" if paths else what


def warn(message: str) -> None:
    """A warning a user should see, as one line on stderr; the work goes on."""
    print(f"warning: {message}", file=sys.stderr, flush=True)
