"""The claims atlas: study files, the cell each claim gets, and the table and figure built
from per-dataset reports with known verdicts (no training here; the slow test at the end
runs the quick study end to end)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gancli.config import ConfigError
from gancli.report.atlas import cell_text, render_atlas
from gancli.studies import atlas

ROOT = Path(__file__).resolve().parents[2]


def mk_test(label, p_adj, significant, diff=None, lo=None, hi=None):
    return {"label": label, "name": "Mann-Whitney U", "n_a": 8, "n_b": 8, "p": p_adj / 2,
            "p_adj": p_adj, "significant": significant, "effect": 1.0, "diff": diff,
            "diff_lo": lo, "diff_hi": hi, "family": 2}  # fmt: skip


def claim(verdict, forward, reverse, why="because", primary=500):
    row = {"budget": primary, "verdict": verdict, "why": why,
           "tests": {"forward": forward, "reverse": reverse}}  # fmt: skip
    other = {"budget": 250, "verdict": "supported", "why": "another budget", "tests": {
        "forward": [mk_test("at 250", 0.001, True)], "reverse": []}}  # fmt: skip
    return {"claim": "c", "verdict": verdict, "why": why, "primary_budget": primary,
            "by_budget": [other, row]}  # fmt: skip


def test_the_deciding_test_is_the_weakest_link_for_and_the_strongest_against():
    fwd = [mk_test("a", 0.01, True), mk_test("b", 0.04, True)]
    assert atlas.deciding_test({"verdict": "supported", "tests": {"forward": fwd}})["label"] == "b"
    rev = [mk_test("r1", 0.03, True), mk_test("r2", 0.002, True), mk_test("r3", 0.9, False)]
    row = {"verdict": "not supported", "tests": {"forward": fwd, "reverse": rev}}
    assert atlas.deciding_test(row)["label"] == "r2"
    fwd = [mk_test("a", 0.01, True), mk_test("b", 0.2, False), mk_test("c", 0.6, False)]
    row = {"verdict": "inconclusive", "tests": {"forward": fwd, "reverse": []}}
    assert atlas.deciding_test(row)["label"] == "c"


def test_the_deciding_test_follows_the_familys_rule():
    # claim 2's rule: any forward test suffices, every reverse one is needed
    rule = {"forward": "any", "reverse": "all"}
    fwd = [mk_test("gan", 0.01, True), mk_test("nsgan", 0.03, True)]
    row = {"verdict": "supported", "tests": {"forward": fwd, "reverse": [], "rule": rule}}
    assert atlas.deciding_test(row)["label"] == "gan"  # the strongest: one was enough
    rev = [mk_test("r1", 0.01, True), mk_test("r2", 0.04, True)]
    row = {"verdict": "not supported", "tests": {"forward": [], "reverse": rev, "rule": rule}}
    assert atlas.deciding_test(row)["label"] == "r2"  # every one had to pass: the weakest
    fwd = [mk_test("gan", 0.3, False), mk_test("nsgan", 0.08, False)]
    row = {"verdict": "inconclusive", "tests": {"forward": fwd, "reverse": [], "rule": rule}}
    assert atlas.deciding_test(row)["label"] == "nsgan"  # the closest to being enough


def test_a_cell_counts_each_family_and_needs_a_test_that_ran():
    fwd = [mk_test("a", 0.01, True), mk_test("b", 0.2, False)]
    c = claim("inconclusive", fwd, [mk_test("r", 0.5, False)])
    c["by_budget"][1]["tests"]["rule"] = {"forward": "all", "reverse": "any"}
    out = atlas.cell(c)
    assert out["counts"]["forward"] == {"significant": 1, "of": 2, "rule": "all"}
    assert out["counts"]["reverse"] == {"significant": 0, "of": 1, "rule": "any"}
    assert "for: 1 of 2 significant (all needed)" in cell_text(out)
    nan = dict(mk_test("x", 0.5, False), p=None, p_adj=None)  # too few seeds: no p at all
    out = atlas.cell(claim("inconclusive", [nan], [], why="only 1 converged seed"))
    assert out["judged"] is False and "only 1 converged seed" in cell_text(out)


def test_a_cell_is_read_at_the_primary_budget_not_the_last_or_the_best():
    c = claim("not supported", [mk_test("f", 0.8, False)],
              [mk_test("gan beats wgan", 0.004, True, -0.3, -0.5, -0.1)])  # fmt: skip
    c["by_budget"].reverse()  # the primary row is not the last one
    out = atlas.cell(c)
    assert out["verdict"] == "not supported" and out["budget"] == 500
    assert out["test"]["label"] == "gan beats wgan"
    text = cell_text(out)
    assert text.startswith("**not supported**: gan beats wgan; difference -0.3 [-0.5, -0.1]")
    assert "Holm p 0.004" in text


def test_a_claim_with_no_test_is_a_cell_that_says_why():
    c = claim("inconclusive", [], [], why="not run: needs a weak wgan (this comparison ran gan)")
    out = atlas.cell(c)
    assert out["judged"] is False
    assert cell_text(out) == "not judged: not run: needs a weak wgan (this comparison ran gan)"
    assert atlas.cell(None, "not run yet") == {"verdict": None, "why": "not run yet"}


def _study(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "study.toml"
    p.write_text(body)
    return p


STUDY = """
name = "two sets"
budget = "declared: tiny"
tune = 2
[datasets.ring8]
experiment = "compare_ring8"
seeds = 3
[datasets.digits]
experiment = "compare_digits"
tune = 0
escape_steps = 12
"""


def _write_summary(folder: Path, verdicts: list[str], seeds: int = 8):
    folder.mkdir(parents=True, exist_ok=True)
    claims = []
    for i, v in enumerate(verdicts):
        sig = v == "supported"
        fwd = [mk_test(f"claim {i + 1} for", 0.01 if sig else 0.3, sig, 0.5, 0.1, 0.9)]
        rev = [mk_test(f"claim {i + 1} against", 0.01, True, -1.0, -1.5, -0.5)] if (
            v == "not supported") else []  # fmt: skip
        claims.append(claim(v, fwd, rev))
    summary = {"dataset": folder.name, "seeds": list(range(seeds)), "steps": 500,
               "primary_budget": 500, "claims": claims}  # fmt: skip
    (folder / "summary.json").write_text(json.dumps(summary))


def test_the_atlas_table_and_figure_carry_each_reports_verdicts(tmp_path):
    study = atlas.load_study(_study(tmp_path, STUDY))
    assert [e.name for e in study.entries] == ["ring8", "digits"]
    assert study.entries[1].comparison == {"escape_steps": 12}
    assert (study.entries[0].tune, study.entries[1].tune) == (2, 0)
    out = tmp_path / "atlas"
    paper_ring = ["supported", "not supported", "inconclusive", "supported"]
    tuned_ring = ["inconclusive", "not supported", "supported", "not supported"]
    paper_digits = ["not supported", "supported", "supported", "inconclusive"]
    _write_summary(out / "ring8", paper_ring)
    _write_summary(out / "ring8" / "tuned", tuned_ring)
    _write_summary(out / "digits", paper_digits, seeds=5)
    result = atlas.write_atlas(study, out)
    cells = {d["name"]: d["cells"] for d in result["datasets"]}
    assert [c["verdict"] for c in cells["ring8"]["paper"]] == paper_ring
    assert [c["verdict"] for c in cells["ring8"]["tuned"]] == tuned_ring
    assert [c["verdict"] for c in cells["digits"]["paper"]] == paper_digits
    assert [c["why"] for c in cells["digits"]["tuned"]] == ["tune = 0 for this dataset"] * 4
    # the deciding test of each cell, from its own report: claim 2 of ring8 is refuted by
    # its reverse test, claim 3 of digits rests on its forward test
    assert cells["ring8"]["paper"][1]["test"]["label"] == "claim 2 against"
    assert cells["digits"]["paper"][2]["test"]["label"] == "claim 3 for"
    assert json.loads((out / "atlas.json").read_text())["datasets"][1]["reports"]["paper"][
        "seeds"] == 5  # fmt: skip
    md = (out / "atlas.md").read_text()
    assert "**Declared budget:** declared: tiny" in md
    paper_table = md.split("## Verdicts: paper settings")[1].split("## Verdicts: tuned")[0]
    row2 = next(line for line in paper_table.splitlines() if line.startswith("| 2."))
    cols = [c.strip() for c in row2.strip("|").split("|")]
    assert cols[1].startswith("**not supported**: claim 2 against")  # ring8
    assert cols[2].startswith("**supported**: claim 2 for")  # digits
    assert (out / "atlas.png").stat().st_size > 5000
    assert render_atlas(atlas.build_atlas(study, out)) == md  # rebuilt from the same files


@pytest.mark.parametrize(
    "body, message",
    [
        ("[datasets.a]\nseeds = 2\n", "needs experiment = a compare-losses file"),
        ("tunes = 2\n[datasets.a]\nexperiment = 'compare_ring8'\n", "unknown key(s) tunes"),
        ("name = 'x'\n", "no [datasets.NAME] tables"),
        ("[datasets.a]\nexperiment = 'compare_ring8'\nsteps = 'many'\n", "steps"),
        ("tune = 1\n[datasets.a]\nexperiment = 'compare_ring8'\n", "at least 2 points"),
        ("[datasets.a]\nexperiment = 'compare_ring8'\nescape_steps = 3\n", "escape_steps"),
        ("[datasets.a]\nexperiment = 'nope'\n", "config file not found"),
    ],
)
def test_a_malformed_study_is_one_clear_error(tmp_path, body, message):
    with pytest.raises(ConfigError, match=None) as e:
        atlas.load_study(_study(tmp_path, body))
    assert message in str(e.value)


def test_the_cli_refuses_a_bad_study_with_exit_2(tmp_path):
    p = _study(tmp_path, "[datasets.a]\nseeds = 2\n")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    r = subprocess.run([sys.executable, "-m", "gancli", "atlas", str(p)], capture_output=True,
                       text=True, cwd=tmp_path, env=env)  # fmt: skip
    assert r.returncode == 2
    assert r.stderr.strip().startswith("error:") and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def _idx(arr: np.ndarray) -> bytes:
    head = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return head + arr.astype(np.uint8).tobytes()


def write_idx_digits(folder: Path, n: int = 300) -> Path:
    """An MNIST-format pair (images and labels) made of scikit-learn's digits at 8x8."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images[:n] * (255 / 16)).round()
    (folder / "train-labels-idx1-ubyte").write_bytes(_idx(d.target[:n]))
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(_idx(x))
    return path


