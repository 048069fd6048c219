"""The machine the bench runs on: its matmul peak, memory figures, and what else ran.

* The float32 matmul peak: the best of several jitted 2048^3 matmuls, after a second of
  untimed ones (a cold first measurement came out 4x low).
* Memory: the process's peak resident set size (Linux VmHWM, reset through
  /proc/self/clear_refs so a figure covers one configuration; `ru_maxrss` where that is
  unavailable) and the bytes of the training state. `jax.devices()[0].memory_stats()` is
  recorded too; on CPU it is None (the CPU client keeps no allocator statistics).
* The environment: the run environment every run directory records (`core.host`), plus
  what a timing on a shared machine needs beside it: CPU model, cores this process may
  use, load averages, the compilation cache's state.
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import time

import jax
import jax.numpy as jnp
import numpy as np

from gancli.machine import host

MATMUL_N = 2048
PEAK_WARMUP_S = 1.0  # run the matmul this long before timing it (thread pool, clocks)


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


# ---- memory -------------------------------------------------------------------------------


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


# ---- environment --------------------------------------------------------------------------


def environment() -> dict:
    """The run environment (`gancli.machine.host.environment`) and the bench's own fields."""
    return {
        **host.environment(),
        "device_kind": jax.devices()[0].device_kind,
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_avg_start": list(os.getloadavg()),
        "compilation_cache": "off (persistent cache disabled and reset for the run)",
    }


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
