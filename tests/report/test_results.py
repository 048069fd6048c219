"""The published results come from the files committed beside them: every verdict in
docs/results is recomputed here from its runs' logs and probe, and the README says the same."""

import json
from pathlib import Path

import pytest

from gancli import data as data_lib
from gancli.report import claims
from gancli.report.runs import load_runs, metric_names
from gancli.studies import compare

ROOT = Path(__file__).resolve().parents[2]
RING8 = ROOT / "docs" / "results" / "atlas" / "ring8"


@pytest.fixture(scope="module")
def published():
    comparison = compare.load_comparison(RING8 / "comparison.toml", {}, None, None)
    runs = load_runs(comparison, RING8)
    names = metric_names(runs)
    distance, coverage = claims.distance_metric(names), claims.coverage_metric(names)
    escape = json.loads((RING8 / "escape_probe.json").read_text())
    p = comparison.primary
    modes = data_lib.load(comparison.base.dataset).mixture.num_modes
    recomputed = [
        claims.claim_gradient(escape, runs),
        claims.claim_collapse(runs, coverage, modes, p),
        claims.claim_tracking(runs, distance, p),
        claims.claim_robustness(runs, distance, comparison.weak_variants, p),
    ]
    return json.loads((RING8 / "summary.json").read_text()), recomputed


def test_every_committed_verdict_is_what_the_committed_files_give(published):
    summary, recomputed = published
    for stored, now in zip(summary["claims"], recomputed, strict=True):
        assert (stored["verdict"], stored["headline"]) == (now["verdict"], now["headline"])
        assert stored["why"] == now["why"]
        assert [b["verdict"] for b in stored["by_budget"]] == [
            b["verdict"] for b in now["by_budget"]
        ]


def test_the_readme_quotes_the_committed_verdicts(published):
    summary, _ = published
    readme = " ".join((ROOT / "README.md").read_text().split())
    for i, c in enumerate(summary["claims"], 1):
        assert f"claim {i} is **{c['verdict']}**" in readme
    assert "docs/results/atlas/ring8" in readme
