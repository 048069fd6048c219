"""The pure training core: one step for both players, scan over steps, vmap over replicas.

`state, metrics = chunk(program, state, data, length)` is one compiled call that runs
`length` steps of every replica (seed x hyper-parameter point). Every function here is a
pure function of an explicit `GANState`; `GANProgram` holds what is fixed for an
experiment (models, loss, optimizers, mesh) and is a static argument of the compiled
functions, so jit's own cache serves every program with the same computation
(compare-losses, resume, tests): two programs are equal when only host-side settings,
seeds or swept values differ.
"""

from __future__ import annotations

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from gancli import models
from gancli.config import HOST_FIELDS, Config
from gancli.core.losses import LOSSES, Loss, d_output
from gancli.core.optim import make_optimizer, with_hparams
from gancli.core.state import GANState, PlayerState, all_finite, apply_model, clip_weights
from gancli.data import Dataset
from gancli.errors import ConfigError
from gancli.sweep import SWEEPABLE

METRIC_NAMES = ("d_loss", "g_loss", "d_real", "d_fake", "g_grad_norm")
BOOST_CRITIC_ITERS = 100  # WGAN paper: for the first 25 G steps and every 500th
# On one CPU device, replicas of a model larger than CPU_LARGE_STATE bytes each are vmapped
# at most CPU_GROUP at a time, in groups as equal as can be (GANProgram.seed_group).
CPU_GROUP = 10
CPU_LARGE_STATE = 1 << 20
# Settings that never change the compiled computation: host-side ones, the seeds (they
# enter as keys) and the swept hyper-parameters (per-replica arrays in the state).
_NOT_COMPILED = {k: None for k in (*HOST_FIELDS, *SWEEPABLE, "sweep", "seed")}


