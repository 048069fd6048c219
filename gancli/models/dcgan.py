"""DCGAN generator and discriminator/critic (Radford et al., 2016) in Flax Linen.

Both players have k = log2(image_size / 4) stride-2 stages between a 4x4 map and the image, so
any power of two >= 8 works (8: k=1, 16: k=2, 32: k=3, 64: k=4). Following the paper:
  * transposed convolutions in G and strided convolutions in D (kernel 4, stride 2), no pooling;
  * batchnorm in most layers, but NOT on G's output layer and NOT on D's input layer;
  * ReLU in G with a tanh output; LeakyReLU(0.2) in D, whose last layer is linear.

Layer names (checked by tests/models/test_dcgan.py):
  G: project (Dense z -> 4*4*features*2^(k-1)), then for i = 0..k-1:  bn_i -> relu -> deconv_i.
     bn_i normalises the input of deconv_i (bn_0 follows `project`, bn_i follows deconv_{i-1});
     the output of the last deconv_{k-1} goes straight to tanh: no bn_k.
  D: for i = 0..k-1: conv_i (-> bn_i for i >= 1) -> leaky_relu; then flatten -> `out` Dense(1).
     bn_i normalises the output of conv_i; there is no bn_0 (the input layer is not normalised).
  So with use_bn=True G has k BN layers (bn_0..bn_{k-1}) and D has k-1 (bn_1..bn_{k-1}); for
  image_size 8 (k=1) D has no BN at all and therefore no 'batch_stats' collection.

Init: the DCGAN paper's N(0, 0.02) for every conv/dense kernel, zero biases, and flax's default
BatchNorm init (scale 1, bias 0). Layers followed by BN have no bias (BN's beta replaces it).

Convolutions without a conv primitive: `StridedConv4x4` and `ConvTranspose4x4` compute exactly
what nn.Conv(k=4, s=2, padding 1) and nn.ConvTranspose(k=4, s=2, 'SAME') compute, with the same
parameter names, shapes and init (so the same key gives the same weights), but as slices,
pads, reshapes and matmuls. Reason: XLA:CPU (jaxlib 0.10) runs native convolutions -- above
all the gradient convolutions autodiff produces -- 10-20x slower inside a while loop
(`lax.scan`, `fori_loop`) than in straight-line code (in the compiled loop body they keep
non-canonical dimension layouts, e.g. dim_labels=f01b_i01o->01bf, that outside a loop are
rewritten into the fast form), and the training core runs a whole chunk of steps as one scan
(D's updates are a fori_loop too). Matmuls have no such cliff. tests/models/test_dcgan.py checks
forward and gradients against the flax layers.
"""

from __future__ import annotations

import math
import operator

import flax.linen as nn
import jax
import jax.numpy as jnp

from gancli.machine.cpu_ops import conv4x4_stride2, conv_transpose4x4_stride2


def dcgan_normal(key: jax.Array, shape, dtype=jnp.float32) -> jax.Array:
    """The DCGAN paper's init, N(0, 0.02), same distribution as nn.initializers.normal(0.02).

    Drawn as a flat vector and reshaped: with jax's (default) partitionable threefry, XLA:CPU
    takes seconds to compile a rank-4 `random.normal` but well under one for rank 1, which
    dominates init time on CPU (and init is compiled again for every new shape or vmap).
    """
    return (0.02 * jax.random.normal(key, (math.prod(shape),), dtype)).reshape(shape)


KERNEL_INIT = dcgan_normal  # DCGAN paper: all weights ~ N(0, 0.02)
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5


def num_stages(image_size: int) -> int:
    """k = log2(image_size / 4): the number of stride-2 stages between 4x4 and the image."""
    try:
        n = operator.index(image_size)
    except TypeError:
        n = None
    if n is None or isinstance(image_size, bool) or n < 8 or n & (n - 1):
        raise ValueError(f"DCGAN image_size must be a power of two >= 8, got {image_size!r}")
    return n.bit_length() - 3


