"""Shared by the fault tests: helpers, a tiny experiment file and one straight run to
damage copies of."""

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

from gancli import config_io
from gancli.run import runner
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
    config_io.save(tiny(seeds=2, steps=60), path)
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


def damage(step_dir: Path, seed: int = 0) -> None:
    """Overwrite every file of a checkpoint with a few random bytes."""
    rng = random.Random(seed)
    for f in step_dir.rglob("*"):
        if f.is_file():
            f.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(3, 12))))
