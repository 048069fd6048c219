"""Workarounds for XLA:CPU, in one place, each with the reason it exists.

Everything here computes exactly what the plain JAX/Flax form computes (tests compare
them bit for bit or to float32 rounding); only the program XLA:CPU receives differs.

- The DCGAN's 4x4 stride-2 convolutions and transposed convolutions, and the digit
  classifier's 3x3 stride-2 convolution, are written as slices and one matmul. XLA:CPU
  runs the gradient of a native convolution far slower inside a `lax.scan` body (the
  training loop) than outside it; matmuls have no such cliff. On GPU/TPU the matmul form
  costs nothing noticeable, so the models use it everywhere and stay one code path.
- jax.random's threefry hash is lowered on CPU as a rolled loop; `unroll_threefry_on_cpu`
  lowers it straight-line as every other platform does (same bits).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

# ---- convolutions as matmuls ----------------------------------------------------------------


def conv3x3_stride2(x_BxHxWxC: jax.Array, kernel: jax.Array) -> jax.Array:
    """3x3, stride-2, SAME-padded cross-correlation (no bias) as im2col + one matmul.

    Numerically ``lax.conv_general_dilated`` with ``nn.Conv``'s SAME padding. XLA:CPU runs
    the *gradient* of a native convolution ~15x slower inside a ``lax.scan`` body than
    outside it; slices + a matmul have no such cliff, which keeps the classifier's
    one-scan training loop fast on CPU.
    """
    _, h, w, c = x_BxHxWxC.shape
    f = kernel.shape[-1]
    oh, ow = -(-h // 2), -(-w // 2)
    ph, pw = max(2 * (oh - 1) + 3 - h, 0), max(2 * (ow - 1) + 3 - w, 0)
    xp = jnp.pad(x_BxHxWxC, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    patches = jnp.concatenate(
        [
            xp[:, i : i + 2 * (oh - 1) + 1 : 2, j : j + 2 * (ow - 1) + 1 : 2, :]
            for i in range(3)
            for j in range(3)
        ],
        axis=-1,
    )
    return patches @ kernel.reshape(9 * c, f)


def conv4x4_stride2(x_BxHxWxC: jax.Array, kernel: jax.Array) -> jax.Array:
    """Cross-correlation with a (4, 4, C, F) kernel, stride 2, padding 1 on every side:
    (B, H, W, C) -> (B, H/2, W/2, F), as nn.Conv / lax.conv_general_dilated compute it.

    Space-to-depth: pad, fold each 2x2 block of pixels into channels, so the stride-2 4x4
    conv becomes a stride-1 2x2 conv over 4C channels: 4 shifted slices + one matmul.
    """
    b, h, w, c = x_BxHxWxC.shape
    f = kernel.shape[-1]
    if h % 2 or w % 2 or kernel.shape != (4, 4, c, f):
        raise ValueError(f"conv4x4_stride2: bad shapes {x_BxHxWxC.shape}, {kernel.shape}")
    oh, ow = h // 2, w // 2
    xp = jnp.pad(x_BxHxWxC, ((0, 0), (1, 1), (1, 1), (0, 0)))
    # padded pixel (2a + di, 2b + dj) -> s2d[a, b, (di, dj, c)]
    s2d = xp.reshape(b, oh + 1, 2, ow + 1, 2, c).transpose(0, 1, 3, 2, 4, 5)
    s2d = s2d.reshape(b, oh + 1, ow + 1, 4 * c)
    # output (m, n) reads padded rows 2m + i, i = 2p + di (p in {0, 1}): s2d row m + p.
    patches = jnp.concatenate(
        [s2d[:, p : p + oh, q : q + ow, :] for p in range(2) for q in range(2)], axis=-1
    )  # channels ordered (p, q, di, dj, c)
    k = kernel.reshape(2, 2, 2, 2, c, f).transpose(0, 2, 1, 3, 4, 5)  # (p, q, di, dj, c, f)
    return patches @ k.reshape(16 * c, f)


def conv_transpose4x4_stride2(x_BxHxWxC: jax.Array, kernel: jax.Array) -> jax.Array:
    """Transposed conv with a (4, 4, C, F) kernel, stride 2, 'SAME': (B, H, W, C) ->
    (B, 2H, 2W, F), as nn.ConvTranspose / lax.conv_transpose(transpose_kernel=False) compute it.

    Sub-pixel (depth-to-space) form. Per axis, lax gives y[o] = sum_k x[(o + k - 2) / 2] w[k]
    over the k that make (o + k) even. Group the outputs in pairs o = 2m - 1 + r (m = 0..H,
    r in {0, 1}): both members of a pair read only xp[m] and xp[m + 1] (xp = x padded by 1),
    through taps k = 2t + 1 - r (t in {0, 1}). So every pair block is one 2x2 stride-1 conv
    with 4F outputs: 4 slices + one matmul, a depth-to-space reshape, and a crop of the half
    pair hanging over each edge (o = -1 and o = 2H).
    """
    b, h, w, c = x_BxHxWxC.shape
    f = kernel.shape[-1]
    if kernel.shape != (4, 4, c, f):
        raise ValueError(f"conv_transpose4x4_stride2: bad shapes {x_BxHxWxC.shape}, {kernel.shape}")
    xp = jnp.pad(x_BxHxWxC, ((0, 0), (1, 1), (1, 1), (0, 0)))
    patches = jnp.concatenate(
        [xp[:, t : t + h + 1, u : u + w + 1, :] for t in range(2) for u in range(2)], axis=-1
    )  # (B, H+1, W+1, (t, u, c))
    # kernel row 2t + (1 - r): split rows as (t, 1 - r), then flip the second axis to index r
    k = kernel.reshape(2, 2, 2, 2, c, f)[:, ::-1, :, ::-1]  # (t, r, u, s, c, f)
    k = k.transpose(0, 2, 4, 1, 3, 5).reshape(4 * c, 4 * f)  # ((t, u, c), (r, s, f))
    y = (patches @ k).reshape(b, h + 1, w + 1, 2, 2, f).transpose(0, 1, 3, 2, 4, 5)
    return y.reshape(b, 2 * h + 2, 2 * w + 2, f)[:, 1:-1, 1:-1, :]  # row 2m + r is o + 1


# ---- threefry on CPU ------------------------------------------------------------------------

_THREEFRY_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def _threefry2x32_unrolled(k1, k2, x1, x2):
    """Threefry-2x32 with 20 rounds (Salmon et al. 2011), the hash behind jax.random.

    The same arithmetic as JAX's own lowering, written out straight: five groups of four
    rounds, each group followed by a key injection.
    """
    ks = (k1, k2, k1 ^ k2 ^ np.uint32(0x1BD11BDA))
    x0, x1 = x1 + ks[0], x2 + ks[1]
    for group in range(5):
        for r in _THREEFRY_ROTATIONS[group % 2]:
            x0 = x0 + x1
            x1 = lax.shift_left(x1, np.uint32(r)) | lax.shift_right_logical(x1, np.uint32(32 - r))
            x1 = x0 ^ x1
        x0 = x0 + ks[(group + 1) % 3]
        x1 = x1 + ks[(group + 2) % 3] + np.uint32(group + 1)
    return x0, x1


def unroll_threefry_on_cpu() -> bool:
    """Lower jax.random's hash on CPU as straight-line code instead of a 5-trip while loop.

    JAX lowers threefry2x32 on CPU (only there) as a rolled `fori_loop`, to keep programs
    small. A GAN step draws random numbers ~10 times; on XLA:CPU each of those loops is
    run trip by trip by the host-side executor, which dominates small, dispatch-bound
    steps and adds kernels to compile. The unrolled form is what JAX already uses on every
    other platform, so the random numbers are bit-for-bit the same (tests check it against
    published test vectors and against JAX's own lowering). Returns False when this JAX
    has no such primitive (the default lowering stays; nothing else changes).
    """
    try:
        from jax.extend.random import threefry2x32_p
        from jax.interpreters import mlir
    except ImportError:
        return False
    rule = mlir.lower_fun(_threefry2x32_unrolled, multiple_results=True)
    mlir.register_lowering(threefry2x32_p, rule, platform="cpu", inline=False)
    return True