class _Conv4x4(nn.Module):
    """A 4x4 stride-2 (transposed) convolution written as matmuls (`op`), with nn.Conv's
    params: 'kernel' (4, 4, C, F) and, optionally, 'bias' (F,)."""

    features: int
    use_bias: bool = True
    op = None  # the matmul form: (x, kernel) -> y; set by each subclass

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        shape = (4, 4, x.shape[-1], self.features)
        y = self.op(x, self.param("kernel", KERNEL_INIT, shape, jnp.float32))
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros_init(), (self.features,), jnp.float32)
        return y


class StridedConv4x4(_Conv4x4):
    """nn.Conv(features, (4, 4), strides=(2, 2), padding=((1, 1), (1, 1))) via
    `conv4x4_stride2`: same params, same values."""

    op = staticmethod(conv4x4_stride2)


class ConvTranspose4x4(_Conv4x4):
    """nn.ConvTranspose(features, (4, 4), strides=(2, 2), padding='SAME') via
    `conv_transpose4x4_stride2`: same params, same values."""

    op = staticmethod(conv_transpose4x4_stride2)


def _bn(train: bool, name: str) -> nn.BatchNorm:
    return nn.BatchNorm(
        use_running_average=not train, momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name
    )


class DCGANGenerator(nn.Module):
    """z (B, Z) -> images (B, image_size, image_size, channels) in [-1, 1] (tanh)."""

    image_size: int  # any power of two >= 8
    channels: int = 1
    features: int = 64  # width of the last hidden stage; earlier stages double it
    use_bn: bool = True  # False = the "nobn" generator variant (no 'batch_stats' at all)
    # True: every hidden stage has `features` filters instead of doubling toward the 4x4
    # map (the WGAN paper's weakened generator, Arjovsky et al. 2017, Figure 2)
    constant_width: bool = False

    @nn.compact
    def __call__(self, z_BxZ: jax.Array, train: bool) -> jax.Array:
        k = num_stages(self.image_size)
        width = self.features if self.constant_width else self.features * 2 ** (k - 1)
        h = nn.Dense(
            4 * 4 * width, use_bias=not self.use_bn, kernel_init=KERNEL_INIT, name="project"
        )(z_BxZ)
        h = h.reshape(z_BxZ.shape[0], 4, 4, width)
        for i in range(k):
            if self.use_bn:
                h = _bn(train, f"bn_{i}")(h)
            h = nn.relu(h)
            last = i == k - 1
            hidden_ch = width if self.constant_width else width // 2 ** (i + 1)
            out_ch = self.channels if last else hidden_ch
            # output = 2x input, like PyTorch's k=4, s=2, p=1 (nn.ConvTranspose 'SAME')
            h = ConvTranspose4x4(out_ch, use_bias=last or not self.use_bn, name=f"deconv_{i}")(h)
        return jnp.tanh(h)


class DCGANDiscriminator(nn.Module):
    """images (B, image_size, image_size, channels) -> logits (B,): a raw linear output, also
    used as the WGAN critic."""

    image_size: int  # any power of two >= 8
    channels: int = 1
    features: int = 64  # width of the first conv; later stages double it
    use_bn: bool = True

    @nn.compact
    def __call__(self, x_BxHxWxC: jax.Array, train: bool) -> jax.Array:
        k = num_stages(self.image_size)
        want = (self.image_size, self.image_size, self.channels)
        if tuple(x_BxHxWxC.shape[1:]) != want:
            raise ValueError(f"DCGANDiscriminator expects (B, {want}), got {x_BxHxWxC.shape}")
        h = x_BxHxWxC
        for i in range(k):
            norm = self.use_bn and i > 0  # never on the input layer
            h = StridedConv4x4(self.features * 2**i, use_bias=not norm, name=f"conv_{i}")(h)
            if norm:
                h = _bn(train, f"bn_{i}")(h)
            h = nn.leaky_relu(h, negative_slope=0.2)
        h = h.reshape(h.shape[0], -1)  # (B, 4*4*features*2^(k-1))
        return nn.Dense(1, kernel_init=KERNEL_INIT, name="out")(h)[:, 0]


def count_params(params) -> int:
    """Total number of scalars in a pytree (pass variables['params'] for trainable weights)."""
    return int(sum(math.prod(x.shape) for x in jax.tree_util.tree_leaves(params)))
