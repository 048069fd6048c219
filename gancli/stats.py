"""Statistics over seeds: calibrated tests, multiplicity control, the seeds power needs.

Every "A is better than B" is a test over seeds with its p-value and seed counts:
Mann-Whitney U for independent runs (its exact permutation distribution, ties included,
up to 50,000 orderings), the Wilcoxon signed-rank test for paired ones (the same seed
under two treatments; exact over sign flips up to 16 non-zero pairs), and permutation
tests for statistics without a classical test. Tests that one verdict combines are one
family, Holm-adjusted (`holm`); reports print raw and adjusted p. A test that cannot reach
significance with the seeds at hand, or does not, makes the verdict "inconclusive" with
the seeds 80 % power would need at a stated effect size; it never becomes a guess.
Means over seeds and their 95 % t intervals are in `gancli.estimates`.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import warnings

import numpy as np
from scipy import stats as sps

from gancli.estimates import LEVEL, finite, finite_or_none

ALPHA = 0.05
POWER = 0.8
# how each kind of Test.effect is named in its words (`Test.effect_kind`)
EFFECT_NAMES = {"d": "d", "z": "z", "share": "2 x share - 1"}
POWER_DRAWS = 2000  # simulated experiments per seed count when a rank test's power is checked
RESAMPLES = 9999
BOOT_SEED = 0


@dataclasses.dataclass(frozen=True)
class Test:
    """The outcome of one stated, one-sided (or two-sided) test over seeds.

    `effect` is the standardised observed effect in the direction of the alternative
    (Cohen's d for the rank tests, a z score for permutation tests): negative when the data
    point the other way. Within a family of tests (`holm`), `p_adj` is the Holm-adjusted p
    and `significant` uses it."""

    name: str
    p: float
    n_a: int
    n_b: int
    min_p: float  # the smallest p-value this test can give with these seed counts
    effect: float
    needed: int | None  # seeds per group for 80 % power at `effect`, if it favours the claim
    p_adj: float | None = None
    family: int = 1
    label: str = ""  # what was compared (set by the caller): "wgan-mlp vs gan-mlp: fd"
    # the mean difference a - b in the measure's own units, with its 95% t interval
    # (Welch's for independent groups, paired t for paired ones); None where undefined
    diff: float | None = None
    diff_lo: float | None = None
    diff_hi: float | None = None
    diff_what: str = "mean difference a - b"  # what `diff` estimates, for the reader
    # the design, for the seeds it asks for: one sample of pairs or differences (Wilcoxon,
    # sign test) or two groups (Mann-Whitney, permutation tests); and the alternative
    paired: bool = False
    alternative: str = "greater"
    # what `effect` is, for the seeds it asks for and the words: Cohen's d ("d", the rank
    # tests), a z score over the permutation law ("z") or the sign test's 2 x share - 1
    effect_kind: str = "d"

    @property
    def p_used(self) -> float:
        return self.p if self.p_adj is None else self.p_adj

    @property
    def significant(self) -> bool:
        return math.isfinite(self.p_used) and self.p_used < ALPHA

    @property
    def inconclusive_reason(self) -> str:
        if self.significant:
            return ""
        if self.n_a < 2 or self.n_b < 2:
            return "inconclusive: needs at least 2 seeds per group"
        if not math.isfinite(self.effect) and self.p_used >= 1:
            if self.diff:  # no spread, but the groups differ: the other way
                return (f"inconclusive: {self.describe()}; the observed effect points the "
                        f"other way (no spread; {self.diff_what} {self.diff:.3g})")  # fmt: skip
            return f"inconclusive: no difference observed ({self.describe()}; all values equal)"
        if self.min_p * self.family >= ALPHA:
            holm = f" (Holm over {self.family} tests)" if self.family > 1 else ""
            n_min = min_seeds(self.paired, self.alternative, self.family)
            return (
                f"inconclusive: with {self.n_a} and {self.n_b} seeds the {self.name} test "
                f"cannot reach p < {ALPHA}{holm}; needs {n_min} seeds"
            )
        said = f"inconclusive: {self.describe()}"
        effect = f"{EFFECT_NAMES[self.effect_kind]} = {self.effect:.2g}"
        if self.effect == 0:
            return f"{said}; no effect observed ({effect})"
        if not math.isfinite(self.effect) or self.effect < 0:
            return f"{said}; the observed effect points the other way ({effect})"
        if self.needed:
            # pairs for Wilcoxon, seeds for the one-sample sign test, per group otherwise
            per = {"d": "pairs" if self.paired else "seeds per group", "z": "seeds per group",
                   "share": "seeds"}[self.effect_kind]  # fmt: skip
            share = (1 + self.effect) / 2
            at = {"d": f"effect size {'paired ' if self.paired else ''}{effect}",
                  "z": f"the {effect} observed with {self.n_a} vs {self.n_b} seeds",
                  "share": f"effect size {effect} (a share of {share:.2g})"}  # fmt: skip
            said += (f"; about {self.needed} {per} for {POWER:.0%} power of this test at "
                     f"{at[self.effect_kind]}")  # fmt: skip
        return said

    def seeds_for(self, family: int = 1) -> int | None:
        """Seeds per group for POWER at the observed effect, at ALPHA / family (None when
        the effect is zero, undefined or points the other way)."""
        if not math.isfinite(self.effect) or self.effect <= 0:
            return None
        if self.effect_kind == "share":
            return sign_test_seeds(self.effect, family)
        if self.effect_kind == "z":
            # z grows with sqrt(n_a n_b / (n_a + n_b)): scale the harmonic mean of the
            # groups' seeds until the expected z reaches the target
            target = _z_for_power(_alpha(self.alternative, family))
            base = 2 * self.n_a * self.n_b / (self.n_a + self.n_b)
            n = math.ceil(base * (target / self.effect) ** 2)
            return max(min_seeds(self.paired, self.alternative, family), n)
        return seeds_for_power(self.effect, self.alternative, self.paired, family)

    def describe(self) -> str:
        text = f"{self.name}, n = {self.n_a} vs {self.n_b}, p = {self.p:.3g}"
        if self.p_adj is not None and self.family > 1:
            text += f" (Holm-adjusted {self.p_adj:.3g} of {self.family})"
        return text

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self) | {
            "significant": self.significant,
            "inconclusive_reason": self.inconclusive_reason,
        }
        return {k: finite_or_none(v) if isinstance(v, float) else v for k, v in out.items()}


def holm_p(pvalues) -> list[float]:
    """Holm's step-down adjusted p-values (Holm 1979): sort ascending, multiply the i-th
    smallest (0-based) by m - i, make the sequence non-decreasing, cap at 1. NaN (a test
    that could not run) stays NaN and does not count in m."""
    p = np.asarray(pvalues, np.float64)
    ok = np.flatnonzero(np.isfinite(p))
    out = np.full(p.shape, np.nan)
    m = ok.size
    running = 0.0
    for i, j in enumerate(ok[np.argsort(p[ok], kind="stable")]):
        running = max(running, min(1.0, (m - i) * p[j]))
        out[j] = running
    return out.tolist()


def holm(tests: list[Test]) -> list[Test]:
    """The tests as one family: each with its Holm-adjusted p."""
    m = max(sum(math.isfinite(t.p) for t in tests), 1)
    # the seeds each asks for: power at the family's alpha, not at ALPHA
    return [dataclasses.replace(t, p_adj=pa, family=m, needed=t.seeds_for(m))
            for t, pa in zip(tests, holm_p([t.p for t in tests]), strict=True)]  # fmt: skip


def _min_p_mann_whitney(n_a: int, n_b: int, alternative: str) -> float:
    """Exact Mann-Whitney: the most extreme ordering has probability 1 / C(n_a + n_b, n_a)."""
    p = 1.0 / math.comb(n_a + n_b, n_a)
    return min(1.0, 2 * p) if alternative == "two-sided" else p


def _min_p_wilcoxon(n_nonzero: int, alternative: str) -> float:
    """Exact signed-rank over sign flips of the non-zero differences (zeros are dropped)."""
    p = 0.5**n_nonzero
    return min(1.0, 2 * p) if alternative == "two-sided" else p


def min_seeds(paired: bool, alternative: str = "greater", family: int = 1) -> int:
    """The fewest seeds per group for which the test can reach p < ALPHA at all (with a
    Holm family of `family` tests, its smallest p must pass ALPHA / family): 2^-n for n
    pairs (sign flips), 1 / C(2n, n) for two groups of n (orderings or splits)."""
    for n in range(2, 100):
        p = _min_p_wilcoxon(n, alternative) if paired else _min_p_mann_whitney(n, n, alternative)
        if p * family < ALPHA:
            return n
    return 100


def _alpha(alternative: str, family: int) -> float:
    """The level each tail is held to: ALPHA / family (Holm's strictest step), halved for a
    two-sided test."""
    return ALPHA / family / (2 if alternative == "two-sided" else 1)


def _z_for_power(level: float) -> float:
    """The standardised effect a normal statistic must have to pass `level` (one tail)
    with probability POWER: z_(1 - level) + z_POWER."""
    return float(sps.norm.ppf(1 - level) + sps.norm.ppf(POWER))


def seeds_for_power(
    effect_size: float,
    alternative: str,
    paired: bool,
    family: int = 1,
) -> int | None:
    """Seeds per group (pairs, if `paired`) at which the exact rank test (Wilcoxon if
    paired, else Mann-Whitney) reaches p < ALPHA / family with probability POWER when the
    data are normal and shifted by `effect_size` (Cohen's d in the claimed direction).

    The normal approximation inflated by pi/3 (the rank tests' efficiency relative to the
    t-test) asks too few at small n (6 seeds at d = 1.5 give Mann-Whitney about 74 % power), so
    up to 100 seeds the power is simulated (POWER_DRAWS experiments per count, fixed draws)
    and the fewest seeds reaching POWER are returned; never below the fewest at which the
    test can reach significance at all. None when the effect is zero or points the other
    way: no number of seeds makes a wrong-way effect significant."""
    if not math.isfinite(effect_size) or effect_size <= 0:
        return None
    z = _z_for_power(_alpha(alternative, family))
    n0 = math.ceil((1 if paired else 2) * (z / effect_size) ** 2 * math.pi / 3)
    if n0 > 100:  # many seeds: the approximation holds
        return n0
    return _fewest_with_power(float(effect_size), alternative, paired, family, n0)


@functools.lru_cache(maxsize=4096)
def _fewest_with_power(d: float, alternative: str, paired: bool, family: int, n0: int) -> int:
    """From the approximation's n0 (raised to the test's floor, the fewest seeds that can
    reach the level at all): up while the simulated power falls short, then down while one
    seed fewer still reaches it (never below the floor). The climb stops at 2 n0 + 10, far
    above where the power gets (about n0 + 2 at few seeds, n0 at many)."""
    floor = min_seeds(paired, alternative, family)
    n = n0 = max(floor, n0)
    while n < 2 * n0 + 10 and _rank_test_power(d, n, alternative, paired, family) < POWER:
        n += max(1, n // 10)
    while n > floor and _rank_test_power(d, n - 1, alternative, paired, family) >= POWER:
        n -= 1
    return n


def _rank_test_power(d: float, n: int, alternative: str, paired: bool, family: int) -> float:
    """The share of POWER_DRAWS simulated experiments (normal data, shift d, n seeds a
    group) in which the exact rank test gives p < ALPHA / family (scipy's exact tests, equal
    to this module's for untied data; asymptotic beyond 30 seeds)."""
    rng = np.random.default_rng(n)  # fixed draws for each n: the search is deterministic
    side = "two-sided" if alternative == "two-sided" else "greater"
    method = "exact" if n <= 30 else "auto"
    a = rng.normal(d, 1.0, (POWER_DRAWS, n))
    if paired:
        p = sps.wilcoxon(a, alternative=side, method=method, axis=1).pvalue
    else:
        b = rng.normal(0.0, 1.0, (POWER_DRAWS, n))
        p = sps.mannwhitneyu(a, b, alternative=side, method=method, axis=1).pvalue
    return float(np.mean(p * family < ALPHA))


def sign_test_seeds(effect: float, family: int = 1) -> int | None:
    """Seeds at which the exact one-sided sign test reaches p < ALPHA / family with
    probability at least POWER at every larger count too (the binomial power saw-tooths:
    at a share of 2/3, 58 seeds give 81 % and 59 give 79 %), when each seed lies in the
    claimed direction with probability (1 + effect) / 2. Exact binomial arithmetic."""
    if not math.isfinite(effect) or effect <= 0:
        return None
    level, share = ALPHA / family, (1 + effect) / 2
    top = max(50, 4 * math.ceil((_z_for_power(level) / effect) ** 2))
    ns = np.arange(1, top + 1)
    ks = np.arange(top + 1)
    # the fewest successes significant at each n: P(X >= k | n, 1/2) < level; where no
    # count of n can be, k = n + 1 is found (its tail is 0), and its power is 0
    null_tail = sps.binom.sf(ks[None, :] - 1, ns[:, None], 0.5)
    critical = np.argmax(null_tail < level, axis=1)
    power = sps.binom.sf(critical - 1, ns, share)
    short = ns[power < POWER]  # seed counts that fall short (n = 1 always does)
    return int(short[-1]) + 1


def _with_needed(t: Test) -> Test:
    """The test with the seeds it asks for alone (a Holm family asks its own: `holm`)."""
    return dataclasses.replace(t, needed=t.seeds_for())


def _untestable(name: str, n_a: int, n_b: int, **design) -> Test:
    """A test that cannot run (too few seeds, no statistic): no p, nothing reachable."""
    return Test(name, float("nan"), n_a, n_b, 1.0, float("nan"), None, **design)


def _check(alternative: str, allowed: tuple[str, ...] = ("greater", "less", "two-sided")) -> None:
    if alternative not in allowed:
        names = f"{', '.join(allowed[:-1])} or {allowed[-1]}"
        raise ValueError(f"alternative must be {names}, not {alternative!r}")


def _tails_p(less: float, greater: float, alternative: str) -> float:
    """An exact test's p from its two tail probabilities: two-sided is twice the smaller
    tail, capped at 1 (scipy's rule)."""
    p = {"less": less, "greater": greater, "two-sided": 2 * min(less, greater)}[alternative]
    return float(min(p, 1.0))


def _signed(d: float, alternative: str) -> float:
    return -d if alternative == "less" else abs(d) if alternative == "two-sided" else d


def mean_difference(a: np.ndarray, b: np.ndarray, paired: bool) -> dict:
    """a - b's mean with its 95% t interval (paired t or Welch's), as Test fields."""
    if a.size < 2 or b.size < 2:
        return {}
    with warnings.catch_warnings():  # identical values: scipy warns, the interval is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        t = sps.ttest_rel(a, b) if paired else sps.ttest_ind(a, b, equal_var=False)
        lo, hi = t.confidence_interval(1 - ALPHA)
    diff = float(np.mean(a - b) if paired else a.mean() - b.mean())
    if not (math.isfinite(lo) and math.isfinite(hi)):  # no spread: the point, no interval
        return {"diff": diff}
    return {"diff": diff, "diff_lo": float(lo), "diff_hi": float(hi)}


@functools.lru_cache(maxsize=16)
def _splits(n: int, n_a: int) -> np.ndarray:
    """Every way to pick n_a of n rows, (C(n, n_a), n_a) indices (lexicographic order)."""
    splits = np.array(list(itertools.combinations(range(n), n_a)), np.intp)
    splits.flags.writeable = False  # shared by every caller
    return splits


def _mann_whitney_p(a: np.ndarray, b: np.ndarray, alternative: str) -> float:
    """Mann-Whitney's p from the exact permutation distribution of U, ties included
    (scipy's 'auto' falls back to the normal approximation with ties, which can undercut
    the exact minimum p), up to 50,000 orderings; beyond, RESAMPLES random ones.

    The exact case is scipy's `mannwhitneyu(..., method=PermutationMethod())` computed
    directly: every split's rank sum over the pooled sample's average ranks (halves, so
    every sum is exact in float64 and ties compare exactly: scipy's 100-eps tolerance
    changes nothing), p = count / C(n, n_a), two-sided = twice the smaller tail, capped at
    1. scipy's generic enumeration calls the statistic once per split in Python (0.4 s at
    8 + 8 seeds); this takes milliseconds. tests/test_stats.py checks the two agree."""
    n_a, n = a.size, a.size + b.size
    if math.comb(n, n_a) > 50_000:
        method = sps.PermutationMethod(n_resamples=RESAMPLES, rng=np.random.default_rng(BOOT_SEED))
        return float(sps.mannwhitneyu(a, b, alternative=alternative, method=method).pvalue)
    # U = R - n_a (n_a + 1) / 2 for a's rank sum R: a constant shift, so R's tails are U's
    ranks = sps.rankdata(np.concatenate([a, b]))
    null = ranks[_splits(n, n_a)].sum(axis=1)
    observed = ranks[:n_a].sum()
    less = np.count_nonzero(null <= observed) / null.size
    greater = np.count_nonzero(null >= observed) / null.size
    return _tails_p(less, greater, alternative)


def mann_whitney(a, b, alternative: str = "greater") -> Test:
    """Is a larger than b (alternative 'greater'), smaller ('less'), or different?"""
    _check(alternative)
    a, b = finite(a), finite(b)
    name = "Mann-Whitney U"
    if a.size < 2 or b.size < 2:
        return _untestable(name, int(a.size), int(b.size), alternative=alternative)
    if np.ptp(np.concatenate([a, b])) == 0:
        p = 1.0
    else:
        p = _mann_whitney_p(a, b, alternative)
    sd = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    d = _signed((a.mean() - b.mean()) / sd, alternative) if sd > 0 else float("nan")
    min_p = _min_p_mann_whitney(a.size, b.size, alternative)
    return _with_needed(Test(name, p, int(a.size), int(b.size), min_p, d, None,
                             alternative=alternative,
                             **mean_difference(a, b, paired=False)))  # fmt: skip


def _wilcoxon_exact_p(diff: np.ndarray, alternative: str) -> float:
    """Wilcoxon's exact p over all 2^n sign flips of n nonzero differences, ties included.

    What scipy's `wilcoxon(..., method=PermutationMethod())` enumerates, computed as a
    distribution instead: the statistic is the rank sum of the positive differences
    (average ranks of |d|); under the null each pair adds its rank or nothing with
    probability 1/2, so the sum's law is built pair by pair over doubled ranks (integers:
    average ranks are halves). Every probability is a multiple of 2^-n, so the tails are
    exact in float64 (to 52 pairs; beyond, to float64 rounding) and equal scipy's count /
    2^n to the last bit (tests/test_stats.py). Two-sided is twice the smaller tail, capped
    at 1, as scipy's. Milliseconds at any size: scipy enumerates 2^n flips in Python
    batches (10 s at 16 pairs) and only draws random ones beyond."""
    ranks2 = np.rint(2 * sps.rankdata(np.abs(diff))).astype(np.int64)
    observed = int(ranks2[diff > 0].sum())
    law = np.zeros(int(ranks2.sum()) + 1)
    law[0] = 1.0
    for r in ranks2:  # add pair r's rank (prob. 1/2) or not
        law = 0.5 * law + 0.5 * np.concatenate([np.zeros(r), law[: law.size - r]])
    return _tails_p(law[: observed + 1].sum(), law[observed:].sum(), alternative)


def wilcoxon(a, b, alternative: str = "greater") -> Test:
    """Paired: is a - b larger than 0 (same seeds under two treatments)?

    Zero differences are dropped (Wilcoxon's own rule, scipy's default), so they count
    neither in the p-value nor in the smallest p the test can reach. Exact at any number
    of pairs (`_wilcoxon_exact_p`)."""
    _check(alternative)
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    diff = a[ok] - b[ok]
    name = "Wilcoxon signed-rank"
    n = int(diff.size)
    nonzero = int(np.count_nonzero(diff))
    if n < 2:
        return _untestable(name, n, n, paired=True, alternative=alternative)
    p = _wilcoxon_exact_p(diff[diff != 0], alternative) if nonzero else 1.0
    sd = diff.std(ddof=1)
    d = _signed(diff.mean() / sd, alternative) if sd > 0 else float("nan")
    min_p = _min_p_wilcoxon(nonzero, alternative)
    return _with_needed(Test(name, p, n, n, min_p, d, None, paired=True, alternative=alternative,
                             diff_what="mean paired difference a - b",
                             **mean_difference(a[ok], b[ok], paired=True)))  # fmt: skip


def sign_test(values, value: float, alternative: str = "less", ties: str = "drop") -> Test:
    """Exact one-sample sign test: do most values lie below `value` ('less') or above it
    ('greater')? Binomial over the values that differ from `value`. Unlike the one-sample
    Wilcoxon it assumes no symmetry, which bounded, skewed counts lack.

    `ties` says what a value equal to `value` is: dropped ('drop', the textbook rule), a
    seed against the alternative ('against': "fewer than 4 of 8" is not met at 4), or one
    for it ('for': "at least 4" is met at 4). The estimate is the share of the seeds
    counted that lie in the alternative's direction, with its exact (Clopper-Pearson) 95%
    interval."""
    if ties not in ("drop", "against", "for"):
        raise ValueError(f"ties must be drop, against or for, not {ties!r}")
    _check(alternative, ("less", "greater"))
    v = finite(values)
    name = "sign test"
    n = int(v.size)
    if n < 2:
        return _untestable(name, n, n, paired=True, alternative=alternative)
    below, above = int(np.sum(v < value)), int(np.sum(v > value))
    tied = n - below - above
    hits = below if alternative == "less" else above
    k = below + above
    if ties != "drop":
        k = n
        hits += tied if ties == "for" else 0
    p = float(sps.binomtest(hits, k, 0.5, alternative="greater").pvalue) if k else 1.0
    share = (hits / k) if k else float("nan")
    # the share beyond 1/2 over its sd at one value, in the claimed direction (0 at a coin
    # flip, negative when most values lie the other way)
    effect = (share - 0.5) / 0.5 if k else float("nan")
    where = "below" if alternative == "less" else "above"
    if ties == "for":
        where = "at or " + where
    what = f"share of seeds {where} {value:g}" + (" (ties dropped)" if ties == "drop" else "")
    interval = {}
    if k:
        ci = sps.binomtest(hits, k, 0.5).proportion_ci(LEVEL, method="exact")
        interval = {"diff": share, "diff_lo": float(ci.low), "diff_hi": float(ci.high)}
    # one-sided either way: "less" reaches the same smallest p, and needs the same
    # seeds, as "greater"
    return _with_needed(Test(name, p, n, n, _min_p_wilcoxon(k, alternative), effect, None,
                             diff_what=what, paired=True, alternative=alternative,
                             effect_kind="share", **interval))  # fmt: skip


def permutation_test(statistic, a: np.ndarray, b: np.ndarray, name: str) -> Test:
    """One-sided two-sample permutation test of statistic(a, b) > 0 (its observed value
    against every re-split of the pooled rows into groups of the same sizes; exact up to
    50,000 splits, else RESAMPLES random ones with p = (1 + k) / (1 + R)).

    `statistic(A, B)` takes stacked groups: A of shape (K, n_a, ...), B of (K, n_b, ...),
    and returns (K,) values, so all splits are computed at once. Calibrated under the null
    that the rows of a and b come from one distribution."""
    n_a, n_b = len(a), len(b)
    if n_a < 2 or n_b < 2:
        return _untestable(name, n_a, n_b)
    pooled = np.concatenate([a, b])
    n = n_a + n_b
    total = math.comb(n, n_a)
    if total <= 50_000:
        splits = _splits(n, n_a)
    else:
        rng = np.random.default_rng(BOOT_SEED)
        splits = np.argsort(rng.random((RESAMPLES, n)), axis=1)[:, :n_a]
        splits = np.concatenate([np.arange(n_a)[None], np.sort(splits, axis=1)])
    mask = np.zeros((len(splits), n), bool)
    np.put_along_axis(mask, splits, True, axis=1)
    idx_a = np.nonzero(mask)[1].reshape(len(splits), n_a)
    idx_b = np.nonzero(~mask)[1].reshape(len(splits), n_b)
    values = np.asarray(statistic(pooled[idx_a], pooled[idx_b]), np.float64)
    observed = values[0] if total > 50_000 else float(statistic(a[None], b[None])[0])
    if not math.isfinite(observed):
        return _untestable(name, n_a, n_b)
    values = values[np.isfinite(values)]
    # the observed split is among them: p = (1 + k) / (1 + R) with random splits
    p = int(np.sum(values >= observed - 1e-12)) / values.size
    sd = values.std()
    z = (observed - values.mean()) / sd if sd > 0 else float("nan")
    min_p = 1.0 / values.size
    return _with_needed(Test(name, p, n_a, n_b, min_p, z, None, effect_kind="z"))
