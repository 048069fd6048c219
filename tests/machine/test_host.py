"""machine/host.py: what a run directory records of where it ran (env.json's git commit)
and the host copy of arrays."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

from gancli.machine import host


@pytest.fixture
def plain_git(monkeypatch, tmp_path):
    """git as a fresh machine has it: no user or system config (signing, hooks, reftable)
    and no repository above tmp_path (git would otherwise find an enclosing checkout)."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))


def _repo(tmp_path: Path) -> tuple[Path, Callable[..., None]]:
    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                       cwd=tmp_path, check=True, capture_output=True)  # fmt: skip

    git("init", "-q", "-b", "main")
    (tmp_path / "gancli").mkdir()
    (tmp_path / "gancli" / "a.py").write_text("x = 1\n")
    (tmp_path / "README.md").write_text("hi\n")
    git("add", ".")
    git("commit", "-qm", "one")
    return tmp_path, git


def test_git_commit_is_head_and_dirty_only_for_changes_to_gancli(tmp_path, plain_git):
    root, git = _repo(tmp_path)
    # HEAD as git stores it (a loose ref right after the commit), not via `git rev-parse`
    assert (root / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    head = (root / ".git" / "refs" / "heads" / "main").read_text().strip()
    assert len(head) == 40 and host._git_commit(root) == head
    (root / "README.md").write_text("changed\n")  # outside gancli/: the numbers' code is clean
    (root / "notes.txt").write_text("untracked\n")
    assert host._git_commit(root) == head
    (root / "gancli" / "a.py").write_text("x = 2\n")
    assert host._git_commit(root) == head + "-dirty"
    git("checkout", "-q", "--", "gancli/a.py")
    (root / "gancli" / "b.py").write_text("y = 1\n")  # an untracked module changes the code too
    assert host._git_commit(root) == head + "-dirty"


def test_git_commit_is_none_outside_a_checkout(tmp_path, plain_git):
    (tmp_path / "gancli").mkdir()
    assert host._git_commit(tmp_path) is None
    (tmp_path / ".git").mkdir()  # a .git that is no repository: git fails, None (not "")
    assert host._git_commit(tmp_path) is None


def test_the_root_is_the_directory_holding_the_package():
    assert host.ROOT / "gancli" / "machine" / "host.py" == Path(host.__file__).resolve()
    # the checkout: the tests run from one (against a non-editable install, ROOT would be
    # site-packages and this line fail)
    assert (host.ROOT / "pyproject.toml").exists()


def test_to_host_gives_numpy_arrays_with_the_values():
    tree = {"a": jnp.arange(3.0), "b": [jnp.ones((2, 2), jnp.int32)]}
    out = host.to_host(tree)
    assert isinstance(out["a"], np.ndarray) and isinstance(out["b"][0], np.ndarray)
    np.testing.assert_array_equal(out["a"], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(out["b"][0], np.ones((2, 2), np.int32))
    assert host.is_primary()  # one process: process 0 writes the run directory


def test_to_host_gathers_across_processes_only_when_there_are_several(monkeypatch):
    # one process here: several are faked (jax.distributed cannot start in a test)
    from jax.experimental import multihost_utils

    calls = []
    monkeypatch.setattr(multihost_utils, "process_allgather",
                        lambda tree, tiled: calls.append(tiled) or "gathered")  # fmt: skip
    assert isinstance(host.to_host(jnp.ones(2)), np.ndarray) and calls == []
    monkeypatch.setattr(host.jax, "process_count", lambda: 2)
    assert host.to_host(jnp.ones(2)) == "gathered" and calls == [True]


def test_only_process_zero_writes(monkeypatch):
    assert host.is_primary()
    monkeypatch.setattr(host.jax, "process_index", lambda: 1)  # faked: a second process
    assert not host.is_primary()
