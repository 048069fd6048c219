"""Tests for gancli.quality.features on scikit-learn's bundled 8x8 digits (upsampled to 16x16)."""

from __future__ import annotations

import dataclasses
import json
import os
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.datasets import load_digits

from gancli.quality import classifier as cl
from gancli.quality import features as im

CACHE_STEPS = 60  # short trainings for the cache tests (accuracy is irrelevant there)


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    x = (d.images / 8.0 - 1.0).astype(np.float32)
    x = np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)[..., None]
    return x, d.target.astype(np.int32)


@pytest.fixture(scope="module")
def clf(digits):
    x, y = digits
    return cl.train_classifier(x, y, seed=0)


@pytest.fixture(scope="module")
def halves(digits):
    x, _ = digits
    perm = np.random.default_rng(123).permutation(len(x))
    return x[perm[: len(x) // 2]], x[perm[len(x) // 2 :]]


@pytest.fixture(scope="module")
def real_stats(clf, halves):
    return im.feature_stats(clf, halves[0])


# ----------------------------------------------------------------------------- classifier


def test_classifier_accuracy_far_above_chance(clf):
    assert clf.num_classes == 10
    assert clf.image_shape == (16, 16, 1)
    assert clf.accuracy > 0.85, clf.accuracy


def test_logits_and_features_shapes_and_batching(clf, digits):
    x, y = digits
    logits, feats = clf.logits_and_features(x[:700])  # 512 + a padded partial batch
    assert logits.shape == (700, 10) and feats.shape == (700, 128)
    assert logits.dtype == np.float32 and np.isfinite(feats).all()
    # Batching/padding does not change the result.
    lg2, ft2 = clf.logits_and_features(x[500:700])
    np.testing.assert_allclose(lg2, logits[500:], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ft2, feats[500:], rtol=1e-5, atol=1e-5)
    # The pure-JAX path agrees and is traceable under jit.
    lg3, ft3 = jax.jit(clf.apply)(jnp.asarray(x[:64]))
    np.testing.assert_allclose(np.asarray(lg3), logits[:64], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(ft3), feats[:64], rtol=1e-4, atol=1e-4)
    assert (clf.predict(x[:700]) == y[:700]).mean() > 0.9  # mostly training data


@pytest.mark.parametrize("shape", [(8, 8, 1), (28, 28, 1), (12, 20, 3), (64, 64, 3)])
def test_architecture_adapts_to_image_shape(shape):
    params = cl._param_shapes(shape, 7)
    c = cl.Classifier(params=params, image_shape=shape, num_classes=7, accuracy=float("nan"))
    logits, feats = jax.eval_shape(
        lambda p, x: dataclasses.replace(c, params=p).apply(x),
        params,
        jax.ShapeDtypeStruct((3, *shape), jnp.float32),
    )
    assert logits.shape == (3, 7) and feats.shape == (3, 128)
    with pytest.raises(ValueError):
        c.logits_and_features(np.zeros((3, shape[0] - 1, *shape[1:]), np.float32))


def test_non_square_rgb_runs():
    shape = (12, 20, 3)
    params = cl._init_params(shape, 3, jax.random.PRNGKey(0))
    c = cl.Classifier(params=params, image_shape=shape, num_classes=3, accuracy=float("nan"))
    x = np.random.default_rng(0).uniform(-1, 1, (70, *shape)).astype(np.float32)
    logits, feats = c.logits_and_features(x)  # 64 + a padded partial batch of 6
    assert logits.shape == (70, 3) and feats.shape == (70, 128) and np.isfinite(feats).all()
    s = im.feature_stats(c, x)
    assert s.class_hist.shape == (3,) and np.isfinite(s.sigma).all()


def test_training_needs_two_labelled_images(digits):
    x, y = digits
    with pytest.raises(ValueError, match="at least 2 labelled images"):
        cl.train_classifier(x[:1], y[:1], steps=1)
    cl.train_classifier(x[:2], y[:2], steps=1, holdout=0.0)  # two are enough


@pytest.mark.parametrize("holdout", [-0.1, 1.0, 1.5])
def test_a_holdout_share_outside_zero_to_one_is_refused(digits, holdout):
    x, y = digits
    with pytest.raises(ValueError, match=r"holdout must be in \[0, 1\)"):
        cl.train_classifier(x[:10], y[:10], steps=1, holdout=holdout)


def test_a_holdout_never_takes_the_last_training_image(digits):
    # 4 images: a holdout of 0.75 keeps 3 out and trains on 1; 0.99 would keep all 4 out,
    # and is capped to the same split: the same classifier, the same held-out accuracy
    x, y = digits
    a = cl.train_classifier(x[:4], y[:4], steps=2, holdout=0.75, seed=3)
    b = cl.train_classifier(x[:4], y[:4], steps=2, holdout=0.99, seed=3)
    for pa, pb in zip(jax.tree_util.tree_leaves(a.params), jax.tree_util.tree_leaves(b.params),
                      strict=True):  # fmt: skip
        np.testing.assert_array_equal(pa, pb)
    assert a.accuracy == b.accuracy and a.accuracy in (0.0, 1 / 3, 2 / 3, 1.0)


def test_the_accuracy_is_the_share_of_held_out_images_whose_label_is_predicted(digits):
    # the split is train_classifier's: the first round(holdout x n) images of numpy's
    # permutation under the seed are held out
    x, y = digits
    c = cl.train_classifier(x[:40], y[:40], steps=20, holdout=0.5, seed=1)
    hold = np.random.default_rng(1).permutation(40)[:20]
    predicted = c.predict(x[hold])
    assert c.accuracy == np.mean(predicted == y[hold])
    assert np.mean(predicted >= y[hold]) != c.accuracy  # the data tell "==" from ">="


def test_data_key_stable_and_sensitive(digits):
    x, y = digits
    k = cl.data_key(x, y)
    assert isinstance(k, str) and 8 <= len(k) <= 64
    assert cl.data_key(jnp.asarray(x), jnp.asarray(y)) == k
    assert cl.data_key(x.copy(), y.astype(np.int64)) == k
    x2 = x.copy()
    x2[5, 3, 3, 0] += 0.5
    assert cl.data_key(x2, y) != k
    y2 = y.copy()
    y2[0] = (y2[0] + 1) % 10
    assert cl.data_key(x, y2) != k
    assert cl.data_key(x[:100], y[:100]) != k


def test_fd_real_vs_real_small_and_noise_large(clf, halves, real_stats):
    _, b = halves
    fd_real = im.image_quality(clf, real_stats, b)["fd"]
    noise = np.random.default_rng(0).uniform(-1, 1, b.shape).astype(np.float32)
    fd_noise = im.image_quality(clf, real_stats, noise)["fd"]
    assert fd_real >= 0.0
    assert fd_noise > 10 * fd_real, (fd_real, fd_noise)


# ----------------------------------------------------------------------------- coverage


def test_feature_stats(clf, halves, real_stats):
    a, _ = halves
    assert real_stats.mu.shape == (128,) and real_stats.sigma.shape == (128, 128)
    assert real_stats.mu.dtype == np.float64
    np.testing.assert_allclose(real_stats.sigma, real_stats.sigma.T)
    assert real_stats.class_hist.shape == (10,)
    assert real_stats.class_hist.sum() == pytest.approx(1.0)
    assert real_stats.class_hist.min() > 0.07  # digits are ~balanced (~0.1 each)
    # Deterministic.
    again = im.feature_stats(clf, a)
    np.testing.assert_array_equal(again.mu, real_stats.mu)


def test_classes_covered_kl_and_inception(clf, digits, halves, real_stats):
    x, y = digits
    _, b = halves
    q_real = im.image_quality(clf, real_stats, b)
    assert set(q_real) == {
        "fd", "classes", "class_kl", "inception_score", "confident_frac"
    }  # fmt: skip
    assert q_real["confident_frac"] > 0.9  # the classifier is sure of most real digits
    assert all(isinstance(v, float) for v in q_real.values())
    assert q_real["classes"] == 10
    assert q_real["class_kl"] < 0.05
    assert q_real["inception_score"] > 7.0  # confident + balanced: close to 10

    # One digit class only ("mode collapse" onto a class).
    threes = x[y == 3]
    q3 = im.image_quality(clf, real_stats, threes)
    assert q3["classes"] <= 2
    assert q3["class_kl"] > 1.5  # log(10) ~ 2.3 for a single class
    assert q3["inception_score"] < 1.5
    assert q3["fd"] > 10 * q_real["fd"]

    # A single image repeated: exactly one class, IS == 1.
    one = np.repeat(x[:1], 500, axis=0)
    q1 = im.image_quality(clf, real_stats, one)
    assert q1["classes"] == 1
    assert q1["class_kl"] > 1.5
    assert q1["inception_score"] == pytest.approx(1.0, abs=1e-6)
    assert q_real["inception_score"] > q1["inception_score"]

    # Noise is not a digit: the classifier is rarely sure of it.
    rng = np.random.default_rng(0)
    noise = rng.uniform(x.min(), x.max(), size=(500, *x.shape[1:])).astype(np.float32)
    q_noise = im.image_quality(clf, real_stats, noise)
    assert q_noise["confident_frac"] < 0.5 < q_real["confident_frac"]
    # ...so it covers a class only with confident predictions, not by argmax alone.
    logits, _ = clf.logits_and_features(noise)
    argmax_only = np.bincount(logits.argmax(-1), minlength=10) >= max(1, 500 * 20 / 2500)
    confident = im._softmax(logits).max(-1) >= im.CONFIDENT
    by_rule = np.bincount(logits.argmax(-1)[confident], minlength=10) >= max(1, 500 * 20 / 2500)
    assert q_noise["classes"] == by_rule.sum() < argmax_only.sum()


def test_classes_covered_threshold_rule(clf, digits, real_stats):
    # 2500 samples: a class needs >= 20 confident predictions.  Use correctly and
    # confidently classified images.
    x, y = digits
    logits, _ = clf.logits_and_features(x)
    pred, sure = logits.argmax(-1), im._softmax(logits).max(-1) >= im.CONFIDENT
    pool = {c: x[(y == c) & (pred == c) & sure] for c in range(10)}
    main = np.repeat(pool[0], 2500 // len(pool[0]) + 1, axis=0)[: 2500 - 19 - 20]
    fake = np.concatenate([main, pool[1][:19], pool[2][:20]])
    assert len(fake) == 2500
    q = im.image_quality(clf, real_stats, fake)
    assert q["classes"] == 2  # class 0 and class 2 (20), not class 1 (19)


# ----------------------------------------------------------------------------- caching


def _count_training(monkeypatch):
    calls = []
    real = cl.train_classifier

    def wrapped(*a, **k):
        calls.append(k)
        return real(*a, **k)

    monkeypatch.setattr(cl, "train_classifier", wrapped)
    return calls


def _no_training(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("train_classifier called although a valid cache exists")

    monkeypatch.setattr(cl, "train_classifier", boom)


def test_cache_roundtrip_does_not_retrain(digits, tmp_path, monkeypatch):
    x, y = digits
    x, y = x[:600], y[:600]  # same shape in all cache tests: one compilation of training
    calls = _count_training(monkeypatch)
    c1 = cl.load_or_train_classifier(x, y, cache_dir=tmp_path, steps=CACHE_STEPS)
    assert len(calls) == 1
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1 and cl.data_key(x, y) in files[0].name
    assert not list(tmp_path.glob("*.tmp"))  # atomic write left no temp file behind

    _no_training(monkeypatch)
    c2 = cl.load_or_train_classifier(x, y, cache_dir=str(tmp_path), steps=CACHE_STEPS)
    assert c2.image_shape == c1.image_shape and c2.num_classes == c1.num_classes
    assert c2.accuracy == c1.accuracy
    l1, f1 = c1.logits_and_features(x[:300])
    l2, f2 = c2.logits_and_features(x[:300])
    np.testing.assert_array_equal(l1, l2)
    np.testing.assert_array_equal(f1, f2)

    # Different data -> different cache entry (would need training).
    with pytest.raises(AssertionError, match="valid cache"):
        cl.load_or_train_classifier(x[:-1], y[:-1], cache_dir=tmp_path, steps=CACHE_STEPS)
    # Explicitly passing a default value hits the same entry.
    cl.load_or_train_classifier(x, y, cache_dir=tmp_path, steps=CACHE_STEPS, seed=0, holdout=0.2)
    with pytest.raises(TypeError):
        cl.load_or_train_classifier(x, y, cache_dir=tmp_path, not_a_kwarg=1)
    # Different training kwargs -> different cache entry too.
    with pytest.raises(AssertionError, match="valid cache"):
        cl.load_or_train_classifier(x, y, cache_dir=tmp_path, steps=CACHE_STEPS, seed=1)


def test_cache_dir_from_env(digits, tmp_path, monkeypatch):
    x, y = digits
    monkeypatch.setenv("GANCLI_CACHE", str(tmp_path / "envcache"))
    assert cl.default_cache_dir() == tmp_path / "envcache" / "classifiers"
    cl.load_or_train_classifier(x[:600], y[:600], steps=CACHE_STEPS)
    assert len(list((tmp_path / "envcache" / "classifiers").glob("*.npz"))) == 1
    _no_training(monkeypatch)
    cl.load_or_train_classifier(x[:600], y[:600], steps=CACHE_STEPS)


def _edit_cache(path, edit) -> None:
    """Load a cached classifier's arrays {name: array}, let `edit` change them in place,
    and write them back."""
    with np.load(path) as z:
        arrays = {name: np.array(z[name]) for name in z.files}
    edit(arrays)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _rewrite_arrays(path, change) -> None:
    """Rewrite a cached classifier's arrays: the same tree, one bias a value short or long,
    or its metadata from a later or an earlier version of the recipe."""

    def edit(arrays):
        name = next(k for k in arrays if k.startswith("p/") and arrays[k].ndim == 1)
        if change == "short":
            arrays[name] = arrays[name][:-1]
        elif change == "long":
            arrays[name] = np.append(arrays[name], 0.0)
        else:
            meta = json.loads(str(arrays["__meta__"]))
            step = 1 if change == "newer" else -1
            version = meta["version"] + step
            arrays["__meta__"] = np.array(json.dumps({**meta, "version": version}))

    _edit_cache(path, edit)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [("garbage", ""), ("truncated", ""), ("empty", ""),
     ("short", "wrong shapes"), ("long", "wrong shapes"), ("newer", "older version"),
     ("older", "older version")],
)  # fmt: skip
def test_corrupt_cache_is_retrained_with_warning(digits, tmp_path, monkeypatch, damage, reason):
    x, y = digits
    x, y = x[:600], y[:600]
    c1 = cl.load_or_train_classifier(x, y, cache_dir=tmp_path, steps=CACHE_STEPS)
    (path,) = tmp_path.glob("*.npz")
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"this is not an npz file" * 10)
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        _rewrite_arrays(path, damage)

    calls = _count_training(monkeypatch)
    with pytest.warns(RuntimeWarning, match=f"{reason}.*retraining") as caught:
        c2 = cl.load_or_train_classifier(x, y, cache_dir=tmp_path, steps=CACHE_STEPS)
    assert len(calls) == 1 and caught[0].filename == __file__  # at the caller's line
    # Training is deterministic given the seed: the retrained classifier is identical.
    np.testing.assert_array_equal(c1.logits_and_features(x)[0], c2.logits_and_features(x)[0])
    # ... and the repaired cache is used next time.
    _no_training(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cl.load_or_train_classifier(x, y, cache_dir=tmp_path, steps=CACHE_STEPS)


def test_a_cache_file_is_never_unpickled(digits, tmp_path, monkeypatch):
    # a cache is data: an object array in it (whose unpickling would run code, here making
    # a directory) is refused as damage and retrained, and never unpickled
    x, y = digits
    x, y = x[:600], y[:600]
    cl.load_or_train_classifier(x, y, cache_dir=tmp_path, steps=CACHE_STEPS)
    (path,) = tmp_path.glob("*.npz")
    marker = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self):
            return os.mkdir, (str(marker),)

    def plant(arrays):
        name = next(k for k in arrays if k.startswith("p/"))
        arrays[name] = np.array([Payload()], dtype=object)

    _edit_cache(path, plant)
    calls = _count_training(monkeypatch)
    with pytest.warns(RuntimeWarning, match="retraining"):
        cl.load_or_train_classifier(x, y, cache_dir=tmp_path, steps=CACHE_STEPS)
    assert not marker.exists() and len(calls) == 1


def test_the_stages_bring_the_larger_side_to_8_pixels_with_none_to_spare():
    # each stride-2 stage halves a side, rounding up (SAME padding); at least two stages
    for side in range(8, 130):
        for shape in ((side, 8, 1), (8, side, 3)):
            n = len(cl._stage_channels(shape))
            after = side
            for _ in range(n):
                after = -(-after // 2)
            assert after <= 8, (shape, n)
            assert n == 2 or -(-side // 2 ** (n - 1)) > 8, (shape, n)  # one fewer would not do


@pytest.mark.parametrize(
    ("images", "labels", "message"),
    [(np.zeros((3, 17, 16, 1)), None, r"images have shape \(17, 16, 1\), classifier expects"),
     (np.zeros((3, 16, 16, 1)), np.zeros((3, 1)), r"labels must be \(3,\), got shape \(3, 1\)"),
     (np.zeros((3, 16, 16, 1)), np.zeros(2), r"labels must be \(3,\), got shape \(2,\)"),
     (np.zeros((3, 16, 16, 1)), np.zeros(4), r"labels must be \(3,\), got shape \(4,\)"),
     (np.zeros((3, 16, 16, 1)), np.zeros(()), r"labels must be \(3,\), got shape \(\)"),
     (np.zeros((3, 16, 16)), None, r"images must be \(N, H, W, C\), got shape \(3, 16, 16\)"),
     (np.zeros((3, 16, 16, 1, 1)), None, r"images must be \(N, H, W, C\), got shape"),
     (np.zeros((3, 16, 16, 1)), np.array([0, -1, 2]), "labels must be non-negative")],
)  # fmt: skip
def test_images_and_labels_of_the_wrong_shape_are_refused_by_message(images, labels, message):
    with pytest.raises(ValueError, match=message):
        if labels is None:
            cl._check_images(images, (16, 16, 1))
        else:
            cl._check_data(images, labels)


def test_labels_are_class_indices_below_the_number_of_classes(digits):
    x, y = digits
    _, labels = cl._check_data(np.zeros((3, 16, 16, 1)), np.array([1, 2, 1]))  # no class 0
    assert labels.tolist() == [1, 2, 1]
    for top in (3, 5):  # at and beyond the number of classes
        with pytest.raises(ValueError, match=f"label {top} out of range for num_classes=3"):
            cl.train_classifier(x[:4], np.array([0, 1, 2, top]), num_classes=3, steps=1)
    c = cl.train_classifier(x[:4], np.array([0, 1, 2, 3]), num_classes=4, steps=1)
    assert c.num_classes == 4


def test_the_training_recipe_is_passed_by_keyword():
    x = np.zeros((4, 16, 16, 1), np.float32)
    with pytest.raises(TypeError):
        cl.train_classifier(x, np.zeros(4, np.int32), 0)  # a seed by position


def test_an_unwritable_cache_warns_at_the_callers_line(digits, tmp_path, monkeypatch):
    x, y = digits
    x, y = x[:600], y[:600]

    def refuse(*a, **kw):
        raise OSError("read-only file system")

    monkeypatch.setattr(cl, "_save", refuse)
    with pytest.warns(RuntimeWarning, match="could not write classifier cache") as caught:
        cl.load_or_train_classifier(x, y, cache_dir=tmp_path, steps=CACHE_STEPS)
    assert caught[0].filename == __file__  # stacklevel 2: the caller's line, not gancli's


def test_the_classifier_is_a_cnn_with_one_3x3_conv_per_stage_then_two_dense_layers():
    params = cl._param_shapes((16, 16, 1), 10)  # 16 px: two stages, 16 -> 8 -> 4
    kernels = {k: v["kernel"].shape for k, v in params.items()}
    assert kernels == {"_Conv3x3S2_0": (3, 3, 1, 32), "_Conv3x3S2_1": (3, 3, 32, 64),
                       "Dense_0": (4 * 4 * 64, 128), "Dense_1": (128, 10)}  # fmt: skip


@pytest.mark.parametrize("cached", ["higher", "lower"])
def test_a_cache_file_of_other_data_at_this_datas_path_is_retrained(
    digits, tmp_path, monkeypatch, cached
):
    x, y = digits
    data = {cl.data_key(*d): d for d in ((x[:600], y[:600]), (x[1:601], y[1:601]))}
    hi, lo = max(data), min(data)
    src_key, dst_key = (hi, lo) if cached == "higher" else (lo, hi)
    cl.load_or_train_classifier(*data[src_key], cache_dir=tmp_path, steps=CACHE_STEPS)
    (src,) = tmp_path.glob("*.npz")
    # the file of the data whose key sorts higher (or lower), renamed to the other's entry
    src.rename(tmp_path / src.name.replace(src_key, dst_key))
    calls = _count_training(monkeypatch)
    with pytest.warns(RuntimeWarning, match="belongs to other data"):
        cl.load_or_train_classifier(*data[dst_key], cache_dir=tmp_path, steps=CACHE_STEPS)
    assert len(calls) == 1


def test_no_images_give_empty_logits_and_features():
    shape = (16, 16, 1)
    params = cl._init_params(shape, 10, jax.random.PRNGKey(0))
    c = cl.Classifier(params=params, image_shape=shape, num_classes=10, accuracy=float("nan"))
    logits, feats = c.logits_and_features(np.zeros((0, *shape), np.float32))
    assert logits.shape == (0, 10) and feats.shape == (0, 128)
