"""The report's Markdown from a small result written out by hand: each line the renderer
builds from a field (seed range, published anchors, the tests' rows, a claim's figures,
tune.md's search spaces) against the line a reader should see, typed out here."""

import base64
import json

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


def test_table_cells_print_missing_and_non_finite_values_as_a_dash():
    result = _result()
    result["runs"]["nsgan"]["seeds"] = [{"w1": None}, {"w1": float("nan")}, {"w1": float("inf")}]
    result["runs"]["gan"]["seeds"] = [{"w1": 0.123456}, {"w1": 7}, {}]
    _, rows = render.per_seed_rows(result)
    assert rows == [["nsgan", "-, -, -"], ["gan", "0.1235, 7, -"]]


def test_the_final_table_gives_each_runs_interval_divergences_and_wall_time():
    result = _result()
    result["runs"]["nsgan"].update(diverged=1, wall_time_s=12.345678)
    result["runs"]["nsgan"]["ci95"] = {"w1": {"mean": 1.5, "ci_lo": 1.25, "ci_hi": 1.75, "n": 2}}
    # every seed the same: no interval, the count said instead
    result["runs"]["gan"]["ci95"] = {"w1": {"mean": 2.0, "ci_lo": None, "ci_hi": None, "n": 3,
                                            "all_equal": True}}  # fmt: skip
    header, rows = render.table_rows(result)
    assert header == ["run", "w1", "diverged", "wall s"]
    assert rows == [["nsgan", "1.5 [1.25, 1.75]", "1/2", "12.35"],
                    ["gan", "2 (all 3 equal)", "0/2", "1.5"]]  # fmt: skip


def test_an_interval_read_back_prints_as_its_estimate_did():
    assert render.fmt_ci(None) == "-" and render.fmt_ci({}) == "-"
    assert render.fmt_ci({"mean": 0.5, "ci_lo": None, "ci_hi": None, "n": 1}) == "0.5 (n=1)"
    assert render.fmt_ci({"mean": None, "ci_lo": None, "ci_hi": None, "n": 4}) == "-"
    # no seed count recorded: nothing to print an interval of
    assert render.fmt_ci({"mean": 1.0, "ci_lo": 0.5, "ci_hi": 1.5}) == "-"
    assert render.fmt_ci({"mean": 1.0, "ci_lo": 0.5, "ci_hi": 1.5, "n": 2}) == "1 [0.5, 1.5]"


def test_settings_are_a_column_each_in_the_order_the_runs_record_them():
    result = _result()
    for name, lr in (("nsgan", 0.0002), ("gan", 1e-05)):
        result["runs"][name]["settings"] = {"loss": name, "lr": lr, "steps": 80}
    assert render.settings_rows(result) == (
        ["run", "loss", "lr", "steps"],
        [["nsgan", "nsgan", "0.0002", "80"], ["gan", "gan", "1e-05", "80"]],
    )


def _html_result(tmp_path, verdicts=("supported", "not supported", "inconclusive")):
    result = _result()
    claim = result["claims"][0]
    result["claims"] = [dict(claim, claim=f"claim <{v}>", verdict=v, headline=v.capitalize(),
                             descriptive="" if v == "supported" else f"80: {v}")
                        for v in verdicts]  # fmt: skip
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "a.png").write_bytes(b"\x89PNG one")
    (tmp_path / "plots" / "b.png").write_bytes(b"\x89PNG two")
    result["figures"] = {"W1 & steps": "plots/a.png", "modes": "plots/b.png"}
    result["dataset"] = "ring<8>"
    return render.render_html(result, None, tmp_path)


