"""The training core's wiring, each checked against an expectation written down here from
the losses' and the papers' definitions, never against a copy of the code: which loss a
name trains, which random numbers a step draws, what a diverged seed does afterwards, and
how many critic updates the WGAN authors' schedule gives."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gancli import data as data_lib
from gancli.core import step as step_lib
from gancli.core.step import GANProgram
from tests.conftest import tiny

RING = data_lib.load("ring8")


def leaves(tree):
    return [np.asarray(x) for x in jax.tree.leaves(tree)]


def copy(tree):
    return jax.tree.map(jnp.array, tree)  # run_chunk donates its input


def one(tree, i=0):
    return jax.tree.map(lambda a: a[i], tree)


# ---- 1. the generator's gradient is the one its loss name promises -------------------------

# Written from the definitions (D(x) = sigmoid(l)), with plain logs, not the library's
# softplus forms: what each name promises the generator minimises.
PROMISED_G_LOSS = {
    "gan": lambda l: 0.5 * jnp.mean(jnp.log(1.0 - jax.nn.sigmoid(l))),  # minimax
    "nsgan": lambda l: -0.5 * jnp.mean(jnp.log(jax.nn.sigmoid(l))),  # non-saturating
    "wgan": lambda f: -jnp.mean(f),  # critic values
}


def _g_step_gradient(loss: str):
    """One real training step with SGD on G: (observed G gradient, the gradients of every
    promised loss at the same point, the step's g_grad_norm)."""
    lr_g = 1e3 if loss == "wgan" else 1.0  # a clipped critic's gradients are ~1e-5
    cfg = tiny(loss=loss, seeds=1, optimizer="sgd", lr_g=lr_g, lr_d=1e-3)
    p = GANProgram.build(cfg, RING)
    s0 = p.init()
    if loss != "wgan":
        # D rejects G's samples (D(G(z)) ~ 0.05): where the minimax and non-saturating
        # gradients differ by ~20x, instead of nearly agreeing at D = 0.5 as at init.
        d = s0.d.params
        d = {**d, "out": {**d["out"], "bias": d["out"]["bias"] - 3.0}}
        s0 = s0.replace(d=s0.d.replace(params=d))
    before = one(s0.g.params)
    s1, metrics = p.run_chunk(1)(copy(s0), p.put_data(RING.array))
    observed = jax.tree.map(lambda a, b: (a - b) / lr_g, before, one(s1.g.params))  # SGD
    # G's update of step 0 sees D after its critic updates (alternating updates) and a z
    # drawn from fold_in(key, 0) (the split's second half: the first is the critic's).
    d_after = one(s1.d.params)
    k_g = jax.random.split(jax.random.fold_in(jax.random.wrap_key_data(one(s0.key)), 0))[1]
    z = jax.random.normal(k_g, (cfg.batch_size, cfg.z_dim))

    def grad_of(g_loss):
        def f(g_params):
            x = p.generator.apply({"params": g_params}, z, train=True)
            return g_loss(p.discriminator.apply({"params": d_after}, x, train=True))

        return jax.grad(f)(before)

    grads = {name: grad_of(f) for name, f in PROMISED_G_LOSS.items()}
    # what the step logs as D(G(z)): a probability for the GANs, the critic's value for WGAN
    out = p.discriminator.apply(
        {"params": d_after}, p.generator.apply({"params": before}, z, train=True), train=True
    )
    d_fake = jnp.mean(out if loss == "wgan" else 1 / (1 + jnp.exp(-out)))
    assert float(metrics["d_fake"][0]) == pytest.approx(float(d_fake), rel=1e-4, abs=1e-7)
    return observed, grads, float(metrics["g_grad_norm"][0])


def _close(a, b, rtol=2e-3) -> bool:
    va = np.concatenate([np.ravel(x) for x in leaves(a)])
    vb = np.concatenate([np.ravel(x) for x in leaves(b)])
    return float(np.linalg.norm(va - vb)) <= rtol * float(np.linalg.norm(vb))


@pytest.mark.parametrize("loss", ["gan", "nsgan", "wgan"])
def test_one_training_step_follows_the_gradient_of_the_promised_generator_loss(loss):
    observed, grads, g_grad_norm = _g_step_gradient(loss)
    assert _close(observed, grads[loss]), loss
    norm = np.sqrt(sum(float(np.sum(np.square(x))) for x in leaves(grads[loss])))
    assert g_grad_norm == pytest.approx(norm, rel=2e-3)
    # and not any other loss's: at this point the three gradients are far apart
    for other, g in grads.items():
        if other != loss:
            assert not _close(observed, g, rtol=0.3), (loss, other)


# ---- 2. the random numbers a chunk draws ---------------------------------------------------


@pytest.fixture
def recorded(monkeypatch):
    """Every real batch and every z that the compiled chunk draws, recorded from inside
    by debug callbacks around the functions that use them."""
    log = {"real": [], "z": []}
    real_batch, generate = step_lib.real_batch, step_lib.generate

    def record_real(p, state, data_array, key, batch):
        x = real_batch(p, state, data_array, key, batch)
        jax.debug.callback(
            lambda k, t, b, x: log["real"].append((tuple(np.asarray(k)), int(t), int(b),
                                                   np.asarray(x))),  # fmt: skip
            state.key, state.step, batch, x,
        )  # fmt: skip
        return x

    def record_generate(p, g, z, *, train):
        jax.debug.callback(lambda z: log["z"].append(np.asarray(z)), z)
        return generate(p, g, z, train=train)

    monkeypatch.setattr(step_lib, "real_batch", record_real)
    monkeypatch.setattr(step_lib, "generate", record_generate)
    yield log
    # the traced chunk holds the callbacks: drop it so no later test runs them
    step_lib.chunk.clear_cache()


def expected_draws(cfg, key_data, t):
    """Step t of a replica whose key is `key_data`, from the documented rule (state.py:
    step t draws from fold_in(key, t)): its critic iterations' (real batch, z) and G's z."""
    key = jax.random.fold_in(jax.random.wrap_key_data(key_data), t)
    k_d, k_g = jax.random.split(key)
    critic = []
    for i in range(cfg.n_critic):
        k_real, k_z = jax.random.split(jax.random.fold_in(k_d, i))
        x = RING.sample(jnp.asarray(RING.array), k_real, cfg.batch_size)
        critic.append((np.asarray(x), np.asarray(jax.random.normal(k_z, (cfg.batch_size,
                                                                         cfg.z_dim)))))  # fmt: skip
    g_z = np.asarray(jax.random.normal(k_g, (cfg.batch_size, cfg.z_dim)))
    return critic, g_z


def test_a_chunk_draws_fresh_batches_and_z_at_every_step_seed_and_critic_iteration(recorded):
    # A shape no other test uses, so this program is traced here, with the callbacks.
    cfg = tiny(loss="wgan", seeds=2, n_critic=3, batch_size=16, hidden=12, depth=1)
    p = GANProgram.build(cfg, RING)
    s0 = p.init()
    keys = np.asarray(s0.key)
    steps = 4
    p.run_chunk(steps)(copy(s0), p.put_data(RING.array))

    n_real = steps * cfg.seeds * cfg.n_critic
    assert len(recorded["real"]) == n_real
    assert len(recorded["z"]) == steps * cfg.seeds * (cfg.n_critic + 1)
    # all different: across steps, seeds and critic iterations (and z from batches)
    xs = [x for *_, x in recorded["real"]] + recorded["z"]
    flat = {x.tobytes() for x in xs}
    assert len(flat) == len(xs)

    by_draw = {(k, t, b): x for k, t, b, x in recorded["real"]}
    assert len(by_draw) == n_real
    zs = recorded["z"]
    for r in range(cfg.seeds):
        for t in range(steps):
            critic, g_z = expected_draws(cfg, keys[r], t)
            for i, (x_want, z_want) in enumerate(critic):
                x = by_draw[(tuple(keys[r]), t, t * cfg.n_critic + i)]
                np.testing.assert_allclose(x, x_want, rtol=1e-6, atol=1e-6)
                assert any(np.allclose(z, z_want, rtol=1e-6, atol=1e-6) for z in zs), (r, t, i)
            assert any(np.allclose(z, g_z, rtol=1e-6, atol=1e-6) for z in zs), (r, t)


# ---- 3. a seed diverging mid-run -------------------------------------------------------------


def test_a_seed_diverging_mid_run_stays_frozen_while_the_others_train():
    cfg = tiny(seeds=3)
    p = GANProgram.build(cfg, RING)
    array = p.put_data(RING.array)
    run = p.run_chunk(5)
    trained, _ = run(p.init(), array)  # 5 finite steps for every seed
    reference, at5 = copy(trained), copy(trained)

    # Seed 1 meets one step whose update is not finite (its G learning rate is inf for a
    # chunk), then its rate is finite again: a frozen seed must not start training again.
    def set_lr(state, value):
        opt = state.g.opt
        lr = opt.hyperparams["learning_rate"].at[1].set(value)
        return state.replace(g=state.g.replace(opt=opt._replace(
            hyperparams={**opt.hyperparams, "learning_rate": lr})))  # fmt: skip

    good_lr = float(trained.g.opt.hyperparams["learning_rate"][1])
    frozen = one(trained, 1)
    bad, m_bad = run(set_lr(trained, jnp.inf), array)
    assert np.asarray(bad.diverged_at).tolist() == [-1, 5, -1]
    assert np.asarray(bad.step).tolist() == [10, 10, 10]
    bad = set_lr(bad, good_lr)
    bad, m_later = run(bad, array)
    assert np.asarray(bad.diverged_at).tolist() == [-1, 5, -1]
    for m in (m_bad, m_later):
        for k in step_lib.METRIC_NAMES:
            v = np.asarray(m[k])
            assert np.isnan(v[1]) and np.isfinite(v[[0, 2]]).all(), k
    # seed 1: bit for bit its state at step 5 (its optimizer's rate as we set it back)
    after = one(set_lr(bad, good_lr), 1)
    for a, b in zip(leaves(after.g.params) + leaves(after.d.params) + leaves(after.d.opt),
                    leaves(frozen.g.params) + leaves(frozen.d.params) + leaves(frozen.d.opt),
                    strict=True):  # fmt: skip
        np.testing.assert_array_equal(a, b)
    # the others: exactly as if nothing had happened, and still moving
    clean, _ = run(reference, array)
    clean, _ = run(clean, array)
    for a, b in zip(leaves(bad.g.params), leaves(clean.g.params), strict=True):
        np.testing.assert_array_equal(a[[0, 2]], b[[0, 2]])
    moved = [not np.array_equal(a[[0, 2]], c[[0, 2]])
             for a, c in zip(leaves(bad.g.params), leaves(at5.g.params), strict=True)]  # fmt: skip
    assert all(moved)


# ---- 4. the WGAN authors' critic schedule ---------------------------------------------------


def _critic_updates(state) -> int:
    """Adam's update counter of the critic (its optimizer state's int32 leaf)."""
    (count,) = {int(np.asarray(x)[0]) for x in jax.tree.leaves(state.d.opt)
                if np.asarray(x).dtype == np.int32}  # fmt: skip
    return count


def test_critic_boost_gives_100_updates_for_the_first_25_and_every_500th_generator_step():
    # martinarjovsky/WassersteinGAN main.py: `if gen_iterations < 25 or gen_iterations %
    # 500 == 0: Diters = 100`, gen_iterations counting generator updates done, from 0.
    cfg = tiny(loss="wgan", n_critic=5, optimizer="adam", critic_boost=True, seeds=1,
               batch_size=8, hidden=8, depth=1)  # fmt: skip
    p = GANProgram.build(cfg, RING)
    array = p.put_data(RING.array)
    state, _ = p.run_chunk(24)(p.init(), array)
    assert _critic_updates(state) == 24 * 100  # generator steps 0..23
    per_step = {}
    for t in (24, 25, 26):
        before = _critic_updates(state)
        state, _ = p.run_chunk(1)(state, array)
        per_step[t] = _critic_updates(state) - before
    state, _ = p.run_chunk(472)(state, array)  # to step 499
    for t in (499, 500, 501):
        before = _critic_updates(state)
        state, _ = p.run_chunk(1)(state, array)
        per_step[t] = _critic_updates(state) - before
    # every 500th, not only the 500th: jump the counter (the schedule reads only the step)
    state = dataclasses.replace(state, step=jnp.full_like(state.step, 999))
    for t in (999, 1000, 1001):
        before = _critic_updates(state)
        state, _ = p.run_chunk(1)(state, array)
        per_step[t] = _critic_updates(state) - before
    assert per_step == {24: 100, 25: 5, 26: 5, 499: 5, 500: 100, 501: 5,
                        999: 5, 1000: 100, 1001: 5}  # fmt: skip


def test_without_critic_boost_every_step_has_n_critic_updates():
    cfg = tiny(loss="wgan", n_critic=5, optimizer="adam", seeds=1, batch_size=8, hidden=8,
               depth=1)  # fmt: skip
    p = GANProgram.build(cfg, RING)
    state, _ = p.run_chunk(3)(p.init(), p.put_data(RING.array))
    assert _critic_updates(state) == 15


# ---- 5. batch norm: D sees each batch with that batch's own statistics -----------------------


def test_a_dcgan_discriminator_update_normalises_real_and_fake_batches_by_their_own_statistics():
    # With batch norm, D's loss in training is computed with batch statistics for both the
    # real and the fake batch (the DCGAN paper; running averages are for evaluation), and
    # the running averages move through the real then the fake batch.
    digits = data_lib.load("digits")
    cfg = tiny(dataset="digits", hidden=8, z_dim=8, batch_size=16, loss="nsgan")
    p = GANProgram.build(cfg, digits)
    state = one(p.init([0]))
    rng = np.random.default_rng(0)
    x_real = jnp.asarray(rng.normal(size=(16, *digits.sample_shape)), jnp.float32)
    x_fake = jnp.asarray(rng.normal(size=(16, *digits.sample_shape)) + 0.5, jnp.float32)
    d, d_loss, _ = jax.jit(lambda s: step_lib.d_update(p, s, s.d, x_real, x_fake))(state)

    def by_hand(x, stats):  # flax directly, training mode: this batch's statistics
        variables = {"params": state.d.params, "batch_stats": stats}
        out, new = p.discriminator.apply(variables, x, train=True, mutable=["batch_stats"])
        return out, new["batch_stats"]

    real, stats = by_hand(x_real, state.d.stats)
    fake, stats = by_hand(x_fake, stats)
    assert float(d_loss) == pytest.approx(float(p.loss.d_loss(real, fake)), rel=1e-5)
    for got, want in zip(leaves(d.stats), leaves(stats), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    # and the statistics are not the initial ones (the check above would pass vacuously)
    pairs = zip(leaves(d.stats), leaves(state.d.stats), strict=True)
    assert not all(np.array_equal(a, b) for a, b in pairs)


def test_a_dcgan_generator_step_sees_d_with_the_fake_batchs_own_statistics():
    # G's loss is D's training-mode output on G's batch (batch statistics of the fakes),
    # with G itself in training mode too
    digits = data_lib.load("digits")
    cfg = tiny(dataset="digits", hidden=8, z_dim=8, batch_size=16, loss="nsgan")
    p = GANProgram.build(cfg, digits)
    state = one(p.init([0]))
    z = jax.random.normal(jax.random.key(1), (16, 8))
    (g_loss, _), _ = jax.jit(lambda s: step_lib.g_grads(p, s.g, s.d, z))(state)

    def train_mode(module, player, x):
        variables = {"params": player.params, "batch_stats": player.stats}
        return module.apply(variables, x, train=True, mutable=["batch_stats"])[0]

    logits = train_mode(p.discriminator, state.d, train_mode(p.generator, state.g, z))
    assert float(g_loss) == pytest.approx(float(p.loss.g_loss(logits)), rel=1e-5)


# ---- 6. one compiled call per chunk: every seed in it, the state updated in place ------------


def _outer_scans(jaxpr) -> list[int]:
    """The lengths of the scans at the top of a traced chunk (inside its jit)."""
    found = []
    for e in jaxpr.eqns:
        if e.primitive.name in ("pjit", "jit"):
            found += _outer_scans(e.params["jaxpr"].jaxpr)
        elif e.primitive.name == "scan":
            found.append(e.params["length"])
    return found


def test_on_one_cpu_many_replicas_of_a_large_mlp_run_in_equal_groups_of_at_most_ten():
    if jax.default_backend() != "cpu":
        pytest.skip("the grouping is for a single CPU device")
    big = dict(hidden=256)  # 1.6 MB of state a replica; TINY's 29 kB stays in one group
    assert GANProgram.build(tiny(**big, seeds=2), RING).replica_state_bytes() > 2**20
    assert GANProgram.build(tiny(seeds=32), RING).seed_group == 32
    sizes = (10, 11, 20, 32)
    groups = {s: GANProgram.build(tiny(**big, seeds=s), RING).seed_group for s in sizes}
    assert groups == {10: 10, 11: 6, 20: 10, 32: 8}  # 20: two groups of ten, not three of 7
    # the threshold is "over 1 MiB": 0.87 MiB a replica stays in one group, and a state of
    # exactly the threshold too
    below = GANProgram.build(tiny(hidden=192, seeds=32), RING)
    assert 0.75 * 2**20 < below.replica_state_bytes() < 2**20 and below.seed_group == 32
    at = GANProgram.build(tiny(**big, seeds=11), RING)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(step_lib, "CPU_LARGE_STATE", at.replica_state_bytes())
        assert at.seed_group == 11
    # a replica of the last, smaller group (11 = 6 + 5) is the single run of its seed
    p = GANProgram.build(tiny(**big, seeds=11, seed=0), RING)
    many, _ = p.run_chunk(2)(p.init(), p.put_data(RING.array))
    one_p = GANProgram.build(tiny(**big, seeds=1, seed=10), RING)
    one, _ = one_p.run_chunk(2)(one_p.init(), one_p.put_data(RING.array))
    for a, b in zip(jax.tree.leaves(many), jax.tree.leaves(one), strict=True):
        np.testing.assert_allclose(np.asarray(a)[10], np.asarray(b)[0], rtol=1e-5, atol=1e-7)


def test_generate_takes_train_by_keyword_only():
    # A silent default once fed the probe's D eval-mode samples; a positional True or False
    # is as easy to misread, so `train` must be spelled out.
    p = GANProgram.build(tiny(seeds=1), RING)
    g = jax.tree.map(lambda x: x[0], p.init()).g
    z = jnp.zeros((4, p.cfg.z_dim))
    with pytest.raises(TypeError):
        step_lib.generate(p, g, z, True)
    assert step_lib.generate(p, g, z, train=True)[0].shape == (4, 2)


@pytest.mark.parametrize("backend", ["gpu", "tpu", "METAL"])  # jax-metal's name is upper case
def test_off_cpu_every_replica_is_vmapped_together(monkeypatch, backend):
    # The CPU rules (a DCGAN one seed at a time, a large MLP in groups of ten) are for
    # XLA:CPU only; on an accelerator vmap over all seeds is the point.
    monkeypatch.setattr(step_lib.jax, "default_backend", lambda: backend)
    digits = data_lib.load("digits")
    assert GANProgram.build(tiny(dataset="digits", seeds=4), digits).seed_group == 4
    assert GANProgram.build(tiny(hidden=256, seeds=32), RING).seed_group == 32


@pytest.mark.parametrize(("dataset", "outer"), [("ring8", [3]), ("digits", [2])])
def test_a_chunk_vmaps_an_mlps_seeds_and_maps_a_dcgans_one_at_a_time_on_one_cpu(dataset, outer):
    # 2 seeds, 3 steps. An MLP's seeds are one vmapped program: the only outer loop is the
    # steps' scan (3). A DCGAN on one CPU device (seed_group 1) loops over its seeds (2),
    # each running the steps' scan inside.
    data = data_lib.load(dataset)
    cfg = tiny(seeds=2) if dataset == "ring8" else tiny(dataset="digits", seeds=2, batch_size=8)
    p = GANProgram.build(cfg, data)
    assert p.seed_group == (2 if dataset == "ring8" else 1)
    state = jax.eval_shape(p.init)  # traced, not compiled
    jaxpr = jax.make_jaxpr(lambda s, x: step_lib.chunk(p, s, x, length=3))(state, data.array)
    assert _outer_scans(jaxpr.jaxpr) == outer


def test_a_chunk_updates_the_state_in_place():
    # The chunk donates its input state: XLA writes the new state into the old buffers
    # (one copy of the state in memory, not two), and the old arrays are gone.
    p = GANProgram.build(tiny(seeds=2), RING)
    state = p.init()
    new, _ = p.run_chunk(2)(state, p.put_data(RING.array))
    assert all(x.is_deleted() for x in jax.tree.leaves(state))
    assert not any(x.is_deleted() for x in jax.tree.leaves(new))


def test_samples_use_gs_population_statistics_so_none_depends_on_the_others_drawn():
    """Sampling (evaluation, `gancli sample`) runs a batch-normalised G in eval mode: each
    sample is G(z) with the population statistics, whatever else is drawn beside it. In
    training mode the first five of a thousand would differ from the same five alone."""
    cfg = tiny(seeds=2, g_batchnorm=True)
    data = data_lib.load("ring8")
    p = GANProgram.build(cfg, data)
    state, _ = p.run_chunk(5)(p.init(), p.put_data(data.array))  # statistics moved off init
    z = jax.random.normal(jax.random.key(0), (2, 1000, cfg.z_dim))
    many, few = np.asarray(p.sample(state, z)), np.asarray(p.sample(state, z[:, :5]))
    np.testing.assert_allclose(few, many[:, :5], rtol=1e-5, atol=1e-6)
    # and not a training-mode G: with its batch's statistics the five come out elsewhere
    train_mode = jax.vmap(lambda s, z: step_lib.generate(p, s.g, z, train=True)[0])
    assert not np.allclose(np.asarray(train_mode(state, z[:, :5])), few, atol=1e-3)


def test_a_program_cannot_change_after_it_is_built():
    """A GANProgram is the static argument of every compiled function: changed in place,
    a cached executable would run the old settings. It is frozen."""
    p = GANProgram.build(tiny(), data_lib.load("ring8"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.cfg = tiny(loss="wgan")


def test_training_never_reads_gs_population_statistics():
    """Both players' updates see G in training mode (a batch-normalised G normalised by its
    batch), D's as well as G's: two states that differ only in G's population statistics
    train to bit-identical parameters. Only sampling reads those statistics."""
    cfg = tiny(seeds=2, g_batchnorm=True)
    data = data_lib.load("ring8")
    p = GANProgram.build(cfg, data)
    data_array = p.put_data(data.array)
    assert jax.tree.leaves(p.init().g.stats)
    ends = []
    for shift in (0.0, 3.0):
        state = p.init()
        stats = jax.tree.map(lambda x, s=shift: x + s, state.g.stats)
        ends.append(p.run_chunk(3)(state.replace(g=state.g.replace(stats=stats)), data_array)[0])
    players = [jax.tree.leaves((e.g.params, e.d.params)) for e in ends]
    for a, b in zip(*players, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(*(np.asarray(jax.tree.leaves(e.g.stats)[0]) for e in ends))
