import dataclasses
import itertools
import math
import warnings

import numpy as np
import pytest
from scipy import stats as sps

from gancli import estimates, stats


def test_mean_ci_is_students_t_interval():
    v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    e = estimates.mean_ci(v)
    # by hand: sd = sqrt(6) (ddof 1), t(0.975, 7) = 2.364624, half = 2.364624 * sqrt(6/8)
    half = 2.364624 * math.sqrt(6.0 / 8)
    assert e.mean == 4.5 and e.n == 8
    assert e.lo == pytest.approx(4.5 - half, abs=1e-5) and e.hi == pytest.approx(
        4.5 + half, abs=1e-5
    )


def test_mean_ci_covers_at_eight_seeds():
    """2,000 simulated normal samples of n = 8: the nominal 95 % interval must cover the true
    mean at least 93 % of the time (the percentile bootstrap covered 88.7 % here)."""
    rng = np.random.default_rng(20261204)
    x = rng.normal(3.0, 2.0, (2000, 8))
    covered = [(e.lo <= 3.0 <= e.hi) for e in map(estimates.mean_ci, x)]
    assert np.mean(covered) >= 0.93
    # the bootstrap percentile interval, as before, would fail the same check
    boot = rng.integers(0, 8, (4000, 8))
    lo, hi = (np.quantile(x[:, boot].mean(axis=2), q, axis=1) for q in (0.025, 0.975))
    assert np.mean((lo <= 3.0) & (3.0 <= hi)) < 0.92


def test_mean_ci_drops_non_finite_and_handles_small_samples():
    assert estimates.mean_ci([1.0, None, float("nan"), 3.0]).mean == 2.0
    one = estimates.mean_ci([5.0])
    assert one.mean == 5.0 and math.isnan(one.lo) and str(one) == "5 (n=1)"
    same = estimates.mean_ci([8.0] * 8)
    assert same.constant and str(same) == "8 (all 8 equal)"
    tenth = estimates.mean_ci([0.1] * 3)  # numpy's mean of these is 0.10000000000000002
    assert tenth.constant and tenth.mean == 0.1 and str(tenth) == "0.1 (all 3 equal)"
    assert estimates.mean_std([0.1] * 3) == (0.1, 0.0)  # the same mean, and no spread at all
    assert "[" not in str(same)  # not printed as a zero-width certainty
    assert not estimates.mean_ci([1.0, 2.0]).constant
    assert estimates.mean_ci([]).n == 0 and str(estimates.mean_ci([])) == "-"


def test_few_or_no_finite_values_give_nan_without_numpys_warnings():
    # A run whose seeds all diverged, or a single seed, is common: its NaNs are the answer,
    # not a "Mean of empty slice" or "Degrees of freedom <= 0" warning on the user's screen.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for values in ([], [None, float("nan")], [3.0]):
            e = estimates.mean_ci(values)
            assert e.n == len([v for v in values if v is not None and math.isfinite(v)])
            assert math.isnan(e.lo) and math.isnan(e.hi)
            m, sd = estimates.mean_std(values)
            assert math.isnan(sd) and (math.isnan(m) if e.n == 0 else m == 3.0)


