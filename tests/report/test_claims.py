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


# ---- headline and the primary budget --------------------------------------------------------


def test_the_verdict_is_the_primary_budgets_and_the_others_are_descriptive():
    rows = [{"budget": b, "verdict": v, "why": f"at {b}"} for b, v in
            [(100, INCONCLUSIVE), (200, INCONCLUSIVE), (300, SUPPORTED), (400, SUPPORTED),
             (500, INCONCLUSIVE)]]  # fmt: skip
    c = claims._claim("x", "", rows, {}, 300)
    assert c["verdict"] == SUPPORTED and c["why"] == "at 300" and c["primary_budget"] == 300
    assert c["headline"] == "supported at the primary budget (300 steps)"
    assert c["descriptive"] == "supported at 400 steps; inconclusive at 100-200, 500 steps"
    late = claims._claim("x", "", rows, {}, 500)
    assert late["verdict"] == INCONCLUSIVE  # not the best-looking budget
    missing = claims._claim("x", "", rows, {}, 250)
    assert missing["verdict"] == INCONCLUSIVE and "no evaluation at the primary" in missing["why"]


# ---- claim 1 -------------------------------------------------------------------------------


def arm(mm_disp, ns_disp, mm_fall, ns_fall):
    """Per loss: displacement growing linearly to the given totals, distances falling by
    the given totals, over 3 chunks."""

    def series(total, start):
        return [[start + v * k / 3 for k in range(4)] for v in total]

    def loss(disp, fall):
        n = len(disp)
        return {"displacement": series(disp, 0.0), "distance": series([-f for f in fall], 1.0),
                "grad_norm": [[d] * 3 for d in disp], "d_fake": [[0.01] * 3] * n}  # fmt: skip

    return {"gan": loss(mm_disp, mm_fall), "nsgan": loss(ns_disp, ns_fall)}


def escape(sgd, adam=None, start_d_fake=0.01, starts=("init",)):
    n = len(sgd["gan"]["displacement"])
    probe = {"d_fake": [[0.5, start_d_fake]] * n, "grad_minimax": [[1.0, 0.01]] * n,
             "grad_nonsaturating": [[1.0, 1.0]] * n}  # fmt: skip
    return {"steps": [0, 100, 200, 300], "metric": "w1", "arms": ["sgd", "adam"], "sgd_lr": 0.01,
            "starts": {s: {"probe": probe, "arms": {"sgd": sgd, "adam": adam or sgd}}
                       for s in starts}}  # fmt: skip


NS_FAR = [0.3, 0.4, 0.2, 0.5, 0.3, 0.35]
STALL = [1e-4, 2e-4, 1e-4, 3e-4, 1e-4, 2e-4]


def test_claim1_supported_when_under_sgd_the_minimax_g_stalls():
    sgd = arm(STALL, NS_FAR, [0.0] * 6, NS_FAR)
    adam = arm(NS_FAR, NS_FAR, [-0.4] * 6, NS_FAR)  # moves under Adam, but away from the data
    c = claims.claim_gradient(escape(sgd, adam), {})
    assert [b["verdict"] for b in c["by_budget"]] == [SUPPORTED] * 3
    assert c["primary_budget"] == 300
    assert c["why"].startswith("under SGD the minimax G moves less than the non-saturating G")
    assert "Wilcoxon signed-rank, n = 6 vs 6, p = 0.0156" in c["why"]  # 1/2^6
    assert "Adam (descriptive)" in c["why"] and "w1 rose by 0.4" in c["why"]


def test_claim1_adam_alone_decides_nothing():
    """Under SGD both G move alike; under Adam NS escapes: the claim about gradient size is
    not shown by Adam's arm."""
    sgd = arm(NS_FAR, NS_FAR, NS_FAR, NS_FAR)
    adam = arm(STALL, NS_FAR, [0.0] * 6, NS_FAR)
    c = claims.claim_gradient(escape(sgd, adam), {})
    assert c["verdict"] == INCONCLUSIVE


def test_claim1_holm_over_two_starts_needs_more_seeds():
    sgd = arm(STALL, NS_FAR, [0.0] * 6, NS_FAR)
    c = claims.claim_gradient(escape(sgd, starts=("init", "trained")), {})
    # 6 pairs: p = 1/64 each, Holm-adjusted 2/64 and 1/64 < 0.05: still supported
    assert c["verdict"] == SUPPORTED and "Holm-adjusted 0.0312 of 2" in c["why"]
    five = arm(STALL[:5], NS_FAR[:5], [0.0] * 5, NS_FAR[:5])  # 1/32 x 2 = 0.0625
    c5 = claims.claim_gradient(escape(five, starts=("init", "trained")), {})
    assert c5["verdict"] == INCONCLUSIVE and "needs 6 seeds" in c5["why"]


