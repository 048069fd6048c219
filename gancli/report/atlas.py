"""The claims atlas drawn and written: a table of claims x datasets and the same grid as
coloured cells (`gancli.studies.atlas` builds the data; nothing here computes a verdict)."""

from __future__ import annotations

import math
from pathlib import Path

from gancli.report.claims import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED

# Blue and orange (safe for red-green colour blindness; neither reads as good or bad news):
COLOURS = {SUPPORTED: "#4a90c8", NOT_SUPPORTED: "#f4a259", INCONCLUSIVE: "#cfcfcf",
           None: "#ffffff"}  # fmt: skip
NOT_JUDGED = "not judged"  # no test for the claim could run: the cell says why
SHORT = {SUPPORTED: "supported", NOT_SUPPORTED: "not supported", INCONCLUSIVE: "inconclusive",
         None: "not run"}  # fmt: skip


def _num(x) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.2g}" if abs(x) < 100 else f"{x:.0f}"


def _estimate(t: dict) -> str:
    """'mean difference a - b 0.34 [0.12, 0.55]', or the effect size where no estimate."""
    if t.get("diff") is not None:
        text = f"{t.get('diff_what') or 'difference'} {_num(t['diff'])}"
        if t.get("diff_lo") is not None:
            text += f" [{_num(t['diff_lo'])}, {_num(t['diff_hi'])}]"
        return text
    return f"z {_num(t['effect'])}" if t.get("effect") is not None else ""


def _counts(c: dict) -> str:
    """'for: 1 of 2 significant (any needed); against: 0 of 2 (all needed)'."""
    parts = []
    for family, said in (("forward", "for"), ("reverse", "against")):
        n = (c.get("counts") or {}).get(family)
        if n and n["of"]:
            parts.append(f"{said}: {n['significant']} of {n['of']} significant "
                         f"({n['rule']} needed)")  # fmt: skip
    return "; ".join(parts)


def cell_text(c: dict, width: str = "long") -> str:
    """'**supported**: nsgan G moves further than gan G; mean paired difference a - b 0.34
    [0.12, 0.55], Holm p 0.0039 (...); for: 2 of 2 significant (all needed); ...'."""
    verdict = c.get("verdict")
    head = SHORT[verdict] if verdict in SHORT else str(verdict)
    if verdict is None or not c.get("judged"):
        head = head if verdict is None else NOT_JUDGED
        why = c.get("why", "")
        return f"{head}: {why}" if width == "long" else head
    t = c.get("test")
    if not t:
        return head
    p = t.get("p_adj") if t.get("p_adj") is not None else t.get("p")
    if width != "long":
        short = "" if t.get("diff") is None else _num(t["diff"])
        if not short and t.get("effect") is not None:
            short = f"z {_num(t['effect'])}"  # a permutation test's standardised effect
        elif short and t.get("diff_lo") is not None:
            short += f" [{_num(t['diff_lo'])}, {_num(t['diff_hi'])}]"
        return "\n".join(x for x in (head, short, f"p_adj {_num(p)}") if x)
    label = t.get("label") or t.get("name", "")
    text = (
        f"**{head}**: {label}; {_estimate(t)}, Holm p {_num(p)} ({t.get('name')}, "
        f"{t.get('n_a')} vs {t.get('n_b')} seeds)"
    )
    if _counts(c):
        text += f"; {_counts(c)}"
    if both_ways(c):
        text += " (mixed: significant both ways)"
    if verdict == INCONCLUSIVE and t.get("inconclusive_reason"):
        text += f"; {t['inconclusive_reason']}"
    return text


def both_ways(c: dict) -> bool:
    """Whether tests both for and against the claim were significant (a mixed result that
    the rule resolves: 'all' for needed, 'any' against enough)."""
    counts = c.get("counts") or {}
    return all((counts.get(f) or {}).get("significant", 0) > 0 for f in ("forward", "reverse"))


def grid_holm(atlas: dict, alpha: float = 0.05) -> dict:
    """Holm's correction across the whole grid: every judged cell contributes the p of the
    test it rests on (already Holm-adjusted within the cell); a decided verdict holds
    grid-wide when its grid-adjusted p stays below alpha. For a reader who takes the grid
    as one question ('does any claim hold anywhere?') rather than a cell at a time."""
    from gancli.stats import holm_p

    where, ps = [], []
    for d in atlas["datasets"]:
        for setting in atlas["settings"]:
            for claim, c in zip(atlas["claims"], d["cells"][setting], strict=False):
                t = c.get("test") or {}
                p = t.get("p_adj") if t.get("p_adj") is not None else t.get("p")
                if c.get("judged") and isinstance(p, int | float) and math.isfinite(p):
                    where.append((d["name"], setting, claim, c["verdict"], p))
                    ps.append(p)
    cells = [{"dataset": n, "setting": st, "claim": cl, "verdict": v, "p": p, "p_grid": q,
              "holds": v in (SUPPORTED, NOT_SUPPORTED) and q < alpha}
             for (n, st, cl, v, p), q in zip(where, holm_p(ps), strict=True)]  # fmt: skip
    return {"judged": len(cells), "alpha": alpha, "cells": cells}


