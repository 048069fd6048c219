"""Orbax checkpoints of the whole training state, atomic and restorable step by step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orbax.checkpoint as ocp

from gancli.config import Config, ConfigError, from_mapping


class CheckpointError(RuntimeError):
    """A checkpoint that is missing or cannot be restored; one readable line.

    exit_code 2 when the user named something that is not there, 1 when it is damaged.
    """

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


def checkpoint_dir(run_dir: str | Path) -> Path:
    return Path(run_dir).absolute() / "checkpoints"


class Checkpointer:
    """Saves `{state, config}` every so often; keeps the newest `keep`.

    Orbax writes each step into a temporary directory and renames it when complete, so
    a killed save never replaces the last complete checkpoint. Saves are asynchronous;
    `close` (or leaving the `with` block) waits for them.
    """

    def __init__(self, run_dir: str | Path, keep: int = 3, read_only: bool = False):
        self.directory = checkpoint_dir(run_dir)
        if read_only and not self.directory.is_dir():
            raise CheckpointError(f"no checkpoints in {run_dir}", exit_code=2)
        options = ocp.CheckpointManagerOptions(
            max_to_keep=keep, create=not read_only, read_only=read_only
        )
        self.manager = ocp.CheckpointManager(self.directory, options=options)

    def __enter__(self) -> Checkpointer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.manager.wait_until_finished()
        self.manager.close()

    def steps(self) -> list[int]:
        return sorted(self.manager.all_steps())

    def latest_step(self) -> int | None:
        steps = self.steps()
        return steps[-1] if steps else None

    def save(self, step: int, state: Any, cfg: Config, extra: dict | None = None) -> None:
        meta = {"config": cfg.to_dict(), **(extra or {})}
        args = ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta))
        self.manager.save(step, args=args, force=True)

    def delete_after(self, step: int) -> list[int]:
        """Drop checkpoints newer than `step` (a resume from an older one replaces them)."""
        newer = [s for s in self.steps() if s > step]
        for s in newer:
            self.manager.delete(s)
        return newer

    def wait(self) -> None:
        self.manager.wait_until_finished()

    def read_meta(self, step: int) -> dict:
        path = self.directory / str(step) / "meta" / "metadata"
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise CheckpointError(
                f"checkpoint step {step} in {self.directory} is damaged "
                f"(meta: {e.__class__.__name__})"
            ) from None

    def read_config(self, step: int) -> Config:
        meta = self.read_meta(step)
        try:
            return from_mapping(meta["config"], source=f"checkpoint {step}")
        except (KeyError, ConfigError) as e:
            raise CheckpointError(f"checkpoint step {step} has no usable config: {e}") from None

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
            msg = str(e).splitlines()[0][:200] if str(e) else e.__class__.__name__
            older = [s for s in self.steps() if s < step]
            hint = f"; older checkpoints: {older}" if older else ""
            raise CheckpointError(
                f"checkpoint step {step} in {self.directory} cannot be restored ({msg}){hint}"
            ) from None
