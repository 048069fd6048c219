"""Checkpoints, exact resume, interruption, damaged files, sample and eval."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

from gancli.cli import main
from gancli.core import step as step_lib
from gancli.run import runner, sampling
from gancli.run.checkpoint import CheckpointError
from tests.conftest import log_rows, tiny


def params_equal(a, b) -> bool:
    return all(
        np.array_equal(np.asarray(x), np.asarray(y))
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    )


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """A 2-seed run of 80 steps, checkpoints every 20."""
    out = tmp_path_factory.mktemp("runs") / "straight"
    runner.train(tiny(seeds=2, steps=80), out, quiet=True)
    return out


def test_resume_is_bit_for_bit(straight, tmp_path):
    half = tmp_path / "half"
    runner.train(tiny(seeds=2, steps=40), half, quiet=True)
    compiled = [f._cache_size() for f in (step_lib.chunk, step_lib.sample)]
    runner.resume(half, {"steps": 80}, quiet=True)
    # The restored state sits where a fresh one does, so the resume ran the compiled
    # programs (a committed restored state against an uncommitted fresh one recompiled).
    assert [f._cache_size() for f in (step_lib.chunk, step_lib.sample)] == compiled
    a, b = runner.load_run(straight), runner.load_run(half)
    assert a.step == b.step == 80
    assert params_equal(a.state, b.state)
    for name in ("metrics.jsonl", "eval.jsonl"):
        assert log_rows(straight / name) == log_rows(half / name), name


def test_resume_refuses_a_different_experiment(straight, capsys):
    for flag, value in [("--loss", "wgan"), ("--seeds", "3"), ("--hidden", "64")]:
        code = main(["train", "--resume", str(straight), flag, value])
        err = capsys.readouterr().err
        assert code == 2 and "cannot resume with a different experiment" in err, err


def test_keep_newest_checkpoints(straight):
    assert sorted(
        int(p.name) for p in (straight / "checkpoints").iterdir() if p.name.isdigit()
    ) == [40, 60, 80]


def test_damaged_checkpoint_is_skipped_for_the_newest_intact_one(straight, tmp_path, capsys):
    run = tmp_path / "damaged"
    shutil.copytree(straight, run)
    state_dir = run / "checkpoints" / "80" / "state"
    for f in state_dir.rglob("*"):
        if f.is_file() and f.stat().st_size > 0 and "metadata" not in f.name:
            f.write_bytes(b"\0garbage")
    # named explicitly, a damaged checkpoint is an error that points to older ones
    with pytest.raises(CheckpointError, match="step 80 .* cannot be restored.*older checkpoints"):
        runner.load_run(run, step=80)
    code = main(["eval", str(run), "--step", "80"])
    err = capsys.readouterr().err
    assert code == 1 and "cannot be restored" in err and len(err.strip().splitlines()) == 1
    # by default the newest intact one is used, with one warning naming the step skipped
    assert main(["eval", str(run), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["step"] == 60
    assert err.startswith("warning: skipping damaged checkpoint step 80") and "using step 60" in err
    assert len(err.strip().splitlines()) == 1, err
    older = runner.load_run(run, step=60)
    assert older.step == 60 and int(np.asarray(older.state.step)[0]) == 60
    # and training continues from the older one
    code = main(["train", "--resume", str(run), "--from-step", "60", "--steps", "80", "--quiet"])
    assert code == 0


def test_sample_is_deterministic_with_documented_shapes(straight, tmp_path):
    _, x = sampling.draw(straight, 50, seed_index=1)
    _, y = sampling.draw(straight, 50, seed_index=1)
    assert x.shape == (50, 2) and np.array_equal(x, y)
    _, both = sampling.draw(straight, 50, all_seeds=True)
    assert both.shape == (2, 50, 2) and np.array_equal(both[1], x)
    assert not np.array_equal(both[0], both[1])
    paths = sampling.sample_to_files(straight, 30, tmp_path / "s.png", step=60, all_seeds=True)
    assert [p.name for p in paths] == ["s.png", "s.npy"]
    assert np.load(tmp_path / "s.npy").shape == (2, 30, 2)
    assert (tmp_path / "s.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "argv, code, message",
    [
        (["sample", "{run}", "--seed-index", "2"], 2, "out of range: this run has 2 seeds"),
        (["sample", "{run}", "--step", "30"], 2, "no checkpoint at step 30"),
        (["sample", "{run}", "--out", "{tmp}/nodir/x.png"], 2, "does not exist"),
        (["sample", "{tmp}/nothing"], 2, "does not exist"),
        (["eval", "{tmp}"], 2, "no checkpoints in"),
        (["train", "--resume", "{tmp}"], 2, "no checkpoints in"),
    ],
)
def test_sample_and_eval_errors(straight, tmp_path, capsys, argv, code, message):
    argv = [a.format(run=straight, tmp=tmp_path) for a in argv]

    def files():  # the writer's lock file stays in a directory once locked, as in every run
        paths = [*tmp_path.rglob("*"), *straight.rglob("*")]
        return sorted(p for p in paths if p.name != ".gancli.lock")

    before = files()
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert files() == before  # a refused command writes nothing, creates no directory


def test_eval_json_matches_the_final_evaluation(straight, capsys):
    assert main(["eval", str(straight), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    summary = json.loads((straight / "summary.json").read_text())
    assert result["step"] == 80
    for a, b in zip(result["seeds"], summary["seeds"], strict=True):
        assert a["modes"] == b["modes"] and a["w1"] == pytest.approx(b["w1"])


def _train_subprocess(run_dir: Path, steps: int, every: int = 1000) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gancli", "train", "--seeds", "2", "--steps", str(steps),
           "--hidden", "32", "--depth", "2", "--batch-size", "64", "--log-every", "10",
           "--eval-every", "1000", "--checkpoint-every", str(every),
           "--out", str(run_dir)]  # fmt: skip
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_for_progress(run_dir: Path, proc: subprocess.Popen, lines: int = 4) -> None:
    deadline = time.time() + 120
    metrics = run_dir / "metrics.jsonl"
    while time.time() < deadline and proc.poll() is None:
        if metrics.exists() and len(metrics.read_text().splitlines()) >= lines:
            return
        time.sleep(0.2)
    raise AssertionError(f"no training progress: {proc.poll()} {proc.stderr.read()}")


def test_sigint_saves_and_resume_finishes(tmp_path):
    run_dir = tmp_path / "int"
    proc = _train_subprocess(run_dir, 100_000)
    _wait_for_progress(run_dir, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "SIGINT: saved step" in err and "--resume" in err and "Traceback" not in err
    saved = runner.load_run(run_dir)
    assert 0 < saved.step < 100_000
    assert main(["train", "--resume", str(run_dir), "--steps", str(saved.step + 20), "-q"]) == 0
    assert runner.load_run(run_dir).step == saved.step + 20


def test_kill_9_leaves_the_newest_complete_checkpoint(tmp_path):
    run_dir = tmp_path / "killed"
    proc = _train_subprocess(run_dir, 100_000, every=10)  # saves all the time
    ckpts = run_dir / "checkpoints"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if ckpts.is_dir() and len([p for p in ckpts.iterdir() if p.name.isdigit()]) >= 2:
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    saved = runner.load_run(run_dir)  # the newest complete checkpoint, never a partial one
    assert saved.step >= 10 and saved.step % 10 == 0
    assert main(["train", "--resume", str(run_dir), "--steps", str(saved.step + 10), "-q"]) == 0
    assert runner.load_run(run_dir).step == saved.step + 10
