"""The small digit classifier behind the image metrics, trained once and cached.

A small CNN is trained on the labelled real training images and cached on disk under
gancli's cache root (`$GANCLI_CACHE`, default ~/.cache/gancli), keyed by a hash of the
data and the training recipe. `gancli.quality.features` turns its features and
predictions into the image metrics; no pretrained network is downloaded.

Images are float32 arrays (N, H, W, C) in [-1, 1]; labels are int32 (N,).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import math
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import traverse_util

from gancli.machine.cpu_ops import conv3x3_stride2
from gancli.machine.jaxsetup import cache_root

#: Bumped whenever the architecture or the training recipe changes (invalidates caches).
_CACHE_VERSION = 1
_FEATURE_DIM = 128
_EVAL_BATCH = 512
_SMALL_EVAL_BATCH = 64
_LEARNING_RATE = 1e-3
_DEFAULT_STEPS = 400


# --------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------


def _stage_channels(image_shape: tuple[int, int, int]) -> tuple[int, ...]:
    """Channels of the stride-2 conv stages: enough stages to bring the larger side
    down to <= 8 pixels, at least two (16x16 -> 4x4, 32x32 -> 8x8, 64x64 -> 8x8)."""
    h, w, _ = image_shape
    n = max(2, math.ceil(math.log2(max(h, w) / 8)))
    return (32,) + (64,) * (n - 1)


class _Conv3x3S2(nn.Module):
    """``nn.Conv(features, (3, 3), strides=2, padding="SAME")`` as slices and a matmul
    (`gancli.machine.cpu_ops.conv3x3_stride2` says why): same parameter shapes and init."""

    features: int

    @nn.compact
    def __call__(self, x):
        n, h, w, c = x.shape
        kernel = self.param(
            "kernel", nn.initializers.lecun_normal(), (3, 3, c, self.features), jnp.float32
        )
        bias = self.param("bias", nn.initializers.zeros_init(), (self.features,), jnp.float32)
        return conv3x3_stride2(x, kernel) + bias


class _CNN(nn.Module):
    num_classes: int
    channels: tuple[int, ...]
    feature_dim: int = _FEATURE_DIM

    @nn.compact
    def __call__(self, x):
        for ch in self.channels:
            x = _Conv3x3S2(ch)(x)
            x = nn.relu(x)
        x = x.reshape((x.shape[0], -1))
        feats = nn.Dense(self.feature_dim)(x)
        logits = nn.Dense(self.num_classes)(nn.relu(feats))
        return logits, feats


def _make_model(image_shape: tuple[int, int, int], num_classes: int) -> _CNN:
    return _CNN(num_classes=num_classes, channels=_stage_channels(image_shape))


@functools.lru_cache(maxsize=16)
def _apply_fn(image_shape: tuple[int, int, int], num_classes: int) -> Callable:
    model = _make_model(image_shape, num_classes)

    @jax.jit
    def apply(params, images):
        return model.apply({"params": params}, images)

    return apply


def _init_params(image_shape: tuple[int, int, int], num_classes: int, key: jax.Array):
    model = _make_model(image_shape, num_classes)
    dummy = jnp.zeros((1, *image_shape), jnp.float32)
    # jit: one compilation instead of op-by-op dispatch (much faster on a cold start).
    return jax.jit(model.init)(key, dummy)["params"]


def _param_shapes(image_shape: tuple[int, int, int], num_classes: int):
    """The parameter pytree as ShapeDtypeStructs (no computation)."""
    model = _make_model(image_shape, num_classes)
    dummy = jax.ShapeDtypeStruct((1, *image_shape), jnp.float32)
    return jax.eval_shape(model.init, jax.random.PRNGKey(0), dummy)["params"]


# --------------------------------------------------------------------------------------
# Classifier
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class Classifier:
    """A trained feature/label network.  ``eq=False``: compared by identity."""

    params: Any  # flax params pytree
    image_shape: tuple  # (H, W, C)
    num_classes: int
    accuracy: float  # held-out accuracy measured at training time (nan if holdout=0)

    @property
    def feature_dim(self) -> int:
        return _FEATURE_DIM

    def apply(self, images: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Pure JAX (traceable inside jit/vmap/scan): (N,H,W,C) -> logits (N,K), feats (N,F)."""
        model = _make_model(tuple(self.image_shape), self.num_classes)
        return model.apply({"params": self.params}, images)

    def logits_and_features(self, images) -> tuple[np.ndarray, np.ndarray]:
        """Host-side batched evaluation; returns float32 numpy (N, K) logits, (N, F) features."""
        images = _check_images(images, self.image_shape)
        n = images.shape[0]
        if n == 0:
            return (
                np.zeros((0, self.num_classes), np.float32),
                np.zeros((0, _FEATURE_DIM), np.float32),
            )
        # Two fixed batch sizes (last batch zero-padded) so calls with any N reuse at most
        # two compilations per image shape.
        batch = _SMALL_EVAL_BATCH if n <= _SMALL_EVAL_BATCH else _EVAL_BATCH
        fn = _apply_fn(tuple(self.image_shape), self.num_classes)
        logits, feats = [], []
        for start in range(0, n, batch):
            chunk = images[start : start + batch]
            m = chunk.shape[0]
            if m < batch:
                chunk = np.concatenate([chunk, np.zeros((batch - m, *chunk.shape[1:]), np.float32)])
            lg, ft = fn(self.params, chunk)
            logits.append(np.asarray(lg)[:m])
            feats.append(np.asarray(ft)[:m])
        return np.concatenate(logits), np.concatenate(feats)

    def predict(self, images) -> np.ndarray:
        return self.logits_and_features(images)[0].argmax(axis=-1).astype(np.int32)


