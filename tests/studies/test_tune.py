import itertools

import numpy as np
import pytest

from gancli.studies import tune


def test_expected_best_equals_the_mean_over_all_subsets():
    scores = [0.9, 0.3, 0.5, 0.7, 0.4]
    for k in range(1, 6):
        direct = np.mean([min(c) for c in itertools.combinations(scores, k)])
        assert tune.expected_best(scores, k) == pytest.approx(direct)
    curve = tune.budget_curve(scores)
    assert curve[0] == pytest.approx(np.mean(scores)) and curve[-1] == pytest.approx(0.3)
    assert all(a >= b for a, b in zip(curve, curve[1:], strict=False))  # more tries, no worse


def test_diverged_points_count_as_worst():
    scores = [0.5, float("nan"), 0.2]
    assert tune.expected_best(scores, 1) == float("inf")  # a 1-subset can be the NaN alone
    direct = np.mean([0.5, 0.2, 0.2])  # subsets {0.5,nan} {0.5,0.2} {nan,0.2}
    assert tune.expected_best(scores, 2) == pytest.approx(direct)
    assert tune.best_point([{}, {}, {}], scores) == 2


def test_draws_follow_each_search_space_and_are_reproducible():
    pts = tune.draw("wgan", 400, seed=1)
    assert pts == tune.draw("wgan", 400, seed=1) and pts != tune.draw("wgan", 400, seed=2)
    clip = np.array([p["clip"] for p in pts])
    assert clip.min() >= 1e-3 and clip.max() <= 1e-1
    assert 0.4 < np.mean(clip < 1e-2) < 0.6  # log-uniform: half below the geometric mid
    assert {p["n_critic"] for p in pts} == {1, 5}
    assert {p["beta1"] for p in tune.draw("nsgan", 50)} == {0.5, 0.9}
    assert tune.draw("gan", 5) != tune.draw("nsgan", 5)  # each loss its own stream


def test_structural_settings_split_into_programs():
    pts = [
        {"lr_d": 1e-4, "n_critic": 5},
        {"lr_d": 2e-4, "n_critic": 1},
        {"lr_d": 3e-4, "n_critic": 5},
    ]
    assert tune.by_structure(pts) == {(("n_critic", 5),): [0, 2], (("n_critic", 1),): [1]}
    assert tune.by_structure([{"lr_d": 1.0}, {"lr_d": 2.0}]) == {(): [0, 1]}


def test_tune_trains_points_on_tuning_seeds_and_retrains_the_best_held_out(tmp_path):
    """The whole --tune flow on a tiny budget: one program per structural choice, best by the
    tuning seeds' mean W1, held-out runs on the comparison's own seeds."""
    import dataclasses
    import json

    from gancli.studies import compare
    from tests.conftest import TINY

    flags = {**TINY, "seeds": 2, "steps": 20, "eval_every": 20}
    c = dataclasses.replace(compare.load_comparison(None, flags, "nsgan,wgan", "none"),
                            escape_steps=6)  # fmt: skip
    result = tune.run_tuning(c, tmp_path, k=4, tune_seeds=2, quiet=True, log=lambda m: None)
    wgan = result["losses"]["wgan"]
    groups = tune.by_structure(wgan["points"])
    for struct in groups:  # one sweep program per n_critic value, on seeds 1000, 1001
        name = "wgan" + "".join(f"-{f.replace('_', '')}{v}" for f, v in struct)
        summary = json.loads((tmp_path / "tune" / name / "summary.json").read_text())
        assert {s["seed"] for s in summary["seeds"]} == {1000, 1001}
    # the best point is the lowest mean tuning W1, recomputed from the run summaries
    nsgan = result["losses"]["nsgan"]
    summary = json.loads((tmp_path / "tune" / "nsgan" / "summary.json").read_text())
    means = [np.mean([s["w1"] for s in summary["seeds"] if s["lr_d"] == p["lr_d"]])
             for p in nsgan["points"]]  # fmt: skip
    assert nsgan["scores"] == pytest.approx(means)
    assert nsgan["best"] == int(np.argmin(means))
    # held out: the comparison's seeds 0, 1 with the chosen point's values
    held = json.loads((tmp_path / "tuned" / "nsgan" / "summary.json").read_text())
    assert [s["seed"] for s in held["seeds"]] == [0, 1]
    cfg = (tmp_path / "tuned" / "nsgan" / "config.toml").read_text()
    assert f"lr_d = {nsgan['best_point']['lr_d']!r}" in cfg
    for f in ("tune.md", "tune.json", "plots/budget_curve.png", "plots/sensitivity.png"):
        assert (tmp_path / f).is_file(), f
    assert "held-out" in (tmp_path / "tune.md").read_text()
