"""Claim 3's measures: does a loss's divergence estimate (-L_D) track the distance to the
data? Spearman correlations within each run over its steps, and across seeds at each step
(time removed), with a seed bootstrap for the latter."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import rankdata

from gancli import stats
from gancli.report.runs import grid

MIN_SEEDS = 4  # fewest seeds for an interval that means anything


def spearman_rows(a: np.ndarray, b: np.ndarray, axis: int) -> np.ndarray:
    """Spearman correlation along `axis` (ties get average ranks); NaN where constant."""
    ra, rb = rankdata(a, axis=axis), rankdata(b, axis=axis)
    ra = ra - ra.mean(axis=axis, keepdims=True)
    rb = rb - rb.mean(axis=axis, keepdims=True)
    num = (ra * rb).sum(axis=axis)
    den = np.sqrt((ra**2).sum(axis=axis) * (rb**2).sum(axis=axis))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def estimate_and_quality(run: dict, distance: str, steps: list[int]):
    """(-L_D, distance) as (seeds, steps) arrays over seeds that never diverged."""
    est = -grid(run, "d_loss", steps, "metrics")
    q = grid(run, distance, steps)
    ok = np.isfinite(est).all(1) & np.isfinite(q).all(1)
    return est[ok], q[ok]


def within_run_rhos(est: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per seed: Spearman over the steps (the WGAN paper's own evidence: its curves)."""
    if est.shape[1] < 4:
        return np.zeros(0)
    r = spearman_rows(est, q, axis=1)
    return r[np.isfinite(r)]


def _nanmean(x: np.ndarray, axis: int) -> np.ndarray:
    """Mean over the defined values; NaN (without a warning) where none is."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(x, axis=axis)


def cross_seed_rho(est: np.ndarray, q: np.ndarray, resamples: int = 0):
    """Time removed: at each step, Spearman across seeds; averaged over steps.

    With `resamples`, also that statistic on seed-resampled copies (cluster bootstrap)."""
    if est.shape[0] < MIN_SEEDS or not est.size:
        return float("nan"), np.zeros(0)
    point = float(_nanmean(spearman_rows(est, q, axis=0), axis=0))
    if not resamples:
        return point, np.zeros(0)
    rng = np.random.default_rng(stats.BOOT_SEED)
    idx = rng.integers(0, est.shape[0], (resamples, est.shape[0]))
    return point, _nanmean(spearman_rows(est[idx], q[idx], axis=1), axis=1)
