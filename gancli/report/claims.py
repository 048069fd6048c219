"""The four claims, as pure functions from a comparison's logs to verdicts at each budget.

A budget is a number of generator steps: every evaluation step the runs share. A verdict
that changes with the budget is several facts, so every claim is judged at every budget
and its headline says where it holds. Every "better" comes from a test over seeds
(`gancli.stats`) with its p-value and seed counts; too few seeds make a verdict
"inconclusive" with the seeds needed, never a guess. Nothing here trains or plots.
"""

from __future__ import annotations

import math

import numpy as np

from gancli import stats
from gancli.report.runs import at_step, budgets
from gancli.report.tracking import MIN_SEEDS, cross_seed_rho, estimate_and_quality, within_run_rhos

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
REJECT = 0.1  # mean D(G(z)) below this: D rejects G's samples confidently
CONVERGED_HQ = 0.5  # a seed has converged when half its samples are high quality
LEARNED_HQ = 0.1  # ... and has learned something when a tenth are
CROSS_RESAMPLES = 2000


# ---- which metric, which verdict -----------------------------------------------------------


def distance_metric(names: list[str]) -> str:
    """The lower-is-better distance to the data: W1 (2-D) or the Fréchet distance (images)."""
    return next(m for m in ("w1", "fd", "fd_pixels") if m in names)


def coverage_metric(names: list[str]) -> str | None:
    return next((m for m in ("modes", "classes") if m in names), None)


def headline(by_budget: list[dict]) -> str:
    """'supported at 1000-3000; inconclusive at 250-750': where each verdict holds."""
    if not by_budget:
        return "no budget to judge"
    parts = []
    for verdict in (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE):
        steps = [b["budget"] for b in by_budget if b["verdict"] == verdict]
        if steps:
            parts.append(f"{verdict} at {_ranges(steps, [b['budget'] for b in by_budget])}")
    return "; ".join(parts)


def _ranges(chosen: list[int], order: list[int]) -> str:
    """Consecutive budgets (in `order`) as 'a-b', others listed."""
    idx = sorted(order.index(s) for s in chosen)
    groups, start = [], idx[0]
    for a, b in zip(idx, [*idx[1:], None], strict=True):
        if b != a + 1:
            groups.append(str(order[start]) if start == a else f"{order[start]}-{order[a]}")
            start = b
    return ", ".join(groups) + " steps"


def _claim(text: str, how: str, by_budget: list[dict], figures: dict) -> dict:
    final = by_budget[-1] if by_budget else {"verdict": INCONCLUSIVE, "why": "no budget"}
    return {
        "claim": text,
        "verdict": final["verdict"],  # at the largest budget
        "why": final["why"],
        "headline": headline(by_budget),
        "by_budget": by_budget,
        "how": how,
        "figures": figures,
    }


# ---- claim 1: the minimax gradient vanishes -----------------------------------------------


def claim_gradient(probe: dict | None, escape: dict | None, runs: dict) -> dict:
    """1. The minimax G's gradient vanishes when D rejects confidently; NS's does not.

    The frozen-G probe is nearly a tautology once D(G(z)) < REJECT, so the verdict comes
    from its consequence (`escape_probe`): from that same state, how far does each G get
    toward the data in the same number of steps? The budget is those steps."""
    figures: dict = {}
    if probe is not None:
        d_fake = np.asarray(probe["d_fake"])
        mm, ns = np.asarray(probe["grad_minimax"]), np.asarray(probe["grad_nonsaturating"])
        rejected = d_fake < REJECT
        figures["probe_points_rejected"] = f"{int(rejected.sum())} of {rejected.size}"
        if rejected.any():
            figures["probe_median_ratio_ns_over_mm"] = float(
                np.median(ns[rejected] / np.maximum(mm[rejected], 1e-30))
            )
    figures.update(d_fake_in_training(runs))
    by_budget = []
    if escape is not None:
        start = np.asarray(escape["probe"]["d_fake"])[:, -1]
        figures["escape_start_d_fake_median"] = float(np.median(start))
        mm_d = np.asarray(escape["gan"]["distance"])
        ns_d = np.asarray(escape["nsgan"]["distance"])
        metric = escape["metric"]
        for k, step in enumerate(escape["steps"][1:], 1):
            moved_mm, moved_ns = mm_d[:, 0] - mm_d[:, k], ns_d[:, 0] - ns_d[:, k]
            test = stats.wilcoxon(moved_ns, moved_mm, "greater")
            gap = stats.mean_ci(moved_ns - moved_mm)
            row = {
                "budget": step,
                "minimax_moved": stats.mean_ci(moved_mm).to_dict(),
                "nonsaturating_moved": stats.mean_ci(moved_ns).to_dict(),
                "test": test.to_dict(),
            }
            said = (
                f"in {step} steps from a rejecting D (median D(G(z)) {np.median(start):.2g}), "
                f"{metric} fell by {stats.mean_ci(moved_mm)} with the minimax loss and by "
                f"{stats.mean_ci(moved_ns)} with the non-saturating one (paired difference "
                f"{gap}; {test.describe()})"
            )
            if np.median(start) >= REJECT:
                row |= {"verdict": INCONCLUSIVE, "why": f"D did not reject G ({said})"}
            elif test.significant:
                row |= {"verdict": SUPPORTED, "why": said}
            elif math.isfinite(gap.hi) and gap.hi < 0:
                row |= {"verdict": NOT_SUPPORTED, "why": said + ": the minimax G got further"}
            else:
                row |= {"verdict": INCONCLUSIVE, "why": f"{said}; {test.inconclusive_reason}"}
            by_budget.append(row)
    how = (
        "Probe: each seed's initial G is frozen and D alone trains (Adam 1e-3) until it "
        f"rejects G's samples (mean D(G(z)) < {REJECT}); both generator losses' gradient norms "
        "are taken at the same G and D along the way. Then, from that same state, both players "
        "train on (the run's own optimizer and rates) once with the minimax and once with the "
        "non-saturating generator loss, with the same batches and z. The budget is that number "
        "of steps; 'supported' needs the non-saturating G to have moved further toward the data "
        "(its distance fell more) by a one-sided paired Wilcoxon test over seeds, "
        f"p < {stats.ALPHA}. The training logs' D(G(z)) distribution shows whether real "
        "runs enter this regime."
    )
    text = (
        "The minimax generator's gradient vanishes when D rejects its samples confidently; "
        "the non-saturating loss's does not."
    )
    return _claim(text, how, by_budget, figures)