def test_the_html_report_numbers_and_colours_each_claim_by_its_verdict(tmp_path):
    page = _html_result(tmp_path)
    assert "<title>gancli: loss comparison on ring&lt;8&gt;</title>" in page
    assert "<h1>Loss comparison on ring&lt;8&gt;</h1>" in page
    assert "<p>8 seeds, 80 generator steps per run. Holm.</p>" in page
    assert "<h3>1. claim &lt;supported&gt;</h3>\n<p><b class='supported'>Supported</b>.</p>" in page
    assert (
        "<h3>2. claim &lt;not supported&gt;</h3>\n<p><b class='not'>Not supported</b>.</p>" in page
    )
    assert (
        "<h3>3. claim &lt;inconclusive&gt;</h3>\n<p><b class='inconclusive'>Inconclusive</b>."
        in page
    )
    assert "Other budgets (descriptive): -</small>" in page
    assert "Other budgets (descriptive): 80: not supported</small>" in page
    # the primary budget's tests, one table row each, escaped
    cells = ["for the claim", "nsgan vs gan", "Mann-Whitney", "8 vs 8", "w1", "1.5 [0.5, 2.5]",
             "0.01", "0.02", "yes"]  # fmt: skip
    row = "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
    assert row in page


def test_the_html_report_embeds_each_plot_under_its_title(tmp_path):
    page = _html_result(tmp_path, verdicts=("supported",))
    one, two = (base64.b64encode(b).decode() for b in (b"\x89PNG one", b"\x89PNG two"))
    assert (f"<h2>Plots</h2>\n<h3>W1 &amp; steps</h3><img src='data:image/png;base64,{one}'>\n"
            f"<h3>modes</h3><img src='data:image/png;base64,{two}'>\n") in page  # fmt: skip
    assert page.endswith("</h3><img src='data:image/png;base64," + two + "'>\n")


def test_the_html_tables_hold_every_run_and_seed(tmp_path):
    page = _html_result(tmp_path, verdicts=())
    assert "<tr><th>run</th><th>w1</th><th>diverged</th><th>wall s</th></tr>" in page
    assert "<tr><td>nsgan</td><td>1, 2</td></tr><tr><td>gan</td><td>2, 3</td></tr>" in page
    assert "<h3>" not in page.split("<h2>Plots</h2>")[0]  # no claims: no claim headings


def test_tune_md_gives_the_best_and_median_of_the_finite_scores_and_the_held_out_interval():
    result = {
        "metric": "w1", "k": 5, "tune_seeds": 2, "seed_base": 1000, "spaces": {},
        "losses": {"nsgan": {"scores": [3.0, None, 1.0, float("nan"), 2.0, 10.0],
                             "best_point": {"lr": 0.000123456, "beta1": 0.5}}},
        "held_out": {"nsgan": {"ci95": {"w1": {"mean": 1.5, "ci_lo": 1.0, "ci_hi": 2.0, "n": 8}}}},
        "claims_held_out": [{"claim": "NS fixes it", "headline": "Supported"},
                            {"claim": "Collapse", "headline": "Inconclusive"}],
    }  # fmt: skip
    md = render.tuning_markdown(result)
    assert (
        "| loss | chosen point | tuning w1 (best / median of 5) | held-out w1, mean [95% CI] |"
        in md
    )
    # best 1, median of 1, 2, 3, 10 = 2.5; None and NaN are not scores
    assert "| nsgan | lr 0.000123, beta1 0.5 | 1 / 2.5 | 1.5 [1, 2] |" in md
    assert "\n1. NS fixes it **Supported**.\n2. Collapse **Inconclusive**.\n" in md
    assert "5 points from its own search space and trained them on 2 tuning seeds (1000, ...)" in md


def test_the_markdown_numbers_its_claims_from_one_with_their_verdicts():
    result = _result()
    first = result["claims"][0]
    result["claims"] = [first, dict(first, claim="GANs collapse", headline="not supported")]
    md = render.render_markdown(result, None)
    assert "### 1. NS fixes it\n\n**supported.**\n\nAt the primary budget: p 0.02.\n" in md
    assert "### 2. GANs collapse\n\n**not supported.**\n" in md
    assert "### 0." not in md and "### 3." not in md


def test_a_result_read_back_from_json_still_finds_its_primary_budget():
    # budgets are step counts (3,000 and more): read from JSON, equal but not the same object
    result = _result()
    claim = result["claims"][0]
    claim["primary_budget"] = 3000
    for b, budget in zip(claim["by_budget"], (3000, 5000), strict=True):
        b["budget"] = budget
    result = json.loads(json.dumps(result))
    md = render.render_markdown(result, None)
    assert "| 3000 (primary) | supported |\n| 5000 | inconclusive |" in md
    assert render.primary_tests_rows(result["claims"][0])[1][0][0] == "for the claim"
