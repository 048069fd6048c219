"""compare-losses: files, columns, figures that match the logs, and reruns that skip."""

import csv
import json
import shutil

import numpy as np
import pytest
from scipy.stats import spearmanr

from gancli import compare, report
from gancli.cli import main
from tests.conftest import TINY


@pytest.fixture(scope="module")
def comparison_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp")
    flags = {**TINY, "seeds": 2, "steps": 60, "eval_every": 10}
    c = compare.load_comparison(None, flags, "gan,nsgan,wgan", "narrow")
    compare.run_comparison(c, out, quiet=True, log=lambda m: None)
    return out, c


def test_every_file_with_the_right_columns(comparison_dir):
    out, _ = comparison_dir
    for name in ("report.md", "report.html", "summary.csv", "summary.json", "comparison.toml"):
        assert (out / name).is_file(), name
    for name in ("losses", "quality", "samples", "tracking", "gradient_probe"):
        assert (out / "plots" / f"{name}.png").stat().st_size > 1000, name
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert list(rows[0]) == ["run", "loss", "weak_generator", "seed", "modes", "modes_any",
                             "hq_frac", "mode_kl", "w1", "diverged", "wall_time_s"]  # fmt: skip
    pairs = sorted((r["run"], int(r["seed"])) for r in rows)
    runs = ["gan", "gan-narrow", "nsgan", "nsgan-narrow", "wgan", "wgan-narrow"]
    assert pairs == [(run, s) for run in runs for s in (0, 1)]
    summary = json.loads((out / "summary.json").read_text())
    assert [c["verdict"] for c in summary["claims"]] and all(
        c["verdict"] in ("supported", "not supported", "inconclusive") for c in summary["claims"]
    )
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 5
    md = (out / "report.md").read_text()
    assert "## Claims" in md and md.count("### ") == 4
    # each loss's run directory is a normal run: it samples
    assert main(["sample", str(out / "wgan"), "--n", "10", "--out", str(out / "w.png")]) == 0


def test_tracking_figure_matches_a_direct_computation(comparison_dir):
    out, c = comparison_dir
    runs = report.load_runs(c, out)
    claim = report.claim_tracking(runs, "w1")
    metrics = [json.loads(x) for x in (out / "wgan" / "metrics.jsonl").read_text().splitlines()]
    evals = [json.loads(x) for x in (out / "wgan" / "eval.jsonl").read_text().splitlines()]
    rhos = []
    for seed in (0, 1):
        loss = {r["step"]: r["d_loss"] for r in metrics if r["seed"] == seed}
        e = [r for r in evals if r["seed"] == seed and r["step"] > 0]
        rhos.append(spearmanr([-loss[r["step"]] for r in e], [r["w1"] for r in e]).statistic)
    assert claim["figures"]["wgan_rho_per_seed"] == [round(r, 3) for r in rhos]
    assert claim["figures"]["wgan_median_rho"] == pytest.approx(np.median(rhos))


def test_gradient_figures_match_the_probe_and_logs(comparison_dir):
    out, c = comparison_dir
    probe = json.loads((out / "gradient_probe.json").read_text())
    claim = report.claim_gradient(report.load_runs(c, out), probe)
    d_fake = np.asarray(probe["d_fake"])
    mm, ns = np.asarray(probe["grad_minimax"]), np.asarray(probe["grad_nonsaturating"])
    rejected = d_fake < report.REJECT
    assert rejected.any(), "the probe's D should learn to reject G's initial samples"
    assert claim["figures"]["probe_median_ratio_ns_over_mm"] == pytest.approx(
        np.median(ns[rejected] / mm[rejected])
    )
    # minimax's gradient really is the smaller one once D rejects (the math, not a verdict)
    assert np.median(ns[rejected] / mm[rejected]) > 1
    rows = [json.loads(x) for x in (out / "gan" / "metrics.jsonl").read_text().splitlines()]
    first = sorted({r["step"] for r in rows})[: max(1, len({r["step"] for r in rows}) // 10)]
    expect = np.median([r["g_grad_norm"] for r in rows if r["step"] in first])
    assert claim["figures"]["gan_early_grad_norm"] == pytest.approx(expect)


def test_rerun_retrains_only_what_is_missing(comparison_dir):
    out, c = comparison_dir
    before = (out / "gan" / "metrics.jsonl").read_text()
    shutil.rmtree(out / "nsgan")
    result = compare.run_comparison(c, out, quiet=True, log=lambda m: None)
    status = {k: v["status"] for k, v in result["runs"].items()}
    assert status["nsgan"].startswith("trained")
    assert all(v == "done earlier" for k, v in status.items() if k != "nsgan")
    assert (out / "gan" / "metrics.jsonl").read_text() == before


def test_bad_losses_are_refused(capsys):
    assert main(["compare-losses", "--losses", "gan,lsgan"]) == 2
    assert "--losses must name some of gan, nsgan, wgan" in capsys.readouterr().err


def _runs(rows_by_loss):
    return {
        name: {"weak": False, "summary": {"seeds": rows}} for name, rows in rows_by_loss.items()
    }


def test_collapse_counts_only_converged_image_seeds():
    """Claim 2 on images: a seed converged when hq_frac (confidently classified) >= 0.5."""

    def seed(i, classes, hq):
        return {"seed": i, "classes": classes, "hq_frac": hq}

    # nsgan: 3 of 4 seeds converged, 2 of those cover < 10 classes -> 50% collapsed.
    runs = _runs({
        "nsgan": [seed(0, 10, 0.9), seed(1, 3, 0.8), seed(2, 2, 0.7), seed(3, 1, 0.1)],
        "gan": [seed(0, 10, 0.9), seed(1, 10, 0.6), seed(2, 9, 0.2), seed(3, 1, 0.05)],
    })  # fmt: skip
    out = report.claim_collapse(runs, "classes", 10)
    assert out["figures"]["nsgan_seeds_collapsed"] == "50%"
    assert out["figures"]["nsgan_seeds_not_converged"] == "25%"
    assert out["figures"]["gan_seeds_collapsed"] == "0%"  # its few-class seeds are noise
    assert out["figures"]["gan_seeds_not_converged"] == "50%"
    assert out["verdict"] == report.SUPPORTED

    # Noise everywhere (no seed confidently classified): inconclusive, however few classes.
    noisy = _runs({"nsgan": [seed(i, 1, 0.1) for i in range(4)]})
    assert report.claim_collapse(noisy, "classes", 10)["verdict"] == report.INCONCLUSIVE
