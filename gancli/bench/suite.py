"""`gancli bench`: the figures behind docs/speed.md.

For each configuration (`gancli.bench.configs`), after warm-up:

* seed-steps/s: generator steps x seeds per second of wall time, timing train's own call:
  `program.run_chunk(length)(state, data)` with the chunk length `gancli train` runs for
  that config (`configs.chunk_length`: the steps to the next log, 100 by default) and its
  donated state. A WGAN generator step includes its n_critic critic updates. The timed
  section is split into WINDOWS windows of at least one chunk each; the fastest is the
  figure (the median is kept): on a shared machine the fastest window is the one the
  neighbours disturbed least.
* compile time: trace + lower (`.lower`) and XLA compile (`.compile()`) of that chunk
  function, with the persistent compilation cache off.
* memory: peak RSS over the configuration's compile and run, and the state's bytes
  (`gancli.bench.machine`).
* arithmetic rate: useful FLOPs per seed-step (`gancli.bench.flops`) x seed-steps/s, as a
  fraction of the float32 matmul peak measured in the same run: at the start and again
  right after every timed section; the best of all of them is the peak.

With `profile=True` (`gancli bench --profile`) each chunk is also run under jax.profiler and
its operation time split into matmul / elementwise / copy / control (`gancli.bench.profile`):
the "why" behind a missed target.

Timings are wall-clock. On a shared machine treat them as provisional: the result records
the load averages and, per section, process CPU seconds beside wall seconds (a 2-CPU run
whose threads had both CPUs shows close to 2 CPU-seconds per second).
"""

from __future__ import annotations

import gc
import math
import os
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import numpy as np

from gancli import data as data_lib
from gancli.bench import ceiling, machine, table
from gancli.bench import profile as profiling
from gancli.bench.configs import (
    CONFIGS,
    DEFAULT_CONFIGS,
    FIELDS,
    PYTHON_LOOP,
    QUICK_CONFIGS,
    base_name,
    chunk_length,
    make_config,
    seed_count,
)
from gancli.bench.flops import analytic_step_flops, traced_step_flops, xla_flops
from gancli.config import Config
from gancli.core import step as step_lib
from gancli.core.step import GANProgram

TARGET_SECONDS = 2.0  # every timed section lasts at least this long (full run)
QUICK_TARGET_SECONDS = 0.15
WINDOWS = 3  # timed windows per section; the fastest is reported, the median kept


def _devices_for(seeds: int):
    """All devices when the seeds split evenly over them, else the first device only."""
    devices = jax.devices()
    return None if seeds % len(devices) == 0 else [devices[0]]


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


def timed_windows(call: Callable[[], Any], target_s: float, max_calls: int | None) -> dict:
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


