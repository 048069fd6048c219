"""Sweeps: grid and random expansion, TOML round trips, and replicas that equal single runs."""

import tomllib

import jax
import numpy as np
import pytest

from gancli import config as config_lib
from gancli import config_io, sweep
from gancli import data as data_lib
from gancli.config import ConfigError
from gancli.core.step import GANProgram
from tests.conftest import log_rows, tiny


def test_grid_is_every_combination_in_field_order():
    pts = sweep.grid({"clip": [0.005, 0.01, 0.02], "lr_d": [5e-5, 2e-4]})
    assert len(pts) == 6
    assert pts[0] == {"lr_d": 5e-5, "clip": 0.005} and pts[-1] == {"lr_d": 2e-4, "clip": 0.02}


def test_flags_make_a_grid_of_replicas():
    flags = {"loss": "wgan", "clip": [0.005, 0.01, 0.02], "lr_d": [5e-5, 2e-4], "seeds": 4}
    cfg = config_lib.resolve(config_io.from_mapping(flags))
    assert cfg.num_replicas == 24 and cfg.swept == ["lr_d", "clip"]
    reps = cfg.replicas
    assert reps[0] == {"seed": 0, "lr_d": 5e-5, "clip": 0.005}
    assert reps[5] == {"seed": 1, "lr_d": 5e-5, "clip": 0.01}  # point-major, seeds inside
    hp = cfg.hparams()
    assert hp["clip"][:8] == [0.005] * 4 + [0.01] * 4
    assert hp["lr_g"] == [5e-5] * 24  # unswept fields keep the config's value


def test_random_draws_are_reproducible_and_in_range():
    spec = {"count": 200, "seed": 3, "lr_d": {"log_uniform": [1e-5, 1e-3]},
            "beta1": {"choice": [0.5, 0.9]}, "beta2": {"uniform": [0.9, 0.999]}}  # fmt: skip
    a, b = sweep.random(spec), sweep.random(spec)
    assert a == b and len(a) == 200
    lr = np.array([p["lr_d"] for p in a])
    assert lr.min() >= 1e-5 and lr.max() <= 1e-3
    # log-uniform: about half the draws below the geometric midpoint 1e-4
    assert 0.4 < np.mean(lr < 1e-4) < 0.6
    assert {p["beta1"] for p in a} == {0.5, 0.9}
    assert all(0.9 <= p["beta2"] <= 0.999 for p in a)
    assert sweep.random({**spec, "seed": 4}) != a


def test_sweep_table_grid_times_random_and_round_trip(tmp_path):
    text = """
loss = "wgan"
seeds = 2
[sweep.grid]
clip = [0.01, 0.02]
[sweep.random]
count = 3
seed = 0
lr_d = {log_uniform = [1e-5, 1e-3]}
"""
    cfg = config_lib.resolve(config_io.from_mapping(tomllib.loads(text)))
    assert len(cfg.sweep) == 6 and cfg.num_replicas == 12
    assert {dict(p)["clip"] for p in cfg.sweep} == {0.01, 0.02}
    path = tmp_path / "config.toml"
    config_io.save(cfg, path)
    again = config_lib.resolve(config_io.load(path))
    assert again == cfg  # the run directory's config.toml records the points exactly


def test_a_scalar_flag_takes_a_field_out_of_the_sweep():
    cfg = config_io.from_mapping({"clip": [0.01, 0.02], "lr_d": [1e-4, 2e-4]})
    narrowed = config_io.from_mapping({"clip": 0.05}, cfg)
    assert narrowed.clip == 0.05 and narrowed.swept == ["lr_d"] and len(narrowed.sweep) == 2
    single = config_io.from_mapping({"lr_d": 3e-4}, narrowed)
    assert single.sweep == () and single.lr_d == 3e-4


@pytest.mark.parametrize(
    "values,message",
    [
        ({"n_critic": [1, 5]}, "unknown setting|must be int"),
        ({"sweep": {"grid": {"n_critic": [1, 5]}}}, "cannot sweep 'n_critic' in one program"),
        (
            {
                "sweep": {
                    "random": {"lr_d": {"log_uniform": [1e-3, 1e-5]}},
                }
            },
            "needs count",
        ),
        ({"sweep": {"random": {"count": 2, "lr_d": {"gauss": [0, 1]}}}}, "must be one of"),
        ({"sweep": {"grid": {"clip": [0.01, -1.0]}}}, "clip must be a positive number"),
        ({"sweep": {"grid": {"beta1": [0.5, 1.5]}}}, "beta1 must be in"),
    ],
)
def test_bad_sweeps_are_one_readable_error(values, message):
    with pytest.raises(ConfigError, match=message):
        config_lib.resolve(config_io.from_mapping(values))


