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
        return (
            MLPGenerator(g_width, cfg.depth, data.sample_shape[0]),
            MLPDiscriminator(cfg.hidden, cfg.depth),
        )
    from gancli.models.dcgan import DCGANDiscriminator, DCGANGenerator

    size, channels = data.sample_shape[0], data.sample_shape[-1]
    use_bn = cfg.generator_variant != "nobn"
    return (
        DCGANGenerator(size, channels, g_width, use_bn=use_bn),
        DCGANDiscriminator(size, channels, cfg.hidden),
    )
