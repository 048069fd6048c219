"""Progress on stderr: a Rich bar on a terminal, plain periodic lines otherwise."""

from __future__ import annotations

import math
import sys
import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

err_console = Console(stderr=True)


def _fmt(v: float) -> str:
    return "nan" if not math.isfinite(v) else f"{v:.4f}"


class TrainProgress:
    """Step, seed-steps/s, ETA and the seed-mean d_loss/g_loss of the last chunk."""

    PLAIN_INTERVAL_S = 5.0

    def __init__(self, label: str, start: int, total: int, seeds: int, quiet: bool = False):
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
        self.bar = None
        if not quiet and err_console.is_terminal:
            self.bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TextColumn("{task.fields[rate]} seed-steps/s"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[losses]}"),
                console=err_console,
            )
            self.task = self.bar.add_task(label, total=total, completed=start, rate="-", losses="")
            self.bar.start()

    def restart_clock(self, step: int) -> None:
        """Call after compilation so the rate counts training only."""
        self.t0, self.start = time.perf_counter(), step

    def update(self, step: int, d_loss: float, g_loss: float, force: bool = False) -> None:
        elapsed = time.perf_counter() - self.t0
        self.rate = self.seeds * (step - self.start) / elapsed if elapsed > 0 else 0.0
        losses = f"d_loss {_fmt(d_loss)}  g_loss {_fmt(g_loss)}"
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.update(self.task, completed=step, rate=f"{self.rate:,.0f}", losses=losses)
            return
        now = time.perf_counter()
        if force or step >= self.total or now - self.last_plain >= self.PLAIN_INTERVAL_S:
            self.last_plain = now
            if self.rate > 0:
                left = (self.total - step) * self.seeds / self.rate
                speed = f"{self.rate:,.0f} seed-steps/s  eta {left:.0f}s"
            else:
                speed = "compiling"
            print(
                f"{self.label} step {step}/{self.total}  {speed}  {losses}",
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
