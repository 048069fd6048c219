"""The kill -9 soak (`make soak`): training killed at random moments, resumed each time,
equal bit for bit to an uninterrupted run."""

import json
import math
import os
import random
import signal
import time
from pathlib import Path

import pytest

from gancli import config_io
from gancli.run import runner
from gancli.run.rundir import RunDir
from tests.conftest import tiny
from tests.run.faults.conftest import _gancli, debris, params_equal, same_logs

# ---- the kill -9 soak ---------------------------------------------------------------------


def logged_step(metrics: Path) -> int:
    """The last step metrics.jsonl shows (0 before any): what the run has reached."""
    steps = [json.loads(line)["step"] for line in metrics.read_text().splitlines()
             if line.endswith("}")] if metrics.exists() else []  # fmt: skip
    return max(steps, default=0)


@pytest.mark.slow
def test_soak_kill_9_at_random_moments_then_resume_is_bit_for_bit(tmp_path):
    """`make soak`: kill training SOAK_KILLS times (default 10), resume each time, and
    compare with an uninterrupted run: parameters and logs bit for bit.

    Kills are scheduled by the steps the run has logged, not by the clock, so a fast
    machine cannot finish the run before the kills are done: each kill waits until this
    start has logged past its step (drawn at random, increasing, below the last step)."""
    kills_wanted = int(os.environ.get("SOAK_KILLS", "10"))
    rng = random.Random(int(os.environ.get("SOAK_SEED", "0")))
    cfg = tmp_path / "soak.toml"
    steps = 2000
    config_io.save(tiny(seeds=2, steps=steps, checkpoint_every=20, eval_every=100), cfg)
    ref, run = tmp_path / "ref", tmp_path / "run"
    p = _gancli("train", "--config", str(cfg), "--out", str(ref), "-q")
    assert p.wait(timeout=900) == 0, p.stderr.read()

    # log_every is 10: a kill after step k lands anywhere in the chunks, logs, evals and
    # saves that follow it
    kill_steps = sorted(rng.sample(range(10, steps - 10, 10), kills_wanted))
    kills, attempts, log = 0, 0, []
    metrics = run / "metrics.jsonl"
    while True:
        attempts += 1
        size0 = metrics.stat().st_size if metrics.exists() else 0
        if RunDir(run).checkpoint_steps():
            p = _gancli("train", "--resume", str(run), "-q")
        else:  # killed before its first checkpoint: start again
            p = _gancli("train", "--config", str(cfg), "--out", str(run), "--force", "-q")
        if kills < kills_wanted:
            # one kill in five during start-up or restore: after a moment, or at once
            # when this start logs its first row; the others once it has logged past
            # the next kill step
            startup = rng.random() < 0.2
            target = 0 if startup else kill_steps[kills]
            where = "start" if startup else f"step>={target}"
            until = time.time() + (rng.uniform(0.0, 2.0) if startup else math.inf)
            lowest = size0
            while p.poll() is None and time.time() < until:
                size = metrics.stat().st_size if metrics.exists() else 0
                lowest = min(lowest, size)  # a resume first cuts the logs back
                if size > lowest and logged_step(metrics) >= target:
                    break
                time.sleep(0.02)
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait(timeout=60)
                kills += 1
                log.append(f"{where}->{RunDir(run).checkpoint_steps()[-1:]}")
                continue
        _, err = p.communicate(timeout=900)
        assert p.returncode == 0, err
        finished = json.loads((run / "summary.json").read_text())["step"] == steps
        if kills >= kills_wanted or finished:
            break
    print(f"soak: {kills} kills in {attempts} starts: {' '.join(log)}")
    assert kills == kills_wanted, log
    assert debris(run) == []
    a, b = runner.load_run(ref), runner.load_run(run)
    assert a.step == b.step == steps
    assert params_equal(a.state, b.state)
    same_logs(ref, run)
