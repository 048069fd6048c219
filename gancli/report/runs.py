"""A comparison's runs read back: each run's config, summary, logs and final samples, and
the logs as arrays (which steps every run shares, a metric per seed and step)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gancli.run.rundir import RunDir, read_jsonl


def load_runs(comparison, out: Path) -> dict[str, dict]:
    """Per run name: its loss, weak flag, directory, config, summary, logs and final samples."""
    runs = {}
    for name, loss, weak in comparison.run_names():
        rd = RunDir(out / name)
        runs[name] = {
            "name": name,
            "loss": loss,
            "weak": weak is not None,
            "variant": weak,  # the weakened generator's name, or None
            "dir": rd.path,
            "cfg": rd.saved_config(),
            "summary": json.loads(rd.summary.read_text()),
            "metrics": read_jsonl(rd.metrics),
            "eval": read_jsonl(rd.eval_log),
            "samples": rd.load_final_samples(),
        }
    return runs


def metric_names(runs: dict) -> list[str]:
    first = next(iter(runs.values()))["summary"]["seeds"][0]
    return [k for k in first if k not in ("seed", "diverged_at")]


def budgets(runs: dict) -> list[int]:
    """Evaluation steps after 0 that every run has."""
    common = None
    for run in runs.values():
        steps = {r["step"] for r in run["eval"] if r["step"] > 0}
        common = steps if common is None else common & steps
    return sorted(common or [])


def at_step(run: dict, step: int, key: str) -> list[float]:
    """Per seed (in seed order), the value of `key` in the evaluation at `step` (NaN if none)."""
    return grid(run, key, [step])[:, 0].tolist()


def grid(run: dict, key: str, steps: list[int], source: str = "eval") -> np.ndarray:
    """(seeds, steps) array of `key` from the eval or metrics log; NaN where missing."""
    seeds = [s["seed"] for s in run["summary"]["seeds"]]
    col = {t: i for i, t in enumerate(steps)}
    row = {s: i for i, s in enumerate(seeds)}
    out = np.full((len(seeds), len(steps)), np.nan)
    for r in run[source]:
        if r["step"] in col and r["seed"] in row and r.get(key) is not None:
            out[row[r["seed"]], col[r["step"]]] = r[key]
    return out
