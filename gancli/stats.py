"""Statistics over seeds: bootstrap confidence intervals and two-sample tests.

Every figure that summarises seeds is a mean with a 95 % *percentile* bootstrap interval
(9,999 resamples of the seeds, a fixed seed so reports are reproducible; the same
interval as scipy.stats.bootstrap(method="percentile"), vectorised in numpy because a
report computes thousands of them).
Every "A is better than B" is a test over seeds with its p-value and seed counts:
Mann-Whitney U for independent runs (its exact permutation distribution, ties included,
up to 50,000 orderings), the Wilcoxon signed-rank test for paired ones (the same seed
under two treatments; exact over sign flips up to 16 pairs). A test that cannot reach
significance with the seeds at hand, or does not, makes the verdict "inconclusive" with
the number of seeds that would be needed; it never becomes a guess.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
from scipy import stats as sps

LEVEL = 0.95
ALPHA = 0.05
POWER = 0.8
RESAMPLES = 9999
BOOT_SEED = 0


def finite(values) -> np.ndarray:
    """The finite values as float64 (None and NaN, e.g. diverged seeds, are dropped)."""
    v = [x for x in values if x is not None and np.isfinite(x)]
    return np.asarray(v, np.float64)


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its 95 % percentile-bootstrap interval."""

    mean: float
    lo: float
    hi: float
    n: int

    def __str__(self) -> str:
        if self.n == 0:
            return "-"
        if not math.isfinite(self.lo):
            return f"{self.mean:.3g} (n={self.n})"
        return f"{self.mean:.3g} [{self.lo:.3g}, {self.hi:.3g}]"

    def to_dict(self) -> dict:
        def clean(x):
            return x if math.isfinite(x) else None

        return {"mean": clean(self.mean), "ci_lo": clean(self.lo), "ci_hi": clean(self.hi),
                "n": self.n}  # fmt: skip


@functools.cache
def _resample_indices(n: int) -> np.ndarray:
    """(RESAMPLES, n) seed indices drawn with replacement; the same for every call."""
    return np.random.default_rng(BOOT_SEED).integers(0, n, (RESAMPLES, n))


