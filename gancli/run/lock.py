"""A run directory's writer's lock: one process writes a run directory at a time.

The lock is an OS file lock (flock) on `.gancli.lock` in the directory, which dies with
its process: a lock left by a killed writer is free, and the holder note it left behind
(pid, host, since, argv) is reported as taken over. Readers never wait for it: `running`
takes nothing, and a reader that cuts a torn log line takes the lock only when it is free
(`repair_if_idle`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gancli.errors import DISK_FULL, DiskFull, RunDirBusy, RunDirError, warn
from gancli.run.files import truncate_jsonl

LOCK_NAME = ".gancli.lock"
# A writer that finds the lock taken waits this long before giving up: long enough to let
# a reader that is repairing a torn log line finish, short enough to be "at once".
WRITER_WAIT_S = 1.0


def _holder_text(info: dict) -> str:
    since = f", since {info['since']}" if info.get("since") else ""
    return f"pid {info.get('pid', '?')} on host {info.get('host', '?')}{since}"


def _process_alive(pid: int) -> bool:
    import psutil

    return psutil.pid_exists(pid)


@dataclasses.dataclass
class _Held:
    lock: Any
    path: Path

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.truncate(self.path, 0)  # an empty lock file: released cleanly
        self.lock.release()


class WriterLock:
    """The writer's lock of the run directory `directory` (the file `directory/LOCK_NAME`)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.path = self.directory / LOCK_NAME

    def holder(self) -> dict:
        """Who holds (or last held, if it was killed) the writer's lock; {} if nobody."""
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def _acquire(self, timeout: float):
        import filelock

        lock = filelock.FileLock(str(self.path), timeout=timeout)
        lock.acquire()
        return lock

    def _busy(self) -> RunDirBusy:
        info = self.holder()
        who = _holder_text(info) if info else "another process"
        return RunDirBusy(
            f"run directory {self.directory} is in use by {who}: wait for it to finish "
            "or choose another directory"
        )

    def running(self) -> bool:
        """Whether a live process holds the writer's lock. Takes nothing and creates
        nothing: a shared flock on the lock file, if there is one, opened read-only."""
        import fcntl

        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            os.close(fd)

    def check_idle(self) -> None:
        """Raise RunDirBusy if a live writer holds the directory (takes nothing)."""
        import filelock

        try:
            self._acquire(WRITER_WAIT_S).release()
        except filelock.Timeout:
            raise self._busy() from None
        except OSError:
            pass  # cannot even open the lock file: the writer's own lock will say why

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock (the directory exists): a second writer is refused with who holds
        it. A lock left by a killed writer is free, and its holder note is reported as
        taken over. The lock file stays (removing it would race with the next writer).
        """
        import filelock

        try:
            lock = self._acquire(WRITER_WAIT_S)
        except filelock.Timeout:
            raise self._busy() from None
        except OSError as e:
            raise RunDirError(f"cannot lock run directory {self.directory}: {e.strerror}") from None
        held = _Held(lock, self.path)
        try:
            previous = self.holder()
            if previous and previous.get("pid") != os.getpid():
                alive = previous.get("host") == socket.gethostname() and _process_alive(
                    int(previous.get("pid", -1))
                )
                state = "no longer holds it" if alive else "no longer running"
                warn(f"taking over {self.directory} from {_holder_text(previous)} ({state})")
            me = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "since": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
                "argv": sys.argv,
            }
            try:
                with open(self.path, "r+") as f:
                    f.truncate(0)
                    f.write(json.dumps(me) + "\n")
            except OSError as e:
                if e.errno in DISK_FULL:
                    raise DiskFull(
                        f"disk full: cannot lock run directory {self.directory}"
                    ) from None
                raise
            yield
        finally:
            held.release()

    def repair_if_idle(self, path: Path) -> bool:
        """Cut a torn last line of a log when no writer holds the directory."""
        try:
            lock = self._acquire(0)
        except Exception:  # busy, read-only, missing: leave it to the writer
            return False
        try:
            truncate_jsonl(path)
            return True
        except OSError:
            return False
        finally:
            lock.release()