def d_fake_in_training(runs: dict) -> dict:
    """How often real gan/nsgan training has D rejecting G: logged mean D(G(z)) quantiles."""
    out = {}
    for name, run in runs.items():
        if run["weak"] or run["loss"] not in ("gan", "nsgan"):
            continue
        v = stats.finite(r.get("d_fake") for r in run["metrics"])
        if v.size:
            q10, q50, q90 = np.quantile(v, [0.1, 0.5, 0.9])
            out[f"{name}_d_fake_q10_q50_q90"] = f"{q10:.3g} / {q50:.3g} / {q90:.3g}"
            out[f"{name}_share_of_logged_steps_rejected"] = f"{np.mean(v < REJECT):.1%}"
    return out


# ---- claim 2: collapse onto few modes -----------------------------------------------------


def claim_collapse(runs: dict, coverage: str | None, num_modes: int | None) -> dict:
    """2. GANs collapse onto few modes: fewer than half of them (7 of 8 is not collapse)."""
    text = "GANs collapse onto few modes (fewer than half of them)."
    if coverage is None or num_modes is None:
        row = {"budget": 0, "verdict": INCONCLUSIVE, "why": "this dataset has no modes to count"}
        return _claim(text, "", [row], {})
    half = num_modes / 2
    by_budget = []
    for b in budgets(runs):
        per_loss, rows = {}, {}
        for name, run in runs.items():
            if run["weak"]:
                continue
            cov, hq = at_step(run, b, coverage), at_step(run, b, "hq_frac")
            done = [c for c, h in zip(cov, hq, strict=True) if np.isfinite(h) and h >= CONVERGED_HQ]
            per_loss[name] = (stats.mean_ci(done), len(done), len(cov))
            rows[name] = {
                "converged": len(done),
                "seeds": len(cov),
                coverage: stats.mean_ci(done).to_dict(),
            }
        gans = {k: v for k, v in per_loss.items() if runs[k]["loss"] in ("gan", "nsgan")}
        said = ", ".join(
            f"{k} {est} of {num_modes} ({n} of {s} seeds converged)"
            for k, (est, n, s) in per_loss.items()
        )
        enough = {k: v for k, v in gans.items() if v[1] >= MIN_SEEDS}
        few = [k for k, (est, _, _) in enough.items() if est.hi < half]
        many = [k for k, (est, _, _) in enough.items() if est.lo >= half]
        if not gans:
            verdict, why = INCONCLUSIVE, "needs gan or nsgan"
        elif few:
            verdict, why = (
                SUPPORTED,
                f"{', '.join(few)}: the 95% CI of {coverage} lies below {half:g}",
            )
        elif enough and len(many) == len(gans):
            verdict, why = (
                NOT_SUPPORTED,
                f"every GAN's 95% CI of {coverage} is at or above {half:g}",
            )
        elif not enough:
            verdict, why = INCONCLUSIVE, f"fewer than {MIN_SEEDS} converged seeds per GAN loss"
        else:
            verdict, why = INCONCLUSIVE, f"the 95% CIs of {coverage} include {half:g}"
        by_budget.append({"budget": b, "verdict": verdict, "why": f"{why}: {said}", "runs": rows})
    figures = {"coverage_histogram": coverage_histogram(runs, coverage, num_modes)}
    how = (
        f"{coverage} covered per seed at each evaluation (a mode counts with at least 20 "
        "high-quality samples per 2,500; `modes_any`, the papers' count, with one). Only seeds "
        f"that have converged (hq_frac >= {CONVERGED_HQ}) count: a seed still producing off-mode "
        "samples has not collapsed, it has not learned. 'supported' needs the 95% bootstrap CI "
        f"of the mean over converged seeds of gan or nsgan below half the modes ({MIN_SEEDS}+ "
        "converged seeds); 'not supported' needs every GAN's CI at or above half."
    )
    return _claim(text, how, by_budget, figures)


