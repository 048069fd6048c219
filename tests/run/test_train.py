import jax
import jax.numpy as jnp
import numpy as np

from gancli import data as data_lib
from gancli.core.step import GANProgram
from gancli.quality.evaluator import Evaluator
from tests.conftest import tiny

RING = data_lib.load("ring8")


def run(cfg, steps, seeds=None, state=None):
    p = GANProgram.build(cfg, RING)
    state = p.init(seeds) if state is None else state
    state, m = p.run_chunk(steps)(state, p.put_data(RING.array))
    return p, state, m


def leaves(tree):
    return [np.asarray(x) for x in jax.tree.leaves(tree)]


def test_seed_i_of_a_vmapped_run_equals_a_single_run_of_seed_i():
    # Equal to float32 rounding: XLA may order a reduction differently for another seed
    # count (differences seen: 1 ulp). Seeds never mix, so anything larger is a bug.
    _, many, m_many = run(tiny(seeds=3, seed=5), 10)
    _, one, m_one = run(tiny(seeds=1, seed=6), 10)
    for a, b in zip(leaves(many), leaves(one), strict=True):
        np.testing.assert_allclose(a[1], b[0], rtol=1e-5, atol=1e-8)
    for k in m_one:
        np.testing.assert_allclose(m_many[k][1], m_one[k][0], rtol=1e-5)


def test_different_seeds_give_different_parameters():
    _, s, _ = run(tiny(seeds=2), 10)
    for leaf in leaves(s.g.params) + leaves(s.d.params):
        if leaf[0].size > 1:  # every weight matrix differs between the two seeds
            assert not np.array_equal(leaf[0], leaf[1])


def test_different_seeds_draw_different_noise_from_the_same_parameters():
    # Seed 1 starts from seed 0's parameters: only the batches and z they draw differ.
    cfg = tiny(seeds=2)
    p = GANProgram.build(cfg, RING)
    s = p.init()
    same = jax.tree.map(lambda a: a.at[1].set(a[0]), (s.g, s.d))
    s = s.replace(g=same[0], d=same[1])
    _, after, m = run(cfg, 1, state=s)
    for leaf in leaves(after.g.params) + leaves(after.d.params):
        assert not np.array_equal(leaf[0], leaf[1])
    assert m["d_loss"][0] != m["d_loss"][1]
    # and the same key draws the same noise: equal states stay equal
    s = p.init()
    twin = jax.tree.map(lambda a: a.at[1].set(a[0]), s)
    _, after, _ = run(cfg, 3, state=twin)
    for leaf in leaves(after):
        np.testing.assert_array_equal(leaf[0], leaf[1])


def test_wgan_critic_weights_stay_clipped():
    clip = 0.02
    _, s, _ = run(tiny(loss="wgan", seeds=2, clip=clip, lr_d=1e-2), 20)
    d = np.concatenate([x.ravel() for x in leaves(s.d.params)])
    assert np.abs(d).max() <= clip + 1e-7
    # With a large learning rate many weights sit on the bound: the projection is active.
    assert np.mean(np.isclose(np.abs(d), clip)) > 0.1
    # on both bounds, and between them: a box [-c, c], not a constant or a one-sided cap
    assert np.mean(np.isclose(d, -clip)) > 0.05 and np.mean(np.isclose(d, clip)) > 0.05
    assert np.mean(np.abs(d) < 0.9 * clip) > 0.02  # 7 % here
    g = np.concatenate([x.ravel() for x in leaves(s.g.params)])
    assert np.abs(g).max() > clip  # the generator is not clipped


def test_n_critic_updates_per_generator_update():
    # Adam's step counter counts updates: 3 critic updates per generator update.
    _, s, _ = run(tiny(loss="wgan", n_critic=3, optimizer="adam"), 4)
    d_count = [np.asarray(x) for x in jax.tree.leaves(s.d.opt) if np.asarray(x).dtype == np.int32]
    g_count = [np.asarray(x) for x in jax.tree.leaves(s.g.opt) if np.asarray(x).dtype == np.int32]
    assert int(d_count[0][0]) == 12 and int(g_count[0][0]) == 4


def test_a_nan_in_one_seed_marks_only_that_seed():
    # NaN from step 0; a seed diverging mid-run: tests/core/test_wiring.py
    cfg = tiny(seeds=3)
    p = GANProgram.build(cfg, RING)
    clean = p.init()
    poisoned = clean.replace(
        g=clean.g.replace(params=jax.tree.map(lambda x: x.at[1].set(jnp.nan), clean.g.params))
    )
    # run_chunk donates its input: give each run its own copy.
    copy = lambda t: jax.tree.map(jnp.array, t)  # noqa: E731
    good, m_good = p.run_chunk(10)(copy(clean), p.put_data(RING.array))
    bad, m_bad = p.run_chunk(10)(poisoned, p.put_data(RING.array))
    assert np.asarray(bad.diverged_at).tolist() == [-1, 0, -1]
    d_loss = np.asarray(m_bad["d_loss"])
    assert np.isnan(d_loss[1]) and np.isfinite(d_loss[[0, 2]]).all()
    for a, b in zip(leaves(good), leaves(bad), strict=True):  # the others are untouched
        np.testing.assert_array_equal(a[[0, 2]], b[[0, 2]])
    assert int(np.asarray(bad.step)[1]) == 10  # the step counter keeps time for every seed


def test_short_nsgan_run_learns_ring8():
    # Adam 1e-3 instead of the notes' 1e-4 so that 1,000 steps are enough to see learning.
    cfg = tiny(seeds=2, hidden=128, depth=3, batch_size=256, eval_samples=2500, lr_g=1e-3,
               lr_d=1e-3)  # fmt: skip
    p = GANProgram.build(cfg, RING)
    ev = Evaluator(p, RING)
    state = p.init()
    _, before = ev(state)
    state, _ = p.run_chunk(500)(state, p.put_data(RING.array))
    state, _ = p.run_chunk(500)(state, p.put_data(RING.array))
    _, after = ev(state)
    for b, a in zip(before, after, strict=True):
        assert a["w1"] < 0.7 * b["w1"], (b, a)
        assert a["modes"] > b["modes"], (b, a)
        assert a["hq_frac"] > b["hq_frac"] + 0.02, (b, a)
