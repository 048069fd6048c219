"""The experiment: one frozen config, its defaults and validation, one readable error.

Settings overlaid on a Config (TOML tables, flags) and TOML files in and out are in
`gancli.config_io`.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import types
import typing
from collections.abc import Mapping
from typing import Any

from gancli.datasets import DATASETS
from gancli.errors import ConfigError
from gancli.loss_table import LOSS_NAMES, LOSS_TABLE
from gancli.sweep import SWEEPABLE

OPTIMIZERS = ("adam", "rmsprop", "sgd")
# Weakened generators for the robustness claim. MLP (2-D): narrow = 1/2 width, thin = 1/8.
# DCGAN (images): narrow, nobn (no batchnorm), nobn-const (no batchnorm and a constant
# number of filters) and mlp (4 x 512 ReLU MLP): the last two are the WGAN paper's.
GENERATOR_VARIANTS = ("default", "narrow", "thin", "nobn", "nobn-const", "mlp")
IMAGE_ONLY_VARIANTS = ("nobn", "nobn-const", "mlp")
INITS = ("default", "normal", "glorot_uniform")
UPDATES = ("alternating", "simultaneous")
REPRODUCE_BUDGETS = ("reduced", "full")  # gancli reproduce --budget
# Settings of the host loop only: they may change on --resume and never change the
# compiled program.
HOST_FIELDS = ("steps", "log_every", "eval_every", "eval_samples", "checkpoint_every", "keep")


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
    generator_variant: str = "default"  # a weakened generator: see GENERATOR_VARIANTS
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
    # Hyper-parameter points trained together, each over every seed: a tuple of points, each
    # a tuple of (field, value) pairs of SWEEPABLE fields. () is the single point above.
    sweep: tuple = ()

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("sweep")
        return d

    @property
    def seed_list(self) -> list[int]:
        return [self.seed + i for i in range(self.seeds)]

    @property
    def points(self) -> list[dict[str, float]]:
        """The hyper-parameter points, each as {field: value}; [{}] without a sweep."""
        return [dict(p) for p in self.sweep] or [{}]

    @property
    def swept(self) -> list[str]:
        """The fields the sweep varies, in SWEEPABLE order."""
        names = {k for p in self.points for k in p}
        return [k for k in SWEEPABLE if k in names]

    @property
    def replicas(self) -> list[dict[str, Any]]:
        """One label per replica, point-major: {"seed": s, **the point's swept values}.

        Replica r trains point r // seeds with seed seed + r % seeds: every point sees the
        same seeds, so points are compared on common random numbers."""
        return [{"seed": s, **p} for p in self.points for s in self.seed_list]

    @property
    def num_replicas(self) -> int:
        return len(self.points) * self.seeds

    def hparams(self) -> dict[str, list[float]]:
        """Per replica, the value of every SWEEPABLE field (the point's, else the config's)."""
        reps = [{**{k: getattr(self, k) for k in SWEEPABLE}, **p}
                for p in self.points for _ in range(self.seeds)]  # fmt: skip
        return {k: [float(r[k]) for r in reps] for k in SWEEPABLE}

    def replica_name(self, i: int) -> str:
        """'seed 3' or, in a sweep, 'seed 3, lr_d 0.0002, clip 0.01'."""
        r = self.replicas[i]
        return ", ".join([f"seed {r['seed']}", *(f"{k} {r[k]:.3g}" for k in self.swept)])

    def point_config(self, i: int) -> Config:
        """The single-point experiment that replica group i of a sweep is."""
        return self.replace(sweep=(), **self.points[i])


# Optimiser defaults per loss, from the loss table (gancli.loss_table). Image (DCGAN) runs
# use Adam 2e-4 for gan/nsgan.
LOSS_DEFAULTS = {
    name: dict(optimizer=spec.optimizer, lr=spec.lr, n_critic=spec.n_critic)
    for name, spec in LOSS_TABLE.items()
}
IMAGE_ADAM_LR = 2e-4
# compare-losses' base experiment, sized so that 3 losses x 2 generators x 8 seeds finish in
# minutes on 2 cores.
COMPARE_DEFAULTS = dict(steps=3000, seeds=8, batch_size=64, eval_every=150, log_every=50,
                        checkpoint_every=1500, eval_samples=2500)  # fmt: skip
# Per kind of data: 2-D mixtures train MLPs, images DCGANs (CPU-sized widths).
SHAPE_DEFAULTS = {"2-D data": dict(z_dim=2, hidden=128), "images": dict(z_dim=64, hidden=32)}
# The fields that take one of a fixed set of names.
CHOICES = {"loss": LOSS_NAMES, "optimizer": OPTIMIZERS, "generator_variant": GENERATOR_VARIANTS,
           "init": INITS, "updates": UPDATES}  # fmt: skip

# The fields that have a flag of their own, per command (every field has `--set`); the
# command line is built from this (`cli.options.config_flags`), in this order.
FLAGS = {
    "train": ("loss", "dataset", "steps", "seeds", "seed", "clip", "n_critic", "batch_size",
              "lr_g", "lr_d", "beta1", "beta2", "optimizer", "z_dim", "hidden", "depth",
              "generator_variant", "critic_boost", "image_size", "log_every", "eval_every",
              "checkpoint_every", "keep"),
    "compare-losses": ("dataset", "steps", "seeds", "seed", "batch_size", "z_dim", "hidden",
                       "depth", "clip", "n_critic", "log_every", "eval_every"),
}  # fmt: skip

FIELDS = {f.name: f for f in dataclasses.fields(Config)}
_HINTS = typing.get_type_hints(Config)


def field_type(name: str) -> type:
    """The type a field holds when set: `int` for `int | None`."""
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
    if name not in FIELDS or name == "sweep":
        names = [f for f in FIELDS if f != "sweep"]
        close = difflib.get_close_matches(name.replace("-", "_"), names, n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        raise ConfigError(f"unknown setting '{name}'{where}{hint}")
    if value is None:
        return None
    want = field_type(name)
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
    image = is_image_dataset(cfg.dataset)
    lr = IMAGE_ADAM_LR if image and opt == "adam" else d["lr"]
    shape = SHAPE_DEFAULTS["images" if image else "2-D data"]
    cfg = cfg.replace(
        z_dim=cfg.z_dim if cfg.z_dim is not None else shape["z_dim"],
        hidden=cfg.hidden if cfg.hidden is not None else shape["hidden"],
        optimizer=opt,
        lr_g=cfg.lr_g if cfg.lr_g is not None else lr,
        lr_d=cfg.lr_d if cfg.lr_d is not None else lr,
        n_critic=cfg.n_critic if cfg.n_critic is not None else d["n_critic"],
    )
    validate(cfg)
    return cfg


# Fields that only some experiments read: (field, applies?, what it needs). A value given
# for an experiment that ignores it is reported (`ignored_settings`), never silently taken.
_CRITIC_LOSSES = "loss " + " or ".join(n for n, s in LOSS_TABLE.items() if s.critic)
CONDITIONAL_FIELDS = (
    ("clip", lambda c: LOSS_TABLE[c.loss].critic, _CRITIC_LOSSES),
    ("critic_boost", lambda c: LOSS_TABLE[c.loss].critic, _CRITIC_LOSSES),
    ("beta1", lambda c: c.optimizer == "adam", "optimizer adam"),
    ("beta2", lambda c: c.optimizer == "adam", "optimizer adam"),
    ("init_std", lambda c: c.init == "normal", "init normal"),
)


def ignored_settings(cfg: Config, given: set[str] | Mapping[str, Any]) -> list[str]:
    """One line for each field in `given` (the flags, --set values and file keys) that the
    resolved experiment `cfg` does not read, e.g. --clip with loss nsgan. A value equal to
    the field's default is no request (a saved config.toml lists every field)."""
    given = {k.replace("-", "_") for k in given}
    swept = set(cfg.swept)
    lines = []
    for name, applies, needs in CONDITIONAL_FIELDS:
        changed = getattr(cfg, name) != FIELDS[name].default
        if (name in given and changed or name in swept) and not applies(cfg):
            actual = needs.split()[0]
            lines.append(
                f"{name.replace('_', '-')} is ignored: it applies with {needs}, and this "
                f"experiment has {actual} {getattr(cfg, actual)}"
            )
    return lines


def validate_choices(cfg: Config) -> None:
    for name, choices in CHOICES.items():
        v = getattr(cfg, name)
        if v not in choices and not (v is None and FIELDS[name].default is None):
            raise ConfigError(
                f"unknown {name.replace('_', ' ')} '{v}': choose one of {', '.join(choices)}"
            )

    if cfg.generator_variant in IMAGE_ONLY_VARIANTS and not is_image_dataset(cfg.dataset):
        raise ConfigError(
            f"generator variant '{cfg.generator_variant}' needs an image dataset (the 2-D MLP's "
            "batchnorm is the g_batchnorm setting); use 'narrow' or 'thin' to weaken it"
        )
    if is_image_dataset(cfg.dataset) and cfg.dataset != "digits":
        if not os.path.exists(cfg.dataset):
            raise ConfigError(
                f"unknown dataset '{cfg.dataset}': choose one of "
                f"{', '.join(DATASETS)} or give the path of an IDX or .npz file"
            )


def validate(cfg: Config) -> None:
    if cfg.sweep:
        for point in cfg.points:
            bad = [k for k in point if k not in SWEEPABLE]
            if bad:
                raise ConfigError(
                    f"cannot sweep {', '.join(bad)} in one program: sweepable are "
                    f"{', '.join(SWEEPABLE)} (structural settings need separate runs)"
                )
            validate(cfg.replace(sweep=(), **point))
        return
    for name in FIELDS:
        if name != "sweep":
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
