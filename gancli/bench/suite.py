"""`gancli bench`: the figures behind "Speed and scale".

For each configuration, after warm-up:

* seed-steps/s: generator steps x seeds per second of wall time, timing whole compiled
  chunks (`program.run_chunk`-style: vmap over seeds, scan over steps, donated state).
  A WGAN generator step includes its n_critic critic updates. The timed section is split
  into WINDOWS windows and the fastest is the figure (the median is kept): on a VM the
  neighbours come and go, and the fastest window is the one they disturbed least.
* compile time: trace + lower (`jit(...).lower`) and XLA compile (`.compile()`) of a freshly
  built chunk function, with the persistent compilation cache off.
* memory: the process's peak resident set size (Linux VmHWM, reset before each configuration
  through /proc/self/clear_refs, so the figure covers that configuration's compile and run;
  `ru_maxrss` where that is unavailable), the process lifetime peak (`ru_maxrss`), and the
  bytes of the training state. `jax.devices()[0].memory_stats()` is recorded too; on CPU it
  is None (the CPU client keeps no allocator statistics), so RSS is the meaningful figure.
* arithmetic rate: analytic useful FLOPs per seed-step x seed-steps/s, as a fraction of the
  float32 matmul peak measured in the same run: the best of several jitted 2048^3 matmuls at
  the start (after a second of untimed matmuls: a cold first measurement came out 4x low)
  and again right after every timed section (the best of all of them is the peak;
  the one right after each section is kept too, as "matmul_gflops_adjacent").

Useful FLOPs are counted from the layer shapes (`analytic_step_flops`): 2*in*out per sample
for a Dense layer (2*out_pixels*k*k*c_in*c_out for a conv; a stride-2 transposed conv counts
its non-zero taps only), forward once, backward twice (weight and input gradients) except the
input gradient of a network's first layer, which no update needs. Layers written as matmuls
count as written: the DCGAN's transposed convs (one matmul per 2x2 output block, border blocks
included) come to 1010 MFLOP per seed-step against 855 for the same convs counted as convs.
Two cross-checks are kept in
the result: the same count walked over the traced jaxpr of one step (`traced_step_flops`,
which multiplies scan bodies by their length) and XLA's `cost_analysis()` of the compiled
chunk divided by the seed count. XLA counts every while/scan body once (so it misses the
n_critic - 1 extra critic updates of a WGAN step) and adds elementwise work, so it is a
cross-check only.

With `profile=True` (`gancli bench --profile`) each chunk is also run under jax.profiler and
its operation time split into matmul / elementwise / copy / control (`gancli.bench.profile`):
the "why" behind a missed target.

Timings are wall-clock. On a shared machine treat them as provisional: the result records
the load averages and, per section, process CPU seconds beside wall seconds (a 2-CPU run
whose threads had both CPUs shows close to 2 CPU-seconds per second).
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import platform
import resource
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core as jex_core

from gancli import config as config_lib
from gancli import data as data_lib
from gancli.bench import profile as profiling
from gancli.config import Config
from gancli.core.step import GANProgram, chunk, train_step

MATMUL_N = 2048
TARGET_SECONDS = 2.0  # every timed section lasts at least this long (full run)
QUICK_TARGET_SECONDS = 0.15
CHUNK_SECONDS = 0.4  # aim for compiled chunks of about this long, but
MIN_CHUNK = 8  # at least this many steps: 1-step chunks cost 20-25% more per step than 8
MAX_CHUNK = 500
WINDOWS = 3  # timed windows per section; the fastest is reported, the median kept
PEAK_WARMUP_S = 1.0  # run the matmul this long before timing it (thread pool, clocks)

MLP_WIDE = dict(dataset="ring8", hidden=256, depth=3, batch_size=256, z_dim=16)
MLP_NARROW = dict(dataset="ring8", hidden=64, depth=3, batch_size=64, z_dim=16)
# The brief fixes dataset, image size and features; batch 64 and z 16 are our choice.
DCGAN = dict(dataset="digits", image_size=16, hidden=32, batch_size=64, z_dim=16)
TINY = dict(dataset="ring8", hidden=16, depth=1, batch_size=32, z_dim=2)  # `quick` only


def _configs() -> dict[str, dict]:
    out = {}
    for loss in ("nsgan", "wgan"):
        for s in (1, 8, 32):
            out[f"mlp-wide-{loss}-S{s}"] = dict(MLP_WIDE, loss=loss, seeds=s)
    out["mlp-narrow-nsgan-S32"] = dict(MLP_NARROW, loss="nsgan", seeds=32)
    for s in (1, 4):
        out[f"dcgan-digits-nsgan-S{s}"] = dict(DCGAN, loss="nsgan", seeds=s)
    return out


DEFAULT_CONFIGS: list[str] = list(_configs())
CONFIGS: dict[str, dict] = {
    **_configs(),
    # Not in the default list: the sequential-seeds baseline of the narrow MLP (measured as
    # that baseline anyway), and the smoke-test configuration of `quick`.
    "mlp-narrow-nsgan-S1": dict(MLP_NARROW, loss="nsgan", seeds=1),
    "mlp-tiny-nsgan-S4": dict(TINY, loss="nsgan", seeds=4),
    "mlp-tiny-nsgan-S1": dict(TINY, loss="nsgan", seeds=1),
}
QUICK_CONFIGS = ["mlp-tiny-nsgan-S4"]
# Configurations also timed as a Python loop of a jitted single step, one seed at a time.
PYTHON_LOOP = ("mlp-wide-nsgan-S32", "mlp-narrow-nsgan-S32", "mlp-tiny-nsgan-S4")
# Upper bounds the brief sets; checked, printed, never asserted.
TARGET_FRAC_PEAK = 0.70
TARGET_S32_OVER_S8 = 1.10
TARGET_VS_PYTHON_LOOP = 10.0
TARGET_COMPILE_MLP_S = 5.0
TARGET_COMPILE_DCGAN_S = 30.0
TARGET_MEMORY_MIB = 1024.0


# ---- FLOP counting ------------------------------------------------------------------------


def _sub_jaxprs(params: dict) -> Iterable:
    for v in params.values():
        for item in v if isinstance(v, list | tuple) else (v,):
            if isinstance(item, jex_core.ClosedJaxpr):
                yield item.jaxpr
            elif isinstance(item, jex_core.Jaxpr):
                yield item


def _eqn_flops(eqn) -> float:
    """Multiply-add FLOPs (2 per MAC) of one dot_general or convolution, else 0."""
    name = eqn.primitive.name
    out = eqn.outvars[0].aval.shape
    if name == "dot_general":
        (lhs_contract, _), _ = eqn.params["dimension_numbers"]
        lhs = eqn.invars[0].aval.shape
        return 2.0 * math.prod(out) * math.prod(lhs[i] for i in lhs_contract)
    if name == "conv_general_dilated":
        rhs = eqn.invars[1].aval.shape
        spec = eqn.params["dimension_numbers"].rhs_spec  # (out feature, in feature, spatial...)
        taps = math.prod(rhs[i] for i in spec[2:]) * rhs[spec[1]]
        # A transposed (input-dilated) conv multiplies by inserted zeros; count real taps only.
        dilation = math.prod(eqn.params.get("lhs_dilation") or (1,))
        return 2.0 * math.prod(out) * taps / dilation
    return 0.0


def jaxpr_flops(jaxpr, per_op: list[float] | None = None) -> float:
    """Matmul/conv FLOPs of a jaxpr, scan bodies times their length, in program order.

    while-loop bodies count once (their trip count is not static); cond branches are summed.
    `per_op`, if given, receives the FLOPs of each matmul/conv in order (with scan length).
    """
    total = 0.0
    for eqn in jaxpr.eqns:
        f = _eqn_flops(eqn)
        if f:
            total += f
            if per_op is not None:
                per_op.append(f)
            continue
        mult = eqn.params.get("length", 1) if eqn.primitive.name == "scan" else 1
        for sub in _sub_jaxprs(eqn.params):
            inner: list[float] | None = [] if per_op is not None else None
            total += mult * jaxpr_flops(sub, inner)
            if per_op is not None:
                per_op.extend(mult * f for f in inner)
    return total


def forward_layer_flops(module, variables, sample_shape: tuple[int, ...]) -> list[float]:
    """FLOPs per sample of each matmul/conv in one forward pass, input layer first."""
    x = jax.ShapeDtypeStruct((1, *sample_shape), jnp.float32)
    closed = jax.make_jaxpr(lambda v, x: module.apply(v, x, train=False))(variables, x)
    per_op: list[float] = []
    jaxpr_flops(closed.jaxpr, per_op)
    return per_op


def update_flops(g_layers: list[float], d_layers: list[float], batch: int, n_critic: int) -> float:
    """Useful FLOPs of one generator step (n_critic D updates, one G update) of one seed.

    g_layers/d_layers: per-sample forward FLOPs of each layer, input layer first. Backward of
    a layer costs its forward twice (weight gradient, input gradient); a network's first
    layer needs no input gradient when only its parameters are differentiated.
      D update: G forward on B; D forward and weight gradients on 2B (real + fake); D input
                gradients on 2B for all but D's first layer.
      G update: G forward, weight gradients and input gradients but the first on B;
                D forward and input gradients (all layers, they reach G) on B.
    """
    G, D = sum(g_layers), sum(d_layers)
    d_update = G + 2 * D + 2 * D + 2 * (D - d_layers[0])
    g_update = G + G + (G - g_layers[0]) + D + D
    return float(batch * (n_critic * d_update + g_update))


def analytic_step_flops(program: GANProgram) -> dict:
    """Useful FLOPs per generator step of one seed, from the networks' layer shapes."""
    cfg, data = program.cfg, program.data
    g_vars = jax.eval_shape(
        lambda k: program.generator.init(k, jnp.zeros((2, cfg.z_dim)), train=False),
        jax.random.key(0),
    )
    d_vars = jax.eval_shape(
        lambda k: program.discriminator.init(k, jnp.zeros((2, *data.sample_shape)), train=False),
        jax.random.key(0),
    )
    g = forward_layer_flops(program.generator, g_vars, (cfg.z_dim,))
    d = forward_layer_flops(program.discriminator, d_vars, tuple(data.sample_shape))
    return {
        "g_layers": g,
        "d_layers": d,
        "flops": update_flops(g, d, cfg.batch_size, cfg.n_critic),
    }


