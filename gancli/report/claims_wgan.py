"""Claims 3 and 4, about the WGAN critic: its loss tracks sample quality, and it survives a
weaker generator (the verdicts' machinery is `gancli.report.verdicts`)."""

from __future__ import annotations

from dataclasses import replace

from gancli import estimates, stats
from gancli.report import words
from gancli.report.runs import at_step, budgets
from gancli.report.tracking import (
    cross_seed_ci,
    cross_seed_test,
    estimate_and_quality,
    within_run_rhos,
)
from gancli.report.verdicts import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    WEAK_VARIANTS,
    WGAN,
    _claim,
    decide,
    quality_metric,
)

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
                n: {"within_run_rho": estimates.mean_ci(within[n]).to_dict(),
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
                f"vs {other}: within-run rho {estimates.mean_ci(within[wgan])} vs "
                f"{estimates.mean_ci(within[other])} ({t_within.describe()}); cross-seed rho "
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
            f"{loss}-{v}": {f"{distance}_weak": estimates.mean_ci(q[v, loss]).to_dict(),
                   **({f"{quality}_weak": estimates.mean_ci(good[v, loss]).to_dict()}
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
            f"{loss}-{v}: {distance} {estimates.mean_ci(q[v, loss])}"
            + (f", {quality} {estimates.mean_ci(good[v, loss])}" if quality else "")
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
                # "a closer than b" compares b's distance with a's: its difference is b - a
                what = {"diff_what": f"mean difference b - a ({distance}: lower is better)"}
                what = what if fwd.endswith(f"closer than {x}: {distance}") else {}
                forward.append(replace(stats.mann_whitney(hi, lo, "greater"), label=fwd, **what))
                reverse.append(replace(stats.mann_whitney(lo, hi, "greater"), label=rev, **what))
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
