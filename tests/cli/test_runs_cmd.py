"""Versioned run directories without --out, and `gancli runs`: one line per run."""

import json
import shutil

import pytest

from gancli import config_io
from gancli.cli import main
from gancli.run import runner
from gancli.run.rundir import RunDir, fresh_run_dir
from tests.conftest import tiny

TINY = ["--steps", "20", "--hidden", "32", "--depth", "2", "--batch-size", "64",
        "--log-every", "10", "--eval-every", "20", "--checkpoint-every", "20",
        "--set", "eval_samples=250"]  # fmt: skip


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "done"
    runner.train(tiny(steps=20, seeds=2), out, quiet=True)
    return out


def test_train_without_out_picks_a_fresh_directory_and_says_which(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", *TINY, "-q"]) == 0
    assert main(["train", *TINY]) == 0
    err = capsys.readouterr().err
    assert "run directory: runs/nsgan-ring8-2" in err.splitlines()[0]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["nsgan-ring8", "nsgan-ring8-2"]
    # --out keeps its strict behaviour
    assert main(["train", *TINY, "--out", "runs/nsgan-ring8", "-q"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_fresh_run_dir_skips_used_and_running_directories(tmp_path):
    cfg = tiny(steps=20)
    base = tmp_path / "gan-ring8"
    assert fresh_run_dir(base, cfg) == base
    base.mkdir()
    assert fresh_run_dir(base, cfg) == base  # empty: free
    config_io.save(cfg, base / "config.toml")
    assert fresh_run_dir(base, cfg) == base  # this experiment, never got going: taken over
    with RunDir(base).lock():  # ... unless it is running
        assert fresh_run_dir(base, cfg) == tmp_path / "gan-ring8-2"
    assert fresh_run_dir(base, cfg.replace(seed=3)) == tmp_path / "gan-ring8-2"


def test_runs_lists_each_run_with_its_status(finished, tmp_path, capsys):
    root = tmp_path / "runs"
    root.mkdir()
    shutil.copytree(finished, root / "done")
    stopped = root / "stopped"
    shutil.copytree(finished, stopped)
    (stopped / "summary.json").unlink()
    config_io.save(
        config_io.load(stopped / "config.toml").replace(steps=40), stopped / "config.toml"
    )
    fresh = root / "sub" / "fresh"  # found below a directory that is not a run
    fresh.mkdir(parents=True)
    config_io.save(tiny(steps=20), fresh / "config.toml")
    (root / "notes").mkdir()

    with RunDir(root / "done").lock():
        assert main(["runs", str(root)]) == 0
        busy = capsys.readouterr().out.splitlines()
    assert busy[0].split()[-1] == "running"

    before = sorted(root.rglob("*"))
    assert main(["runs", str(root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [
        str(root / n) for n in ("done", "stopped", "sub/fresh")
    ]
    done, stop, new = lines
    assert done.split()[1:6] == ["nsgan", "ring8", "2", "seeds", "20/20"]
    assert "modes " in done and "w1 " in done and done.endswith("finished")
    assert stop.endswith("stopped at step 20") and "20/40" in stop
    assert new.endswith("not started") and "0/20" in new
    assert sorted(root.rglob("*")) == before  # a reader: no lock file, nothing written

    assert main(["runs", str(root / "done"), "--json"]) == 0
    (one,) = json.loads(capsys.readouterr().out)
    assert one["status"] == "finished" and one["step"] == 20 and one["seeds"] == 2
    assert set(one["scores"]) >= {"modes", "w1"}


def test_runs_of_a_missing_directory_is_one_line(tmp_path, capsys):
    assert main(["runs", str(tmp_path / "nothing")]) == 2
    assert capsys.readouterr().err.startswith(f"error: no directory {tmp_path / 'nothing'}")
