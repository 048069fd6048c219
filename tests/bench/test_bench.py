"""`gancli bench`: FLOP counts match hand computations, the table and targets follow from
the measurements, bench times train's chunk; a quick run returns every figure (slow).

Targets (fraction of peak, compile seconds, ...) are measurements on a shared machine and
are never asserted here.
"""

from __future__ import annotations

import json
import math
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest
from rich.console import Console

from gancli import data as data_lib
from gancli.bench import ceiling, configs, flops, machine, suite, table
from gancli.config import Config, resolve
from gancli.core import step as step_lib
from gancli.core.step import GANProgram, train_step
from gancli.run import runner
from gancli.run.loop import chunk_end

RING = data_lib.load("ring8")

CONFIG_FIGURES = [
    "seed_steps_per_s", "seconds", "cpu_seconds", "ms_per_step", "us_per_seed_step",
    "lower_s", "xla_compile_s", "compile_s", "flops_per_seed_step",
    "flops_traced_per_seed_step", "gflops", "frac_peak", "peak_rss_mib",
    "compile_peak_rss_mib", "lifetime_peak_rss_mib", "state_mib", "steps_timed", "calls",
    "chunk_length", "seed_steps",
]  # fmt: skip


def positive_finite(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) and x > 0


@pytest.fixture(scope="module")
def quick():
    lines: list[str] = []
    return suite.run_bench(quick=True, log=lines.append, profile=True), lines


@pytest.mark.slow  # a real quick bench with its profile: ~30 s
def test_quick_bench_reports_every_figure(quick):
    result, lines = quick
    assert lines, "progress is logged through `log`"
    env = result["env"]
    assert env["versions"]["jax"] == jax.__version__ and env["backend"] == jax.default_backend()
    assert env["cpu_model"] and env["load_avg_start"] and "git_commit" in env  # host + bench
    assert env["devices"] and env["cpu_count"] >= 1
    peak = result["matmul_peak"]
    assert peak["n"] == 2048 and positive_finite(peak["gflops"])
    assert peak["flops"] == 2 * 2048**3

    assert list(result["configs"]) == configs.QUICK_CONFIGS
    for name, m in result["configs"].items():
        for key in CONFIG_FIGURES:
            assert positive_finite(m[key]), (name, key, m.get(key))
        assert m["compile_s"] == pytest.approx(m["lower_s"] + m["xla_compile_s"])
        cfg = configs.make_config(configs.CONFIGS[name])
        assert m["chunk_length"] == chunk_end(cfg, 0)  # train's chunk
        assert m["seed_steps"] == m["steps_timed"] * m["config"]["seeds"]
        assert m["no_divergence"] is True
        # The analytic count is what a traced step does; XLA's count is a cross-check.
        assert m["flops_traced_per_seed_step"] == pytest.approx(m["flops_per_seed_step"])
        # The figure is the fastest of the timed windows; the median is kept beside it.
        windows = m["seed_steps_per_s_windows"]
        assert len(windows) == suite.WINDOWS
        assert m["seed_steps_per_s"] == pytest.approx(max(windows))
        assert min(windows) <= m["seed_steps_per_s_median_window"] <= max(windows)
        prof = m["profile"]  # --profile: op time by kind, shares add up to one
        assert prof["available"] and sum(prof["share"].values()) == pytest.approx(1.0)
        assert prof["share"]["matmul"] > 0 and prof["share"]["elementwise"] > 0
        alone = prof["dots_alone"]  # and the chunk's own matmuls, each timed alone
        assert alone["dots"] > 0 and positive_finite(alone["gflops"])
        assert 0 < alone["frac_peak"] and alone["run_frac"] == pytest.approx(
            m["gflops"] / alone["gflops"]
        )

    for name, entry in result["baselines"].items():
        assert name in result["configs"]
        for way in ("sequential-seeds", "python-loop"):
            assert positive_finite(entry[way]["seed_steps_per_s"]), (name, way)
            assert positive_finite(entry[way]["compile_s"]), (name, way)
        assert entry["python-loop"]["steps_timed"] >= 50
    ratios = result["ratios"]
    assert ratios and all(positive_finite(v) for v in ratios.values())
    name = configs.QUICK_CONFIGS[0]
    assert f"{name} / python-loop" in ratios and f"{name} / sequential-seeds" in ratios

    assert result["targets"], "targets are listed beside the figures"
    for t in result["targets"]:
        assert isinstance(t["pass"], bool) and math.isfinite(t["margin"])
        assert t["op"] in (">=", "<=") and positive_finite(t["target"])


