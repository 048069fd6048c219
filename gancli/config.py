"""The experiment: one frozen config, TOML in and out, flag overrides, one readable error."""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

LOSS_NAMES = ("gan", "nsgan", "wgan")
OPTIMIZERS = ("adam", "rmsprop", "sgd")
GENERATOR_VARIANTS = ("default", "narrow", "nobn")
INITS = ("default", "normal", "glorot_uniform")
UPDATES = ("alternating", "simultaneous")


class ConfigError(ValueError):
    """A bad experiment: the message is one line a user can act on."""


@dataclasses.dataclass(frozen=True)
class Config:
    """A fully resolved experiment. `None` fields take per-loss defaults in `resolve`."""

    loss: str = "nsgan"
    dataset: str = "ring8"
    steps: int = 5000  # generator updates
    seeds: int = 1  # independent replicas trained together
    seed: int = 0  # replica i uses seed + i
    batch_size: int = 256
    z_dim: int | None = None  # 2 for 2-D data, 64 for images
    hidden: int | None = None  # MLP width 128; DCGAN feature width 32 (CPU-sized)
    depth: int = 3  # MLP hidden layers
    image_size: int | None = None  # images: 16 for digits, a file's own (padded) size
    generator_variant: str = "default"  # "narrow" halves G's width, "nobn" drops G's batchnorm
    optimizer: str | None = None  # adam for gan/nsgan, rmsprop for wgan
    lr_g: float | None = None
    lr_d: float | None = None
    beta1: float = 0.5  # Adam only
    beta2: float = 0.999  # Adam only
    clip: float = 0.01  # WGAN critic weight clip c: weights are projected onto [-c, c]
    n_critic: int | None = None  # critic updates per generator update: 1, or 5 for wgan
    critic_boost: bool = False  # WGAN paper: 100 critic updates for G steps < 25 and every 500th
    # ---- options the published 2-D setups need (docs/reproduce.md); defaults keep the
    # plain MLP, alternating updates and fresh data samples.
    g_hidden: int | None = None  # 2-D generator width; None: `hidden`
    g_depth: int | None = None  # 2-D generator hidden layers; None: `depth`
    d_hidden: int | None = None  # 2-D discriminator width (maxout units); None: `hidden`
    d_depth: int | None = None  # 2-D discriminator hidden layers; None: `depth`
    d_maxout: int = 1  # pieces per maxout unit in D's hidden layers; 1: Dense + ReLU
    g_batchnorm: bool = False  # batch norm after every hidden Dense of the 2-D generator
    g_hidden_bias: bool = True  # biases in the 2-D generator's hidden Dense layers
    g_out_bias: bool = True  # bias in the 2-D generator's output layer
    bn_momentum: float = 0.99  # running-statistics decay (PacGAN: 0.95)
    bn_eps: float = 1e-5  # batch-norm epsilon (Blocks: 1e-4)
    init: str = "default"  # 2-D models: "default" (LeCun normal), "normal", "glorot_uniform"
    init_std: float = 0.02  # std of init = "normal"; biases start at 0 either way
    updates: str = "alternating"  # or "simultaneous": D and G from one batch, one z, same params
    train_set_size: int = 0  # 0: fresh samples every batch; N: a fixed set of N, shuffled epochs
    train_set_bootstrap: bool = False  # resample the fixed set with replacement (PacGAN)
    log_every: int = 100
    eval_every: int = 1000
    eval_samples: int = 2500
    checkpoint_every: int = 1000
    keep: int = 3

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def seed_list(self) -> list[int]:
        return [self.seed + i for i in range(self.seeds)]


# Optimiser defaults per loss: Adam(1e-4, beta1 0.5) as in the notes for gan/nsgan; the
# WGAN paper's RMSProp 5e-5 with n_critic 5. Image (DCGAN) runs use Adam 2e-4 for gan/nsgan.
LOSS_DEFAULTS = {
    "gan": dict(optimizer="adam", lr=1e-4, n_critic=1),
    "nsgan": dict(optimizer="adam", lr=1e-4, n_critic=1),
    "wgan": dict(optimizer="rmsprop", lr=5e-5, n_critic=5),
}
IMAGE_ADAM_LR = 2e-4

FIELDS = {f.name: f for f in dataclasses.fields(Config)}
_HINTS = typing.get_type_hints(Config)


