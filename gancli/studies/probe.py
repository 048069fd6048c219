"""Claim 1's experiment: what a confident D does to each generator loss, under SGD and Adam.

Goodfellow et al. (2014) and Arjovsky & Bottou (2017): with D rejecting G's samples
confidently, the minimax generator's gradient vanishes while the non-saturating one's does
not. The claim is about the gradient's *size*, and the course notes train with plain SGD,
where the size is the step. Adam divides the size out (its step is ~lr whatever the
gradient's scale), so Adam cannot show a vanishing gradient; it is kept as a second arm.

`gradient_probe`: G frozen, D trained alone until it rejects; both generator losses'
gradient norms at the same G and D along the way.
`escape_probe`: from that rejecting state, both players train on with each generator loss
(same seeds, state, batches and z: only the loss differs), once under plain SGD (the
primary arm) and once under Adam; per seed and every `every` steps it records the distance
to the data, the generator's parameter displacement ||theta_G(t) - theta_G(0)||, the mean
generator gradient norm and the batch-mean D(G(z)). Two starts: G at initialisation, and G
trained for a while (half the run by default) before D alone trains until it rejects.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gancli.config import Config
from gancli.core.losses import minimax_g_loss, nonsaturating_g_loss
from gancli.core.optim import with_hparams
from gancli.core.state import GANState
from gancli.core.step import GANProgram, d_update, discriminate, generate
from gancli.data import Dataset

PROBE_LR_D = 1e-3  # D alone, Adam: fast enough to reject G's initial samples in 300 steps
# The SGD arm's rate, for both players, fixed by a criterion that does not look at which
# loss wins: the largest power of ten at which no seed of either loss diverges on ring8's
# 128 x 3 MLP (batch 256, 4 seeds, 600 steps from both starts): 1e-1 sent W1 to NaN or
# 1e5 for both losses; 1e-2 and 1e-3 stayed finite. Both losses get the same rate, so
# their displacements compare gradient sizes and nothing else.
SGD_LR = 1e-2
PROBE_VERSION = 3  # bump when the probe measures something else: cached results are redone
# 3: D's phase alone trains on G's samples in training mode. 2 used eval mode: a G with batch
# norm gave D other samples than those the gradients were measured on (without batch norm,
# the same samples).
ARMS = ("sgd", "adam")  # the first is the primary arm: the verdict comes from it
STARTS = ("init", "trained")


def _probe_config(cfg: Config) -> Config:
    return cfg.replace(loss="nsgan", n_critic=1, optimizer="adam", lr_d=PROBE_LR_D)


def gradient_probe(
    cfg: Config, data: Dataset, d_steps: int = 300, every: int = 10, state=None
) -> tuple[dict, GANState]:
    """Per seed and probe point: mean D(G(z)) and both generator gradient norms; and the
    state at the end (D after `d_steps + every` steps alone, G unchanged).

    Starts from `state` (default: each seed's initial state), trains D alone with its GAN
    loss (G frozen) and every `every` steps measures ||grad_G L_G|| for the minimax and
    the non-saturating loss on one fresh batch.
    """
    cfg = _probe_config(cfg)
    program = GANProgram.build(cfg, data)
    if state is None:
        state = program.init()
    state = jax.tree.map(jnp.copy, restart_optimizers(program, state))
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
        # G as train's own D update makes its samples (training mode: a batch-normalised G
        # normalised by this batch), the samples `measure` differentiates through
        x_fake, _ = generate(program, s.g, jax.random.normal(k_z, (B, cfg.z_dim)), train=True)
        return s.replace(d=d_update(program, s, s.d, x_real, x_fake)[0])  # nsgan's D loss

    def probe_one(s):
        key = jax.random.fold_in(jax.random.wrap_key_data(s.key), 0x9B0B)

        def block(s, i):
            m = measure(s, jax.random.fold_in(key, 2 * i))
            keys = jax.random.split(jax.random.fold_in(key, 2 * i + 1), every)
            s, _ = jax.lax.scan(lambda s, k: (d_step(s, k), None), s, keys)
            return s, m

        # the last block trains D past the last measurement: the returned state is D after
        # d_steps + every steps, still with G where it started
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
    return result, end


def restart_optimizers(program: GANProgram, state: GANState) -> GANState:
    """`state` with fresh optimizer states for `program`'s optimizers and every replica's
    hyper-parameters set to `program.cfg`'s (an optimizer keeps its rate in its state)."""
    hp = {k: jnp.asarray(v, jnp.float32) for k, v in program.cfg.hparams().items()}

    def fresh(s, hp):
        g = s.g.replace(opt=with_hparams(program.g_tx.init(s.g.params), hp, "g"))
        d = s.d.replace(opt=with_hparams(program.d_tx.init(s.d.params), hp, "d"))
        return s.replace(g=g, d=d, hparams=hp)

    return jax.vmap(fresh)(state, hp)


def arm_config(cfg: Config, arm: str, loss: str) -> Config:
    """Both players under the arm's optimizer: plain SGD at SGD_LR, or the run's Adam."""
    base = cfg.replace(loss=loss, n_critic=1)
    if arm == "sgd":
        return base.replace(optimizer="sgd", lr_g=SGD_LR, lr_d=SGD_LR)
    return base.replace(optimizer="adam")


@jax.jit
def _displacement(params, start):
    """Per replica ||theta - theta_0||_2 over every parameter."""
    return jax.vmap(lambda p, q: optax.tree.norm(jax.tree.map(jnp.subtract, p, q)))(params, start)


def pretrain(cfg: Config, data: Dataset, steps: int) -> GANState:
    """Every seed trained for `steps` steps with the run's own settings (the 'trained'
    start: G mid-run)."""
    program = GANProgram.build(cfg, data)
    state = program.init()
    data_array = program.put_data(data.array)
    done = 0
    while done < steps:
        n = min(500, steps - done)
        state, _ = program.run_chunk(n)(state, data_array)
        done += n
    return state


def escape(cfg: Config, data: Dataset, start: GANState, steps: list[int], metric: str) -> dict:
    """From `start`, train with `cfg` (its loss and optimizer) and record every `steps`."""
    from gancli.quality.evaluator import Evaluator

    program = GANProgram.build(cfg, data)
    evaluator = Evaluator(program, data)
    # chunks donate their input: every leaf its own buffer
    state = jax.tree.map(jnp.copy, restart_optimizers(program, start))
    g0 = jax.tree.map(jnp.copy, state.g.params)
    data_array = program.put_data(data.array)
    out: dict = {"distance": [], "displacement": [], "grad_norm": [], "d_fake": []}
    for i, step in enumerate(steps):
        if i:
            state, m = program.run_chunk(step - steps[i - 1])(state, data_array)
            out["grad_norm"].append(np.asarray(m["g_grad_norm"]).tolist())
            out["d_fake"].append(np.asarray(m["d_fake"]).tolist())
        _, scores = evaluator(state)
        out["distance"].append([s[metric] for s in scores])
        out["displacement"].append(np.asarray(_displacement(state.g.params, g0)).tolist())
    return {k: np.asarray(v).T.tolist() for k, v in out.items()}  # (S, T) each


def escape_probe(
    cfg: Config,
    data: Dataset,
    g_steps: int = 600,
    every: int = 100,
    d_steps: int = 300,
    trained_steps: int = 0,
    trained_d_steps: int = 1000,
) -> dict:
    """For each start (G at init; G after `trained_steps` of training, if > 0): D alone
    until it rejects (`gradient_probe`), then each arm x generator loss for `g_steps`.

    Returns {"steps", "metric", "arms", "sgd_lr", "starts": {start: {"probe", "arms":
    {arm: {loss: {distance, displacement, grad_norm, d_fake}}}}}}; arrays are (seeds, T).
    """
    from gancli.quality.evaluator import Evaluator
    from gancli.report.claims import distance_metric

    steps = list(range(0, g_steps + 1, every))
    if steps[-1] != g_steps:  # the declared length is always measured
        steps.append(g_steps)
    metric = distance_metric(list(Evaluator(GANProgram.build(cfg, data), data).names))
    result: dict = {"steps": steps, "g_steps": g_steps, "metric": metric, "arms": list(ARMS),
                    "sgd_lr": SGD_LR, "starts": {}}  # fmt: skip
    starts = {"init": (None, d_steps)}
    if trained_steps > 0:
        starts["trained"] = (pretrain(cfg.replace(loss="nsgan"), data, trained_steps),
                             trained_d_steps)  # fmt: skip
    for name, (state, n_d) in starts.items():
        probe, rejecting = gradient_probe(cfg, data, d_steps=n_d, every=max(1, n_d // 30),
                                          state=state)  # fmt: skip
        arms = {
            arm: {loss: escape(arm_config(cfg, arm, loss), data, rejecting, steps, metric)
                  for loss in ("gan", "nsgan")}
            for arm in ARMS
        }  # fmt: skip
        result["starts"][name] = {
            "probe": probe,
            "d_steps": n_d,
            "arms": arms,
            "trained_steps": trained_steps if name == "trained" else 0,
        }
    return result