@pytest.mark.slow  # a real quick bench with its profile: ~30 s
def test_quick_result_is_json_ready(quick):
    import json

    result, _ = quick
    json.loads(json.dumps(result, allow_nan=False))


@pytest.mark.slow  # a real quick bench with its profile: ~30 s
def test_format_table_renders(quick):
    result, _ = quick
    tables = table.format_table(result)
    console = Console(width=200, record=True, force_terminal=False)
    for t in tables:
        console.print(t)
    text = console.export_text()
    assert configs.QUICK_CONFIGS[0] in text
    assert "python-loop" in text and "sequential-seeds" in text
    assert "PASS" in text or "MISS" in text
    assert "Where the time goes" in text  # the --profile table


# ---- train's chunk ------------------------------------------------------------------------


class _Stop(Exception):
    pass


def _first_chunk_length(monkeypatch, run) -> int:
    """The length of the first chunk `run()` asks the program for (it stops right there)."""
    asked = []

    def spy(self, length):
        asked.append(length)
        raise _Stop

    monkeypatch.setattr(GANProgram, "run_chunk", spy)
    with pytest.raises(_Stop):
        run()
    return asked[0]


@pytest.mark.parametrize("changes", [{}, {"log_every": 7, "checkpoint_every": 21}])
def test_bench_times_the_chunk_train_runs(monkeypatch, tmp_path, changes):
    tiny = dict(configs.TINY, loss="nsgan", seeds=2, eval_samples=200, steps=50, **changes)
    cfg = configs.make_config(tiny)
    trained = _first_chunk_length(monkeypatch, lambda: runner.train(cfg, tmp_path, quiet=True))
    benched = _first_chunk_length(
        monkeypatch, lambda: suite.measure_vmapped("t", tiny, 1e9, 0.1, None, {}, lambda m: None)
    )
    assert benched == trained == configs.chunk_length(cfg)
    assert trained == (7 if changes else 50)  # the first log (or the end of a short run)


def test_bench_steps_cap_the_chunk_as_train_steps_do():
    cfg = configs.make_config(configs.CONFIGS["mlp-wide-nsgan-S8"])
    assert configs.chunk_length(cfg) == cfg.log_every == 100  # train's default chunk
    short = configs.make_config(configs.CONFIGS["mlp-wide-nsgan-S8"], steps=30)
    assert short.steps == 30 and configs.chunk_length(short) == 30


# ---- the table ----------------------------------------------------------------------------


def _measurement(seeds: int, rate: float, gflops: float, adjacent: float) -> dict:
    return {
        "config": {"seeds": seeds, "dataset": "ring8"},
        "seed_group": seeds,
        "chunk_length": 100,
        "steps_timed": 300,
        "seed_steps_per_s": rate,
        "seed_steps_per_s_median_window": 0.75 * rate,
        "us_per_seed_step": 1e6 / rate,
        "ms_per_step": 1e3 * seeds / rate,
        "flops_per_seed_step": gflops * 1e9 / rate,
        "gflops": gflops,
        "frac_peak": 0.0,
        "matmul_gflops_adjacent": adjacent,
        "cpu_seconds": 3.0,
        "seconds": 2.0,
        "compile_s": 4.0,
        "lower_s": 1.0,
        "xla_compile_s": 3.0,
        "peak_rss_mib": 700.0,
        "state_mib": 1.5,
        "device_memory_stats": None,
    }


