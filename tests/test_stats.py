import math

import numpy as np
import pytest

from gancli import stats


def test_mean_ci_is_a_percentile_bootstrap_around_the_mean():
    v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    e = stats.mean_ci(v)
    assert e.mean == 4.5 and e.n == 8
    # Percentile bootstrap of the mean of 1..8: roughly mean +- 1.96 * sd / sqrt(n) = +- 1.6
    assert 2.6 < e.lo < 3.4 and 5.6 < e.hi < 6.4
    assert stats.mean_ci(v) == e  # fixed seed: reproducible


def test_mean_ci_drops_non_finite_and_handles_small_samples():
    assert stats.mean_ci([1.0, None, float("nan"), 3.0]).mean == 2.0
    one = stats.mean_ci([5.0])
    assert one.mean == 5.0 and math.isnan(one.lo) and str(one) == "5 (n=1)"
    same = stats.mean_ci([2.0, 2.0, 2.0])
    assert (same.lo, same.hi) == (2.0, 2.0)
    assert stats.mean_ci([]).n == 0 and str(stats.mean_ci([])) == "-"


def test_diff_ci_excludes_zero_for_separated_groups_only():
    a, b = [10, 11, 12, 13, 14], [0, 1, 2, 3, 4]
    d = stats.diff_ci(a, b)
    assert d.mean == 10 and d.lo > 7 and d.hi < 13
    same = stats.diff_ci([1, 2, 3, 4], [1.5, 2.5, 3.5, 0.5])
    assert same.lo < 0 < same.hi


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
    assert stats.min_seeds("Mann-Whitney U", "two-sided") == 4  # 2/C(8,4) = 0.029
    assert stats.min_seeds("Wilcoxon signed-rank", "greater") == 5  # 0.5^5 = 0.031


def test_not_significant_with_enough_seeds_estimates_seeds_for_power():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.3, 1, 6), rng.normal(0, 1, 6)
    t = stats.mann_whitney(a, b, "greater")
    assert not t.significant
    assert t.needed is not None and t.needed > 6
    assert f"about {t.needed} seeds per group" in t.inconclusive_reason


def test_seeds_for_power_matches_the_normal_approximation():
    # d = 1, one-sided 0.05, power 0.8: 2 * (1.645 + 0.842)^2 = 12.4 per group for a
    # t-test; times pi/3 for the rank test: 12.95 -> 13
    assert stats.seeds_for_power(1.0, "greater", paired=False) == 13
    assert stats.seeds_for_power(0.0, "greater", paired=False) is None


def test_wilcoxon_is_paired():
    base = np.array([1.0, 5.0, 9.0, 3.0, 7.0, 2.0])
    t = stats.wilcoxon(base + 0.1, base, "greater")  # same tiny shift on every seed
    assert t.significant and t.p == pytest.approx(0.5**6)
    # unpaired, the same data shows nothing
    assert not stats.mann_whitney(base + 0.1, base, "greater").significant


def test_bootstrap_is_scipys_percentile_interval():
    from scipy.stats import bootstrap

    v = np.array([0.3, 1.2, 0.7, 2.5, 1.9, 0.1, 1.4])
    ref = bootstrap((v,), np.mean, method="percentile", n_resamples=99_999,
                    rng=np.random.default_rng(1)).confidence_interval  # fmt: skip
    lo, hi = stats.bootstrap_ci(v)
    assert lo == pytest.approx(ref.low, abs=0.03) and hi == pytest.approx(ref.high, abs=0.03)
