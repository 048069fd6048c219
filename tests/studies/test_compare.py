"""compare-losses: files, columns, figures that match the logs, and reruns that skip."""

import csv
import dataclasses
import json
import shutil

import numpy as np
import pytest
from scipy.stats import spearmanr

from gancli.cli import main
from gancli.config import ConfigError
from gancli.quality.evaluator import REJECT
from gancli.report import claims
from gancli.report.runs import load_runs
from gancli.studies import compare
from tests.conftest import TINY


@pytest.fixture(scope="module")
def comparison_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp")
    flags = {**TINY, "seeds": 2, "steps": 80, "eval_every": 20}
    c = compare.load_comparison(None, flags, "gan,nsgan,wgan", "narrow")
    c = dataclasses.replace(c, escape_steps=60)
    compare.run_comparison(c, out, quiet=True, log=lambda m: None)
    return out, c


def test_every_file_with_the_right_columns(comparison_dir):
    out, _ = comparison_dir
    for name in ("report.md", "report.html", "summary.csv", "summary.json", "comparison.toml"):
        assert (out / name).is_file(), name
    plots = ("verdicts", "quality", "losses", "samples", "tracking", "gradient_probe", "escape",
             "coverage")  # fmt: skip
    for name in plots:
        assert (out / "plots" / f"{name}.png").stat().st_size > 1000, name
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert list(rows[0]) == ["run", "loss", "weak_generator", "generator_variant", "seed",
                             "modes", "modes_any", "hq_frac", "mode_kl", "hq_kl", "w1",
                             "diverged", "wall_time_s"]  # fmt: skip
    pairs = sorted((r["run"], int(r["seed"])) for r in rows)
    runs = ["gan", "gan-narrow", "nsgan", "nsgan-narrow", "wgan", "wgan-narrow"]
    assert pairs == [(run, s) for run in runs for s in (0, 1)]
    summary = json.loads((out / "summary.json").read_text())
    # each claim's verdict is its primary budget's row (the final step by default; claim 1:
    # the probe's last step), not the best-looking one
    assert summary["primary_budget"] == 80
    for claim, budget in zip(summary["claims"], [60, 80, 80, 80], strict=True):
        assert claim["primary_budget"] == budget  # claim 1: the probe's 60 steps
        row = next(b for b in claim["by_budget"] if b["budget"] == budget)
        assert (claim["verdict"], claim["why"]) == (row["verdict"], row["why"])
        assert claim["headline"] == f"{row['verdict']} at the primary budget ({budget} steps)"
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(plots)
    md = (out / "report.md").read_text()
    assert "## Claims" in md and md.count("### ") == 4
    # the settings each run actually used, read from its config.toml
    assert summary["runs"]["wgan"]["settings"]["optimizer"] == "rmsprop"
    assert summary["runs"]["gan"]["settings"]["beta1"] == 0.5
    assert "| wgan | rmsprop | 5e-05 | 5e-05 |" in md
    # every claim is judged at every evaluation step after 0 (claim 1: at its own steps)
    for claim in summary["claims"][1:]:
        assert [b["budget"] for b in claim["by_budget"]] == [20, 40, 60, 80]
    assert [b["budget"] for b in summary["claims"][0]["by_budget"]] == [10, 20, 30, 40, 50, 60]
    # each loss's run directory is a normal run: it samples
    assert main(["sample", str(out / "wgan"), "--n", "10", "--out", str(out / "w.png")]) == 0


def test_tracking_figures_match_a_direct_computation(comparison_dir):
    out, c = comparison_dir
    runs = load_runs(c, out)
    claim = claims.claim_tracking(runs, "w1", 80)
    metrics = [json.loads(x) for x in (out / "wgan" / "metrics.jsonl").read_text().splitlines()]
    evals = [json.loads(x) for x in (out / "wgan" / "eval.jsonl").read_text().splitlines()]
    rhos = []
    for seed in (0, 1):
        loss = {r["step"]: r["d_loss"] for r in metrics if r["seed"] == seed}
        e = [r for r in evals if r["seed"] == seed and r["step"] > 0]
        rhos.append(spearmanr([-loss[r["step"]] for r in e], [r["w1"] for r in e]).statistic)
    final = claim["by_budget"][-1]["runs"]["wgan"]
    assert final["within_run_rho"]["mean"] == pytest.approx(np.mean(rhos))
    assert final["within_run_rho"]["n"] == 2
    # 2 seeds are too few for a correlation across seeds
    assert final["cross_seed_rho"]["mean"] is None and claim["verdict"] == claims.INCONCLUSIVE


