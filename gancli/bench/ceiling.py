"""What a model's own matmuls reach alone: every dot of a compiled chunk, timed by itself.

A training step can run no faster than its matmuls would if nothing else ran, and a
matmul of the model's shapes (batch 100 x 200 -> 1000, per seed) is not a 2048^3 one:
its kernel reaches a fraction of that peak before any other work is counted. This module
reads each `dot` of the compiled chunk's HLO (on CPU, XLA lowers the DCGAN's
convolutions to dots as well), builds operands of the same shapes and dimension numbers,
times `lax.dot_general` of each alone (best of a few windows) and adds the times up:
the chunk's matmul FLOPs over that time is the rate its own matmul shapes reach, the
ceiling a "% of peak" target for that model can be judged against.

Each dot counts as many times as the loops around it run (the chunk's scan, a WGAN step's
n_critic critic updates, the DCGAN's per-seed loop), by the trip counts XLA records on
its while loops. Operand values are random normals: a dot's time does not depend on them.
"""

from __future__ import annotations

import math
import re
import time

import jax
from jax import lax

from gancli.bench.profile import computation_lines

# `  %name = f32[10,100,200]{2,1,0} dot(%a, %b), lhs_batch_dims=...`
_INSTRUCTION = re.compile(
    r"^\s*(?:ROOT )?%?([\w.\-]+) = (\w+)\[([\d,]*)\]\S* ([a-z][\w\-]*)\((.*)$"
)


def _dims(text: str, key: str) -> tuple[int, ...]:
    m = re.search(rf"\b{key}=\{{([\d,]*)\}}", text)
    return tuple(int(x) for x in m.group(1).split(",") if x) if m else ()


_DTYPES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16", "f64": "float64"}
_TRIP_COUNT = re.compile(r'"known_trip_count":\{"n":"(\d+)"\}')


def _multiplicities(hlo_text: str) -> tuple[dict[str, int], set[str]]:
    """How many times each computation runs per run of the module: the product of the
    trip counts of the while loops around it (fusions and calls run their computation
    once; every branch of a conditional counts as taken). Also the computations under a
    loop whose trip count XLA did not record (each counted as once). One caller per
    computation: XLA's compiled modules give each fusion and loop body its own
    computation; one reached from two places would be counted along the first."""
    parent: dict[str, tuple[str, int | None]] = {}
    for current, line in computation_lines(hlo_text):
        if current is None or " = " not in line:
            continue
        body = re.search(r"\bbody=%?([\w.\-]+)", line)
        if body:
            trip = _TRIP_COUNT.search(line)
            parent.setdefault(body.group(1), (current, int(trip.group(1)) if trip else None))
        for key in ("calls", "to_apply", "condition", "true_computation", "false_computation"):
            for callee in re.findall(rf"\b{key}=%?([\w.\-]+)", line):
                parent.setdefault(callee, (current, 1))
        branches = re.search(r"branch_computations=\{([^}]*)\}", line)
        for callee in re.findall(r"%?([\w.\-]+)", branches.group(1)) if branches else ():
            parent.setdefault(callee, (current, 1))

    times: dict[str, int] = {}
    unknown: set[str] = set()

    def count(comp: str, seen=()) -> int:
        if comp not in times:
            up, trip = parent.get(comp, (None, 1))
            if trip is None:
                unknown.add(comp)
            times[comp] = (trip or 1) * (count(up, (*seen, comp)) if up and up not in seen else 1)
        return times[comp]

    for comp in list(parent):
        count(comp)
    return times, {c for c in times if c in unknown or _under(c, unknown, parent)}


def _under(comp: str, marked: set[str], parent: dict) -> bool:
    seen = set()
    while comp in parent and comp not in seen:
        seen.add(comp)
        comp = parent[comp][0]
        if comp in marked:
            return True
    return False