def coverage_histogram(runs: dict, coverage: str, num_modes: int) -> dict:
    """At the last budget, per run: the share of seeds with at most k modes, k = 0..K."""
    bs = budgets(runs)
    if not bs:
        return {}
    out = {}
    for name, run in runs.items():
        v = stats.finite(at_step(run, bs[-1], coverage))
        if v.size:
            out[name] = [float(np.mean(v <= k)) for k in range(num_modes + 1)]
    return out


# ---- claim 3: the WGAN loss tracks quality ------------------------------------------------


def claim_tracking(runs: dict, distance: str) -> dict:
    """3. The WGAN critic's loss tracks sample quality; the other losses' do not."""
    names = [n for n, r in runs.items() if not r["weak"]]
    all_steps = budgets(runs)
    by_budget = []
    for b in all_steps:
        steps = [t for t in all_steps if t <= b]
        within, cross, boot = {}, {}, {}
        for name in names:
            est, q = estimate_and_quality(runs[name], distance, steps)
            within[name] = within_run_rhos(est, q)
            cross[name], boot[name] = cross_seed_rho(est, q, CROSS_RESAMPLES)
        row: dict = {
            "budget": b,
            "runs": {
                n: {
                    "within_run_rho": stats.mean_ci(within[n]).to_dict(),
                    "cross_seed_rho": None if not math.isfinite(cross[n]) else cross[n],
                }
                for n in names
            },
        }
        if "wgan" not in names or len(names) < 2:
            row |= {"verdict": INCONCLUSIVE, "why": "needs wgan and another loss"}
            by_budget.append(row)
            continue
        wins, losses, reasons, said = [], [], [], []
        for other in (n for n in names if n != "wgan"):
            t = stats.mann_whitney(within["wgan"], within[other], "greater")
            t_rev = stats.mann_whitney(within[other], within["wgan"], "greater")
            diff = None
            if boot["wgan"].size and boot[other].size:
                diff = boot["wgan"] - boot[other]
                diff = diff[np.isfinite(diff)]  # resamples where a correlation is undefined
                if diff.size < CROSS_RESAMPLES // 2:
                    diff = None
            p_cross = float(np.mean(diff <= 0)) if diff is not None else float("nan")
            p_cross_rev = float(np.mean(diff >= 0)) if diff is not None else float("nan")
            cross_ok = p_cross < stats.ALPHA
            said.append(
                f"vs {other}: within-run rho {stats.mean_ci(within['wgan'])} vs "
                f"{stats.mean_ci(within[other])} ({t.describe()}); cross-seed rho "
                f"{cross['wgan']:.2f} vs {cross[other]:.2f} (bootstrap p = {p_cross:.3g})"
            )
            if t.significant and cross_ok:
                wins.append(other)
            if t_rev.significant or p_cross_rev < stats.ALPHA:
                losses.append(other)
            if not t.significant:
                reasons.append(
                    f"within-run vs {other}: {t.inconclusive_reason or 'not significant'}"
                )
            if not cross_ok:
                reasons.append(
                    f"cross-seed vs {other}: "
                    + (
                        f"needs at least {MIN_SEEDS} seeds"
                        if diff is None
                        else f"bootstrap p = {p_cross:.3g}"
                    )
                )
        others = [n for n in names if n != "wgan"]
        if len(wins) == len(others):
            row |= {"verdict": SUPPORTED, "why": "; ".join(said)}
        elif losses:
            why = (
                f"{', '.join(losses)} significantly above wgan on one of the two measures: "
                + "; ".join(said)
            )
            row |= {"verdict": NOT_SUPPORTED, "why": why}
        else:
            row |= {"verdict": INCONCLUSIVE, "why": "; ".join(said) + ". " + "; ".join(reasons)}
        by_budget.append(row)
    how = (
        "Two measures per loss, with -L_D the critic's/discriminator's divergence estimate "
        "logged at each evaluation step. Within a run (the WGAN paper's evidence): per seed, "
        f"the Spearman correlation over the evaluation steps up to the budget between -L_D and "
        f"{distance}; mean with a 95% bootstrap CI over seeds. Time removed (the practical use: "
        "does the loss tell you which run is better?): at each step, the Spearman correlation "
        f"across seeds between -L_D and {distance}, averaged over the steps; its uncertainty "
        f"from {CROSS_RESAMPLES} seed-resampled copies. 'supported' needs wgan above every other "
        f"loss on both: a one-sided Mann-Whitney test on the within-run values and a one-sided "
        f"bootstrap test on the cross-seed values, each p < {stats.ALPHA}."
    )
    text = "The WGAN critic's loss tracks sample quality; the other losses' do not."
    return _claim(text, how, by_budget, {})


