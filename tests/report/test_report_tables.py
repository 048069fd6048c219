"""compare-losses' tables against the runs they report: every row of summary.csv and of
the report's tables holds its own run's numbers, as that run's summary.json has them."""

import csv
import dataclasses
import json
import re

import pytest

from gancli.studies import compare
from tests.conftest import TINY

METRICS = ("modes", "modes_any", "hq_frac", "mode_kl", "w1")


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("tables")
    flags = {**TINY, "seeds": 2, "steps": 20, "eval_every": 10}
    c = compare.load_comparison(None, flags, "nsgan,wgan", "none")
    c = dataclasses.replace(c, escape_steps=6)
    compare.run_comparison(c, out, quiet=True, log=lambda m: None)
    runs = {}
    for name in ("nsgan", "wgan"):
        runs[name] = json.loads((out / name / "summary.json").read_text())
    # the check below means something only if the runs' numbers differ
    finals = {name: tuple(s["w1"] for s in r["seeds"]) for name, r in runs.items()}
    assert len(set(finals.values())) == len(finals), finals
    return out, runs


def shown(v) -> str:
    """A number as the report prints it: 4 significant digits, integers as they are."""
    if v is None:
        return "-"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def md_table(md: str, title: str) -> dict[str, list[str]]:
    """The Markdown table after the line starting with `title`: first cell -> cells."""
    lines = md[md.index(title) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| run |"))
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0]] = dict(zip(header, cells, strict=True))
    return rows


def test_summary_csv_has_each_runs_own_values_per_seed(report_dir):
    out, runs = report_dir
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert len(rows) == sum(len(r["seeds"]) for r in runs.values())
    for row in rows:
        summary = runs[row["run"]]
        seed = next(s for s in summary["seeds"] if s["seed"] == int(row["seed"]))
        for m in METRICS:
            assert float(row[m]) == pytest.approx(seed[m], rel=1e-12), (row["run"], m)
        assert row["diverged"] == str(seed["diverged_at"] is not None)
        assert float(row["wall_time_s"]) == pytest.approx(summary["wall_time_s"])
        assert row["loss"] == row["run"].split("-")[0]
        assert row["weak_generator"] == "False"


def test_per_seed_table_shows_each_runs_own_seeds(report_dir):
    out, runs = report_dir
    md = (out / "report.md").read_text()
    table = md_table(md, "Per-seed values")
    assert set(table) == set(runs)
    for name, summary in runs.items():
        for m in METRICS:
            want = ", ".join(shown(s[m]) for s in summary["seeds"])
            assert table[name][m] == want, (name, m)
    html = (out / "report.html").read_text()
    for name, summary in runs.items():
        cells = [shown(s["w1"]) for s in summary["seeds"]]
        assert f"<td>{name}</td>" in html and ", ".join(cells) in html, name


def test_final_table_shows_each_runs_own_means(report_dir):
    out, runs = report_dir
    table = md_table((out / "report.md").read_text(), "## Final evaluation")
    assert set(table) == set(runs)
    for name, summary in runs.items():
        for m in METRICS:
            mean = float(re.match(r"-?[\d.e+-]+", table[name][m]).group())
            assert mean == pytest.approx(summary["mean"][m], rel=5e-3, abs=1e-9), (name, m)
        assert table[name]["diverged"] == f"{summary['diverged']}/{len(summary['seeds'])}"


def test_summary_json_of_the_report_holds_each_runs_own_summary(report_dir):
    out, runs = report_dir
    report = json.loads((out / "summary.json").read_text())
    assert set(report["runs"]) == set(runs)
    for name, summary in runs.items():
        assert report["runs"][name]["seeds"] == summary["seeds"], name
        assert report["runs"][name]["mean"] == summary["mean"], name