def _base_type(name: str) -> type:
    hint = _HINTS[name]
    if isinstance(hint, types.UnionType):
        return next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def is_image_dataset(dataset: str) -> bool:
    from gancli.data.mixtures import MIXTURES

    return dataset not in MIXTURES


def coerce(name: str, value: Any, source: str = "") -> Any:
    """Check one field's type; ints are accepted where floats are expected."""
    where = f" in {source}" if source else ""
    if name not in FIELDS:
        close = [f for f in FIELDS if f.replace("_", "") == name.replace("_", "").replace("-", "")]
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(f"unknown setting '{name}'{where}{hint}")
    if value is None:
        return None
    want = _base_type(name)
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, want) or (want is int and isinstance(value, bool)):
        raise ConfigError(
            f"setting '{name}'{where} must be {want.__name__}, got {type(value).__name__} {value!r}"
        )
    return value


def resolve(cfg: Config) -> Config:
    """Fill per-loss defaults and validate; the result has no `None` left."""
    validate_choices(cfg)
    d = LOSS_DEFAULTS[cfg.loss]
    opt = cfg.optimizer or d["optimizer"]
    lr = d["lr"]
    if is_image_dataset(cfg.dataset) and opt == "adam":
        lr = IMAGE_ADAM_LR
    image = is_image_dataset(cfg.dataset)
    cfg = cfg.replace(
        z_dim=cfg.z_dim if cfg.z_dim is not None else (64 if image else 2),
        hidden=cfg.hidden if cfg.hidden is not None else (32 if image else 128),
        optimizer=opt,
        lr_g=cfg.lr_g if cfg.lr_g is not None else lr,
        lr_d=cfg.lr_d if cfg.lr_d is not None else lr,
        n_critic=cfg.n_critic if cfg.n_critic is not None else d["n_critic"],
    )
    validate(cfg)
    return cfg


def validate_choices(cfg: Config) -> None:
    if cfg.loss not in LOSS_NAMES:
        raise ConfigError(f"unknown loss '{cfg.loss}': choose one of {', '.join(LOSS_NAMES)}")
    if cfg.optimizer is not None and cfg.optimizer not in OPTIMIZERS:
        raise ConfigError(
            f"unknown optimizer '{cfg.optimizer}': choose one of {', '.join(OPTIMIZERS)}"
        )
    if cfg.generator_variant not in GENERATOR_VARIANTS:
        raise ConfigError(
            f"unknown generator variant '{cfg.generator_variant}': "
            f"choose one of {', '.join(GENERATOR_VARIANTS)}"
        )
    if cfg.init not in INITS:
        raise ConfigError(f"unknown init '{cfg.init}': choose one of {', '.join(INITS)}")
    if cfg.updates not in UPDATES:
        raise ConfigError(f"unknown updates '{cfg.updates}': choose one of {', '.join(UPDATES)}")
    from gancli.data.mixtures import MIXTURES

    if cfg.generator_variant == "nobn" and not is_image_dataset(cfg.dataset):
        raise ConfigError(
            "generator variant 'nobn' needs an image dataset (the MLP has no batchnorm); "
            "use 'narrow' to weaken an MLP generator"
        )
    if is_image_dataset(cfg.dataset) and cfg.dataset != "digits":
        if not os.path.exists(cfg.dataset):
            raise ConfigError(
                f"unknown dataset '{cfg.dataset}': choose one of "
                f"{', '.join([*MIXTURES, 'digits'])} or give the path of an IDX or .npz file"
            )


def validate(cfg: Config) -> None:
    for name in FIELDS:
        coerce(name, getattr(cfg, name))
    positive = ["steps", "seeds", "batch_size", "z_dim", "hidden", "depth", "n_critic",
                "log_every", "eval_every", "eval_samples", "checkpoint_every", "keep"]  # fmt: skip
    for name in positive:
        if getattr(cfg, name) < 1:
            raise ConfigError(
                f"{name.replace('_', '-')} must be at least 1, got {getattr(cfg, name)}"
            )
    for name in ("clip", "lr_g", "lr_d"):
        v = getattr(cfg, name)
        if not (math.isfinite(v) and v > 0):
            raise ConfigError(f"{name.replace('_', '-')} must be a positive number, got {v}")
    for name in ("beta1", "beta2"):
        if not 0 <= getattr(cfg, name) < 1:
            raise ConfigError(f"{name} must be in [0, 1), got {getattr(cfg, name)}")
    if cfg.seed < 0:
        raise ConfigError(f"seed must be non-negative, got {cfg.seed}")
    validate_reproduce_options(cfg)
    size = cfg.image_size
    if size is not None and (size & (size - 1) or size < 8):
        raise ConfigError(f"image-size must be a power of two >= 8, got {cfg.image_size}")


