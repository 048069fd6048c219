"""The host loop around the compiled core: what a run directory holds, and that it is right.

Every number the loop writes is checked against the compiled core called directly, so a
mislabelled step, a swapped seed or a lost chunk in the delayed-logging path fails here.
"""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gancli import data as data_lib
from gancli import estimates, sweep
from gancli.config import HOST_FIELDS, ConfigError
from gancli.core import step as step_lib
from gancli.core.step import METRIC_NAMES, GANProgram
from gancli.run import runner
from gancli.run.loop import chunk_end
from gancli.run.rundir import read_jsonl
from tests.conftest import expected_git_commit, tiny


def test_chunks_end_at_every_log_eval_and_checkpoint_step_and_at_the_end():
    cfg = tiny(steps=70, log_every=10, eval_every=25, checkpoint_every=30)
    ends, step = [], 0
    while step < cfg.steps:
        step = chunk_end(cfg, step)
        ends.append(step)
    assert ends == [10, 20, 25, 30, 40, 50, 60, 70]


@pytest.fixture(scope="module")
def two_seed_run(tmp_path_factory):
    cfg = tiny(seeds=2, seed=5, steps=40)
    out = tmp_path_factory.mktemp("runner") / "run"
    return cfg, runner.train(cfg, out, quiet=True)


def test_logged_rows_are_the_compiled_chunks_own_means_at_the_right_steps(two_seed_run):
    cfg, result = two_seed_run
    rows = read_jsonl(result.run_dir / "metrics.jsonl")
    assert [(r["step"], r["seed"]) for r in rows] == [
        (s, k) for s in (10, 20, 30, 40) for k in (5, 6)
    ]
    # The same program, called chunk by chunk with no loop around it.
    data = data_lib.load(cfg.dataset)
    program = GANProgram.build(cfg, data)
    state, array = program.init(), program.put_data(data.array)
    for step in (10, 20, 30, 40):
        state, m = program.run_chunk(10)(state, array)
        for i, seed in enumerate((5, 6)):
            row = next(r for r in rows if r["step"] == step and r["seed"] == seed)
            for k in METRIC_NAMES:
                assert row[k] == pytest.approx(float(m[k][i]), rel=1e-6), (step, seed, k)
            assert row["diverged"] is False


def test_eval_rows_and_summary_agree_with_each_other(two_seed_run):
    _, result = two_seed_run
    evals = read_jsonl(result.run_dir / "eval.jsonl")
    assert sorted({r["step"] for r in evals}) == [0, 20, 40]
    final = [r for r in evals if r["step"] == 40]
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["step"] == 40 and [s["seed"] for s in summary["seeds"]] == [5, 6]
    for k in ("w1", "modes", "hq_frac"):
        values = [r[k] for r in final]
        assert [s[k] for s in summary["seeds"]] == values
        mean, sd = np.mean(values), np.std(values, ddof=1)
        assert summary["mean"][k] == pytest.approx(mean)
        assert summary["std"][k] == pytest.approx(sd)
        # the interval the statistics module gives these seeds' values (its method is
        # tested in test_stats.py): the loop passes it the right values
        ci = estimates.mean_ci(values)
        assert summary["ci95"][k] == [pytest.approx(ci.lo), pytest.approx(ci.hi)]
    assert summary["diverged"] == 0 and summary["seed_steps_per_s"] > 0


def test_env_json_records_what_touches_the_numbers(two_seed_run):
    _, result = two_seed_run
    env = json.loads((result.run_dir / "env.json").read_text())
    for pkg in ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "numpy"):
        assert env["versions"][pkg], pkg
    assert env["backend"] == jax.default_backend()
    assert env["devices"] == [str(d) for d in jax.devices()]
    assert env["git_commit"] == expected_git_commit()


def test_load_run_restores_the_chosen_checkpoint(two_seed_run):
    cfg, result = two_seed_run
    run = runner.load_run(result.run_dir, step=20)
    assert run.step == 20 and run.cfg == cfg
    assert np.asarray(run.state.step).tolist() == [20, 20]
    newest = runner.load_run(result.run_dir)
    assert newest.step == 40
    a = jax.tree.leaves(run.state.g.params)[0]
    b = jax.tree.leaves(newest.state.g.params)[0]
    assert not np.array_equal(a, b)


def test_resume_accepts_host_settings_and_refuses_the_rest():
    saved = tiny(steps=40)
    cfg = runner.check_resume_overrides(saved, {"steps": 80, "log_every": 5, "lr_d": None})
    assert (cfg.steps, cfg.log_every, cfg.lr_d) == (80, 5, saved.lr_d)
    assert set(HOST_FIELDS) >= {"steps", "log_every", "eval_every", "checkpoint_every", "keep"}
    with pytest.raises(ConfigError, match=r"lr-d .* -> 0\.5.*only .*steps"):
        runner.check_resume_overrides(saved, {"lr_d": 0.5})
    with pytest.raises(ConfigError, match="loss 'nsgan' -> 'wgan'"):
        runner.check_resume_overrides(saved, {"loss": "wgan"})


def test_a_sweeps_summary_has_each_points_mean_over_its_own_seeds(tmp_path):
    cfg = tiny(seeds=2, steps=20, eval_every=20)
    cfg = cfg.replace(sweep=tuple(sweep.as_point(p) for p in sweep.grid({"lr_d": [1e-4, 1e-3]})))
    result = runner.train(cfg, tmp_path / "sweep", quiet=True)
    summary = json.loads((result.run_dir / "summary.json").read_text())
    rows = summary["seeds"]
    assert [(r["lr_d"], r["seed"]) for r in rows] == [(1e-4, 0), (1e-4, 1), (1e-3, 0), (1e-3, 1)]
    for p, point in enumerate(summary["points"]):
        mine = [r["w1"] for r in rows[2 * p : 2 * p + 2]]
        assert point["lr_d"] == rows[2 * p]["lr_d"]
        assert point["mean"]["w1"] == pytest.approx(estimates.mean_std(mine)[0])


def test_an_equal_program_reuses_the_compiled_chunk():
    """Programs that differ only in host settings, seeds or swept values are one program
    to jit, so compare-losses and resume compile once; a structural change is another."""
    data = data_lib.load("ring8")
    a = GANProgram.build(tiny(seeds=2), data)
    b = GANProgram.build(tiny(seeds=2, seed=9, steps=400, log_every=7, lr_d=3e-4), data)
    c = GANProgram.build(tiny(seeds=2, n_critic=2), data)
    assert a == b and hash(a) == hash(b) and a != c
    array = a.put_data(data.array)
    a.run_chunk(3)(a.init(), array)
    compiled = step_lib.chunk._cache_size()
    state = b.init()
    before = jnp.copy(jax.tree.leaves(state.d.params)[0])
    state, _ = b.run_chunk(3)(state, array)
    assert step_lib.chunk._cache_size() == compiled  # b ran a's executable
    assert not np.array_equal(before, jax.tree.leaves(state.d.params)[0])
    c.run_chunk(3)(c.init(), array)
    assert step_lib.chunk._cache_size() == compiled + 1