def bootstrap_ci(values) -> tuple[float, float]:
    """95 % percentile-bootstrap interval of the mean; NaN with fewer than 2 values."""
    v = finite(values)
    if v.size < 2:
        return float("nan"), float("nan")
    if np.ptp(v) == 0:
        return float(v[0]), float(v[0])
    means = v[_resample_indices(v.size)].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return float(lo), float(hi)


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample std (ddof=1) over the finite values (diverged seeds are NaN).

    The std of a single value is NaN: one seed says nothing about the spread."""
    v = finite(values)
    if v.size == 0:
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else float("nan")


def mean_ci(values) -> Estimate:
    v = finite(values)
    if v.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    lo, hi = bootstrap_ci(v)
    return Estimate(float(v.mean()), lo, hi, int(v.size))


def finite_or_none(v):
    """JSON-ready: ints stay ints, non-finite floats become None (JSON has no NaN)."""
    if isinstance(v, int | np.integer) and not isinstance(v, bool):
        return int(v)
    v = float(v)
    return v if math.isfinite(v) else None


def summarize(rows: list[dict], names) -> dict:
    """Each metric over rows (one per seed): mean, sample std (ddof=1) and 95% bootstrap CI
    as [lo, hi]. JSON-ready: a value that is not finite is None."""
    out: dict[str, dict] = {"mean": {}, "std": {}, "ci95": {}}
    for k in names:
        values = [r[k] for r in rows]
        mean, sd = mean_std(values)
        ci = mean_ci(values)
        out["mean"][k], out["std"][k] = finite_or_none(mean), finite_or_none(sd)
        out["ci95"][k] = [finite_or_none(ci.lo), finite_or_none(ci.hi)]
    return out


def diff_ci(a, b) -> Estimate:
    """mean(a) - mean(b) with a percentile-bootstrap interval, a and b resampled apart."""
    a, b = finite(a), finite(b)
    if a.size == 0 or b.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    d = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return Estimate(d, float("nan"), float("nan"), min(a.size, b.size))
    rng = np.random.default_rng(BOOT_SEED)
    ia = rng.integers(0, a.size, (RESAMPLES, a.size))
    ib = rng.integers(0, b.size, (RESAMPLES, b.size))
    boot = a[ia].mean(1) - b[ib].mean(1)
    lo, hi = np.quantile(boot, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return Estimate(d, float(lo), float(hi), min(a.size, b.size))


@dataclasses.dataclass(frozen=True)
class Test:
    """The outcome of one stated test. `significant` is p < ALPHA."""

    name: str
    p: float
    n_a: int
    n_b: int
    significant: bool
    min_p: float  # the smallest p-value this test can give with these seed counts
    needed: int | None  # seeds per group for 80 % power at the observed effect, if known

    @property
    def inconclusive_reason(self) -> str:
        if self.significant:
            return ""
        if self.n_a < 2 or self.n_b < 2:
            return "inconclusive: needs at least 2 seeds per group"
        if self.min_p >= ALPHA:
            n_min = min_seeds(self.name)
            return (
                f"inconclusive: with {self.n_a} and {self.n_b} seeds the {self.name} test "
                f"cannot reach p < {ALPHA}; needs {n_min} seeds"
            )
        need = f"; about {self.needed} seeds per group would detect the observed effect " \
               f"with {POWER:.0%} power" if self.needed else ""  # fmt: skip
        return f"inconclusive: p = {self.p:.3g} ({self.name}, n = {self.n_a}, {self.n_b}){need}"

    def describe(self) -> str:
        return f"{self.name}, n = {self.n_a} vs {self.n_b}, p = {self.p:.3g}"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self) | {"p": None if math.isnan(self.p) else self.p}


def _min_p_mann_whitney(n_a: int, n_b: int, alternative: str) -> float:
    """Exact Mann-Whitney: the most extreme ordering has probability 1 / C(n_a + n_b, n_a)."""
    p = 1.0 / math.comb(n_a + n_b, n_a)
    return min(1.0, 2 * p) if alternative == "two-sided" else p


def _min_p_wilcoxon(n: int, alternative: str) -> float:
    p = 0.5**n
    return min(1.0, 2 * p) if alternative == "two-sided" else p


def min_seeds(name: str, alternative: str = "greater") -> int:
    """The fewest seeds per group for which the test can reach p < ALPHA at all."""
    for n in range(2, 100):
        p = _min_p_wilcoxon(n, alternative) if "Wilcoxon" in name else \
            _min_p_mann_whitney(n, n, alternative)  # fmt: skip
        if p < ALPHA:
            return n
    return 100


def seeds_for_power(effect_size: float, alternative: str, paired: bool) -> int | None:
    """Seeds per group for POWER at `effect_size` (Cohen's d), normal approximation,
    inflated by pi/3 for the rank test's efficiency relative to the t-test."""
    if not math.isfinite(effect_size) or effect_size == 0:
        return None
    alpha = ALPHA / 2 if alternative == "two-sided" else ALPHA
    z = sps.norm.ppf(1 - alpha) + sps.norm.ppf(POWER)
    n = (1 if paired else 2) * (z / abs(effect_size)) ** 2 * math.pi / 3
    return max(2, math.ceil(n))


def mann_whitney(a, b, alternative: str = "greater") -> Test:
    """Is a larger than b (alternative 'greater'), smaller ('less'), or different?"""
    a, b = finite(a), finite(b)
    name = "Mann-Whitney U"
    if a.size < 2 or b.size < 2:
        return Test(name, float("nan"), int(a.size), int(b.size), False, 1.0, None)
    if np.ptp(np.concatenate([a, b])) == 0:
        p = 1.0
    else:
        # The exact permutation distribution, ties included (scipy's 'auto' falls back to
        # the normal approximation with ties, which can undercut the exact minimum p).
        exact = math.comb(a.size + b.size, a.size) <= 50_000
        method = sps.PermutationMethod(
            n_resamples=np.inf if exact else RESAMPLES, rng=np.random.default_rng(BOOT_SEED)
        )
        p = float(sps.mannwhitneyu(a, b, alternative=alternative, method=method).pvalue)
    sd = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    d = (a.mean() - b.mean()) / sd if sd > 0 else float("nan")
    min_p = _min_p_mann_whitney(a.size, b.size, alternative)
    return Test(name, p, int(a.size), int(b.size), p < ALPHA, min_p,
                seeds_for_power(d, alternative, paired=False))  # fmt: skip


def wilcoxon(a, b, alternative: str = "greater") -> Test:
    """Paired: is a - b larger than 0 (same seeds under two treatments)?"""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    diff = a[ok] - b[ok]
    name = "Wilcoxon signed-rank"
    n = int(diff.size)
    if n < 2:
        return Test(name, float("nan"), n, n, False, 1.0, None)
    if np.all(diff == 0):
        p = 1.0
    else:  # exact over all 2^n sign flips (ties and zeros included) up to n = 16
        method = sps.PermutationMethod(
            n_resamples=np.inf if n <= 16 else RESAMPLES, rng=np.random.default_rng(BOOT_SEED)
        )
        p = float(sps.wilcoxon(diff, alternative=alternative, method=method).pvalue)
    sd = diff.std(ddof=1)
    d = diff.mean() / sd if sd > 0 else float("nan")
    min_p = _min_p_wilcoxon(n, alternative)
    return Test(name, p, n, n, p < ALPHA, min_p, seeds_for_power(d, alternative, paired=True))
