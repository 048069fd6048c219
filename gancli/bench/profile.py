"""Where a compiled chunk spends its time: a profile read back into a few numbers.

`gancli bench --profile` runs each configuration's compiled chunk a few times under
`jax.profiler`, reads the trace JAX writes (Chrome/Perfetto JSON), and adds up the time of
every HLO operation the runtime executed, by kind:

* matmul: a `dot` or `convolution`, or a fusion whose computation contains one (on CPU,
  XLA hands most dots to YNNPACK as `ynn_fusion`s);
* elementwise: every other fusion or instruction (activations, optimiser updates,
  reductions, random bits);
* copy: `copy` instructions (layout changes, loop-carried buffers);
* control: `while`/`conditional`/`call` (their bodies' operations are counted as the
  above; this is the loop bookkeeping itself).

The kinds come from the compiled HLO text, not from op names. The figures are shares of
summed operation time; on CPU the runtime runs independent operations on different
threads, so the sum can exceed wall time ("overlap" = summed op time / wall time).
"""

from __future__ import annotations

import collections
import glob
import gzip
import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from typing import Any

import jax

KINDS = ("matmul", "elementwise", "copy", "control")
_COMPUTATION = re.compile(r"^(?:ENTRY )?%?([\w.\-]+) .*\{$")
# `  %name = <type> opcode(...`; a tuple type has spaces but never a `word(`.
_INSTRUCTION = re.compile(r"^\s*(?:ROOT )?%?([\w.\-]+) = .*?\s([a-z][\w\-]*)\(")
_CALLS = re.compile(r"calls=%?([\w.\-]+)")
_MATMUL_OPS = {"dot", "convolution"}
_CONTROL_OPS = {"while", "conditional", "call"}


def computation_lines(hlo_text: str):
    """Each line of an HLO module's text below a computation's header, with the name of
    that computation (None before the first header); the headers themselves are skipped."""
    current = None
    for line in hlo_text.splitlines():
        m = _COMPUTATION.match(line)
        if m and not line.startswith(" "):
            current = m.group(1)
        else:
            yield current, line


def op_kinds(hlo_text: str) -> dict[str, str]:
    """Map every instruction name of a compiled module to one of KINDS."""
    has_matmul: dict[str, bool] = {}
    instructions: list[tuple[str, str, str | None]] = []
    for current, line in computation_lines(hlo_text):
        m = _INSTRUCTION.match(line)
        if not m:
            continue
        name, opcode = m.groups()
        if opcode in _MATMUL_OPS and current is not None:
            has_matmul[current] = True
        calls = _CALLS.search(line)
        instructions.append((name, opcode, calls.group(1) if calls else None))
    kinds = {}
    for name, opcode, calls in instructions:
        if opcode in _MATMUL_OPS or (opcode == "fusion" and has_matmul.get(calls or "", False)):
            kinds[name] = "matmul"
        elif opcode == "copy":
            kinds[name] = "copy"
        elif opcode in _CONTROL_OPS:
            kinds[name] = "control"
        else:
            kinds[name] = "elementwise"
    return kinds


def _trace_events(directory: str) -> list[dict]:
    files = glob.glob(os.path.join(directory, "**", "*.trace.json.gz"), recursive=True)
    files += glob.glob(os.path.join(directory, "**", "perfetto_trace.json.gz"), recursive=True)
    if not files:
        return []
    with gzip.open(files[0], "rt") as f:
        trace = json.load(f)
    return trace["traceEvents"] if isinstance(trace, dict) else trace


def summarize(events: list[dict], kinds: dict[str, str], wall_s: float, steps: int) -> dict:
    """Per-kind shares of summed op time, the overlap, and the five costliest operations."""
    by_kind: collections.Counter = collections.Counter()
    by_op: collections.Counter = collections.Counter()
    for e in events:
        if e.get("ph") != "X" or e.get("name") not in kinds:
            continue
        us = float(e.get("dur", 0.0))
        by_kind[kinds[e["name"]]] += us
        by_op[e["name"]] += us
    total_us = sum(by_kind.values())
    if total_us <= 0:
        return {"available": False}
    return {
        "available": True,
        "wall_ms_per_step": 1e3 * wall_s / steps,
        "op_ms_per_step": total_us / 1e3 / steps,
        "overlap": total_us / 1e6 / wall_s,
        "share": {k: by_kind[k] / total_us for k in KINDS},
        "top_ops": [
            {"op": name, "kind": kinds[name], "ms_per_step": us / 1e3 / steps}
            for name, us in by_op.most_common(5)
        ],
    }


def profile_calls(call: Callable[[], Any], hlo_text: str, calls: int, steps_per_call: int) -> dict:
    """Run `call` `calls` times under the profiler; returns `summarize`'s figures."""
    kinds = op_kinds(hlo_text)
    with tempfile.TemporaryDirectory(prefix="gancli-profile-") as tmp:
        jax.profiler.start_trace(tmp, create_perfetto_trace=True)
        t0 = time.perf_counter()
        try:
            for _ in range(calls):
                jax.block_until_ready(call())
        finally:
            wall = time.perf_counter() - t0
            jax.profiler.stop_trace()
        events = _trace_events(tmp)
    return summarize(events, kinds, wall, calls * steps_per_call)
