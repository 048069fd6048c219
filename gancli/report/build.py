"""The compare-losses report: tables with confidence intervals, plots, and the claims'
verdicts at every budget (`gancli.report.claims`).

Nothing is asserted in advance: every verdict is computed from this run's logs with the
rule and the test printed beside it, and a claim the run does not support is reported as
such. The runs are read by `runs`, judged by `claims`, drawn by `figures` and written out
by `render`; this module puts them together.
"""

from __future__ import annotations

from pathlib import Path

from gancli import data as data_lib
from gancli import estimates, stats
from gancli.report import claims, figures, render
from gancli.report import runs as runs_lib
from gancli.run.files import ReportDir

# Published GAN rows for mode coverage, keyed by the dataset they were measured on (the
# same radius and std) and counted as they count: a mode with >= 1 high-quality sample of
# 2,500 (`modes_any`). They are drawn only beside that dataset and that count. Their
# architectures and budgets differ from a comparison's: context, not a target
# (experiments/reproduce follows each paper's own setup).
ANCHOR_COUNT = "modes_any"
ANCHORS = {
    "ring8-pacgan": [  # radius 1, std 0.01 (data/mixtures.py)
        ("VEEGAN Table 1, GAN, 5 runs", 1.0, None, 99.3),
        ("PacGAN Table 1, GAN, 10 trials", 6.3, 0.5, 98.2),
    ],
    "grid25": [  # {-4,...,4}^2, std 0.05
        ("VEEGAN Table 1, GAN, 5 runs", 3.3, None, 0.5),
        ("PacGAN Table 1, GAN, 10 trials", 17.3, 0.8, 94.8),
    ],
}


SETTINGS = (
    "optimizer",
    "lr_g",
    "lr_d",
    "beta1",
    "beta2",
    "clip",
    "n_critic",
    "batch_size",
    "generator_variant",
)


def summary_rows(runs: dict, names: list[str]) -> list[dict]:
    rows = []
    for name, run in runs.items():
        for s in run["summary"]["seeds"]:
            rows.append(
                {
                    "run": name,
                    "loss": run["loss"],
                    "weak_generator": run["weak"],
                    "generator_variant": run.get("variant") or "",
                    "seed": s["seed"],
                    **{k: s.get(k) for k in names},
                    "diverged": s["diverged_at"] is not None,
                    "wall_time_s": run["summary"]["wall_time_s"],
                }
            )
    return rows


def write_report(comparison, out: Path, status: dict, escape: dict | None = None) -> dict:
    """The report of a trained comparison: reads its runs' logs and claim 1's probe
    (`gancli.studies.probe`, run by `compare`); trains nothing."""
    runs = runs_lib.load_runs(comparison, out)
    names = runs_lib.metric_names(runs)
    distance, coverage = claims.distance_metric(names), claims.coverage_metric(names)
    data = data_lib.load(comparison.base.dataset, comparison.base.image_size)
    num_modes = data.mixture.num_modes if data.mixture is not None else data.num_classes
    anchors = ANCHORS.get(comparison.base.dataset, []) if ANCHOR_COUNT in names else []

    primary = comparison.primary
    claim_list = [
        claims.claim_gradient(escape, runs),
        claims.claim_collapse(runs, coverage, num_modes, primary),
        claims.claim_tracking(runs, distance, primary),
        claims.claim_robustness(runs, distance, comparison.weak_variants, primary),
    ]

    plot_dir = out / "plots"
    paths = {}  # title -> file, in the report's order

    def draw(title: str, name: str, plot, *args) -> None:
        paths[title] = plot_dir / name
        plot(*args, paths[title])

    draw("verdict at each budget", "verdicts.png", figures.plot_verdicts, claim_list)
    draw("quality against step (mean, 95% CI, seeds)", "quality.png", figures.plot_quality,
         runs, distance, coverage)  # fmt: skip
    draw("training losses (one line per seed)", "losses.png", figures.plot_training, runs)
    draw("final samples (one panel per loss x seed)", "samples.png", figures.plot_samples,
         runs, data.mixture)  # fmt: skip
    draw("claim 3: divergence estimate against distance", "tracking.png",
         figures.plot_tracking, runs, distance)  # fmt: skip
    if escape is not None:
        draw("claim 1: generator gradient as D gets better", "gradient_probe.png",
             figures.plot_probe, escape)  # fmt: skip
        draw("claim 1: how far each G moves from a rejecting D, under SGD and Adam",
             "escape.png", figures.plot_escape, escape)  # fmt: skip
    hist = claim_list[1]["figures"].get("coverage_histogram")
    if hist:
        draw(f"claim 2: share of seeds with at most k {coverage}", "coverage.png",
             figures.plot_coverage, hist, coverage, num_modes, [])  # fmt: skip
    if anchors:  # the papers' count beside the papers' rows, on the papers' dataset
        draw(f"claim 2: {ANCHOR_COUNT} beside the published GAN rows on this dataset",
             "coverage_published.png", figures.plot_coverage,
             claims.coverage_histogram(runs, ANCHOR_COUNT, num_modes, primary), ANCHOR_COUNT,
             num_modes, anchors)  # fmt: skip

    rows = summary_rows(runs, names)
    report = ReportDir(out)
    report.write_csv("summary.csv", rows)
    table = {
        name: {
            "loss": run["loss"],
            "weak_generator": run["weak"],
            "settings": {k: getattr(run["cfg"], k) for k in SETTINGS},
            "mean": run["summary"]["mean"],
            "ci95": {
                m: estimates.mean_ci([s.get(m) for s in run["summary"]["seeds"]]).to_dict()
                for m in names
            },
            "seeds": run["summary"]["seeds"],
            "diverged": run["summary"]["diverged"],
            "wall_time_s": run["summary"]["wall_time_s"],
            "status": status.get(name, ""),
        }
        for name, run in runs.items()
    }
    result = {
        "dataset": comparison.base.dataset,
        "seeds": comparison.base.seed_list,
        "steps": comparison.base.steps,
        "primary_budget": primary,
        "metrics": names,
        "statistics": "mean over seeds with a 95% Student's t interval; tests: one-sided "
        "Mann-Whitney U (independent runs, exact), Wilcoxon signed-rank (paired, exact, zeros "
        "dropped), permutation tests (cross-seed correlation); the tests of one verdict are "
        f"Holm-adjusted; alpha {stats.ALPHA}",
        "anchors": [
            {"source": a, "modes_any": m, "pm": pm, "hq_percent": hq} for a, m, pm, hq in anchors
        ],
        "runs": table,
        "claims": claim_list,
        "figures": {k: str(v.relative_to(out)) for k, v in paths.items()},
    }
    report.write_json("summary.json", result)
    report.write("report.md", render.render_markdown(result, comparison))
    report.write("report.html", render.render_html(result, comparison, out))
    return result


def write_tuning(result: dict, out: Path) -> None:
    """tune.json, tune.md and the budget-curve and sensitivity plots."""
    (out / "plots").mkdir(parents=True, exist_ok=True)
    figures.plot_budget_curves(result, out / "plots" / "budget_curve.png")
    figures.plot_sensitivity(result, out / "plots" / "sensitivity.png")
    ReportDir(out).write_json("tune.json", result)
    ReportDir(out).write("tune.md", render.tuning_markdown(result))
