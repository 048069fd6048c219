"""Progress on stderr: a Rich bar on a terminal, plain periodic lines otherwise.

The bar takes two lines so that it reads at 80 columns: the label, the bar and the step,
then the speed (or "compiling" until the first chunk has run), the time left and the
seed-mean losses of the last chunk.
"""

from __future__ import annotations

import datetime
import math
import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Column
from rich.text import Text

err_console = Console(stderr=True)


def _fmt(v: float) -> str:
    return "nan" if not math.isfinite(v) else f"{v:.4f}"


class _TwoLineProgress(Progress):
    """Each task as its bar line, then its `status` field on a line of its own."""

    def get_renderables(self):
        for task in self.tasks:
            yield self.make_tasks_table([task])
            yield Text("  " + task.fields["status"], no_wrap=True, overflow="ellipsis")


class TrainProgress:
    """Step, seed-steps/s, ETA and the seed-mean d_loss/g_loss of the last chunk."""

    PLAIN_INTERVAL_S = 5.0

    def __init__(
        self,
        label: str,
        start: int,
        total: int,
        seeds: int,
        quiet: bool = False,
        console: Console | None = None,
    ):
        self.label, self.start, self.total, self.seeds, self.quiet = (
            label,
            start,
            total,
            seeds,
            quiet,
        )
        self.t0 = time.perf_counter()
        self.last_plain = -math.inf
        self.rate = 0.0
        self.compiled = False
        self.bar = None
        console = console or err_console
        if not quiet and console.is_terminal:
            name = Column(no_wrap=True, overflow="ellipsis", max_width=28)
            self.bar = _TwoLineProgress(
                TextColumn("[bold]{task.description}", table_column=name),
                BarColumn(bar_width=None),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                console=console,
            )
            self.task = self.bar.add_task(label, total=total, completed=start, status="compiling")
            self.bar.start()

    def restart_clock(self, step: int) -> None:
        """Call after compilation so the rate counts training only."""
        self.t0, self.start, self.compiled = time.perf_counter(), step, True

    def _speed(self, step: int) -> str:
        if not self.compiled:
            return "compiling"
        if self.rate <= 0:
            return "measuring speed"
        left = datetime.timedelta(seconds=round((self.total - step) * self.seeds / self.rate))
        return f"{self.rate:,.0f} seed-steps/s  eta {left}"

    def update(self, step: int, d_loss: float, g_loss: float, force: bool = False) -> None:
        elapsed = time.perf_counter() - self.t0
        self.rate = self.seeds * (step - self.start) / elapsed if elapsed > 0 else 0.0
        losses = f"d_loss {_fmt(d_loss)}  g_loss {_fmt(g_loss)}"
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.update(self.task, completed=step, status=f"{self._speed(step)}  {losses}")
            return
        now = time.perf_counter()
        if force or step >= self.total or now - self.last_plain >= self.PLAIN_INTERVAL_S:
            self.last_plain = now
            print(
                f"{self.label} step {step}/{self.total}  {self._speed(step)}  {losses}",
                file=sys.stderr,
                flush=True,
            )

    def note(self, message: str) -> None:
        if self.bar is not None:
            self.bar.console.print(message)
        else:
            print(message, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
