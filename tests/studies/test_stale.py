"""Stale results never pass for new ones: stored runs and stages with other settings are
refused (or retrained with --force), and no NaN reaches a JSON file or --json."""

import json

import numpy as np

from gancli.cli import main
from gancli.cli.app import print_json
from gancli.run import files
from gancli.studies.compare import config_differences
from tests.conftest import tiny
from tests.studies.test_reproduce import _tiny_preset


def test_reproduce_refuses_a_stored_variant_with_other_settings(tmp_path, capsys):
    preset, out = _tiny_preset(tmp_path), tmp_path / "rep"
    args = ["reproduce", str(preset), "--variants", "nsgan", "--out", str(out), "-q"]
    assert main(args) == 0
    first = json.loads((out / "report.json").read_text())["stages"]
    assert [len(s["seeds"]) for s in first] == [3, 3]
    capsys.readouterr()
    # a rerun asking for other seeds must not print the stored 3-seed numbers
    assert main([*args, "--seeds", "2"]) == 2
    err = capsys.readouterr().err
    assert "trained with other settings" in err and "seeds 3 -> 2" in err
    assert json.loads((out / "report.json").read_text())["stages"] == first  # untouched
    assert main([*args, "--seeds", "2", "--force"]) == 0
    again = json.loads((out / "report.json").read_text())["stages"]
    assert [len(s["seeds"]) for s in again] == [2, 2]


def test_reproduce_rerun_with_the_same_settings_reuses_its_stages(tmp_path, monkeypatch):
    preset, out = _tiny_preset(tmp_path), tmp_path / "rep"
    args = ["reproduce", str(preset), "--variants", "wgan", "--out", str(out), "-q"]
    assert main(args) == 0
    from gancli.run import runner

    def no_training(*a, **k):
        raise AssertionError("a finished stage was retrained")

    monkeypatch.setattr(runner, "train", no_training)
    monkeypatch.setattr(runner, "resume", no_training)
    assert main(args) == 0


def test_compare_refuses_a_changed_eval_samples():
    diffs = config_differences(tiny(), tiny(eval_samples=400))
    assert diffs == ["eval_samples 250 -> 400"]
    assert config_differences(tiny(), tiny(log_every=5)) == []  # host-only: no difference


def test_no_nan_reaches_a_json_file_or_stdout(tmp_path, capsys):
    value = {"a": np.float32("nan"), "b": [float("inf"), np.float64(1.5)],
             "c": np.array([np.nan, 2.0], np.float32), "d": {"e": float("nan")}}  # fmt: skip
    files.write_json(tmp_path / "x.json", value)
    text = (tmp_path / "x.json").read_text()
    assert "NaN" not in text and "nan" not in text and "Infinity" not in text
    assert json.loads(text) == {"a": None, "b": [None, 1.5], "c": [None, 2.0], "d": {"e": None}}
    print_json(value)
    assert json.loads(capsys.readouterr().out) == json.loads(text)


def test_a_declared_primary_budget_cannot_be_moved_after_the_runs(tmp_path):
    import dataclasses

    import pytest

    from gancli.config import ConfigError
    from gancli.studies import compare

    flags = {"steps": 20, "eval_every": 10, "seeds": 2, "hidden": 32, "depth": 2}
    c = dataclasses.replace(compare.load_comparison(None, flags, "nsgan", "none"), escape_steps=6)
    (tmp_path / "comparison.toml").write_text(compare.comparison_toml(c))
    moved = dataclasses.replace(c, primary_budget=10)
    with pytest.raises(ConfigError, match="primary_budget 20 -> 10"):
        compare.check_declared(moved, tmp_path, force=False)
    compare.check_declared(moved, tmp_path, force=True)  # taken with --force
    compare.check_declared(c, tmp_path, force=False)  # the same declaration: fine
