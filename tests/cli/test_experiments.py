"""Every ready-made experiment file in experiments/ loads and resolves to valid configs."""

from pathlib import Path

import pytest

from gancli import config as config_lib
from gancli import config_io
from gancli.studies import compare

FILES = sorted((Path(__file__).resolve().parents[2] / "experiments").glob("*.toml"))


def test_there_are_experiment_files():
    assert len(FILES) >= 6


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_experiment_file_is_valid(path):
    values = config_io.read_toml(path)
    if "datasets" in values:  # an atlas study: every dataset's comparison is validated
        from gancli.studies import atlas

        study = atlas.load_study(path)
        assert study.entries and all(atlas.comparison(e).run_names() for e in study.entries)
    elif "losses" in values:  # a compare-losses file: every run's config is validated
        comparison = compare.load_comparison(path, {}, None, None)
        assert comparison.losses and comparison.run_names()
        cfgs = [comparison.config_for(loss, weak) for _, loss, weak in comparison.run_names()]
        assert all(c.loss in config_lib.LOSS_NAMES for c in cfgs)
        for loss, table in comparison.per_loss.items():  # per-loss settings reach the runs
            cfg = comparison.config_for(loss, None)
            assert all(getattr(cfg, k) == v for k, v in table.items()), (loss, table)
    else:
        cfg = config_lib.resolve(config_io.load(path))
        config_lib.validate(cfg)
        for key, value in values.items():  # the file's values are what the run gets
            assert getattr(cfg, key.replace("-", "_")) == value, key