def test_an_idx_file_is_a_dataset_of_the_atlas_like_any_other(tmp_path):
    path = write_idx_digits(tmp_path)
    study = atlas.load_study(_study(tmp_path, f"""
[datasets.mnist-format]
experiment = "compare_digits"
dataset = "{path}"
"""))  # fmt: skip
    c = atlas.comparison(study.entries[0])
    assert c.base.dataset == str(path)
    assert c.weak_variants == ("nobn-const", "mlp")  # images: the WGAN paper's two


@pytest.mark.slow
def test_the_quick_atlas_runs_end_to_end_with_an_idx_file(tmp_path):
    """`gancli atlas atlas_quick` (~10 min on 2 cores) plus the same digits entry read from
    an IDX file the test writes: every dataset gets a paper and a tuned report and a cell
    per claim."""
    from gancli import presets

    idx = write_idx_digits(tmp_path, 600)
    quick = presets.find("atlas_quick").read_text()
    entry = quick.split("[datasets.digits]")[1].replace("experiment", f'dataset = "{idx}"\n'
                                                       "experiment", 1)  # fmt: skip
    study = _study(tmp_path, quick + "\n[datasets.idx]" + entry)
    r = subprocess.run([sys.executable, "-m", "gancli", "atlas", str(study), "--out",
                        str(tmp_path / "out"), "--quiet", "--json"], capture_output=True,
                       text=True, cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert [d["name"] for d in result["datasets"]] == ["ring8", "grid25", "digits", "idx"]
    for d in result["datasets"]:
        for setting in ("paper", "tuned"):
            assert (tmp_path / "out" / d["reports"][setting]["report"]).is_file()
            assert len(d["cells"][setting]) == 4
            assert all(c["verdict"] is not None for c in d["cells"][setting])
    assert (tmp_path / "out" / "atlas.png").stat().st_size > 5000


def test_study_wall_counts_only_invocations_that_trained(tmp_path):
    """A re-render from finished runs adds nothing to walls.json; a run that logged a
    step after the invocation began does."""
    import os
    import time

    log = tmp_path / "ring8" / "gan" / "metrics.jsonl"
    log.parent.mkdir(parents=True)
    log.write_text("{}\n")
    os.utime(log, (1_000, 1_000))
    started = time.time()
    assert not atlas._trained_since(tmp_path / "ring8", started)
    os.utime(log, (started + 1, started + 1))
    assert atlas._trained_since(tmp_path / "ring8", started)


def test_tuning_runs_count_in_the_tuned_reports_training_time(tmp_path):
    """The tuning runs (under <dataset>/tune) are the tuned comparison's cost, not the
    paper-settings one's."""
    folder = tmp_path / "grid25"
    (folder / "tune" / "gan").mkdir(parents=True)
    (folder / "tune" / "gan" / "summary.json").write_text('{"wall_time_s": 100.0}')
    (folder / "escape_probe.json").write_text('{"wall_time_s": 7.0}')
    paper = {"runs": {"gan": {"wall_time_s": 10.0}}}
    assert atlas._train_wall(folder, paper) == 17.0
    tuned = {"runs": {"gan": {"wall_time_s": 20.0}}}
    (folder / "tuned").mkdir()
    assert atlas._train_wall(folder / "tuned", tuned, folder / "tune") == 120.0


def test_a_cell_with_significant_tests_both_ways_is_marked_mixed():
    from gancli.report.atlas import both_ways

    mixed = {"counts": {"forward": {"significant": 2, "of": 4, "rule": "all"},
                        "reverse": {"significant": 1, "of": 4, "rule": "any"}}}  # fmt: skip
    clean = {"counts": {"forward": {"significant": 0, "of": 4, "rule": "all"},
                        "reverse": {"significant": 3, "of": 4, "rule": "any"}}}  # fmt: skip
    assert both_ways(mixed) and not both_ways(clean) and not both_ways({})
