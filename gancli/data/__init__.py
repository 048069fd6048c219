"""Datasets: 2-D Gaussian mixtures sampled inside jit, and image sets held as arrays.

Either way the compiled training step sees the data as one array argument (mixture
centers, or all images) and draws its batches from a PRNG key, so no host transfer
happens inside a chunk of steps.
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from gancli.data.mixtures import MIXTURES, Mixture2D, sample_mixture


@dataclasses.dataclass(frozen=True)
class Dataset:
    name: str
    array: np.ndarray  # mixture centers (K, 2), or images (N, H, W, C) in [-1, 1]
    sample_shape: tuple[int, ...]
    mixture: Mixture2D | None = None
    labels: np.ndarray | None = None
    num_classes: int | None = None

    @property
    def is_image(self) -> bool:
        return self.mixture is None

    def sample(self, array: jax.Array, key: jax.Array, n: int) -> jax.Array:
        """n real samples; pure in (array, key), so it runs inside jit/vmap/scan."""
        if self.mixture is not None:
            return sample_mixture(array, self.mixture.std, key, n)
        idx_N = jax.random.randint(key, (n,), 0, array.shape[0])
        return array[idx_N]

    def sample_fixed_set(
        self, array: jax.Array, key: jax.Array, batch: jax.Array, n: int, size: int,
        bootstrap: bool = False,
    ) -> jax.Array:  # fmt: skip
        """Batch number `batch` of a fixed set of `size` mixture samples drawn from `key`,
        iterated in shuffled epochs (`gancli.data.epochs`)."""
        from gancli.data.epochs import finite_batch

        return finite_batch(array, self.mixture.std, key, batch, n, size, bootstrap)


def load(name: str, image_size: int | None = None) -> Dataset:
    """A built-in mixture, `digits`, or the path of an IDX/.npz image file."""
    if name in MIXTURES:
        m = MIXTURES[name]
        return Dataset(name, m.centers, (2,), mixture=m)
    from gancli.data.images import load_images

    d = load_images(name, image_size)
    return Dataset(
        d.name, d.images, tuple(d.images.shape[1:]), labels=d.labels, num_classes=d.num_classes
    )
