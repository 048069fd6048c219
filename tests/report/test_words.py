"""The report's words for numbers: a change says which way it went."""

import math

import pytest

from gancli.report.words import change_phrase, moved, not_run


@pytest.mark.parametrize(
    "args, text",
    [
        ((0.41,), "fell by 0.41"),
        ((-2.07,), "rose by 2.07"),
        ((0.0,), "did not change"),
        ((0.41, 0.3, 0.52), "fell by 0.41 [0.3, 0.52]"),
        ((-2.07, -2.6, -1.5), "rose by 2.07 [1.5, 2.6]"),
        ((0.1, -0.2, 0.4), "fell by 0.1 [-0.2, 0.4]"),  # the interval as the fall's
        ((-0.1, -0.4, 0.2), "rose by 0.1 [-0.2, 0.4]"),
        ((0.5, math.nan, math.nan), "fell by 0.5"),
        ((math.nan,), "changed by an unknown amount"),
    ],
)
def test_moved_says_which_way(args, text):
    assert moved(*args) == text


def test_change_phrase_from_before_and_after():
    assert change_phrase("w1", 1.5, 1.0) == "w1 fell by 0.5"
    assert change_phrase("w1", 0.5, 2.57) == "w1 rose by 2.07"
    assert "-" not in change_phrase("w1", 0.5, 2.57)


def test_not_run_names_the_missing_loss():
    assert (
        not_run(["wgan"], ["gan", "nsgan"])
        == "not run: needs wgan (this comparison ran gan, nsgan)"
    )
    assert not_run(["gan", "nsgan"], ["wgan"]).startswith("not run: needs gan and nsgan")
