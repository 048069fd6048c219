"""A run's life cycle: start one, resume one, read one back.

The loop between compiled chunks lives in `gancli.run.loop`; this module decides what state
and which run directory it starts from.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import sys
from pathlib import Path

import numpy as np

from gancli import config as config_lib
from gancli import config_io, stopping
from gancli import data as data_lib
from gancli.config import HOST_FIELDS, Config, ConfigError
from gancli.core.step import GANProgram
from gancli.machine.host import environment, is_primary, to_host
from gancli.run import files, memory
from gancli.run.checkpoint import CheckpointError
from gancli.run.loop import RunResult, run_loop
from gancli.run.rundir import RunDir


def _save_config(rd: RunDir, cfg: Config) -> None:
    with files.atomic_path(rd.config) as tmp:
        config_io.save(cfg, tmp)


@contextlib.contextmanager
def _writer(rd: RunDir):
    """The writer's lock on the primary process (the only one that writes files)."""
    if not is_primary():
        yield
        return
    with rd.lock():
        yield


# ---- training -----------------------------------------------------------------------------


def train(
    cfg: Config,
    out: str | Path,
    *,
    force: bool = False,
    quiet: bool = False,
    program: GANProgram | None = None,
    state=None,
) -> RunResult:
    """A fresh run in `out`. `program`/`state` let tests and benchmarks inject their own.

    A stop request (Ctrl-C, SIGTERM) waits for the next safe point: before the directory
    is made, after the first compile, then the loop's. Stopped before the first
    checkpoint, the directory is one the same command takes over (`RunDir.never_started`).
    """
    cfg = config_lib.resolve(cfg)
    with stopping.deferred():
        data = data_lib.load(cfg.dataset, cfg.image_size)
        program = program or GANProgram.build(cfg, data)
        memory.check_fits(program)  # before the run directory or any array exists
        rd = RunDir(out)
        if is_primary():
            rd.check_new(force, cfg=cfg)  # a refused --out gets no lock file
        stopping.check()
        with _writer(rd):
            if is_primary():
                rd.check_new(force, locked=True, cfg=cfg)  # again, now no one else can write
                rd.clear()
                _save_config(rd, cfg)
                files.write_json(rd.env, environment())
            state = state if state is not None else program.init()
            try:
                stopping.check()
            except stopping.Stopped as e:
                name = signal.Signals(e.signum).name
                raise stopping.Stopped(
                    e.signum,
                    f"{name}: stopped before the first checkpoint; the same command starts "
                    f"again in {rd}",
                ) from None
            return run_loop(program, data, state, rd, start=0, quiet=quiet)


def check_resume_overrides(saved: Config, overrides: dict) -> Config:
    conflicts = [
        f"{k.replace('_', '-')} {getattr(saved, k)!r} -> {v!r}"
        for k, v in overrides.items()
        if k not in HOST_FIELDS and v is not None and v != getattr(saved, k)
    ]
    if conflicts:
        raise ConfigError(
            "cannot resume with a different experiment ("
            + "; ".join(conflicts)
            + "): only "
            + ", ".join(sorted(k.replace("_", "-") for k in HOST_FIELDS))
            + " may change"
        )
    return config_lib.resolve(
        saved.replace(**{k: v for k, v in overrides.items() if k in HOST_FIELDS and v is not None})
    )


def _check_restored_step(step: int, state) -> None:
    """A restored state must say it is at the checkpoint's step (cheap damage check)."""
    at = np.asarray(to_host(state.step))
    if not (at == step).all():
        raise CheckpointError(
            f"checkpoint step {step} holds a state at step {sorted(set(at.tolist()))}",
            reason=f"its state is at step {sorted(set(at.tolist()))}, not {step}",
        )


def _program_cache(make_cfg, check_memory: bool):
    """prepare(step, saved config) for RunDir.restore_newest: one program per config."""
    cache: dict[Config, GANProgram] = {}

    def prepare(step: int, saved: Config) -> GANProgram:
        cfg = make_cfg(step, saved)
        if cfg not in cache:
            program = GANProgram.build(cfg, data_lib.load(cfg.dataset, cfg.image_size))
            if check_memory:
                memory.check_fits(program)
            cache[cfg] = program
        return cache[cfg]

    return prepare


def resume(
    run_dir: str | Path,
    overrides: dict | None = None,
    *,
    quiet: bool = False,
    step: int | None = None,
) -> RunResult:
    """Continue a run from its newest intact (or a chosen) checkpoint, bit for bit.

    A damaged newer checkpoint is skipped with a warning and replaced, as are the log
    rows after the step resumed from.
    """
    rd = RunDir(run_dir)
    rd.check_readable("--resume")  # before the lock: a refused resume creates nothing

    def make_cfg(at: int, saved: Config) -> Config:
        cfg = check_resume_overrides(saved, overrides or {})
        if cfg.steps < at:
            raise ConfigError(f"--steps {cfg.steps} is below the checkpoint's step {at}")
        return cfg

    with stopping.deferred(), _writer(rd):
        if is_primary():
            rd.remove_debris()  # a killed save's temporary directory, half-written files
        r = rd.restore_newest(_program_cache(make_cfg, True), step, _check_restored_step)
        program = r.program
        cfg = program.cfg
        if r.step != r.steps[-1]:
            with rd.checkpointer(keep=cfg.keep) as ck:
                dropped = ck.delete_after(r.step)
            if not quiet:
                print(
                    f"resuming from step {r.step}: replacing checkpoints {dropped}", file=sys.stderr
                )
        if is_primary():
            _save_config(rd, cfg)
            rd.cut_logs(r.step)
        stopping.check()
        return run_loop(program, program.data, r.state, rd, start=r.step, quiet=quiet)


# ---- reading a run back -------------------------------------------------------------------


@dataclasses.dataclass
class LoadedRun:
    cfg: Config
    data: data_lib.Dataset
    program: GANProgram
    state: object
    step: int


def load_run(run_dir: str | Path, step: int | None = None) -> LoadedRun:
    """Restore a run's newest intact checkpoint (or `step`) with the config saved in it."""
    prepare = _program_cache(lambda _, saved: config_lib.resolve(saved), False)
    r = RunDir(run_dir).restore_newest(prepare, step, _check_restored_step)
    return LoadedRun(r.program.cfg, r.program.data, r.program, r.state, r.step)
