"""The four claims, as pure functions from a comparison's logs to verdicts.

A budget is a number of generator steps. Each claim is judged at one *primary* budget
declared before the runs (the final step unless the experiment file sets
`primary_budget`; for claim 1 the probe's last step): that verdict is the headline. The
verdicts at the other evaluation steps are shown as well, labelled descriptive: reading a
verdict off whichever budget looks best would be a garden of forking paths.

Every "better" comes from a calibrated test over seeds (`gancli.stats`) with its p-value
and seed counts. The tests that one verdict combines are one family, Holm-adjusted, and
both raw and adjusted p are printed. Each rule can come out either way: "not supported"
has its own tests in the reverse direction. Too few seeds make a verdict "inconclusive"
with the seeds needed, never a guess. Nothing here trains or plots.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from gancli import stats
from gancli.loss_table import with_role
from gancli.quality.evaluator import JUDGED, REJECT
from gancli.report import words
from gancli.report.runs import at_step, budgets
from gancli.report.tracking import (
    cross_seed_ci,
    cross_seed_test,
    estimate_and_quality,
    within_run_rhos,
)

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
CONVERGED_HQ = 0.5  # a seed has converged when half its samples are high quality
GAN_LOSSES = with_role("gan")  # the losses claims 1 and 2 are about
WGAN = with_role("wgan")[0]  # the critic loss claims 3 and 4 are about
WEAK_VARIANTS = {  # what each weakened generator is, and whose
    "thin": "'thin': our 2-D manipulation, 1/8 of the MLP's width; the WGAN paper's own "
    "are for images",
    "nobn-const": "'nobn-const': the WGAN paper's DCGAN generator without batchnorm and with "
    "constant filters",
    "mlp": "'mlp': the WGAN paper's 4 x 512 ReLU MLP generator",
}


# ---- which metric, which verdict -----------------------------------------------------------


def distance_metric(names: list[str]) -> str:
    """The lower-is-better distance to the data: W1 (2-D) or the Fréchet distance (images)."""
    return next(m for m in ("w1", "fd", "fd_pixels") if m in names)


def coverage_metric(names: list[str]) -> str | None:
    return next((m for m in ("modes", "classes") if m in names), None)


def quality_metric(names: list[str]) -> str | None:
    """Higher is better: the share of samples that look like data (near a mode; for
    images, classified with confidence)."""
    return "hq_frac" if "hq_frac" in names else None


def headline(by_budget: list[dict], primary: int | None) -> str:
    """'supported at the primary budget (5000 steps)', 'not run: needs wgan (...)', or why
    there is no verdict."""
    row = primary_row(by_budget, primary)
    if row is None:
        return f"inconclusive: no evaluation at the primary budget ({primary} steps)"
    if row.get("why", "").startswith("not run"):
        return row["why"]
    return f"{row['verdict']} at the primary budget ({row['budget']} steps)"


def descriptive(by_budget: list[dict], primary: int | None) -> str:
    """Where each verdict holds among the other budgets (descriptive, not the verdict)."""
    others = [b for b in by_budget if b["budget"] != primary]
    if not others:
        return ""
    order = [b["budget"] for b in by_budget]
    parts = []
    for verdict in (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE):
        steps = [b["budget"] for b in others if b["verdict"] == verdict]
        if steps:
            parts.append(f"{verdict} at {_ranges(steps, order)}")
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


def primary_row(by_budget: list[dict], primary: int | None) -> dict | None:
    if primary is None and by_budget:
        return by_budget[-1]
    return next((b for b in by_budget if b["budget"] == primary), None)


def _claim(text: str, how: str, by_budget: list[dict], figures: dict, primary) -> dict:
    row = primary_row(by_budget, primary)
    if row is None:
        row = {"verdict": INCONCLUSIVE, "why": f"no evaluation at the primary budget {primary}"}
    return {
        "claim": text,
        "verdict": row["verdict"],  # at the primary budget
        "why": row["why"],
        "primary_budget": primary if primary is not None else row.get("budget"),
        "headline": headline(by_budget, primary),
        "descriptive": descriptive(by_budget, primary),
        "by_budget": by_budget,
        "how": how,
        "figures": figures,
    }


def decide(
    forward: list[stats.Test],
    reverse: list[stats.Test],
    said: str,
    forward_all: bool = True,
    reverse_all: bool = False,
) -> tuple[str, str, dict]:
    """A verdict from two families of tests, each Holm-adjusted: `forward` for the claim,
    `reverse` against it. Not supported when any reverse test (every one, with
    reverse_all) is significant after adjustment; supported when every forward test (any,
    with forward_all=False) is; otherwise inconclusive with each forward test's reason."""
    forward, reverse = stats.holm(forward), stats.holm(reverse)
    fwd_ok = [t.significant for t in forward]
    rev_ok = [t.significant for t in reverse]
    tests = {
        "forward": [t.to_dict() for t in forward],
        "reverse": [t.to_dict() for t in reverse],
        "rule": {
            "forward": "all" if forward_all else "any",
            "reverse": "all" if reverse_all else "any",
        },  # fmt: skip
    }
    if rev_ok and (all(rev_ok) if reverse_all else any(rev_ok)):
        return NOT_SUPPORTED, said, tests
    if fwd_ok and (all(fwd_ok) if forward_all else any(fwd_ok)):
        return SUPPORTED, said, tests
    reasons = [t.inconclusive_reason for t in forward if not t.significant]
    return INCONCLUSIVE, f"{said}; {'; '.join(dict.fromkeys(reasons))}", tests


