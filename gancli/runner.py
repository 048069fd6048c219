"""The host loop around the compiled core: run directory, logs, evaluation, checkpoints.

Python only works between chunks. A chunk's metrics are read after the next chunk has
been dispatched, so the device never waits for logging.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import signal
import sys
import time
from pathlib import Path

import jax
import numpy as np

from gancli import config as config_lib
from gancli import data as data_lib
from gancli import memory, plots, rundir
from gancli.checkpoint import CheckpointError
from gancli.config import Config, ConfigError
from gancli.core.host import environment, is_primary, to_host
from gancli.core.step import METRIC_NAMES, GANProgram
from gancli.progress import TrainProgress
from gancli.quality.evaluator import Evaluator
from gancli.quality.mixture import mean_std
from gancli.rundir import DiskFull, RunDir, RunDirBusy, RunDirError
from gancli.stats import mean_ci

# Settings a resumed run may change: they do not alter the computation.
RESUMABLE = {"steps", "log_every", "eval_every", "eval_samples", "checkpoint_every", "keep"}


class TrainingStopped(Exception):
    """Training ended early; `exit_code` says how, the message says what to do."""

    exit_code = 1


class Interrupted(TrainingStopped):
    def __init__(self, signum: int, message: str):
        super().__init__(message)
        self.exit_code = 128 + signum


class AllDiverged(TrainingStopped):
    exit_code = 1


@dataclasses.dataclass
class RunResult:
    run_dir: Path
    cfg: Config
    step: int
    seeds: list[dict]  # per seed: seed, diverged_at, final metrics
    summary: dict
    wall_time_s: float


# ---- run directory ------------------------------------------------------------------------


def append_jsonl(path: Path, rows: list[dict]) -> None:
    if is_primary():
        rundir.append_jsonl(path, rows, default=_json_default)


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(type(o).__name__)


def _finite_or_none(v):
    """JSON-ready: ints stay ints, non-finite floats become None (JSON has no NaN)."""
    if isinstance(v, int | np.integer) and not isinstance(v, bool):
        return int(v)
    v = float(v)
    return v if math.isfinite(v) else None


def _finite_mean(v) -> float:
    v = np.asarray(v, np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


# The readers and the truncation live with the run directory; kept here for old imports.
read_jsonl = rundir.read_jsonl
truncate_jsonl = rundir.truncate_jsonl


def _save_config(rd: RunDir, cfg: Config) -> None:
    with rundir.atomic_path(rd.config) as tmp:
        config_lib.save(cfg, tmp)


@contextlib.contextmanager
def _writer(rd: RunDir):
    """The writer's lock on the primary process (the only one that writes files)."""
    if not is_primary():
        yield
        return
    with rd.lock():
        yield


# ---- signals ------------------------------------------------------------------------------


@contextlib.contextmanager
def stop_requests():
    """Turn SIGINT/SIGTERM into a flag checked between chunks (the chunk in flight ends)."""
    caught: list[int] = []

    def handler(signum, frame):
        if caught:  # a second Ctrl-C: the user really wants out
            raise KeyboardInterrupt
        caught.append(signum)

    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for s in old:
            signal.signal(s, handler)
    except ValueError:  # not the main thread: no handlers, no graceful stop
        old = {}
    try:
        yield caught
    finally:
        for s, h in old.items():
            signal.signal(s, h)


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
    """A fresh run in `out`. `program`/`state` let tests and benchmarks inject their own."""
    cfg = config_lib.resolve(cfg)
    data = data_lib.load(cfg.dataset, cfg.image_size)
    program = program or GANProgram.build(cfg, data)
    memory.check_fits(program)  # before the run directory or any array exists
    rd = RunDir(out)
    if is_primary():
        rd.check_new(force)  # a refused --out gets no lock file
    with _writer(rd):
        if is_primary():
            rd.check_new(force, locked=True)  # again, now that no one else can write it
            rd.clear()
            _save_config(rd, cfg)
            rundir.write_json(rd.env, environment())
        state = state if state is not None else program.init()
        return _loop(program, data, state, rd, start=0, quiet=quiet)


