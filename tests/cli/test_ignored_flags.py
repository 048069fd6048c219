"""Settings an experiment does not read are reported, never silently accepted."""

import pytest
import typer

from gancli.cli import main
from gancli.studies import compare


def warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning: ")]


@pytest.mark.parametrize(
    "args, expected",
    [
        (
            ["--loss", "nsgan", "--clip", "0.05"],
            ["clip is ignored: it applies with loss wgan, and this experiment has loss nsgan"],
        ),
        (
            ["--optimizer", "rmsprop", "--beta1", "0.9"],
            [
                "beta1 is ignored: it applies with "
                "optimizer adam, and this experiment "
                "has optimizer rmsprop"
            ],
        ),
        (
            ["--loss", "gan", "--clip", "0.01,0.02"],
            ["clip is ignored: it applies with loss wgan, and this experiment has loss gan"],
        ),
        (
            ["--loss", "wgan", "--set", "beta2=0.9"],
            [
                "beta2 is ignored: it applies with "
                "optimizer adam, and this experiment has "
                "optimizer rmsprop"
            ],
        ),
        (
            ["--set", "init_std=0.1"],
            [
                "init-std is ignored: it applies with init normal, and "
                "this experiment has init default"
            ],
        ),
        (["--loss", "wgan", "--clip", "0.05", "--optimizer", "adam", "--beta1", "0.9"], []),
    ],
)
def test_train_warns_about_flags_the_experiment_ignores(args, expected, capsys):
    assert main(["train", *args, "--print-config"]) == 0
    assert warnings(capsys.readouterr().err) == [f"warning: {e}" for e in expected]


def test_a_file_value_the_experiment_ignores_is_reported_too(tmp_path, capsys):
    path = tmp_path / "exp.toml"
    path.write_text('loss = "wgan"\nclip = 0.02\ncritic_boost = true\n')
    assert main(["train", "--config", str(path), "--loss", "nsgan", "--print-config"]) == 0
    found = warnings(capsys.readouterr().err)
    assert [w.split(" is ignored")[0] for w in found] == ["warning: clip", "warning: critic-boost"]


def test_sample_refuses_all_seeds_with_a_seed_index(tmp_path, capsys):
    assert main(["sample", str(tmp_path), "--all-seeds", "--seed-index", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: --seed-index picks one replica and --all-seeds every one: give one"


def test_compare_losses_warns_that_a_train_files_loss_is_ignored(tmp_path, monkeypatch, capsys):
    path = tmp_path / "train.toml"
    path.write_text('loss = "wgan"\nsteps = 100\n')
    seen = []

    def stop_here(comparison, *args, **kwargs):
        seen.append(comparison)
        raise typer.Exit(0)

    monkeypatch.setattr(compare, "run_comparison", stop_here)
    out = tmp_path / "rep"
    assert main(["compare-losses", "--config", str(path), "--out", str(out), "-q"]) == 0
    assert warnings(capsys.readouterr().err) == [
        f"warning: loss = 'wgan' in {path} is ignored: compare-losses trains every loss of "
        "--losses (in a file: losses = [...])"
    ]
    assert seen[0].losses == ("gan", "nsgan", "wgan") and seen[0].base.steps == 100
