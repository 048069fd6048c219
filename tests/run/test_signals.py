"""A scheduler's SIGTERM: training saves, exits 143 (128 + 15) with one line, and resumes."""

import os
import signal
import subprocess
import sys
import time

from gancli.cli import main
from gancli.run import runner


def test_sigterm_saves_and_exits_143(tmp_path):
    run_dir = tmp_path / "term"
    cmd = [sys.executable, "-m", "gancli", "train", "--seeds", "2", "--steps", "100000",
           "--hidden", "32", "--depth", "2", "--batch-size", "64", "--log-every", "10",
           "--eval-every", "1000", "--checkpoint-every", "1000", "--out", str(run_dir)]  # fmt: skip
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)  # fmt: skip
    metrics = run_dir / "metrics.jsonl"
    deadline = time.time() + 300  # a bound on a hung start-up, not a timing assertion
    while proc.poll() is None and time.time() < deadline:
        if metrics.exists() and len(metrics.read_text().splitlines()) >= 4:
            break
        time.sleep(0.1)
    assert proc.poll() is None, proc.communicate()[1]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 143, err
    assert "SIGTERM: saved step" in err and "--resume" in err and "Traceback" not in err
    saved = runner.load_run(run_dir)  # saved at the step it stopped, not at a checkpoint step
    assert 10 <= saved.step < 100_000
    assert main(["train", "--resume", str(run_dir), "--steps", str(saved.step + 10), "-q"]) == 0
    assert runner.load_run(run_dir).step == saved.step + 10