def test_an_estimate_is_a_value():
    e = estimates.mean_ci([1.0, 2.0, 3.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.mean = 0.0
    assert {e: 1}[estimates.mean_ci([1.0, 2.0, 3.0])] == 1  # hashable, equal by value


def test_holm_against_hand_computed_values():
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4 0.02, x3 0.03, x2 0.06, x1 0.04 -> running max
    assert stats.holm_p([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm_p([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    adj = stats.holm_p([0.02, float("nan"), 0.01])  # NaN stays NaN and is not counted
    assert adj[0] == pytest.approx(0.02) and math.isnan(adj[1]) and adj[2] == pytest.approx(0.02)


def test_holm_turns_a_lone_p_of_0_018_among_four_into_not_significant():
    rng = np.random.default_rng(1)
    t = stats.mann_whitney([5, 6, 7, 8, 9, 10, 11, 12], [0, 1, 2, 3, 4, 5.5, 13, 14])
    others = [stats.mann_whitney(rng.normal(0, 1, 8), rng.normal(0, 1, 8)) for _ in range(3)]
    family = stats.holm([dataclass_with_p(t, 0.018), *others])
    assert family[0].p == 0.018 and family[0].p_adj == pytest.approx(0.072)
    assert not family[0].significant and family[0].family == 4
    assert "Holm-adjusted 0.072 of 4" in family[0].describe()


def dataclass_with_p(t, p):
    import dataclasses

    return dataclasses.replace(t, p=p)


def test_mann_whitney_separated_groups():
    t = stats.mann_whitney([5, 6, 7, 8, 9], [0, 1, 2, 3, 4], "greater")
    # exact: the most extreme ordering of 5 vs 5 has p = 1 / C(10, 5) = 1/252
    assert t.p == pytest.approx(1 / 252)
    assert t.significant and t.inconclusive_reason == ""
    assert not stats.mann_whitney([0, 1, 2, 3, 4], [5, 6, 7, 8, 9], "greater").significant


def test_too_few_seeds_say_how_many_are_needed():
    t = stats.mann_whitney([5, 6, 7], [0, 1, 2], "greater")
    # 3 vs 3: the smallest one-sided p is 1/20 = 0.05, never below 0.05
    assert t.min_p == pytest.approx(0.05) and not t.significant
    assert "cannot reach p < 0.05; needs 4 seeds" in t.inconclusive_reason
    assert stats.min_seeds(False, "two-sided") == 4  # 2/C(8,4) = 0.029
    assert stats.min_seeds(True, "greater") == 5  # 0.5^5 = 0.031
    # in a Holm family of 4 the smallest p must pass 0.0125: Wilcoxon needs 7 (1/128)
    assert stats.min_seeds(True, "greater", family=4) == 7


def test_not_significant_with_enough_seeds_estimates_seeds_for_power():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.3, 1, 6), rng.normal(0, 1, 6)
    t = stats.mann_whitney(a, b, "greater")
    assert not t.significant and t.effect > 0
    assert t.needed is not None and t.needed > 6
    assert f"about {t.needed} seeds per group for 80% power of this test at effect size d = " in (
        t.inconclusive_reason
    )


def test_a_wrong_way_effect_never_asks_for_a_few_more_seeds():
    t = stats.mann_whitney([0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11], "greater")
    assert t.p == pytest.approx(1.0) and t.effect < 0 and t.needed is None
    assert "points the other way" in t.inconclusive_reason
    assert "seeds per group" not in t.inconclusive_reason
    # a small wrong-way effect (d = -0.2, not only a large one) is said to point the other way
    diffs = [0.1, -0.3, 0.2, -0.25, 0.05, -0.1, 0.3, -0.4]
    t = stats.wilcoxon(diffs, [0.0] * 8, "greater")
    assert -1 < t.effect < 0 and "points the other way" in t.inconclusive_reason


def test_wilcoxon_of_two_pairs_is_the_exact_test_over_four_sign_flips():
    # 2 pairs, both differences positive: 1 of the 4 equally likely sign patterns is as
    # extreme, p = 1/4 (two pairs are enough to compute it, though never to reach 0.05)
    t = stats.wilcoxon([1.0, 2.0], [0.0, 0.0], "greater")
    assert t.p == 0.25 and t.min_p == 0.25 and t.n_a == 2


def _power_by_simulation(d, n, paired, alternative="greater", family=1, draws=1500):
    # normal data shifted by d, the exact rank test at 0.05 / family; other draws than
    # stats' own search
    rng = np.random.default_rng(1000 + n)
    side = "two-sided" if alternative == "two-sided" else "greater"
    a = rng.normal(d, 1.0, (draws, n))
    if paired:
        p = sps.wilcoxon(a, alternative=side, method="exact", axis=1).pvalue
    else:
        b = rng.normal(0.0, 1.0, (draws, n))
        p = sps.mannwhitneyu(a, b, alternative=side, method="exact", axis=1).pvalue
    return np.mean(p * family < 0.05)


@pytest.mark.parametrize(("d", "paired", "alternative", "family"),
                         [(1.0, False, "greater", 1), (1.5, False, "greater", 1),
                          (1.0, True, "greater", 1), (0.45, True, "greater", 1),
                          (1.0, False, "two-sided", 1),
                          (0.8, False, "greater", 3)])  # fmt: skip
def test_seeds_for_power_are_the_fewest_at_which_the_exact_test_has_the_power(
    d, paired, alternative, family
):
    n = stats.seeds_for_power(d, alternative, paired, family)
    # 1,500 draws: the power's standard error is ~0.01, so 0.03 is three of them
    assert _power_by_simulation(d, n, paired, alternative, family) > 0.77
    assert _power_by_simulation(d, n - 1, paired, alternative, family) < 0.83


def test_seeds_for_power_asks_more_than_the_normal_approximation_at_few_seeds():
    # d = 1.5 one-sided: 2 (1.645 + 0.842)^2 / 1.5^2 x pi/3 = 5.76 -> 6 per group, at which
    # the exact Mann-Whitney test has about 74 % power
    assert _power_by_simulation(1.5, 6, paired=False) < 0.77
    assert stats.seeds_for_power(1.5, "greater", paired=False) >= 7
    assert stats.seeds_for_power(0.0, "greater", paired=False) is None
    assert stats.seeds_for_power(-1.0, "greater", paired=False) is None
    # a huge effect still needs the seeds at which the test can reach 0.05 at all
    assert stats.seeds_for_power(50.0, "greater", paired=False) == 4
    assert stats.seeds_for_power(50.0, "greater", True) == 5
    # a small effect: beyond 100 seeds the approximation, 2 (2.487 / 0.3)^2 pi/3 = 144
    assert stats.seeds_for_power(0.3, "greater", paired=False) == 144


def test_the_power_search_stops_when_the_power_never_comes(monkeypatch):
    # a simulation that never reaches 80 % (a broken test, a pathological effect) must not
    # climb forever: the search stops at 2 n0 + 10, within one step of 10 %
    monkeypatch.setattr(stats, "_rank_test_power", lambda *a: 0.0)
    n = stats._fewest_with_power.__wrapped__(0.9, "greater", False, 1, 20)
    assert 50 <= n <= 55


def _sign_test_power_by_hand(n: int, share: float, level: float = 0.05) -> float:
    # the fewest of n seeds in the claimed direction whose one-sided binomial p is below
    # the level, then the chance of at least that many at the true share
    tail = [sum(math.comb(n, j) for j in range(k, n + 1)) / 2**n for k in range(n + 2)]
    k = next((k for k in range(n + 1) if tail[k] < level), None)
    if k is None:
        return 0.0
    return sum(math.comb(n, j) * share**j * (1 - share) ** (n - j) for j in range(k, n + 1))


def test_the_sign_test_asks_for_the_seeds_from_which_on_its_exact_power_holds():
    # at a share of 2/3 (effect 1/3) the power saw-tooths: 58 seeds reach 80 %, 59 do not,
    # and from 60 on every count does
    share = 2 / 3
    assert _sign_test_power_by_hand(58, share) >= 0.8 > _sign_test_power_by_hand(59, share)
    assert all(_sign_test_power_by_hand(n, share) >= 0.8 for n in range(60, 130))
    assert stats.sign_test_seeds(1 / 3) == 60
    # a family of 4: 0.0125
    n4 = stats.sign_test_seeds(1 / 3, 4)
    assert _sign_test_power_by_hand(n4 - 1, share, 0.0125) < 0.8
    assert all(_sign_test_power_by_hand(n, share, 0.0125) >= 0.8 for n in range(n4, n4 + 60))
    assert stats.sign_test_seeds(1.0) == 5  # every seed in the direction: 2^-5 < 0.05
    assert stats.sign_test_seeds(0.0) is None and stats.sign_test_seeds(-0.2) is None


def test_wilcoxon_is_paired():
    base = np.array([1.0, 5.0, 9.0, 3.0, 7.0, 2.0])
    t = stats.wilcoxon(base + 0.1, base, "greater")  # same tiny shift on every seed
    assert t.significant and t.p == pytest.approx(0.5**6)
    # unpaired, the same data shows nothing
    assert not stats.mann_whitney(base + 0.1, base, "greater").significant


def test_wilcoxon_drops_zero_differences():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    b = a - 1.0
    b[:2] = a[:2]  # two seeds with no difference
    t = stats.wilcoxon(a, b, "greater")
    # 6 non-zero differences: the smallest one-sided p is 1/64, not 1/256
    assert t.min_p == pytest.approx(1 / 64)
    assert t.p == pytest.approx(1 / 64)


def test_permutation_test_is_exact_and_calibrated():
    def diff_means(A, B):
        return A.mean(axis=1) - B.mean(axis=1)

    a, b = np.arange(8.0) + 100, np.arange(8.0)
    t = stats.permutation_test(diff_means, a, b, "perm")
    assert t.p == pytest.approx(1 / 12870) and t.significant  # C(16, 8) splits, one extreme
    # calibrated: under the null, p < 0.05 in about 5 % of 400 simulated pairs (n = 6)
    rng = np.random.default_rng(3)
    ps = [stats.permutation_test(diff_means, rng.normal(size=6), rng.normal(size=6), "p").p
          for _ in range(400)]  # fmt: skip
    assert 0.02 <= np.mean(np.array(ps) < 0.05) <= 0.08


def test_test_to_dict_has_no_nan():
    import json

    t = stats.mann_whitney([1.0], [2.0, 3.0])
    d = t.to_dict()
    json.dumps(d, allow_nan=False)  # raises on NaN
    assert d["p"] is None and d["significant"] is False


def test_sign_test_is_exact_and_assumes_no_symmetry():
    # 6 of 6 below 4 (ties at 4 dropped): p = 1/64 whatever the values' shape
    t = stats.sign_test([0, 1, 1, 1, 3, 3.9, 4, 4], 4.0, "less")
    assert t.p == pytest.approx(1 / 64) and t.min_p == pytest.approx(1 / 64)
    assert not stats.sign_test([0, 1, 1, 1, 3, 3.9], 4.0, "greater").significant


def test_seeds_needed_within_a_holm_family_are_for_its_alpha():
    rng = np.random.default_rng(5)
    t = stats.mann_whitney(rng.normal(0.6, 1, 6), rng.normal(0, 1, 6))
    alone, family = t.needed, stats.holm([t] * 4)[0].needed
    assert alone is not None and family > alone
    assert family == stats.seeds_for_power(t.effect, "greater", False, family=4)


def test_identical_values_give_no_interval_and_say_so():
    d = estimates.mean_ci([8.0] * 8).to_dict()
    assert d == {"mean": 8.0, "ci_lo": None, "ci_hi": None, "n": 8, "all_equal": True}
    t = stats.wilcoxon([1.0] * 8, [1.0] * 8)
    assert "no difference observed" in t.inconclusive_reason


def test_other_directions_of_the_rank_tests():
    # 'less' asks whether a is smaller: the effect is positive when it is
    t = stats.mann_whitney([0, 1, 2, 3, 4], [5, 6, 7, 8, 9], "less")
    assert t.significant and t.effect > 0 and t.p == pytest.approx(1 / 252)
    two = stats.mann_whitney([0, 1, 2, 3, 4], [5, 6, 7, 8, 9], "two-sided")
    assert two.min_p == pytest.approx(2 / 252) and two.p == pytest.approx(2 / 252)
    assert two.effect > 0  # two-sided: the size of the difference, either way
    w = stats.wilcoxon([1, 2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7], "two-sided")
    assert w.min_p == pytest.approx(2 / 64)
    # two-sided power splits alpha: more seeds than one-sided at the same effect
    one, both = (stats.seeds_for_power(0.8, alt, False) for alt in ("greater", "two-sided"))
    assert both > one


def test_more_orderings_than_can_be_enumerated_use_random_permutations():
    # 10 vs 10: C(20, 10) = 184,756 orderings > 50,000, so 9,999 random ones: p ~ 1e-4
    t = stats.mann_whitney(np.arange(10.0) + 100, np.arange(10.0))
    assert 0 < t.p < 5e-4 and t.significant

    def diff_means(A, B):
        return A.mean(axis=1) - B.mean(axis=1)

    p = stats.permutation_test(diff_means, np.arange(10.0) + 100, np.arange(10.0), "perm")
    assert p.p == pytest.approx(1 / (stats.RESAMPLES + 1))  # only the observed split
    assert p.min_p == pytest.approx(1 / (stats.RESAMPLES + 1))


def test_permutation_test_effect_and_seeds_needed():
    def diff_means(A, B):
        return A.mean(axis=1) - B.mean(axis=1)

    a = np.array([0.9, 0.3, 1.4, 0.2, 1.1, 0.6])
    b = np.array([0.1, 0.5, -0.3, 0.4, 0.0, 0.8])
    t = stats.permutation_test(diff_means, a, b, "perm")
    pooled = np.concatenate([a, b])
    import itertools

    splits = [list(s) for s in itertools.combinations(range(12), 6)]
    vals = np.array([pooled[s].mean() - np.delete(pooled, s).mean() for s in splits])
    z = (a.mean() - b.mean() - vals.mean()) / vals.std()
    assert t.effect == pytest.approx(z)
    target = 1.6448536 + 0.8416212
    assert t.needed == max(4, math.ceil(6 * (target / z) ** 2))
    assert stats.permutation_test(diff_means, b, a, "perm").needed is None  # wrong way
    # in a Holm family of 4 the seeds are for 0.05 / 4 (they once stayed at 0.05's), and
    # the words name the effect a z, not a d
    fam = stats.holm([t] * 4)[0]
    target4 = 2.2414027 + 0.8416212  # z at 1 - 0.0125, z at 0.8
    assert fam.needed == max(5, math.ceil(6 * (target4 / z) ** 2)) > t.needed
    assert fam.inconclusive_reason.endswith(
        f"about {fam.needed} seeds per group for 80% power of this test at the z = {z:.2g} "
        "observed with 6 vs 6 seeds"
    )


def test_sign_test_effect_is_the_share_beyond_a_coin_flip():
    assert stats.sign_test([1, 1, 1, 1, 9, 9], 4.0, "less").effect == pytest.approx(1 / 3)
    assert stats.sign_test([1, 2, 3], 4.0, "less").effect == pytest.approx(1.0)
    assert stats.sign_test([4, 4, 4], 4.0, "less").p == 1.0  # every value tied: no evidence
    # 4 of 6 below: 2 x 4/6 - 1 = 1/3, named as what it is (not a d), with the share, and
    # its seeds: the sign test's exact power at a share of 2/3 holds from 60 on (below)
    t = stats.sign_test([1, 2, 3, 3.5, 5, 6], 4.0, "less")
    assert t.needed == 60 and t.inconclusive_reason.endswith(
        "about 60 seeds for 80% power of this test at effect size 2 x share - 1 = 0.33 "
        "(a share of 0.67)"
    )


def test_constant_groups_that_differ_the_wrong_way_are_not_called_equal():
    for test, what in ((stats.mann_whitney, "mean difference a - b -1"),
                       (stats.wilcoxon, "mean paired difference a - b -1")):  # fmt: skip
        t = test([1.0] * 4, [2.0] * 4)
        assert t.inconclusive_reason.endswith(f"points the other way (no spread; {what})")
        equal = test([1.0] * 4, [1.0] * 4).inconclusive_reason
        assert (
            equal.startswith("inconclusive: no difference observed") and "all values equal" in equal
        )


def test_a_lone_test_is_not_described_as_a_holm_family():
    t = stats.holm([stats.mann_whitney([5, 6, 7, 8, 9], [0, 1, 2, 3, 4])])[0]
    assert t.family == 1 and "Holm" not in t.describe()


def test_sign_test_ties_count_as_the_claim_says():
    values = [2, 3, 4, 4, 4, 5, 1, 0]  # 4 below 4, 3 at it, 1 above
    drop = stats.sign_test(values, 4.0, "less")
    assert drop.p == pytest.approx(sum(math.comb(5, k) for k in (4, 5)) / 32)
    # "fewer than 4": a seed at 4 has not met it; 4 of 8 is no majority
    against = stats.sign_test(values, 4.0, "less", ties="against")
    assert against.p == pytest.approx(sum(math.comb(8, k) for k in range(4, 9)) / 256)
    assert against.diff == pytest.approx(4 / 8) and "below 4" in against.diff_what
    # "at least 4": a seed at 4 has met it; 4 of 8 at or above
    at_least = stats.sign_test(values, 4.0, "greater", ties="for")
    assert at_least.diff == pytest.approx(4 / 8) and "at or above" in at_least.diff_what
    assert stats.sign_test([4] * 6, 4.0, "greater", ties="for").p == pytest.approx(1 / 64)
    with pytest.raises(ValueError):
        stats.sign_test(values, 4.0, ties="half")


def test_sign_test_share_has_the_exact_clopper_pearson_interval():
    from scipy.stats import beta

    t = stats.sign_test([0, 1, 1, 2, 3, 3, 9, 9], 4.0, "less")  # 6 of 8 below
    assert t.diff == pytest.approx(0.75)
    assert t.diff_lo == pytest.approx(beta.ppf(0.025, 6, 3))
    assert t.diff_hi == pytest.approx(beta.ppf(0.975, 7, 2))
    all_in = stats.sign_test([0.0] * 8, 4.0, "less")
    assert all_in.diff_hi == 1.0 and all_in.diff_lo == pytest.approx(0.025 ** (1 / 8))


def test_a_test_as_a_dict_says_why_it_is_inconclusive():
    d = stats.mann_whitney([0, 1, 2], [0.5, 1.5, 2.5]).to_dict()
    assert d["significant"] is False and "inconclusive" in d["inconclusive_reason"]
    clear = stats.mann_whitney([5, 6, 7, 8, 9], [0, 1, 2, 3, 4]).to_dict()
    assert clear["inconclusive_reason"] == ""


# ---- written for survivors of the mutation run (docs/mutants.md) ----------------------------


def test_mann_whitney_reports_cohens_d_and_welchs_interval_by_hand():
    a = np.array([4.0, 6.0, 7.0, 9.0])  # mean 6.5, var (ddof 1) 13/3
    b = np.array([1.0, 2.0, 4.0, 5.0])  # mean 3.0, var 10/3
    t = stats.mann_whitney(a, b, alternative="greater")
    # Cohen's d with the two variances averaged: 3.5 / sqrt((13/3 + 10/3) / 2)
    assert t.effect == pytest.approx(3.5 / math.sqrt(23 / 6))
    # Welch: se^2 = (13/3 + 10/3) / 4 = 23/12, df = se^4 / ((13/12)^2/3 + (10/12)^2/3)
    df = (23 / 12) ** 2 / (((13 / 12) ** 2 + (10 / 12) ** 2) / 3)
    from scipy.stats import t as student_t

    half = student_t.ppf(0.975, df) * math.sqrt(23 / 12)
    assert t.diff == pytest.approx(3.5)
    assert (t.diff_lo, t.diff_hi) == pytest.approx((3.5 - half, 3.5 + half))


def test_sign_test_names_what_it_counts_for_each_tie_rule():
    v = [3, 4, 4, 5, 6, 7]
    assert stats.sign_test(v, 4, "greater", ties="for").diff_what == "share of seeds at or above 4"
    assert stats.sign_test(v, 4, "greater", ties="against").diff_what == "share of seeds above 4"
    dropped = stats.sign_test(v, 4, "greater", ties="drop").diff_what
    assert dropped == "share of seeds above 4 (ties dropped)"


@pytest.mark.parametrize("n_a, n_b, too_few", [(2, 3, False), (3, 2, False), (1, 5, True),
                                                (5, 1, True), (1, 1, True)])  # fmt: skip
def test_inconclusive_for_too_few_seeds_only_below_two_per_group(n_a, n_b, too_few):
    t = stats.Test("Mann-Whitney U", 0.5, n_a, n_b, 0.1, 0.3, None)
    says = "needs at least 2 seeds per group" in t.inconclusive_reason
    assert says == too_few


def test_unpaired_difference_takes_groups_of_different_sizes():
    a, b = np.array([4.0, 6.0, 7.0, 9.0]), np.array([1.0, 2.0, 4.0, 5.0, 8.0])
    t = stats.mann_whitney(a, b)
    assert t.diff == pytest.approx(6.5 - 4.0) and t.diff_lo < 2.5 < t.diff_hi


def test_tests_of_fewer_than_two_seeds_give_no_p_and_can_reach_nothing():
    for t in (stats.sign_test([3.0], 4.0), stats.mann_whitney([1.0], [0.0, 2.0]),
              stats.wilcoxon([1.0], [0.0]),
              stats.permutation_test(lambda a, b: a.mean(1) - b.mean(1), np.ones(1), np.ones(3),
                                     "permutation")):  # fmt: skip
        assert math.isnan(t.p) and t.min_p == 1.0 and t.needed is None
    # the design is recorded (and written to report.json) even when the test cannot run
    assert stats.wilcoxon([1.0], [0.0]).paired and stats.sign_test([3.0], 4.0).paired
    assert not stats.mann_whitney([1.0], [0.0, 2.0]).paired
    # ... and the alternative each was asked for, run or not
    for n in (1, 6):
        below = [1.0, 2.0, 3.0, 5.0, 6.0, 7.0][:n]
        assert stats.sign_test(below, 4.0, "less").alternative == "less"
        assert stats.sign_test(below, 4.0, "greater").alternative == "greater"
        assert stats.mann_whitney(below, [0.0] * n, "two-sided").alternative == "two-sided"
        assert stats.wilcoxon(below, [0.0] * n, "less").alternative == "less"
    # a statistic with no value on the observed split (a metric that was NaN): no test
    nan = stats.permutation_test(lambda a, b: np.full(len(a), np.nan), np.ones(3), np.ones(3), "p")
    assert math.isnan(nan.p) and nan.min_p == 1.0 and nan.needed is None
    two = stats.sign_test([3.0, 5.0], 4.0)  # two seeds: a test; one of 2 below, P(X >= 1) = 3/4
    assert two.p == pytest.approx(0.75) and two.min_p == pytest.approx(0.25)


def test_permutation_tests_effect_is_the_observed_z_against_the_null_by_hand():
    # a statistic whose null mean is not 0 (group a's mean: the pooled mean over splits)
    def by_hand(a, b):
        pooled = np.concatenate([a, b])
        null = [pooled[list(c)].mean() for c in itertools.combinations(range(7), 3)]
        return (a.mean() - np.mean(null)) / np.std(null), np.mean(np.array(null) >= a.mean())

    target = sps.norm.ppf(0.95) + sps.norm.ppf(0.8)
    for a, b in [([2.0, 3.0, 1.5], [0.0, 2.5, 1.0, 4.0]), ([1.0, 2.0, 2.5], [0.0, 3.0, 1.5, 4.0])]:
        a, b = np.array(a), np.array(b)
        t = stats.permutation_test(lambda x, y: x.mean(1), a, b, "mean of a")
        z, p = by_hand(a, b)
        assert t.effect == pytest.approx(z) and t.p == pytest.approx(p)
        # seeds for 80 % power grow as (target / z)^2 from the groups' harmonic mean
        # 2 x 3 x 4 / 7 (z grows with sqrt(n_a n_b / (n_a + n_b))); none when the effect
        # points the other way (the second case: z = -0.29)
        want = math.ceil(24 / 7 * (target / z) ** 2) if z > 0 else None
        assert abs(z) < 1 and t.needed == want


@pytest.mark.parametrize("alternative", ["greater", "less", "two-sided"])
def test_mann_whitney_exact_p_is_scipys_permutation_method(alternative):
    # stats computes the exact permutation distribution of U itself (milliseconds, not
    # scipy's 0.4 s at 8 + 8); it must give scipy's p to the last bit, ties included.
    rng = np.random.default_rng(7)
    cases = [(rng.normal(size=na), rng.normal(size=nb)) for na, nb in [(8, 8), (5, 7), (2, 3)]]
    cases += [(rng.integers(0, 4, size=8).astype(float), rng.integers(1, 5, size=8).astype(float))
              for _ in range(6)]  # fmt: skip
    cases += [(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0, 4.0]))]
    cases += [(np.array([1.0, 2.0]), np.array([2.0, 1.0]))]  # two-sided: 2 x 0.83, capped at 1
    for a, b in cases:
        method = sps.PermutationMethod(n_resamples=np.inf)
        want = sps.mannwhitneyu(a, b, alternative=alternative, method=method).pvalue
        assert stats.mann_whitney(a, b, alternative).p == float(want), (a, b)


@pytest.mark.parametrize("alternative", ["greater", "less", "two-sided"])
def test_wilcoxon_exact_p_is_scipys_permutation_method(alternative):
    # stats enumerates the 2^n sign flips itself (milliseconds, not scipy's 10 s at 16
    # pairs); it must give scipy's p to the last bit, with ties among |a - b| and zeros
    rng = np.random.default_rng(11)
    cases = [(rng.normal(size=n), rng.normal(size=n)) for n in (2, 5, 9)]
    cases += [(rng.integers(0, 4, size=9).astype(float), rng.integers(0, 4, size=9).astype(float))
              for _ in range(6)]  # fmt: skip
    cases += [
        (np.array([0.1, 0.2, 0.3, 0.4]), np.zeros(4)),
        (np.ones(3), np.array([0.0, 2.0, 1.0])),
    ]
    cases += [(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 1.0]))]  # one zero difference
    cases += [(np.zeros(4), np.array([0.1, 0.2, 0.3, 0.4]))]  # no positive one: a sum of 0
    for a, b in cases:
        d = a - b
        method = sps.PermutationMethod(n_resamples=np.inf)
        want = sps.wilcoxon(d, alternative=alternative, method=method).pvalue
        assert stats.wilcoxon(a, b, alternative).p == float(want), (a, b)


def test_holm_caps_an_adjusted_p_at_one():
    assert stats.holm_p([0.6, 0.9]) == [1.0, 1.0]  # 2 x 0.6 = 1.2 is capped


def test_wilcoxon_by_hand_exact_p_effect_and_pairs_with_a_missing_side_dropped():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0, np.nan, 7.0])
    b = np.array([0.5, 1.0, 2.0, 2.5, 3.5, 0.0, np.inf])
    t = stats.wilcoxon(a, b, "greater")
    # the pairs with a non-finite side (6th, 7th) are dropped, not counted
    assert (t.n_a, t.n_b) == (5, 5)
    # all 5 differences positive: the exact p is the one sign pattern of 2^5
    assert t.p == 1 / 32
    diff = np.array([0.5, 1.0, 1.0, 1.5, 1.5])
    assert t.effect == pytest.approx(diff.mean() / diff.std(ddof=1))
    assert t.diff == pytest.approx(diff.mean())  # the mean paired difference a - b
    # with the paired t interval: mean +- t(0.975, 4) sd / sqrt(5), not Welch's
    half = sps.t.ppf(0.975, 4) * diff.std(ddof=1) / math.sqrt(5)
    assert (t.diff_lo, t.diff_hi) == pytest.approx((diff.mean() - half, diff.mean() + half))


