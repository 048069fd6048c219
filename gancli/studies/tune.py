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

from gancli.loss_table import LOSS_TABLE

# Per loss: field -> ("log_uniform", lo, hi) | ("choice", [values]), from the loss table.
# n_critic is structural (a separate program per value); everything else is swept inside
# one program.
SEARCH_SPACES: dict[str, dict[str, tuple]] = {n: s.search for n, s in LOSS_TABLE.items()}
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


# ---- running it ---------------------------------------------------------------------------


def tuning_runs(comparison, k: int, tune_seeds: int) -> dict[str, dict]:
    """Per loss: its K points, and the runs (one per structural choice) that train them.

    Each run is the loss's comparison config with the structural choice set and the
    points' continuous values as a sweep over `tune_seeds` tuning seeds."""
    from gancli import config as config_lib
    from gancli.sweep import as_point

    out = {}
    for loss in comparison.losses:
        points = draw(loss, k, seed=comparison.base.seed)
        base = comparison.config_for(loss, False)
        runs = []
        for struct, idx in by_structure(points).items():
            pts = [as_point(points[i]) for i in idx]
            cfg = base.replace(seeds=tune_seeds, seed=TUNE_SEED_BASE, **dict(struct))
            cfg = cfg.replace(sweep=tuple(pts)) if len(pts) > 1 else cfg.replace(**dict(pts[0]))
            suffix = "".join(f"-{f.replace('_', '')}{v}" for f, v in struct)
            runs.append((f"{loss}{suffix}", config_lib.resolve(cfg), idx))
        out[loss] = {"points": points, "runs": runs}
    return out


def scores_of(summary: dict, metric: str, n_points: int) -> list[float]:
    """Mean `metric` over the tuning seeds, per point of a run (in its sweep order)."""
    if "points" in summary:
        means = [p["mean"].get(metric) for p in summary["points"]]
        return [float("nan") if v is None else v for v in means]
    value = summary["mean"].get(metric)
    return [float("nan") if value is None else value] * n_points


def run_tuning(comparison, out, k: int, tune_seeds: int, quiet=False, log=print, force=False):
    """Tune every loss, retrain its best point on the comparison's seeds, and report.

    Returns the tuning summary; the held-out comparison (its own report, claims judged on
    the tuned runs) is in `out/tuned`."""
    import dataclasses
    import json
    from pathlib import Path

    from gancli.report import claims
    from gancli.run.rundir import RunDir
    from gancli.studies import compare

    out = Path(out)
    plan_in = tuning_runs(comparison, k, tune_seeds)
    flat = [(f"tune/{name}", cfg, out / "tune" / name)
            for t in plan_in.values() for name, cfg, _ in t["runs"]]  # fmt: skip
    plan = compare.plan_runs(flat, force)
    compare.execute(plan, quiet, log)
    result: dict = {"k": k, "tune_seeds": tune_seeds, "seed_base": TUNE_SEED_BASE,
                    "spaces": SEARCH_SPACES, "losses": {}}  # fmt: skip
    best_per_loss = {}
    for loss, t in plan_in.items():
        scores = [float("nan")] * k
        metric = None
        for name, _, idx in t["runs"]:
            summary = json.loads(RunDir(out / "tune" / name).summary.read_text())
            metric = claims.distance_metric(list(summary["mean"]))
            for i, v in zip(idx, scores_of(summary, metric, len(idx)), strict=True):
                scores[i] = v
        best = best_point(t["points"], scores)
        best_per_loss[loss] = t["points"][best]
        result["metric"] = metric
        result["losses"][loss] = {
            "points": t["points"],
            "scores": scores,
            "best": best,
            "best_point": t["points"][best],
            "budget_curve": budget_curve(scores),
        }
    per_loss = {
        loss: {**comparison.per_loss.get(loss, {}), **p} for loss, p in best_per_loss.items()
    }
    tuned = dataclasses.replace(comparison, per_loss=per_loss)
    log(f"held-out runs of each loss's best point: {out / 'tuned'}")
    held_out = compare.run_comparison(tuned, out / "tuned", quiet=quiet, log=log, force=force)
    result["held_out"] = {
        name: {"settings": r["settings"], "ci95": r["ci95"]} for name, r in held_out["runs"].items()
    }
    result["claims_held_out"] = [
        {"claim": c["claim"], "headline": c["headline"]} for c in held_out["claims"]
    ]
    from gancli.report import build as report

    report.write_tuning(result, out)
    return result
