"""Small layers the 2-D models share: maxout, and the weight-init choice."""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

INITS = ("default", "normal", "glorot_uniform")


def kernel_init(init: str, std: float):
    """Flax's default (LeCun normal); N(0, std^2) as ALI/PacGAN initialise; or Glorot
    uniform, TF-slim's default (VEEGAN's notebook)."""
    if init == "normal":
        return nn.initializers.normal(stddev=std)
    if init == "glorot_uniform":
        return nn.initializers.glorot_uniform()
    return nn.linear.default_kernel_init


class Maxout(nn.Module):
    """Dense(features * pieces), then the max over each unit's `pieces` consecutive outputs.

    The grouping is Blocks' `LinearMaxout`: unit j takes outputs j*pieces ... j*pieces+pieces-1.
    """

    features: int
    pieces: int
    kernel_init: nn.initializers.Initializer = nn.linear.default_kernel_init
    use_bias: bool = True

    @nn.compact
    def __call__(self, x_BxD: jax.Array) -> jax.Array:
        h = nn.Dense(
            self.features * self.pieces,
            use_bias=self.use_bias,
            kernel_init=self.kernel_init,
            name="dense",
        )(x_BxD)
        return max_of_pieces(h, self.pieces)


def _grouped(h_BxUP: jax.Array, pieces: int) -> jax.Array:
    return h_BxUP.reshape(*h_BxUP.shape[:-1], -1, pieces)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def max_of_pieces(h_BxUP: jax.Array, pieces: int) -> jax.Array:
    """(..., units * pieces) -> (..., units): each unit's max over its consecutive pieces.

    Its gradient goes to the piece that won (the first, on a tie), through a one-hot of the
    forward pass's argmax. Autodiff of `max` instead compares every piece with the max,
    counts the ties and divides by the count, elementwise work fused into the epilogues of
    the matmuls around it; the two agree wherever the max is unique, which for pieces
    computed by a dense layer from real inputs is everywhere."""
    return _grouped(h_BxUP, pieces).max(-1)


def _max_fwd(h_BxUP, pieces):
    g = _grouped(h_BxUP, pieces)
    return g.max(-1), jnp.argmax(g, -1)


def _max_bwd(pieces, argmax_BxU, ct_BxU):
    won = jnp.arange(pieces) == argmax_BxU[..., None]
    ct = jnp.where(won, ct_BxU[..., None], jnp.zeros((), ct_BxU.dtype))
    return (ct.reshape(*ct.shape[:-2], -1),)


max_of_pieces.defvjp(_max_fwd, _max_bwd)
