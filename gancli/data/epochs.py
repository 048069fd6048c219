"""A fixed, finite training set of a 2-D mixture, iterated in freshly shuffled epochs.

The published 2-D experiments (PacGAN, on ALI's Fuel streams) draw N samples once per run
and visit each exactly once per epoch in a new order. Here that happens inside jit
without storing the set or a permutation: sample i of the set is a pure function of
(key, i), and the order of epoch e is a keyed bijection of [0, N) (a Feistel network
with cycle walking), so batch c is computed from (key, c) alone.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

ROUNDS = 4


def _mix(x: jax.Array) -> jax.Array:
    """A 32-bit integer hash (the murmur3 finaliser)."""
    x = x ^ (x >> 16)
    x = x * jnp.uint32(0x85EBCA6B)
    x = x ^ (x >> 13)
    x = x * jnp.uint32(0xC2B2AE35)
    return x ^ (x >> 16)


def permute(key: jax.Array, i_N: jax.Array, n: int) -> jax.Array:
    """A keyed bijection of [0, n), applied to the indices i_N (int32 in [0, n)).

    A balanced Feistel network permutes [0, 4^h) for the smallest 4^h >= n; values that
    land outside [0, n) are permuted again until they land inside (cycle walking), which
    keeps the map a bijection of [0, n).
    """
    half = max(1, (max(n - 1, 1).bit_length() + 1) // 2)
    mask = jnp.uint32((1 << half) - 1)
    round_keys = jax.random.bits(key, (ROUNDS,), jnp.uint32)

    def feistel(x):
        left, right = x >> half, x & mask
        for r in range(ROUNDS):
            left, right = right, left ^ (_mix(right ^ round_keys[r]) & mask)
        return (left << half) | right

    def walk(x):
        x = feistel(x)
        return jax.lax.while_loop(lambda y: y >= n, feistel, x)

    return jax.vmap(walk)(i_N.astype(jnp.uint32)).astype(jnp.int32)


def element(centers_Kx2: jax.Array, std: float, key: jax.Array, i_N: jax.Array) -> jax.Array:
    """Samples i_N of the fixed set: each a pure function of (key, i)."""

    def one(i):
        k_mode, k_noise = jax.random.split(jax.random.fold_in(key, i))
        mode = jax.random.randint(k_mode, (), 0, centers_Kx2.shape[0])
        return centers_Kx2[mode] + std * jax.random.normal(k_noise, (2,), centers_Kx2.dtype)

    return jax.vmap(one)(i_N)


def epoch_indices(key: jax.Array, batch: jax.Array, batch_size: int, n: int) -> jax.Array:
    """Indices into the set of batch number `batch` (0, 1, ...): epochs of n // batch_size
    batches, each epoch a fresh permutation (a last partial batch is dropped)."""
    if n < batch_size:  # a set of no whole batch: the cycle walk in `permute` never ends
        raise ValueError(f"a fixed set of {n} cannot hold a batch of {batch_size}")
    per_epoch = n // batch_size
    epoch, within = batch // per_epoch, batch % per_epoch
    pos_B = within * batch_size + jnp.arange(batch_size)
    return permute(jax.random.fold_in(key, epoch), pos_B, n)


def finite_batch(
    centers_Kx2: jax.Array,
    std: float,
    key: jax.Array,
    batch: jax.Array,
    batch_size: int,
    n: int,
    bootstrap: bool = False,
) -> jax.Array:
    """Batch number `batch` of the seed's fixed set of n samples, (batch_size, 2).

    `bootstrap`: the set is itself a resample with replacement of n draws, as PacGAN's
    `GaussianPackingMixture` builds it (about 63% distinct points).
    """
    k_set, k_order, k_boot = jax.random.split(key, 3)
    idx = epoch_indices(k_order, batch, batch_size, n)
    if bootstrap:
        idx = jax.vmap(lambda i: jax.random.randint(jax.random.fold_in(k_boot, i), (), 0, n))(idx)
    return element(centers_Kx2, std, k_set, idx)
