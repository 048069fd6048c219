import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gancli.core.losses import (
    LOSSES,
    gan_d_loss,
    minimax_g_loss,
    nonsaturating_g_loss,
    wgan_d_loss,
    wgan_g_loss,
)

LN3 = float(np.log(3.0))
# Logits 0 and ln 3 mean D = 0.5 and 0.75; logit -ln 3 means D = 0.25.
REAL = jnp.array([0.0, LN3])
FAKE = jnp.array([0.0, -LN3])


def test_gan_d_loss_by_hand():
    # -1/2 mean(log .5, log .75) - 1/2 mean(log(1-.5), log(1-.25))
    # = 1/2 (0.693147 + 0.287682)/2 * 2 = 0.490415
    assert float(gan_d_loss(REAL, FAKE)) == pytest.approx(0.490415, abs=1e-6)


def test_minimax_g_loss_by_hand():
    # 1/2 mean(log(1 - .5), log(1 - .25)) = 1/2 (-0.693147 - 0.287682)/2 = -0.245207
    assert float(minimax_g_loss(FAKE)) == pytest.approx(-0.245207, abs=1e-6)


def test_nonsaturating_g_loss_by_hand():
    # -1/2 mean(log .5, log .25) = 1/2 (0.693147 + 1.386294)/2 = 0.519860
    assert float(nonsaturating_g_loss(FAKE)) == pytest.approx(0.519860, abs=1e-6)


def test_minimax_is_minus_d_loss_in_g():
    # L_G = -L_D: the G-dependent parts agree for any logits.
    fake = jnp.array([-2.0, 0.3, 1.7])
    real = jnp.array([0.5, -1.0, 2.0])
    d_fake_term = gan_d_loss(real, fake) - gan_d_loss(real, jnp.full(3, -jnp.inf))
    assert float(minimax_g_loss(fake)) == pytest.approx(-float(d_fake_term), abs=1e-6)


def test_wgan_losses_by_hand():
    real, fake = jnp.array([1.0, 3.0]), jnp.array([-1.0, 0.5])
    assert float(wgan_d_loss(real, fake)) == pytest.approx(-0.25 - 2.0)
    assert float(wgan_g_loss(fake)) == pytest.approx(0.25)


def test_losses_are_finite_for_extreme_logits():
    big = jnp.array([-200.0, 200.0])
    for f in (minimax_g_loss, nonsaturating_g_loss):
        assert jnp.isfinite(f(big))
        assert jnp.all(jnp.isfinite(jax.grad(f)(big)))
    assert jnp.isfinite(gan_d_loss(big, big))


def test_minimax_gradient_vanishes_when_d_rejects_but_nonsaturating_does_not():
    rejected = jnp.full(4, -10.0)  # D(G(z)) = 4.5e-5: D rejects G's samples confidently
    g_mm = jax.grad(minimax_g_loss)(rejected)
    g_ns = jax.grad(nonsaturating_g_loss)(rejected)
    # d/dl of 1/2 mean(-softplus(l)) = -sigmoid(l)/8; of 1/2 mean(softplus(-l)) = -sigmoid(-l)/8
    np.testing.assert_allclose(g_mm, -jax.nn.sigmoid(-10.0) / 8 * jnp.ones(4), rtol=1e-5)
    np.testing.assert_allclose(g_ns, -jax.nn.sigmoid(10.0) / 8 * jnp.ones(4), rtol=1e-5)
    assert float(jnp.abs(g_ns).sum() / jnp.abs(g_mm).sum()) > 1e4


def test_registry():
    assert set(LOSSES) == {"gan", "nsgan", "wgan"}
    assert LOSSES["wgan"].critic and not LOSSES["nsgan"].critic
    assert LOSSES["gan"].d_loss is LOSSES["nsgan"].d_loss
    # each name's losses, by their hand values above: gan is the minimax game, nsgan the
    # non-saturating generator, wgan the critic's
    assert float(LOSSES["gan"].g_loss(FAKE)) == pytest.approx(-0.245207, abs=1e-6)
    assert float(LOSSES["nsgan"].g_loss(FAKE)) == pytest.approx(0.519860, abs=1e-6)
    for name in ("gan", "nsgan"):
        assert float(LOSSES[name].d_loss(REAL, FAKE)) == pytest.approx(0.490415, abs=1e-6)
    real, fake = jnp.array([1.0, 3.0]), jnp.array([-1.0, 0.5])
    assert float(LOSSES["wgan"].g_loss(fake)) == pytest.approx(0.25)
    assert float(LOSSES["wgan"].d_loss(real, fake)) == pytest.approx(-2.25)
    assert not LOSSES["gan"].critic


def test_the_loss_table_and_the_loss_functions_name_the_same_losses():
    """A loss is a row of the JAX-free table and a pair of functions: both or neither."""
    from gancli.loss_table import LOSS_TABLE, with_role

    assert list(LOSS_TABLE) == list(LOSSES)
    for name, spec in LOSS_TABLE.items():
        assert spec.critic == LOSSES[name].critic, name
    assert with_role("gan") == ("gan", "nsgan") and with_role("wgan") == ("wgan",)
    from gancli.config import LOSS_DEFAULTS, Config, resolve

    assert LOSS_DEFAULTS["wgan"] == {"optimizer": "rmsprop", "lr": 5e-5, "n_critic": 5}
    cfg = resolve(Config(loss="wgan"))
    assert (cfg.optimizer, cfg.lr_g, cfg.n_critic) == ("rmsprop", 5e-5, 5)
