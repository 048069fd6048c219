"""Faults: two writers. Each ends in one line, a non-zero exit, no debris, and
every complete checkpoint and log row still usable (README: Faults)."""

import json
import os
import socket

import pytest

from gancli.cli import main
from gancli.errors import RunDirBusy
from gancli.run import runner
from gancli.run.rundir import RunDir
from tests.run.faults.conftest import _gancli, _wait_for, one_line

# ---- 3. two writers -----------------------------------------------------------------------


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