def check_resume_overrides(saved: Config, overrides: dict) -> Config:
    conflicts = [
        f"{k.replace('_', '-')} {getattr(saved, k)!r} -> {v!r}"
        for k, v in overrides.items()
        if k not in RESUMABLE and v is not None and v != getattr(saved, k)
    ]
    if conflicts:
        raise ConfigError(
            "cannot resume with a different experiment ("
            + "; ".join(conflicts)
            + "): only "
            + ", ".join(sorted(k.replace("_", "-") for k in RESUMABLE))
            + " may change"
        )
    return config_lib.resolve(
        saved.replace(**{k: v for k, v in overrides.items() if k in RESUMABLE and v is not None})
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
    if not rd.path.is_dir():
        raise CheckpointError(f"run directory {rd.path} does not exist", exit_code=2)

    def make_cfg(at: int, saved: Config) -> Config:
        cfg = check_resume_overrides(saved, overrides or {})
        if cfg.steps < at:
            raise ConfigError(f"--steps {cfg.steps} is below the checkpoint's step {at}")
        return cfg

    with _writer(rd):
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
        return _loop(program, program.data, r.state, rd, start=r.step, quiet=quiet)


def chunk_end(cfg: Config, step: int) -> int:
    """The end of the chunk starting at `step`: the next log, eval, checkpoint or the end."""
    nxt = [(step // n + 1) * n for n in (cfg.log_every, cfg.eval_every, cfg.checkpoint_every)]
    return min([*nxt, cfg.steps])


def _loop(program: GANProgram, data, state, rd: RunDir, start: int, quiet: bool) -> RunResult:
    """Train from `start` to cfg.steps; a failed write (a full disk) leaves the run as a
    kill would, at its newest complete checkpoint, and raises one line saying so."""
    try:
        return _train_loop(program, data, state, rd, start, quiet)
    except (OSError, RunDirError) as e:
        if isinstance(e, RunDirBusy) or not is_primary():
            raise
        raise _after_write_failure(rd, e) from None


def _after_write_failure(rd: RunDir, e: BaseException) -> RunDirError:
    if isinstance(e, RunDirError):
        what = str(e)
    else:
        name = Path(e.filename).name if getattr(e, "filename", None) else "the run directory"
        full = rundir.is_disk_full(e)
        what = f"disk full writing {name}" if full else f"cannot write {name}: {e.strerror}"
    error = DiskFull if isinstance(e, DiskFull) or rundir.is_disk_full(e) else RunDirError
    rd.remove_debris(settle_s=0.5)
    kept = rd.checkpoint_steps()
    try:
        rd.cut_logs(kept[-1] if kept else 0)
    except OSError:
        pass
    if not kept:
        return error(f"{what}; no checkpoint was completed")
    return error(
        f"{what}; the run is intact at checkpoint step {kept[-1]} (logs cut back to it): "
        f"continue with `gancli train --resume {rd}`"
    )


def _train_loop(program: GANProgram, data, state, rd: RunDir, start: int, quiet: bool):
    cfg = program.cfg
    run_dir = rd.path
    t_start = time.perf_counter()
    evaluator = Evaluator(program, data)
    data_array = program.put_data(data.array)
    label = f"{cfg.loss}/{Path(data.name).name}"
    bar = TrainProgress(label, start, cfg.steps, cfg.num_replicas, quiet)
    replicas, n_rep = cfg.replicas, cfg.num_replicas  # {"seed": s, **swept values} each
    diverged_seen: set[int] = set()
    last: tuple = ()  # (samples, eval rows) of the latest evaluation
    step = start
    pending = None  # (end_step, metrics) of the chunk dispatched last

    def flush(p) -> None:
        """Log a finished chunk's metrics and report seeds that diverged in it."""
        end, m = p
        m = to_host(m)
        div = np.asarray(m["diverged_at"])
        rows = []
        for i, label in enumerate(replicas):
            vals = {k: _finite_or_none(m[k][i]) for k in METRIC_NAMES}
            rows.append({"step": end, **label, **vals, "diverged": bool(div[i] >= 0)})
        append_jsonl(rd.metrics, rows)
        for i in np.flatnonzero(div >= 0):
            if int(i) not in diverged_seen:
                diverged_seen.add(int(i))
                what = "replicas" if cfg.sweep else "seeds"
                bar.note(
                    f"{cfg.replica_name(int(i))} diverged at step {int(div[i])} (non-finite loss "
                    f"or parameters): frozen at its last finite state, "
                    f"{n_rep - len(diverged_seen)} of {n_rep} {what} go on"
                )
        bar.update(end, _finite_mean(m["d_loss"]), _finite_mean(m["g_loss"]))

    def evaluate(at: int) -> None:
        nonlocal last
        x, scores = evaluator(state)
        div = np.asarray(to_host(state.diverged_at))
        rows = []
        for i, (label, s) in enumerate(zip(replicas, scores, strict=True)):
            diverged = bool(div[i] >= 0)
            rows.append(
                {
                    "step": at,
                    **label,
                    "diverged": diverged,
                    **{k: _finite_or_none(v) for k, v in s.items()},
                }
            )
        append_jsonl(rd.eval_log, rows)
        last = (x, rows)
        if not is_primary():
            return
        plots.save_panels(
            rd.samples / f"step_{at:07d}.png",
            list(x[:, :1000] if data.mixture is not None else x[:, :64]),
            [cfg.replica_name(i) for i in range(n_rep)],
            data.mixture,
            suptitle=f"{label} step {at}",
        )

    # closing(bar): a failed write stops the progress display before its one line prints
    with rd.checkpointer(keep=cfg.keep) as ck, stop_requests() as stop, contextlib.closing(bar):
        if start == 0:
            evaluate(0)
        compiled_at = None
        while step < cfg.steps:
            end = chunk_end(cfg, step)
            state, m = program.run_chunk(end - step)(state, data_array)
            if pending is not None:
                flush(pending)
            elif compiled_at is None:
                jax.block_until_ready(m)  # the first chunk includes compilation
                compiled_at = end
                bar.restart_clock(end)
            pending, step = (end, m), end
            at_eval = step % cfg.eval_every == 0 or step == cfg.steps
            at_ckpt = step % cfg.checkpoint_every == 0 or step == cfg.steps
            all_diverged = len(diverged_seen) == n_rep
            if at_eval or at_ckpt or stop or all_diverged:
                flush(pending)
                pending = None
                all_diverged = len(diverged_seen) == n_rep
                if at_eval:
                    evaluate(step)
                if at_ckpt or stop or all_diverged:
                    ck.save(step, state, cfg)
                if all_diverged:
                    ck.wait()
                    bar.close()
                    first = int(np.asarray(state.diverged_at).min())
                    raise AllDiverged(
                        f"every seed diverged (first at step {first}); the checkpoints in "
                        f"{run_dir / 'checkpoints'} hold their last finite states"
                    )
                if stop:
                    ck.wait()
                    bar.close()
                    name = signal.Signals(stop[0]).name
                    raise Interrupted(
                        stop[0],
                        f"{name}: saved step {step} in {run_dir}; continue with "
                        f"`gancli train --resume {run_dir}`",
                    )
        bar.close()
    wall = time.perf_counter() - t_start
    if not last or last[1][0]["step"] != step:  # e.g. resumed at the final step
        x, scores = evaluator(state)
        last = (
            x,
            [{"step": step, **label, **s} for label, s in zip(replicas, scores, strict=True)],
        )
    return finish(rd, cfg, data, step, state, last, wall, bar.rate)


def _mean_and_ci(rows: list[dict], names: list[str]) -> dict:
    cis = {k: mean_ci([r[k] for r in rows]) for k in names}
    return {
        "mean": {k: _finite_or_none(c.mean) for k, c in cis.items()},
        "ci95": {k: [_finite_or_none(c.lo), _finite_or_none(c.hi)] for k, c in cis.items()},
    }


def finish(
    rd: RunDir, cfg: Config, data, step: int, state, last: tuple, wall: float, rate: float
) -> RunResult:
    """summary.json and one PNG of final samples over the data per seed."""
    run_dir = rd.path
    x, last_eval = last
    div = np.asarray(to_host(state.diverged_at))
    seeds = []  # one row per replica: its seed (and swept values), then its final metrics
    labels = ("step", "diverged", "seed", *cfg.swept)
    for i, label in enumerate(cfg.replicas):
        ev = {k: v for k, v in last_eval[i].items() if k not in labels}
        seeds.append({**label, "diverged_at": int(div[i]) if div[i] >= 0 else None, **ev})
    names = [k for k in seeds[0] if k not in ("diverged_at", *labels)]
    stats = {k: mean_std([s[k] for s in seeds]) for k in names}
    cis = {k: mean_ci([s[k] for s in seeds]) for k in names}
    summary = {
        "run_dir": str(run_dir),
        "loss": cfg.loss,
        "dataset": cfg.dataset,
        "step": step,
        "seeds": seeds,
        "diverged": sum(s["diverged_at"] is not None for s in seeds),
        "mean": {k: _finite_or_none(m) for k, (m, _) in stats.items()},
        "std": {k: _finite_or_none(sd) for k, (_, sd) in stats.items()},  # ddof=1
        "ci95": {k: [_finite_or_none(c.lo), _finite_or_none(c.hi)] for k, c in cis.items()},
        "wall_time_s": round(wall, 3),
        "seed_steps_per_s": round(rate, 1),
    }
    if cfg.sweep:  # per point: its values, and mean [95% CI] over its seeds
        summary["swept"] = cfg.swept
        summary["points"] = [
            {**point, **_mean_and_ci(seeds[p * cfg.seeds : (p + 1) * cfg.seeds], names)}
            for p, point in enumerate(cfg.points)
        ]
    if not is_primary():
        return RunResult(run_dir, cfg, step, seeds, summary, wall)
    rundir.write_json(rd.summary, summary)
    # the final samples as arrays, for reports: all 2-D points, 64 images per seed
    rd.samples.mkdir(exist_ok=True)
    with rundir.atomic_path(rd.samples / "final.npy") as tmp:
        np.save(tmp, x if data.mixture is not None else x[:, :64])
    for i, label in enumerate(cfg.replicas):
        name = f"final_seed{label['seed']}.png"
        if cfg.sweep:
            name = f"final_point{i // cfg.seeds}_seed{label['seed']}.png"
        plots.save_panels(
            rd.samples / name,
            [x[i]],
            [f"{cfg.loss} {cfg.replica_name(i)}, step {step}"],
            data.mixture,
        )
    return RunResult(run_dir, cfg, step, seeds, summary, wall)


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