def test_parse_list_flag():
    assert sweep.parse_list("0.005,0.01", "--clip") == [0.005, 0.01]
    assert sweep.parse_list("0.01", "--clip") == 0.01
    with pytest.raises(ConfigError, match="--clip takes a number"):
        sweep.parse_list("0.01,abc", "--clip")


@pytest.mark.parametrize("loss", ["wgan", "nsgan"])
def test_a_replica_is_the_single_run_with_its_point_and_seed(loss):
    """Same computation: a sweep's replica (point 1, seed 1) against a 1-point run."""
    pts = {"wgan": {"clip": [0.01, 0.05], "lr_d": [5e-5, 5e-4]},
           "nsgan": {"lr_g": [1e-4, 1e-3], "beta1": [0.5, 0.9]}}[loss]  # fmt: skip
    cfg = config_lib.resolve(config_io.from_mapping({**pts, "seeds": 2}, tiny(loss=loss)))
    data = data_lib.load(cfg.dataset)
    sweep_p = GANProgram.build(cfg, data)
    state, _ = sweep_p.run_chunk(20)(sweep_p.init(), sweep_p.put_data(data.array))
    z = jax.random.normal(jax.random.key(9), (cfg.num_replicas, 256, cfg.z_dim))
    swept = np.asarray(sweep_p.sample(state, z))
    for r in (0, 3, 5, 6):
        point, seed = r // cfg.seeds, cfg.replicas[r]["seed"]
        one = config_lib.resolve(cfg.point_config(point).replace(seed=seed, seeds=1))
        one_p = GANProgram.build(one, data)
        s1, _ = one_p.run_chunk(20)(one_p.init(), one_p.put_data(data.array))
        x1 = np.asarray(one_p.sample(s1, z[r : r + 1]))[0]
        np.testing.assert_allclose(swept[r], x1, rtol=2e-4, atol=2e-5)
    # and the points really differ
    assert not np.allclose(swept[1], swept[3], atol=1e-3)


def test_sweep_run_rows_resume_sample_and_eval(tmp_path):
    """Every row carries its seed and swept values; resume continues the whole sweep."""
    import json

    from gancli.run import runner, sampling

    cfg = config_io.from_mapping({"clip": [0.01, 0.03], "seeds": 2}, tiny(loss="wgan", steps=40))
    out = tmp_path / "sweep"
    runner.train(cfg, out, quiet=True)
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert {(r["seed"], r["clip"]) for r in rows} == {(0, 0.01), (1, 0.01), (0, 0.03), (1, 0.03)}
    evals = [json.loads(x) for x in (out / "eval.jsonl").read_text().splitlines()]
    assert all("clip" in r and "w1" in r for r in evals)
    summary = json.loads((out / "summary.json").read_text())
    assert [s["clip"] for s in summary["seeds"]] == [0.01, 0.01, 0.03, 0.03]
    assert [p["clip"] for p in summary["points"]] == [0.01, 0.03]
    w1 = [s["w1"] for s in summary["seeds"][2:]]
    assert summary["points"][1]["mean"]["w1"] == pytest.approx(np.mean(w1))
    assert "[sweep]" in (out / "config.toml").read_text()

    # resume the sweep from its step-20 checkpoint: the same numbers as straight through
    again = tmp_path / "again"
    runner.train(cfg.replace(steps=20), again, quiet=True)
    runner.resume(again, {"steps": 40}, quiet=True)
    assert log_rows(again / "metrics.jsonl") == log_rows(out / "metrics.jsonl")

    # sample and eval work per replica and for all
    run, x = sampling.draw(out, 50, seed_index=3)
    assert x.shape == (50, 2)
    _, xs = sampling.draw(out, 50, all_seeds=True)
    np.testing.assert_array_equal(xs[3], x)
    with pytest.raises(ConfigError, match="4 replicas \\(2 points x 2 seeds\\)"):
        sampling.draw(out, 5, seed_index=4)
    ev = sampling.evaluate_run(out)
    assert [r["clip"] for r in ev["seeds"]] == [0.01, 0.01, 0.03, 0.03]
    np.testing.assert_allclose([r["w1"] for r in ev["seeds"]], [s["w1"] for s in summary["seeds"]])