# ---- claim 1: the minimax gradient vanishes -----------------------------------------------


def _escape_arm(arm: dict, k: int, seeds: np.ndarray) -> dict:
    """Per loss at escape step index k, over the `seeds` (a mask) where D rejected G:
    displacement, mean gradient norm, distance change."""
    out = {}
    for loss, m in arm.items():
        dist = np.asarray(m["distance"], float)[seeds]
        disp = np.asarray(m["displacement"], float)[seeds]
        grad = np.asarray(m["grad_norm"], float)[seeds, :k]
        out[loss] = {
            "displacement": disp[:, k],
            "grad_norm": grad.mean(axis=1),
            "fell": dist[:, 0] - dist[:, k],  # > 0: closer to the data
        }
    return out


def _moved(metric: str, est: stats.Estimate) -> str:
    """'w1 fell by 0.37 [0.06, 0.65]' or 'w1 rose by 0.49 [0.21, 0.83]' from a mean fall."""
    if est.n == 0:
        return f"{metric} {words.moved(float('nan'))}"
    if est.constant or not math.isfinite(est.lo):
        same = f" (all {est.n} equal)" if est.constant else ""
        return f"{metric} {words.moved(est.mean)}{same}"
    return f"{metric} {words.moved(est.mean, est.lo, est.hi)}"


