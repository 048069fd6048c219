"""Generator and discriminator/critic networks (Flax Linen, applied as pure functions).

Every model is called as `module.apply(variables, x, train=...)`; variables hold
'params' and, for batch-normalised models, 'batch_stats'. Inside the compiled core both
are plain pytrees, so vmap over seeds, scan over steps and Orbax need nothing special.
"""

from __future__ import annotations

import flax.linen as nn

from gancli.config import Config
from gancli.data import Dataset
from gancli.models.mlp import MLPDiscriminator, MLPGenerator

# A generator variant's width as a fraction of `hidden`.
WIDTH = {"narrow": 2, "thin": 8}
MLP_IMAGE_G = dict(hidden=512, depth=4)  # the WGAN paper's MLP generator


def build(cfg: Config, data: Dataset) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for the dataset, shaped by the config."""
    g_width = max(1, cfg.hidden // WIDTH.get(cfg.generator_variant, 1))
    if not data.is_image:
        g_hidden = max(1, (cfg.g_hidden or cfg.hidden) // WIDTH.get(cfg.generator_variant, 1))
        init = dict(weight_init=cfg.init, init_std=cfg.init_std)
        return (
            MLPGenerator(
                g_hidden,
                cfg.g_depth or cfg.depth,
                data.sample_shape[0],
                batchnorm=cfg.g_batchnorm,
                hidden_bias=cfg.g_hidden_bias,
                out_bias=cfg.g_out_bias,
                bn_momentum=cfg.bn_momentum,
                bn_eps=cfg.bn_eps,
                **init,
            ),
            MLPDiscriminator(
                cfg.d_hidden or cfg.hidden, cfg.d_depth or cfg.depth, maxout=cfg.d_maxout, **init
            ),
        )
    from gancli.models.dcgan import DCGANDiscriminator, DCGANGenerator

    size, channels = data.sample_shape[0], data.sample_shape[-1]
    d = DCGANDiscriminator(size, channels, cfg.hidden)
    if cfg.generator_variant == "mlp":
        from gancli.models.image_mlp import MLPImageGenerator

        return MLPImageGenerator(tuple(data.sample_shape), **MLP_IMAGE_G), d
    use_bn = cfg.generator_variant not in ("nobn", "nobn-const")
    const = cfg.generator_variant == "nobn-const"
    return DCGANGenerator(size, channels, g_width, use_bn=use_bn, constant_width=const), d