def test_claim1_with_too_few_seeds_says_how_many():
    c = claims.claim_gradient(escape(arm(STALL[:4], NS_FAR[:4], [0] * 4, NS_FAR[:4])), {})
    assert c["verdict"] == INCONCLUSIVE and "needs 5 seeds" in c["why"]


def test_claim1_not_supported_when_the_minimax_g_moves_further_under_sgd():
    c = claims.claim_gradient(escape(arm(NS_FAR, STALL, NS_FAR, [0.0] * 6)), {})
    assert c["verdict"] == NOT_SUPPORTED
    assert c["why"].startswith("under SGD the minimax G moves further")


def test_claim1_inconclusive_when_d_never_rejected():
    c = claims.claim_gradient(escape(arm(STALL, NS_FAR, [0] * 6, NS_FAR), start_d_fake=0.4), {})
    assert c["verdict"] == INCONCLUSIVE and "D did not reject" in c["why"]


def test_claim1_reports_the_share_of_individual_samples_d_rejects_in_training():
    ev = {0: {t: {"w1": 1.0, "d_fake_rejected": r, "d_fake_q10": 0.05, "d_fake_q50": 0.4,
                  "d_fake_q90": 0.6} for t, r in zip(STEPS, [0.0, 0.3, 0.1, 0.0, 0.0, 0.2],
                                                     strict=True)}}  # fmt: skip
    runs = {"gan": run("gan", ev)}
    c = claims.claim_gradient(None, runs)
    assert c["figures"]["gan_share_of_samples_rejected"].startswith("mean 10.0%, largest 30.0%")
    assert c["figures"]["gan_d_fake_q10_q50_q90"] == "0.05 / 0.4 / 0.6"
    assert c["figures"]["gan_share_rejected_at_step_0"] == "0.0%"
    assert c["verdict"] == INCONCLUSIVE


# ---- claim 2 -------------------------------------------------------------------------------


def test_claim2_few_modes_is_collapse():
    runs = {"nsgan": run("nsgan", with_modes([1, 2, 1, 2, 3, 1]))}
    c = claims.claim_collapse(runs, "modes", 8, 500)
    assert (
        c["verdict"] == SUPPORTED and c["headline"] == "supported at the primary budget (500 steps)"
    )
    hist = c["figures"]["coverage_histogram"]["nsgan"]
    assert hist[:4] == [0.0, 0.5, 5 / 6, 1.0] and hist[-1] == 1.0


def test_claim2_seven_of_eight_is_not_collapse():
    runs = {"gan": run("gan", with_modes([8, 7, 8, 7, 8, 8])),
            "nsgan": run("nsgan", with_modes([7, 8, 8, 8, 6, 7]))}  # fmt: skip
    c = claims.claim_collapse(runs, "modes", 8, 500)
    assert c["verdict"] == NOT_SUPPORTED
    # all 8 on every seed is evidence, not an interval of certainty
    same = {"gan": run("gan", with_modes([8] * 8)), "nsgan": run("nsgan", with_modes([8] * 8))}
    c8 = claims.claim_collapse(same, "modes", 8, 500)
    assert c8["verdict"] == NOT_SUPPORTED and "8 (all 8 equal)" in c8["why"]


def test_claim2_reports_all_seeds_beside_the_converged_ones():
    modes = {s: {t: {"modes": m, "hq_frac": h, "w1": 0.5} for t in STEPS}
             for s, (m, h) in enumerate([(8, 0.9)] * 6 + [(0, 0.0)] * 2)}  # fmt: skip
    c = claims.claim_collapse({"gan": run("gan", modes)}, "modes", 8, 500)
    row = c["by_budget"][-1]["runs"]["gan"]
    assert row["converged"] == 6 and row["modes"]["mean"] == 8
    assert row["modes_all_seeds"]["mean"] == 6.0
    assert "over all 8" in c["why"]


def test_claim2_counts_only_converged_seeds():
    runs = {"nsgan": run("nsgan", with_modes([1, 1, 1, 1, 1, 1], hq=0.2))}  # noise: not learned
    c = claims.claim_collapse(runs, "modes", 8, 500)
    assert c["verdict"] == INCONCLUSIVE and "needs at least 2 seeds" in c["why"]


def test_claim2_straddling_ci_is_inconclusive():
    runs = {"nsgan": run("nsgan", with_modes([1, 8, 2, 7, 3, 8]))}
    assert claims.claim_collapse(runs, "modes", 8, 500)["verdict"] == INCONCLUSIVE


