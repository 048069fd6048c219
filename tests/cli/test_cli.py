"""The command line: exit codes, one-line errors, and a tiny end-to-end run."""

import json
import re

import numpy as np
import pytest

from gancli.cli import main
from tests.conftest import expected_git_commit, log_rows

TINY_FLAGS = ["--hidden", "32", "--depth", "2", "--batch-size", "64", "--log-every", "10",
              "--eval-every", "20", "--checkpoint-every", "20", "--set", "eval_samples=250",
              "--quiet"]  # fmt: skip


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
        (["bench", "--sweep-model", "huge"], "--sweep-model must be default or narrow"),
        (["compare-losses", "--weak-variant", "tiny"], "--weak-variant must be some of"),
        (["train", "--optimizer", "lbfgs"], "unknown optimizer 'lbfgs': choose one of adam"),
        (["train", "--set", "stepz=3"], "unknown setting 'stepz' in --set (did you mean 'steps'"),
        (["train", "--set", "steps"], "--set takes key=value"),
        (["train", "--set", "steps=1.5"], "--set steps must be int, got '1.5'"),
        (["train", "--set", "beta1=high"], "--set beta1 takes a number"),
        (["train", "--set", "critic_boost=maybe"], "--set critic_boost must be true or false"),
        (["train", "--set", "eval_samples=0"], "eval-samples must be at least 1"),
        (["compare-losses", "--set", "loss=wgan"], "drop --set loss"),
        (["reproduce", "x.toml", "--format", "json"], "No such option"),
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
    # --quiet keeps the one-line result: where it ended, its means, where it is
    (line,) = out.strip().splitlines()
    assert line.startswith("wgan on ring8 at step 40: modes ") and "mean of 2 seeds" in line
    assert line.endswith(f"results in {out_dir}")
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
    assert env["git_commit"] == expected_git_commit()
    # config.toml is the full resolved experiment and reruns as --config
    cfg_text = (out_dir / "config.toml").read_text()
    assert 'optimizer = "rmsprop"' in cfg_text and "n_critic = 5" in cfg_text
    again = tmp_path / "again"
    code, out, err = run(["train", "--config", str(out_dir / "config.toml"), "--out", str(again),
                          "--json"], capsys)  # fmt: skip
    assert code == 0, err
    assert json.loads(out) == json.loads((again / "summary.json").read_text())
    assert "step 40/40" in err  # progress goes to stderr
    assert log_rows(again / "metrics.jsonl") == log_rows(out_dir / "metrics.jsonl")
    code, out, err = run(["eval", str(out_dir), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["step"] == 40 and len(json.loads(out)["seeds"]) == 2
    argv_sample = ["sample", str(out_dir), "--n", "10", "--out", str(tmp_path / "s.png"), "--json"]
    code, out, err = run(argv_sample, capsys)
    assert code == 0, err
    assert sorted(json.loads(out)["files"]) == [str(tmp_path / "s.npy"), str(tmp_path / "s.png")]

    # an existing non-empty --out is refused without --force, accepted with it
    code, _, err = run(argv + TINY_FLAGS, capsys)
    assert code == 2 and "already exists" in err and "--force" in err
    code, _, err = run(argv + TINY_FLAGS + ["--force"], capsys)
    assert code == 0, err


def test_devices(capsys):
    code, out, _ = run(["devices"], capsys)
    assert code == 0 and "backend: cpu" in out


def test_every_seed_diverging_stops_with_exit_1_and_restorable_checkpoints(tmp_path, capsys):
    from gancli.run.runner import load_run

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


def test_devices_json(capsys):
    code, out, _ = run(["devices", "--json"], capsys)
    assert code == 0 and json.loads(out)["backend"] == "cpu"


def test_bench_json_is_one_document_and_no_table(monkeypatch, capsys):
    from gancli.bench import suite

    figures = {"rows": [{"seeds": 8, "seed_steps_per_s": 1.5e5, "peak": float("nan")}]}
    monkeypatch.setattr(suite, "run_bench", lambda **kw: figures)
    code, out, _ = run(["bench", "--quick", "--json"], capsys)
    assert code == 0
    assert json.loads(out) == {"rows": [{"seeds": 8, "seed_steps_per_s": 1.5e5, "peak": None}]}


def test_bench_only_runs_the_named_configurations(monkeypatch, capsys):
    from gancli.bench import suite

    asked = {}
    monkeypatch.setattr(suite, "run_bench", lambda **kw: asked.update(kw) or {"rows": []})
    code, _, _ = run(["bench", "--only", "mlp-wide-nsgan-S8, mlp-tiny-nsgan-S4", "--json"], capsys)
    assert code == 0 and asked["configs"] == ["mlp-wide-nsgan-S8", "mlp-tiny-nsgan-S4"]
    asked.clear()
    code, _, err = run(["bench", "--only", "mlp-wide-nsgan-S9"], capsys)
    assert code == 2 and not asked
    assert err.startswith("error: --only: unknown configuration mlp-wide-nsgan-S9; choose from")
    assert len(err.strip().splitlines()) == 1


def test_reproduce_json_is_one_document(tmp_path, monkeypatch, capsys):
    from gancli.studies import reproduce, reproduce_preset

    preset = type("Preset", (), {"name": "p", "paper": {}})()
    report = {"ci": "95%", "stages": [{"note": "REDUCED BUDGET", "variant": "nsgan"}]}
    monkeypatch.setattr(reproduce_preset, "load_preset", lambda path: preset)
    monkeypatch.setattr(reproduce, "run_preset", lambda *a, **kw: report)
    code, out, _ = run(["reproduce", "x.toml", "--out", str(tmp_path), "--json"], capsys)
    assert code == 0 and json.loads(out) == report


@pytest.fixture
def trained_config(monkeypatch):
    """The Config `train` would train, caught before any training."""
    from gancli.run import runner
    from gancli.run.loop import TrainingStopped

    seen = {}

    def fake_train(cfg, target, force, quiet):
        seen["cfg"] = cfg
        raise TrainingStopped("stopped by the test")

    monkeypatch.setattr(runner, "train", fake_train)
    return seen


def test_set_reaches_every_field_between_the_file_and_the_flags(tmp_path, trained_config, capsys):
    (tmp_path / "c.toml").write_text("steps = 100\nbeta1 = 0.9\nbeta2 = 0.99\nseeds = 3\n")
    argv = ["train", "--config", str(tmp_path / "c.toml"), "--set", "beta2=0.95",
            "--set", "steps=50", "--set", "eval-samples=300", "--set", "critic_boost=true",
            "--set", "dataset=grid25", "--steps", "7"]  # fmt: skip
    run(argv, capsys)
    cfg = trained_config["cfg"]
    assert (cfg.steps, cfg.seeds, cfg.beta1, cfg.beta2) == (7, 3, 0.9, 0.95)  # flag > set > file
    assert (cfg.eval_samples, cfg.critic_boost, cfg.dataset) == (300, True, "grid25")


def test_set_sweeps_like_the_flag(trained_config, capsys):
    run(["train", "--loss", "wgan", "--set", "clip=0.01,0.02", "--lr-d", "1e-4,2e-4"], capsys)
    assert trained_config["cfg"].points == [
        {"lr_d": 1e-4, "clip": 0.01}, {"lr_d": 1e-4, "clip": 0.02},
        {"lr_d": 2e-4, "clip": 0.01}, {"lr_d": 2e-4, "clip": 0.02}]  # fmt: skip


def _options(command: str) -> dict:
    """Each option of a command as click holds it, by flag."""
    import typer

    from gancli.cli import app

    group = typer.main.get_command(app)
    return {p.opts[0]: p for p in group.commands[command].params}


def test_help_shows_choices_and_the_defaults_config_uses():
    from gancli import config as C
    from gancli.cli.options import describe_default

    train = _options("train")
    assert train["--steps"].help.endswith(f"[default: {C.Config().steps}]")
    # the per-loss defaults resolve() fills in, each beside its loss (written out here)
    lr_d = train["--lr-d"].help
    assert lr_d.endswith(f"[default: {describe_default('lr_d')}]")
    for loss in C.LOSS_NAMES:
        rate = C.resolve(C.Config(loss=loss)).lr_d
        assert re.search(rf"{rate:.0e}".replace("e-0", "e-") + rf" for [\w/]*\b{loss}\b", lr_d)
    compare = _options("compare-losses")
    assert compare["--steps"].help.endswith(f"[default: {C.COMPARE_DEFAULTS['steps']}]")
    assert compare["--seeds"].help.endswith(f"[default: {C.COMPARE_DEFAULTS['seeds']}]")
    for p in train.values():  # the real default is told, never a bare None
        assert (
            p.default is not None
            or (p.help and "default" in p.help.lower())
            or p.opts[0] in ("--set", "--config", "--out", "--resume", "--from-step")
        ), p.opts


def test_rendered_help_lists_choices(capsys):
    from gancli import config as C

    code, out, _ = run(["train", "--help"], capsys)
    assert code == 0 and "[default: 5000]" in out
    for flag, choices in [("--loss", C.LOSS_NAMES), ("--optimizer", C.OPTIMIZERS),
                          ("--dataset", (*C.DATASETS, "PATH"))]:  # fmt: skip
        assert f"{flag} <{'|'.join(choices)}>" in out


def test_cli_choices_match_the_modules_that_own_them():
    from gancli.cli import experiments
    from gancli.studies import reproduce_preset

    assert experiments.BUDGETS is reproduce_preset.BUDGETS  # one tuple, declared in config


def test_shell_completion_is_offered_and_completes_choices(monkeypatch, capsys):
    import subprocess
    import sys

    code, out, _ = run(["--help"], capsys)
    assert "--install-completion" in out and "--show-completion" in out
    env = {**__import__("os").environ, "_GANCLI_COMPLETE": "complete_bash",
           "COMP_WORDS": "gancli train --loss ", "COMP_CWORD": "3"}  # fmt: skip
    p = subprocess.run([sys.executable, "-m", "gancli"], env=env, capture_output=True, text=True)
    assert p.stdout.split() == ["gan", "nsgan", "wgan"], p.stderr


def test_compare_losses_json_is_one_document(tmp_path, monkeypatch, capsys):
    from gancli.studies import compare

    result = {"dataset": "ring8", "claims": [{"claim": "c", "headline": "h"}], "x": float("inf")}
    monkeypatch.setattr(compare, "run_comparison", lambda *a, **kw: result)
    code, out, _ = run(["compare-losses", "--out", str(tmp_path), "--json"], capsys)
    assert code == 0 and json.loads(out) == {**result, "x": None}


def test_help_defaults_are_what_resolve_fills_in():
    from gancli import config as C
    from gancli.cli.options import _short, describe_default

    for loss in C.LOSS_NAMES:
        r = C.resolve(C.Config(loss=loss))
        for name in ("optimizer", "n_critic", "lr_d", "lr_g"):
            text = describe_default(name)
            shown = {part.split(" for ")[1]: part.split(" for ")[0]
                     for part in text.split("; ")[0].split(", ")}  # fmt: skip
            mine = next(v for k, v in shown.items() if loss in k.split("/"))
            assert mine == _short(getattr(r, name)), (loss, name, text)
    image = C.resolve(C.Config(dataset="digits"))
    assert f"{_short(image.lr_d)} for adam on images" in describe_default("lr_d")
    assert f"{image.z_dim} for images" in describe_default("z_dim")
    assert describe_default("steps", C.Config(steps=123)) == "123"