def claim_gradient(escape: dict | None, runs: dict) -> dict:
    """1. The minimax G's gradient vanishes when D rejects confidently; NS's does not.

    From each start where D rejects G (median D(G(z)) < REJECT), both generator losses
    train on under plain SGD (the primary arm: a vanishing gradient is a vanishing step)
    and under Adam (descriptive: Adam rescales the step). The verdict's tests: under SGD,
    the non-saturating G's parameters move further than the minimax G's (paired one-sided
    Wilcoxon per start; Holm over starts); the reverse tests ask the opposite."""
    text = (
        "The minimax generator's gradient vanishes when D rejects its samples confidently; "
        "the non-saturating loss's does not."
    )
    figures: dict = d_fake_in_training(runs)
    by_budget: list[dict] = []
    if escape is None:
        ran = sorted({r["loss"] for r in runs.values()})
        row = {"budget": None, "verdict": INCONCLUSIVE, "why": words.not_run(GAN_LOSSES, ran)}
        return _claim(text, "", [row], figures, None)
    metric, arms, steps = escape["metric"], escape["arms"], escape["steps"]
    primary_arm = arms[0]
    rejecting, starts_said = {}, []
    for name, start in escape["starts"].items():
        probe = start["probe"]
        last = np.asarray(probe["d_fake"])[:, -1]  # per seed, the batch mean of D(G(z))
        med = float(np.median(last))
        d_fake = np.asarray(probe["d_fake"])
        mm, ns = np.asarray(probe["grad_minimax"]), np.asarray(probe["grad_nonsaturating"])
        rej = d_fake < REJECT
        figures[f"{name}_start_d_fake_median"] = med
        if rej.any():
            figures[f"{name}_probe_median_ratio_ns_over_mm"] = float(
                np.median(ns[rej] / np.maximum(mm[rej], 1e-30))
            )
        seeds = last < REJECT  # only seeds whose D rejects G enter the tests
        figures[f"{name}_seeds_rejected"] = f"{int(seeds.sum())} of {seeds.size}"
        if seeds.sum() >= 2:
            rejecting[name] = (start, seeds)
        else:
            starts_said.append(
                f"{name}: D did not reject G (batch-mean D(G(z)) >= {REJECT} on "
                f"{int((~seeds).sum())} of {seeds.size} seeds; median {med:.2g})"
            )
    for k, step in enumerate(steps[1:], 1):
        forward, reverse, said, rows = [], [], list(starts_said), {}
        tested = []  # where in `said` each forward test's start is described
        for name, (start, seeds) in rejecting.items():
            rows[name] = {}
            for arm in arms:
                v = _escape_arm(start["arms"][arm], k, seeds)
                rows[name][arm] = {
                    loss: {q: stats.mean_ci(x).to_dict() for q, x in per.items()}
                    for loss, per in v.items()
                }
                mm, ns = v["gan"], v["nsgan"]
                est = {loss: {q: stats.mean_ci(x) for q, x in v[loss].items()} for loss in v}
                if arm == primary_arm:
                    where = f"{name} start, {arm.upper()}: "
                    forward.append(
                        replace(
                            stats.wilcoxon(ns["displacement"], mm["displacement"]),
                            label=where + "nsgan G moves further than gan G",
                        )
                    )
                    reverse.append(
                        replace(
                            stats.wilcoxon(mm["displacement"], ns["displacement"]),
                            label=where + "gan G moves further than nsgan G",
                        )
                    )
                    tested.append(len(said))
                    said.append(
                        f"{name} start, {arm.upper()}: |dtheta_G| {est['gan']['displacement']} "
                        f"(minimax) vs {est['nsgan']['displacement']} (non-saturating), mean "
                        f"gradient norm {est['gan']['grad_norm']} vs "
                        f"{est['nsgan']['grad_norm']}; {_moved(metric, est['gan']['fell'])} vs "
                        f"{_moved(metric, est['nsgan']['fell'])}"
                    )
                else:
                    dist = stats.wilcoxon(ns["fell"], mm["fell"])
                    said.append(
                        f"{name} start, {arm.capitalize()} (descriptive): |dtheta_G| "
                        f"{est['gan']['displacement']} vs {est['nsgan']['displacement']}; "
                        f"{_moved(metric, est['gan']['fell'])} (minimax) vs "
                        f"{_moved(metric, est['nsgan']['fell'])} ({dist.describe()})"
                    )
        row: dict = {"budget": step, "starts": rows}
        if not rejecting:
            row |= {"verdict": INCONCLUSIVE, "why": "; ".join(said) or "no start"}
        else:
            for i, t in zip(tested, stats.holm(forward), strict=True):
                said[i] += f" (non-saturating moved further: {t.describe()})"
            verdict, why, tests = decide(forward, reverse, "; ".join(said))
            label = {SUPPORTED: f"under {primary_arm.upper()} the minimax G moves less than the "
                                "non-saturating G from a rejecting D",
                     NOT_SUPPORTED: f"under {primary_arm.upper()} the minimax G moves further",
                     INCONCLUSIVE: ""}[verdict]  # fmt: skip
            row |= {"verdict": verdict, "why": f"{label}: {why}" if label else why,
                    "tests": tests}  # fmt: skip
        by_budget.append(row)
    how = (
        "From each start (G at initialisation; G after training, if run) D alone trains "
        f"(Adam {escape.get('probe_lr_d', 1e-3):g}) until it rejects G's samples (batch-mean "
        f"D(G(z)) < {REJECT}); both generator losses' gradient norms at the same G and D are "
        "recorded on the way. From that state both players train on, once per generator "
        "loss (same batches and z; only the seeds whose batch-mean D(G(z)) fell below "
        f"{REJECT} enter the tests), under plain SGD at "
        f"{escape.get('sgd_lr', 0):g} for both players (a rate fixed on ring8's MLP; the "
        "primary arm: the claim is about "
        "the gradient's size, which SGD's step is and Adam divides out) and under Adam (the "
        "run's rate; descriptive). Per seed: the generator's displacement "
        "||theta_G(t) - theta_G(0)||, its mean gradient norm, and the change of "
        f"{metric}. 'supported' needs the non-saturating G to move further than the minimax "
        "G under SGD from every rejecting start (one-sided paired Wilcoxon over seeds, "
        f"Holm over starts, p < {stats.ALPHA}); 'not supported' needs the reverse. The "
        "primary budget is the probe's last step. The training logs' per-sample D(G(z)) "
        "show whether real runs enter this regime."
    )
    return _claim(text, how, by_budget, figures, steps[-1])