def _result() -> dict:
    measured = {
        "mlp-wide-nsgan-S1": _measurement(1, 100.0, 80.0, 150.0),
        "mlp-wide-nsgan-S8": _measurement(8, 160.0, 128.0, 200.0),  # the best matmul: 200
        "mlp-wide-nsgan-S32": _measurement(32, 200.0, 170.0, 120.0),
    }
    baselines = {
        name: {"sequential-seeds": {**table.sequential_from(measured["mlp-wide-nsgan-S1"]),
                                    "source": "mlp-wide-nsgan-S1"}}
        for name in ("mlp-wide-nsgan-S8", "mlp-wide-nsgan-S32")
    }  # fmt: skip
    env = {**machine.environment(), "load_avg_end": [1.0, 1.0, 1.0]}
    result = {"env": env, "matmul_peak": {"n": 2048, "gflops": 160.0}, "configs": measured}
    result["baselines"] = baselines
    table.use_best_peak(result)
    result["ratios"] = table.ratios(measured, baselines)
    result["targets"] = table.targets(measured, result["ratios"])
    return result


def test_percent_of_peak_is_of_the_best_matmul_of_the_run():
    result = _result()
    assert result["matmul_peak"]["gflops"] == 200.0 and result["matmul_peak"]["measurements"] == 4
    fracs = {n: m["frac_peak"] for n, m in result["configs"].items()}
    assert fracs == pytest.approx(
        {"mlp-wide-nsgan-S1": 0.40, "mlp-wide-nsgan-S8": 0.64, "mlp-wide-nsgan-S32": 0.85}
    )


def test_ratios_and_targets_follow_from_the_measurements():
    result = _result()
    ratios = result["ratios"]
    assert ratios["mlp-wide-nsgan-S8 / sequential-seeds"] == pytest.approx(1.6)
    assert ratios["mlp-wide-nsgan-S32 / sequential-seeds"] == pytest.approx(2.0)
    assert ratios["mlp-wide-nsgan-S32 cost per seed-step / S8"] == pytest.approx(0.8)
    by_what = {t["what"]: t for t in result["targets"]}
    s8 = by_what["mlp-wide-nsgan-S8 fraction of matmul peak"]
    s32 = by_what["mlp-wide-nsgan-S32 fraction of matmul peak"]
    assert "mlp-wide-nsgan-S1 fraction of matmul peak" not in by_what  # 8 and 32 seeds only
    assert (s8["pass"], s32["pass"]) == (False, True)  # 64% and 85% against >= 85%
    assert s8["margin"] == pytest.approx(0.64 / 0.85 - 1)
    compile_s = by_what["mlp-wide-nsgan-S8 compile"]
    assert compile_s["pass"] and compile_s["margin"] == pytest.approx(1 - 4.0 / 5.0)


def test_table_prints_seed_steps_percent_of_peak_and_the_chunk():
    console = Console(width=250, record=True, force_terminal=False)
    for t in table.format_table(_result()):
        console.print(t)
    text = console.export_text()
    rows = [line for line in text.splitlines() if line.startswith("mlp-wide-nsgan-S8 ")]
    cells = {c for row in rows for c in row.split()}
    # seed-steps/s (fastest window, median window), % of peak, train's chunk length
    assert {"160", "120", "64%", "100"} <= cells
    assert "200.0 GFLOP/s" in text and "the chunk `gancli train` runs" in text
    assert "MISS (-25%)" in text and "PASS (+0%)" in text
    assert "Where the time goes" not in text  # no profile, no profile table


def test_bench_environment_extends_the_run_environment():
    from gancli.machine import host

    env, run_env = machine.environment(), host.environment()
    assert set(run_env) < set(env)
    assert env["versions"] == run_env["versions"]
    for key in ("cpu_model", "cpu_count", "load_avg_start", "compilation_cache"):
        assert env[key] is not None, key


# ---- FLOP counting ------------------------------------------------------------------------


def program(**changes) -> GANProgram:
    cfg = resolve(Config(**{"hidden": 8, "depth": 1, "batch_size": 4, "z_dim": 3, **changes}))
    return GANProgram.build(cfg, RING)


