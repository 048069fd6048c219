"""Will a run fit? Its peak memory, estimated from shapes before anything is allocated.

The state's size comes from `jax.eval_shape`; a step's (and a sample's) working memory
from the values its jaxpr keeps alive at once, inputs excluded. XLA fuses many of those
values away, so this errs high, but by a small factor: enough to refuse absurd sizes
within seconds instead of hanging in allocation or swapping.
"""

from __future__ import annotations

import dataclasses
import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from gancli.config import ConfigError
from gancli.core.step import generate, train_step


class TooLarge(ConfigError):
    """The run would not fit in memory; a usage error (exit 2)."""


def nbytes(tree) -> int:
    return sum(
        math.prod(x.shape) * np.dtype(x.dtype).itemsize
        for x in jax.tree.leaves(tree)
        if hasattr(x, "shape")
    )


def _aval_bytes(v) -> int:
    aval = getattr(v, "aval", None)
    shape = getattr(aval, "shape", None)
    if shape is None:
        return 0
    try:
        return math.prod(shape) * np.dtype(aval.dtype).itemsize
    except TypeError:  # extended dtypes (PRNG keys): a few words each
        return math.prod(shape) * 8


def peak_bytes(jaxpr) -> int:
    """Most bytes alive at once while running `jaxpr` equation by equation, its inputs
    excluded; a nested jaxpr (loop body, branch, jit) adds its own peak while it runs."""
    from jax.extend.core import ClosedJaxpr, Var, jaxprs_in_params

    if isinstance(jaxpr, ClosedJaxpr):
        jaxpr = jaxpr.jaxpr
    eqns = jaxpr.eqns
    last_use: dict = {}
    for i, eqn in enumerate(eqns):
        for v in eqn.invars:
            if isinstance(v, Var):
                last_use[v] = i
    for v in jaxpr.outvars:
        if isinstance(v, Var):
            last_use[v] = len(eqns)
    defined = set()
    live = peak = 0
    for i, eqn in enumerate(eqns):
        inner = max((peak_bytes(j) for j in jaxprs_in_params(eqn.params)), default=0)
        out = sum(_aval_bytes(v) for v in eqn.outvars if v in last_use)
        peak = max(peak, live + inner + out)
        live += out
        defined.update(v for v in eqn.outvars if v in last_use)
        for v in {v for v in eqn.invars if isinstance(v, Var)}:
            if last_use.get(v) == i and v in defined:
                live -= _aval_bytes(v)
    return peak


@dataclasses.dataclass(frozen=True)
class Estimate:
    state: int  # every seed's state
    step: int  # working memory of one compiled step (the seeds computed together)
    sample: int  # working memory of drawing eval_samples per seed
    data: int  # the dataset on each device
    devices: int
    platform: str

    @property
    def per_device(self) -> int:
        return (self.state + max(self.step, self.sample)) // self.devices + self.data

    @property
    def total(self) -> int:
        return self.per_device * self.devices


def _abstract(shape, dtype):
    return jax.ShapeDtypeStruct(tuple(int(d) for d in shape), dtype)


# Estimates by what decides them, the compiled program (equal programs differ only in
# host settings, seeds and swept values) and the samples drawn: tracing costs ~0.5 s, and
# tests and compare-losses build the same experiment many times.
_ESTIMATES: dict[tuple, Estimate] = {}


def estimate(program, samples: int | None = None) -> Estimate:
    """Peak memory of training (or of drawing `samples` per seed) with `program`."""
    key = (program, samples if samples is not None else program.cfg.eval_samples)
    if key not in _ESTIMATES:
        _ESTIMATES[key] = _estimate(program, samples)
    return _ESTIMATES[key]


def _estimate(program, samples: int | None) -> Estimate:
    cfg = program.cfg
    one = program.abstract_one()
    replicas = cfg.num_replicas  # points x seeds
    group = min(program.seed_group, replicas)
    devices = 1 if program.mesh is None else program.mesh.devices.size

    def stacked(n):
        return jax.tree.map(lambda s: _abstract((n, *s.shape), s.dtype), one)

    data = _abstract(program.data.array.shape, program.data.array.dtype)
    step = peak_bytes(
        jax.make_jaxpr(jax.vmap(partial(train_step, program), in_axes=(0, None)))(
            stacked(group), data
        )
    )
    n = samples if samples is not None else cfg.eval_samples
    z = _abstract((replicas, n, cfg.z_dim), jnp.float32)

    def sample_one(state, z):
        return generate(program, state.g, z, train=False)[0]

    sample = peak_bytes(jax.make_jaxpr(jax.vmap(sample_one))(stacked(replicas), z))
    # the samples come back to the host too
    sample += replicas * n * math.prod(program.data.sample_shape) * 4
    return Estimate(
        state=nbytes(one) * replicas,
        step=step,
        sample=sample,
        data=nbytes(data),
        devices=devices,
        platform=jax.default_backend(),
    )


def available() -> tuple[int, str]:
    """(bytes free, where): an accelerator's own memory, or the host's RAM."""
    device = jax.devices()[0]
    if device.platform != "cpu":
        try:
            stats = device.memory_stats() or {}
        except Exception:  # some backends do not implement it
            stats = {}
        if "bytes_limit" in stats:
            free = stats["bytes_limit"] - stats.get("bytes_in_use", 0)
            return free, f"each {device.device_kind} has"
    import psutil

    return psutil.virtual_memory().available, "this machine has"


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError


ADVICE = "use fewer seeds, a smaller batch or a narrower model"


def check_fits(
    program, samples: int | None = None, what: str = "this run", advice: str = ADVICE
) -> Estimate:
    """Raise TooLarge, with the estimate, when `program` cannot fit in memory."""
    est = estimate(program, samples)
    free, where = available()
    need = est.per_device if est.platform != "cpu" else est.total
    if need > free:
        work = est.sample if samples is not None else max(est.step, est.sample)
        raise TooLarge(
            f"{what} needs about {human(need)} of memory (state {human(est.state)}, "
            f"working memory {human(work)}) but {where} {human(free)} available: {advice}"
        )
    return est
