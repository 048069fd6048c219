"""The training loop: compiled chunks, and between them logs, evaluation, checkpoints.

Python only works between chunks. A chunk's metrics are read after the next chunk has
been dispatched, so the device never waits for logging. A stop request (Ctrl-C, SIGTERM)
ends the chunk in flight, saves and raises `Interrupted`; a failed write leaves the run
at its newest complete checkpoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import signal
import sys
import time
from pathlib import Path

import numpy as np

from gancli import plots, stopping
from gancli.config import Config
from gancli.core.step import METRIC_NAMES, GANProgram
from gancli.errors import DiskFull, RunDirBusy, RunDirError, is_disk_full, write_error
from gancli.machine.host import is_primary, to_host
from gancli.quality.evaluator import Evaluator
from gancli.run import files
from gancli.run.progress import TrainProgress
from gancli.run.rundir import RunDir
from gancli.run.tensorboard import EventFile
from gancli.stats import finite_or_none, summarize


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


def append_jsonl(path: Path, rows: list[dict]) -> None:
    if is_primary():
        files.append_jsonl(path, rows, default=files.json_default)


def _finite_mean(v) -> float:
    v = np.asarray(v, np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


# ---- the loop -------------------------------------------------------------------------------


def chunk_end(cfg: Config, step: int) -> int:
    """The end of the chunk starting at `step`: the next log, eval, checkpoint or the end."""
    nxt = [(step // n + 1) * n for n in (cfg.log_every, cfg.eval_every, cfg.checkpoint_every)]
    return min([*nxt, cfg.steps])


def run_label(cfg: Config, dataset_name: str) -> str:
    """'nsgan/ring8'; a weakened generator as compare-losses names its run: 'gan-thin/ring8'."""
    loss = cfg.loss if cfg.generator_variant == "default" else f"{cfg.loss}-{cfg.generator_variant}"
    return f"{loss}/{Path(dataset_name).name}"


def run_loop(program: GANProgram, data, state, rd: RunDir, start: int, quiet: bool) -> RunResult:
    """Train from `start` to cfg.steps; a failed write (a full disk) leaves the run as a
    kill would, at its newest complete checkpoint, and raises one line saying so."""
    try:
        return _train_loop(program, data, state, rd, start, quiet)
    except (OSError, RunDirError) as e:
        if isinstance(e, RunDirBusy) or not is_primary():
            raise
        raise _after_write_failure(rd, e) from None


def _after_write_failure(rd: RunDir, e: BaseException) -> RunDirError:
    if not isinstance(e, RunDirError):
        name = Path(e.filename).name if getattr(e, "filename", None) else "the run directory"
        e = write_error(name, e)
    what = str(e)
    error = DiskFull if isinstance(e, DiskFull) or is_disk_full(e) else RunDirError
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
    if start >= cfg.steps:
        return _already_finished(program, data, state, rd, start, quiet)
    run_dir = rd.path
    t_start = time.perf_counter()
    evaluator = Evaluator(program, data)
    data_array = program.put_data(data.array)
    label = run_label(cfg, data.name)
    bar = TrainProgress(label, start, cfg.steps, cfg.num_replicas, quiet)
    replicas, n_rep = cfg.replicas, cfg.num_replicas  # {"seed": s, **swept values} each
    diverged_seen: set[int] = set()
    last: tuple = ()  # (step, samples, scores) of the latest evaluation
    step = start
    pending = None  # (end_step, metrics) of the chunk dispatched last

    def flush(p) -> None:
        """Log a finished chunk's metrics at log steps (every log_every, and the last) and
        report seeds that diverged in it."""
        end, m = p
        m = to_host(m)
        now = round(time.time(), 3)  # wall-clock time, once the chunk's values are in
        div = np.asarray(m["diverged_at"])
        if end % cfg.log_every == 0 or end == cfg.steps:
            rows = []
            for i, label in enumerate(replicas):
                vals = {k: finite_or_none(m[k][i]) for k in METRIC_NAMES}
                rows.append({"step": end, **label, **vals, "diverged": bool(div[i] >= 0),
                             "time": now})  # fmt: skip
            append_jsonl(rd.metrics, rows)
            events.scalars(rows)
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
        judged = evaluator.rejection(state, x)  # logged, not a quality metric
        div = np.asarray(to_host(state.diverged_at))
        now = round(time.time(), 3)
        rows = []
        for i, (replica, s) in enumerate(zip(replicas, scores, strict=True)):
            diverged = bool(div[i] >= 0)
            rows.append(
                {
                    "step": at,
                    **replica,
                    "diverged": diverged,
                    **{k: finite_or_none(v) for k, v in (s | judged[i]).items()},
                    "time": now,
                }
            )
        append_jsonl(rd.eval_log, rows)
        events.scalars(rows)
        last = (at, x, scores)
        if not is_primary():
            return
        png = rd.samples / f"step_{at:07d}.png"
        plots.save_panels(
            png,
            list(x[:, :1000] if data.mixture is not None else x[:, :64]),
            [cfg.replica_name(i) for i in range(n_rep)],
            data.mixture,
            suptitle=f"{label} step {at}",
        )
        events.image("samples", png, at)

    # closing(bar): a failed write stops the progress display before its one line prints
    with (
        rd.checkpointer(keep=cfg.keep) as ck,
        stopping.deferred() as stop,
        contextlib.closing(bar),
        EventFile(run_dir, cfg.swept, start) as events,
    ):
        if start == 0:
            evaluate(0)
        while step < cfg.steps:
            end = chunk_end(cfg, step)
            if step == start:  # compiled apart: a run of one chunk has a speed too
                program.compile_chunk(end - step, state, data_array)
                bar.restart_clock(step)
            state, m = program.run_chunk(end - step)(state, data_array)
            if pending is not None:
                flush(pending)
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
    if not last or last[0] != step:  # e.g. resumed at the final step
        last = (step, *evaluator(state))
    _, x, scores = last
    return finish(rd, cfg, data, step, state, x, scores, wall, bar.rate)


def _already_finished(program: GANProgram, data, state, rd: RunDir, step: int, quiet: bool):
    """Resumed at its last step: nothing trains and no event file is opened; the final
    scores are computed again (eval settings may have changed), the wall time and speed
    stay those its training measured."""
    if not quiet and is_primary():
        print(
            f"{rd.path} is finished at step {step}: nothing to train "
            "(a larger --steps continues it)",
            file=sys.stderr,
            flush=True,
        )
    try:
        before = json.loads(rd.summary.read_text())
    except (OSError, ValueError):  # killed between the last checkpoint and summary.json
        before = {}
    x, scores = Evaluator(program, data)(state)
    wall, rate = before.get("wall_time_s", 0.0), before.get("seed_steps_per_s", 0.0)
    return finish(rd, program.cfg, data, step, state, x, scores, wall, rate)


def replica_summary(cfg: Config, diverged_at, scores: list[dict]) -> dict:
    """Per replica its seed (and swept values), the step it diverged at and its metrics;
    each metric's mean, std and 95% CI over the replicas, and per sweep point over its
    seeds. JSON-ready. `diverged_at`: per replica, -1 if it never diverged."""
    div = np.asarray(diverged_at)
    seeds = [
        {
            **label,
            "diverged_at": int(div[i]) if div[i] >= 0 else None,
            **{k: finite_or_none(v) for k, v in scores[i].items()},
        }
        for i, label in enumerate(cfg.replicas)
    ]
    names = list(scores[0])
    out = {"seeds": seeds, "diverged": int((div >= 0).sum()), **summarize(seeds, names)}
    if cfg.sweep:  # per point: its values, and mean [95% CI] over its seeds
        out["swept"] = cfg.swept
        out["points"] = [
            {**point, **summarize(seeds[p * cfg.seeds : (p + 1) * cfg.seeds], names)}
            for p, point in enumerate(cfg.points)
        ]
    return out


def finish(
    rd: RunDir, cfg: Config, data, step: int, state, x, scores: list[dict], wall: float,
    rate: float,
) -> RunResult:  # fmt: skip
    """summary.json and one PNG of final samples over the data per seed."""
    run_dir = rd.path
    summary = {
        "run_dir": str(run_dir),
        "loss": cfg.loss,
        "dataset": cfg.dataset,
        "step": step,
        **replica_summary(cfg, to_host(state.diverged_at), scores),
        "wall_time_s": round(wall, 3),
        "seed_steps_per_s": round(rate, 1),
    }
    seeds = summary["seeds"]
    if not is_primary():
        return RunResult(run_dir, cfg, step, seeds, summary, wall)
    rd.write_summary(summary)
    # the final samples as arrays, for reports: all 2-D points, 64 images per seed
    rd.write_final_samples(x if data.mixture is not None else x[:, :64])
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