def d_fake_in_training(runs: dict) -> dict:
    """Does real gan/nsgan training enter the rejecting regime? Per run, over every
    evaluation and seed: the share of individual samples with D(G(z)) < REJECT (mean and
    largest), and the 10th/50th/90th percentiles of D(G(z)) over samples, averaged."""
    out = {}
    for name, run in runs.items():
        if run["weak"] or run["loss"] not in GAN_LOSSES:
            continue
        rows = [r for r in run["eval"] if r.get("d_fake_rejected") is not None]
        if not rows:
            continue
        share = np.array([r["d_fake_rejected"] for r in rows])
        q = np.array([[r["d_fake_q10"], r["d_fake_q50"], r["d_fake_q90"]] for r in rows])
        early = [r for r in rows if r["step"] == 0]
        out[f"{name}_share_of_samples_rejected"] = (
            f"mean {share.mean():.1%}, largest {share.max():.1%} "
            f"(over {len(rows)} evaluations x seeds, {JUDGED} samples each)"
        )
        out[f"{name}_d_fake_q10_q50_q90"] = " / ".join(f"{v:.3g}" for v in q.mean(axis=0))
        if early:
            out[f"{name}_share_rejected_at_step_0"] = (
                f"{np.mean([r['d_fake_rejected'] for r in early]):.1%}"
            )
    return out


# ---- claim 2: collapse onto few modes -----------------------------------------------------


def claim_collapse(runs: dict, coverage: str | None, num_modes: int | None, primary) -> dict:
    """2. GANs collapse onto few modes: fewer than half of them (7 of 8 is not collapse)."""
    text = "GANs collapse onto few modes (fewer than half of them)."
    gans = [n for n, r in runs.items() if not r["weak"] and r["loss"] in GAN_LOSSES]
    if coverage is None or num_modes is None:
        row = {"budget": primary, "verdict": INCONCLUSIVE,
               "why": "this dataset has no modes or classes to count"}  # fmt: skip
        return _claim(text, "", [row], {}, primary)
    half = num_modes / 2
    by_budget = []
    for b in budgets(runs):
        forward, reverse, rows, said = [], [], {}, []
        for name, run in runs.items():
            if run["weak"]:
                continue
            cov, hq = at_step(run, b, coverage), at_step(run, b, "hq_frac")
            done = [c for c, h in zip(cov, hq, strict=True) if np.isfinite(h) and h >= CONVERGED_HQ]
            rows[name] = {
                "converged": len(done),
                "seeds": len(cov),
                coverage: stats.mean_ci(done).to_dict(),
                f"{coverage}_all_seeds": stats.mean_ci(cov).to_dict(),
            }
            said.append(
                f"{name} {stats.mean_ci(done)} of {num_modes} over its {len(done)} converged "
                f"seeds ({stats.mean_ci(cov)} over all {len(cov)})"
            )
            if name in gans:
                forward.append(
                    replace(
                        stats.sign_test(done, half, "less", ties="against"),
                        label=f"{name}: fewer than {half:g} {coverage}",
                    )
                )
                reverse.append(
                    replace(
                        stats.sign_test(done, half, "greater", ties="for"),
                        label=f"{name}: at least {half:g} {coverage}",
                    )
                )
        if not gans:
            ran = sorted({r["loss"] for r in runs.values()})
            row = {"verdict": INCONCLUSIVE, "why": words.not_run(["gan or nsgan"], ran)}
        else:
            verdict, why, tests = decide(
                forward, reverse, ", ".join(said), forward_all=False, reverse_all=True
            )
            row = {"verdict": verdict, "why": why, "tests": tests}
        by_budget.append({"budget": b, **row, "runs": rows})
    figures = {"coverage_histogram": coverage_histogram(runs, coverage, num_modes, primary)}
    how = (
        f"{coverage} covered per seed (a mode counts with at least 20 high-quality samples "
        "per 2,500; `modes_any`, the papers' count, with one), over the seeds that have "
        f"converged (hq_frac >= {CONVERGED_HQ}): a seed still producing off-mode samples has "
        "not collapsed, it has not learned; the figure over all seeds is shown beside it. "
        f"'supported' needs most of gan's or nsgan's converged seeds below half the modes "
        f"({half:g}; a seed at exactly half counts against) by a one-sided exact sign "
        "test (Holm over the GAN losses); 'not supported' needs most of every GAN loss's "
        "converged seeds at or above half (a seed at half counts for) by the reverse test "
        f"(Holm), p < {stats.ALPHA}. The estimate is the share of those seeds, with its "
        "exact (Clopper-Pearson) 95% interval."
    )
    return _claim(text, how, by_budget, figures, primary)


