"""`gancli bench --sweep`: one sweep process against one process per point, whole process.

The same work both ways: P hyper-parameter points x S seeds x N steps of the same model.
The sweep is one `gancli train` with list-valued flags (one compile, one process, wider
matmuls); the baseline is P `gancli train` processes in turn, one point each. Both are
timed from outside, as a user waits for them, start-up and compilation included, with
gancli's persistent compilation cache on (as a user has it) but empty at the start: the
sweep compiles once; the first single-point process compiles and the other 15 load its
program from the cache (hyper-parameters are data, so every point is the same program).
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gancli.run.rundir import RunDir

LR_G = (5e-5, 1e-4, 2e-4, 4e-4)
LR_D = (5e-5, 1e-4, 2e-4, 4e-4)  # 4 x 4 = 16 points


# The default MLP of `gancli train`, and a narrow one whose steps are dispatch-bound on CPU.
MODELS = {
    "default": dict(hidden=128, depth=3, batch=256),
    "narrow": dict(hidden=64, depth=3, batch=64),
}


def _train_cmd(out: Path, steps: int, seeds: int, lr_g: str, lr_d: str, model: dict) -> list[str]:
    return [
        sys.executable, "-m", "gancli", "train", "--loss", "nsgan", "--dataset", "ring8",
        "--hidden", str(model["hidden"]), "--depth", str(model["depth"]),
        "--batch-size", str(model["batch"]),
        "--seeds", str(seeds), "--steps", str(steps), "--lr-g", lr_g, "--lr-d", lr_d,
        "--eval-every", str(steps), "--log-every", str(min(100, steps)),
        "--checkpoint-every", str(steps), "--out", str(out), "--force", "--quiet",
    ]  # fmt: skip


def _run(cmd: list[str], cache: Path) -> float:
    t0 = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "GANCLI_NO_COMPILE_CACHE"}
    env["GANCLI_CACHE"] = str(cache)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - t0


def _children_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _split(out: Path, process_s: float, replicas: int, steps: int) -> dict:
    """One process's wall time in three parts, from its summary.json: training (its
    replica-steps at the rate train measured after compiling), the rest of train's loop
    (compiling or loading the program, evaluating, checkpointing, the final pictures),
    and start-up (Python, JAX and gancli imported, data and program built: the process's
    wall time before the loop)."""
    summary = json.loads(RunDir(out).summary.read_text())
    loop_s, rate = summary["wall_time_s"], summary["seed_steps_per_s"]
    train_s = replicas * steps / rate if rate > 0 else 0.0
    return {"startup_s": process_s - loop_s, "compile_eval_s": loop_s - train_s,
            "train_s": train_s}  # fmt: skip


def _add(a: dict, b: dict) -> dict:
    return {k: a.get(k, 0.0) + v for k, v in b.items()}


def run_sweep_bench(steps: int = 1000, seeds: int = 2, log=print, model: str = "default") -> dict:
    """Wall time of the 16-point sweep, of 16 single-point processes, and the ratio, with
    each side's time split into start-up, compile + evaluation, and training."""
    shape = MODELS[model]
    points = list(itertools.product(LR_G, LR_D))
    with tempfile.TemporaryDirectory(prefix="gancli-bench-sweep-") as tmp:
        tmp = Path(tmp)
        lr_g = ",".join(map(str, LR_G))
        lr_d = ",".join(map(str, LR_D))
        log(f"sweep: 1 process, {len(points)} points x {seeds} seeds x {steps} steps")
        sweep_s = _run(_train_cmd(tmp / "sweep", steps, seeds, lr_g, lr_d, shape), tmp / "cache")
        sweep_peak = _children_peak_mib()  # the only child so far
        sweep_split = _split(tmp / "sweep", sweep_s, len(points) * seeds, steps)
        log(f"  {sweep_s:.1f} s, peak RSS {sweep_peak:.0f} MiB")
        log(f"separate: {len(points)} processes, 1 point x {seeds} seeds x {steps} steps each")
        single_s, single_split = 0.0, {}
        for i, (g, d) in enumerate(points):
            out = tmp / f"p{i}"
            took = _run(_train_cmd(out, steps, seeds, str(g), str(d), shape), tmp / "cache")
            single_s += took
            single_split = _add(single_split, _split(out, took, seeds, steps))
        log(f"  {single_s:.1f} s")
    # The most a sweep could reach against these processes: its training alone, with no
    # start-up, compilation or evaluation of its own.
    ceiling = single_s / sweep_split["train_s"] if sweep_split["train_s"] > 0 else 0.0
    return {
        "points": len(points),
        "seeds": seeds,
        "steps": steps,
        "sweep_wall_s": round(sweep_s, 2),
        "sweep_peak_rss_mib": round(sweep_peak, 1),
        "separate_wall_s": round(single_s, 2),
        "speedup": round(single_s / sweep_s, 2),
        "sweep_split_s": {k: round(v, 2) for k, v in sweep_split.items()},
        "separate_split_s": {k: round(v, 2) for k, v in single_split.items()},
        "speedup_ceiling": round(ceiling, 2),
        "model": f"nsgan MLP {shape['hidden']}x{shape['depth']}, batch {shape['batch']}, ring8",
    }