def test_rank_tests_give_no_effect_size_when_no_seed_varies():
    # two constant groups: Cohen's d is undefined (zero spread), not infinite
    t = stats.mann_whitney([1.0, 1.0, 1.0], [0.0, 0.0, 0.0], "greater")
    assert math.isnan(t.effect) and t.needed is None
    # paired, every difference the same (1.0): no spread, no effect size either
    t = stats.wilcoxon([2.0, 3.0, 4.0], [1.0, 2.0, 3.0], "greater")
    assert math.isnan(t.effect) and t.needed is None and t.diff == 1.0


def test_wilcoxon_is_exact_at_any_number_of_pairs():
    # n positive differences: the one sign pattern of 2^n (random flips could not go below
    # 1/10,000; scipy would enumerate up to 9,999 flips on its own)
    for n in (14, 16, 17, 30):
        assert stats.wilcoxon(np.arange(1.0, n + 1), np.zeros(n), "greater").p == 2.0**-n
    assert stats.wilcoxon(np.arange(1.0, 31), np.zeros(30), "two-sided").p == 2.0**-29


def test_paired_tests_ask_for_the_seeds_of_a_paired_design():
    rng = np.random.default_rng(5)
    diff = rng.normal(0.3, 1.0, size=12)
    w = stats.wilcoxon(diff, np.zeros(12), "greater")
    assert w.effect == pytest.approx(diff.mean() / diff.std(ddof=1))
    # one sample of differences: about half the seeds per group of two groups
    unpaired = stats.seeds_for_power(w.effect, "greater", False)
    assert w.needed == stats.seeds_for_power(w.effect, "greater", True) < 0.6 * unpaired
    assert f"about {w.needed} pairs for 80% power of this test at effect size paired d = " in (
        w.inconclusive_reason
    )
    s = stats.sign_test([1.0] * 6 + [-1.0] * 4, 0.0, "greater")  # 6 of 10 above 0
    assert s.effect == pytest.approx(0.2)
    assert s.needed == stats.sign_test_seeds(0.2)


