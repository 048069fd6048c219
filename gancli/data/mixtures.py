"""2-D Gaussian mixtures, sampled inside compiled code from a PRNG key."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from gancli.datasets import MIXTURES, Mixture2D, grid, ring  # noqa: F401 (re-exported)


def sample_mixture(centers_Kx2: jax.Array, std: float, key: jax.Array, n: int) -> jax.Array:
    """n samples (n, 2) of the equal-weight mixture; pure and jit-friendly."""
    k_mode, k_noise = jax.random.split(key)
    idx_N = jax.random.randint(k_mode, (n,), 0, centers_Kx2.shape[0])
    return centers_Kx2[idx_N] + std * jax.random.normal(k_noise, (n, 2), centers_Kx2.dtype)


def nearest_mode(x_Nx2, centers_Kx2):
    """Index of and distance to the nearest mode for each sample (numpy or jax arrays)."""
    xp = jnp if isinstance(x_Nx2, jax.Array) else np
    d_NxK = xp.sqrt(((x_Nx2[:, None, :] - centers_Kx2[None, :, :]) ** 2).sum(-1))
    return d_NxK.argmin(1), d_NxK.min(1)
