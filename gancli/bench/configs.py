"""What `gancli bench` measures: named configurations, and the chunks train runs for them.

Each configuration is a `Config` with train's defaults and a few overrides; its timed
chunk is the one `gancli train` would run for it (`chunk_length`), so bench and train time
the same compiled call.
"""

from __future__ import annotations

from gancli import config as config_lib
from gancli.config import Config
from gancli.run.loop import chunk_end

MLP_WIDE = dict(dataset="ring8", hidden=256, depth=3, batch_size=256, z_dim=16)
MLP_NARROW = dict(dataset="ring8", hidden=64, depth=3, batch_size=64, z_dim=16)
# The brief fixes dataset, image size and features; batch 64 and z 16 are our choice.
DCGAN = dict(dataset="digits", image_size=16, hidden=32, batch_size=64, z_dim=16)
TINY = dict(dataset="ring8", hidden=16, depth=1, batch_size=32, z_dim=2)  # `quick` only


def preset_model(name: str) -> dict:
    """A shipped reproduce preset's `[config]` as it trains (its model, data protocol,
    update order, batch and chunking): for `pacgan_ring`, PacGAN's G of 4 x 400 with batch
    norm, D of 3 maxout layers of 200 x 5, simultaneous updates, batch 100, a bootstrapped
    training set of 100,000 points iterated in epochs."""
    from gancli import presets
    from gancli.config_io import read_toml

    return dict(read_toml(presets.find(name, reproduce=True))["config"])


def _configs() -> dict[str, dict]:
    out = {}
    for loss in ("nsgan", "wgan"):
        for s in (1, 8, 32):
            out[f"mlp-wide-{loss}-S{s}"] = dict(MLP_WIDE, loss=loss, seeds=s)
    for s in (8, 32):  # dispatch-bound: where one program for many seeds pays most
        out[f"mlp-narrow-nsgan-S{s}"] = dict(MLP_NARROW, loss="nsgan", seeds=s)
    for s in (1, 10, 32):  # every reproduction's model, at the paper's 10 seeds and around
        out[f"pacgan-ring-nsgan-S{s}"] = dict(preset_model("pacgan_ring"), seeds=s)
    for s in (1, 10, 32):
        out[f"dcgan-digits-nsgan-S{s}"] = dict(DCGAN, loss="nsgan", seeds=s)
    for weak in ("nobn-const", "mlp"):  # the WGAN paper's weakened generators (claim 4)
        out[f"dcgan-digits-nsgan-{weak}-S10"] = dict(DCGAN, loss="nsgan", seeds=10,
                                                     generator_variant=weak)  # fmt: skip
    return out


DEFAULT_CONFIGS: list[str] = list(_configs())
CONFIGS: dict[str, dict] = {
    **_configs(),
    # Not in the default list: the sequential-seeds baseline of the narrow MLP (measured as
    # that baseline anyway), and the smoke-test configuration of `quick`.
    "mlp-narrow-nsgan-S1": dict(MLP_NARROW, loss="nsgan", seeds=1),
    "mlp-tiny-nsgan-S4": dict(TINY, loss="nsgan", seeds=4),
    "mlp-tiny-nsgan-S1": dict(TINY, loss="nsgan", seeds=1),
}
QUICK_CONFIGS = ["mlp-tiny-nsgan-S4"]
# Configurations also timed as a Python loop of a jitted single step, one seed at a time.
PYTHON_LOOP = ("mlp-wide-nsgan-S32", "mlp-narrow-nsgan-S32", "mlp-tiny-nsgan-S4")
# The fields a result records of its configuration.
FIELDS = (
    "dataset", "loss", "seeds", "hidden", "depth", "batch_size", "z_dim", "n_critic",
    "optimizer", "image_size", "steps", "log_every", "eval_every", "checkpoint_every",
    "generator_variant", "updates", "g_hidden", "g_depth", "g_batchnorm", "d_hidden",
    "d_depth", "d_maxout",
)  # fmt: skip


def make_config(overrides: dict, steps: int | None = None) -> Config:
    """The configuration `gancli train` would run with these overrides (and `--steps`)."""
    cfg = Config(**overrides)
    if steps is not None:
        cfg = cfg.replace(steps=steps)
    return config_lib.resolve(cfg)


def chunk_length(cfg: Config) -> int:
    """Steps per compiled call: the first chunk `gancli train` runs for this config."""
    return chunk_end(cfg, 0)


def seed_count(name: str) -> int:
    return int(name.rsplit("-S", 1)[1])


def base_name(name: str) -> str:
    """The name without its seed count: mlp-wide-nsgan-S8 -> mlp-wide-nsgan."""
    return name.rsplit("-S", 1)[0]
