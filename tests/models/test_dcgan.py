"""DCGAN generator/discriminator: shapes, batchnorm placement, train/eval stats, vmap.

XLA:CPU compiles are the cost here, so shape/structure checks use `jax.eval_shape` (tracing
only) and value checks share one jitted 16x16 model pair.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gancli.models.dcgan import (
    ConvTranspose4x4,
    DCGANDiscriminator,
    DCGANGenerator,
    StridedConv4x4,
    count_params,
    dcgan_normal,
    num_stages,
)

Z = 8
F = 8  # small width keeps every test fast on CPU
B = 4
KEY = jax.random.key(0)
MUT = ["batch_stats", "intermediates"]


# Inputs come from numpy: an eager jax.random draw of a new rank-4 shape costs seconds of XLA
# compile on CPU.
def _z(b=B, seed=1):
    return jnp.asarray(np.random.default_rng(seed).standard_normal((b, Z)), jnp.float32)


def _x(size, ch, b=B, seed=2):
    x = np.random.default_rng(seed).uniform(-1, 1, (b, size, size, ch))
    return jnp.asarray(x, jnp.float32)


def _bn_names(tree):
    return sorted(k for k in tree if k.startswith("bn_"))


def _shape_init(model, inp):
    return jax.eval_shape(lambda: model.init(KEY, inp, train=False))


# ------------------------------------------------------------------------------ shared models

G16 = DCGANGenerator(16, 1, F)
D16 = DCGANDiscriminator(16, 1, F)


_g16_init = jax.jit(lambda k: G16.init(k, _z(), train=False))


def _np(tree):
    """Results as numpy, so checks on them do not compile an XLA op per shape."""
    return jax.tree.map(np.asarray, tree)


@functools.cache
def _g16_vars():
    return _np(_g16_init(KEY))


@functools.cache
def _d16_vars():
    return _np(jax.jit(lambda k: D16.init(k, _x(16, 1), train=False))(jax.random.key(1)))


@functools.partial(jax.jit, static_argnames=("model", "train"))
def _apply_jit(model, v, inp, train):
    out, st = model.apply(v, inp, train=train, mutable=MUT, capture_intermediates=True)
    return out, st.get("batch_stats", {}), st["intermediates"]


def _apply(model, v, inp, train):
    """Apply returning numpy (out, updated batch_stats, intermediates)."""
    return _np(_apply_jit(model, v, inp, train))


# ------------------------------------------------------------------------------ shapes


@pytest.mark.parametrize("size", [8, 16, 32, 64])
@pytest.mark.parametrize("ch", [1, 3])
def test_shapes_train_and_eval(size, ch):
    g, d = DCGANGenerator(size, ch, F), DCGANDiscriminator(size, ch, F)
    z, x = _z(), _x(size, ch)
    gv, dv = _shape_init(g, z), _shape_init(d, x)
    for train in (False, True):
        out, _ = jax.eval_shape(lambda v, t=train: g.apply(v, z, train=t, mutable=MUT[:1]), gv)
        assert (out.shape, out.dtype) == ((B, size, size, ch), jnp.float32)
        logits, _ = jax.eval_shape(lambda v, t=train: d.apply(v, x, train=t, mutable=MUT[:1]), dv)
        assert (logits.shape, logits.dtype) == ((B,), jnp.float32)


@pytest.mark.parametrize("train", [False, True])
def test_values_in_range_and_finite(train):
    gv, dv = _g16_vars(), _d16_vars()
    out, _, _ = _apply(G16, gv, _z(), train)
    assert out.shape == (B, 16, 16, 1)
    assert float(out.min()) >= -1.0 and float(out.max()) <= 1.0
    assert float(out.std()) > 0
    logits, _, _ = _apply(D16, dv, out, train)  # D takes G's output directly
    assert logits.shape == (B,) and np.all(np.isfinite(logits))
    # Big weights push pre-activations far out; tanh must still keep the output in [-1, 1].
    big = {**gv, "params": jax.tree.map(lambda p: np.asarray(p) * 50.0, gv["params"])}
    out, _, _ = _apply(G16, big, _z(), train)
    assert np.abs(out).max() <= 1.0
    assert np.abs(out).max() > 0.99


def test_bad_sizes_and_inputs():
    assert [num_stages(s) for s in (8, 16, 32, 64)] == [1, 2, 3, 4]
    for bad in (4, 12, 24, 0, True, 16.0):
        with pytest.raises(ValueError, match="power of two"):
            num_stages(bad)
    with pytest.raises(ValueError, match="power of two"):
        _shape_init(DCGANGenerator(24), _z())
    with pytest.raises(ValueError, match="expects"):
        _shape_init(D16, _x(32, 1))
    with pytest.raises(ValueError, match="expects"):
        _shape_init(D16, _x(16, 3))


# ------------------------------------------------------------------------------ BN placement


@pytest.mark.parametrize("size", [8, 16, 32, 64])
def test_bn_layer_names_and_counts(size):
    k = num_stages(size)
    gv = _shape_init(DCGANGenerator(size, 3, F), _z())
    dv = _shape_init(DCGANDiscriminator(size, 3, F), _x(size, 3))
    # G: bn_i normalises the input of deconv_i: k of them, none after the last deconv.
    assert _bn_names(gv["params"]) == [f"bn_{i}" for i in range(k)]
    assert _bn_names(gv["batch_stats"]) == [f"bn_{i}" for i in range(k)]
    assert sorted(gv["params"]) == sorted(
        ["project", *[f"deconv_{i}" for i in range(k)], *[f"bn_{i}" for i in range(k)]]
    )
    # D: bn_i follows conv_i for i >= 1 only: k - 1 of them, no bn_0 on the input layer.
    assert _bn_names(dv["params"]) == [f"bn_{i}" for i in range(1, k)]
    assert sorted(dv["params"]) == sorted(
        ["out", *[f"conv_{i}" for i in range(k)], *[f"bn_{i}" for i in range(1, k)]]
    )
    if k == 1:
        assert "batch_stats" not in dv
    else:
        assert _bn_names(dv["batch_stats"]) == [f"bn_{i}" for i in range(1, k)]


def test_bn_channel_widths_exclude_output_and_input_layers():
    # Name-independent: channels normalised by BN. With channels=3, features=8, size 32 (k=3):
    # G maps 4x4x32 -> 8x8x16 -> 16x16x8 -> 32x32x3 ; D 32x32x3 -> 16x16x8 -> 8x8x16 -> 4x4x32.
    # A BN on G's output would normalise 3 channels; one on D's input conv would normalise 8.
    gv = _shape_init(DCGANGenerator(32, 3, 8), _z())
    dv = _shape_init(DCGANDiscriminator(32, 3, 8), _x(32, 3))
    g_widths = sorted(v["mean"].shape[0] for v in gv["batch_stats"].values())
    d_widths = sorted(v["mean"].shape[0] for v in dv["batch_stats"].values())
    assert g_widths == [8, 16, 32]
    assert d_widths == [16, 32]
    # Layers feeding a BN have no bias; the un-normalised ends keep theirs.
    assert "bias" in gv["params"]["deconv_2"] and "bias" not in gv["params"]["deconv_1"]
    assert "bias" not in gv["params"]["project"]
    assert "bias" in dv["params"]["conv_0"] and "bias" not in dv["params"]["conv_1"]
    assert dv["params"]["out"]["kernel"].shape == (4 * 4 * 32, 1)


@pytest.mark.parametrize("train", [False, True])
def test_generator_output_is_tanh_of_last_deconv(train):
    # Functional check: nothing (e.g. a BN) sits between the last deconv and tanh.
    out, _, inter = _apply(G16, _g16_vars(), _z(), train)
    last = inter["deconv_1"]["__call__"][0]
    np.testing.assert_allclose(out, np.tanh(np.asarray(last)), rtol=0, atol=1e-6)


@pytest.mark.parametrize("train", [False, True])
def test_discriminator_first_conv_is_not_normalised(train):
    # Functional check: conv_1's output equals conv_1 applied to leaky_relu(conv_0 output),
    # which fails if anything (e.g. a BN) is inserted after D's input conv.
    dv = _d16_vars()
    _, _, inter = _apply(D16, dv, _x(16, 1), train)
    h0 = inter["conv_0"]["__call__"][0]
    h1 = inter["conv_1"]["__call__"][0]
    conv1 = nn.Conv(2 * F, (4, 4), strides=(2, 2), padding=((1, 1), (1, 1)), use_bias=False)
    expect = conv1.apply({"params": dv["params"]["conv_1"]}, np.where(h0 > 0, h0, 0.2 * h0))
    np.testing.assert_allclose(h1, expect, rtol=1e-4, atol=1e-5)


def test_nobn_variant_has_no_batch_stats():
    g = DCGANGenerator(16, 1, F, use_bn=False)
    v = jax.eval_shape(lambda: g.init(KEY, _z(), train=True))
    assert "batch_stats" not in v
    assert _bn_names(v["params"]) == []
    # all layers keep their bias when nothing normalises them
    assert all("bias" in v["params"][n] for n in ("project", "deconv_0", "deconv_1"))
    # train=True without mutable=[...] traces fine: there is nothing to update (the BN
    # generator, by contrast, raises because batch_stats would be written)
    out = jax.eval_shape(lambda v: g.apply(v, _z(), train=True), v)
    assert out.shape == (B, 16, 16, 1)
    with pytest.raises(Exception, match="batch_stats"):
        jax.eval_shape(lambda v: G16.apply(v, _z(), train=True), _shape_init(G16, _z()))
    d = DCGANDiscriminator(16, 1, F, use_bn=False)
    assert "batch_stats" not in _shape_init(d, _x(16, 1))


# ------------------------------------------------------------------------------ train / eval


@pytest.mark.parametrize("which", ["G", "D"])
def test_batch_stats_update_only_in_train_mode(which):
    model, v, inp = (G16, _g16_vars(), _z()) if which == "G" else (D16, _d16_vars(), _x(16, 1))
    _, new, _ = _apply(model, v, inp, True)
    old_leaves, new_leaves = jax.tree.leaves(v["batch_stats"]), jax.tree.leaves(new)
    assert len(old_leaves) == len(new_leaves) > 0
    for a, b in zip(old_leaves, new_leaves, strict=True):
        assert not np.allclose(a, b)
    _, same, _ = _apply(model, v, inp, False)
    for a, b in zip(old_leaves, jax.tree.leaves(same), strict=True):
        np.testing.assert_array_equal(a, b)
    # eval mode uses running stats: an example's output does not depend on its batch-mates
    full, _, _ = _apply(model, v, inp, False)
    other = np.asarray(inp).copy()
    other[1:] = other[1:] * 3.0 + 0.7  # same first example, different batch-mates
    eval_other, _, _ = _apply(model, v, other, False)
    np.testing.assert_allclose(full[0], eval_other[0], rtol=1e-5, atol=1e-6)
    # train mode normalises with batch statistics: it does depend on them
    train_full, _, _ = _apply(model, v, inp, True)
    train_other, _, _ = _apply(model, v, other, True)
    assert not np.allclose(train_full[0], train_other[0], atol=1e-4)


def test_running_mean_momentum_is_0_9():
    v = _g16_vars()
    _, new, inter = _apply(G16, v, _z(), True)
    h = inter["project"]["__call__"][0].reshape(B, 4, 4, 2 * F)
    batch_mean = h.mean(axis=(0, 1, 2))
    # running = 0.9 * running (0 at init) + 0.1 * batch mean
    np.testing.assert_allclose(new["bn_0"]["mean"], 0.1 * batch_mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(v["batch_stats"]["bn_0"]["var"], 1.0)


# ------------------------------------------------------------------------------ vmap / grads


def test_vmap_over_seeds():
    keys = jax.random.split(jax.random.key(7), 2)
    z, x = _z(), _x(16, 1)

    @jax.jit
    def run(keys):
        gv = jax.vmap(lambda k: G16.init(k, z, train=False))(keys)
        dv = jax.vmap(lambda k: D16.init(k, x, train=False))(keys)
        g_tr = jax.vmap(lambda v: G16.apply(v, z, train=True, mutable=["batch_stats"]))(gv)
        g_ev = jax.vmap(lambda v: G16.apply(v, z, train=False))(gv)
        d_ev = jax.vmap(lambda v: D16.apply(v, x, train=False))(dv)
        return gv, dv, g_tr, g_ev, d_ev

    gv, dv, (g_tr, g_st), g_ev, d_ev = _np(run(keys))
    for tree in (gv["params"], dv["params"]):
        kernels = [leaf for leaf in jax.tree.leaves(tree) if leaf.ndim >= 3]
        assert kernels and all(not np.allclose(leaf[0], leaf[1]) for leaf in kernels)
    assert g_tr.shape == (2, B, 16, 16, 1) and d_ev.shape == (2, B)
    assert not np.allclose(g_tr[0], g_tr[1])
    for i in range(2):
        gi = jax.tree.map(lambda a, i=i: np.asarray(a)[i], gv)  # numpy: no per-shape compile
        di = jax.tree.map(lambda a, i=i: np.asarray(a)[i], dv)
        tr_i, st_i, _ = _apply(G16, gi, z, True)  # same compiled programs as other tests
        ev_i, d_i = _apply(G16, gi, z, False)[0], _apply(D16, di, x, False)[0]
        np.testing.assert_allclose(g_tr[i], tr_i, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(g_ev[i], ev_i, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(d_ev[i], d_i, rtol=1e-5, atol=1e-5)
        for a, b in zip(jax.tree.leaves(g_st), jax.tree.leaves(st_i), strict=True):
            np.testing.assert_allclose(a[i], b, rtol=1e-5, atol=1e-6)
    # the first seed's init equals a plain (un-vmapped) init with the same key
    g0 = _np(_g16_init(keys[0]))
    for a, b in zip(jax.tree.leaves(gv), jax.tree.leaves(g0), strict=True):
        np.testing.assert_allclose(a[0], b, rtol=1e-6, atol=1e-7)


def test_grad_reaches_every_generator_param():
    gv, dv = _g16_vars(), _d16_vars()

    @jax.jit
    def grads(gp):
        def loss(gp):
            fake, _ = G16.apply({**gv, "params": gp}, _z(), train=True, mutable=["batch_stats"])
            logits, _ = D16.apply(dv, fake, train=True, mutable=["batch_stats"])
            return jnp.mean(logits)

        return jax.grad(loss)(gp)

    g = _np(grads(gv["params"]))
    for path, leaf in jax.tree_util.tree_leaves_with_path(g):
        assert np.abs(leaf).sum() > 0, jax.tree_util.keystr(path)


def test_init_scale_is_dcgan_normal_0_02():
    k = _d16_vars()["params"]["conv_1"]["kernel"]
    assert k.shape == (4, 4, F, 2 * F)
    assert abs(float(k.std()) - 0.02) < 0.003 and abs(float(k.mean())) < 0.003
    assert np.all(np.asarray(_g16_vars()["params"]["deconv_1"]["bias"]) == 0)
    assert np.all(np.asarray(_g16_vars()["params"]["bn_0"]["scale"]) == 1)


def test_count_params():
    assert count_params({"a": jnp.zeros((3, 4)), "b": {"c": jnp.zeros(5)}}) == 17
    assert count_params({}) == 0
    v = _shape_init(DCGANGenerator(16, 1, 64), jnp.zeros((2, 100)))
    # project 100*2048, bn_0 2*128, deconv_0 4*4*128*64, bn_1 2*64, deconv_1 4*4*64*1 + 1
    assert count_params(v["params"]) == 204800 + 256 + 131072 + 128 + 1025
    v = _shape_init(DCGANDiscriminator(16, 1, 64), jnp.zeros((2, 16, 16, 1)))
    # conv_0 4*4*1*64 + 64, conv_1 4*4*64*128, bn_1 2*128, out 2048 + 1
    assert count_params(v["params"]) == 1088 + 131072 + 256 + 2049
    assert count_params(v["batch_stats"]) == 256


# ------------------------------------------------------------------------------ conv layers
# The models use slice + matmul convolutions (fast inside lax.scan on XLA:CPU); they must
# compute exactly what the flax layers they replace compute, forward and backward.

# (input shape (B, H, W, C), output features): odd channel counts, a 1-channel input and a
# non-square input catch mixed-up axes or tap orders.
CONV_CASES = [((3, 8, 8, 3), 5), ((2, 16, 8, 1), 8), ((2, 4, 4, 16), 4)]


def _flax_twin(kind, features):
    if kind == "conv":
        return StridedConv4x4(features), nn.Conv(
            features, (4, 4), strides=(2, 2), padding=((1, 1), (1, 1)), kernel_init=dcgan_normal
        )
    return ConvTranspose4x4(features), nn.ConvTranspose(
        features, (4, 4), strides=(2, 2), padding="SAME", kernel_init=dcgan_normal
    )


@pytest.mark.parametrize("kind", ["conv", "deconv"])
def test_matmul_convs_match_flax_layers_forward_and_gradients(kind):
    rng = np.random.default_rng(3)
    cases = []
    for shape, f in CONV_CASES:
        c = shape[-1]
        x = rng.standard_normal(shape).astype(np.float32)
        params = {  # unit-scale outputs; a nonzero bias so it is checked too
            "kernel": (rng.standard_normal((4, 4, c, f)) / np.sqrt(16 * c)).astype(np.float32),
            "bias": rng.standard_normal(f).astype(np.float32),
        }
        out_hw = (shape[1] // 2, shape[2] // 2) if kind == "conv" else (2 * shape[1], 2 * shape[2])
        ct = rng.standard_normal((shape[0], *out_hw, f)).astype(np.float32)
        cases.append((x, params, ct))

    @jax.jit
    def run(cases):
        res = []
        for (x, params, ct), (_, f) in zip(cases, CONV_CASES, strict=True):
            ours, ref = _flax_twin(kind, f)
            # same parameter names, shapes and init values for the same key
            inits = ours.init(KEY, x), ref.init(KEY, x)
            outs = []
            for model in (ours, ref):
                y, vjp = jax.vjp(lambda p, x, m=model: m.apply({"params": p}, x), params, x)
                outs.append((y, *vjp(ct)))  # (y, d params, d x)
            res.append((inits, outs))
        return res

    results = _np(run(cases))
    for (x, _, _), (_, f), (inits, (ours, ref)) in zip(cases, CONV_CASES, results, strict=True):
        assert jax.tree.structure(inits[0]) == jax.tree.structure(inits[1])
        for a, b in zip(jax.tree.leaves(inits[0]), jax.tree.leaves(inits[1]), strict=True):
            np.testing.assert_array_equal(a, b)
        y = ours[0]
        want = (x.shape[0], x.shape[1] // 2, x.shape[2] // 2, f) if kind == "conv" else (
            x.shape[0], 2 * x.shape[1], 2 * x.shape[2], f)  # fmt: skip
        assert y.shape == want
        for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(ref), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_models_use_no_convolution_primitive():
    # XLA:CPU runs convolutions (and their gradients) ~10-20x slower inside lax.scan; the
    # training step, forward and backward, must be slices and matmuls only.
    gv, dv = _shape_init(G16, _z()), _shape_init(D16, _x(16, 1))

    def loss(gv, dv):
        fake, _ = G16.apply(gv, _z(), train=True, mutable=["batch_stats"])
        logits, _ = D16.apply(dv, fake, train=True, mutable=["batch_stats"])
        return jnp.mean(logits)

    jaxpr = str(jax.make_jaxpr(jax.grad(loss, argnums=(0, 1)))(gv, dv))
    assert "dot_general" in jaxpr
    assert "conv_general_dilated" not in jaxpr  # what nn.Conv and nn.ConvTranspose emit


def test_weakened_generators_of_the_wgan_paper():
    """nobn-const: no batchnorm and `features` filters in every hidden stage; mlp: 4 x 512."""
    from gancli import models
    from gancli.config import Config, resolve
    from gancli.data import load
    from gancli.models.image_mlp import MLPImageGenerator

    data = load("digits", 16)
    cfg = resolve(Config(dataset="digits", hidden=F, z_dim=8))
    const, _ = models.build(cfg.replace(generator_variant="nobn-const"), data)
    v = jax.eval_shape(lambda: const.init(KEY, jnp.zeros((B, 8)), train=True))
    assert "batch_stats" not in v
    kernels = [v["params"][n]["kernel"].shape for n in ("project", "deconv_0", "deconv_1")]
    assert kernels == [(8, 4 * 4 * F), (4, 4, F, F), (4, 4, F, 1)]  # constant F filters
    pyramid, _ = models.build(cfg, data)
    pv = jax.eval_shape(lambda: pyramid.init(KEY, jnp.zeros((B, 8)), train=True))
    assert pv["params"]["project"]["kernel"].shape == (8, 4 * 4 * 2 * F)  # doubles: 2F

    mlp, _ = models.build(cfg.replace(generator_variant="mlp"), data)
    assert isinstance(mlp, MLPImageGenerator)
    mv = mlp.init(KEY, jnp.zeros((B, 8)))
    dense = [mv["params"][f"dense_{i}"]["kernel"].shape for i in range(4)]
    assert dense == [(8, 512), (512, 512), (512, 512), (512, 512)]
    assert mlp.apply(mv, jnp.ones((B, 8))).shape == (B, 16, 16, 1)