@dataclasses.dataclass(frozen=True, eq=False)
class GANProgram:
    """What is fixed for one experiment: the static argument of every compiled function."""

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
            what = f"seeds ({cfg.seeds})"
            if cfg.sweep:
                points = f"{len(cfg.points)} points x {cfg.seeds} seeds"
                what = f"replicas ({cfg.num_replicas} = {points})"
            raise ConfigError(
                f"{what} must be a multiple of the device count ({len(devices)}) to shard the "
                "replica axis; pick seeds accordingly"
            )
        tx = functools.partial(make_optimizer, cfg.optimizer, cfg=cfg)
        return cls(cfg, data, g, d, LOSSES[cfg.loss], tx(cfg.lr_g), tx(cfg.lr_d), mesh)

    # jit keys its cache on static arguments by hash and equality (at every call): the
    # computation's identity, worked out once per program.
    @functools.cached_property
    def _identity(self) -> tuple:
        devices = tuple(self.mesh.devices.flat) if self.mesh is not None else ()
        cfg = self.cfg.replace(**_NOT_COMPILED)
        return type(self), cfg, self.data.name, devices, self.cfg.num_replicas, self.seed_group

    def __hash__(self) -> int:
        return hash(self._identity)

    def __eq__(self, other) -> bool:
        return isinstance(other, GANProgram) and self._identity == other._identity

    @functools.cached_property
    def seed_group(self) -> int:
        """How many replicas one compiled chunk computes together (vmapped); groups run in turn.

        All of them, except on a single CPU device. There the DCGAN runs one at a time:
        vmapping makes every convolution-as-matmul a batched matmul with per-seed weights,
        which XLA:CPU runs 25-35% slower per seed-step than one seed at a time (`gancli
        bench`, digits S=4: 52 vs 68-75 seed-steps/s). The MLPs gain from vmap on CPU (wide
        wgan S=8: 37 vs 31), up to a point: of a model whose state is over 1 MiB a replica,
        at most 10 go together, in equal groups (32 of PacGAN's model, 10 MiB each, ran at
        115 seed-steps/s in one group and 135 in groups of 8, and 10 in one group at 138;
        the wide MLP, 3 MiB: 170 and 197 in groups of 8; 8 + 2 was slower), while small
        models stay in one group (the narrow MLP, 0.2 MiB: 5,311 in one, 4,692 in groups of
        8; docs/speed.md). On accelerators and sharded meshes vmap is the point. A seed's
        numbers differ between groupings by float32 rounding only.
        """
        replicas = self.cfg.num_replicas
        if self.mesh is not None or jax.default_backend() != "cpu":
            return replicas
        if self.data.is_image:
            return 1
        if replicas > CPU_GROUP and self.replica_state_bytes() > CPU_LARGE_STATE:
            groups = -(-replicas // CPU_GROUP)
            return -(-replicas // groups)  # 32 -> 4 groups of 8, not 10 + 10 + 10 + 2
        return replicas

    def replica_state_bytes(self) -> int:
        """The bytes of one replica's state (parameters, statistics, optimizer state)."""
        return sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(self.abstract_one()))

    # ---- host-facing conveniences over the compiled functions below ------------------------

    def seed_keys(self, seeds: list[int]) -> jax.Array:
        return jnp.stack([jax.random.key_data(jax.random.key(s)) for s in seeds])

    def replica_inputs(self) -> tuple[jax.Array, dict]:
        """(key data (R, 2), hyper-parameters {field: (R,) float32}) for every replica."""
        keys = self.seed_keys([r["seed"] for r in self.cfg.replicas])
        hp = {k: jnp.asarray(v, jnp.float32) for k, v in self.cfg.hparams().items()}
        return keys, hp

    def init(self, seeds: list[int] | None = None) -> GANState:
        """Every replica's initial state (or, for tests, these seeds at the config's point)."""
        keys, hp = self.replica_inputs()
        if seeds is not None:
            keys = self.seed_keys(seeds)
            hp = {k: jnp.full((len(seeds),), getattr(self.cfg, k), jnp.float32) for k in hp}
        return jax.device_put(init(self, keys, hp), self.placement())

    def run_chunk(self, length: int):
        """`(state, data) -> (state, per-replica chunk means)`: `length` steps, one call."""
        return functools.partial(chunk, self, length=length)

    def compile_chunk(self, length: int, state: GANState, data_array) -> None:
        """Compile `run_chunk(length)` for these arguments without running it (jit's call
        then finds it compiled), so that the first chunk's time is training time."""
        chunk.lower(self, state, data_array, length=length).compile()

    def sample(self, state: GANState, z: jax.Array) -> jax.Array:
        """(state, z (R, N, Z)) -> samples (R, N, *sample_shape), in eval mode."""
        return sample(self, state, z)

    def judge(self, state: GANState, x: jax.Array) -> jax.Array:
        """(state, samples (R, N, ...)) -> D's probability D(x) per sample (R, N)."""
        return judge(self, state, x)

    def state_sharding(self):
        if self.mesh is None:
            return None
        return NamedSharding(self.mesh, PartitionSpec("seed"))

    def placement(self):
        """Where every state lives, committed: a fresh one (`init`) exactly as a restored one.
        An uncommitted fresh state and a committed restored one are two jit cache keys and
        two programs (their HLO differs by the sharding), so every resume recompiled the
        chunk and missed the persistent cache."""
        return self.state_sharding() or jax.sharding.SingleDeviceSharding(jax.devices()[0])

    def abstract_one(self) -> GANState:
        """Shapes and dtypes of one replica's state (for tracing `train_step`)."""
        hp = {k: jax.ShapeDtypeStruct((), jnp.float32) for k in SWEEPABLE}
        return jax.eval_shape(
            functools.partial(init_one, self), jax.ShapeDtypeStruct((2,), jnp.uint32), hp
        )

    def abstract_state(self) -> GANState:
        """Shapes, dtypes and shardings of the state, for restoring a checkpoint."""
        keys, hp = self.replica_inputs()
        shapes = jax.eval_shape(jax.vmap(functools.partial(init_one, self)), keys, hp)
        sharding = self.placement()
        return jax.tree.map(
            lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sharding), shapes
        )

    def put_data(self, array: np.ndarray) -> jax.Array:
        """The dataset, replicated on every device (every process holds the same array)."""
        if self.mesh is None:
            return jnp.asarray(array)
        sharding = NamedSharding(self.mesh, PartitionSpec())
        return jax.make_array_from_callback(array.shape, sharding, lambda idx: array[idx])


# ---- one replica ---------------------------------------------------------------------------


def init_one(p: GANProgram, key_data: jax.Array, hparams: dict) -> GANState:
    """One replica from its seed's key data and its hyper-parameters (float32 scalars)."""
    k_init, k_train = jax.random.split(jax.random.wrap_key_data(key_data))
    k_g, k_d = jax.random.split(k_init)
    g_vars = p.generator.init(k_g, jnp.zeros((2, p.cfg.z_dim)), train=False)
    d_vars = p.discriminator.init(k_d, jnp.zeros((2, *p.data.sample_shape)), train=False)
    d_params = d_vars["params"]
    if p.loss.critic:
        d_params = clip_weights(d_params, hparams["clip"])

    def player(params, variables, tx, name):
        opt = with_hparams(tx.init(params), hparams, name)
        return PlayerState(params, variables.get("batch_stats", {}), opt)

    return GANState(
        step=jnp.zeros((), jnp.int32),
        key=jax.random.key_data(k_train),
        g=player(g_vars["params"], g_vars, p.g_tx, "g"),
        d=player(d_params, d_vars, p.d_tx, "d"),
        diverged_at=jnp.full((), -1, jnp.int32),
        hparams={k: jnp.asarray(v, jnp.float32) for k, v in hparams.items()},
    )


