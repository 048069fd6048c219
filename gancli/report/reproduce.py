"""`gancli reproduce`'s report rendered: the table of stages against the paper's row, and
each variant against the paper's own, paired by seed (`gancli.studies.reproduce` computes them)."""

from __future__ import annotations

import math

from gancli.quality.paper import PAPER_METRICS

METRIC_LABELS = {"modes": "modes", "hq_pct": "HQ %", "reverse_kl": "reverse KL"}


def inside(paper: float | None, s: dict) -> bool | None:
    """Whether the paper's mean lies inside our CI (None when either is unknown)."""
    if paper is None or s["ci_low"] is None or not math.isfinite(s["ci_low"]):
        return None
    return bool(s["ci_low"] <= paper <= s["ci_high"])


def welch_p(paper: float | None, pm: float | None, about: dict, ours: dict) -> float | None:
    """Two-sided p of Welch's t test between the paper's mean and ours, where the paper's ±
    is a standard error over a stated number of runs (`pm_is_se`, `runs` in [paper])."""
    runs = about.get("runs")
    if paper is None or pm is None or not about.get("pm_is_se") or not runs:
        return None
    if ours["n"] < 2 or not math.isfinite(ours["std"]):
        return None
    from scipy.stats import ttest_ind_from_stats

    t = ttest_ind_from_stats(ours["mean"], ours["std"], ours["n"], paper, pm * math.sqrt(runs),
                             runs, equal_var=False)  # fmt: skip
    return float(t.pvalue) if math.isfinite(t.pvalue) else None


def _fmt(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def table_rows(report: dict) -> tuple[list[str], list[list[str]]]:
    header = ["variant", "steps", "seeds", "metric", "paper", "ours: mean [95% CI]",
              "std", "s.e.", "paper in CI", "Welch p", "wall s"]  # fmt: skip
    anchor = report["anchor"]
    rows = []
    for st in report["stages"]:
        for m in PAPER_METRICS:
            s = st["stats"][m]
            paper = anchor.get(m)
            pm = anchor.get(f"{m}_pm")
            paper_txt = "n/a" if paper is None else (f"{paper} ± {pm}" if pm is not None
                                                     else f"{paper}")  # fmt: skip
            verdict = inside(paper, s)
            # Welch's test asks whether we reproduce the paper's number: only at its budget
            full = report.get("full_steps", {}).get(st["variant"])
            at_budget = full is not None and st["steps"] >= full
            p_welch = welch_p(paper, pm, report["paper"], s) if at_budget else None
            # The paper's figure is compared only for the paper's own row (its variant).
            if st["variant"] != report["paper"].get("variant"):
                paper_txt, verdict, p_welch = "", None, None
            rows.append([
                st["variant"], f"{st['steps']:,}", str(s["n"]), METRIC_LABELS[m], paper_txt,
                f"{_fmt(s['mean'])} [{_fmt(s['ci_low'])}, {_fmt(s['ci_high'])}]",
                _fmt(s["std"]), _fmt(s["se"]),
                {True: "yes", False: "NO", None: ""}[verdict],
                "" if p_welch is None else f"{p_welch:.2g}", f"{st['wall_time_s']:.0f}",
            ])  # fmt: skip
    return header, rows


def report_markdown(report: dict) -> str:
    header, rows = table_rows(report)
    notes = sorted({st["note"] for st in report["stages"]})
    lines = [
        f"# gancli reproduce: {report['paper'].get('name', report['preset'])}",
        "",
        *[f"**{n}**" for n in notes],
        "",
        f"Preset: `{report['preset']}`. Budget: each row's steps (every stage this "
        f"directory holds, from whichever command ran it; this one asked for "
        f"`{report['budget']}`). "
        f"Interval: {report['ci']}. The paper's ± is quoted as printed "
        f"({report['paper'].get('pm', 'convention not stated')}). Welch p: two-sided Welch's "
        "t test of the paper's mean against ours, where the paper's ± is a standard error "
        "over its stated runs, at the paper's full budget only (at a reduced budget the "
        "protocols differ and the test would be meaningless; each row its own test: no "
        "correction across rows).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *["| " + " | ".join(r) + " |" for r in rows],
        "",
    ]
    if report.get("figures", {}).get("trend"):
        lines += ["## The paper's figures at every evaluation", "",
                  "Mean over seeds with its 95% t interval, beside the paper's row (dashed, "
                  "± its standard error) after its full budget.", "",
                  "![trend](trend.png)", ""]  # fmt: skip
    for p in report.get("paired", []):
        lines += [f"## {p['variant']} against {p['against']}, paired by seed at step "
                  f"{p['step']:,}", "",
                  "| figure | " + f"{p['variant']} | {p['against']} | difference [95% CI] | "
                  "p (two-sided Wilcoxon) | p (Holm over 3) | reading |",
                  "|---|---|---|---|---|---|---|"]  # fmt: skip
        for t, (m, f) in zip(p["tests"], p["figures"].items(), strict=True):
            a, b = f["variant"], f["paper_variant"]
            diff = (
                ""
                if t.get("diff") is None
                else (f"{_fmt(t['diff'])} [{_fmt(t.get('diff_lo'))}, {_fmt(t.get('diff_hi'))}]")
            )
            lines.append(f"| {METRIC_LABELS[m]} | {_fmt(a['mean'])} [{_fmt(a['ci_low'])}, "
                         f"{_fmt(a['ci_high'])}] | {_fmt(b['mean'])} [{_fmt(b['ci_low'])}, "
                         f"{_fmt(b['ci_high'])}] | {diff} | {_fmt(t['p'], 3)} | "
                         f"{_fmt(t['p_adj'], 3)} | "
                         f"{t.get('inconclusive_reason') or 'differ'} |")  # fmt: skip
        lines.append("")
    for v, why in report.get("unpaired", {}).items():
        lines += [f"{v} is not paired with the paper's variant: {why}.", ""]
    return "\n".join(lines)
