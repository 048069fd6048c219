"""What the commands print: Rich tables of per-seed metrics and the one-line result.

Every table fits 80 columns (`gancli.textout`): one number per cell, an interval's bounds
in rows or a column of their own, and a table too wide for its columns split into tables
that repeat its keys.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text

from gancli.textout import cell_width, column_groups, header, new_table


def _fmt(v) -> str:
    if v is None:
        return "-"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _status(r: dict) -> str:
    return "-" if r.get("diverged_at") is None else f"at {r['diverged_at']}"


CI_CAPTION = "CI: 95% Student's t interval of the mean over seeds"


def _seed_table(title: str, rows: list[dict], names: list[str], summary: dict) -> Group:
    """One row per seed, then the mean, std and 95% CI bounds over them; metric columns
    that do not fit 80 columns go on to a second table (seed labels repeated)."""
    labels = [str(r["seed"]) for r in rows] + ["mean"]
    columns = {header(n): [_fmt(r.get(n)) for r in rows] + [_fmt(summary["mean"].get(n))]
               for n in names}  # fmt: skip
    diverged = sum(r.get("diverged_at") is not None for r in rows)
    columns["diverged"] = [_status(r) for r in rows] + [f"{diverged} of {len(rows)}"]
    several = len(rows) > 1  # one seed has no spread and no interval
    if several and "std" in summary:
        labels.append("± std")
        for n in names:
            columns[header(n)].append(_fmt(summary["std"].get(n)))
        columns["diverged"].append("")
    if several and "ci95" in summary:
        labels += ["CI lo", "CI hi"]
        for n in names:
            lo, hi = summary["ci95"].get(n) or [None, None]
            columns[header(n)] += [_fmt(lo), _fmt(hi)]
        columns["diverged"] += ["", ""]
    heads = list(columns)
    groups = column_groups(
        [cell_width([h, *columns[h]]) for h in heads], cell_width(["seed", *labels])
    )
    tables = []
    for g, cols in enumerate(groups):
        table = new_table(title if g == 0 else None)
        table.add_column("seed", justify="right")
        for i in cols:
            table.add_column(heads[i], justify="right")
        for j, label in enumerate(labels):
            if j == len(rows):
                table.add_section()
            table.add_row(label, *[columns[heads[i]][j] for i in cols],
                          style="bold" if label == "mean" else None)  # fmt: skip
        tables.append(table)
    return Group(*tables)


def metric_table(title: str, rows: list[dict], summary: dict | None = None):
    """Per seed rows and their summary; a sweep's as one table per point, titled with its
    values (as columns they would not fit 80 columns)."""
    summary = summary or {}
    swept = summary.get("swept", [])
    skip = ("seed", "diverged_at", "step", "diverged", *swept)
    names = [k for k in rows[0] if k not in skip]
    several = len(rows) > len(summary.get("points", [None]))
    caption = [Text(CI_CAPTION, style="dim")] if several and "ci95" in summary else []
    if not swept:
        return Group(_seed_table(title, rows, names, summary), *caption)
    points = summary["points"]
    per = len(rows) // len(points)
    parts: list = [Text(title, style="bold")]
    for p, point in enumerate(points):
        values = ", ".join(f"{k} {_fmt(point[k])}" for k in swept)
        parts += [_seed_table(f"point {p + 1} of {len(points)}: {values}",
                              rows[p * per : (p + 1) * per], names, point), Text()]  # fmt: skip
    return Group(*parts[:-1], *caption)


def comparison_tables(result: dict, metrics: list[str]) -> Group:
    """compare-losses: per metric, each run's mean and 95% CI over seeds (runs side by side
    within a metric, as they are compared); then each run's diverged seeds and wall time."""
    n = len(result["seeds"])
    by_metric = new_table(f"compare-losses on {result['dataset']}: final evaluation, {n} seeds")
    for col in ("metric", "run", "mean", "95% CI"):
        by_metric.add_column(col, justify="left" if col in ("metric", "run") else "right")
    for m in metrics:
        for i, (name, r) in enumerate(result["runs"].items()):
            est = r["ci95"].get(m) or {}
            lo, hi = est.get("ci_lo"), est.get("ci_hi")
            ci = "-" if lo is None or hi is None else f"{_fmt(lo)} .. {_fmt(hi)}"
            by_metric.add_row(m if i == 0 else "", name, _fmt(est.get("mean")), ci)
        by_metric.add_section()
    runs = new_table()
    for col in ("run", "diverged", "wall s"):
        runs.add_column(col, justify="left" if col == "run" else "right")
    for name, r in result["runs"].items():
        runs.add_row(name, f"{r['diverged']} of {len(r['seeds'])}", _fmt(r["wall_time_s"]))
    return Group(by_metric, runs)


def rows_table(
    title: str, header: list[str], rows: list[list[str]], keys: tuple[int, ...] = (0,)
) -> Group:
    """Preformatted cells, right-aligned (reproduce). Columns that do not fit 80 columns go
    to further tables, each repeating the `keys` columns so that its rows read alone."""
    rest = [i for i in range(len(header)) if i not in keys]
    widths = [cell_width([header[i], *(r[i] for r in rows)]) for i in rest]
    key_width = sum(cell_width([header[i], *(r[i] for r in rows)]) for i in keys)
    tables = []
    for g, group in enumerate(column_groups(widths, key_width)):
        cols = [*keys, *(rest[j] for j in group)]
        table = new_table(title if g == 0 else None)
        for i in cols:
            table.add_column(header[i], justify="left" if i in keys else "right")
        for r in rows:
            table.add_row(*[r[i] for i in cols])
        tables.append(table)
    return Group(*tables)


def means_line(summary: dict, head: str, extra: str = "") -> str:
    """'HEAD: modes 7.5, modes_any 8, hq_frac 0.93 (mean of 4 seeds, 0 diverged)': the
    first metrics' means over the replicas (eval's line, and train's with `extra`)."""
    n = len(summary["seeds"])
    what = ("replica" if summary.get("swept") else "seed") + ("s" if n != 1 else "")
    over = f"mean of {n} {what}" if n != 1 else f"1 {what}"
    means = ", ".join(f"{k} {_fmt(v)}" for k, v in list(summary["mean"].items())[:3])
    return f"{head}: {means} ({over}, {summary['diverged']} diverged{extra})"


def result_line(summary: dict, run_dir) -> str:
    """train's last line, printed with --quiet too: where it ended, the first metrics'
    means over seeds, the speed and where the results are."""
    head = f"{summary['loss']} on {summary['dataset']} at step {summary['step']}"
    speed = f"; {summary['seed_steps_per_s']:,.0f} seed-steps/s"
    return f"{means_line(summary, head, speed)}; results in {run_dir}"