# ---- claim 4: WGAN survives a weaker generator --------------------------------------------


def learned(run: dict, step: int, distance: str) -> bool:
    """Half the seeds make at least a tenth of their samples look like data (hq_frac), or,
    without hq_frac, the median distance fell by a quarter since step 0."""
    hq = stats.finite(at_step(run, step, "hq_frac"))
    if hq.size:
        return bool(np.mean(hq >= LEARNED_HQ) >= 0.5)
    now, start = stats.finite(at_step(run, step, distance)), stats.finite(at_step(run, 0, distance))
    return bool(now.size and start.size and np.median(now) < 0.75 * np.median(start))


def claim_robustness(runs: dict, distance: str, variant: str | None) -> dict:
    """4. WGAN survives a weaker generator better than the other losses."""
    text = "WGAN is more robust when the generator is made weaker" + (
        f" ('{variant}')." if variant else " (not run: no weak-generator runs)."
    )
    weak = {r["loss"]: r for r in runs.values() if r["weak"]}
    base = {r["loss"]: r for r in runs.values() if not r["weak"]}
    by_budget = []
    for b in budgets(runs):
        q = {loss: at_step(run, b, distance) for loss, run in weak.items()}
        knew = {loss: learned(run, b, distance) for loss, run in weak.items()}
        rows = {
            loss: {
                f"{distance}_weak": stats.mean_ci(q[loss]).to_dict(),
                f"{distance}_default": stats.mean_ci(at_step(base[loss], b, distance)).to_dict()
                if loss in base
                else None,
                "learned": knew[loss],
            }
            for loss in weak
        }
        row: dict = {"budget": b, "runs": rows}
        if "wgan" not in weak or len(weak) < 2:
            row |= {"verdict": INCONCLUSIVE, "why": "needs wgan and another loss with a weak G"}
            by_budget.append(row)
            continue
        hq = {loss: stats.mean_ci(at_step(run, b, "hq_frac")) for loss, run in weak.items()}
        said = ", ".join(
            f"{loss} {stats.mean_ci(v)}"
            + (f" (hq_frac {hq[loss]})" if hq[loss].n else "")
            + ("" if knew[loss] else " (learned nothing)")
            for loss, v in q.items()
        )
        said = f"{distance} with the weak generator: {said}"
        if not any(knew.values()):
            row |= {"verdict": INCONCLUSIVE, "why": f"no weak generator learned anything: {said}"}
            by_budget.append(row)
            continue
        tests = {o: stats.mann_whitney(q[o], q["wgan"], "greater") for o in q if o != "wgan"}
        worse = [
            o
            for o in q
            if o != "wgan" and stats.mann_whitney(q["wgan"], q[o], "greater").significant
        ]
        detail = "; ".join(f"wgan vs {o}: {t.describe()}" for o, t in tests.items())
        if knew["wgan"] and all(t.significant for t in tests.values()):
            row |= {"verdict": SUPPORTED, "why": f"{said}; {detail}"}
        elif worse:
            why = f"{said}; {', '.join(worse)} significantly better than wgan"
            row |= {"verdict": NOT_SUPPORTED, "why": why}
        else:
            reasons = [t.inconclusive_reason for t in tests.values() if not t.significant]
            if not knew["wgan"]:
                reasons.insert(
                    0,
                    f"the weak WGAN put fewer than {LEARNED_HQ:.0%} of its samples near the data "
                    "on most seeds, so a lower distance does not show it generates data",
                )
            row |= {"verdict": INCONCLUSIVE, "why": f"{said}; {detail}; {'; '.join(reasons)}"}
        by_budget.append(row)
    how = (
        f"Every loss trained again with the '{variant}' generator (same seeds, data and "
        f"settings). At each budget, {distance} per seed; 'supported' needs the weak WGAN to "
        f"have learned (hq_frac >= {LEARNED_HQ} on half its seeds) and a lower {distance} than "
        f"every other weak generator by a one-sided Mann-Whitney test, p < {stats.ALPHA}. When "
        "no weak generator learned anything the verdict is inconclusive."
    )
    return _claim(text, how, by_budget, {})