def _dataset(cache: dict, cfg: Config):
    key = (cfg.dataset, cfg.image_size)
    if key not in cache:
        cache[key] = data_lib.load(cfg.dataset, cfg.image_size)
    return cache[key]


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
    """Compile and time train's chunk of one configuration: all seeds, `length` steps.

    The matmul rate is measured again right after the timed section ("adjacent"): on a
    shared machine it tells how much of the CPU this configuration had.
    """
    cfg = make_config(overrides, steps)
    data = _dataset(datasets, cfg)
    reset_ok = machine.reset_peak_rss()
    rss_before = machine.current_rss_mib()
    program = GANProgram.build(cfg, data, devices=_devices_for(cfg.seeds))
    flops = analytic_step_flops(program)
    data_array = program.put_data(data.array)
    traced = traced_step_flops(program, data_array)
    length = chunk_length(cfg)
    max_calls = max(1, math.ceil(steps / length)) if steps else None

    state = program.init()
    jax.block_until_ready(state)
    log(f"  {name}: compiling train's chunk of {length} steps x {cfg.seeds} seeds ...")
    chunk = program.run_chunk(length)  # what `gancli train` calls, donation included
    t0 = time.perf_counter()
    lowered = step_lib.chunk.lower(program, state, data_array, length=length)
    t1 = time.perf_counter()
    compiled = lowered.compile()
    t2 = time.perf_counter()
    compile_peak = machine.peak_rss_mib(reset_ok)

    holder = {"state": state}

    def call():
        holder["state"], metrics = chunk(holder["state"], data_array)
        return holder["state"], metrics

    tw = time.perf_counter()
    jax.block_until_ready(call())  # warm-up
    warmup_s = time.perf_counter() - tw
    run_reset = machine.reset_peak_rss() if reset_ok else False
    timing = timed_windows(call, target_s, max_calls)
    calls, elapsed, cpu_s = timing["calls"], timing["seconds"], timing["cpu_seconds"]
    run_peak = machine.peak_rss_mib(run_reset) if run_reset else None
    prof = None
    if profile:  # after the timed windows, so the profiler's overhead is not in them
        prof = profiling.profile_calls(call, compiled.as_text(), max(1, min(calls, 3)), length)
        prof["dots_alone"] = ceiling.dots_alone(compiled.as_text())
    adjacent = machine.matmul_peak(runs=matmul_runs)["gflops"]
    seed_steps = calls * length * cfg.seeds
    rate = seed_steps / elapsed
    per_call = length * cfg.seeds
    xla = xla_flops(compiled)
    result = {
        "config": {k: getattr(cfg, k) for k in FIELDS},
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
        "seed_steps_per_s_median_window": timing["calls_per_s_median"] * per_call,
        "seed_steps_per_s_windows": [r * per_call for r in timing["calls_per_s_windows"]],
        "ms_per_step": 1e3 * elapsed / (calls * length),  # one step of all seeds
        "us_per_seed_step": 1e6 / rate,
        "lower_s": t1 - t0,
        "xla_compile_s": t2 - t1,
        "compile_s": t2 - t0,
        "flops_per_seed_step": flops["flops"],
        "flops_traced_per_seed_step": traced,
        "flops_xla_per_seed_step": xla / cfg.seeds if xla else None,
        "gflops": rate * flops["flops"] / 1e9,
        "frac_peak": rate * flops["flops"] / peak_flops,  # updated to the run's best peak
        "matmul_gflops_adjacent": adjacent,
        "frac_adjacent_matmul": rate * flops["flops"] / 1e9 / adjacent,
        "peak_rss_mib": max(compile_peak, run_peak or 0.0),
        "compile_peak_rss_mib": compile_peak,
        "run_peak_rss_mib": run_peak,
        "rss_before_mib": rss_before,
        "lifetime_peak_rss_mib": machine.lifetime_peak_rss_kib() / 1024,
        "peak_rss_source": "VmHWM since reset" if reset_ok else "ru_maxrss (process lifetime)",
        "state_mib": machine.tree_bytes(holder["state"]) / 2**20,
        "device_memory_stats": machine.device_memory_stats(),
        "no_divergence": bool((np.asarray(holder["state"].diverged_at) < 0).all()),
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
    """One seed at a time: a Python loop over `jax.jit(train_step)`, no vmap, no scan.

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
    # The executable jax.jit(train_step) would run; calling it directly dispatches as fast.
    step = jax.jit(partial(step_lib.train_step, program)).lower(state, data_array).compile()
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
    timing = timed_windows(lambda: run(n), target_s, WINDOWS)  # one call = n steps
    elapsed, cpu_s = timing["seconds"], timing["cpu_seconds"]
    adjacent = machine.matmul_peak(runs=matmul_runs)["gflops"]
    rate = n / elapsed
    log(f"  {name} python-loop: {rate:,.0f} seed-steps/s over {n} steps of one seed")
    return {
        "steps_timed": n,
        "seconds": elapsed,
        "cpu_seconds": cpu_s,
        "seed_steps_per_s": rate,
        "seed_steps_per_s_median_window": timing["calls_per_s_median"] * n,
        "us_per_seed_step": 1e6 / rate,
        "compile_s": compile_s,
        "matmul_gflops_adjacent": adjacent,
        "flops_xla_per_seed_step": xla_flops(step),
        "extrapolated_seeds": overrides["seeds"],
        "note": f"one seed measured; {overrides['seeds']} seeds extrapolated as "
        f"{overrides['seeds']} x the time (seed-steps/s unchanged)",
    }


# ---- the whole run ------------------------------------------------------------------------


def run_bench(
    quick: bool = False,
    steps: int | None = None,
    configs: list[str] | None = None,
    log=print,
    profile: bool = False,
) -> dict:
    """Measure every configuration (see the module docstring); returns a JSON-ready dict.

    quick: a smoke run (one dispatch-bound config and its baselines, ~0.15 s timed sections).
    steps: generator steps timed per configuration (per seed), whole chunks, instead of "at
        least 2 s"; also the config's `steps`, so a chunk is never longer than that.
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
    with machine.compilation_cache_off():
        result["env"] = machine.environment()
        log(
            f"bench: jax {jax.__version__} on {result['env']['backend']}, "
            f"{len(jax.devices())} device(s), {os.cpu_count()} CPUs"
        )
        warmup_s = 0.0 if quick else machine.PEAK_WARMUP_S
        peak = machine.matmul_peak(runs=3 if quick else 8, warmup_s=warmup_s)
        result["matmul_peak"] = peak
        log(f"  float32 matmul {peak['n']}^3: {peak['gflops']:.1f} GFLOP/s, best of {peak['runs']}")
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
        ones: dict[str, dict] = {}
        for name in [n for n in names if seed_count(n) > 1]:
            s1 = f"{base_name(name)}-S1"
            if s1 in measured:
                seq = {**table.sequential_from(measured[s1]), "source": s1}
            else:  # measured once for every seed count of this model
                if s1 not in ones:
                    over = CONFIGS.get(s1, {**CONFIGS[name], "seeds": 1})
                    ones[s1] = measure_vmapped(
                        s1, over, peak_flops, target_s, steps, datasets, log, mm_runs
                    )
                    _fresh_caches()
                seq = {
                    **table.sequential_from(ones[s1]),
                    "source": "measured for this comparison",
                    "run": ones[s1],
                }
            entry = {"sequential-seeds": seq}
            if name in PYTHON_LOOP:
                entry["python-loop"] = measure_python_loop(
                    name, CONFIGS[name], target_s, steps, datasets, log, mm_runs
                )
                _fresh_caches()
            baselines[name] = entry
        result["baselines"] = baselines
        table.use_best_peak(result)
        result["ratios"] = table.ratios(measured, baselines)
        result["targets"] = table.targets(measured, result["ratios"])
        result["env"]["load_avg_end"] = list(os.getloadavg())
        result["total_s"] = time.perf_counter() - t_start
    return result