def test_dense_layer_flops_are_2_in_out_per_sample():
    p = program()
    f = flops.analytic_step_flops(p)
    # G: 3 -> 8 -> 2, D: 2 -> 8 -> 1.
    assert f["g_layers"] == [2 * 3 * 8, 2 * 8 * 2]
    assert f["d_layers"] == [2 * 2 * 8, 2 * 8 * 1]


def hand_step_flops(z, h, x, batch, n_critic, simultaneous=False):
    """One hidden layer per network, counted matmul by matmul (2*in*out*batch each)."""

    def mm(i, o, n):
        return 2 * i * o * n

    B = batch
    g1, g2 = (z, h), (h, x)  # G layers (in, out)
    d1, d2 = (x, h), (h, 1)  # D layers
    # D update: G forward on B (no grad); D forward on 2B (real and fake); D backward on 2B:
    # weight gradients of both layers, input gradient of the second layer only (nothing
    # needs the gradient with respect to the data).
    d_update = (
        mm(*g1, B) + mm(*g2, B)
        + mm(*d1, 2 * B) + mm(*d2, 2 * B)
        + mm(*d1, 2 * B) + mm(*d2, 2 * B)
        + mm(*d2, 2 * B)
    )  # fmt: skip
    # G update: G forward, D forward on B; D input gradients (both layers: they reach G);
    # G weight gradients (both) and input gradient of its second layer.
    g_update = (
        mm(*g1, B) + mm(*g2, B)
        + mm(*d1, B) + mm(*d2, B)
        + mm(*d1, B) + mm(*d2, B)
        + mm(*g1, B) + mm(*g2, B)
        + mm(*g2, B)
    )  # fmt: skip
    if simultaneous:  # the G update reuses the D update's G forward and D(fake) forward
        g_update -= mm(*g1, B) + mm(*g2, B) + mm(*d1, B) + mm(*d2, B)
    return n_critic * d_update + g_update


@pytest.mark.parametrize(
    "loss, n_critic, updates",
    [("nsgan", 1, "alternating"), ("wgan", 5, "alternating"), ("nsgan", 1, "simultaneous")],
)
def test_step_flops_match_a_hand_count(loss, n_critic, updates):
    p = program(loss=loss, updates=updates)
    assert p.cfg.n_critic == n_critic
    want = hand_step_flops(z=3, h=8, x=2, batch=4, n_critic=n_critic,
                           simultaneous=updates == "simultaneous")  # fmt: skip
    assert flops.analytic_step_flops(p)["flops"] == want
    # Walking the traced step's jaxpr (n_critic scan included) finds the same matmuls.
    traced = flops.traced_step_flops(p, p.put_data(RING.array))
    if updates == "simultaneous":  # the jaxpr passes D over the fakes once per loss (XLA
        want += 2 * (2 * 8 + 8 * 1) * 4  # merges them): D's forward on B, 2 -> 8 -> 1
    assert traced == pytest.approx(want, rel=0.02)


def test_wide_mlp_step_is_about_0_82_gflop():
    # The brief's estimate: every matmul forward + 2x backward = 3x forward, 4 passes.
    cfg = resolve(Config(hidden=256, depth=3, batch_size=256, z_dim=16))
    p = GANProgram.build(cfg, RING)
    count = flops.analytic_step_flops(p)["flops"]
    g = 2 * (16 * 256 + 2 * 256 * 256 + 256 * 2)
    d = 2 * (2 * 256 + 2 * 256 * 256 + 256 * 1)
    # D step: G forward, D forward + 2 backward on 2B; G step: G 3x, D forward + input grads.
    rough = 256 * (g + 3 * 2 * d + 3 * g + 2 * d)
    assert rough == pytest.approx(0.82e9, rel=0.01)
    assert count == pytest.approx(rough, rel=0.01)  # differs by the first layers' dx only
    # XLA's own count of the lowered step (elementwise work included) agrees to a few %.
    state = p.abstract_one()
    lowered = jax.jit(partial(train_step, p)).lower(state, p.put_data(RING.array))
    xla = lowered.cost_analysis()["flops"]
    assert xla == pytest.approx(count, rel=0.03)


