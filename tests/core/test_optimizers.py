"""Each optimizer against its update rule written out by hand from the reference's docs.

Gradients include 1e-6-sized ones, the size a clipped WGAN critic produces: that is where
eps inside or outside the square root changes the step by orders of magnitude.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from gancli.config import Config
from gancli.core.optim import make_optimizer

LR = 1e-3
# Three updates of a 4-parameter vector: ordinary, tiny (clipped-critic sized), mixed signs.
GRADS = np.array(
    [
        [0.5, -0.2, 1e-6, -3e-6],
        [0.4, 0.1, 2e-6, -1e-6],
        [-0.3, 0.05, 1e-6, 4e-6],
    ]
)
P0 = np.array([0.1, -0.2, 0.3, 0.01])


def run(name: str, cfg: Config) -> np.ndarray:
    name = "".join(list(name))  # built at run time, as a config file's is: not the literal
    tx = make_optimizer(name, LR, cfg)
    p = jnp.asarray(P0, jnp.float32)
    state = tx.init(p)
    for g in GRADS:
        u, state = tx.update(jnp.asarray(g, jnp.float32), state, p)
        p = p + u
    return np.asarray(p, np.float64)


def torch_rmsprop(alpha=0.99, eps=1e-8) -> np.ndarray:
    """torch.optim.RMSprop docs: v <- alpha v + (1 - alpha) g^2; p <- p - lr g / (sqrt(v) + eps)."""
    p, v = P0.copy(), np.zeros(4)
    for g in GRADS:
        v = alpha * v + (1 - alpha) * g**2
        p = p - LR * g / (np.sqrt(v) + eps)
    return p


def adam(b1, b2, eps=1e-8) -> np.ndarray:
    """Kingma & Ba, Algorithm 1 (= torch.optim.Adam): bias-corrected moments, eps outside."""
    p, m, v = P0.copy(), np.zeros(4), np.zeros(4)
    for t, g in enumerate(GRADS, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        p = p - LR * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return p


def test_rmsprop_is_pytorchs():
    got = run("rmsprop", Config())
    np.testing.assert_allclose(got, torch_rmsprop(), rtol=1e-5, atol=1e-7)
    # The tiny-gradient coordinates move by ~lr per step (g / sqrt(v) ~ 10), not ~lr * 1e-2.
    assert abs(got[2] - P0[2]) > 10 * LR


def test_rmsprop_is_not_optax_default_rule():
    """Optax's default RMSProp puts eps inside the root, g / sqrt(v + eps): on a clipped
    critic's 1e-6 gradients its step is ~100x smaller. Ours must not be that rule."""
    import optax

    tx = optax.rmsprop(LR, decay=0.99, eps=1e-8)  # the library default
    p = jnp.asarray(P0, jnp.float32)
    state = tx.init(p)
    for g in GRADS:
        u, state = tx.update(jnp.asarray(g, jnp.float32), state, p)
        p = p + u
    default = np.asarray(p, np.float64)
    ours = run("rmsprop", Config())
    assert abs(ours[2] - P0[2]) > 50 * abs(default[2] - P0[2])  # the tiny-gradient coordinate
    np.testing.assert_allclose(ours[:2], default[:2], rtol=1e-3)  # ordinary gradients agree


@pytest.mark.parametrize("b1,b2", [(0.5, 0.999), (0.9, 0.999), (0.8, 0.999)])
def test_adam_with_our_betas(b1, b2):
    got = run("adam", Config(beta1=b1, beta2=b2))
    np.testing.assert_allclose(got, adam(b1, b2), rtol=1e-5, atol=1e-7)


def test_sgd():
    np.testing.assert_allclose(run("sgd", Config()), P0 - LR * GRADS.sum(0), rtol=1e-6)


@pytest.mark.parametrize("name", ["adagrad", "adamw", "nadam", "zzz", "Adam", ""])
def test_an_unknown_optimizer_is_refused_not_built_as_a_neighbour(name):
    # names sorting before, between and after adam, rmsprop and sgd
    with pytest.raises(ValueError, match=f"unknown optimizer {name!r}"):
        make_optimizer(name, LR, Config())
