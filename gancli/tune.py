"""Fair comparison: every loss at its best, at equal budget (Lucic et al., 2018).

Each loss draws K points from its own search space, trains them all on tuning seeds with
the same steps (the continuous settings as one sweep program per structural choice), and
picks its best point by the mean distance to the data over the tuning seeds at the final
evaluation. That point is then retrained on the comparison's own seeds, which the tuning
never saw, so the reported figures carry no selection bias.

The "budget curve" is Lucic et al.'s: the expected best score when k of the K points are
tried, for k = 1..K, computed exactly over all subsets of size k.
"""

from __future__ import annotations

import math

import numpy as np

# Per loss: field -> ("log_uniform", lo, hi) | ("choice", [values]). n_critic is structural
# (a separate program per value); everything else is swept inside one program.
SEARCH_SPACES: dict[str, dict[str, tuple]] = {
    "gan": {
        "lr_g": ("log_uniform", 1e-5, 1e-3),
        "lr_d": ("log_uniform", 1e-5, 1e-3),
        "beta1": ("choice", [0.5, 0.9]),
    },
    "nsgan": {
        "lr_g": ("log_uniform", 1e-5, 1e-3),
        "lr_d": ("log_uniform", 1e-5, 1e-3),
        "beta1": ("choice", [0.5, 0.9]),
    },
    "wgan": {
        "lr_g": ("log_uniform", 1e-5, 1e-3),
        "lr_d": ("log_uniform", 1e-5, 1e-3),
        "clip": ("log_uniform", 1e-3, 1e-1),
        "n_critic": ("choice", [1, 5]),
    },
}
STRUCTURAL = ("n_critic",)
TUNE_SEED_BASE = 1000  # tuning seeds are 1000, 1001, ...: never a comparison's seeds


def draw(loss: str, k: int, seed: int = 0) -> list[dict]:
    """K points from the loss's search space, reproducible from `seed` (numpy PCG64)."""
    rng = np.random.default_rng([seed, sorted(SEARCH_SPACES).index(loss)])
    points: list[dict] = [{} for _ in range(k)]
    for field, spec in SEARCH_SPACES[loss].items():
        if spec[0] == "log_uniform":
            vals = np.exp(rng.uniform(math.log(spec[1]), math.log(spec[2]), size=k))
            vals = [float(v) for v in vals]
        else:
            vals = [spec[1][i] for i in rng.integers(0, len(spec[1]), size=k)]
        for p, v in zip(points, vals, strict=True):
            p[field] = v
    return points


def by_structure(points: list[dict]) -> dict[tuple, list[int]]:
    """Indices of the points that share their structural settings (one program each)."""
    groups: dict[tuple, list[int]] = {}
    for i, p in enumerate(points):
        key = tuple((f, p[f]) for f in STRUCTURAL if f in p)
        groups.setdefault(key, []).append(i)
    return groups


def expected_best(scores: list[float], k: int) -> float:
    """E[min score among k of the points drawn without replacement] (lower is better).

    With the scores sorted s_1 <= ... <= s_K, the i-th is the best of a k-subset when the
    other k-1 come from the K-i above it: P = C(K-i, k-1) / C(K, k). Non-finite scores
    (diverged points) count as worst."""
    s = np.sort(np.where(np.isfinite(scores), scores, np.inf))
    n = len(s)
    if not 1 <= k <= n:
        raise ValueError(f"k must be in 1..{n}, got {k}")
    weights = np.array([math.comb(n - i, k - 1) for i in range(1, n + 1)]) / math.comb(n, k)
    used = weights > 0
    if not np.isfinite(s[used]).all():  # some k-subset holds only diverged points
        return float("inf")
    return float(np.sum(weights[used] * s[used]))


def budget_curve(scores: list[float]) -> list[float]:
    return [expected_best(scores, k) for k in range(1, len(scores) + 1)]


def best_point(points: list[dict], scores: list[float]) -> int:
    """The index of the lowest finite score."""
    s = np.where(np.isfinite(scores), scores, np.inf)
    if not np.isfinite(s).any():
        raise ValueError("every tuning point diverged")
    return int(np.argmin(s))
