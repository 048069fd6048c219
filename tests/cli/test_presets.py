"""Experiment files and reproduce presets by name, from any directory (package data)."""

import json
import tomllib
from pathlib import Path

import pytest

from gancli import presets
from gancli.cli import main
from gancli.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_presets_lists_every_shipped_file_with_its_kind(capsys):
    assert main(["presets", "--json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    files = sorted(presets.ROOT.rglob("*.toml"))
    assert sorted(Path(p["path"]) for p in listed.values()) == files
    assert listed["demo_nsgan_ring8"]["kind"] == "train"
    assert listed["compare_ring8"]["kind"] == "compare"
    assert listed["pacgan_ring"]["kind"] == "reproduce"
    assert all(p["summary"] for p in listed.values())


def test_the_checkouts_experiments_directory_is_the_packaged_one():
    assert (ROOT / "experiments").resolve() == presets.ROOT.resolve()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["gancli"]
    shipped = {p for pattern in package_data for p in (ROOT / "gancli").glob(pattern)}
    assert shipped == set(presets.ROOT.rglob("*.toml"))  # a wheel carries every file


def test_train_config_by_name_from_another_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name in ("demo_nsgan_ring8", "demo_nsgan_ring8.toml", "experiments/demo_nsgan_ring8.toml"):
        assert main(["train", "--config", name, "--print-config"]) == 0
        assert "\nseeds = 4\n" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_a_local_file_wins_over_a_shipped_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo_nsgan_ring8").write_text("seeds = 7\n")
    assert main(["train", "--config", "demo_nsgan_ring8", "--print-config"]) == 0
    assert "\nseeds = 7\n" in capsys.readouterr().out


def test_reproduce_presets_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert presets.find("pacgan_ring", reproduce=True) == (
        presets.ROOT / "reproduce" / "pacgan_ring.toml"
    )
    with pytest.raises(
        ConfigError,
        match="config file not found: pacgan_rign .nor a shipped experiment of that name: "
        "pacgan_grid, pacgan_ring",
    ):
        presets.find("pacgan_rign", reproduce=True)


def test_an_unknown_name_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--config", "demo_nsgan", "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err.startswith("error: config file not found: demo_nsgan (nor a shipped experiment")
        and "\n" not in err
    )
