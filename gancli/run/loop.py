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
from gancli.estimates import finite_or_none, summarize
from gancli.machine.host import is_primary, to_host
from gancli.quality.evaluator import Evaluator
from gancli.run import files
from gancli.run.progress import TrainProgress
from gancli.run.rundir import RunDir
from gancli.run.tensorboard import EventFile


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


class Recorder:
    """What happens between chunks, apart from checkpoints: a finished chunk's metrics
    logged (metrics.jsonl, TensorBoard, the progress bar) and its diverged seeds reported;
    evaluations scored, logged and drawn. `last` holds the latest evaluation."""

    def __init__(self, program: GANProgram, data, rd: RunDir, bar: TrainProgress, events):
        self.cfg, self.data, self.rd, self.bar, self.events = program.cfg, data, rd, bar, events
        self.evaluator = Evaluator(program, data)
        self.diverged: set[int] = set()
        self.last: tuple = ()  # (step, samples, scores)

    @property
    def all_diverged(self) -> bool:
        return len(self.diverged) == self.cfg.num_replicas

    def chunk(self, end: int, m) -> None:
        """Log a finished chunk's metrics at log steps (every log_every, and the last) and
        report seeds that diverged in it."""
        cfg, m = self.cfg, to_host(m)
        now = round(time.time(), 3)  # wall-clock time, once the chunk's values are in
        div = np.asarray(m["diverged_at"])
        if end % cfg.log_every == 0 or end == cfg.steps:
            rows = [{"step": end, **label, **{k: finite_or_none(m[k][i]) for k in METRIC_NAMES},
                     "diverged": bool(div[i] >= 0), "time": now}
                    for i, label in enumerate(cfg.replicas)]  # fmt: skip
            append_jsonl(self.rd.metrics, rows)
            self.events.scalars(rows)
        for i in (int(i) for i in np.flatnonzero(div >= 0) if int(i) not in self.diverged):
            self.diverged.add(i)
            left, what = cfg.num_replicas - len(self.diverged), "replicas" if cfg.sweep else "seeds"
            self.bar.note(
                f"{cfg.replica_name(i)} diverged at step {int(div[i])} (non-finite loss or "
                f"parameters): frozen at its last finite state, {left} of {cfg.num_replicas} "
                f"{what} go on"
            )
        self.bar.update(end, _finite_mean(m["d_loss"]), _finite_mean(m["g_loss"]))

    def evaluate(self, at: int, state) -> None:
        cfg, data = self.cfg, self.data
        x, scores = self.evaluator(state)
        judged = self.evaluator.rejection(state, x)  # logged, not a quality metric
        div = np.asarray(to_host(state.diverged_at))
        now = round(time.time(), 3)
        pairs = enumerate(zip(cfg.replicas, scores, strict=True))
        rows = [{"step": at, **replica, "diverged": bool(div[i] >= 0),
                 **{k: finite_or_none(v) for k, v in (s | judged[i]).items()}, "time": now}
                for i, (replica, s) in pairs]  # fmt: skip
        append_jsonl(self.rd.eval_log, rows)
        self.events.scalars(rows)
        self.last = (at, x, scores)
        if not is_primary():
            return
        png = self.rd.samples / f"step_{at:07d}.png"
        plots.save_panels(png, list(x[:, :1000] if data.mixture is not None else x[:, :64]),
                          [cfg.replica_name(i) for i in range(cfg.num_replicas)], data.mixture,
                          suptitle=f"{self.bar.label} step {at}")  # fmt: skip
        self.events.image("samples", png, at)

    def final(self, step: int, state) -> tuple:
        """The evaluation at `step` (made now if the last one was earlier)."""
        if not self.last or self.last[0] != step:  # e.g. resumed at the final step
            self.last = (step, *self.evaluator(state))
        return self.last[1:]


def _stopped(cfg: Config, rd: RunDir, step: int, state, stop, rec: Recorder) -> TrainingStopped:
    if rec.all_diverged:
        first = int(np.asarray(state.diverged_at).min())
        return AllDiverged(f"every seed diverged (first at step {first}); the checkpoints in "
                           f"{rd.path / 'checkpoints'} hold their last finite states")  # fmt: skip
    name = signal.Signals(stop[0]).name
    return Interrupted(stop[0], f"{name}: saved step {step} in {rd.path}; continue with "
                                f"`gancli train --resume {rd.path}`")  # fmt: skip


def _train_loop(program: GANProgram, data, state, rd: RunDir, start: int, quiet: bool):
    """One compiled call per chunk; between chunks the previous chunk's metrics are logged
    (the device is already busy with the next), and at eval, checkpoint or stop points
    everything is brought up to date first."""
    cfg = program.cfg
    if start >= cfg.steps:
        return _already_finished(program, data, state, rd, start, quiet)
    t_start, data_array = time.perf_counter(), program.put_data(data.array)
    bar = TrainProgress(run_label(cfg, data.name), start, cfg.steps, cfg.num_replicas, quiet)
    # closing(bar): a failed write stops the progress display before its one line prints
    with (rd.checkpointer(keep=cfg.keep) as ck, stopping.deferred() as stop,
          contextlib.closing(bar), EventFile(rd.path, cfg.swept, start) as events):  # fmt: skip
        rec, step, pending = Recorder(program, data, rd, bar, events), start, None
        if start == 0:
            rec.evaluate(0, state)
        while step < cfg.steps:
            end = chunk_end(cfg, step)
            if step == start:  # compiled apart: a run of one chunk has a speed too
                program.compile_chunk(end - step, state, data_array)
                bar.restart_clock(step)
            state, m = program.run_chunk(end - step)(state, data_array)
            if pending is not None:
                rec.chunk(*pending)
            pending, step = (end, m), end
            at_eval = step % cfg.eval_every == 0 or step == cfg.steps
            at_ckpt = step % cfg.checkpoint_every == 0 or step == cfg.steps
            if at_eval or at_ckpt or stop or rec.all_diverged:
                rec.chunk(*pending)
                pending = None
                if at_eval:
                    rec.evaluate(step, state)
                if at_ckpt or stop or rec.all_diverged:
                    ck.save(step, state, cfg)
                if stop or rec.all_diverged:
                    ck.wait()
                    bar.close()
                    raise _stopped(cfg, rd, step, state, stop, rec)
        bar.close()
    x, scores = rec.final(step, state)
    return finish(rd, cfg, data, step, state, x, scores, time.perf_counter() - t_start, bar.rate)


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
    # the final samples: all 2-D points, 64 images per seed, and one picture per seed
    pictures = []
    for i, label in enumerate(cfg.replicas):
        name = f"final_seed{label['seed']}.png"
        if cfg.sweep:
            name = f"final_point{i // cfg.seeds}_seed{label['seed']}.png"
        pictures.append((name, x[i], f"{cfg.loss} {cfg.replica_name(i)}, step {step}"))
    rd.write_end(summary, x if data.mixture is not None else x[:, :64], pictures, data.mixture)
    return RunResult(run_dir, cfg, step, seeds, summary, wall)