def test_a_permutation_test_runs_from_two_seeds_per_group():
    def mean_gap(A, B):
        return A.mean(axis=1) - B.mean(axis=1)

    t = stats.permutation_test(mean_gap, np.array([3.0, 4.0, 5.0]), np.array([0.0, 1.0]), "gap")
    assert t.p == pytest.approx(1 / 10)  # the most extreme of C(5, 3) = 10 splits
    lone = stats.permutation_test(mean_gap, np.array([3.0, 4.0, 5.0]), np.array([0.0]), "gap")
    assert math.isnan(lone.p)


def test_t_interval_by_hand_from_two_values_and_a_spread_of_one():
    t975_1, t975_2 = 12.706204736174707, 4.302652729749464  # Student's t, 1 and 2 dof
    lo, hi = estimates.t_interval([1.0, 3.0])  # mean 2, sd sqrt(2), n 2
    assert (lo, hi) == pytest.approx((2 - t975_1, 2 + t975_1))
    lo, hi = estimates.t_interval([0.0, 1.0, 0.5])  # spread exactly 1: still an interval
    assert (lo, hi) == pytest.approx(
        (0.5 - t975_2 * 0.5 / math.sqrt(3), 0.5 + t975_2 * 0.5 / math.sqrt(3))
    )


def test_mean_std_of_one_seed_is_its_value_and_no_spread():
    mean, sd = estimates.mean_std([3.0, float("nan")])
    assert mean == 3.0 and math.isnan(sd)


