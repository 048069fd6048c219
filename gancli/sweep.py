"""Hyper-parameter sweeps: grids and random draws of the SWEEPABLE fields.

A sweep is a tuple of points; each point is a tuple of (field, value) pairs. The points
train together in one compiled program, each over every seed (`Config.replicas`).

In an experiment file:

    [sweep.grid]              # every combination
    clip = [0.005, 0.01, 0.02]
    lr_d = [5e-5, 2e-4]

    [sweep.random]            # `count` draws, reproducible from `seed`
    count = 8
    seed = 0
    lr_g = {log_uniform = [1e-5, 1e-3]}
    beta1 = {choice = [0.5, 0.9]}
    beta2 = {uniform = [0.9, 0.999]}

With both, every random draw is combined with every grid point. On the command line a
comma-separated value makes a grid: `--clip 0.005,0.01,0.02 --lr-d 5e-5,2e-4`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from gancli.errors import ConfigError

# Scalars the compiled step reads from the state, so a sweep trains many values of them in
# one program (the replica axis). Everything else changes the program's structure.
SWEEPABLE = ("lr_g", "lr_d", "beta1", "beta2", "clip")
DISTRIBUTIONS = ("log_uniform", "uniform", "choice")


def _number(field: str, v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ConfigError(f"sweep value for {field}{where} must be a number, got {v!r}")
    return float(v)


def _field(name: str, where: str) -> str:
    name = name.replace("-", "_")
    if name not in SWEEPABLE:
        raise ConfigError(
            f"cannot sweep '{name}'{where} in one program: sweepable are {', '.join(SWEEPABLE)}"
            " (structural settings such as loss, n_critic or widths need separate runs)"
        )
    return name


def grid(values: Mapping[str, list], where: str = "") -> list[dict[str, float]]:
    """Every combination of the listed values, fields in SWEEPABLE order."""
    fields = sorted((_field(k, where) for k in values), key=SWEEPABLE.index)
    lists = []
    for f in fields:
        raw = values[f] if f in values else values[f.replace("_", "-")]
        vals = raw if isinstance(raw, list) else [raw]
        if not vals:
            raise ConfigError(f"sweep grid for {f}{where} is empty")
        lists.append([_number(f, v, where) for v in vals])
    return [dict(zip(fields, combo, strict=True)) for combo in itertools.product(*lists)]


def random(spec: Mapping[str, Any], where: str = "") -> list[dict[str, float]]:
    """`count` points drawn from per-field distributions with numpy's PCG64 and `seed`."""
    spec = dict(spec)
    count, seed = spec.pop("count", None), spec.pop("seed", 0)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ConfigError(f"sweep random{where} needs count = a positive integer")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"sweep random seed{where} must be a non-negative integer")
    rng = np.random.default_rng(seed)
    draws: dict[str, np.ndarray] = {}
    for name in sorted(spec, key=lambda k: SWEEPABLE.index(_field(k, where))):
        f, dist = _field(name, where), spec[name]
        if not isinstance(dist, Mapping) or len(dist) != 1 or next(iter(dist)) not in DISTRIBUTIONS:
            raise ConfigError(
                f"sweep random {f}{where} must be one of {{log_uniform = [lo, hi]}}, "
                "{uniform = [lo, hi]} or {choice = [a, b, ...]}"
            )
        kind, args = next(iter(dist.items()))
        args = [_number(f, a, where) for a in (args if isinstance(args, list) else [args])]
        if kind == "choice":
            draws[f] = rng.choice(np.asarray(args), size=count)
            continue
        if len(args) != 2 or not args[0] < args[1] or (kind == "log_uniform" and args[0] <= 0):
            raise ConfigError(f"sweep random {f}{where}: {kind} needs [lo, hi] with 0 < lo < hi")
        lo, hi = (math.log(args[0]), math.log(args[1])) if kind == "log_uniform" else args
        u = rng.uniform(lo, hi, size=count)
        draws[f] = np.exp(u) if kind == "log_uniform" else u
    return [{f: float(v[i]) for f, v in draws.items()} for i in range(count)]


def from_table(table: Mapping[str, Any], where: str = "") -> list[dict[str, float]]:
    """A [sweep] table: `grid`, `random` (combined: every draw with every grid point), or
    an explicit `points` list (what a run directory's config.toml records)."""
    unknown = set(table) - {"grid", "random", "points"}
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(sorted(unknown))} in [sweep]{where}")
    if "points" in table:
        pts = table["points"]
        if not isinstance(pts, list) or not all(isinstance(p, Mapping) for p in pts):
            raise ConfigError(f"[sweep] points{where} must be a list of tables")
        return [{_field(k, where): _number(k, v, where) for k, v in p.items()} for p in pts]
    g = grid(table["grid"], where) if "grid" in table else [{}]
    r = random(table["random"], where) if "random" in table else [{}]
    return [{**a, **b} for b in r for a in g]


def combine(points: list[dict], grid_points: list[dict], scalars: set[str]) -> list[tuple]:
    """Points of a file with flags on top: flagged scalars leave the sweep, flagged lists
    are crossed with what remains. Duplicates are dropped; order is kept. Each point is a
    tuple of (field, value) pairs; an empty list means no sweep."""
    flagged = scalars | {k for p in grid_points for k in p}
    base = [{k: v for k, v in p.items() if k not in flagged} for p in points or [{}]]
    out, seen = [], set()
    for a in base:
        for b in grid_points or [{}]:
            key = as_point({**a, **b})
            if key and key not in seen:
                seen.add(key)
                out.append(key)
    return out


def as_point(values: Mapping[str, float]) -> tuple:
    """A point as a sweep holds it: (field, value) pairs of SWEEPABLE fields in their order."""
    return tuple((f, values[f]) for f in SWEEPABLE if f in values)


def parse_list(text: str, flag: str) -> float | list[float]:
    """'0.005,0.01' -> [0.005, 0.01]; '0.01' -> 0.01."""
    try:
        vals = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        msg = f"{flag} takes a number or a comma-separated list, got {text!r}"
        raise ConfigError(msg) from None
    if not vals:
        raise ConfigError(f"{flag} takes a number or a comma-separated list, got {text!r}")
    return vals[0] if len(vals) == 1 else vals
