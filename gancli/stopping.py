"""Ctrl-C (SIGINT) and SIGTERM, handled from the moment the process starts.

Python's own SIGINT handling raises KeyboardInterrupt wherever the main thread is, and
three places made that go wrong at start-up: inside a garbage-collector callback (JAX
registers one) the exception is printed and dropped, so the run went on; inside a command,
Typer turns it into a return value, so the process exited 0 without a word; and while XLA
compiled on a thread of its own, the main thread unwound and the interpreter shut down
under that thread, which then used a freed device: a segmentation fault (a core dump's
stack: `xla::ifrt::SingleDeviceSharding::Create` in a `PjRtCompiler::CompileAndLoad`
worker).

So a signal is recorded first. Inside `deferred()` (training: its start-up and the loop)
that is all: the code stops at its own safe points, between compiled calls
(`check()`, and the loop's test of `received`). Elsewhere the handler raises `Stopped`, a
BaseException that no `except Exception` swallows; if a callback swallows it anyway, the
recorded signal is still there for the next `check()`. A second signal raises at once: the
user really wants out. The command line ends a stopped process with `os._exit` after its
one line, so no interpreter shutdown races a compile still running on another thread.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)
received: list[int] = []  # the signals seen so far, in order
_deferred = 0  # depth of `deferred()` blocks


class Stopped(BaseException):
    """A stop request (SIGINT or SIGTERM); the exit code is 128 + the signal's number."""

    def __init__(self, signum: int, message: str = ""):
        name = signal.Signals(signum).name
        super().__init__(message or f"{name}: stopped")
        self.signum = signum
        self.exit_code = 128 + signum


def _handler(signum, frame) -> None:
    received.append(signum)
    if not _deferred or len(received) > 1:
        raise Stopped(signum)


def install() -> None:
    """Record SIGINT and SIGTERM from now on (main thread only; elsewhere a no-op)."""
    with contextlib.suppress(ValueError):  # not the main thread
        for s in SIGNALS:
            signal.signal(s, _handler)


def check() -> None:
    """A safe point: raise `Stopped` if a stop was requested."""
    if received:
        raise Stopped(received[0])


@contextlib.contextmanager
def deferred() -> Iterator[list[int]]:
    """Within the block a signal is only recorded (in the list yielded); the block checks
    it at its safe points. Installs the handlers if nobody has (library use, tests)."""
    global _deferred
    if all(signal.getsignal(s) is not _handler for s in SIGNALS):
        old = {s: signal.getsignal(s) for s in SIGNALS}
        install()
        if signal.getsignal(signal.SIGINT) is not _handler:  # not the main thread
            old = {}
    else:
        old = {}
    _deferred += 1
    try:
        yield received
    finally:
        _deferred -= 1
        for s, h in old.items():
            signal.signal(s, h)
        if old:
            received.clear()  # a library caller's stop was handled inside the block
