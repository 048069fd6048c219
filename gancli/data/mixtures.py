"""2-D Gaussian mixtures, sampled inside compiled code from a PRNG key."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class Mixture2D:
    """Equal-weight isotropic Gaussian mixture in the plane."""

    name: str
    centers: np.ndarray  # (K, 2) float32
    std: float

    @property
    def num_modes(self) -> int:
        return len(self.centers)


def ring(num_modes: int = 8, radius: float = 2.0, std: float = 0.02, name: str = "ring8"):
    angles = 2 * np.pi * np.arange(num_modes) / num_modes
    centers = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return Mixture2D(name, centers.astype(np.float32), std)


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05, name: str = "grid25"):
    axis = spacing * (np.arange(side) - (side - 1) / 2)
    centers = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    return Mixture2D(name, centers.astype(np.float32), std)


# Presets are exact: the same method scores 1 or 6.3 modes on "the ring" depending on its
# radius and std (VEEGAN vs PacGAN), so every figure names the preset it was measured on.
MIXTURES: dict[str, Mixture2D] = {
    "ring8": ring(8, 2.0, 0.02, "ring8"),  # 8 Gaussians on a circle of radius 2, std 0.02
    "grid25": grid(5, 2.0, 0.05, "grid25"),  # 25 Gaussians at {-4,-2,0,2,4}^2, std 0.05
    "ring8-pacgan": ring(8, 1.0, 0.01, "ring8-pacgan"),  # PacGAN's ring: radius 1, std 0.01
}


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
