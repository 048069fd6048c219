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


def build(cfg: Config, data: Dataset) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for the dataset, shaped by the config."""
    g_width = cfg.hidden // 2 if cfg.generator_variant == "narrow" else cfg.hidden
    if not data.is_image:
        g_hidden = cfg.g_hidden or cfg.hidden
        if cfg.generator_variant == "narrow":
            g_hidden //= 2
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
    use_bn = cfg.generator_variant != "nobn"
    return (
        DCGANGenerator(size, channels, g_width, use_bn=use_bn),
        DCGANDiscriminator(size, channels, cfg.hidden),
    )
