import itertools

import numpy as np
import pytest

from gancli import tune


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
