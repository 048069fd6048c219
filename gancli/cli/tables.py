"""What the commands print: Rich tables of per-seed metrics and the one-line result."""

from __future__ import annotations

from rich.table import Table


def _fmt(v) -> str:
    if v is None:
        return "-"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def rows_table(title: str, header: list[str], rows: list[list[str]]) -> Table:
    """A table of preformatted cells, right-aligned (compare-losses, reproduce)."""
    table = Table(title=title)
    for h in header:
        table.add_column(h, justify="right")
    for r in rows:
        table.add_row(*r)
    return table


def metric_table(title: str, rows: list[dict], summary: dict | None = None) -> Table:
    """Per replica rows; a sweep's rows grouped by point, each group with its mean."""
    table = Table(title=title)
    swept = (summary or {}).get("swept", [])
    skip = ("seed", "diverged_at", "step", "diverged", *swept)
    names = [k for k in rows[0] if k not in skip]
    for c in ("seed", *swept):
        table.add_column(c, justify="right")
    for n in names:
        table.add_column(n, justify="right")
    table.add_column("status")

    def add(r):
        status = f"diverged@{r['diverged_at']}" if r.get("diverged_at") is not None else "ok"
        labels = [str(r["seed"]), *(_fmt(r[k]) for k in swept)]
        table.add_row(*labels, *[_fmt(r.get(n)) for n in names], status)

    blank = [""] * len(swept)
    if swept:
        per = len(rows) // len(summary["points"])
        for p, point in enumerate(summary["points"]):
            for r in rows[p * per : (p + 1) * per]:
                add(r)
            cis = [point["ci95"].get(n) or [None, None] for n in names]
            means = [_fmt(point["mean"].get(n)) for n in names]
            table.add_row("mean", *(_fmt(point[k]) for k in swept), *means, "", style="bold")
            table.add_row("95% CI", *blank, *[f"{_fmt(lo)}..{_fmt(hi)}" for lo, hi in cis], "")
            table.add_section()
        return table
    for r in rows:
        add(r)
    if summary:
        table.add_section()
        table.add_row("mean", *[_fmt(summary["mean"].get(n)) for n in names],
                      f"{summary['diverged']} diverged", style="bold")  # fmt: skip
        table.add_row("± std", *[_fmt(summary["std"].get(n)) for n in names], "")
        if "ci95" in summary:
            cis = [summary["ci95"].get(n) or [None, None] for n in names]
            table.add_row("95% CI", *[f"{_fmt(lo)}..{_fmt(hi)}" for lo, hi in cis], "t interval")
    return table


def result_line(summary: dict, run_dir) -> str:
    """train's last line, printed with --quiet too: where it ended, the first metrics'
    means over seeds, the speed and where the results are."""
    n = len(summary["seeds"])
    means = ", ".join(f"{k} {_fmt(v)}" for k, v in list(summary["mean"].items())[:3])
    return (
        f"{summary['loss']} on {summary['dataset']} at step {summary['step']}: {means} "
        f"(mean of {n} replicas, {summary['diverged']} diverged; "
        f"{summary['seed_steps_per_s']:,.0f} seed-steps/s); results in {run_dir}"
    )
