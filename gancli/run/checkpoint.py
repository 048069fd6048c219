"""Orbax checkpoints of the whole training state, atomic and restorable step by step."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import orbax.checkpoint as ocp

from gancli.config import Config, ConfigError
from gancli.config_io import from_mapping
from gancli.errors import RunDirError, first_line, write_error


class CheckpointError(RuntimeError):
    """A checkpoint that is missing or cannot be restored; one readable line.

    exit_code 2 when the user named something that is not there, 1 when it is damaged.
    `reason` says what is wrong with the checkpoint, without naming it.
    """

    def __init__(self, message: str, exit_code: int = 1, reason: str | None = None):
        super().__init__(message)
        self.exit_code = exit_code
        self.reason = reason or message


class Checkpointer:
    """Saves `{state, config}` every so often; keeps the newest `keep`.

    Orbax writes each step into a temporary directory and renames it when complete, so
    a killed save never replaces the last complete checkpoint. Saves are asynchronous:
    a save's failure (a full disk) surfaces at the next `save`, `wait` or `close`, and is
    raised as DiskFull/RunDirError naming that save's step. Old checkpoints are deleted
    only after a newer one is confirmed complete, so a failing save never leaves fewer
    than the newest complete one.
    """

    def __init__(self, directory: str | Path, keep: int = 3, read_only: bool = False):
        """`directory`: a run directory's checkpoints/ (`RunDir.checkpointer` opens one)."""
        self.directory = Path(directory)
        self.keep = keep
        if read_only and not self.directory.is_dir():
            raise CheckpointError(f"no checkpoints in {self.directory.parent}", exit_code=2)
        # max_to_keep=None: we prune ourselves, after the newer save is confirmed.
        options = ocp.CheckpointManagerOptions(
            max_to_keep=None, create=not read_only, read_only=read_only
        )
        self.manager = ocp.CheckpointManager(self.directory, options=options)
        self._pending: int | None = None  # step of the save in flight

    def __enter__(self) -> Checkpointer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:  # already failing: finish what we can, do not mask the first error
            with contextlib.suppress(Exception):
                self.close()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            with contextlib.suppress(Exception):
                self.manager.close()

    def steps(self) -> list[int]:
        return sorted(self.manager.all_steps())

    def latest_step(self) -> int | None:
        steps = self.steps()
        return steps[-1] if steps else None

    # ---- writing --------------------------------------------------------------------------

    def _write_error(self, step: int | None, e: BaseException) -> RunDirError:
        return write_error("a checkpoint" if step is None else f"checkpoint at step {step}", e)

    def wait(self) -> None:
        """Wait for the save in flight; raise DiskFull/RunDirError if it failed."""
        step, self._pending = self._pending, None
        try:
            self.manager.wait_until_finished()
            self.manager.check_for_errors()
        except Exception as e:
            raise self._write_error(step, e) from None
        if step is None:
            return
        if not (self.directory / str(step)).is_dir():  # Orbax skipped finalizing it
            raise RunDirError(f"cannot write checkpoint at step {step}: it was not finalized")
        self._prune()

    def _prune(self) -> None:
        for s in self.steps()[: -self.keep]:
            self.manager.delete(s)

    def save(self, step: int, state: Any, cfg: Config, extra: dict | None = None) -> None:
        self.wait()  # one save in flight at a time; its failure is reported here
        config = cfg.to_dict()
        if cfg.sweep:  # the points, as a [sweep] table would give them
            config["sweep"] = {"points": [dict(p) for p in cfg.sweep]}
        meta = {"config": config, **(extra or {})}
        args = ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta))
        try:
            self.manager.save(step, args=args, force=True)
        except Exception as e:
            raise self._write_error(step, e) from None
        self._pending = step

    def delete_after(self, step: int) -> list[int]:
        """Drop checkpoints newer than `step` (a resume from an older one replaces them)."""
        newer = [s for s in self.steps() if s > step]
        for s in newer:
            self.manager.delete(s)
        return newer

    # ---- reading --------------------------------------------------------------------------

    def _damaged(self, step: int, reason: str) -> CheckpointError:
        return CheckpointError(
            f"checkpoint step {step} in {self.directory} is damaged: {reason}", reason=reason
        )

    def read_meta(self, step: int) -> dict:
        path = self.directory / str(step) / "meta" / "metadata"
        try:
            meta = json.loads(path.read_bytes())
        except OSError as e:
            raise self._damaged(step, f"its metadata is unreadable ({e.strerror})") from None
        except ValueError:  # bad JSON or bad UTF-8
            raise self._damaged(step, "its metadata is not valid JSON") from None
        if not isinstance(meta, dict):
            raise self._damaged(step, "its metadata is not a JSON object")
        return meta

    def read_config(self, step: int) -> Config:
        meta = self.read_meta(step)
        try:
            return from_mapping(meta["config"], source=f"checkpoint {step}")
        except (KeyError, TypeError, AttributeError, ConfigError) as e:
            raise self._damaged(step, f"it has no usable config ({first_line(e)})") from None

    def restore(self, step: int, abstract_state: Any) -> Any:
        if step not in self.steps():
            raise CheckpointError(
                f"no checkpoint at step {step} in {self.directory}; "
                f"available: {self.steps() or 'none'}",
                exit_code=2,
            )
        args = ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state))
        try:
            return self.manager.restore(step, args=args).state
        except Exception as e:  # orbax raises many types for damaged files
            reason = f"its arrays cannot be restored ({first_line(e)})"
            raise CheckpointError(
                f"checkpoint step {step} in {self.directory} cannot be restored ({first_line(e)})",
                reason=reason,
            ) from None
