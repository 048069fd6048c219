"""`gancli runs`: the run directories under a directory, each as one line. Reads only:
no lock is taken and nothing is written (a running writer is seen through its lock)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from gancli import config_io
from gancli.config import ConfigError
from gancli.run.rundir import RunDir, read_jsonl

MAX_DEPTH = 3  # runs/NAME, reports/DATASET/LOSS, reports/DATASET/tuned/LOSS
KEY_METRICS = ("modes", "w1", "fd", "classes")  # those shown, when a run has them


def is_run(path: Path) -> bool:
    return (path / "config.toml").is_file()


def find_runs(root: str | Path) -> list[Path]:
    """`root` if it is a run directory, else the run directories below it, by name."""
    root = Path(root)
    if is_run(root):
        return [root]
    found: list[Path] = []

    def walk(d: Path, depth: int) -> None:
        try:
            children = sorted(p for p in d.iterdir() if p.is_dir())
        except OSError:
            return
        for p in children:
            if is_run(p):
                found.append(p)
            elif depth < MAX_DEPTH:
                walk(p, depth + 1)

    walk(root, 1)
    return found


def _latest_scores(rd: RunDir) -> tuple[int | None, dict[str, float]]:
    """The step of the last evaluation and each key metric's mean over its replicas."""
    rows = read_jsonl(rd.eval_log)
    if not rows:
        return None, {}
    step = max(r["step"] for r in rows)
    last = [r for r in rows if r["step"] == step]
    means = {}
    for name in KEY_METRICS:
        v = [r[name] for r in last if isinstance(r.get(name), int | float)]
        v = [x for x in v if math.isfinite(x)]
        if v:
            means[name] = float(np.mean(v))
    return step, means


def describe(path: str | Path) -> dict:
    """One run: what it trains, how far it got, its latest scores, and its status:
    finished, running, stopped at step N, or not started (no checkpoint)."""
    rd = RunDir(path)
    try:
        cfg = config_io.load(rd.config)
    except ConfigError:
        cfg = None
    steps = rd.checkpoint_steps()
    step = steps[-1] if steps else 0
    finished = False
    if rd.summary.exists():
        try:
            finished = cfg is not None and json.loads(rd.summary.read_text())["step"] >= cfg.steps
        except (OSError, ValueError, KeyError, TypeError):
            pass
    if rd.running():
        status = "running"
    elif finished:
        status = "finished"
    elif steps:
        status = f"stopped at step {step}"
    else:
        status = "not started"
    eval_step, scores = _latest_scores(rd)
    return {
        "run_dir": str(rd.path),
        "loss": cfg.loss if cfg else None,
        "dataset": Path(cfg.dataset).name if cfg else None,
        "seeds": cfg.seeds if cfg else None,
        "points": len(cfg.points) if cfg else None,
        "step": step,
        "steps": cfg.steps if cfg else None,
        "eval_step": eval_step,
        "scores": scores,
        "status": status,
    }


def line_fields(run: dict) -> list[str]:
    """A run's columns for the one-line view."""
    if run["loss"] is None:
        return [run["run_dir"], "(unreadable config.toml)", "", "", "", run["status"]]
    seeds = f"{run['seeds']} seed{'s' if run['seeds'] != 1 else ''}"
    if run["points"] > 1:
        seeds = f"{run['points']}x{run['seeds']}"
    scores = " ".join(f"{k} {v:.3g}" for k, v in run["scores"].items())
    return [run["run_dir"], run["loss"], run["dataset"], seeds,
            f"{run['step']}/{run['steps']}", scores, run["status"]]  # fmt: skip


def lines(runs: list[dict]) -> list[str]:
    """Aligned columns, one line per run."""
    rows = [line_fields(r) for r in runs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]  # fmt: skip
