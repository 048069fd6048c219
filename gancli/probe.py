"""Controlled measurements beside training: what a confident D does to each generator loss.

Goodfellow et al. (2014) and Arjovsky & Bottou (2017): with G fixed, train D; as D
rejects G's samples with confidence, the minimax generator's gradient vanishes while
the non-saturating one's does not. `gradient_probe` measures both gradients at the same
G and D. `escape_probe` measures the consequence: from that same state (G at its start,
D rejecting), training goes on with each generator loss for the same steps, and the
distance of G's samples to the data says how far each G got.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gancli.config import Config
from gancli.core.losses import minimax_g_loss, nonsaturating_g_loss
from gancli.core.optim import with_hparams
from gancli.core.step import GANProgram, d_update, discriminate, generate
from gancli.data import Dataset

PROBE_LR_D = 1e-3  # D alone, Adam: fast enough to reject G's initial samples in 300 steps


def _probe_config(cfg: Config) -> Config:
    return cfg.replace(loss="nsgan", n_critic=1, optimizer="adam", lr_d=PROBE_LR_D)


def gradient_probe(
    cfg: Config, data: Dataset, d_steps: int = 300, every: int = 10, keep_state: bool = False
) -> dict:
    """Per seed and probe point: mean D(G(z)) and both generator gradient norms.

    Starts from each seed's initial state, trains D alone with its GAN loss (G frozen)
    for `d_steps` steps, and every `every` steps measures ||grad_G L_G|| for the minimax
    and the non-saturating loss on one fresh batch.
    """
    cfg = _probe_config(cfg)
    program = GANProgram.build(cfg, data)
    state = program.init()
    data_array = program.put_data(data.array)
    B = cfg.batch_size

    def measure(s, key):
        z = jax.random.normal(key, (B, cfg.z_dim))

        def fake_logits(g_params):
            x, _ = generate(program, s.g.replace(params=g_params), z, train=True)
            return discriminate(program, s.d, x)[0]

        grad_mm = jax.grad(lambda p: minimax_g_loss(fake_logits(p)))(s.g.params)
        grad_ns = jax.grad(lambda p: nonsaturating_g_loss(fake_logits(p)))(s.g.params)
        d_fake = jnp.mean(jax.nn.sigmoid(fake_logits(s.g.params)))
        return d_fake, optax.tree.norm(grad_mm), optax.tree.norm(grad_ns)

    def d_step(s, key):
        k_real, k_z = jax.random.split(key)
        x_real = data.sample(data_array, k_real, B)
        x_fake, _ = generate(program, s.g, jax.random.normal(k_z, (B, cfg.z_dim)))
        return s.replace(d=d_update(program, s, s.d, x_real, x_fake)[0])  # nsgan's D loss

    def probe_one(s):
        key = jax.random.fold_in(jax.random.wrap_key_data(s.key), 0x9B0B)

        def block(s, i):
            m = measure(s, jax.random.fold_in(key, 2 * i))
            keys = jax.random.split(jax.random.fold_in(key, 2 * i + 1), every)
            s, _ = jax.lax.scan(lambda s, k: (d_step(s, k), None), s, keys)
            return s, m

        # the last block trains D past the last measurement: the returned state is D after
        # d_steps + every steps, still with G at its start
        s, (d_fake, g_mm, g_ns) = jax.lax.scan(block, s, jnp.arange(d_steps // every + 1))
        return s, (d_fake, g_mm, g_ns)

    end, figures = jax.jit(jax.vmap(probe_one))(state)
    d_fake, g_mm, g_ns = jax.device_get(figures)
    steps = np.arange(d_steps // every + 1) * every
    result = {
        "d_steps": steps.tolist(),
        "d_fake": np.asarray(d_fake).tolist(),  # (S, P)
        "grad_minimax": np.asarray(g_mm).tolist(),
        "grad_nonsaturating": np.asarray(g_ns).tolist(),
    }
    if keep_state:
        result["_state"] = end
    return result


def with_run_rates(state, cfg: Config):
    """The probe's state with every replica's hyper-parameters set to `cfg`'s.

    Optimizers keep their rates in their state, so the probe's D rate (PROBE_LR_D) would
    otherwise carry on into the escape."""
    hp = {k: jnp.asarray(v, jnp.float32) for k, v in cfg.hparams().items()}
    g = state.g.replace(opt=with_hparams(state.g.opt, hp, "g"))
    d = state.d.replace(opt=with_hparams(state.d.opt, hp, "d"))
    return state.replace(hparams=hp, g=g, d=d)


def escape_probe(
    cfg: Config, data: Dataset, g_steps: int = 600, every: int = 100, d_steps: int = 300
) -> dict:
    """From G at its start and D trained alone until it rejects (as `gradient_probe`), train
    both players on for `g_steps` with the minimax and with the non-saturating generator
    loss. Same seeds, same state, same batches and z (step keys fold in the step): the only
    difference is the generator's loss. Per seed and every `every` steps: the distance to
    the data (W1, or the Fréchet distance for images) and mean D(G(z)).
    """
    from gancli.quality.evaluator import Evaluator
    from gancli.report.claims import distance_metric

    probe = gradient_probe(cfg, data, d_steps=d_steps, keep_state=True)
    start = probe.pop("_state")
    base = _probe_config(cfg).replace(lr_d=cfg.lr_d)  # D goes on at the run's own rate
    start = with_run_rates(start, base)
    steps = list(range(0, g_steps + 1, every))
    result: dict = {"steps": steps, "g_steps": g_steps, "d_steps": d_steps, "probe": probe}
    for loss in ("gan", "nsgan"):
        program = GANProgram.build(base.replace(loss=loss), data)
        evaluator = Evaluator(program, data)
        metric = distance_metric(list(evaluator.names))
        state = jax.tree.map(jnp.copy, start)  # the chunk donates its input
        data_array = program.put_data(data.array)
        dist, d_fake = [], []
        for i, _ in enumerate(steps):
            if i:
                state, m = program.run_chunk(every)(state, data_array)
                d_fake.append(np.asarray(m["d_fake"]).tolist())
            _, scores = evaluator(state)
            dist.append([s[metric] for s in scores])
        result["metric"] = metric
        result[loss] = {
            "distance": np.asarray(dist).T.tolist(),
            "d_fake": np.asarray(d_fake).T.tolist(),
        }  # (S, T)
    return result
