"""The run directory: its paths, fresh names, debris, tolerant logs, outputs, checkpoints.

One process writes a run directory at a time (`RunDir.lock`, the writer's lock of
`gancli.run.lock`); readers never wait for it. Small files are replaced atomically
(temporary file + rename) and logs are appended a row at a time, so a kill at any moment
leaves whole files, whole log rows (at most a torn last line, which every reader skips and
the next writer cuts) and whole checkpoints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gancli.config import ConfigError
from gancli.errors import RunDirError, warn
from gancli.run import files
from gancli.run.files import scan_jsonl, truncate_jsonl
from gancli.run.lock import LOCK_NAME, WriterLock

# What a run writes into its directory (see README: What a run writes).
RUN_FILES = {"config.toml", "env.json", "metrics.jsonl", "eval.jsonl", "summary.json",
             "samples", "plots", "checkpoints", "tb"}  # fmt: skip


def read_jsonl(path: str | Path) -> list[dict]:
    """Every whole row of a JSON-lines log; a torn last line is skipped (and cut when no
    writer holds the run directory), other broken lines are skipped with a warning."""
    path = Path(path)
    if not path.exists():
        return []
    s = scan_jsonl(path.read_bytes())
    if s.bad:
        warn(f"{path}: skipped {s.bad} line(s) that are not log rows")
    if s.torn:
        RunDir(path.parent).repair_if_idle(path)
    return s.rows


def _run_file(name: str) -> bool:
    """A name a run writes into its directory (or a writer's temporary file)."""
    return name in RUN_FILES or name.startswith(("events.out.tfevents.", "."))


def fresh_run_dir(base: str | Path, cfg) -> Path:
    """`base`, else `base-2`, `base-3`, ...: the first that does not exist, is empty, or
    holds `cfg`'s own run that never reached a checkpoint and is not running."""
    base = Path(base)
    for i in itertools.count(1):
        rd = RunDir(base if i == 1 else base.with_name(f"{base.name}-{i}"))
        if not rd.path.exists() or (rd.path.is_dir() and not any(rd.path.iterdir())):
            return rd.path
        if rd.never_started(cfg) and not rd.running():
            return rd.path
    raise AssertionError("unreachable")


def check_creatable(path: Path, what: str = "--out") -> None:
    """A directory that can be created (or exists): no file on its way, a writable
    ancestor. One line naming the culprit, instead of an OSError deep in a writer."""
    path = Path(path)
    for p in [path, *path.parents]:
        if not p.exists() and not p.is_symlink():
            continue
        if not p.is_dir():
            if p == path:
                raise ConfigError(f"{what} {path} exists and is not a directory")
            raise ConfigError(f"{what} {path}: {p} is a file, not a directory")
        if p != path and not os.access(p, os.W_OK | os.X_OK):
            raise ConfigError(f"{what} {path}: cannot create it in {p} (not writable)")
        return


# ---- the run directory --------------------------------------------------------------------


class RunDir:
    """One run's directory and everything that reads or writes it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __str__(self) -> str:
        return str(self.path)

    # paths
    config = property(lambda self: self.path / "config.toml")
    env = property(lambda self: self.path / "env.json")
    metrics = property(lambda self: self.path / "metrics.jsonl")
    eval_log = property(lambda self: self.path / "eval.jsonl")
    summary = property(lambda self: self.path / "summary.json")
    samples = property(lambda self: self.path / "samples")
    plots = property(lambda self: self.path / "plots")
    checkpoints = property(lambda self: self.path.absolute() / "checkpoints")
    lock_path = property(lambda self: self.path / LOCK_NAME)
    LOGS = ("metrics.jsonl", "eval.jsonl")

    # ---- the writer's lock (gancli.run.lock) ----------------------------------------------

    writer_lock = property(lambda self: WriterLock(self.path))

    def holder(self) -> dict:
        """Who holds (or last held, if it was killed) the writer's lock; {} if nobody."""
        return self.writer_lock.holder()

    def running(self) -> bool:
        """Whether a live process holds the writer's lock (takes and creates nothing)."""
        return self.writer_lock.running()

    def check_idle(self) -> None:
        """Raise RunDirBusy if a live writer holds the directory (takes nothing)."""
        self.writer_lock.check_idle()

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Create the directory and hold its writer's lock (`WriterLock.hold`): a second
        writer is refused with who holds it."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            check_creatable(self.path, "run directory")
            raise RunDirError(f"cannot create run directory {self.path}: {e.strerror}") from None
        with self.writer_lock.hold():
            yield

    def repair_if_idle(self, path: Path) -> bool:
        """Cut a torn last line of a log when no writer holds the directory."""
        return self.writer_lock.repair_if_idle(path)

    # ---- creating and tidying -------------------------------------------------------------

    def _entries(self) -> list[Path]:
        return [p for p in self.path.iterdir() if p.name != LOCK_NAME]

    def check_new(self, force: bool, locked: bool = False, cfg=None) -> None:
        """Refuse a path that is a file, a directory in use, or a non-empty directory
        without --force, unless it holds `cfg`'s own run that never reached a checkpoint
        (stopped or killed at start-up): that one is taken over. `locked`: we hold the
        lock already."""
        check_creatable(self.path, "--out")
        if self.path.is_dir() and self._entries():
            if self.lock_path.exists() and not locked:
                self.check_idle()  # a busy directory is reported as such
            if not force and not (cfg is not None and self.never_started(cfg)):
                raise ConfigError(
                    f"run directory {self.path} already exists and is not empty: "
                    "use --resume to continue it or --force to overwrite it"
                )

    def never_started(self, cfg) -> bool:
        """True for a directory that `cfg`'s own run left before its first checkpoint:
        only files a run writes, no checkpoint, and the same experiment in config.toml."""
        if not self.path.is_dir() or self.checkpoint_steps():
            return False
        if not all(_run_file(p.name) for p in self.path.iterdir()):
            return False
        try:
            return self.saved_config() == cfg
        except (ConfigError, OSError):
            return False

    def clear(self) -> None:
        """Remove everything but the lock file (call while holding the lock)."""
        for p in self._entries():
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()

    def _debris(self) -> list[Path]:
        found = []
        if self.checkpoints.is_dir():
            found += [p for p in self.checkpoints.iterdir() if ".orbax-checkpoint-tmp" in p.name]
        for d in (self.path, self.samples, self.plots):
            if d.is_dir():
                found += [p for p in d.iterdir() if p.name.startswith(".") and ".tmp-" in p.name]
                found += [p for p in d.iterdir() if p.name.endswith(".tmp") and p.is_file()]
        return found

    def remove_debris(self, settle_s: float = 0.0) -> list[Path]:
        """Delete what an interrupted writer leaves: Orbax's temporary checkpoint
        directories and our temporary files (call while holding the lock).

        `settle_s`: after a failed save, tensorstore writes still in flight may recreate
        files for a moment; keep removing until none appeared for this long.
        """
        removed: list[Path] = []
        quiet_since = time.monotonic()
        deadline = quiet_since + 20 * settle_s
        while True:
            found = self._debris()
            for p in found:
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        p.unlink()
            removed += found
            now = time.monotonic()
            if found:
                quiet_since = now
            if now - quiet_since >= settle_s or now > deadline:
                return removed
            time.sleep(0.05)

    def saved_config(self):
        """The resolved config this run was trained with (its config.toml); None if none."""
        from gancli import config as config_lib
        from gancli import config_io

        if not self.config.exists():
            return None
        return config_lib.resolve(config_io.load(self.config))

    # ---- logs -----------------------------------------------------------------------------

    def read_jsonl(self, name: str) -> list[dict]:
        return read_jsonl(self.path / name)

    # ---- what a run leaves behind: its summary, final samples, studies' stages -------------
    # (the only writer of these files: each is written whole, atomically)

    final_samples = property(lambda self: self.path / "samples" / "final.npy")

    def write_summary(self, summary: dict) -> None:
        files.write_json(self.summary, summary)

    def write_final_samples(self, x) -> None:
        """The final samples as an array, for reports (fixed z, eval mode)."""
        import numpy as np

        self.samples.mkdir(parents=True, exist_ok=True)
        with files.atomic_path(self.final_samples) as tmp:
            np.save(tmp, x)

    def write_end(self, summary: dict, x, pictures: list[tuple], mixture=None) -> None:
        """The end of a run: summary.json, the final samples (`x`) and a picture per
        (file name, samples, title) over the data."""
        from gancli import plots

        self.write_summary(summary)
        self.write_final_samples(x)
        for name, xs, title in pictures:
            plots.save_panels(self.samples / name, [xs], [title], mixture)

    def load_final_samples(self):
        import numpy as np

        return np.load(self.final_samples)

    def stage_file(self, steps: int) -> Path:
        """A study's record of this run at `steps` (gancli reproduce's scores)."""
        return self.path / f"reproduce_{steps:07d}.json"

    def stage_files(self) -> list[Path]:
        return sorted(self.path.glob("reproduce_*.json")) if self.path.is_dir() else []

    def write_stage(self, steps: int, stage: dict) -> None:
        files.write_json(self.stage_file(steps), stage)

    def cut_logs(self, last_step: int | None) -> None:
        """Logs end at `last_step` (None: only repair): they never run ahead of the
        checkpoint a resume starts from."""
        for name in self.LOGS:
            truncate_jsonl(self.path / name, last_step)

    def check_readable(self, what: str = "run directory") -> None:
        """A run directory with checkpoints, else one line saying what the path is."""
        from gancli.run.checkpoint import CheckpointError

        if not self.path.exists():
            raise CheckpointError(f"{what} {self.path} does not exist", exit_code=2)
        if not self.path.is_dir():
            raise CheckpointError(f"{what} {self.path} is a file, not a run directory", exit_code=2)
        if not self.checkpoint_steps():
            raise CheckpointError(f"no checkpoints in {self.path}", exit_code=2)

    # ---- checkpoints ----------------------------------------------------------------------

    def checkpointer(self, keep: int = 3, read_only: bool = False):
        from gancli.run.checkpoint import Checkpointer

        return Checkpointer(self.checkpoints, keep=keep, read_only=read_only)

    def checkpoint_steps(self) -> list[int]:
        """Steps of the complete checkpoints on disk (no Orbax needed)."""
        if not self.checkpoints.is_dir():
            return []
        return sorted(int(p.name) for p in self.checkpoints.iterdir() if p.name.isdigit())

    def restore_newest(
        self,
        prepare: Callable[[int, Any], Any],
        step: int | None = None,
        validate: Callable[[int, Any], None] | None = None,
        quiet: bool = False,
    ) -> Restored:
        """Restore the newest intact checkpoint (or exactly `step` when given).

        `prepare(step, saved_config)` returns an object with an `abstract_state()`
        method (a GANProgram). A checkpoint whose metadata or arrays cannot be read, or
        that `validate(step, state)` rejects, is skipped with a one-line warning.
        """
        from gancli.run.checkpoint import CheckpointError

        self.check_readable()
        with self.checkpointer(read_only=True) as ck:
            steps = ck.steps()
            if not steps:
                raise CheckpointError(f"no checkpoints in {self.path}", exit_code=2)
            if step is not None and step not in steps:
                raise CheckpointError(
                    f"no checkpoint at step {step} in {self.path}; available steps: {steps}",
                    exit_code=2,
                )
            skipped: list[tuple[int, str]] = []
            for s in [step] if step is not None else steps[::-1]:
                try:
                    saved = ck.read_config(s)
                    program = prepare(s, saved)
                    state = ck.restore(s, program.abstract_state())
                    if validate is not None:
                        validate(s, state)
                except CheckpointError as e:
                    if step is not None:
                        older = [t for t in steps if t < s]
                        hint = f"; older checkpoints: {older}" if older else ""
                        raise CheckpointError(f"{e}{hint}", e.exit_code) from None
                    skipped.append((s, e.reason))
                    continue
                if not quiet:
                    for bad, reason in skipped:
                        warn(f"skipping damaged checkpoint step {bad} in {self.path} ({reason}); "
                             f"using step {s}")  # fmt: skip
                return Restored(s, steps, program, state, [b for b, _ in skipped])
        newest, reason = skipped[0]
        raise CheckpointError(
            f"no intact checkpoint in {self.path}: steps {steps} are all damaged "
            f"(step {newest}: {reason})"
        )


@dataclasses.dataclass
class Restored:
    step: int
    steps: list[int]  # every checkpoint step found, damaged or not
    program: Any  # what `prepare` returned
    state: Any
    skipped: list[int]  # damaged checkpoints passed over, newest first