def test_transposed_conv_counts_only_real_taps():
    x = jnp.zeros((1, 4, 4, 8))
    k = jnp.zeros((4, 4, 8, 16))
    dn = ("NHWC", "HWIO", "NHWC")
    jaxpr = jax.make_jaxpr(
        lambda x, k: jax.lax.conv_transpose(x, k, (2, 2), "SAME", dimension_numbers=dn)
    )(x, k)
    # Every input pixel meets every 4x4 kernel tap once: 2 * 4*4 * 16 taps * 8 * 16.
    assert flops.jaxpr_flops(jaxpr.jaxpr) == 2 * (4 * 4) * (4 * 4) * 8 * 16


def test_sweep_bench_times_one_sweep_against_one_process_per_point(monkeypatch):
    """The commands it times (no process is started here) and the ratio it reports."""
    from gancli.bench import sweep as bench_sweep

    calls = []

    def fake_run(cmd, cache):
        calls.append(cmd)
        sweep = "," in cmd[cmd.index("--lr-g") + 1]
        # what train writes: its loop's wall time and its training rate after compiling
        out = Path(cmd[cmd.index("--out") + 1])
        out.mkdir(parents=True)
        loop, rate = (8.0, 400.0) if sweep else (1.5, 200.0)
        (out / "summary.json").write_text(
            json.dumps({"wall_time_s": loop, "seed_steps_per_s": rate})
        )
        return 10.0 if sweep else 2.0

    monkeypatch.setattr(bench_sweep, "_run", fake_run)
    r = bench_sweep.run_sweep_bench(steps=50, log=lambda m: None, model="narrow")
    sweep, singles = calls[0], calls[1:]
    assert len(singles) == 16 and r["points"] == 16
    assert sweep[sweep.index("--lr-g") + 1].count(",") == 3  # 4 x 4 values: one grid
    pairs = {(c[c.index("--lr-g") + 1], c[c.index("--lr-d") + 1]) for c in singles}
    assert len(pairs) == 16  # every point once, one per process
    assert all(c[c.index("--hidden") + 1] == "64" for c in calls)
    assert r["sweep_wall_s"] == 10.0 and r["separate_wall_s"] == 32.0 and r["speedup"] == 3.2
    # sweep: 32 replicas x 50 steps at 400/s = 4 s training, 8 - 4 compile + evaluation,
    # 10 - 8 start-up; each single process: 2 x 50 at 200/s = 0.5 s, 1.0 s, 0.5 s, x 16
    assert r["sweep_split_s"] == {"startup_s": 2.0, "compile_eval_s": 4.0, "train_s": 4.0}
    assert r["separate_split_s"] == {"startup_s": 8.0, "compile_eval_s": 16.0, "train_s": 8.0}
    assert r["speedup_ceiling"] == 8.0  # 32 s against the sweep's 4 s of training


def test_sweep_bench_rejects_an_unknown_model(capsys):
    from gancli.cli import main

    assert main(["bench", "--sweep", "--sweep-model", "huge"]) == 2
    assert "--sweep-model must be default or narrow" in capsys.readouterr().err


def test_bench_times_the_models_the_studies_use():
    """PacGAN's model as its preset trains it, the DCGAN and both weakened generators, at
    1, 10 and 32 seeds; the chunk is the one train runs for each."""
    from gancli.studies.reproduce_preset import load_preset

    paper = load_preset("pacgan_ring").config_for("nsgan", 300, seeds=10)
    cfg = configs.make_config(configs.CONFIGS["pacgan-ring-nsgan-S10"], 300)
    model = ("updates", "g_hidden", "g_depth", "g_batchnorm", "d_hidden", "d_depth",
             "d_maxout", "batch_size", "train_set_size", "beta1", "init_std",
             "bn_momentum")  # fmt: skip
    assert {k: getattr(cfg, k) for k in model} == {k: getattr(paper, k) for k in model}
    assert (cfg.updates, cfg.d_maxout, cfg.g_batchnorm, cfg.batch_size) == (
        "simultaneous", 5, True, 100)  # fmt: skip
    assert configs.chunk_length(cfg) == chunk_end(paper, 0)
    names = set(configs.DEFAULT_CONFIGS)
    for s in (1, 10, 32):
        assert {f"pacgan-ring-nsgan-S{s}", f"dcgan-digits-nsgan-S{s}"} <= names
    weak = {configs.CONFIGS[n].get("generator_variant") for n in names if n.startswith("dcgan")}
    assert weak == {None, "nobn-const", "mlp"}