def test_claim2_one_collapsing_gan_of_two_needs_holm():
    # gan collapses on 5 seeds (one-sided Wilcoxon p = 1/32); Holm over two GAN losses
    # doubles it to 0.0625: not enough
    runs = {"gan": run("gan", with_modes([1, 2, 1, 2, 1])),
            "nsgan": run("nsgan", with_modes([8, 1, 8, 2, 7]))}  # fmt: skip
    c = claims.claim_collapse(runs, "modes", 8, 500)
    assert c["verdict"] == INCONCLUSIVE
    runs["gan"] = run("gan", with_modes([1, 2, 1, 2, 1, 1]))  # 6 seeds: 1/64 x 2 < 0.05
    assert claims.claim_collapse(runs, "modes", 8, 500)["verdict"] == SUPPORTED


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
    c = claims.claim_tracking(runs, "w1", 500)
    assert c["verdict"] == SUPPORTED, c["why"]
    final = c["by_budget"][-1]["runs"]
    assert final["wgan"]["within_run_rho"]["mean"] == pytest.approx(1.0)
    assert final["wgan"]["cross_seed_rho"]["mean"] == pytest.approx(1.0)
    # at 100-300 steps there are fewer than 4 evaluations for a within-run correlation
    assert c["by_budget"][0]["verdict"] == INCONCLUSIVE
    assert "permutation (cross-seed rho)" in c["why"] and "Holm-adjusted" in c["why"]


def test_claim3_not_supported_when_another_loss_ranks_runs_and_wgan_does_not():
    runs = {"wgan": tracking_run("wgan", 8, False, seed=1), "nsgan": tracking_run("nsgan", 8, True)}
    c = claims.claim_tracking(runs, "w1", 500)
    assert c["verdict"] == NOT_SUPPORTED, c["why"]


def test_claim3_a_loss_that_falls_over_time_but_does_not_rank_runs_is_told_apart():
    """-L_D tracks time (within runs) but carries no information across seeds."""
    runs = {"wgan": tracking_run("wgan", 8, True), "nsgan": tracking_run("nsgan", 8, True)}
    for r in runs["nsgan"]["metrics"]:
        r["d_loss"] = -1.0 / (1 + r["step"] / 100) - 0.05 * ((r["seed"] * 5) % 8)
    c = claims.claim_tracking(runs, "w1", 500)
    final = c["by_budget"][-1]
    assert final["runs"]["nsgan"]["within_run_rho"]["mean"] == pytest.approx(1.0)
    assert final["runs"]["nsgan"]["cross_seed_rho"]["mean"] < 0.5
    assert final["runs"]["wgan"]["cross_seed_rho"]["mean"] == pytest.approx(1.0)
    # wgan ranks runs better across seeds (raw p < 0.05, not after Holm over 2 tests);
    # within runs the two are equal: the verdict cannot be 'supported'
    cross = [t for t in final["tests"]["forward"] if t["name"].startswith("permutation")]
    assert cross[0]["p"] < 0.05 and not cross[0]["significant"] and cross[0]["family"] == 2
    assert c["verdict"] == INCONCLUSIVE


def test_claim3_three_seeds_are_inconclusive():
    runs = {"wgan": tracking_run("wgan", 3, True), "nsgan": tracking_run("nsgan", 3, False)}
    c = claims.claim_tracking(runs, "w1", 500)
    assert c["verdict"] == INCONCLUSIVE and "needs 4 seeds" in c["why"]


def test_claim3_cross_seed_rho_has_its_own_interval():
    from gancli.report.tracking import cross_seed_ci, estimate_and_quality

    r = tracking_run("wgan", 8, False, seed=4)
    est = cross_seed_ci(*estimate_and_quality(r, "w1", STEPS[1:]))
    assert est.n == 8 and -1 <= est.lo < est.mean < est.hi <= 1


# ---- claim 4 -------------------------------------------------------------------------------


def weak_runs(wgan_w1, other_w1, hq=0.5, wgan_hq=None):
    out = {}
    for loss, vals in (("wgan", wgan_w1), ("nsgan", other_w1)):
        h = wgan_hq if loss == "wgan" and wgan_hq is not None else hq
        ev = {s: {t: {"w1": v, "hq_frac": h[s] if isinstance(h, list) else h} for t in STEPS}
              for s, v in enumerate(vals)}  # fmt: skip
        out[loss] = run(loss, ev)
        out[f"{loss}-thin"] = run(loss, ev, weak=True)
    return out


GOOD_W1, BAD_W1 = [0.2, 0.3, 0.25, 0.2, 0.3, 0.22], [0.8, 0.9, 0.7, 0.85, 0.95, 0.75]
GOOD_HQ, BAD_HQ = [0.6, 0.7, 0.65, 0.62, 0.68, 0.7], [0.005, 0.004, 0.006, 0.005, 0.007, 0.004]


