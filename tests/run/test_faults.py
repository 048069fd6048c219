"""Faults a shared cluster produces: each ends in one line, a non-zero exit, no debris,
and every complete checkpoint and log row still usable (README: Faults)."""

import errno
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from gancli import config as config_lib
from gancli import data as data_lib
from gancli.cli import main
from gancli.core.step import GANProgram
from gancli.errors import DiskFull, RunDirBusy
from gancli.run import files, memory, rundir, runner, sampling
from gancli.run.checkpoint import CheckpointError
from gancli.run.rundir import RunDir
from tests.conftest import log_rows, tiny


def params_equal(a, b) -> bool:
    return all(
        np.array_equal(np.asarray(x), np.asarray(y))
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    )


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def debris(run: Path) -> list[Path]:
    return [p for p in run.rglob("*") if "tmp" in p.name]


def steps_in(path: Path) -> list[int]:
    return [json.loads(line)["step"] for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def cfg_file(tmp_path_factory):
    """The tiny 2-seed experiment as a file, so CLI runs equal runner runs bit for bit."""
    path = tmp_path_factory.mktemp("cfg") / "tiny.toml"
    config_lib.save(tiny(seeds=2, steps=60), path)
    return path


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """60 steps straight; checkpoints at 20, 40, 60."""
    out = tmp_path_factory.mktemp("runs") / "straight"
    runner.train(tiny(seeds=2, steps=60), out, quiet=True)
    return out


def same_logs(a: Path, b: Path) -> None:
    for name in ("metrics.jsonl", "eval.jsonl"):
        assert log_rows(a / name) == log_rows(b / name), name


# ---- 1. a damaged newest checkpoint -------------------------------------------------------


def damage(step_dir: Path, seed: int = 0) -> None:
    """Overwrite every file of a checkpoint with a few random bytes."""
    rng = random.Random(seed)
    for f in step_dir.rglob("*"):
        if f.is_file():
            f.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(3, 12))))