def traced_step_flops(program: GANProgram, data_array) -> float:
    """Matmul/conv FLOPs in the traced jaxpr of one step of one seed (before XLA's DCE)."""
    state = program.abstract_one()
    closed = jax.make_jaxpr(partial(train_step, program))(state, data_array)
    return jaxpr_flops(closed.jaxpr)


# ---- environment and measurement helpers --------------------------------------------------


@contextlib.contextmanager
def compilation_cache_off():
    """Turn the persistent compilation cache off, and back on as it was afterwards.

    In jax 0.10 setting `jax_enable_compilation_cache` False (or `jax_compilation_cache_dir`
    None) alone is not enough once the process has compiled anything: whether the cache is
    used is decided once and memoised, so a later compile still writes (and may read) it.
    `reset_cache()` drops that decision; we reset again on the way out.
    """
    from jax.experimental.compilation_cache import compilation_cache as cc

    was = jax.config.jax_enable_compilation_cache
    jax.config.update("jax_enable_compilation_cache", False)
    cc.reset_cache()
    try:
        yield
    finally:
        jax.config.update("jax_enable_compilation_cache", was)
        cc.reset_cache()


def _read_status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mib(reset_ok: bool) -> float:
    """Peak RSS since the last reset (VmHWM) or, failing that, over the process's life."""
    kib = _read_status_kib("VmHWM") if reset_ok else None
    return (kib if kib is not None else lifetime_peak_rss_kib()) / 1024


