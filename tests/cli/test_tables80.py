"""Every table fits 80 columns: each rendered as `COLUMNS=80` would, through a Rich console
80 wide, with no line longer and no cell cut short with '…'."""

import pytest
from rich.console import Console

from gancli.bench import table as bench_table
from gancli.cli import tables
from gancli.quality.images import IMAGE_METRICS, PIXEL_METRICS
from gancli.quality.mixture import MIXTURE_METRICS
from tests.bench.test_bench import _result as bench_result

# Values as wide as `.4g` prints them, and a seed that diverged late in a long run.
WIDE = [1.234e-05, 0.0001234, 12345.0, -0.001234, 1.0]


def render80(*renderables) -> str:
    console = Console(width=80, record=True, force_terminal=False)
    for r in renderables:
        console.print(r)
    text = console.export_text()
    long = [line for line in text.splitlines() if len(line) > 80]
    assert not long, "\n".join(long)
    assert "…" not in text, text
    return text


def _seeds(names, n=3, swept=None):
    rows = []
    for i in range(n):
        values = {k: WIDE[(i + j) % len(WIDE)] for j, k in enumerate(names)}
        rows.append({"seed": i, **(swept or {}), "diverged_at": 123456 if i == 1 else None,
                     **values})  # fmt: skip
    return rows


def _summary(rows, names):
    from gancli.estimates import summarize

    return {"diverged": 1, **summarize(rows, names)}


@pytest.mark.parametrize("names", [MIXTURE_METRICS, IMAGE_METRICS + PIXEL_METRICS])
def test_train_and_eval_table(names):
    rows = _seeds(names)
    text = render80(tables.metric_table("wgan on /data/mnist.npz, step 100000", rows,
                                        _summary(rows, names)))  # fmt: skip
    assert "CI lo" in text and "CI hi" in text and "at 123456" in text and "1 of 3" in text
    assert "inception" in text or "modes" in text


def test_sweep_table_of_every_sweepable_field():
    names = list(MIXTURE_METRICS)
    swept = ["lr_g", "lr_d", "beta1", "beta2", "clip"]
    point_values = [dict.fromkeys(swept, 5e-05), dict.fromkeys(swept, 0.0002)]
    rows = [r for p in point_values for r in _seeds(names, 2, p)]
    summary = {**_summary(rows, names), "swept": swept,
               "points": [{**p, **_summary(rows[2 * i : 2 * i + 2], names)}
                          for i, p in enumerate(point_values)]}  # fmt: skip
    text = render80(tables.metric_table("wgan on ring8, step 20", rows, summary))
    assert "point 2 of 2: lr_g 0.0002, lr_d 0.0002, beta1 0.0002, beta2 0.0002," in text


@pytest.mark.parametrize(
    "metrics, weak",
    [(["modes", "hq_frac", "mode_kl", "w1"], "thin"),
     (["classes", "hq_frac", "class_kl", "fd", "fd_pixels"], "nobn-const")],
)  # fmt: skip
def test_compare_losses_tables(metrics, weak):
    def run(seeds=8):
        ci = {m: {"mean": 12345.6, "ci_lo": -0.001234, "ci_hi": 1.234e-05, "n": seeds}
              for m in metrics}  # fmt: skip
        return {"ci95": ci, "diverged": 3, "seeds": [{}] * seeds, "wall_time_s": 12345.67}

    names = [f"{loss}{suffix}" for suffix in ("", f"-{weak}") for loss in ("gan", "nsgan", "wgan")]
    result = {"dataset": "/some/where/mnist-train.npz", "seeds": list(range(8)),
              "runs": {n: run() for n in names}}  # fmt: skip
    text = render80(tables.comparison_tables(result, metrics))
    assert f"wgan-{weak}" in text and "3 of 8" in text and "-0.001234 .. 1.234e-05" in text


def test_reproduce_table_is_split_into_tables_that_repeat_its_keys():
    from gancli.report.reproduce import table_rows

    stats = {"n": 10, "mean": 7.123, "ci_low": 6.123, "ci_high": 8.123, "std": 1.123,
             "se": 0.3123}  # fmt: skip
    metrics = ("modes", "hq_pct", "reverse_kl")
    stage = {"variant": "nsgan-unrolled", "steps": 100000, "wall_time_s": 12345.6,
             "stats": dict.fromkeys(metrics, stats), "note": ""}  # fmt: skip
    report = {"anchor": {"modes": 6.3, "modes_pm": 0.48, "hq_pct": 98.2, "reverse_kl": None},
              "paper": {"variant": "nsgan-unrolled"}, "stages": [stage, stage]}  # fmt: skip
    header, rows = table_rows(report)
    text = render80(tables.rows_table("PacGAN, Table 1: paper vs ours (95% CI)", header, rows,
                                      keys=(0, 1, 3)))  # fmt: skip
    for h in header:
        assert h.split()[0] in text
    assert text.count("reverse KL") == 2 * 2  # each of the two tables repeats its keys


def test_rows_table_keeps_a_narrow_table_whole():
    text = render80(tables.rows_table("t", ["a", "b"], [["1", "2"]]))
    assert text.count("a ") == 1


def test_bench_tables():
    result = bench_result()
    name = "mlp-wide-nsgan-S32"
    result["configs"][name]["profile"] = {
        "available": True,
        "share": {"matmul": 0.61, "elementwise": 0.2, "copy": 0.1, "control": 0.09},
        "overlap": 1.37,
        "matmul_only_frac_peak": 0.93,
        "top_ops": [
            {"op": "loop_multiply_subtract_fusion.12", "kind": "elementwise", "ms_per_step": 1.234}
        ],  # fmt: skip
    }
    result["configs"]["dcgan-digits-nsgan-S4"] = {
        **result["configs"][name], "config": {"seeds": 4, "dataset": "digits"}}  # fmt: skip
    result["baselines"][name]["python-loop"] = {"seed_steps_per_s": 12.5}
    text = render80(*bench_table.format_table(result))
    for title in ("train's chunk", "Arithmetic", "Compile and memory", "slow ways", "Ratios",
                  "Targets", "Where the time goes", "Costliest op"):  # fmt: skip
        assert title in text
    assert "loop_multiply_subtract_fusion.12" in text and "dcgan-digits-nsgan-S4" in text
