"""The claims' rules on synthetic logs where the right verdict is known."""

import numpy as np
import pytest

from gancli.report import claims
from gancli.report.claims import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED

STEPS = [0, 100, 200, 300, 400, 500]


def run(loss, per_seed_eval, per_seed_metrics=None, weak=False):
    """per_seed_eval: {seed: {step: {metric: value}}}; metrics likewise (d_loss, d_fake)."""
    ev = [{"step": t, "seed": s, **m} for s, by in per_seed_eval.items() for t, m in by.items()]
    me = [
        {"step": t, "seed": s, **m}
        for s, by in (per_seed_metrics or {}).items()
        for t, m in by.items()
    ]
    seeds = [{"seed": s} for s in per_seed_eval]
    return {"loss": loss, "weak": weak, "summary": {"seeds": seeds}, "eval": ev, "metrics": me}


def flat(n, **values):
    """n seeds, every step the same metrics."""
    return {s: {t: dict(values) for t in STEPS} for s in range(n)}


def with_modes(modes, hq=0.9):
    return {
        s: {t: {"modes": m, "hq_frac": hq, "w1": 0.5} for t in STEPS} for s, m in enumerate(modes)
    }


# ---- headline ------------------------------------------------------------------------------


def test_headline_groups_consecutive_budgets():
    rows = [{"budget": b, "verdict": v} for b, v in
            [(100, INCONCLUSIVE), (200, INCONCLUSIVE), (300, SUPPORTED), (400, SUPPORTED),
             (500, INCONCLUSIVE)]]  # fmt: skip
    assert claims.headline(rows) == "supported at 300-400 steps; inconclusive at 100-200, 500 steps"


# ---- claim 1 -------------------------------------------------------------------------------


def escape(mm_moves, ns_moves, start_d_fake=0.01):
    """Distances falling linearly by the given total per seed over 3 chunks."""
    steps = [0, 100, 200, 300]

    def dist(moves):
        return [[1.0 - m * k / 3 for k in range(4)] for m in moves]

    n = len(mm_moves)
    return {
        "steps": steps,
        "metric": "w1",
        "probe": {"d_fake": [[0.5, start_d_fake]] * n},
        "gan": {"distance": dist(mm_moves)},
        "nsgan": {"distance": dist(ns_moves)},
    }


def test_claim1_supported_when_the_ns_generator_gets_further_on_every_seed():
    c = claims.claim_gradient(None, escape([0.01] * 6, [0.3, 0.4, 0.2, 0.5, 0.3, 0.35]), {})
    assert [b["verdict"] for b in c["by_budget"]] == [SUPPORTED] * 3
    assert "Wilcoxon signed-rank, n = 6 vs 6, p = 0.0156" in c["why"]  # 1/2^6


def test_claim1_with_too_few_seeds_says_how_many():
    c = claims.claim_gradient(None, escape([0.01] * 4, [0.3] * 4), {})
    assert c["verdict"] == INCONCLUSIVE and "needs 5 seeds" in c["why"]


def test_claim1_not_supported_when_minimax_gets_further():
    c = claims.claim_gradient(None, escape([0.3, 0.4, 0.5, 0.6, 0.3, 0.4], [0.0] * 6), {})
    assert c["verdict"] == NOT_SUPPORTED


def test_claim1_inconclusive_when_d_never_rejected():
    c = claims.claim_gradient(None, escape([0.01] * 6, [0.3] * 6, start_d_fake=0.4), {})
    assert c["verdict"] == INCONCLUSIVE and "D did not reject" in c["why"]


def test_claim1_reports_how_often_training_has_d_rejecting():
    d_fake = [0.5, 0.05, 0.02, 0.3, 0.4, 0.5]
    metrics = {0: {t: {"d_fake": v} for t, v in zip(STEPS, d_fake, strict=True)}}
    runs = {"gan": run("gan", flat(1, w1=1.0), metrics)}
    c = claims.claim_gradient(None, None, runs)
    assert c["figures"]["gan_share_of_logged_steps_rejected"] == "33.3%"
    assert c["verdict"] == INCONCLUSIVE


# ---- claim 2 -------------------------------------------------------------------------------


def test_claim2_few_modes_is_collapse():
    runs = {"nsgan": run("nsgan", with_modes([1, 2, 1, 2, 3, 1]))}
    c = claims.claim_collapse(runs, "modes", 8)
    assert c["verdict"] == SUPPORTED and c["headline"] == "supported at 100-500 steps"
    hist = c["figures"]["coverage_histogram"]["nsgan"]
    assert hist[:4] == [0.0, 0.5, 5 / 6, 1.0] and hist[-1] == 1.0


def test_claim2_seven_of_eight_is_not_collapse():
    runs = {"gan": run("gan", with_modes([8, 7, 8, 7, 8, 8])),
            "nsgan": run("nsgan", with_modes([7, 8, 8, 8, 6, 7]))}  # fmt: skip
    assert claims.claim_collapse(runs, "modes", 8)["verdict"] == NOT_SUPPORTED