def lifetime_peak_rss_kib() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 if platform.system() == "Darwin" else float(r)  # bytes on macOS


def current_rss_mib() -> float | None:
    kib = _read_status_kib("VmRSS")
    return None if kib is None else kib / 1024


def device_memory_stats() -> dict | None:
    try:
        stats = jax.devices()[0].memory_stats()
    except Exception:  # noqa: BLE001 - some backends raise instead of returning None
        return None
    return {k: int(v) for k, v in stats.items()} if stats else None


def tree_bytes(tree) -> int:
    return int(sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(tree)))


def environment() -> dict:
    import jaxlib

    devices = jax.devices()
    return {
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in devices],
        "device_kind": devices[0].device_kind,
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "processor": _cpu_model(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "load_avg_start": list(os.getloadavg()),
        "compilation_cache": "off (persistent cache disabled and reset for the run)",
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def matmul_peak(n: int = MATMUL_N, runs: int = 8, warmup_s: float = 0.0) -> dict:
    """This machine's float32 matmul rate: a jitted n x n @ n x n, best of `runs`."""
    ka, kb = jax.random.split(jax.random.key(0))
    a = jax.random.normal(ka, (n, n), jnp.float32)
    b = jax.random.normal(kb, (n, n), jnp.float32)
    f = jax.jit(jnp.matmul)
    f(a, b).block_until_ready()  # compile
    t0 = time.perf_counter()  # a cold start (idle threads, clock ramp) measures 4x slower
    while time.perf_counter() - t0 < warmup_s:
        f(a, b).block_until_ready()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f(a, b).block_until_ready()
        times.append(time.perf_counter() - t)
    flops = 2.0 * n**3
    return {
        "n": n,
        "flops": flops,
        "runs": runs,
        "best_s": min(times),
        "median_s": float(np.median(times)),
        "gflops": flops / min(times) / 1e9,
        "gflops_median": flops / float(np.median(times)) / 1e9,
    }


def make_config(overrides: dict) -> Config:
    return config_lib.resolve(Config(**overrides))


def _devices_for(seeds: int):
    """All devices when the seeds split evenly over them, else the first device only."""
    devices = jax.devices()
    return None if seeds % len(devices) == 0 else [devices[0]]


def _chunk_length(flops_per_step: float, peak_flops: float, per_step_overhead: float = 2e-4):
    """Steps per compiled chunk: about CHUNK_SECONDS long (a guess is enough), at least
    MIN_CHUNK steps, since training runs chunks of log_every (100 by default) steps."""
    est = flops_per_step / (0.4 * peak_flops) + per_step_overhead
    return int(min(MAX_CHUNK, max(MIN_CHUNK, round(CHUNK_SECONDS / est))))


def _timed_calls(call: Callable[[], Any], target_s: float, max_calls: int | None) -> tuple:
    """Call (each returns something to block on) until target_s passed or max_calls made.

    Returns (calls, wall seconds, process CPU seconds).
    """
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while True:
        jax.block_until_ready(call())
        n += 1
        elapsed = time.perf_counter() - t0
        done = n >= max_calls if max_calls is not None else elapsed >= target_s
        if done:
            return n, elapsed, time.process_time() - c0


def _timed_windows(call: Callable[[], Any], target_s: float, max_calls: int | None) -> dict:
    """WINDOWS back-to-back timed windows of _timed_calls; the fastest one is the figure.

    On a machine shared with anything else (a VM neighbour, a browser), a slow window
    measures the neighbour; the fastest window is the least disturbed, as `timeit` does.
    The median window is kept alongside.
    """
    per_window = max(1, math.ceil(max_calls / WINDOWS)) if max_calls else None
    windows = [_timed_calls(call, target_s / WINDOWS, per_window) for _ in range(WINDOWS)]
    rates = [n / wall for n, wall, _ in windows]
    best = int(np.argmax(rates))
    calls, wall, cpu = windows[best]
    return {
        "calls": calls,
        "seconds": wall,
        "cpu_seconds": cpu,
        "calls_per_s_windows": rates,
        "calls_per_s_median": float(np.median(rates)),
    }


def _fresh_caches():
    gc.collect()
    jax.clear_caches()


# ---- one configuration --------------------------------------------------------------------


def measure_vmapped(
    name: str,
    overrides: dict,
    peak_flops: float,
    target_s: float,
    steps: int | None,
    datasets: dict,
    log=print,
    matmul_runs: int = 3,
    profile: bool = False,
) -> dict:
    """Compile and time the vmapped, scanned chunk of one configuration.

    The matmul rate is measured again right after the timed section ("adjacent"): on a
    shared machine it tells how much of the CPU this configuration had.
    """
    cfg = make_config(overrides)
    data = _dataset(datasets, cfg)
    reset_ok = reset_peak_rss()
    rss_before = current_rss_mib()
    program = GANProgram.build(cfg, data, devices=_devices_for(cfg.seeds))
    flops = analytic_step_flops(program)
    data_array = program.put_data(data.array)
    traced = traced_step_flops(program, data_array)
    per_step = flops["flops"] * cfg.seeds
    length = min(steps, MAX_CHUNK) if steps else _chunk_length(per_step, peak_flops)
    max_calls = max(1, math.ceil(steps / length)) if steps else None

    state = program.init()
    jax.block_until_ready(state)
    log(f"  {name}: compiling a chunk of {length} steps x {cfg.seeds} seeds ...")
    # Trace, lower and compile the chunk `gancli train` runs (the persistent cache is off).
    t0 = time.perf_counter()
    lowered = chunk.lower(program, state, data_array, length=length)
    t1 = time.perf_counter()
    compiled = lowered.compile()
    t2 = time.perf_counter()
    compile_peak = peak_rss_mib(reset_ok)
    xla_flops = _xla_flops(compiled)

    holder = {"state": state}

    def call():
        holder["state"], metrics = compiled(holder["state"], data_array)
        return holder["state"], metrics

    tw = time.perf_counter()
    jax.block_until_ready(call())  # warm-up
    warmup_s = time.perf_counter() - tw
    run_reset = reset_peak_rss() if reset_ok else False
    timing = _timed_windows(call, target_s, max_calls)
    calls, elapsed, cpu_s = timing["calls"], timing["seconds"], timing["cpu_seconds"]
    run_peak = peak_rss_mib(run_reset) if run_reset else None
    prof = None
    if profile:  # after the timed windows, so the profiler's overhead is not in them
        prof = profiling.profile_calls(call, compiled.as_text(), max(2, min(calls, 5)), length)
    adjacent = matmul_peak(runs=matmul_runs)["gflops"]
    seed_steps = calls * length * cfg.seeds
    rate = seed_steps / elapsed
    finite = bool((np.asarray(holder["state"].diverged_at) < 0).all())
    result = {
        "config": {k: getattr(cfg, k) for k in _CONFIG_FIELDS},
        "devices": len(program.mesh.devices.flat) if program.mesh is not None else 1,
        "chunk_length": length,
        "seed_group": program.seed_group,  # seeds vmapped together; groups run in turn
        "calls": calls,
        "steps_timed": calls * length,
        "seconds": elapsed,
        "cpu_seconds": cpu_s,  # process CPU time, all threads (compare: seconds x cores)
        "warmup_s": warmup_s,
        "seed_steps": seed_steps,
        "seed_steps_per_s": rate,
        "seed_steps_per_s_median_window": timing["calls_per_s_median"] * length * cfg.seeds,
        "seed_steps_per_s_windows": [r * length * cfg.seeds for r in timing["calls_per_s_windows"]],
        "ms_per_step": 1e3 * elapsed / (calls * length),  # one step of all seeds
        "us_per_seed_step": 1e6 / rate,
        "lower_s": t1 - t0,
        "xla_compile_s": t2 - t1,
        "compile_s": t2 - t0,
        "flops_per_seed_step": flops["flops"],
        "flops_traced_per_seed_step": traced,
        "flops_xla_per_seed_step": xla_flops / cfg.seeds if xla_flops else None,
        "gflops": rate * flops["flops"] / 1e9,
        "frac_peak": rate * flops["flops"] / peak_flops,  # updated to the run's best peak
        "matmul_gflops_adjacent": adjacent,
        "frac_adjacent_matmul": rate * flops["flops"] / 1e9 / adjacent,
        "peak_rss_mib": max(compile_peak, run_peak or 0.0),
        "compile_peak_rss_mib": compile_peak,
        "run_peak_rss_mib": run_peak,
        "rss_before_mib": rss_before,
        "lifetime_peak_rss_mib": lifetime_peak_rss_kib() / 1024,
        "peak_rss_source": "VmHWM since reset" if reset_ok else "ru_maxrss (process lifetime)",
        "state_mib": tree_bytes(holder["state"]) / 2**20,
        "device_memory_stats": device_memory_stats(),
        "no_divergence": finite,
    }
    if prof is not None:
        result["profile"] = prof
    log(
        f"  {name}: {rate:,.0f} seed-steps/s, {result['gflops']:.1f} GFLOP/s "
        f"({100 * result['gflops'] * 1e9 / max(peak_flops, adjacent * 1e9):.0f}% of the best "
        f"matmul so far; matmul right after {adjacent:.0f} GFLOP/s), "
        f"compile {result['compile_s']:.1f} s"
    )
    return result


def measure_python_loop(
    name: str,
    overrides: dict,
    target_s: float,
    steps: int | None,
    datasets: dict,
    log=print,
    matmul_runs: int = 3,
) -> dict:
    """One seed at a time: a Python loop over `jax.jit(program.step_one)`, no vmap, no scan.

    Only one seed is run; S seeds would take S times as long (seeds never interact), so
    seed-steps/s of one seed is also the loop's rate for S seeds (extrapolated). Steps are
    dispatched back to back without reading metrics, the most favourable form of this loop.
    """
    cfg = make_config({**overrides, "seeds": 1})
    data = _dataset(datasets, cfg)
    program = GANProgram.build(cfg, data, devices=[jax.devices()[0]])
    data_array = program.put_data(data.array)
    state = jax.tree.map(lambda x: x[0], program.init())
    t0 = time.perf_counter()
    # The executable jax.jit(step_one) would run; calling it directly dispatches as fast.
    step = jax.jit(partial(train_step, program)).lower(state, data_array).compile()
    compile_s = time.perf_counter() - t0
    jax.block_until_ready(step(state, data_array))  # warm-up
    holder = {"state": state}

    def run(n):
        s = holder["state"]
        for _ in range(n):
            s, m = step(s, data_array)
        holder["state"] = s
        return s, m

    # Pilot, then one timed loop long enough for target_s.
    tp = time.perf_counter()
    jax.block_until_ready(run(10))
    per_step = (time.perf_counter() - tp) / 10
    window_s = target_s / WINDOWS
    n = math.ceil(steps / WINDOWS) if steps else int(min(20000, max(50, window_s / per_step)))
    timing = _timed_windows(lambda: run(n), target_s, WINDOWS)  # one call = n steps
    elapsed, cpu_s = timing["seconds"], timing["cpu_seconds"]
    adjacent = matmul_peak(runs=matmul_runs)["gflops"]
    rate = n / elapsed
    log(f"  {name} python-loop: {rate:,.0f} seed-steps/s over {n} steps of one seed")
    result = {
        "steps_timed": n,
        "seconds": elapsed,
        "cpu_seconds": cpu_s,
        "seed_steps_per_s": rate,
        "seed_steps_per_s_median_window": timing["calls_per_s_median"] * n,
        "us_per_seed_step": 1e6 / rate,
        "compile_s": compile_s,
        "matmul_gflops_adjacent": adjacent,
        "flops_xla_per_seed_step": _xla_flops(step),
        "extrapolated_seeds": overrides["seeds"],
        "note": f"one seed measured; {overrides['seeds']} seeds extrapolated as "
        f"{overrides['seeds']} x the time (seed-steps/s unchanged)",
    }
    return result


def _xla_flops(compiled) -> float | None:
    try:
        cost = compiled.cost_analysis()
    except Exception:  # noqa: BLE001 - not every backend implements it
        return None
    if isinstance(cost, list | tuple):
        cost = cost[0] if cost else None
    flops = (cost or {}).get("flops")
    return float(flops) if flops and flops > 0 else None


def _dataset(cache: dict, cfg: Config):
    key = (cfg.dataset, cfg.image_size)
    if key not in cache:
        cache[key] = data_lib.load(cfg.dataset, cfg.image_size)
    return cache[key]


_CONFIG_FIELDS = (
    "dataset", "loss", "seeds", "hidden", "depth", "batch_size", "z_dim", "n_critic",
    "optimizer", "image_size",
)  # fmt: skip


# ---- the whole run ------------------------------------------------------------------------


def _seed_count(name: str) -> int:
    return int(name.rsplit("-S", 1)[1])


def _base(name: str) -> str:
    return name.rsplit("-S", 1)[0]


def run_bench(
    quick: bool = False,
    steps: int | None = None,
    configs: list[str] | None = None,
    log=print,
    profile: bool = False,
) -> dict:
    """Measure every configuration (see the module docstring); returns a JSON-ready dict.

    quick: a smoke run (one dispatch-bound config and its baselines, ~0.15 s timed sections).
    steps: generator steps timed per configuration (per seed) instead of "at least 2 s".
    configs: names from CONFIGS (default: all; quick: QUICK_CONFIGS).
    profile: also profile each configuration's chunk (`gancli.bench.profile`): op time by kind.
    """
    names = list(configs) if configs is not None else (QUICK_CONFIGS if quick else DEFAULT_CONFIGS)
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        raise ValueError(f"unknown bench configuration(s) {unknown}: choose from {list(CONFIGS)}")
    if steps is not None and steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    target_s = QUICK_TARGET_SECONDS if quick else TARGET_SECONDS
    t_start = time.perf_counter()
    result: dict[str, Any] = {
        "quick": quick,
        "steps": steps,
        "target_seconds": target_s,
        "windows": WINDOWS,
    }
    with compilation_cache_off():
        result["env"] = environment()
        log(
            f"bench: jax {jax.__version__} on {result['env']['backend']}, "
            f"{len(jax.devices())} device(s), {os.cpu_count()} CPUs"
        )
        peak = matmul_peak(runs=3 if quick else 8, warmup_s=0.0 if quick else PEAK_WARMUP_S)
        result["matmul_peak"] = peak
        log(f"  float32 matmul {MATMUL_N}^3: {peak['gflops']:.1f} GFLOP/s (best of {peak['runs']})")
        peak_flops = peak["gflops"] * 1e9
        datasets: dict = {}
        measured: dict[str, dict] = {}
        mm_runs = 2 if quick else 3
        for name in names:
            measured[name] = measure_vmapped(
                name, CONFIGS[name], peak_flops, target_s, steps, datasets, log, mm_runs, profile
            )
            peak_flops = max(peak_flops, 1e9 * measured[name]["matmul_gflops_adjacent"])
            _fresh_caches()  # drop this configuration's executables before the next
        result["configs"] = measured

        # Slow ways, same work: sequential seeds (S=1 chunks, one seed after another) for
        # every multi-seed configuration, and a Python loop of single steps for PYTHON_LOOP.
        baselines: dict[str, dict] = {}
        for name in [n for n in names if _seed_count(n) > 1]:
            s1 = f"{_base(name)}-S1"
            if s1 in measured:
                seq = {**_seq_from(measured[s1]), "source": s1}
            else:
                over = CONFIGS.get(s1, {**CONFIGS[name], "seeds": 1})
                one = measure_vmapped(s1, over, peak_flops, target_s, steps, datasets, log, mm_runs)
                _fresh_caches()
                seq = {**_seq_from(one), "source": "measured for this comparison", "run": one}
            entry = {"sequential-seeds": seq}
            if name in PYTHON_LOOP:
                entry["python-loop"] = measure_python_loop(
                    name, CONFIGS[name], target_s, steps, datasets, log, mm_runs
                )
                _fresh_caches()
            baselines[name] = entry
        result["baselines"] = baselines
        _use_best_peak(result)
        result["ratios"] = _ratios(measured, baselines)
        result["targets"] = _targets(measured, result["ratios"])
        result["env"]["load_avg_end"] = list(os.getloadavg())
        result["total_s"] = time.perf_counter() - t_start
    return result


def _use_best_peak(result: dict) -> None:
    """The peak is the best matmul rate seen in the whole run (start and after each config):
    on a shared machine a single measurement can fall in a busy moment."""
    peak = result["matmul_peak"]
    runs = [m for m in result["configs"].values()]
    runs += [
        e["sequential-seeds"]["run"]
        for e in result["baselines"].values()
        if "run" in e["sequential-seeds"]
    ]
    adjacent = [m["matmul_gflops_adjacent"] for m in runs]
    adjacent += [
        e["python-loop"]["matmul_gflops_adjacent"]
        for e in result["baselines"].values()
        if "python-loop" in e
    ]
    peak["gflops_start"] = peak["gflops"]
    peak["gflops"] = max([peak["gflops"], *adjacent])
    peak["measurements"] = 1 + len(adjacent)
    for m in runs:
        m["frac_peak"] = m["gflops"] / peak["gflops"]
        prof = m.get("profile")
        if prof and prof.get("available") and prof["share"]["matmul"] > 0:
            # The rate if everything but the matmul kernels took no time.
            prof["matmul_only_frac_peak"] = m["frac_peak"] / prof["share"]["matmul"]


def _seq_from(one: dict) -> dict:
    return {
        "seed_steps_per_s": one["seed_steps_per_s"],
        "us_per_seed_step": one["us_per_seed_step"],
        "compile_s": one["compile_s"],
    }


def _ratios(measured: dict, baselines: dict) -> dict:
    out: dict[str, float] = {}
    for name, entry in baselines.items():
        rate = measured[name]["seed_steps_per_s"]
        if "python-loop" in entry:
            out[f"{name} / python-loop"] = rate / entry["python-loop"]["seed_steps_per_s"]
        out[f"{name} / sequential-seeds"] = rate / entry["sequential-seeds"]["seed_steps_per_s"]
    for name in measured:
        if _seed_count(name) == 32 and f"{_base(name)}-S8" in measured:
            s8 = measured[f"{_base(name)}-S8"]["us_per_seed_step"]
            out[f"{name} cost per seed-step / S8"] = measured[name]["us_per_seed_step"] / s8
    return out


def _target(what: str, value: float, target: float, higher_is_better: bool, unit: str) -> dict:
    ok = value >= target if higher_is_better else value <= target
    # Margin: how far inside (+) or outside (-) the target, relative to the target.
    margin = value / target - 1 if higher_is_better else 1 - value / target
    return {
        "what": what,
        "value": value,
        "target": target,
        "op": ">=" if higher_is_better else "<=",
        "unit": unit,
        "pass": bool(ok),
        "margin": margin,
    }


def _targets(measured: dict, ratios: dict) -> list[dict]:
    out = []
    for name, m in measured.items():
        if name.startswith("mlp-wide") and _seed_count(name) == 8:
            out.append(
                _target(
                    f"{name} fraction of matmul peak",
                    m["frac_peak"],
                    TARGET_FRAC_PEAK,
                    True,
                    "x peak",
                )
            )
    for key, v in ratios.items():
        if key.endswith("cost per seed-step / S8"):
            out.append(_target(key, v, TARGET_S32_OVER_S8, False, "x"))
    for key, v in ratios.items():
        if key.startswith("mlp-narrow") and key.endswith("/ python-loop"):
            out.append(_target(key, v, TARGET_VS_PYTHON_LOOP, True, "x"))
    for name, m in measured.items():
        limit = TARGET_COMPILE_DCGAN_S if name.startswith("dcgan") else TARGET_COMPILE_MLP_S
        out.append(_target(f"{name} compile", m["compile_s"], limit, False, "s"))
    for name, m in measured.items():
        if m["config"]["dataset"] == "ring8" and _seed_count(name) == 32:
            out.append(
                _target(f"{name} peak RSS", m["peak_rss_mib"], TARGET_MEMORY_MIB, False, "MiB")
            )
    return out


# ---- printing -----------------------------------------------------------------------------


def _verdict(t: dict) -> str:
    return f"{'PASS' if t['pass'] else 'MISS'} ({100 * t['margin']:+.0f}%)"


def format_table(result: dict) -> list:
    """Rich tables: per-configuration figures, slow ways and ratios, targets."""
    from rich.table import Table

    env, peak = result["env"], result["matmul_peak"]
    mem = (
        "none on CPU"
        if all(m["device_memory_stats"] is None for m in result["configs"].values())
        else "see JSON"
    )
    caption = (
        f"jax {env['jax']} {env['backend']}, {len(env['devices'])} device(s), "
        f"{env['cpu_count']} CPUs ({env['processor']}); load avg "
        f"{env['load_avg_start'][0]:.1f} -> {env.get('load_avg_end', [float('nan')])[0]:.1f}. "
        f"% peak: of {peak['gflops']:.1f} GFLOP/s, the best {peak['n']}^3 f32 matmul of "
        f"{peak.get('measurements', 1)} measurements in this run. CPUs busy: process CPU s / "
        "wall s (below the CPU count: threads waited or the machine was shared). Peak RSS: "
        f"process VmHWM over compile + run, JAX runtime included (device memory_stats: {mem}). "
        "Compile cache off."
    )
    main = Table(title="gancli bench: seeds x scanned steps in one compiled call", caption=caption)
    columns = [
        "config",
        "S",
        "vmap group",
        "steps",
        "seed-steps/s",
        "ms/step",
        "MFLOP/seed-step",
        "GFLOP/s",
        "% peak",
        "CPUs busy",
        "compile s (lower+xla)",
        "peak RSS MiB",
        "state MiB",
    ]
    for col in columns:
        main.add_column(col, justify="left" if col == "config" else "right")
    for name, m in result["configs"].items():
        main.add_row(
            name,
            str(m["config"]["seeds"]),
            str(m["seed_group"]),
            f"{m['steps_timed']}",
            f"{m['seed_steps_per_s']:,.0f}",
            f"{m['ms_per_step']:.2f}",
            f"{m['flops_per_seed_step'] / 1e6:.1f}",
            f"{m['gflops']:.1f}",
            f"{100 * m['frac_peak']:.0f}%",
            f"{m['cpu_seconds'] / m['seconds']:.1f}",
            f"{m['compile_s']:.1f} ({m['lower_s']:.1f}+{m['xla_compile_s']:.1f})",
            f"{m['peak_rss_mib']:.0f}",
            f"{m['state_mib']:.1f}",
        )

    slow = Table(title="Same work, slow ways (seed-steps/s)")
    for col in (
        "config",
        "one call",
        "sequential-seeds",
        "python-loop",
        "one call / seq",
        "one call / loop",
    ):
        slow.add_column(col, justify="left" if col == "config" else "right")
    for name, entry in result["baselines"].items():
        rate = result["configs"][name]["seed_steps_per_s"]
        seq = entry["sequential-seeds"]["seed_steps_per_s"]
        loop = entry.get("python-loop", {}).get("seed_steps_per_s")
        slow.add_row(
            name,
            f"{rate:,.0f}",
            f"{seq:,.0f}",
            f"{loop:,.0f}*" if loop else "-",
            f"{rate / seq:.1f}x",
            f"{rate / loop:.1f}x" if loop else "-",
        )
    slow.caption = (
        "one call: S seeds x a chunk of steps per compiled call (the table above). "
        "sequential-seeds: the S=1 chunk run S times. *python-loop: jit(step_one) called "
        "step by step for one seed, extrapolated to S seeds (S x the time)."
    )

    targets = Table(title="Targets (measurements, not assertions)")
    for col in ("target", "value", "limit", "verdict (margin)"):
        targets.add_column(col, justify="left" if col == "target" else "right")
    for t in result["targets"]:
        limit = f"{t['op']} {_fmt_value(t['target'], t['unit'])}"
        targets.add_row(t["what"], _fmt_value(t["value"], t["unit"]), limit, _verdict(t))
    ratios = Table(title="Ratios")
    ratios.add_column("ratio")
    ratios.add_column("value", justify="right")
    for k, v in result["ratios"].items():
        ratios.add_row(k, f"{v:.2f}x")
    tables = [main, slow, ratios, targets]
    profiled = {n: m["profile"] for n, m in result["configs"].items() if "profile" in m}
    if profiled:
        tables.append(_profile_table(profiled))
    return tables


def _profile_table(profiled: dict):
    from rich.table import Table

    table = Table(title="Where the time goes (--profile: share of summed op time)")
    left = ("config", "costliest op (ms/step)")
    for col in ("config", "matmul", "elementwise", "copy", "control", "overlap",
                "% peak if only matmuls", left[1]):  # fmt: skip
        table.add_column(col, justify="left" if col in left else "right")
    for name, p in profiled.items():
        if not p.get("available"):
            table.add_row(name, *["-"] * 7)
            continue
        top = p["top_ops"][0]
        only = p.get("matmul_only_frac_peak")
        table.add_row(
            name,
            *[f"{100 * p['share'][k]:.0f}%" for k in profiling.KINDS],
            f"{p['overlap']:.2f}",
            f"{100 * only:.0f}%" if only is not None else "-",
            f"{top['op']} ({top['kind']}, {top['ms_per_step']:.2f})",
        )
    table.caption = (
        "Op time from jax.profiler, kinds from the compiled HLO. overlap: summed op time / "
        "wall time (operations run concurrently on CPU threads). % peak if only matmuls: the "
        "achieved rate divided by the matmul share, i.e. with all other work free."
    )
    return table


def _fmt_value(v: float, unit: str) -> str:
    if unit == "x peak":
        return f"{100 * v:.0f}% of peak"
    if unit == "x":
        return f"{v:.2f}x"
    if unit == "s":
        return f"{v:.1f} s"
    return f"{v:.0f} {unit}"