def generate(p: GANProgram, g: PlayerState, z_BxZ: jax.Array, *, train: bool):
    """G's samples and its new batch statistics. `train` is always spelled out: training
    mode normalises a batch-normalised G by its batch, eval mode by its population
    statistics, and a silent default once fed the probe's D the wrong samples."""
    return apply_model(p.generator, g.params, g.stats, z_BxZ, train)


def discriminate(p: GANProgram, d: PlayerState, x: jax.Array):
    """D's logits (training mode: batch statistics) and its new batch statistics."""
    return apply_model(p.discriminator, d.params, d.stats, x, True)


def real_batch(p: GANProgram, state: GANState, data_array, key: jax.Array, batch) -> jax.Array:
    """Real samples: fresh from `key`, or batch number `batch` of the seed's fixed set."""
    cfg = p.cfg
    if not cfg.train_set_size:
        return p.data.sample(data_array, key, cfg.batch_size)
    # The set and its epoch order depend on the seed only, not on the step.
    k_set = jax.random.split(jax.random.wrap_key_data(state.key))[0]
    return p.data.sample_fixed_set(
        data_array, k_set, batch, cfg.batch_size, cfg.train_set_size, cfg.train_set_bootstrap
    )


def d_update(p: GANProgram, state: GANState, d: PlayerState, x_real, x_fake):
    """One discriminator/critic update on a real and a (stopped) fake batch."""

    def loss_fn(params):
        real, stats = apply_model(p.discriminator, params, d.stats, x_real, True)
        fake, stats = apply_model(p.discriminator, params, stats, x_fake, True)
        return p.loss.d_loss(real, fake), (stats, real)

    (d_loss, (stats, real)), grads = jax.value_and_grad(loss_fn, has_aux=True)(d.params)
    updates, opt = p.d_tx.update(grads, d.opt, d.params)
    params = optax.apply_updates(d.params, updates)
    if p.loss.critic:  # weight clipping is a projection after every critic update
        params = clip_weights(params, state.hparams["clip"])
    return PlayerState(params, stats, opt), d_loss, jnp.mean(d_output(p.loss, real))


def g_grads(p: GANProgram, g: PlayerState, d: PlayerState, z):
    """G's loss against D and its gradient; D's batch statistics move only in D's updates."""

    def loss_fn(params):
        x_fake, stats = generate(p, g.replace(params=params), z, train=True)
        fake, _ = discriminate(p, d, x_fake)
        return p.loss.g_loss(fake), (stats, x_fake, fake)

    return jax.value_and_grad(loss_fn, has_aux=True)(g.params)


def g_update(p: GANProgram, g: PlayerState, stats, grads) -> PlayerState:
    updates, opt = p.g_tx.update(grads, g.opt, g.params)
    return PlayerState(optax.apply_updates(g.params, updates), stats, opt)


def alternating_step(p: GANProgram, state: GANState, data_array) -> tuple[GANState, dict]:
    """n_critic discriminator/critic updates, then one generator update."""
    cfg, B = p.cfg, p.cfg.batch_size
    key = jax.random.fold_in(jax.random.wrap_key_data(state.key), state.step)
    k_d, k_g = jax.random.split(key)

    def critic_iter(i, carry):
        d, _ = carry
        k_real, k_z = jax.random.split(jax.random.fold_in(k_d, i))
        x_real = real_batch(p, state, data_array, k_real, state.step * cfg.n_critic + i)
        x_fake, _ = generate(p, state.g, jax.random.normal(k_z, (B, cfg.z_dim)), train=True)
        d, d_loss, d_real = d_update(p, state, d, x_real, jax.lax.stop_gradient(x_fake))
        return d, (d_loss, d_real)

    n_critic = cfg.n_critic
    if cfg.critic_boost and p.loss.critic:
        boost = (state.step < 25) | (state.step % 500 == 0)
        n_critic = jnp.where(boost, BOOST_CRITIC_ITERS, cfg.n_critic)
    zero = (jnp.zeros(()), jnp.zeros(()))
    d, (d_loss, d_real) = jax.lax.fori_loop(0, n_critic, critic_iter, (state.d, zero))

    z = jax.random.normal(k_g, (B, cfg.z_dim))
    (g_loss, (g_stats, _, fake)), grads = g_grads(p, state.g, d, z)
    g = g_update(p, state.g, g_stats, grads)
    return state.replace(g=g, d=d), _metrics(p, d_loss, g_loss, d_real, fake, grads)


