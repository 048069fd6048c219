"""GAN losses as pure functions of the discriminator's outputs.

D(x) = sigmoid(l) for a logit l, so every log-probability is a log-sigmoid of a logit:
log D(x) = -softplus(-l) and log(1 - D(x)) = -softplus(l), finite for any finite l.
For the WGAN the same outputs are the critic's values f(x).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp


def gan_d_loss(real_B: jax.Array, fake_B: jax.Array) -> jax.Array:
    """L_D = -1/2 E_x[log D(x)] - 1/2 E_z[log(1 - D(G(z)))] (GAN and NS-GAN)."""
    return 0.5 * jnp.mean(jax.nn.softplus(-real_B)) + 0.5 * jnp.mean(jax.nn.softplus(fake_B))


def minimax_g_loss(fake_B: jax.Array) -> jax.Array:
    """L_G = -L_D; its only G-dependent term is 1/2 E_z[log(1 - D(G(z)))].

    The real-data term of -L_D is constant in G and left out. The gradient is
    -1/2 sigmoid(l) dl: it vanishes as D(G(z)) -> 0, i.e. when D rejects G confidently.
    """
    return -0.5 * jnp.mean(jax.nn.softplus(fake_B))


def nonsaturating_g_loss(fake_B: jax.Array) -> jax.Array:
    """L_G = -1/2 E_z[log D(G(z))]: gradient -1/2 (1 - sigmoid(l)) dl, large when D rejects."""
    return 0.5 * jnp.mean(jax.nn.softplus(-fake_B))


def wgan_d_loss(real_B: jax.Array, fake_B: jax.Array) -> jax.Array:
    """Critic loss E_z[f(G(z))] - E_x[f(x)]; -L_D estimates W1 up to the clip's scale."""
    return jnp.mean(fake_B) - jnp.mean(real_B)


def wgan_g_loss(fake_B: jax.Array) -> jax.Array:
    """Generator loss -E_z[f(G(z))]."""
    return -jnp.mean(fake_B)


class Loss(NamedTuple):
    d_loss: Callable[[jax.Array, jax.Array], jax.Array]
    g_loss: Callable[[jax.Array], jax.Array]
    # WGAN: the critic is linear (no sigmoid) and its weights are clipped after each update.
    critic: bool


LOSSES: dict[str, Loss] = {
    "gan": Loss(gan_d_loss, minimax_g_loss, critic=False),
    "nsgan": Loss(gan_d_loss, nonsaturating_g_loss, critic=False),
    "wgan": Loss(wgan_d_loss, wgan_g_loss, critic=True),
}


def d_output(loss: Loss, out_B: jax.Array) -> jax.Array:
    """What "D(x)" means for logging: a probability for GANs, the critic value for WGAN."""
    return out_B if loss.critic else jax.nn.sigmoid(out_B)
