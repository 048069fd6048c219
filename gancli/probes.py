"""Controlled measurements beside training: the generator's gradient as D gets better.

Goodfellow et al. (2014) and Arjovsky & Bottou (2017): with G fixed, train D; as D
rejects G's samples with confidence, the minimax generator's gradient vanishes while
the non-saturating one's does not. Both gradients are taken at the same G and D, so
the comparison needs no assumption about two different training runs.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gancli.config import Config
from gancli.data import Dataset
from gancli.losses import LOSSES, minimax_g_loss, nonsaturating_g_loss
from gancli.train import GANProgram, _apply


def gradient_probe(cfg: Config, data: Dataset, d_steps: int = 300, every: int = 10) -> dict:
    """Per seed and probe point: mean D(G(z)) and both generator gradient norms.

    Starts from each seed's initial state, trains D alone with its GAN loss (G frozen)
    for `d_steps` steps, and every `every` steps measures ||grad_G L_G|| for the minimax
    and the non-saturating loss on one fresh batch.
    """
    cfg = cfg.replace(loss="nsgan", n_critic=1, optimizer="adam", lr_d=1e-3)
    program = GANProgram.build(cfg, data)
    state = program.init()
    data_array = program.put_data(data.array)
    gan = LOSSES["nsgan"]
    B = cfg.batch_size

    def measure(s, key):
        z = jax.random.normal(key, (B, cfg.z_dim))

        def fake_logits(g_params):
            x, _ = program.generate(g_params, s.g_stats, z, train=True)
            return _apply(program.discriminator, s.d_params, s.d_stats, x, True)[0]

        grad_mm = jax.grad(lambda p: minimax_g_loss(fake_logits(p)))(s.g_params)
        grad_ns = jax.grad(lambda p: nonsaturating_g_loss(fake_logits(p)))(s.g_params)
        d_fake = jnp.mean(jax.nn.sigmoid(fake_logits(s.g_params)))
        return d_fake, optax.tree.norm(grad_mm), optax.tree.norm(grad_ns)

    def d_step(s, key):
        k_real, k_z = jax.random.split(key)
        x_real = data.sample(data_array, k_real, B)
        x_fake, _ = program.generate(s.g_params, s.g_stats, jax.random.normal(k_z, (B, cfg.z_dim)))

        def loss_fn(p):
            real, st = _apply(program.discriminator, p, s.d_stats, x_real, True)
            fake, st = _apply(program.discriminator, p, st, x_fake, True)
            return gan.d_loss(real, fake), st

        grads, d_stats = jax.grad(loss_fn, has_aux=True)(s.d_params)
        updates, d_opt = program.d_tx.update(grads, s.d_opt, s.d_params)
        return s.replace(
            d_params=optax.apply_updates(s.d_params, updates), d_stats=d_stats, d_opt=d_opt
        )

    def probe_one(s):
        key = jax.random.fold_in(jax.random.wrap_key_data(s.key), 0x9B0B)

        def block(s, i):
            m = measure(s, jax.random.fold_in(key, 2 * i))
            keys = jax.random.split(jax.random.fold_in(key, 2 * i + 1), every)
            s, _ = jax.lax.scan(lambda s, k: (d_step(s, k), None), s, keys)
            return s, m

        _, (d_fake, g_mm, g_ns) = jax.lax.scan(block, s, jnp.arange(d_steps // every + 1))
        return d_fake, g_mm, g_ns

    d_fake, g_mm, g_ns = jax.device_get(jax.jit(jax.vmap(probe_one))(state))
    steps = np.arange(d_steps // every + 1) * every
    return {
        "d_steps": steps.tolist(),
        "d_fake": np.asarray(d_fake).tolist(),  # (S, P)
        "grad_minimax": np.asarray(g_mm).tolist(),
        "grad_nonsaturating": np.asarray(g_ns).tolist(),
    }