def test_a_models_one_seed_baseline_is_measured_once_for_all_its_seed_counts(monkeypatch):
    measured: list[str] = []

    def fake_vmapped(name, overrides, *args, **kwargs):
        measured.append(name)
        s = overrides["seeds"]
        return _measurement(s, {1: 100.0, 8: 400.0, 32: 1200.0}[s], 10.0, 150.0)

    def fake_loop(name, *args, **kwargs):
        measured.append(f"{name} python-loop")
        return {**_measurement(1, 50.0, 5.0, 150.0), "seed_steps_per_s": 50.0}

    monkeypatch.setattr(suite, "measure_vmapped", fake_vmapped)
    monkeypatch.setattr(suite, "measure_python_loop", fake_loop)
    monkeypatch.setattr(suite, "_fresh_caches", lambda: None)
    monkeypatch.setattr(machine, "matmul_peak", lambda **kw: {"n": 8, "gflops": 100.0, "runs": 1})
    names = ["mlp-narrow-nsgan-S8", "mlp-narrow-nsgan-S32"]
    assert set(names) <= set(configs.DEFAULT_CONFIGS)  # the narrow MLP at 8 and 32 seeds
    result = suite.run_bench(configs=names, log=lambda m: None)
    assert measured == [*names, "mlp-narrow-nsgan-S1", "mlp-narrow-nsgan-S32 python-loop"]
    one = result["baselines"]["mlp-narrow-nsgan-S8"]["sequential-seeds"]["run"]
    assert result["baselines"]["mlp-narrow-nsgan-S32"]["sequential-seeds"]["run"] is one
    assert result["matmul_peak"]["measurements"] == 1 + 3 + 1  # start, 3 runs, the loop
    ratios = result["ratios"]
    assert ratios["mlp-narrow-nsgan-S8 / sequential-seeds"] == pytest.approx(4.0)
    assert ratios["mlp-narrow-nsgan-S32 / sequential-seeds"] == pytest.approx(12.0)
    # 32 seeds: 1e6/1200 us per seed-step against 8 seeds' 1e6/400
    assert ratios["mlp-narrow-nsgan-S32 cost per seed-step / S8"] == pytest.approx(1 / 3)


def test_per_seed_cost_at_32_seeds_is_against_the_models_8_or_10():
    measured = {
        "pacgan-ring-nsgan-S10": _measurement(10, 100.0, 50.0, 200.0),
        "pacgan-ring-nsgan-S32": _measurement(32, 80.0, 40.0, 200.0),
        "dcgan-digits-nsgan-S10": _measurement(10, 50.0, 130.0, 200.0),
    }
    for m in measured.values():
        m["frac_peak"] = m["gflops"] / 200.0
    ratios = table.ratios(measured, {})
    assert ratios == {"pacgan-ring-nsgan-S32 cost per seed-step / S10": pytest.approx(1.25)}
    by_what = {t["what"]: t for t in table.targets(measured, ratios)}
    assert not by_what["pacgan-ring-nsgan-S32 cost per seed-step / S10"]["pass"]  # > 1.10
    assert not by_what["pacgan-ring-nsgan-S10 fraction of matmul peak"]["pass"]  # 25% < 75%
    assert by_what["dcgan-digits-nsgan-S10 fraction of matmul peak"]["pass"]  # 65% >= 60%


# ---- the model's own matmuls, each timed alone (bench --profile) ---------------------------

