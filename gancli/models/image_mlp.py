"""An MLP image generator: the WGAN paper's second weakened generator."""

from __future__ import annotations

import math

import flax.linen as nn
import jax


class MLPImageGenerator(nn.Module):
    """z (B, Z) -> images (B, *shape): `depth` ReLU layers of `hidden` units, then linear.

    Arjovsky et al. (2017), section 4.3: "an MLP with 4 hidden layers and 512 units at each
    layer". Their code (martinarjovsky/WassersteinGAN models/mlp.py:8-24) has a linear
    output (no tanh), which we keep; it builds three hidden layers, the text says four: we
    follow the text.
    """

    shape: tuple[int, ...]
    hidden: int = 512
    depth: int = 4

    @nn.compact
    def __call__(self, z_BxZ: jax.Array, train: bool = True) -> jax.Array:
        h = z_BxZ
        for i in range(self.depth):
            h = nn.relu(nn.Dense(self.hidden, name=f"dense_{i}")(h))
        out = nn.Dense(math.prod(self.shape), name="out")(h)
        return out.reshape(z_BxZ.shape[0], *self.shape)
