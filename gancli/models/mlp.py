"""MLP generator and discriminator/critic for 2-D data."""

from __future__ import annotations

import flax.linen as nn
import jax

from gancli.models.layers import Maxout, kernel_init


class MLPGenerator(nn.Module):
    """z -> depth x (Dense -> [BatchNorm] -> ReLU) -> Dense.

    The defaults are the plain MLP; `batchnorm`, `hidden_bias=False` and `weight_init="normal"`
    give the ALI/PacGAN generator, whose batch-norm population statistics (running mean
    and variance, updated with `bn_momentum`) are what sampling in eval mode uses.
    """

    hidden: int = 128
    depth: int = 3
    out_dim: int = 2
    batchnorm: bool = False
    hidden_bias: bool = True
    out_bias: bool = True
    weight_init: str = "default"
    init_std: float = 0.02
    bn_momentum: float = 0.99
    bn_eps: float = 1e-5

    @nn.compact
    def __call__(self, z_BxZ: jax.Array, train: bool = True) -> jax.Array:
        k_init = kernel_init(self.weight_init, self.init_std)
        h = z_BxZ
        for i in range(self.depth):
            h = nn.Dense(self.hidden, use_bias=self.hidden_bias, kernel_init=k_init,
                         name=f"dense_{i}")(h)  # fmt: skip
            if self.batchnorm:
                h = nn.BatchNorm(
                    use_running_average=not train,
                    momentum=self.bn_momentum,
                    epsilon=self.bn_eps,
                    name=f"bn_{i}",
                )(h)
            h = nn.relu(h)
        return nn.Dense(self.out_dim, use_bias=self.out_bias, kernel_init=k_init, name="out")(h)


class MLPDiscriminator(nn.Module):
    """Outputs a logit (GAN) or a critic value (WGAN): the last layer is linear.

    `maxout > 1` replaces each Dense+ReLU hidden layer by a maxout layer of `hidden` units
    with that many pieces (the ALI/PacGAN discriminator).
    """

    hidden: int = 128
    depth: int = 3
    maxout: int = 1
    weight_init: str = "default"
    init_std: float = 0.02

    @nn.compact
    def __call__(self, x_BxD: jax.Array, train: bool = True) -> jax.Array:
        k_init = kernel_init(self.weight_init, self.init_std)
        h = x_BxD
        for i in range(self.depth):
            if self.maxout > 1:
                h = Maxout(self.hidden, self.maxout, kernel_init=k_init, name=f"maxout_{i}")(h)
            else:
                h = nn.relu(nn.Dense(self.hidden, kernel_init=k_init, name=f"dense_{i}")(h))
        return nn.Dense(1, kernel_init=k_init, name="out")(h)[:, 0]