def test_claim1_figures_match_the_probes(comparison_dir):
    out, c = comparison_dir
    escape = json.loads((out / "escape_probe.json").read_text())
    assert list(escape["starts"]) == ["init", "trained"] and escape["arms"] == ["sgd", "adam"]
    assert escape["starts"]["trained"]["trained_steps"] == 40  # half the run by default
    probe = escape["starts"]["init"]["probe"]
    d_fake = np.asarray(probe["d_fake"])
    mm, ns = np.asarray(probe["grad_minimax"]), np.asarray(probe["grad_nonsaturating"])
    rejected = d_fake < REJECT
    assert rejected.any(), "the probe's D should learn to reject G's initial samples"
    # minimax's gradient really is the smaller one once D rejects (the math, not a verdict)
    assert np.median(ns[rejected] / mm[rejected]) > 1
    claim = claims.claim_gradient(escape, load_runs(c, out))
    assert claim["figures"]["init_probe_median_ratio_ns_over_mm"] == pytest.approx(
        np.median(ns[rejected] / mm[rejected])
    )
    for start in escape["starts"].values():
        for arm in escape["arms"]:
            gan, nsgan = start["arms"][arm]["gan"], start["arms"][arm]["nsgan"]
            # both losses start from the same state: equal distances at step 0, no displacement
            np.testing.assert_allclose(np.asarray(gan["distance"])[:, 0],
                                       np.asarray(nsgan["distance"])[:, 0])  # fmt: skip
            assert np.all(np.asarray(gan["displacement"])[:, 0] == 0)
    if "init" in claim["by_budget"][-1]["starts"]:
        sgd = escape["starts"]["init"]["arms"]["sgd"]["nsgan"]
        row = claim["by_budget"][-1]["starts"]["init"]["sgd"]["nsgan"]
        assert row["displacement"]["mean"] == pytest.approx(
            np.mean(np.asarray(sgd["displacement"])[:, -1])
        )
    # 2 seeds: a paired test cannot reach significance, and says so
    assert claim["verdict"] == claims.INCONCLUSIVE
    assert "needs" in claim["why"] or "did not reject" in claim["why"]


def test_rerun_retrains_only_what_is_missing(comparison_dir):
    out, c = comparison_dir
    before = (out / "gan" / "metrics.jsonl").read_text()
    shutil.rmtree(out / "nsgan")
    result = compare.run_comparison(c, out, quiet=True, log=lambda m: None)
    status = {k: v["status"] for k, v in result["runs"].items()}
    assert status["nsgan"].startswith("trained")
    assert all(v == "done earlier" for k, v in status.items() if k != "nsgan")
    assert (out / "gan" / "metrics.jsonl").read_text() == before


def test_bad_losses_are_refused(capsys):
    assert main(["compare-losses", "--losses", "gan,lsgan"]) == 2
    assert "--losses must name some of gan, nsgan, wgan" in capsys.readouterr().err


def test_rerun_with_other_settings_is_refused_or_forced(comparison_dir, tmp_path):
    out, c = comparison_dir
    changed = dataclasses.replace(c, base=c.base.replace(batch_size=32))
    with pytest.raises(ConfigError, match=r"trained with other settings \(batch_size 64 -> 32\)"):
        compare.run_comparison(changed, out, quiet=True, log=lambda m: None)
    # nothing was touched
    assert json.loads((out / "gan" / "summary.json").read_text())["step"] == 80
    fewer = dataclasses.replace(c, base=c.base.replace(steps=40))
    with pytest.raises(ConfigError, match="steps 80 -> 40"):
        compare.run_comparison(fewer, out, quiet=True, log=lambda m: None)


def test_rerun_with_other_settings_and_force_retrains(tmp_path):
    flags = {**TINY, "seeds": 2, "steps": 20, "eval_every": 10}
    c = dataclasses.replace(compare.load_comparison(None, flags, "nsgan", "none"), escape_steps=6)
    compare.run_comparison(c, tmp_path, quiet=True, log=lambda m: None)
    changed = dataclasses.replace(c, base=c.base.replace(lr_g=3e-4, lr_d=3e-4))
    result = compare.run_comparison(changed, tmp_path, quiet=True, log=lambda m: None, force=True)
    assert result["runs"]["nsgan"]["status"].startswith("trained")
    assert result["runs"]["nsgan"]["settings"]["lr_g"] == 3e-4