def _check_images(images, image_shape=None) -> np.ndarray:
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(f"images must be (N, H, W, C), got shape {images.shape}")
    if image_shape is not None and tuple(images.shape[1:]) != tuple(image_shape):
        raise ValueError(
            f"images have shape {images.shape[1:]}, classifier expects {tuple(image_shape)}"
        )
    return images


def _check_data(images, labels) -> tuple[np.ndarray, np.ndarray]:
    images = _check_images(images)
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise ValueError(f"labels must be ({images.shape[0]},), got shape {labels.shape}")
    labels = labels.astype(np.int32)
    if labels.size and labels.min() < 0:
        raise ValueError("labels must be non-negative class indices")
    return images, labels


def data_key(images, labels) -> str:
    """Short stable hash (16 hex chars) of the data: sha256 of shapes, dtypes and bytes
    after conversion to float32 / int32, so numpy and jax arrays hash alike."""
    images = np.ascontiguousarray(np.asarray(images, dtype=np.float32))
    labels = np.ascontiguousarray(np.asarray(labels, dtype=np.int32))
    h = hashlib.sha256()
    h.update(f"images{images.shape}float32;labels{labels.shape}int32;".encode())
    h.update(images.tobytes())
    h.update(labels.tobytes())
    return h.hexdigest()[:16]