def hlo_dots(hlo_text: str) -> list[dict]:
    """Every `dot` of an HLO module: operand shapes, dimension numbers, FLOPs (2 per
    multiply-add: 2 x the output's size x the contracted size) and how many times it runs
    per run of the module (the trip counts of the loops around it: a WGAN step's critic
    loop, the chunk's scan)."""
    times, unknown = _multiplicities(hlo_text)
    shapes: dict[str, tuple[int, ...]] = {}
    found = []
    for current, line in computation_lines(hlo_text):
        m = _INSTRUCTION.match(line)
        if not m:
            continue
        name, dtype, shape, opcode, rest = m.groups()
        shapes[name] = tuple(int(x) for x in shape.split(",") if x)
        if opcode == "dot":
            operands = re.findall(r"%?([\w.\-]+)", rest.split(")")[0])[:2]
            found.append((name, operands, rest, current, dtype))
    dots = []
    for name, (lhs, rhs), rest, comp, dtype in found:
        contracting = (_dims(rest, "lhs_contracting_dims"), _dims(rest, "rhs_contracting_dims"))
        batch = (_dims(rest, "lhs_batch_dims"), _dims(rest, "rhs_batch_dims"))
        contracted = math.prod(shapes[lhs][i] for i in contracting[0])
        dots.append({
            "name": name,
            "lhs": shapes[lhs],
            "rhs": shapes[rhs],
            "dimension_numbers": (contracting, batch),
            "flops": 2 * math.prod(shapes[name]) * contracted,
            "dtype": _DTYPES.get(dtype, "float32"),
            "runs": times.get(comp, 1),
            "trip_count_known": comp not in unknown,
        })  # fmt: skip
    return dots


def convolutions(hlo_text: str) -> int:
    """How many `convolution` instructions the module has: matmul work this module does not
    time (none in gancli's models on CPU, whose convolutions are written as matmuls)."""
    return sum(
        1 for line in hlo_text.splitlines()
        if (m := _INSTRUCTION.match(line)) and m.group(4) == "convolution"
    )  # fmt: skip


def time_dot(
    lhs: tuple, rhs: tuple, dimension_numbers, dtype: str = "float32", min_s: float = 0.02
) -> float:
    """Seconds per call of one dot alone, the best of 5 windows of at least `min_s`. Each
    call pays jit's dispatch too (about 15 us here: 1-3 % of the PacGAN and DCGAN sums)."""
    key = jax.random.key(0)
    a, b = jax.random.normal(key, lhs, dtype), jax.random.normal(key, rhs, dtype)
    f = jax.jit(lambda a, b: lax.dot_general(a, b, dimension_numbers))
    jax.block_until_ready(f(a, b))
    t0 = time.perf_counter()
    jax.block_until_ready(f(a, b))
    reps = max(1, math.ceil(min_s / max(time.perf_counter() - t0, 1e-6)))
    best = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps):
            out = f(a, b)
        jax.block_until_ready(out)
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def dots_alone(hlo_text: str) -> dict:
    """The module's dots timed alone: FLOPs, seconds and GFLOP/s of one run of the module,
    each dot as many times as its loops run it. Each distinct shape is timed twice and the
    faster kept (a process's first measurements ran 15-20 % slow on the 2-core EPYC VM), so
    each time is the best of 10 windows: an optimistic, hot-cache figure.

    Not a hard bound: the sum assumes the dots run one after another (inside the step,
    independent ops can overlap on the CPU's threads), the operands get default layouts,
    and fusions around a dot inside the step are not reproduced. It is what the model's
    matmul shapes reach on this machine's kernels, measured, against which a % of peak
    target can be judged."""
    dots = hlo_dots(hlo_text)
    keys = [(d["lhs"], d["rhs"], d["dimension_numbers"], d["dtype"]) for d in dots]
    timed: dict = {}
    for _ in range(2):  # the best of two passes: the first shapes of a cold process run slow
        for key in dict.fromkeys(keys):
            timed[key] = min(timed.get(key, math.inf), time_dot(*key))
    seconds = sum(d["runs"] * timed[key] for d, key in zip(dots, keys, strict=True))
    flops = float(sum(d["runs"] * d["flops"] for d in dots))
    return {
        "dots": len(dots),
        "shapes": len(timed),
        "trip_count_unknown": sum(not d["trip_count_known"] for d in dots),
        "convolutions_not_timed": convolutions(hlo_text),
        "flops": flops,
        "seconds": seconds,
        "gflops": flops / seconds / 1e9 if seconds > 0 else None,
    }
