"""Small layers the 2-D models share: maxout, and the weight-init choice."""

from __future__ import annotations

import flax.linen as nn
import jax

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
        return h.reshape(*h.shape[:-1], self.features, self.pieces).max(-1)
