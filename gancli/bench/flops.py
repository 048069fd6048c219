"""Useful FLOPs of one training step, counted from the layer shapes.

2*in*out per sample for a Dense layer (2*out_pixels*k*k*c_in*c_out for a conv; a stride-2
transposed conv counts its non-zero taps only), forward once, backward twice (weight and
input gradients) except the input gradient of a network's first layer, which no update
needs. Layers written as matmuls count as written: the DCGAN's transposed convs (one matmul
per 2x2 output block, border blocks included) come to 1010 MFLOP per seed-step against 855
for the same convs counted as convs.

Two cross-checks: the same count walked over the traced jaxpr of one step
(`traced_step_flops`, which multiplies scan bodies by their length) and XLA's
`cost_analysis()` of a compiled function (`xla_flops`). XLA counts every while/scan body
once (so it misses the n_critic - 1 extra critic updates of a WGAN step) and adds
elementwise work, so it is a cross-check only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import partial

import jax
import jax.numpy as jnp
from jax.extend import core as jex_core

from gancli.core.step import GANProgram, train_step


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


def update_flops(
    g_layers: list[float],
    d_layers: list[float],
    batch: int,
    n_critic: int,
    simultaneous: bool = False,
) -> float:
    """Useful FLOPs of one generator step (n_critic D updates, one G update) of one seed.

    g_layers/d_layers: per-sample forward FLOPs of each layer, input layer first. Backward of
    a layer costs its forward twice (weight gradient, input gradient); a network's first
    layer needs no input gradient when only its parameters are differentiated.
      D update: G forward on B; D forward and weight gradients on 2B (real + fake); D input
                gradients on 2B for all but D's first layer.
      G update: G forward, weight gradients and input gradients but the first on B;
                D forward and input gradients (all layers, they reach G) on B.
    Simultaneous updates (one batch, one z, both gradients at the same parameters) need
    G's forward pass and D's forward pass over the fakes once, not twice: G + D fewer
    (the step computes G once; XLA merges the two identical D passes).
    """
    G, D = sum(g_layers), sum(d_layers)
    d_update = G + 2 * D + 2 * D + 2 * (D - d_layers[0])
    g_update = G + G + (G - g_layers[0]) + D + D
    shared = G + D if simultaneous else 0.0
    return float(batch * (n_critic * d_update + g_update - shared))


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
        "flops": update_flops(
            g, d, cfg.batch_size, cfg.n_critic, simultaneous=cfg.updates == "simultaneous"
        ),
    }


def traced_step_flops(program: GANProgram, data_array) -> float:
    """Matmul/conv FLOPs in the traced jaxpr of one step of one seed (before XLA's DCE and
    CSE: a simultaneous step's jaxpr passes D over the fakes twice, once per loss, and XLA
    computes it once; 37 dots in the compiled PacGAN step either way, docs/speed.md)."""
    state = program.abstract_one()
    closed = jax.make_jaxpr(partial(train_step, program))(state, data_array)
    return jaxpr_flops(closed.jaxpr)


def xla_flops(compiled) -> float | None:
    """XLA's own FLOP count of a compiled function, None where the backend gives none."""
    try:
        cost = compiled.cost_analysis()
    except Exception:  # noqa: BLE001 - not every backend implements it
        return None
    if isinstance(cost, list | tuple):
        cost = cost[0] if cost else None
    flops = (cost or {}).get("flops")
    return float(flops) if flops and flops > 0 else None
