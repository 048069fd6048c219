"""The command line: exit codes, one-line errors, and a tiny end-to-end run."""

import json

import numpy as np
import pytest

from gancli.cli import main

TINY_FLAGS = ["--hidden", "32", "--depth", "2", "--batch-size", "64", "--log-every", "10",
              "--eval-every", "20", "--checkpoint-every", "20", "--quiet"]  # fmt: skip


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--loss", "lsgan"], "unknown loss 'lsgan'"),
        (["train", "--dataset", "moons"], "unknown dataset 'moons'"),
        (["train", "--loss", "wgan", "--clip", "0"], "clip must be a positive number"),
        (["train", "--loss", "wgan", "--clip", "-0.01"], "clip must be a positive number"),
        (["train", "--steps", "0"], "steps must be at least 1"),
        (["train", "--seeds", "0"], "seeds must be at least 1"),
        (["train", "--steps", "many"], "Invalid value for '--steps'"),
        (["train", "--bogus"], "No such option"),
        (["train", "--config", "missing.toml"], "config file not found"),
        (["train", "--from-step", "3"], "--from-step needs --resume"),
        (["sample"], "Missing argument"),
        (["bench", "--steps", "0"], "--steps must be at least 1"),
        (["compare-losses", "--weak-variant", "tiny"], "--weak-variant must be one of"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "text, message",
    [("loss = 'wgan'\nsteps = [1\n", "is not valid TOML"), ("steps = 'ten'\n", "must be int")],
)
def test_bad_config_files_exit_2(tmp_path, text, message, capsys):
    (tmp_path / "bad.toml").write_text(text)
    code, _, err = run(["train", "--config", str(tmp_path / "bad.toml")], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_unreadable_config_exits_2(tmp_path, capsys):
    code, _, err = run(["train", "--config", str(tmp_path)], capsys)
    assert code == 2 and "is a directory" in err


def test_no_arguments_prints_help(capsys):
    code, out, _ = run([], capsys)
    assert code == 0 and "train" in out and "sample" in out


def test_train_writes_the_run_directory(tmp_path, capsys):
    out_dir = tmp_path / "w"
    argv = ["train", "--loss", "wgan", "--seeds", "2", "--steps", "40", "--out", str(out_dir)]
    code, out, err = run(argv + TINY_FLAGS, capsys)
    assert code == 0, err
    assert f"results in {out_dir}" in out
    for name in ("config.toml", "env.json", "metrics.jsonl", "eval.jsonl", "summary.json"):
        assert (out_dir / name).is_file(), name
    assert (out_dir / "samples" / "final_seed0.png").is_file()
    assert (out_dir / "samples" / "final_seed1.png").is_file()

    rows = [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [10, 10, 20, 20, 30, 30, 40, 40]
    assert {r["seed"] for r in rows} == {0, 1}
    for key in ("d_loss", "g_loss", "d_real", "d_fake", "g_grad_norm"):
        assert all(np.isfinite(r[key]) for r in rows), key
    evals = [json.loads(line) for line in (out_dir / "eval.jsonl").read_text().splitlines()]
    assert sorted({r["step"] for r in evals}) == [0, 20, 40]
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["step"] == 40 and len(summary["seeds"]) == 2 and summary["diverged"] == 0
    w1 = [s["w1"] for s in summary["seeds"]]
    assert summary["mean"]["w1"] == pytest.approx(np.mean(w1))
    assert summary["std"]["w1"] == pytest.approx(np.std(w1, ddof=1))
    env = json.loads((out_dir / "env.json").read_text())
    assert env["backend"] == "cpu" and env["versions"]["jax"] and env["versions"]["optax"]
    assert env["git_commit"] is None or len(env["git_commit"].split("-")[0]) == 40
    # config.toml is the full resolved experiment and reruns as --config
    cfg_text = (out_dir / "config.toml").read_text()
    assert 'optimizer = "rmsprop"' in cfg_text and "n_critic = 5" in cfg_text
    again = tmp_path / "again"
    code, _, err = run(["train", "--config", str(out_dir / "config.toml"), "--out", str(again),
                        "--quiet"], capsys)  # fmt: skip
    assert code == 0, err
    assert (again / "metrics.jsonl").read_text() == (out_dir / "metrics.jsonl").read_text()

    # an existing non-empty --out is refused without --force, accepted with it
    code, _, err = run(argv + TINY_FLAGS, capsys)
    assert code == 2 and "already exists" in err and "--force" in err
    code, _, err = run(argv + TINY_FLAGS + ["--force"], capsys)
    assert code == 0, err


def test_devices(capsys):
    code, out, _ = run(["devices"], capsys)
    assert code == 0 and "backend: cpu" in out


def test_every_seed_diverging_stops_with_exit_1_and_restorable_checkpoints(tmp_path, capsys):
    from gancli.runner import load_run

    out_dir = tmp_path / "nan"
    argv = ["train", "--loss", "gan", "--optimizer", "sgd", "--lr-g", "1e12", "--lr-d", "1e12",
            "--seeds", "2", "--steps", "200", "--out", str(out_dir)]  # fmt: skip
    code, _, err = run(argv + TINY_FLAGS, capsys)
    assert code == 1
    assert "error: every seed diverged" in err and "Traceback" not in err
    run_ = load_run(out_dir)  # the checkpoint it saved holds finite (frozen) states
    assert run_.step < 200
    for leaf in __import__("jax").tree.leaves(run_.state.g.params):
        assert np.isfinite(np.asarray(leaf)).all()
    rows = [json.loads(x) for x in (out_dir / "metrics.jsonl").read_text().splitlines()]
    assert all(r["diverged"] and r["d_loss"] is None for r in rows)


def test_version(capsys):
    from importlib import metadata

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"gancli {metadata.version('gancli')}"