def test_damaged_newest_checkpoint_falls_back_in_sample_eval_and_resume(straight, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(straight, run)
    damage(run / "checkpoints" / "60")
    warning = f"warning: skipping damaged checkpoint step 60 in {run} ("

    assert main(["sample", str(run), "--out", str(tmp_path / "s.png")]) == 0
    line = one_line(capsys.readouterr().err)
    assert line.startswith(warning) and line.endswith("using step 40"), line

    assert main(["eval", str(run), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["step"] == 40 and one_line(err).startswith(warning)

    # resume: from 40, the damaged 60 replaced, logs after 40 redone exactly once
    assert max(steps_in(run / "metrics.jsonl")) == 60
    assert main(["train", "--resume", str(run), "-q"]) == 0
    assert one_line(capsys.readouterr().err).startswith(warning)
    assert params_equal(runner.load_run(run).state, runner.load_run(straight).state)
    same_logs(run, straight)


def test_no_intact_checkpoint_is_one_line_and_exit_1(straight, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(straight, run)
    for step in (20, 40, 60):
        damage(run / "checkpoints" / str(step), seed=step)
    before = (run / "metrics.jsonl").read_text()
    for argv in (["sample", str(run), "--out", str(tmp_path / "s.png")], ["eval", str(run)],
                 ["train", "--resume", str(run), "-q"]):  # fmt: skip
        assert main(argv) == 1, argv
        line = one_line(capsys.readouterr().err)
        assert line.startswith(f"error: no intact checkpoint in {run}: steps [20, 40, 60]"), line
    assert not list(tmp_path.glob("s.*"))
    assert (run / "metrics.jsonl").read_text() == before  # nothing to resume: logs untouched


def test_checkpoint_with_valid_files_but_the_wrong_state_is_skipped(straight, tmp_path, capsys):
    """Checkpoint 60's directory holding step 40's files: it restores, but is not step 60."""
    run = tmp_path / "run"
    shutil.copytree(straight, run)
    shutil.rmtree(run / "checkpoints" / "60")
    shutil.copytree(run / "checkpoints" / "40", run / "checkpoints" / "60")
    loaded = runner.load_run(run)
    assert loaded.step == 40
    assert "its state is at step [40], not 60" in capsys.readouterr().err


# ---- 2. a full disk -----------------------------------------------------------------------


ENOSPC_TEXT = (
    'RESOURCE_EXHAUSTED: Error writing local file "x/_sharding": Failed to write 5707 bytes '
    "to file 7: No space left on device [os_error_code='28']"
)


@pytest.fixture
def disk_full_at(monkeypatch):
    """Make Orbax's background write of checkpoint `step` fail as a full disk does: a
    half-written temporary directory stays and the error surfaces at the next wait."""
    failing = {"step": None, "armed": False}
    real_save = ocp.CheckpointManager.save
    real_wait = ocp.CheckpointManager.wait_until_finished

    def save(self, step, *args, **kwargs):
        if step != failing["step"]:
            return real_save(self, step, *args, **kwargs)
        tmp = Path(self.directory) / f"{step}.orbax-checkpoint-tmp" / "state"
        tmp.mkdir(parents=True)
        (tmp / "manifest.ocdbt").write_bytes(b"\0" * 100)
        failing["armed"] = True
        return True

    def wait(self):
        real_wait(self)
        if failing["armed"]:
            failing["armed"] = False
            raise ValueError(ENOSPC_TEXT)

    monkeypatch.setattr(ocp.CheckpointManager, "save", save)
    monkeypatch.setattr(ocp.CheckpointManager, "wait_until_finished", wait)
    return lambda step: failing.update(step=step)


def test_disk_full_while_checkpointing_leaves_the_previous_checkpoint(
    straight, cfg_file, tmp_path, capsys, disk_full_at, monkeypatch
):
    run = tmp_path / "run"
    disk_full_at(40)
    with pytest.raises(DiskFull):  # the class the CLI maps to exit 1
        runner.train(tiny(seeds=2, steps=60), tmp_path / "direct", quiet=True)
    assert main(["train", "--config", str(cfg_file), "--out", str(run), "-q"]) == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith("error: disk full writing checkpoint at step 40; the run is intact at "
                           "checkpoint step 20 (logs cut back to it)"), line  # fmt: skip
    assert debris(run) == []
    assert RunDir(run).checkpoint_steps() == [20]
    assert max(steps_in(run / "metrics.jsonl")) == 20
    assert max(steps_in(run / "eval.jsonl")) == 20
    monkeypatch.undo()  # space freed: the run resumes and ends as if nothing happened
    assert runner.load_run(run).step == 20
    assert main(["train", "--resume", str(run), "-q"]) == 0
    same_logs(run, straight)
    assert params_equal(runner.load_run(run).state, runner.load_run(straight).state)


def test_disk_full_writing_a_log_cuts_logs_back_to_the_checkpoint(tmp_path, monkeypatch):
    real = files.append_jsonl

    def append(path, rows, default=None):
        if rows and rows[0]["step"] == 50:
            with path.open("a") as f:
                f.write('{"step": 50, "se')  # the part that fit
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, rows, default)

    monkeypatch.setattr(files, "append_jsonl", append)
    run = tmp_path / "run"
    with pytest.raises(DiskFull, match="disk full writing metrics.jsonl; the run is intact "
                       "at checkpoint step 40"):  # fmt: skip
        runner.train(tiny(seeds=2, steps=60), run, quiet=True)
    assert max(steps_in(run / "metrics.jsonl")) == 40  # the torn row is gone too
    assert RunDir(run).checkpoint_steps() == [20, 40] and debris(run) == []


def _can_mount_tmpfs() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="cannot mount a tmpfs here (needs unshare)")
def test_disk_full_on_a_real_small_filesystem(cfg_file, tmp_path):
    """A real ENOSPC from Orbax's writer threads: a 1 MB tmpfs in a private mount
    namespace, checkpoints (~190 KB each) kept until it fills."""
    small, saved = tmp_path / "small", tmp_path / "saved"
    small.mkdir()
    train = [sys.executable, "-m", "gancli", "train", "--config", str(cfg_file), "--steps",
             "400", "--keep", "100", "--eval-every", "1000", "--out", str(small / "r")]  # fmt: skip
    script = (
        f"mount -t tmpfs -o size=1m tmpfs {small} && "
        f"{' '.join(train)} -q 2> {tmp_path / 'err'}; echo $? > {tmp_path / 'rc'}; "
        f"cp -a {small / 'r'} {saved}"
    )
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    subprocess.run(["unshare", "-rm", "sh", "-c", script], env=env, check=True, timeout=300)
    assert (tmp_path / "rc").read_text().strip() == "1"
    line = one_line((tmp_path / "err").read_text())
    # almost always the checkpoint; a log line may be the write that finds the disk full
    assert line.startswith("error: disk full writing "), line
    assert debris(saved) == []
    kept = RunDir(saved).checkpoint_steps()
    assert kept and f"intact at checkpoint step {kept[-1]} (logs cut back to it)" in line
    assert max(steps_in(saved / "metrics.jsonl")) <= kept[-1]
    assert runner.load_run(saved).step == kept[-1]


# ---- 3. two writers -----------------------------------------------------------------------


def _gancli(*args: str) -> subprocess.Popen:
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    return subprocess.Popen([sys.executable, "-m", "gancli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip


def _wait_for(cond, proc: subprocess.Popen, what: str) -> None:
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: {proc.poll()} {proc.stderr.read() if proc.poll() else ''}")


def test_a_second_writer_is_refused_and_a_dead_ones_lock_taken_over(cfg_file, tmp_path, capsys):
    run = tmp_path / "run"
    first = _gancli("train", "--config", str(cfg_file), "--steps", "100000", "--out", str(run))
    try:
        _wait_for(lambda: RunDir(run).checkpoint_steps(), first, "no checkpoint")
        holder = f"is in use by pid {first.pid} on host {socket.gethostname()}"
        force = ["train", "--config", str(cfg_file), "--out", str(run), "--force", "-q"]
        for argv in (["train", "--resume", str(run), "-q"], force):
            assert main(argv) == 2
            assert holder in one_line(capsys.readouterr().err)
            assert first.poll() is None  # refused while it holds the lock, not after waiting
    finally:
        first.kill()
        first.wait(timeout=60)
    assert RunDir(run).holder()["pid"] == first.pid  # the killed writer's note stays
    saved = runner.load_run(run).step
    assert main(["train", "--resume", str(run), "--steps", str(saved + 20), "-q"]) == 0
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"warning: taking over {run} from pid {first.pid}"), line
    assert line.endswith("(no longer running)")
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    pairs = [(r["step"], r["seed"]) for r in rows]
    assert len(pairs) == len(set(pairs)) and max(pairs)[0] == saved + 20
    assert RunDir(run).holder() == {}  # released cleanly


def test_lock_in_process_names_the_holder_and_is_released(tmp_path):
    rd = RunDir(tmp_path / "run")
    with rd.lock():
        info = rd.holder()
        assert info["pid"] == os.getpid() and info["host"] == socket.gethostname()
        with pytest.raises(RunDirBusy, match=f"in use by pid {os.getpid()} on host"):
            with RunDir(tmp_path / "run").lock():
                pass
    assert rd.holder() == {}
    with rd.lock():  # free again
        pass


def test_a_stale_holder_note_is_reported_and_replaced(tmp_path, capsys):
    rd = RunDir(tmp_path / "run")
    rd.path.mkdir()
    dead = {"pid": 2**22 + 12345, "host": socket.gethostname(), "since": "yesterday"}
    rd.lock_path.write_text(json.dumps(dead))
    with rd.lock():
        assert rd.holder()["pid"] == os.getpid()
    line = one_line(capsys.readouterr().err)
    assert line == (f"warning: taking over {rd.path} from pid {dead['pid']} on host "
                    f"{dead['host']}, since yesterday (no longer running)")  # fmt: skip


def test_out_refused_without_force_leaves_no_lock_file(tmp_path, cfg_file, capsys):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    assert main(["train", "--config", str(cfg_file), "--out", str(out), "-q"]) == 2
    assert "already exists" in one_line(capsys.readouterr().err)
    assert [p.name for p in out.iterdir()] == ["mine.txt"]


# ---- 4. absurd sizes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "flag, value",
    [("--seeds", "100000000"), ("--hidden", "10000000"), ("--batch-size", "1000000000")],
)
def test_absurd_sizes_are_refused_at_once_with_the_estimate(
    tmp_path, capsys, monkeypatch, flag, value
):
    def no_arrays(*args, **kwargs):
        raise AssertionError("an array of the run was made before the refusal")

    monkeypatch.setattr(GANProgram, "init", no_arrays)  # refused before any state exists
    assert main(["train", flag, value, "--out", str(tmp_path / "r"), "-q"]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("error: this run needs about ") and (" TB " in line or " PB " in line)
    assert "this machine has" in line and "available" in line
    assert not (tmp_path / "r").exists()


def test_sampling_too_many_points_is_refused(straight, tmp_path, capsys):
    assert main(["sample", str(straight), "--n", "1000000000", "--out",
                 str(tmp_path / "s.png")]) == 2  # fmt: skip
    line = one_line(capsys.readouterr().err)
    assert line.startswith("error: --n 1000000000 needs about") and "use a smaller --n" in line
    assert not list(tmp_path.iterdir())


def test_memory_estimate_counts_the_state_exactly_and_refuses_just_above_free(monkeypatch):
    cfg = tiny(seeds=3)
    program = GANProgram.build(cfg, data_lib.load(cfg.dataset))
    est = memory.estimate(program)
    assert est.state == memory.nbytes(program.init())
    # the step's working memory holds at least a batch of activations of every layer
    assert est.step >= cfg.seeds * cfg.batch_size * cfg.hidden * 4 * cfg.depth
    assert est.total < 100 * 2**20  # and is not absurd for a tiny model
    monkeypatch.setattr(memory, "available", lambda: (est.total, "this machine has"))
    memory.check_fits(program)
    monkeypatch.setattr(memory, "available", lambda: (est.total - 1, "this machine has"))
    with pytest.raises(memory.TooLarge, match=f"needs about {memory.human(est.total)}"):
        memory.check_fits(program)


def test_peak_bytes_frees_values_after_their_last_use():
    n = 1000

    def chain(x):
        for _ in range(10):
            x = x * 2.0  # each step's input dies as its output is born
        return x

    jaxpr = jax.make_jaxpr(chain)(jax.ShapeDtypeStruct((n,), np.float32))
    assert memory.peak_bytes(jaxpr) == 2 * 4 * n


# ---- 5. a torn last log line --------------------------------------------------------------


def test_readers_skip_and_repair_a_torn_last_line(straight, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(straight, run)
    path = run / "metrics.jsonl"
    whole = path.read_text()
    path.write_text(whole + '{"step": 70, "seed": 0, "d_lo')
    with RunDir(run).lock():  # a writer is active: readers tolerate, and touch nothing
        assert rundir.read_jsonl(path) == rundir.read_jsonl(straight / "metrics.jsonl")
        assert path.read_text().endswith('"d_lo')
    assert rundir.read_jsonl(path) == rundir.read_jsonl(straight / "metrics.jsonl")
    assert path.read_text() == whole  # idle: the reader cut the torn line


def test_garbage_in_the_middle_is_skipped_with_a_warning(tmp_path, capsys):
    path = tmp_path / "eval.jsonl"
    path.write_text('{"step": 0, "seed": 0}\n\x00\x00\x00\n{"step": 20, "seed": 0}\n')
    assert [r["step"] for r in rundir.read_jsonl(path)] == [0, 20]
    assert "skipped 1 line(s)" in one_line(capsys.readouterr().err)
    files.truncate_jsonl(path, 10)
    assert path.read_text() == '{"step": 0, "seed": 0}\n'


def test_resume_after_a_torn_last_line(straight, cfg_file, tmp_path, capsys):
    run = tmp_path / "run"
    runner.train(tiny(seeds=2, steps=40), run, quiet=True)
    for name in ("metrics.jsonl", "eval.jsonl"):
        with (run / name).open("a") as f:
            f.write('{"step": 50, "seed": 1, "d_loss": 0.69')  # kill -9 mid-write
    assert main(["train", "--resume", str(run), "--steps", "60", "-q"]) == 0
    assert capsys.readouterr().err == ""
    same_logs(run, straight)


# ---- 6. smaller ---------------------------------------------------------------------------


def test_a_bad_jax_platforms_lists_what_is_available():
    platforms = "cpu,nonesuch"  # cpu starts, then the unknown one fails
    env = {**os.environ, "JAX_PLATFORMS": platforms}
    p = subprocess.run([sys.executable, "-m", "gancli", "devices"], capture_output=True,
                       text=True, env=env, timeout=120)  # fmt: skip
    assert p.returncode == 2
    line = one_line(p.stderr)
    assert line.startswith(f"error: JAX_PLATFORMS={platforms}: ") and line.count("\n") == 0
    assert "platforms available here: cpu" in line


def test_sample_files_get_the_usual_permissions(straight, tmp_path):
    old = os.umask(0o022)
    try:
        png, npy = sampling.sample_to_files(straight, 20, tmp_path / "s.png")
    finally:
        os.umask(old)
    assert png.stat().st_mode & 0o777 == npy.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.npy", "s.png"]


def test_atomic_write_keeps_the_old_file_when_interrupted(tmp_path):
    path = tmp_path / "summary.json"
    files.write_json(path, {"step": 1})
    with pytest.raises(KeyboardInterrupt), files.atomic_path(path) as tmp:
        tmp.write_text('{"step": 2')
        raise KeyboardInterrupt
    assert json.loads(path.read_text()) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_explicit_damaged_step_is_an_error_not_a_fallback(straight, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(straight, run)
    damage(run / "checkpoints" / "40")
    with pytest.raises(CheckpointError, match="step 40 .* damaged.*older checkpoints: \\[20\\]"):
        runner.load_run(run, step=40)
    assert runner.load_run(run).step == 60  # the newest is intact: no warning needed


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
    config_lib.save(tiny(seeds=2, steps=steps, checkpoint_every=20, eval_every=100), cfg)
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