def test_the_escape_arms_restart_their_optimizers_at_their_own_rates():
    import jax

    from gancli import data as data_lib
    from gancli.core.step import GANProgram
    from gancli.studies.probe import (
        PROBE_LR_D,
        SGD_LR,
        arm_config,
        gradient_probe,
        restart_optimizers,
    )
    from tests.conftest import tiny

    cfg = tiny(loss="gan", seeds=2, lr_d=2e-4, lr_g=3e-4)
    data = data_lib.load("ring8")
    _, state = gradient_probe(cfg, data, d_steps=10)
    assert np.allclose(state.d.opt.hyperparams["learning_rate"], PROBE_LR_D)
    adam = restart_optimizers(GANProgram.build(arm_config(cfg, "adam", "gan"), data), state)
    np.testing.assert_allclose(adam.d.opt.hyperparams["learning_rate"], [2e-4, 2e-4])
    np.testing.assert_allclose(adam.g.opt.hyperparams["learning_rate"], [3e-4, 3e-4])
    np.testing.assert_allclose(adam.hparams["lr_d"], [2e-4, 2e-4])
    mu = jax.tree.leaves(adam.d.opt.inner_state[0].mu)  # a fresh Adam: no momentum carried
    assert all(np.all(np.asarray(m) == 0) for m in mu)
    sgd = restart_optimizers(GANProgram.build(arm_config(cfg, "sgd", "nsgan"), data), state)
    np.testing.assert_allclose(sgd.g.opt.hyperparams["learning_rate"], [SGD_LR, SGD_LR])


def test_under_the_sgd_arm_a_generator_step_is_the_rate_times_its_gradient():
    """Plain SGD, no momentum, no rescaling: ||theta_G(1) - theta_G(0)|| = lr ||grad||.
    (Under Adam the step would be ~lr per parameter whatever the gradient's size.)"""
    import jax
    import jax.numpy as jnp
    import optax

    from gancli import data as data_lib
    from gancli.core.step import GANProgram
    from gancli.studies.probe import SGD_LR, arm_config, restart_optimizers
    from tests.conftest import tiny

    data = data_lib.load("ring8")
    for loss in ("gan", "nsgan"):
        program = GANProgram.build(arm_config(tiny(loss=loss, seeds=2), "sgd", loss), data)
        state = jax.tree.map(jnp.copy, restart_optimizers(program, program.init()))
        g0 = jax.tree.map(jnp.copy, state.g.params)
        state, m = program.run_chunk(1)(state, program.put_data(data.array))
        moved = jax.vmap(lambda p, q: optax.tree.norm(jax.tree.map(jnp.subtract, p, q)))(
            state.g.params, g0
        )
        np.testing.assert_allclose(moved, SGD_LR * np.asarray(m["g_grad_norm"]), rtol=1e-4)


def test_the_probes_d_trains_on_gs_samples_as_training_makes_them():
    """Claim 1's D-alone phase trains D on the samples the measured G gradient sees: G in
    training mode, normalised by its batch, as in train's own D update. With G's population
    statistics poisoned (NaN) nothing may change: a D trained on eval-mode samples (the
    probe before PROBE_VERSION 3) turns NaN."""
    import jax
    import jax.numpy as jnp

    from gancli import data as data_lib
    from gancli.core.step import GANProgram
    from gancli.studies.probe import gradient_probe
    from tests.conftest import tiny

    cfg = tiny(loss="gan", seeds=2, g_batchnorm=True)
    data = data_lib.load("ring8")
    state = GANProgram.build(cfg, data).init()
    assert jax.tree.leaves(state.g.stats)  # the generator has population statistics
    poisoned = state.replace(g=state.g.replace(
        stats=jax.tree.map(lambda x: jnp.full_like(x, jnp.nan), state.g.stats)))  # fmt: skip
    figures, end = gradient_probe(cfg, data, d_steps=10, every=5, state=poisoned)
    for name in ("d_fake", "grad_minimax", "grad_nonsaturating"):
        assert np.isfinite(np.asarray(figures[name])).all(), name
    assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(end.d.params))