def test_summarize_gives_each_metrics_mean_std_and_interval_by_hand():
    rows = [{"w1": 1.0, "modes": 8}, {"w1": 3.0, "modes": 6}, {"w1": float("nan"), "modes": 7}]
    out = estimates.summarize(rows, ["w1", "modes"])
    assert out["mean"] == {"w1": 2.0, "modes": 7.0}
    assert out["std"] == {"w1": pytest.approx(math.sqrt(2)), "modes": 1.0}
    t975_2 = 4.302652729749464
    assert out["ci95"]["modes"] == pytest.approx(
        [7 - t975_2 / math.sqrt(3), 7 + t975_2 / math.sqrt(3)]
    )
    assert out["ci95"]["w1"] == pytest.approx([2 - 12.706204736174707, 2 + 12.706204736174707])


def test_two_equal_seeds_are_reported_as_all_equal_not_as_an_interval():
    e = estimates.mean_ci([2.0, 2.0])
    assert e.constant and str(e) == "2 (all 2 equal)"
    assert e.to_dict() == {"mean": 2.0, "ci_lo": None, "ci_hi": None, "n": 2, "all_equal": True}
    assert not estimates.mean_ci([2.0]).constant  # one seed: nothing to call constant


def test_equal_values_give_that_value_as_both_bounds_exactly():
    # 3 x 0.1 has a mean of 0.10000000000000002 in float64: the bounds are the value itself
    assert estimates.t_interval([0.1, 0.1, 0.1]) == (0.1, 0.1)


