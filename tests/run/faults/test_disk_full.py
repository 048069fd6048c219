"""Faults: a full disk. Each ends in one line, a non-zero exit, no debris, and
every complete checkpoint and log row still usable (README: Faults)."""

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import orbax.checkpoint as ocp
import pytest

from gancli.cli import main
from gancli.errors import DiskFull
from gancli.run import files, runner
from gancli.run.rundir import RunDir
from tests.conftest import tiny
from tests.run.faults.conftest import debris, one_line, params_equal, same_logs, steps_in

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