def test_claim4_supported_when_the_weak_wgan_is_closer_and_makes_more_data():
    runs = weak_runs(GOOD_W1, BAD_W1, hq=BAD_HQ, wgan_hq=GOOD_HQ)
    c = claims.claim_robustness(runs, "w1", "thin", 500)
    assert c["verdict"] == SUPPORTED, c["why"]
    assert "our 2-D manipulation" in c["claim"]
    # "wgan-thin closer than nsgan-thin": nsgan's W1 minus wgan's, positive when wgan is closer
    closer = next(t for t in c["by_budget"][-1]["tests"]["forward"] if "closer" in t["label"])
    assert closer["diff"] == pytest.approx(np.mean(BAD_W1) - np.mean(GOOD_W1))
    assert closer["diff_what"] == "mean difference b - a (w1: lower is better)"


def test_claim4_not_supported_when_another_weak_generator_is_closer():
    runs = weak_runs(BAD_W1, GOOD_W1)
    assert claims.claim_robustness(runs, "w1", "thin", 500)["verdict"] == NOT_SUPPORTED


def test_claim4_a_lower_distance_with_no_data_like_samples_counts_against_wgan():
    """The ring8 case: the weak WGAN's W1 is lower but it puts 0.5 % of its samples near a
    mode against the weak GANs' 17-34 %: WGAN did not survive."""
    runs = weak_runs(GOOD_W1, BAD_W1, hq=[0.17, 0.34, 0.2, 0.25, 0.3, 0.22], wgan_hq=BAD_HQ)
    c = claims.claim_robustness(runs, "w1", "thin", 500)
    assert c["verdict"] == NOT_SUPPORTED
    assert "significantly better: nsgan-thin more hq_frac than wgan-thin" in c["why"]


def test_claim4_nothing_learned_is_inconclusive_not_unsupported():
    runs = weak_runs([1.0] * 6, [1.2] * 6, hq=0.0)
    c = claims.claim_robustness(runs, "w1", "thin", 500)
    assert c["verdict"] == INCONCLUSIVE


def test_claim3_undefined_cross_seed_correlations_are_not_significance():
    """Quality identical across seeds: no cross-seed correlation exists, so no verdict."""
    runs = {"wgan": tracking_run("wgan", 6, True), "nsgan": tracking_run("nsgan", 6, False)}
    for run_ in runs.values():
        for r in run_["eval"]:
            r["w1"] = 1.0 / (1 + r["step"] / 100)  # the same for every seed
    c = claims.claim_tracking(runs, "w1", 500)
    assert c["verdict"] == INCONCLUSIVE
    cross = [t for t in c["by_budget"][-1]["tests"]["forward"] if "cross" in t["name"]]
    assert cross and cross[0]["p"] is None


def test_claim1_tests_only_the_seeds_whose_d_rejected():
    sgd = arm(STALL + [0.5, 0.6], NS_FAR + [1e-4, 1e-4], [0.0] * 8, NS_FAR + [0, 0])
    e = escape(sgd)
    # the last two seeds' D never rejected (batch-mean D(G(z)) 0.4): they enter no test
    e["starts"]["init"]["probe"]["d_fake"] = [[0.5, 0.01]] * 6 + [[0.5, 0.4]] * 2
    c = claims.claim_gradient(e, {})
    assert c["figures"]["init_seeds_rejected"] == "6 of 8"
    assert c["verdict"] == SUPPORTED and "n = 6 vs 6" in c["why"]


def test_claim3_cross_seed_permutation_test_is_calibrated_under_the_null():
    """Two losses whose -L_D carry the same (no) information about quality: the one-sided
    test rejects in about 5 % of simulated pairs."""
    from gancli.report.tracking import cross_seed_test

    rng = np.random.default_rng(11)
    ps = []
    for _ in range(150):
        groups = [(rng.normal(size=(6, 5)), rng.normal(size=(6, 5))) for _ in range(2)]
        ps.append(cross_seed_test(*groups).p)
    assert 0.01 <= np.mean(np.array(ps) < 0.05) <= 0.11


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_average_ranks_are_scipys_rankdata_with_ties_and_nan(axis):
    # claim 3's permutation tests rank by counting (faster); it must be rankdata exactly
    from scipy.stats import rankdata

    from gancli.report.tracking import average_ranks

    rng = np.random.default_rng(3)
    x = np.round(rng.random((7, 8, 5)), 1)  # ties
    x[2, 3, 1] = np.nan  # one NaN: its whole slice along `axis` is NaN
    want = rankdata(x, axis=axis)
    assert np.array_equal(average_ranks(x, axis), want, equal_nan=True)
    long = rng.integers(0, 9, (3, 70)).astype(float)  # > 64 along the axis: rankdata itself
    assert np.array_equal(average_ranks(long, 1), rankdata(long, axis=1))