def validate_reproduce_options(cfg: Config) -> None:
    for name in ("g_hidden", "g_depth", "d_hidden", "d_depth", "d_maxout"):
        v = getattr(cfg, name)
        if v is not None and v < 1:
            raise ConfigError(f"{name.replace('_', '-')} must be at least 1, got {v}")
    if not 0 <= cfg.bn_momentum < 1:
        raise ConfigError(f"bn-momentum must be in [0, 1), got {cfg.bn_momentum}")
    for name in ("bn_eps", "init_std"):
        v = getattr(cfg, name)
        if not (math.isfinite(v) and v > 0):
            raise ConfigError(f"{name.replace('_', '-')} must be a positive number, got {v}")
    if cfg.updates == "simultaneous" and cfg.n_critic != 1:
        raise ConfigError(
            f"simultaneous updates take one D and one G step from one batch: n-critic must be 1, "
            f"got {cfg.n_critic}"
        )
    if cfg.updates == "simultaneous" and cfg.critic_boost:
        raise ConfigError("critic-boost needs alternating updates")
    if cfg.train_set_size < 0:
        raise ConfigError(
            f"train-set-size must be 0 (fresh samples) or more, got {cfg.train_set_size}"
        )
    if cfg.train_set_size:
        if is_image_dataset(cfg.dataset):
            raise ConfigError("train-set-size is for 2-D mixtures (image sets are finite already)")
        if cfg.train_set_size < cfg.batch_size:
            raise ConfigError(
                f"train-set-size ({cfg.train_set_size}) must hold at least one batch "
                f"({cfg.batch_size})"
            )
        if cfg.critic_boost:
            raise ConfigError("critic-boost and train-set-size together are not supported")
    elif cfg.train_set_bootstrap:
        raise ConfigError("train-set-bootstrap needs a fixed training set (train-set-size > 0)")
    image = is_image_dataset(cfg.dataset)
    plain = (cfg.d_maxout == 1 and not cfg.g_batchnorm and cfg.g_hidden_bias and cfg.g_out_bias
             and cfg.init == "default")  # fmt: skip
    if image and not plain:
        raise ConfigError(
            "d-maxout, g-batchnorm, g-hidden-bias, g-out-bias and init apply to the 2-D MLPs only"
        )


def from_mapping(values: Mapping[str, Any], base: Config | None = None, source: str = "") -> Config:
    """Overlay settings (from a TOML table or flags) on `base`, checking names and types."""
    base = base or Config()
    clean = {}
    for k, v in values.items():
        if isinstance(v, dict):
            raise ConfigError(f"unexpected table [{k}] in {source or 'config'}")
        clean[k.replace("-", "_")] = coerce(k.replace("-", "_"), v, source)
    return base.replace(**clean)


def read_toml(path: str | os.PathLike) -> dict[str, Any]:
    p = Path(path)
    try:
        with p.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {p}") from None
    except IsADirectoryError:
        raise ConfigError(f"config file is a directory: {p}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p} is not valid TOML: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read config file {p}: {e}") from None


def load(path: str | os.PathLike, base: Config | None = None) -> Config:
    """A flat TOML file of Config fields (tables are for compare-losses files)."""
    return from_mapping(read_toml(path), base, source=str(path))


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"cannot write {v!r} to TOML")


def to_toml(cfg: Config | Mapping[str, Any], header: str = "") -> str:
    items = cfg.to_dict() if isinstance(cfg, Config) else dict(cfg)
    lines = [f"# {line}" for line in header.splitlines()]
    lines += [f"{k} = {_toml_value(v)}" for k, v in items.items() if v is not None]
    return "\n".join(lines) + "\n"


def save(cfg: Config, path: str | os.PathLike) -> None:
    header = "Resolved gancli experiment: rerun with `gancli train --config <this file>`."
    Path(path).write_text(to_toml(cfg, header))
