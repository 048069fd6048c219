"""Estimates over seeds: means with intervals that cover, and JSON-ready summaries.

Every figure that summarises seeds is a mean with a 95 % *Student's t* interval,
mean +- t(0.975, n-1) * sd / sqrt(n). At the seed counts we use (4-10) the percentile
bootstrap under-covers (about 89 % for normal data at n = 8, 84 % for exponential data:
it ignores that sd is estimated from 8 values), and so does BCa; the t interval is exact
for normal data and closer to nominal than either for skewed data
(`tests/test_stats.py` simulates the coverage). Identical values give no interval: they
print as "all n equal", not as a zero-width certainty. The tests over seeds are in
`gancli.stats`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import stats as sps

LEVEL = 0.95


def finite(values) -> np.ndarray:
    """The finite values as float64 (None and NaN, e.g. diverged seeds, are dropped)."""
    v = [x for x in values if x is not None and np.isfinite(x)]
    return np.asarray(v, np.float64)


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its 95 % Student's t interval (or another statistic with
    its interval)."""

    mean: float
    lo: float
    hi: float
    n: int

    @property
    def constant(self) -> bool:
        """Every value was the same: the interval is not a measured certainty."""
        return self.n >= 2 and self.lo == self.mean == self.hi

    def __str__(self) -> str:
        if self.n == 0:
            return "-"
        if self.constant:
            return f"{self.mean:.3g} (all {self.n} equal)"
        if not math.isfinite(self.lo):
            return f"{self.mean:.3g} (n={self.n})"
        return f"{self.mean:.3g} [{self.lo:.3g}, {self.hi:.3g}]"

    def to_dict(self) -> dict:
        def clean(x):
            return x if math.isfinite(x) else None

        if self.constant:  # no interval: every value was the same
            return {"mean": clean(self.mean), "ci_lo": None, "ci_hi": None, "n": self.n,
                    "all_equal": True}  # fmt: skip
        return {"mean": clean(self.mean), "ci_lo": clean(self.lo), "ci_hi": clean(self.hi),
                "n": self.n}  # fmt: skip


def t_interval(values) -> tuple[float, float]:
    """95 % Student's t interval of the mean; NaN with fewer than 2 values; (v, v) when
    every value is v."""
    v = finite(values)
    if v.size < 2:
        return float("nan"), float("nan")
    if np.ptp(v) == 0:
        return float(v[0]), float(v[0])
    half = sps.t.ppf((1 + LEVEL) / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size)
    return float(v.mean() - half), float(v.mean() + half)


def _mean(v: np.ndarray) -> float:
    """The mean of finite values; equal values' mean is that value (numpy's sum can round:
    0.1 x 3 -> 0.10000000000000002, which would print a zero-width interval beside it
    instead of "all equal")."""
    return float(v[0]) if np.ptp(v) == 0 else float(v.mean())


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample std (ddof=1) over the finite values (diverged seeds are NaN).

    The std of a single value is NaN: one seed says nothing about the spread; the std of
    equal values is 0 exactly (numpy's would be 1.7e-17 for 0.1 x 3, from the rounded mean)."""
    v = finite(values)
    if v.size == 0:
        return float("nan"), float("nan")
    if v.size == 1:
        return _mean(v), float("nan")
    return _mean(v), 0.0 if np.ptp(v) == 0 else float(v.std(ddof=1))


def mean_ci(values) -> Estimate:
    v = finite(values)
    if v.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    lo, hi = t_interval(v)
    return Estimate(_mean(v), lo, hi, int(v.size))


def finite_or_none(v):
    """JSON-ready: ints stay ints, non-finite floats become None (JSON has no NaN)."""
    if isinstance(v, int | np.integer) and not isinstance(v, bool):
        return int(v)
    v = float(v)
    return v if math.isfinite(v) else None


def summarize(rows: list[dict], names) -> dict:
    """Each metric over rows (one per seed): mean, sample std (ddof=1) and 95% Student's t
    CI as [lo, hi]. JSON-ready: a value that is not finite is None."""
    out: dict[str, dict] = {"mean": {}, "std": {}, "ci95": {}}
    for k in names:
        values = [r[k] for r in rows]
        mean, sd = mean_std(values)
        ci = mean_ci(values)
        out["mean"][k], out["std"][k] = finite_or_none(mean), finite_or_none(sd)
        out["ci95"][k] = [finite_or_none(ci.lo), finite_or_none(ci.hi)]
    return out
