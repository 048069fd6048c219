"""The report's Markdown from a small result written out by hand: each line the renderer
builds from a field (seed range, published anchors, the tests' rows, a claim's figures,
tune.md's search spaces) against the line a reader should see, typed out here."""

from gancli.report import render


def _run(w1: float) -> dict:
    return {"settings": {"loss": "nsgan", "lr": 0.0002}, "ci95": {}, "diverged": 0,
            "wall_time_s": 1.5, "seeds": [{"w1": w1}, {"w1": w1 + 1}]}  # fmt: skip


def _test(name: str, significant: bool, **diff) -> dict:
    return {"label": "nsgan vs gan", "name": name, "n_a": 8, "n_b": 8, "diff_what": "w1",
            "p": 0.01, "p_adj": 0.02, "significant": significant, **diff}  # fmt: skip


def _result(anchors=()) -> dict:
    claim = {
        "claim": "NS fixes it", "headline": "supported", "why": "p 0.02", "how": "a test",
        "primary_budget": 60,
        "by_budget": [{"budget": 60, "verdict": "supported",
                       "tests": {"forward": [_test("Mann-Whitney", True, diff=1.5, diff_lo=0.5,
                                                   diff_hi=2.5)],
                                 "reverse": [_test("Mann-Whitney", False, diff=-1.5)]}},
                      {"budget": 80, "verdict": "inconclusive", "tests": {}}],
        # a key built at run time, not the interned literal: `is not` would keep it
        "figures": {"capacity": 3, "".join(["coverage_", "histogram"]): [1, 2], "w1_gap": 0.25},
    }  # fmt: skip
    return {"dataset": "ring8", "seeds": list(range(3, 11)), "steps": 80,
            "statistics": "Holm", "metrics": ["w1"],
            "runs": {"nsgan": _run(1.0), "gan": _run(2.0)},
            "anchors": list(anchors), "claims": [claim], "figures": {}}  # fmt: skip


def test_the_header_gives_the_first_and_last_seed():
    md = render.render_markdown(_result(), None)
    assert "8 seeds (3..10), 80 generator steps per run." in md


def test_published_anchors_are_listed_with_their_spread_when_they_have_one():
    anchors = [
        {"source": "Srivastava et al. 2017", "modes_any": 7.6, "pm": 0.5, "hq_percent": 12},
        {"source": "Lin et al. 2018", "modes_any": 8, "pm": None, "hq_percent": 90},
    ]
    md = render.render_markdown(_result(anchors), None)
    assert "- Srivastava et al. 2017: 7.6 ± 0.5 modes, 12% HQ\n" in md
    assert "- Lin et al. 2018: 8 modes, 90% HQ\n" in md
    assert "Published GAN rows" not in render.render_markdown(_result(), None)


def test_the_primary_budgets_tests_are_a_table_with_their_estimates_and_decisions():
    md = render.render_markdown(_result(), None)
    assert "Tests at the primary budget (each family Holm-adjusted):" in md
    assert ("| for the claim | nsgan vs gan | Mann-Whitney | 8 vs 8 | w1 | 1.5 [0.5, 2.5] "
            "| 0.01 | 0.02 | yes |") in md  # fmt: skip
    assert ("| against it | nsgan vs gan | Mann-Whitney | 8 vs 8 | w1 | -1.5 "
            "| 0.01 | 0.02 | no |") in md  # fmt: skip
    assert "| 60 (primary) | supported |\n| 80 | inconclusive |" in md


def test_a_difference_without_an_interval_is_the_number_alone():
    assert render.difference({"diff": 2.0, "diff_lo": None}) == "2"
    assert render.difference({"diff": 2.0, "diff_lo": 1.0, "diff_hi": 3.0}) == "2 [1, 3]"
    assert render.difference({"diff": None}) == ""


def test_a_claims_figures_are_listed_except_the_coverage_histogram():
    md = render.render_markdown(_result(), None)
    assert "Figures: `capacity` = 3, `w1_gap` = 0.25\n" in md
    bare = _result()
    bare["claims"][0]["figures"] = {"coverage_histogram": [1]}
    assert "Figures:" not in render.render_markdown(bare, None)


def test_tune_md_lists_each_compared_losss_search_space_with_its_scale_and_bounds():
    result = {
        "metric": "w1", "k": 4, "tune_seeds": 2, "seed_base": 1000,
        "spaces": {"nsgan": {"lr_g": ("log_uniform", 1e-5, 1e-3), "beta1": ("choice", [0.5, 0.9])},
                   "wgan": {"clip": ("log_uniform", 1e-3, 0.1)}, "gan": {"lr_g": ("choice", [1])}},
        "losses": {"nsgan": {"scores": [1.0, 2.0, 3.0, None], "best_point": {"lr": 0.0001}},
                   "wgan": {"scores": [0.5, 0.7], "best_point": {"lr": 0.001}}},
        "held_out": {}, "claims_held_out": [],
    }  # fmt: skip
    md = render.tuning_markdown(result)
    # gan is not among the losses tuned: its space is not shown
    assert ("Search spaces: nsgan: lr_g log_uniform [1e-05, 0.001], beta1 choice [[0.5, 0.9]]; "
            "wgan: clip log_uniform [0.001, 0.1]\n") in md  # fmt: skip
    assert "| nsgan | lr 0.0001 | 1 / 2 | - |" in md