def _grid_lines(atlas: dict) -> list[str]:
    g = grid_holm(atlas)
    decided = [c for c in g["cells"] if c["verdict"] in (SUPPORTED, NOT_SUPPORTED)]
    if not decided:
        return []
    lines = ["", "## Across the grid", "",
             f"Holm's correction over the {g['judged']} judged cells (each cell's deciding "
             "p, already adjusted within the cell): with every cell's null true, the "
             "chance of at least one wrong decided verdict somewhere is then at most 5% "
             "(cell by cell it is 5% per cell, and about 1 - 0.95^n over n cells).", "",
             "| dataset | setting | claim | verdict | p (cell) | p (grid) | holds grid-wide |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for c in decided:
        lines.append(f"| {c['dataset']} | {c['setting']} | {c['claim']} | {c['verdict']} | "
                     f"{_num(c['p'])} | {_num(c['p_grid'])} | "
                     f"{'yes' if c['holds'] else 'no'} |")  # fmt: skip
    return lines


def _minutes(seconds) -> str:
    return "-" if seconds is None else f"{seconds / 60:.0f} min"


def render_atlas(atlas: dict) -> str:
    ds = atlas["datasets"]
    lines = [
        f"# Claims atlas: {atlas['study']}",
        "",
        f"Study file: `{atlas['file']}`. Each cell is the verdict at that dataset's primary "
        "budget (declared before its runs) and the test it rests on: for 'supported' the "
        "weakest of the tests that all had to pass, for 'not supported' the strongest test "
        "against the claim, for 'inconclusive' the test for the claim that fell shortest; "
        "its mean difference (a - b in the measure's units) with a 95% t interval and its "
        "Holm-adjusted p. 'paper': each loss at its paper's settings; 'tuned': each loss at "
        "its best of K points, chosen on tuning seeds kept apart from the evaluation seeds and "
        "retrained on those.",
        "",
        "How to read it:",
        "",
        "- The estimate is what the deciding test compares, in the measure's own units: a "
        "mean difference a - b with its 95% t interval (Welch's, or paired t for paired "
        "seeds), or for claim 2 the share of converged seeds below (or at or above) half "
        "the modes with its exact Clopper-Pearson interval. The interval and the p-value "
        "come from different procedures (t against rank or sign tests), so an interval "
        "that excludes 0 beside a non-significant p is possible and not a contradiction; "
        "the interval is two-sided and not adjusted for multiplicity, the p one-sided and "
        "Holm-adjusted. For 'a closer than b' the difference is b - a (distances: lower is "
        "better), so a positive value favours a. A 'z' is a permutation test's "
        "standardised effect (observed minus the permutations' mean, over their std). "
        "'8 vs 8 seeds' on a paired or one-sample test means 8 pairs or 8 seeds.",
        "- Holm's correction runs within each cell's families of tests (for the claim, "
        "against it), not across the cells: each cell is its own question on its own data, "
        "at 5% per cell. Over n judged cells the chance of at least one wrong decided "
        "verdict is then up to 1 - 0.95^n (about half at 14); 'Across the grid' below "
        "applies Holm over the cells and says which verdicts survive it.",
        "- Budgets differ between datasets (the table below): a verdict holds at its "
        "dataset's primary budget, not at every length of training.",
        "- 'tuned' columns exist only where the study ran tuning (tune > 0); elsewhere the "
        "cells say 'not run'.",
        "- A family whose rule is 'all' (every test must pass) is an intersection-union "
        "test: it needs no Holm correction for its level, and Holm only makes it more "
        "conservative, but its power is the joint power of all its tests, lower than any "
        "one's.",
        "",
    ]
    if atlas.get("budget"):
        lines += [f"**Declared budget:** {atlas['budget']}", ""]
    lines += ["![atlas](atlas.png)", "", "## Datasets", "",
              "| dataset | experiment | seeds | steps | primary budget | tuned (K) | "
              "training, paper | training, tuned | study wall |",
              "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for d in ds:
        r = d["reports"].get("paper", {})
        walls = [d["reports"].get(s, {}).get("train_wall_s") for s in ("paper", "tuned")]
        lines.append(
            f"| {d['name']} | `{d['experiment']}` | {r.get('seeds', '-')} | "
            f"{r.get('steps', '-')} | {r.get('primary_budget', '-')} | "
            f"{d['tune'] or 'no'} | " + " | ".join(_minutes(w) for w in walls) + " | "
            f"{_minutes(d.get('wall_time_s'))} |"
        )
    lines += [
        "",
        "Training: the seconds each report's runs recorded (tuning runs and claim 1's "
        "probe where they recorded it), on the machine in each run's env.json. Study wall: "
        "the wall-clock seconds `gancli atlas` spent on the dataset in the invocations that "
        "trained something (evaluation, probes and reports included; '-' where every run "
        "was already there).",
        "",
    ]
    for setting in atlas["settings"]:
        lines += ["", f"## Verdicts: {setting} settings", "",
                  "| claim | " + " | ".join(d["name"] for d in ds) + " |",
                  "|---|" + "---|" * len(ds)]  # fmt: skip
        for i, claim in enumerate(atlas["claims"]):
            cells = [cell_text(d["cells"][setting][i]).replace("|", "/") for d in ds]
            lines.append(f"| {claim} | " + " | ".join(cells) + " |")
    lines += _grid_lines(atlas)
    lines += ["", "## Reports", ""]
    for d in ds:
        for setting, r in d["reports"].items():
            lines.append(f"- {d['name']}, {setting}: [{r['report']}]({r['report']})")
    return "\n".join(lines) + "\n"


def plot_atlas(atlas: dict, path: Path) -> None:
    """Claims as rows, datasets x (paper, tuned) as columns, one coloured cell each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    from gancli.plots import save_figure

    ds, settings, claims = atlas["datasets"], atlas["settings"], atlas["claims"]
    ncol = len(ds) * len(settings)
    fig, ax = plt.subplots(figsize=(1.9 + 1.55 * ncol, 0.9 + 0.95 * len(claims)))
    for j, d in enumerate(ds):
        for k, setting in enumerate(settings):
            x = j * len(settings) + k
            for i, c in enumerate(d["cells"][setting]):
                verdict = c.get("verdict")
                judged = verdict is None or c.get("judged")
                face = COLOURS.get(verdict, "#ffffff") if judged else "#f0f0f0"
                edge = "#bdbdbd" if verdict is None else "white"
                ax.add_patch(Rectangle((x, i), 1, 1, facecolor=face, edgecolor=edge, lw=2))
                if both_ways(c):
                    ax.add_patch(Rectangle((x + 0.04, i + 0.04), 0.92, 0.92, fill=False,
                                           hatch="///", edgecolor="#777777", lw=0))  # fmt: skip
                text = (
                    cell_text(c, "short")
                    if c.get("judged")
                    else ("not run" if verdict is None else NOT_JUDGED)
                )
                ax.text(x + 0.5, i + 0.5, text, ha="center", va="center", fontsize=7)
    ax.set_xlim(0, ncol)
    ax.set_ylim(len(claims), 0)
    ax.set_yticks([i + 0.5 for i in range(len(claims))], claims, fontsize=8)
    ax.set_xticks([j * len(settings) + k + 0.5 for j in range(len(ds))
                   for k in range(len(settings))],
                  [f"{d['name']}\n{s}" for d in ds for s in settings], fontsize=8)  # fmt: skip
    ax.xaxis.tick_top()
    for j in range(1, len(ds)):
        ax.axvline(j * len(settings), color="black", lw=1.2)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    legend = [Patch(facecolor=COLOURS[v], label=SHORT[v])
              for v in (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)]  # fmt: skip
    legend.append(Patch(facecolor="#f0f0f0", label=f"{NOT_JUDGED} (no test could run)"))
    legend.append(Patch(facecolor="white", edgecolor="#777777", hatch="///",
                        label="significant tests both for and against"))  # fmt: skip
    legend.append(Patch(facecolor=COLOURS[None], edgecolor="#bdbdbd", label="not run"))
    fig.legend(handles=legend, loc="lower center", ncol=6, fontsize=8, frameon=False)
    fig.suptitle(f"Claims atlas: {atlas['study']}\n"
                 "each cell: verdict at the dataset's primary budget; the deciding test's "
                 "estimate [95% CI] (units in atlas.md) or z; its Holm-adjusted p",
                 fontsize=9)  # fmt: skip
    fig.tight_layout(rect=(0, 0.06, 1, 0.93))
    save_figure(fig, path)
    plt.close(fig)
