"""`gancli train --print-config` and the one reference of every config field."""

from pathlib import Path

from gancli import config as config_lib
from gancli import config_help, config_io
from gancli.cli import main
from gancli.config import FIELDS
from gancli.config_help import FIELD_HELP

DOCS = Path(__file__).resolve().parents[2] / "docs" / "config.md"


def test_every_field_has_a_meaning_and_docs_config_md_is_current():
    assert set(FIELD_HELP) == set(FIELDS)
    assert DOCS.read_text() == config_help.reference_markdown(), (
        "docs/config.md is stale: regenerate it with "
        "python -c 'from gancli.config_help import reference_markdown as r; print(r(), end=\"\")' "
        "> docs/config.md"
    )
    for name in FIELDS:
        assert f"| `{name}` |" in DOCS.read_text()


def test_print_config_is_the_resolved_experiment_with_every_field_and_trains_nothing(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    argv = ["train", "--loss", "wgan", "--seeds", "3", "--set", "d_maxout=2",
            "--lr-d", "1e-4,2e-4", "--print-config"]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []  # nothing run, nothing written
    for name in FIELDS:
        assert f"\n{name} =" in text or f"# {name} unset" in text or f"[{name}]" in text, name
    assert f"# {FIELD_HELP['d_maxout']}\nd_maxout = 2" in text
    path = tmp_path / "printed.toml"
    path.write_text(text)
    cfg = config_lib.resolve(config_io.load(path))
    assert (cfg.loss, cfg.seeds, cfg.d_maxout, cfg.optimizer) == ("wgan", 3, 2, "rmsprop")
    assert cfg.points == [{"lr_d": 1e-4}, {"lr_d": 2e-4}]
