"""The report as text: the tables (mean [95% CI] per run and metric, settings, per-seed
values) and the whole report in Markdown and in self-contained HTML; tune.md."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import numpy as np

from gancli import estimates
from gancli.report.claims import NOT_SUPPORTED, SUPPORTED


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def fmt_ci(d: dict | None) -> str:
    """An `Estimate.to_dict()` read back and printed as the Estimate prints itself."""
    if not d:
        return "-"
    if d.get("all_equal"):
        return f"{estimates.Estimate(d['mean'], d['mean'], d['mean'], d['n'])}"
    lo, hi = (math.nan if d.get(k) is None else d[k] for k in ("ci_lo", "ci_hi"))
    return str(estimates.Estimate(d["mean"], lo, hi, d.get("n", 0) if d["mean"] is not None else 0))


def table_rows(result: dict) -> tuple[list[str], list[list[str]]]:
    """Final-evaluation table: mean [95% CI] per metric and run."""
    header = ["run", *result["metrics"], "diverged", "wall s"]
    rows = []
    for name, r in result["runs"].items():
        cells = [fmt_ci(r["ci95"].get(m)) for m in result["metrics"]]
        rows.append([name, *cells, f"{r['diverged']}/{len(r['seeds'])}", _fmt(r["wall_time_s"])])
    return header, rows


def settings_rows(result: dict) -> tuple[list[str], list[list[str]]]:
    """The settings each run used (`build.SETTINGS`, in that order)."""
    names = list(next(iter(result["runs"].values()))["settings"])
    header = ["run", *names]
    return header, [
        [n, *(_fmt(r["settings"][k]) for k in names)] for n, r in result["runs"].items()
    ]


def per_seed_rows(result: dict) -> tuple[list[str], list[list[str]]]:
    header = ["run", *result["metrics"]]
    rows = []
    for name, r in result["runs"].items():
        cells = [", ".join(_fmt(s.get(m)) for s in r["seeds"]) for m in result["metrics"]]
        rows.append([name, *cells])
    return header, rows


def primary_tests_rows(claim: dict) -> tuple[list[str], list[list[str]]]:
    """The tests behind the verdict at the primary budget: raw and Holm-adjusted p."""
    row = next((b for b in claim["by_budget"] if b["budget"] == claim["primary_budget"]), {})
    rows = []
    for family, label in (("forward", "for the claim"), ("reverse", "against it")):
        for t in row.get("tests", {}).get(family, []):
            rows.append([label, t.get("label") or "", t["name"], f"{t['n_a']} vs {t['n_b']}",
                         t.get("diff_what") or "", difference(t), _fmt(t["p"]),
                         _fmt(t["p_adj"]), "yes" if t["significant"] else "no"])  # fmt: skip
    header = ["direction", "compared", "test", "seeds", "estimate of", "estimate [95% CI]",
              "p", "p (Holm)", "significant"]  # fmt: skip
    return header, rows


ESTIMATE_NOTE = (
    "The estimate is in the measure's own units: a mean difference with its 95% t interval "
    "(Welch's, or paired t), or a share of seeds with its exact Clopper-Pearson interval. "
    "It comes from a different procedure than the rank or sign test's p, so the two can "
    "disagree at the margin."
)


def difference(t: dict) -> str:
    """A test's mean difference in the measure's units with its 95% t interval."""
    if t.get("diff") is None:
        return ""
    if t.get("diff_lo") is None:
        return _fmt(t["diff"])
    return f"{_fmt(t['diff'])} [{_fmt(t['diff_lo'])}, {_fmt(t['diff_hi'])}]"


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *["| " + " | ".join(r) + " |" for r in rows],
    ]


def render_markdown(result: dict, comparison) -> str:
    lines = [
        f"# Loss comparison on {result['dataset']}",
        "",
        f"{len(result['seeds'])} seeds ({result['seeds'][0]}..{result['seeds'][-1]}), "
        f"{result['steps']} generator steps per run. Statistics: {result['statistics']}. "
        "Rerun: `gancli compare-losses --config comparison.toml --out <this directory>`.",
        "",
        "## Settings used (from each run's config.toml)",
        "",
        *_md_table(*settings_rows(result)),
        "",
        "## Final evaluation: mean [95% CI] over seeds",
        "",
        *_md_table(*table_rows(result)),
        "",
        "Per-seed values:",
        "",
        *_md_table(*per_seed_rows(result)),
        "",
    ]
    if result["anchors"]:
        lines += [
            "Published GAN rows on this dataset (modes with at least one high-quality sample = "
            "our `modes_any`; other architectures and budgets, so context only):",
            "",
        ]
        lines += [
            f"- {a['source']}: {a['modes_any']}"
            + (f" ± {a['pm']}" if a["pm"] else "")
            + f" modes, {a['hq_percent']}% HQ"
            for a in result["anchors"]
        ]
        lines.append("")
    lines += ["## Claims", ""]
    for i, c in enumerate(result["claims"], 1):
        lines += [
            f"### {i}. {c['claim']}",
            "",
            f"**{c['headline']}.**",
            "",
            f"At the primary budget: {c['why']}.",
            "",
        ]
        header, rows = primary_tests_rows(c)
        if rows:
            lines += ["Tests at the primary budget (each family Holm-adjusted):", "",
                      *_md_table(header, rows), "", ESTIMATE_NOTE, ""]  # fmt: skip
        lines += [
            "Verdict at every budget (descriptive; the verdict is the primary budget's):",
            "",
            "| budget | verdict |",
            "|---|---|",
            *[f"| {b['budget']}{' (primary)' if b['budget'] == c['primary_budget'] else ''} "
              f"| {b['verdict']} |" for b in c["by_budget"]],
            "",
            f"How: {c['how']}",
            "",
        ]  # fmt: skip
        figs = {k: v for k, v in c["figures"].items() if k != "coverage_histogram"}
        if figs:
            lines += ["Figures: " + ", ".join(f"`{k}` = {_fmt(v)}" for k, v in figs.items()), ""]
    lines += ["## Plots", ""]
    lines += [f"![{k}]({v})" for k, v in result["figures"].items()]
    return "\n".join(lines) + "\n"


def render_html(result: dict, comparison, out: Path) -> str:
    esc = html.escape

    def table(header, rows):
        return (
            "<table><tr>"
            + "".join(f"<th>{esc(h)}</th>" for h in header)
            + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
            + "</table>"
        )

    parts = [
        "<!doctype html><meta charset='utf-8'>",
        f"<title>gancli: loss comparison on {esc(result['dataset'])}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
        "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}"
        "img{max-width:100%}.supported{color:#070}.not{color:#a00}.inconclusive{color:#a60}"
        "</style>",
        f"<h1>Loss comparison on {esc(result['dataset'])}</h1>",
        f"<p>{len(result['seeds'])} seeds, {result['steps']} generator steps per run. "
        f"{esc(result['statistics'])}.</p>",
        "<h2>Settings used</h2>",
        table(*settings_rows(result)),
        "<h2>Final evaluation: mean [95% CI] over seeds</h2>",
        table(*table_rows(result)),
        "<p>Per-seed values:</p>",
        table(*per_seed_rows(result)),
        "<h2>Claims</h2>",
    ]
    for i, c in enumerate(result["claims"], 1):
        cls = {SUPPORTED: "supported", NOT_SUPPORTED: "not"}.get(c["verdict"], "inconclusive")
        parts += [
            f"<h3>{i}. {esc(c['claim'])}</h3>",
            f"<p><b class='{cls}'>{esc(c['headline'])}</b>.</p>",
            f"<p>At the primary budget: {esc(c['why'])}.</p>",
            table(*primary_tests_rows(c)),
            f"<p><small>{esc(ESTIMATE_NOTE)}</small></p>",
            f"<p><small>Other budgets (descriptive): {esc(c['descriptive'] or '-')}</small></p>",
            f"<p><small>How: {esc(c['how'])}</small></p>",
        ]
    parts.append("<h2>Plots</h2>")
    for title, rel in result["figures"].items():
        b64 = base64.b64encode((out / rel).read_bytes()).decode()
        parts.append(f"<h3>{esc(title)}</h3><img src='data:image/png;base64,{b64}'>")
    return "\n".join(parts) + "\n"


def tuning_markdown(result: dict) -> str:
    """tune.md: each loss's chosen point, its tuning and held-out figures, the claims."""
    metric = result["metric"]
    lines = [
        "# Every loss at its best",
        "",
        f"Each loss drew {result['k']} points from its own search space and trained them on "
        f"{result['tune_seeds']} tuning seeds ({result['seed_base']}, ...) for the comparison's "
        f"steps; its best point (lowest mean final {metric} over the tuning seeds) was retrained "
        "on the comparison's own seeds, which tuning never saw: the held-out figures below "
        "carry no selection bias. Full held-out report with the claims: `tuned/report.md`.",
        "",
        "Search spaces: "
        + "; ".join(
            f"{loss}: " + ", ".join(f"{f} {s[0]} {list(s[1:])}" for f, s in sp.items())
            for loss, sp in result["spaces"].items()
            if loss in result["losses"]
        ),
        "",
        f"| loss | chosen point | tuning {metric} (best / median of {result['k']}) "
        f"| held-out {metric}, mean [95% CI] |",
        "|---|---|---|---|",
    ]
    for loss, r in result["losses"].items():
        finite = [s for s in r["scores"] if s is not None and math.isfinite(s)]
        point = ", ".join(f"{k} {v:.3g}" for k, v in r["best_point"].items())
        held = result["held_out"].get(loss, {}).get("ci95", {}).get(metric)
        lines.append(
            f"| {loss} | {point} | {min(finite):.3g} / {np.median(finite):.3g} | {fmt_ci(held)} |"
        )
    lines += ["", "Claims on the tuned, held-out runs:", ""]
    lines += [f"{i}. {c['claim']} **{c['headline']}**." for i, c in
              enumerate(result["claims_held_out"], 1)]  # fmt: skip
    lines += ["", "![budget curve](plots/budget_curve.png)", "",
              "![sensitivity](plots/sensitivity.png)", ""]  # fmt: skip
    return "\n".join(lines)