def coverage_histogram(runs: dict, coverage: str, num_modes: int, primary=None) -> dict:
    """At the primary budget, per run: the share of seeds with at most k modes, k = 0..K."""
    bs = budgets(runs)
    if not bs:
        return {}
    step = primary if primary in bs else bs[-1]
    out = {}
    for name, run in runs.items():
        v = stats.finite(at_step(run, step, coverage))
        if v.size:
            out[name] = [float(np.mean(v <= k)) for k in range(num_modes + 1)]
    return out


# ---- claim 3: the WGAN loss tracks quality ------------------------------------------------


def claim_tracking(runs: dict, distance: str, primary) -> dict:
    """3. The WGAN critic's loss tracks sample quality; the other losses' do not."""
    text = "The WGAN critic's loss tracks sample quality; the other losses' do not."
    names = [n for n, r in runs.items() if not r["weak"]]
    wgan = next((n for n in names if runs[n]["loss"] == WGAN), None)
    others = [n for n in names if n != wgan]
    all_steps = budgets(runs)
    by_budget = []
    for b in all_steps:
        steps = [t for t in all_steps if t <= b]
        data = {n: estimate_and_quality(runs[n], distance, steps) for n in names}
        within = {n: within_run_rhos(*data[n]) for n in names}
        cross = {n: cross_seed_ci(*data[n]) for n in names}
        row: dict = {
            "budget": b,
            "runs": {
                n: {"within_run_rho": stats.mean_ci(within[n]).to_dict(),
                    "cross_seed_rho": cross[n].to_dict()}
                for n in names
            },
        }  # fmt: skip
        if wgan is None or not others:
            ran = sorted(runs[n]["loss"] for n in names)
            needed = [WGAN] if wgan is None else ["another loss"]
            row |= {"verdict": INCONCLUSIVE, "why": words.not_run(needed, ran)}
            by_budget.append(row)
            continue
        forward, reverse, said = [], [], []
        for other in others:
            for a, b, out in ((wgan, other, forward), (other, wgan, reverse)):
                out += [replace(stats.mann_whitney(within[a], within[b], "greater"),
                                label=f"{a} tracks better than {b}: within-run rho"),
                        replace(cross_seed_test(data[a], data[b]),
                                label=f"{a} tracks better than {b}: cross-seed rho")]  # fmt: skip
        forward, reverse = stats.holm(forward), stats.holm(reverse)
        fwd = iter(forward)
        for other in others:
            t_within, t_cross = next(fwd), next(fwd)
            said.append(
                f"vs {other}: within-run rho {stats.mean_ci(within[wgan])} vs "
                f"{stats.mean_ci(within[other])} ({t_within.describe()}); cross-seed rho "
                f"{cross[wgan]} vs {cross[other]} ({t_cross.describe()})"
            )
        verdict, why, tests = decide(forward, reverse, "; ".join(said))
        if verdict == NOT_SUPPORTED:
            against = sum(t.significant for t in reverse)
            why = f"another loss tracks significantly better on {against} test(s): {why}"
        row |= {"verdict": verdict, "why": why, "tests": tests}
        by_budget.append(row)
    how = (
        "Two measures per loss, with -L_D the critic's/discriminator's divergence estimate "
        "logged at each evaluation step. Within a run (the WGAN paper's evidence): per seed, "
        f"the Spearman correlation over the evaluation steps up to the budget between -L_D and "
        f"{distance}; mean with a 95% t interval over seeds; compared by a one-sided "
        "Mann-Whitney test. Time removed (does the loss tell you which run is better?): at "
        f"each step the Spearman correlation across seeds between -L_D and {distance}, "
        "averaged over the steps; its 95% interval by the leave-one-seed-out jackknife (on "
        "Fisher's z); compared by a one-sided permutation test that re-splits the seeds of "
        "the two losses (values ranked within each loss and step first, so the losses' "
        "different scales do not matter). Seeds are not paired across losses in either "
        "measure. 'supported' needs wgan above every other loss on both measures (Holm over "
        f"the 2 x {max(len(others), 1)} tests, p < {stats.ALPHA}); 'not supported' needs "
        "another loss significantly above wgan on one of them (Holm over the reverse tests)."
    )
    return _claim(text, how, by_budget, {}, primary)


