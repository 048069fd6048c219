"""The networks' shapes: the weakened generators are as narrow as their names say."""

import jax
import jax.numpy as jnp
import pytest

from gancli import data as data_lib
from gancli import models
from tests.conftest import tiny

RING = data_lib.load("ring8")


def hidden_widths(module, in_dim: int) -> list[int]:
    params = module.init(jax.random.key(0), jnp.zeros((2, in_dim)), train=False)["params"]
    return [params[f"dense_{i}"]["kernel"].shape[1] for i in range(len(params) - 1)]


# docs/guide.md: `narrow` (1/2 width), `thin` (1/8); the discriminator is never weakened.
@pytest.mark.parametrize("variant, g_width", [("default", 64), ("narrow", 32), ("thin", 8)])
def test_weakened_2d_generators_are_narrower_and_the_discriminator_is_not(variant, g_width):
    cfg = tiny(hidden=64, depth=3, generator_variant=variant)
    g, d = models.build(cfg, RING)
    assert hidden_widths(g, cfg.z_dim) == [g_width] * 3
    assert hidden_widths(d, 2) == [64] * 3


def test_thin_divides_an_explicit_generator_width_too():
    cfg = tiny(hidden=64, g_hidden=40, depth=2, generator_variant="thin")
    g, _ = models.build(cfg, RING)
    assert hidden_widths(g, cfg.z_dim) == [5, 5]


@pytest.mark.parametrize("variant, share", [("narrow", 1 / 2), ("thin", 1 / 8)])
def test_weakened_dcgan_generators_have_that_share_of_the_filters(variant, share):
    digits = data_lib.load("digits")
    cfg = tiny(dataset="digits", hidden=64)
    z, x = jnp.zeros((2, cfg.z_dim)), jnp.zeros((2, *digits.sample_shape))

    def shapes(module, inp):
        params = module.init(jax.random.key(0), inp, train=False)["params"]
        return jax.tree.map(lambda a: a.shape, params)

    g, d = models.build(cfg, digits)
    g_weak, d_weak = models.build(cfg.replace(generator_variant=variant), digits)
    # the projection to 4x4 holds the widest stage's filters (16 positions each)
    full = shapes(g, z)["project"]["kernel"][1]
    assert shapes(g_weak, z)["project"]["kernel"][1] == full * share
    assert shapes(d_weak, x) == shapes(d, x)  # the discriminator is never weakened
