"""The training state: what one replica needs to continue, as plain arrays.

A replica is one seed at one hyper-parameter point. `jax.vmap` stacks replicas on a
leading axis, Orbax saves the tree as it is, and `--resume` restores it bit for bit.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax import struct


@struct.dataclass
class PlayerState:
    """One player (generator, or discriminator/critic)."""

    params: Any
    stats: Any  # batch statistics ({} for models without batchnorm)
    opt: Any  # optimizer state, with this replica's learning rate and betas inside


@struct.dataclass
class GANState:
    step: jax.Array  # int32 (): generator updates done
    key: jax.Array  # uint32 raw key data; step t draws from fold_in(key, t)
    g: PlayerState
    d: PlayerState
    diverged_at: jax.Array  # int32 (): first step with a non-finite value, -1 if none
    # float32 () per SWEEPABLE field: this replica's hyper-parameters. The optimizer states
    # carry their own copies of lr and betas (optax.inject_hyperparams); clip is read here.
    hparams: Any


def apply_model(module: nn.Module, params, stats, x, train: bool):
    """Run a model; returns (output, new batch stats). `stats` is {} without batchnorm."""
    if not stats:
        return module.apply({"params": params}, x, train=train), stats
    variables = {"params": params, "batch_stats": stats}
    if not train:
        return module.apply(variables, x, train=False), stats
    out, updates = module.apply(variables, x, train=True, mutable=["batch_stats"])
    return out, updates["batch_stats"]


def clip_weights(params, clip):
    """Project every weight onto [-clip, clip] (the WGAN critic's constraint).

    optax.projections.projection_box documents scalar bounds but tree-maps over them,
    which fails for a Python float; a clip per leaf is the same projection.
    """
    return jax.tree.map(lambda w: jnp.clip(w, -clip, clip), params)


def all_finite(tree) -> jax.Array:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)