# ---- claim 4: WGAN survives a weaker generator --------------------------------------------


def claim_robustness(runs: dict, distance: str, variants, primary) -> dict:
    """4. WGAN survives a weaker generator better than the other losses: closer to the data
    *and* more samples that look like data, against every other loss, with every weakened
    generator that was run (the WGAN paper made it with two on images)."""
    variants = (variants,) if isinstance(variants, str) else tuple(variants or ())
    what = "; ".join(WEAK_VARIANTS.get(v, v) for v in variants)
    text = "WGAN is more robust when the generator is made weaker" + (
        f" ({what})." if variants else " (not run: no weak-generator runs)."
    )
    weak = {(r.get("variant") or (variants + ("weak",))[0], r["loss"]): r
            for r in runs.values() if r["weak"]}  # fmt: skip
    quality = quality_metric(sorted({k for r in runs.values() for row in r["eval"] for k in row}))
    by_budget = []
    for b in budgets(runs):
        q = {key: at_step(run, b, distance) for key, run in weak.items()}
        good = {key: at_step(run, b, quality) for key, run in weak.items()} if quality else {}
        rows = {
            f"{loss}-{v}": {f"{distance}_weak": stats.mean_ci(q[v, loss]).to_dict(),
                   **({f"{quality}_weak": stats.mean_ci(good[v, loss]).to_dict()}
                      if quality else {})}
            for v, loss in weak
        }  # fmt: skip
        row: dict = {"budget": b, "runs": rows}
        missing = [v for v in variants if (v, WGAN) not in weak
                   or not any(k[0] == v and k[1] != WGAN for k in weak)]  # fmt: skip
        if not weak or missing:
            losses = sorted({loss for _, loss in weak})
            need = ["a weak wgan" if WGAN not in losses else "another weak generator"]
            row |= {"verdict": INCONCLUSIVE, "why": words.not_run(need, losses)}
            by_budget.append(row)
            continue
        said = "; ".join(
            f"{loss}-{v}: {distance} {stats.mean_ci(q[v, loss])}"
            + (f", {quality} {stats.mean_ci(good[v, loss])}" if quality else "")
            for v, loss in weak
        )
        forward, reverse = [], []
        for v, o in (k for k in weak if k[1] != WGAN):
            w, x = f"{WGAN}-{v}", f"{o}-{v}"
            pairs = [(q[v, o], q[v, WGAN], f"{w} closer than {x}: {distance}",
                      f"{x} closer than {w}: {distance}")]  # fmt: skip
            if quality:
                pairs.append((good[v, WGAN], good[v, o], f"{w} more {quality} than {x}",
                              f"{x} more {quality} than {w}"))  # fmt: skip
            for hi, lo, fwd, rev in pairs:
                forward.append(replace(stats.mann_whitney(hi, lo, "greater"), label=fwd))
                reverse.append(replace(stats.mann_whitney(lo, hi, "greater"), label=rev))
        verdict, why, tests = decide(forward, reverse, f"with the weak generator: {said}")
        if verdict == NOT_SUPPORTED:
            why += "; another weak generator is significantly better: " + ", ".join(
                f"{t['label']} p = {t['p']:.3g} (Holm {t['p_adj']:.3g})"
                for t in tests["reverse"]
                if t["significant"]
            )
        row |= {"verdict": verdict, "why": why, "tests": tests}
        by_budget.append(row)
    measures = f"{distance}" + (f" and {quality}" if quality else "")
    how = (
        f"Every loss trained again with each weakened generator ({', '.join(variants)}; same "
        f"seeds, data and settings). At each budget, per seed, {measures} of the weak runs. "
        f"'supported' needs the weak WGAN closer to the data (lower {distance}) and with more "
        f"samples that look like data (higher {quality}) than every other loss with the same "
        "weak generator, for every weak generator: one-sided "
        f"Mann-Whitney tests, Holm over all of them, p < {stats.ALPHA}. 'not supported': "
        "another weak generator significantly better on either measure (Holm over the "
        "reverse tests). A lower distance alone does not show that a generator makes data."
    )
    return _claim(text, how, by_budget, {}, primary)
