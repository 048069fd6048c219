"""Ctrl-C and SIGTERM from the moment the process starts: one line, exit 128 + signal, no
crash, and a run directory the same command takes over (or none).

The signals are sent at moments the process shows, never after a guessed delay: once its
handlers are installed (/proc/PID/status lists SIGTERM as caught), and once the run
directory holds its config (the first compile follows)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gancli import config_io
from gancli.cli import main
from gancli.run import runner
from gancli.run.rundir import RunDir
from tests.conftest import tiny

TRAIN = ["train", "--seeds", "2", "--steps", "40", "--hidden", "32", "--depth", "2",
         "--batch-size", "64", "--log-every", "10", "--eval-every", "20",
         "--checkpoint-every", "20", "--set", "eval_samples=250", "-q"]  # fmt: skip


def catches(pid: int, signum: int) -> bool:
    """Whether process `pid` has a handler for `signum` (its SigCgt mask)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next(line.split()[1] for line in text.splitlines() if line.startswith("SigCgt:"))
    return bool(int(mask, 16) >> (signum - 1) & 1)


def start(args: list[str], cwd: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gancli", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "JAX_PLATFORMS": "cpu", **env},
    )


def wait_until(cond, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 120  # a hung process, not a timing assertion
    while not cond():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"{what}: exit {proc.poll()}, {proc.communicate()[1]}")
        time.sleep(0.02)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_starting_up_is_one_line_and_leaves_no_directory(tmp_path, signum):
    proc = start(TRAIN, tmp_path)
    wait_until(lambda: catches(proc.pid, signal.SIGTERM), proc, "no handler installed")
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, err
    assert one_line(err).startswith(f"{signal.Signals(signum).name}: stopped")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_sigint_during_the_first_compile_then_the_same_command_starts_again(tmp_path, monkeypatch):
    """Without the compile cache this crashed with a segmentation fault (exit -11)."""
    proc = start(TRAIN, tmp_path, GANCLI_NO_COMPILE_CACHE="1")
    run = tmp_path / "runs" / "nsgan-ring8"
    wait_until(lambda: (run / "env.json").exists(), proc, "no run directory")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    line = one_line(err)
    monkeypatch.chdir(tmp_path)
    if "before the first checkpoint" in line:  # the usual moment: compiling
        assert line == f"SIGINT: stopped before the first checkpoint; the same command " \
                       f"starts again in {Path('runs/nsgan-ring8')}"  # fmt: skip
        assert main(TRAIN) == 0  # taken over: no --force, no new directory
        assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["nsgan-ring8"]
    else:  # the signal came after the first chunk: saved, and resumable
        assert line.startswith("SIGINT: saved step") and "--resume" in line
        assert main(["train", "--resume", str(run), "-q"]) == 0
    assert runner.load_run(run).step == 40


def test_a_run_that_never_reached_a_checkpoint_is_taken_over_by_the_same_experiment(tmp_path):
    cfg = tiny(steps=20)
    rd = RunDir(tmp_path / "run")
    rd.path.mkdir()
    config_io.save(cfg, rd.config)
    (rd.path / "env.json").write_text("{}")
    (rd.path / "eval.jsonl").write_text("")
    assert rd.never_started(cfg)
    assert not rd.never_started(cfg.replace(seed=1))  # another experiment's: refused
    (rd.path / "notes.txt").write_text("mine")
    assert not rd.never_started(cfg)  # a file a run does not write: refused
    (rd.path / "notes.txt").unlink()
    assert runner.train(cfg, rd.path, quiet=True).step == 20
    assert not rd.never_started(cfg)  # it has checkpoints now