@functools.lru_cache(maxsize=8)
def _train_fn(image_shape, num_classes, steps, batch_size):
    model = _make_model(image_shape, num_classes)
    tx = optax.adam(_LEARNING_RATE)

    def loss_fn(params, x, y):
        logits, _ = model.apply({"params": params}, x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    @jax.jit
    def train(params, key, x, y):
        opt_state = tx.init(params)
        n = x.shape[0]

        def step(carry, k):
            params, opt_state = carry
            idx = jax.random.randint(k, (batch_size,), 0, n)
            loss, grads = jax.value_and_grad(loss_fn)(params, x[idx], y[idx])
            updates, opt_state = tx.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss

        (params, _), losses = jax.lax.scan(step, (params, opt_state), jax.random.split(key, steps))
        return params, losses

    return train


def train_classifier(
    images,
    labels,
    *,
    seed: int = 0,
    steps: int = _DEFAULT_STEPS,
    batch_size: int = 128,
    holdout: float = 0.2,
    num_classes: int | None = None,
) -> Classifier:
    """Train the CNN (Adam 1e-3, random minibatches with replacement, the whole loop in
    one ``jax.lax.scan``).  Deterministic given ``seed``.  A random ``holdout`` fraction
    of the data is kept out of training to measure ``accuracy``."""
    images, labels = _check_data(images, labels)
    n = images.shape[0]
    if n < 2:
        raise ValueError("need at least 2 labelled images")
    if not 0.0 <= holdout < 1.0:
        raise ValueError(f"holdout must be in [0, 1), got {holdout}")
    k = int(labels.max()) + 1 if num_classes is None else int(num_classes)
    if labels.max() >= k:
        raise ValueError(f"label {labels.max()} out of range for num_classes={k}")
    image_shape = tuple(int(s) for s in images.shape[1:])

    perm = np.random.default_rng(seed).permutation(n)
    n_hold = int(round(holdout * n))
    n_hold = min(n_hold, n - 1)
    hold_idx, train_idx = perm[:n_hold], perm[n_hold:]

    init_key, train_key = jax.random.split(jax.random.PRNGKey(seed))
    params = _init_params(image_shape, k, init_key)
    train = _train_fn(image_shape, k, int(steps), int(batch_size))
    params, _ = train(
        params, train_key, jnp.asarray(images[train_idx]), jnp.asarray(labels[train_idx])
    )
    params = jax.tree_util.tree_map(np.asarray, params)

    clf = Classifier(params=params, image_shape=image_shape, num_classes=k, accuracy=float("nan"))
    if n_hold:
        acc = float(np.mean(clf.predict(images[hold_idx]) == labels[hold_idx]))
        clf = dataclasses.replace(clf, accuracy=acc)
    return clf


_TRAIN_SIGNATURE = inspect.signature(train_classifier)


# --------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """Where trained classifiers are kept: under gancli's one cache root."""
    return cache_root() / "classifiers"


def _cache_path(cache_dir: Path, key: str, kw: dict) -> Path:
    cfg = json.dumps({"v": _CACHE_VERSION, **kw}, sort_keys=True, default=str)
    cfg_hash = hashlib.sha256(cfg.encode()).hexdigest()[:8]
    return cache_dir / f"image_classifier-{key}-{cfg_hash}.npz"


def _save(clf: Classifier, path: Path, meta: dict) -> None:
    flat = traverse_util.flatten_dict(clf.params, sep="/")
    arrays = {f"p/{name}": np.asarray(v) for name, v in flat.items()}
    meta = {
        **meta,
        "image_shape": list(clf.image_shape),
        "num_classes": clf.num_classes,
        "accuracy": clf.accuracy,
    }
    arrays["__meta__"] = np.array(json.dumps(meta))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _load(path: Path, key: str) -> Classifier:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["__meta__"]))
        flat = {name[2:]: np.array(z[name]) for name in z.files if name.startswith("p/")}
    if meta.get("data_key") != key or meta.get("version") != _CACHE_VERSION:
        raise ValueError("cache file belongs to other data or an older version")
    image_shape = tuple(int(s) for s in meta["image_shape"])
    num_classes = int(meta["num_classes"])
    params = traverse_util.unflatten_dict(flat, sep="/")
    # Validate structure and shapes against a freshly built template.
    template = _param_shapes(image_shape, num_classes)
    want = jax.tree_util.tree_structure(template)
    if jax.tree_util.tree_structure(params) != want:
        raise ValueError("cached parameter tree does not match the architecture")
    for got, exp in zip(
        jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(template), strict=True
    ):
        if got.shape != exp.shape or not np.all(np.isfinite(got)):
            raise ValueError("cached parameters have wrong shapes or non-finite values")
    params = jax.tree_util.tree_map(lambda a: a.astype(np.float32), params)
    return Classifier(
        params=params,
        image_shape=image_shape,
        num_classes=num_classes,
        accuracy=float(meta["accuracy"]),
    )


def load_or_train_classifier(
    images, labels, cache_dir: str | os.PathLike | None = None, **kw
) -> Classifier:
    """Return the cached classifier for this data (and these training kwargs), training
    and caching it on a miss.  ``cache_dir`` defaults to ``$GANCLI_CACHE`` or
    ``~/.cache/gancli``.  A corrupt/unreadable cache file is ignored with a warning and
    the classifier retrained; an unwritable cache dir only warns."""
    images, labels = _check_data(images, labels)
    # Normalise the training kwargs (fill in defaults) so that e.g. ``steps=400`` and the
    # default share a cache entry; unknown kwargs raise TypeError here.
    bound = _TRAIN_SIGNATURE.bind(images, labels, **kw)
    bound.apply_defaults()
    kw = {k: v for k, v in bound.arguments.items() if k not in ("images", "labels")}
    key = data_key(images, labels)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = _cache_path(cache_dir, key, kw)
    if path.exists():
        try:
            return _load(path, key)
        except Exception as e:  # any unreadable cache means retrain, never a crash
            warnings.warn(
                f"ignoring unreadable classifier cache {path} ({type(e).__name__}: {e}); "
                "retraining",
                RuntimeWarning,
                stacklevel=2,
            )
    clf = train_classifier(images, labels, **kw)
    try:
        _save(clf, path, {"data_key": key, "version": _CACHE_VERSION, "train_kwargs": kw})
    except OSError as e:
        warnings.warn(f"could not write classifier cache {path}: {e}", RuntimeWarning, stacklevel=2)
    return clf
