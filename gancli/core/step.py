"""The pure training core: state pytree, one step for both players, scan, vmap, sharding.

`state, metrics = program.run_chunk(length)(state, data)` is one compiled call that runs
`length` steps for every seed. Python only moves between chunks.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from gancli import models
from gancli.config import SWEEPABLE, Config
from gancli.core.losses import LOSSES, Loss, d_output
from gancli.data import Dataset

METRIC_NAMES = ("d_loss", "g_loss", "d_real", "d_fake", "g_grad_norm")
BOOST_CRITIC_ITERS = 100  # WGAN paper: for the first 25 G steps and every 500th
# Settings that do not change the compiled computation: host-side ones, and the swept
# hyper-parameters, which enter as per-replica arrays in the state.
HOST_ONLY_FIELDS = ("steps", "log_every", "eval_every", "eval_samples", "checkpoint_every", "keep")
DATA_FIELDS = (*SWEEPABLE, "sweep", "seed")
# Compiled functions shared by programs with the same computation (compare-losses, resume,
# tests), so a config is traced and compiled once per process.
_COMPILED: dict[tuple, Any] = {}


@struct.dataclass
class GANState:
    """Everything one seed needs to continue training, as plain arrays."""

    step: jax.Array  # int32 (): generator updates done
    key: jax.Array  # uint32 raw key data; step t draws from fold_in(key, t)
    g_params: Any
    g_stats: Any  # batch statistics ({} for models without batchnorm)
    g_opt: Any
    d_params: Any
    d_stats: Any
    d_opt: Any
    diverged_at: jax.Array  # int32 (): first step with a non-finite value, -1 if none
    # float32 () per SWEEPABLE field: this replica's hyper-parameters. The optimizer states
    # carry their own copies (optax.inject_hyperparams); clip is read from here.
    hparams: Any


def make_optimizer(name: str, lr: float, cfg: Config) -> optax.GradientTransformation:
    """The optimizers as their reference implementations define them, every constant written out.

    Library defaults are not trusted where a paper fixes the rule: `tests/test_optimizers.py`
    checks each against the update written out by hand from the reference's documentation.
    Each is wrapped in `optax.inject_hyperparams`, so its learning rate and betas live in
    its state: a sweep gives every replica its own (`with_hparams`), in one program.
    """
    if name == "adam":
        # Kingma & Ba (2015), Algorithm 1 (= torch.optim.Adam): eps outside the root.
        return optax.inject_hyperparams(optax.adam, static_args=("nesterov",))(
            lr, b1=cfg.beta1, b2=cfg.beta2, eps=1e-8, eps_root=0.0
        )
    if name == "rmsprop":
        # The WGAN paper's RMSProp is PyTorch's (martinarjovsky/WassersteinGAN main.py:161-162,
        # `optim.RMSprop(netD.parameters(), lr=opt.lrD)`: alpha 0.99, eps 1e-8), whose update
        # is g / (sqrt(v) + eps). Optax's default puts eps inside the root, sqrt(v + eps),
        # which floors the denominator at 1e-4: with a clipped critic's gradients of ~1e-6
        # the step shrinks by orders of magnitude and the WGAN barely learns.
        static = ("eps_in_sqrt", "centered", "nesterov", "bias_correction")
        return optax.inject_hyperparams(optax.rmsprop, static_args=static)(
            lr, decay=0.99, eps=1e-8, initial_scale=0.0, eps_in_sqrt=False, centered=False
        )
    if name == "sgd":
        return optax.inject_hyperparams(optax.sgd, static_args=("nesterov",))(lr, momentum=None)
    raise ValueError(f"unknown optimizer {name!r}")


# Optimizer hyper-parameter name -> the config field it comes from, per player.
_OPT_HPARAMS = {"g": {"learning_rate": "lr_g", "b1": "beta1", "b2": "beta2"},
                "d": {"learning_rate": "lr_d", "b1": "beta1", "b2": "beta2"}}  # fmt: skip


def with_hparams(opt_state, hparams: dict, player: str):
    """An inject_hyperparams state with this replica's learning rate and betas."""
    current = opt_state.hyperparams
    new = {k: jnp.asarray(hparams[f], current[k].dtype)
           for k, f in _OPT_HPARAMS[player].items() if k in current}  # fmt: skip
    return opt_state._replace(hyperparams={**current, **new})


