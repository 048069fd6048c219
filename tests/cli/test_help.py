"""Help that reads at 80 columns: whole command summaries, examples as typed, one `--force`,
`--quiet` everywhere; and what `sample` and `eval` do with them."""

import re

import pytest

from gancli.cli import main

COMMANDS = [
    "train",
    "compare-losses",
    "atlas",
    "reproduce",
    "runs",
    "presets",
    "sample",
    "eval",
    "bench",
    "devices",
]


def help_text(argv, capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    assert main([*argv, "--help"]) == 0
    return capsys.readouterr().out


def test_command_summaries_are_whole(capsys, monkeypatch):
    text = help_text([], capsys, monkeypatch)
    listed = text.split("Commands:")[1].strip().splitlines()
    assert [line.split()[0] for line in listed] == COMMANDS  # one line each
    for line in listed:
        assert not line.endswith("...") and line.endswith("."), line
        assert len(line) <= 80


@pytest.mark.parametrize("command", COMMANDS)
def test_examples_stay_one_command_a_line(command, capsys, monkeypatch):
    text = help_text([command], capsys, monkeypatch)
    assert max(len(line) for line in text.splitlines()) <= 80
    block = re.split(r"Examples?:\n\n", text)[1]
    lines = [line.strip() for line in block.strip().splitlines()]
    assert lines, text
    for line in lines:  # no example rewrapped onto a second line
        assert line.startswith(("gancli ", "# ", "XLA_FLAGS=")), line
        assert "gancli" not in line or line.count("gancli ") == 1


@pytest.mark.parametrize("command", COMMANDS)
def test_boolean_defaults_have_one_spelling(command, capsys, monkeypatch):
    text = help_text([command], capsys, monkeypatch)
    shown = re.findall(r"\[default:\s+([^\]]+)\]", text)
    assert not [d for d in shown if d.startswith("no-") or d in ("False", "True")], shown


@pytest.mark.parametrize("command", COMMANDS)
def test_force_means_overwrite_instead_of_refusing_in_every_command(command, capsys, monkeypatch):
    text = " ".join(help_text([command], capsys, monkeypatch).split())
    if command in ("train", "compare-losses", "atlas", "sample", "reproduce"):
        what = text.split(" --force ")[1].split(" instead of refusing.")[0]
        assert what.startswith("Overwrite ") and len(what) < 90, what
        assert "--no-force" not in text
    else:
        assert "--force" not in text


@pytest.mark.parametrize("command", ["train", "compare-losses", "reproduce", "sample", "eval"])
def test_every_command_that_reports_takes_quiet(command, capsys, monkeypatch):
    text = help_text([command], capsys, monkeypatch)
    assert "-q, --quiet" in text and "--no-quiet" not in text


def test_from_step_says_which_checkpoints_it_removes(capsys, monkeypatch):
    text = " ".join(help_text(["train"], capsys, monkeypatch).split())
    assert "the checkpoints after it are deleted" in text


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from gancli.run import runner
    from tests.conftest import tiny

    out = tmp_path_factory.mktemp("help") / "run"
    runner.train(tiny(steps=20, log_every=20, eval_every=20, checkpoint_every=20), out, quiet=True)
    return out


def test_sample_refuses_to_overwrite_without_force(run, tmp_path, capsys):
    png = tmp_path / "s.png"
    assert main(["sample", str(run), "--n", "10", "--out", str(png), "-q"]) == 0
    assert capsys.readouterr().out.strip() == f"{png} {tmp_path / 's.npy'}"
    before = png.read_bytes()
    for target in (png, tmp_path / "s.npy"):  # either file in the way is refused
        assert main(["sample", str(run), "--n", "10", "--out", str(target), "--z-seed", "1"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "already exists" in err and "--force" in err
    assert png.read_bytes() == before
    assert main(["sample", str(run), "--n", "10", "--out", str(png), "--z-seed", "1",
                 "--force"]) == 0  # fmt: skip
    assert png.read_bytes() != before


def test_eval_quiet_prints_its_one_line_result(run, capsys):
    assert main(["eval", str(run), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.startswith(f"{run} at step 20: modes ") and "(1 seed, 0 diverged)" in out


@pytest.mark.parametrize("command", ["train", "compare-losses"])
def test_a_commands_config_flags_are_those_config_declares_and_reach_the_config(command):
    """The flags are built from config.FLAGS; each one given lands in the command's flags."""
    import typer.main

    from gancli.cli.app import app
    from gancli.config import FIELDS, FLAGS

    cmd = typer.main.get_command(app).commands[command]
    names = [p.name for p in cmd.params if p.param_type_name == "option"]
    assert names[: len(FLAGS[command])] == list(FLAGS[command])
    assert set(FLAGS[command]) <= set(FIELDS)


def test_a_flag_reaches_the_config_it_names(capsys):
    import tomllib

    args = ["train", "--loss", "wgan", "--clip", "0.02", "--n-critic", "3", "--depth", "2",
            "--set", "beta2=0.9", "--print-config"]  # fmt: skip
    assert main(args) == 0
    cfg = tomllib.loads(capsys.readouterr().out)
    assert (cfg["loss"], cfg["clip"], cfg["n_critic"], cfg["depth"], cfg["beta2"]) == (
        "wgan", 0.02, 3, 2, 0.9)  # fmt: skip


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["--version"], []])
def test_help_and_version_answer_without_starting_jax(argv):
    # JAX's start is most of a small machine's 2 s before any answer; help needs none of it
    import os
    import subprocess
    import sys

    code = (
        "import sys\nfrom gancli.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print('jax imported:', 'jax' in sys.modules)"
    )
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith("jax imported: False")
    assert ("gancli" in out.stdout) and (argv == ["--version"] or "Usage" in out.stdout)