def test_finite_or_none_keeps_integers_as_integers_for_json():
    assert type(estimates.finite_or_none(np.int64(3))) is int
    assert estimates.finite_or_none(3) == 3 and type(estimates.finite_or_none(3)) is int
    assert estimates.finite_or_none(float("inf")) is None
    assert type(estimates.finite_or_none(np.float32(0.5))) is float


# ---- the whole stats.py mutation run's survivors (docs/mutants.md, 2026-12-06 late) ----------


def test_each_rank_test_asks_for_the_seeds_of_its_own_design_alone_and_in_a_family():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.8, 1, 6), rng.normal(0, 1, 6)
    mw, w = stats.mann_whitney(a, b), stats.wilcoxon(a, b)
    s = stats.sign_test([1.0] * 6 + [-1.0] * 3, 0.0, "greater")  # 6 of 9 above: effect 1/3
    assert mw.needed == stats.seeds_for_power(mw.effect, "greater", False)  # two groups
    # a test read back from a file has its name built at run time (not the literal)
    mw = dataclasses.replace(mw, name="".join(list(mw.name)))
    fam = stats.holm([mw, w, s])
    # at least the seeds that can reach 0.05 / 3: 4 for Mann-Whitney (1/70), 6 when paired (1/64)
    assert fam[0].needed == stats.seeds_for_power(mw.effect, "greater", False, 3)
    assert fam[1].needed == stats.seeds_for_power(w.effect, "greater", True, 3)  # differences
    assert fam[2].needed == stats.sign_test_seeds(1 / 3, 3)
    assert fam[0].needed > mw.needed and fam[2].needed > s.needed