def test_claim2_counts_only_converged_seeds():
    runs = {"nsgan": run("nsgan", with_modes([1, 1, 1, 1, 1, 1], hq=0.2))}  # noise: not learned
    c = claims.claim_collapse(runs, "modes", 8)
    assert c["verdict"] == INCONCLUSIVE and "fewer than 4 converged seeds" in c["why"]


def test_claim2_straddling_ci_is_inconclusive():
    runs = {"nsgan": run("nsgan", with_modes([1, 8, 2, 7, 3, 8]))}
    assert claims.claim_collapse(runs, "modes", 8)["verdict"] == INCONCLUSIVE


# ---- claim 3 -------------------------------------------------------------------------------


def tracking_run(loss, n, tracks: bool, seed=0):
    """w1 falls over time at a per-seed level; -L_D equals w1 (tracks) or is noise."""
    rng = np.random.default_rng(seed)
    ev, me = {}, {}
    for s in range(n):
        level = 0.2 * s
        w1 = {t: level + 1.0 / (1 + t / 100) for t in STEPS}
        ev[s] = {t: {"w1": w1[t]} for t in STEPS}
        me[s] = {t: {"d_loss": -w1[t] if tracks else float(rng.normal())} for t in STEPS}
    return run(loss, ev, me)


def test_claim3_supported_when_only_wgan_tracks_within_and_across_seeds():
    runs = {"wgan": tracking_run("wgan", 8, True), "nsgan": tracking_run("nsgan", 8, False)}
    c = claims.claim_tracking(runs, "w1")
    assert c["verdict"] == SUPPORTED, c["why"]
    final = c["by_budget"][-1]["runs"]
    assert final["wgan"]["within_run_rho"]["mean"] == pytest.approx(1.0)
    assert final["wgan"]["cross_seed_rho"] == pytest.approx(1.0)
    # at 100-300 steps there are fewer than 4 evaluations for a within-run correlation
    assert c["by_budget"][0]["verdict"] == INCONCLUSIVE


def test_claim3_a_loss_that_falls_over_time_but_does_not_rank_runs_is_caught():
    """-L_D tracks time (within runs) but carries no information across seeds."""
    runs = {"wgan": tracking_run("wgan", 8, True), "nsgan": tracking_run("nsgan", 8, True)}
    for r in runs["nsgan"]["metrics"]:
        r["d_loss"] = -1.0 / (1 + r["step"] / 100) - 0.05 * ((r["seed"] * 5) % 8)
    c = claims.claim_tracking(runs, "w1")
    final = c["by_budget"][-1]
    assert final["runs"]["nsgan"]["within_run_rho"]["mean"] == pytest.approx(1.0)
    assert final["runs"]["nsgan"]["cross_seed_rho"] < 0.5
    # within-run equal (no significant difference): not supported by this data
    assert c["verdict"] == INCONCLUSIVE


def test_claim3_three_seeds_are_inconclusive():
    runs = {"wgan": tracking_run("wgan", 3, True), "nsgan": tracking_run("nsgan", 3, False)}
    c = claims.claim_tracking(runs, "w1")
    assert c["verdict"] == INCONCLUSIVE and "needs 4 seeds" in c["why"]


# ---- claim 4 -------------------------------------------------------------------------------


def weak_runs(wgan_w1, other_w1, hq=0.5):
    out = {}
    for loss, vals in (("wgan", wgan_w1), ("nsgan", other_w1)):
        ev = {s: {t: {"w1": v, "hq_frac": hq} for t in STEPS} for s, v in enumerate(vals)}
        out[loss] = run(loss, ev)
        out[f"{loss}-thin"] = run(loss, ev, weak=True)
    return out


def test_claim4_supported_when_the_weak_wgan_is_better():
    runs = weak_runs([0.2, 0.3, 0.25, 0.2, 0.3, 0.22], [0.8, 0.9, 0.7, 0.85, 0.95, 0.75])
    assert claims.claim_robustness(runs, "w1", "thin")["verdict"] == SUPPORTED


def test_claim4_not_supported_when_another_weak_generator_is_better():
    runs = weak_runs([0.8, 0.9, 0.7, 0.85, 0.95, 0.75], [0.2, 0.3, 0.25, 0.2, 0.3, 0.22])
    assert claims.claim_robustness(runs, "w1", "thin")["verdict"] == NOT_SUPPORTED


def test_claim4_nothing_learned_is_inconclusive_not_unsupported():
    runs = weak_runs([1.0] * 6, [1.2] * 6, hq=0.0)
    c = claims.claim_robustness(runs, "w1", "thin")
    assert c["verdict"] == INCONCLUSIVE and "no weak generator learned anything" in c["why"]


def test_claim3_undefined_cross_seed_correlations_are_not_significance():
    """Quality identical across seeds: no cross-seed correlation exists, so no verdict."""
    runs = {"wgan": tracking_run("wgan", 6, True), "nsgan": tracking_run("nsgan", 6, False)}
    for run_ in runs.values():
        for r in run_["eval"]:
            r["w1"] = 1.0 / (1 + r["step"] / 100)  # the same for every seed
    c = claims.claim_tracking(runs, "w1")
    assert c["verdict"] == INCONCLUSIVE
    assert "cross-seed vs nsgan: needs at least 4 seeds" in c["why"]