def simultaneous_step(p: GANProgram, state: GANState, data_array) -> tuple[GANState, dict]:
    """One D and one G update from one real batch and one z, both gradients taken at the
    current parameters (ALI's `ali_algorithm`, which PacGAN trains with)."""
    cfg = p.cfg
    key = jax.random.fold_in(jax.random.wrap_key_data(state.key), state.step)
    k_real, k_z = jax.random.split(key)
    x_real = real_batch(p, state, data_array, k_real, state.step)
    z = jax.random.normal(k_z, (cfg.batch_size, cfg.z_dim))
    (g_loss, (g_stats, x_fake, fake)), grads = g_grads(p, state.g, state.d, z)
    d, d_loss, d_real = d_update(p, state, state.d, x_real, jax.lax.stop_gradient(x_fake))
    g = g_update(p, state.g, g_stats, grads)
    return state.replace(g=g, d=d), _metrics(p, d_loss, g_loss, d_real, fake, grads)


def _metrics(p: GANProgram, d_loss, g_loss, d_real, fake_logits, grads) -> dict:
    return {
        "d_loss": d_loss,
        "g_loss": g_loss,
        "d_real": d_real,
        "d_fake": jnp.mean(d_output(p.loss, fake_logits)),
        "g_grad_norm": optax.tree.norm(grads),
    }


def guard(state: GANState, new: GANState, metrics: dict) -> tuple[GANState, dict]:
    """One step later, keeping a replica's new state only while everything is finite.

    A replica whose numbers turn non-finite is frozen at its last finite state and
    reported from then on as NaN; the other replicas never see it.
    """
    finite = all_finite(metrics) & all_finite(
        (new.g.params, new.d.params, new.g.stats, new.d.stats)
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


def train_step(p: GANProgram, state: GANState, data_array) -> tuple[GANState, dict]:
    """One generator step of one replica (with its n_critic critic steps), guarded."""
    update = simultaneous_step if p.cfg.updates == "simultaneous" else alternating_step
    return guard(state, *update(p, state, data_array))


# ---- every replica, compiled ----------------------------------------------------------------


def _constrain(p: GANProgram, tree):
    sharding = p.state_sharding()
    return tree if sharding is None else jax.lax.with_sharding_constraint(tree, sharding)


@functools.partial(jax.jit, static_argnums=0)
def init(p: GANProgram, keys: jax.Array, hparams: dict) -> GANState:
    """Every replica's initial state from its key data (R, 2) and hyper-parameters {f: (R,)}."""
    return _constrain(p, jax.vmap(functools.partial(init_one, p))(keys, hparams))


@functools.partial(jax.jit, static_argnums=0, static_argnames="length", donate_argnums=1)
def chunk(p: GANProgram, state: GANState, data_array, length: int) -> tuple[GANState, dict]:
    """`length` steps of every replica; returns (state, per-replica means of the metrics)."""

    def chunk_one(s):
        s, m = jax.lax.scan(lambda s, _: train_step(p, s, data_array), s, None, length=length)
        return s, {**{k: jnp.mean(v) for k, v in m.items()}, "diverged_at": s.diverged_at}

    if p.seed_group >= p.cfg.num_replicas:
        return jax.vmap(chunk_one)(state)
    return jax.lax.map(chunk_one, state, batch_size=p.seed_group)


@functools.partial(jax.jit, static_argnums=0)
def sample(p: GANProgram, state: GANState, z: jax.Array) -> jax.Array:
    """G's samples of every replica for its z (R, N, Z), in eval mode."""
    return jax.vmap(lambda s, z: generate(p, s.g, z, train=False)[0])(state, z)


@functools.partial(jax.jit, static_argnums=0)
def judge(p: GANProgram, state: GANState, x: jax.Array) -> jax.Array:
    """D(x) = sigmoid(logit) per sample of every replica, D in training mode as the losses
    see it (batch statistics of these samples; the new statistics are discarded)."""
    return jax.vmap(lambda s, x: jax.nn.sigmoid(discriminate(p, s.d, x)[0].reshape(-1)))(state, x)