def test_why_inconclusive_names_the_reason_that_holds():
    # constant groups that differ: no effect size, yet not "all values equal"; 3 vs 3
    # seeds reach at best p = 1/20, not below 0.05
    t = stats.mann_whitney([1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    assert t.p == pytest.approx(0.05) and math.isnan(t.effect)
    assert "all values equal" not in t.inconclusive_reason
    assert "cannot reach p < 0.05; needs 4 seeds" in t.inconclusive_reason
    two = stats.mann_whitney([1.0, 2.0], [0.0, 0.5])  # min p 1/6, well above 0.05
    assert "cannot reach p < 0.05; needs 4 seeds" in two.inconclusive_reason
    pair = stats.holm([two, two])  # a family of 2: Holm's bar is 0.025
    assert "(Holm over 2 tests); needs 4 seeds" in pair[0].inconclusive_reason  # 1/70 x 2
    assert "(Holm-adjusted 0.333 of 2)" in pair[0].describe()


def test_equal_values_give_p_one_whatever_the_alternative():
    for alt in ("greater", "less", "two-sided"):
        w = stats.wilcoxon([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], alt)  # every difference zero
        assert w.p == 1.0 and w.min_p == 1.0, alt  # nothing to flip: the cap at 1
        assert stats.mann_whitney([2.0] * 3, [2.0] * 3, alt).p == 1.0, alt


def test_a_mean_difference_needs_two_seeds_on_each_side():
    one, three, two = np.array([1.0]), np.array([1.0, 2.0, 3.0]), np.array([0.0, 2.0])
    assert stats.mean_difference(three, one, paired=False) == {}
    assert stats.mean_difference(one, three, paired=False) == {}
    for paired in (False, True):  # two and two: an interval either way
        d = stats.mean_difference(np.array([1.0, 2.0]), two, paired=paired)
        assert d["diff"] == pytest.approx(0.5) and d["diff_lo"] < 0.5 < d["diff_hi"]


def test_the_cached_splits_cannot_be_changed_by_a_caller():
    splits = stats._splits(5, 2)
    with pytest.raises(ValueError, match="read-only"):
        splits[0, 0] = 4


def test_tie_rules_read_from_a_file_count_as_the_literals_do():
    values = [2, 3, 4, 4, 4, 5, 1, 0]
    for rule in ("for", "against", "drop"):
        spelled = "".join(list(rule))  # built at run time: not the interned literal
        t = stats.sign_test(values, 4.0, "greater", spelled)
        want = stats.sign_test(values, 4.0, "greater", rule)
        assert (t.p, t.diff, t.diff_what) == (want.p, want.diff, want.diff_what)
    assert stats.sign_test(values, 4.0, "greater", "".join(["f", "or"])).diff == 4 / 8


def test_the_sign_test_refuses_an_alternative_it_does_not_test():
    with pytest.raises(ValueError, match="alternative must be less or greater"):
        stats.sign_test([1.0, 2.0, 3.0], 4.0, "two-sided")


def test_a_permutation_test_runs_from_two_seeds_in_the_first_group():
    t = stats.permutation_test(lambda A, B: A.mean(1) - B.mean(1), np.array([5.0, 6.0]),
                               np.array([0.0, 1.0, 2.0]), "gap")  # fmt: skip
    assert t.p == pytest.approx(1 / 10) and t.min_p == pytest.approx(1 / 10)


def test_min_seeds_stops_at_100():
    assert stats.min_seeds(True, family=10**40) == 100  # 2^-99 x 1e40 > 0.05


def test_beyond_50000_splits_the_permutation_test_draws_9999_and_counts_the_observed():
    a, b = np.arange(10.0, 19.0), np.arange(10.0)  # C(19, 9) = 92,378 splits: drawn, not listed
    t = stats.permutation_test(lambda A, B: A.mean(1) - B.mean(1), a, b, "gap")
    # (1 + k) / (1 + 9,999), k the draws at least as extreme: the observed split drawn
    # again (about 1 chance in 10) would give 2/10,000
    assert t.p in (1 / 10_000, 2 / 10_000) and t.min_p == 1 / 10_000


def test_min_seeds_reaches_99_before_its_cap():
    # a family of 2^94: 99 pairs give 2^-99 x 2^94 = 1/32 < 0.05, 98 give 1/16
    assert stats.min_seeds(True, family=2**94) == 99


def test_effects_point_the_way_each_alternative_claims_even_when_spelled_at_run_time():
    low, high = np.array([0.0, 1.0, 2.0]), np.array([3.0, 4.0, 6.0])
    for a, b in ((low, high), (high, low)):  # d < 0, then d > 0
        d = (a.mean() - b.mean()) / math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
        for alt, want in (("greater", d), ("less", -d), ("two-sided", abs(d))):
            spelled = "".join(list(alt))  # as a claims file gives it: not the interned literal
            assert stats.mann_whitney(a, b, spelled).effect == pytest.approx(want), alt
    below = stats.sign_test([1.0, 2.0, 5.0], 4.0, "".join(list("less")))
    assert below.diff_what == "share of seeds below 4 (ties dropped)" and below.diff == 2 / 3


def test_wilcoxon_of_one_nonzero_difference_is_a_coin_flip():
    t = stats.wilcoxon([1.0, 2.0, 3.0], [1.0, 2.0, 2.0], "greater")  # differences 0, 0, 1
    assert t.p == 0.5 and t.min_p == 0.5


def test_a_permutation_test_whose_statistic_never_varies_has_no_effect_and_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = stats.permutation_test(lambda A, B: np.zeros(len(A)), np.ones(3), np.zeros(3), "flat")
    assert t.p == 1.0 and math.isnan(t.effect) and t.needed is None


def test_a_test_is_a_value():
    t = stats.mann_whitney([1.0, 2.0, 3.0], [0.0, 0.5, 1.5])
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.p = 0.0
    assert hash(t) == hash(dataclasses.replace(t))


def test_a_family_can_put_the_bar_beyond_what_the_seeds_reach():
    four = stats.mann_whitney([5.0, 6.0, 7.0, 8.0], [0.0, 1.0, 2.0, 3.0])  # p = 1/70 alone
    assert four.significant
    fam = stats.holm([four] * 4)[0]  # 4 x 1/70 = 0.057: out of reach with 4 seeds a group
    assert not fam.significant
    assert "cannot reach p < 0.05 (Holm over 4 tests); needs 5 seeds" in fam.inconclusive_reason


def test_no_effect_at_all_is_said_with_its_d():
    t = stats.mann_whitney([1.0, 3.0, 5.0, 7.0, 9.0], [3.0, 4.0, 5.0, 6.0, 7.0])  # equal means
    assert t.effect == 0.0 and t.needed is None
    assert t.inconclusive_reason.endswith("; no effect observed (d = 0)")


def test_a_family_of_tests_that_could_not_run_is_still_a_family_of_one():
    lone = stats.mann_whitney([1.0], [0.0, 2.0])  # one seed: p is NaN
    assert stats.holm([lone])[0].family == 1


def test_beyond_50000_orderings_mann_whitney_draws_9999():
    a, b = np.arange(10.0, 19.0), np.arange(10.0)  # C(19, 9) = 92,378 orderings
    p = stats.mann_whitney(a, b, "greater").p  # exact would be 1 / 92,378
    assert p in (1 / 10_000, 2 / 10_000)


def test_mann_whitney_needs_two_seeds_in_the_second_group_too():
    t = stats.mann_whitney([0.0, 2.0], [1.0])
    assert math.isnan(t.p) and t.min_p == 1.0


def test_a_permutation_effect_of_exactly_zero_asks_for_no_seeds():
    # a's mean 2 is the pooled mean, and the splits' means average to it exactly (halves)
    t = stats.permutation_test(lambda A, B: A.mean(1), np.array([0.0, 4.0]),
                               np.array([1.0, 2.0, 3.0]), "mean of a")  # fmt: skip
    assert t.effect == 0.0 and t.needed is None


def test_two_sided_and_two_group_tests_ask_for_the_seeds_of_their_own_design():
    # a two-sided Wilcoxon of 5 pairs reaches 2 x 2^-5 = 0.0625 at best: it needs 6
    two = stats.wilcoxon([1.0, 2.0, 3.0, 4.0, 5.0], [0.0, 0.5, 1.0, 1.5, 2.0], "two-sided")
    assert two.min_p == pytest.approx(0.0625)
    assert two.inconclusive_reason.endswith("cannot reach p < 0.05; needs 6 seeds")
    assert stats.holm([two])[0].needed == two.needed >= 6  # a family of one changes nothing
    # a permutation test is two groups: 4 + 4 seeds reach 1/70, not the 5 pairs of a sign flip
    flat = stats.permutation_test(lambda A, B: A.mean(1) - B.mean(1), np.array([3.0, 4, 5]),
                                  np.array([0.0, 1, 2]), "gap")  # fmt: skip
    assert flat.inconclusive_reason.endswith("cannot reach p < 0.05; needs 4 seeds")


def test_a_split_just_below_the_observed_value_counts_as_at_least_as_extreme():
    # the tolerance 1e-12: a value 1e-12 below the observed one is a tie, not less extreme
    x = 1.0 - 1e-12
    t = stats.permutation_test(lambda A, B: A.mean(1), np.ones(2), np.full(2, x), "mean of a")
    assert t.p == 1.0


def test_rank_tests_refuse_an_unknown_alternative():
    for test in (stats.mann_whitney, stats.wilcoxon):
        with pytest.raises(ValueError, match="alternative must be greater, less or two-sided"):
            test([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], "bigger")


def test_a_strong_permutation_effect_asks_for_two_groups_minimum_not_a_sign_flips():
    # 3 vs 3, the most extreme split (p = 1/20): z = 2.21, and 3 (2.487 / z)^2 = 3.8 seeds;
    # the floor is what two groups need to reach 0.05 at all (4: 1/70), not five pairs' 5
    t = stats.permutation_test(lambda A, B: A.mean(1) - B.mean(1), np.array([10.0, 11, 12]),
                               np.array([0.0, 1, 2]), "gap")  # fmt: skip
    assert t.effect == pytest.approx(2.2068, abs=1e-4) and t.needed == 4