def _apply(module: nn.Module, params, stats, x, train: bool):
    """Run a model; returns (output, new batch stats). `stats` is {} without batchnorm."""
    if not stats:
        return module.apply({"params": params}, x, train=train), stats
    variables = {"params": params, "batch_stats": stats}
    if not train:
        return module.apply(variables, x, train=False), stats
    out, updates = module.apply(variables, x, train=True, mutable=["batch_stats"])
    return out, updates["batch_stats"]


def clip_weights(params, clip: float):
    """Project every weight onto [-clip, clip] (the WGAN critic's constraint).

    optax.projections.projection_box documents scalar bounds but tree-maps over them,
    which fails for a Python float; a clip per leaf is the same projection.
    """
    return jax.tree.map(lambda w: jnp.clip(w, -clip, clip), params)


def _advance(state: GANState, g: tuple, d: tuple) -> GANState:
    """The state one generator step later: (params, batch stats, optimizer) per player."""
    (g_params, g_stats, g_opt), (d_params, d_stats, d_opt) = g, d
    return state.replace(step=state.step + 1, g_params=g_params, g_stats=g_stats, g_opt=g_opt,
                         d_params=d_params, d_stats=d_stats, d_opt=d_opt)  # fmt: skip


def _metrics(loss: Loss, d_loss, g_loss, d_real, fake_logits, g_grads) -> dict:
    return {
        "d_loss": d_loss,
        "g_loss": g_loss,
        "d_real": d_real,
        "d_fake": jnp.mean(d_output(loss, fake_logits)),
        "g_grad_norm": optax.tree.norm(g_grads),
    }


def _all_finite(tree) -> jax.Array:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)


