"""MLP generator and discriminator/critic for 2-D data."""

from __future__ import annotations

import flax.linen as nn
import jax


class MLPGenerator(nn.Module):
    hidden: int = 128
    depth: int = 3
    out_dim: int = 2

    @nn.compact
    def __call__(self, z_BxZ: jax.Array, train: bool = True) -> jax.Array:
        h = z_BxZ
        for i in range(self.depth):
            h = nn.relu(nn.Dense(self.hidden, name=f"dense_{i}")(h))
        return nn.Dense(self.out_dim, name="out")(h)


class MLPDiscriminator(nn.Module):
    """Outputs a logit (GAN) or a critic value (WGAN): the last layer is linear."""

    hidden: int = 128
    depth: int = 3

    @nn.compact
    def __call__(self, x_BxD: jax.Array, train: bool = True) -> jax.Array:
        h = x_BxD
        for i in range(self.depth):
            h = nn.relu(nn.Dense(self.hidden, name=f"dense_{i}")(h))
        return nn.Dense(1, name="out")(h)[:, 0]