LOOPED_DOTS_HLO = """HloModule m

%fused_dot (param_0: f32[4,8], param_1: f32[8,16]) -> f32[4,16] {
  %param_0 = f32[4,8]{1,0} parameter(0)
  %param_1 = f32[8,16]{1,0} parameter(1)
  ROOT %dot.1 = f32[4,16]{1,0} dot(%param_0, %param_1), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}

%body (p: (s32[], f32[4,8], f32[8,16])) -> (s32[], f32[4,8], f32[8,16]) {
  %p = (s32[], f32[4,8]{1,0}, f32[8,16]{1,0}) parameter(0)
  %a = f32[4,8]{1,0} get-tuple-element(%p), index=1
  %b = f32[8,16]{1,0} get-tuple-element(%p), index=2
  %ynn_fusion.1 = f32[4,16]{1,0} fusion(%a, %b), kind=kCustom, calls=%fused_dot
}

ENTRY %main (x: f32[3,4,8], w: f32[3,8,16]) -> f32[3,4,16] {
  %x = f32[3,4,8]{2,1,0} parameter(0)
  %w = f32[3,8,16]{2,1,0} parameter(1)
  %while.1 = (s32[], f32[4,8]{1,0}, f32[8,16]{1,0}) while(%t), condition=%cond, body=%body, backend_config={"known_trip_count":{"n":"5"}}
  ROOT %dot.2 = f32[3,4,16]{2,1,0} dot(%x, %w), lhs_batch_dims={0}, lhs_contracting_dims={2}, rhs_batch_dims={0}, rhs_contracting_dims={1}
}
"""  # noqa: E501


def test_hlo_dots_reads_shapes_dimension_numbers_flops_and_loop_trip_counts():
    dots = {d["name"]: d for d in ceiling.hlo_dots(LOOPED_DOTS_HLO)}
    assert set(dots) == {"dot.1", "dot.2"}
    looped, batched = dots["dot.1"], dots["dot.2"]
    assert (looped["lhs"], looped["rhs"]) == ((4, 8), (8, 16))
    assert looped["dimension_numbers"] == (((1,), (0,)), ((), ()))
    assert looped["flops"] == 2 * 4 * 16 * 8 and looped["runs"] == 5  # in a fusion in a loop
    assert batched["dimension_numbers"] == (((2,), (1,)), ((0,), (0,)))
    assert batched["flops"] == 2 * 3 * 4 * 16 * 8 and batched["runs"] == 1
    assert looped["trip_count_known"] and batched["trip_count_known"]
    assert looped["dtype"] == batched["dtype"] == "float32"
    # a loop whose trip count XLA did not record: its dots count once, and are flagged
    unknown = LOOPED_DOTS_HLO.replace(', backend_config={"known_trip_count":{"n":"5"}}', "")
    looped = {d["name"]: d for d in ceiling.hlo_dots(unknown)}["dot.1"]
    assert looped["runs"] == 1 and not looped["trip_count_known"]
    alone = ceiling.dots_alone(LOOPED_DOTS_HLO)
    assert alone["dots"] == 2 and alone["shapes"] == 2 and alone["trip_count_unknown"] == 0
    assert alone["convolutions_not_timed"] == 0
    assert alone["flops"] == 5 * 1024 + 3072 and positive_finite(alone["gflops"])


def test_a_compiled_wgan_chunks_dots_carry_the_steps_hand_counted_flops():
    # The critic's n_critic = 5 updates are a loop inside the step: counted once each, the
    # dots would carry about a third of the step's FLOPs.
    cfg = resolve(Config(loss="wgan", hidden=32, depth=2, batch_size=16, z_dim=8, seeds=2))
    p = GANProgram.build(cfg, RING)
    data = p.put_data(RING.array)
    text = step_lib.chunk.lower(p, p.init(), data, length=3).compile().as_text()
    dots = ceiling.hlo_dots(text)
    assert {d["runs"] for d in dots} == {3, 15}  # the chunk's 3 steps; 5 critic updates each
    per_seed_step = sum(d["runs"] * d["flops"] for d in dots) / (3 * cfg.seeds)
    assert per_seed_step == pytest.approx(flops.analytic_step_flops(p)["flops"], rel=0.01)
