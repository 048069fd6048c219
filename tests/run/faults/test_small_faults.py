"""Faults: smaller. Each ends in one line, a non-zero exit, no debris, and
every complete checkpoint and log row still usable (README: Faults)."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from gancli.run import files, runner, sampling
from gancli.run.checkpoint import CheckpointError
from tests.run.faults.conftest import damage, one_line

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