@dataclasses.dataclass(frozen=True, eq=False)
class GANProgram:
    """The compiled pieces of one experiment: init, step, chunk, sample."""

    cfg: Config
    data: Dataset
    generator: nn.Module
    discriminator: nn.Module
    loss: Loss
    g_tx: optax.GradientTransformation
    d_tx: optax.GradientTransformation
    mesh: Mesh | None

    @classmethod
    def build(cls, cfg: Config, data: Dataset, devices=None) -> GANProgram:
        g, d = models.build(cfg, data)
        devices = list(devices if devices is not None else jax.devices())
        mesh = Mesh(np.array(devices), ("seed",)) if len(devices) > 1 else None
        if mesh is not None and cfg.num_replicas % len(devices):
            from gancli.config import ConfigError

            what = f"seeds ({cfg.seeds})"
            if cfg.sweep:
                points = f"{len(cfg.points)} points x {cfg.seeds} seeds"
                what = f"replicas ({cfg.num_replicas} = {points})"
            raise ConfigError(
                f"{what} must be a multiple of the device count ({len(devices)}) to shard the "
                "replica axis; pick seeds accordingly"
            )
        return cls(
            cfg,
            data,
            g,
            d,
            LOSSES[cfg.loss],
            make_optimizer(cfg.optimizer, cfg.lr_g, cfg),
            make_optimizer(cfg.optimizer, cfg.lr_d, cfg),
            mesh,
        )

    # ---- one seed -------------------------------------------------------------------------

    def init_one(self, key_data: jax.Array, hparams: dict) -> GANState:
        """One replica: its seed's key data and its hyper-parameters (float32 scalars)."""
        k_init, k_train = jax.random.split(jax.random.wrap_key_data(key_data))
        k_g, k_d = jax.random.split(k_init)
        cfg = self.cfg
        z = jnp.zeros((2, cfg.z_dim))
        x = jnp.zeros((2, *self.data.sample_shape))
        g_vars = self.generator.init(k_g, z, train=False)
        d_vars = self.discriminator.init(k_d, x, train=False)
        d_params = d_vars["params"]
        if self.loss.critic:
            d_params = clip_weights(d_params, hparams["clip"])
        return GANState(
            step=jnp.zeros((), jnp.int32),
            key=jax.random.key_data(k_train),
            g_params=g_vars["params"],
            g_stats=g_vars.get("batch_stats", {}),
            g_opt=with_hparams(self.g_tx.init(g_vars["params"]), hparams, "g"),
            d_params=d_params,
            d_stats=d_vars.get("batch_stats", {}),
            d_opt=with_hparams(self.d_tx.init(d_params), hparams, "d"),
            diverged_at=jnp.full((), -1, jnp.int32),
            hparams={k: jnp.asarray(v, jnp.float32) for k, v in hparams.items()},
        )

    def generate(self, g_params, g_stats, z_BxZ: jax.Array, train: bool = False):
        return _apply(self.generator, g_params, g_stats, z_BxZ, train)

    def real_batch(self, state: GANState, data_array, key: jax.Array, batch) -> jax.Array:
        """Real samples: fresh from `key`, or batch number `batch` of the seed's fixed set."""
        cfg = self.cfg
        if not cfg.train_set_size:
            return self.data.sample(data_array, key, cfg.batch_size)
        # The set and its epoch order depend on the seed only, not on the step.
        k_set = jax.random.split(jax.random.wrap_key_data(state.key))[0]
        return self.data.sample_fixed_set(
            data_array, k_set, batch, cfg.batch_size, cfg.train_set_size, cfg.train_set_bootstrap
        )

    def step_one(self, state: GANState, data_array: jax.Array) -> tuple[GANState, dict]:
        """n_critic discriminator/critic updates, then one generator update."""
        if self.cfg.updates == "simultaneous":
            return self._guard(state, *self._simultaneous_step(state, data_array))
        cfg, loss, B = self.cfg, self.loss, self.cfg.batch_size
        key = jax.random.fold_in(jax.random.wrap_key_data(state.key), state.step)
        k_d, k_g = jax.random.split(key)

        def d_update(i, carry):
            d_params, d_stats, d_opt, _ = carry
            k_real, k_z = jax.random.split(jax.random.fold_in(k_d, i))
            x_real = self.real_batch(state, data_array, k_real, state.step * cfg.n_critic + i)
            z = jax.random.normal(k_z, (B, cfg.z_dim))
            x_fake, _ = self.generate(state.g_params, state.g_stats, z, train=True)
            x_fake = jax.lax.stop_gradient(x_fake)

            def d_loss_fn(p):
                real, s = _apply(self.discriminator, p, d_stats, x_real, True)
                fake, s = _apply(self.discriminator, p, s, x_fake, True)
                return loss.d_loss(real, fake), (s, real)

            (d_loss, (d_stats, real)), grads = jax.value_and_grad(d_loss_fn, has_aux=True)(d_params)
            updates, d_opt = self.d_tx.update(grads, d_opt, d_params)
            d_params = optax.apply_updates(d_params, updates)
            if loss.critic:  # weight clipping is a projection after every critic update
                d_params = clip_weights(d_params, state.hparams["clip"])
            return d_params, d_stats, d_opt, (d_loss, jnp.mean(d_output(loss, real)))

        n_critic = cfg.n_critic
        if cfg.critic_boost and loss.critic:
            boost = (state.step < 25) | (state.step % 500 == 0)
            n_critic = jnp.where(boost, BOOST_CRITIC_ITERS, cfg.n_critic)
        zero = (jnp.zeros(()), jnp.zeros(()))
        carry = (state.d_params, state.d_stats, state.d_opt, zero)
        d_params, d_stats, d_opt, (d_loss, d_real) = jax.lax.fori_loop(0, n_critic, d_update, carry)

        z = jax.random.normal(k_g, (B, cfg.z_dim))

        def g_loss_fn(p):
            x_fake, g_stats = self.generate(p, state.g_stats, z, train=True)
            # D's batch statistics move only in D's own updates.
            fake, _ = _apply(self.discriminator, d_params, d_stats, x_fake, True)
            return loss.g_loss(fake), (g_stats, fake)

        (g_loss, (g_stats, fake)), g_grads = jax.value_and_grad(g_loss_fn, has_aux=True)(
            state.g_params
        )
        updates, g_opt = self.g_tx.update(g_grads, state.g_opt, state.g_params)
        g_params = optax.apply_updates(state.g_params, updates)

        new = _advance(state, (g_params, g_stats, g_opt), (d_params, d_stats, d_opt))
        return self._guard(state, new, _metrics(loss, d_loss, g_loss, d_real, fake, g_grads))

    def _simultaneous_step(self, state: GANState, data_array: jax.Array) -> tuple[GANState, dict]:
        """One D and one G update from one real batch and one z, both gradients taken at
        the current parameters (ALI's `ali_algorithm`, which PacGAN trains with)."""
        cfg, loss, B = self.cfg, self.loss, self.cfg.batch_size
        key = jax.random.fold_in(jax.random.wrap_key_data(state.key), state.step)
        k_real, k_z = jax.random.split(key)
        x_real = self.real_batch(state, data_array, k_real, state.step)
        z = jax.random.normal(k_z, (B, cfg.z_dim))

        def g_loss_fn(p):
            x_fake, g_stats = self.generate(p, state.g_stats, z, train=True)
            fake, _ = _apply(self.discriminator, state.d_params, state.d_stats, x_fake, True)
            return loss.g_loss(fake), (g_stats, x_fake, fake)

        (g_loss, (g_stats, x_fake, fake)), g_grads = jax.value_and_grad(g_loss_fn, has_aux=True)(
            state.g_params
        )
        x_fake = jax.lax.stop_gradient(x_fake)

        def d_loss_fn(p):
            real, s = _apply(self.discriminator, p, state.d_stats, x_real, True)
            fake, s = _apply(self.discriminator, p, s, x_fake, True)
            return loss.d_loss(real, fake), (s, real)

        (d_loss, (d_stats, real)), d_grads = jax.value_and_grad(d_loss_fn, has_aux=True)(
            state.d_params
        )
        updates, d_opt = self.d_tx.update(d_grads, state.d_opt, state.d_params)
        d_params = optax.apply_updates(state.d_params, updates)
        if loss.critic:
            d_params = clip_weights(d_params, state.hparams["clip"])
        updates, g_opt = self.g_tx.update(g_grads, state.g_opt, state.g_params)
        g_params = optax.apply_updates(state.g_params, updates)
        d_real = jnp.mean(d_output(loss, real))
        new = _advance(state, (g_params, g_stats, g_opt), (d_params, d_stats, d_opt))
        return new, _metrics(loss, d_loss, g_loss, d_real, fake, g_grads)

    def _guard(self, state: GANState, new: GANState, metrics: dict) -> tuple[GANState, dict]:
        """Keep a seed's new state only while everything is finite."""
        # A seed whose numbers turn non-finite is frozen at its last finite state and
        # reported from then on as NaN; the other seeds never see it.
        finite = _all_finite(metrics) & _all_finite(
            (new.g_params, new.d_params, new.g_stats, new.d_stats)
        )
        alive = state.diverged_at < 0
        keep_new = finite & alive
        new = jax.tree.map(lambda a, b: jnp.where(keep_new, a, b), new, state)
        new = new.replace(
            step=state.step + 1,
            diverged_at=jnp.where(alive & ~finite, state.step, state.diverged_at),
        )
        metrics = {k: jnp.where(keep_new, v, jnp.nan) for k, v in metrics.items()}
        return new, metrics

    # ---- all seeds ------------------------------------------------------------------------

    def seed_keys(self, seeds: list[int]) -> jax.Array:
        return jnp.stack([jax.random.key_data(jax.random.key(s)) for s in seeds])

    def replica_inputs(self) -> tuple[jax.Array, dict]:
        """(key data (R, 2), hyper-parameters {field: (R,) float32}) for every replica."""
        keys = self.seed_keys([r["seed"] for r in self.cfg.replicas])
        hp = {k: jnp.asarray(v, jnp.float32) for k, v in self.cfg.hparams().items()}
        return keys, hp

    def state_sharding(self):
        if self.mesh is None:
            return None
        return NamedSharding(self.mesh, PartitionSpec("seed"))

    def init(self, seeds: list[int] | None = None) -> GANState:
        """Every replica's initial state (or, for tests, these seeds at the config's point)."""
        keys, hp = self.replica_inputs()
        if seeds is not None:
            keys = self.seed_keys(seeds)
            hp = {k: jnp.full((len(seeds),), getattr(self.cfg, k), jnp.float32) for k in hp}
        return self._init(keys, hp)

    @property
    def _init(self):
        sharding = self.state_sharding()
        return self._compiled(
            "init", lambda: jax.jit(jax.vmap(self.init_one), out_shardings=sharding)
        )

    def abstract_one(self) -> GANState:
        """Shapes and dtypes of one replica's state (for tracing `step_one`)."""
        hp = {k: jax.ShapeDtypeStruct((), jnp.float32) for k in SWEEPABLE}
        return jax.eval_shape(self.init_one, jax.ShapeDtypeStruct((2,), jnp.uint32), hp)

    def abstract_state(self) -> GANState:
        """Shapes, dtypes and shardings of the state, for restoring a checkpoint."""
        keys, hp = self.replica_inputs()
        shapes = jax.eval_shape(jax.vmap(self.init_one), keys, hp)
        sharding = self.state_sharding() or jax.sharding.SingleDeviceSharding(jax.devices()[0])
        return jax.tree.map(
            lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sharding), shapes
        )

    def _compiled(self, what: str, make, *args):
        # seeds enter as keys and swept values as arrays: neither changes the program
        host_only = {k: None for k in (*HOST_ONLY_FIELDS, *DATA_FIELDS)}
        devices = tuple(self.mesh.devices.flat) if self.mesh is not None else ()
        key = (self.cfg.replace(**host_only), self.data.name, devices, what, *args)
        if key not in _COMPILED:
            _COMPILED[key] = make(*args)
        return _COMPILED[key]

    def run_chunk(self, length: int):
        """Compiled: `length` steps of every seed. Returns (state, per-seed chunk means).

        One function per chunk length, built once: the loop reuses it without retracing.
        """
        return self._compiled("chunk", self._make_chunk, length)

    @property
    def seed_group(self) -> int:
        """How many seeds one compiled chunk computes together (vmapped); groups run in turn.

        All of them, except the DCGAN on a single CPU device: there, vmapping makes every
        convolution-as-matmul a batched matmul with per-seed weights, which XLA:CPU runs
        25-35% slower per seed-step than one seed at a time (`gancli bench`, digits S=4:
        52 vs 68-75 seed-steps/s). The MLPs gain from vmap on CPU (wide wgan S=8: 37 vs
        31), and on accelerators and sharded meshes vmap is the point. A seed's numbers
        differ between groupings by float32 rounding only.
        """
        one_cpu = self.mesh is None and jax.default_backend() == "cpu"
        return 1 if one_cpu and self.data.is_image else self.cfg.num_replicas

    def _make_chunk(self, length: int):

        def chunk_one(state, data_array):
            def body(s, _):
                return self.step_one(s, data_array)

            state, m = jax.lax.scan(body, state, None, length=length)
            means = {k: jnp.mean(v) for k, v in m.items()}
            return state, {**means, "diverged_at": state.diverged_at}

        group = self.seed_group
        if group >= self.cfg.num_replicas:
            chunk = jax.vmap(chunk_one, in_axes=(0, None))
        else:

            def chunk(state, data_array):
                return jax.lax.map(lambda s: chunk_one(s, data_array), state, batch_size=group)

        return jax.jit(chunk, donate_argnums=0)

    @property
    def sample(self):
        """Compiled: (state, z (S, N, Z)) -> samples (S, N, *sample_shape) in eval mode."""

        def one(state, z):
            return self.generate(state.g_params, state.g_stats, z, train=False)[0]

        return self._compiled("sample", lambda: jax.jit(jax.vmap(one)))

    def put_data(self, array: np.ndarray) -> jax.Array:
        """The dataset, replicated on every device (every process holds the same array)."""
        if self.mesh is None:
            return jnp.asarray(array)
        sharding = NamedSharding(self.mesh, PartitionSpec())
        return jax.make_array_from_callback(array.shape, sharding, lambda idx: array[idx])
