"""Every loss gancli trains, as data (no JAX): what a new loss is, beside its functions.

A loss is its two functions in `gancli.core.losses` (keyed by the same name) and one row
here: its help text, its paper's optimiser and defaults, whether D is a clipped linear
critic, its tuning search space, and the role the claims give it. Adding a loss touches
those two files; the config, the command line, `--tune` and the claims read this table.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

# Tuning search spaces: field -> ("log_uniform", lo, hi) | ("choice", [values]).
_ADAM_SPACE = {
    "lr_g": ("log_uniform", 1e-5, 1e-3),
    "lr_d": ("log_uniform", 1e-5, 1e-3),
    "beta1": ("choice", [0.5, 0.9]),
}


@dataclasses.dataclass(frozen=True)
class LossSpec:
    help: str  # a few words for --help
    optimizer: str  # the paper's optimiser for this loss
    lr: float  # its learning rate (both players) on 2-D data; images: IMAGE_ADAM_LR for Adam
    n_critic: int  # D (critic) updates per G update
    critic: bool  # D is a linear critic whose weights are clipped after every update
    search: dict  # the tuning search space (`compare-losses --tune`)
    # what the claims make of it: "gan" (claims 1-2 are about these: minimax and
    # non-saturating) or "wgan" (claims 3-4: the critic loss)
    role: str
    paper: str  # where the loss and its defaults come from


LOSS_TABLE = MappingProxyType({
    "gan": LossSpec(
        "minimax", "adam", 1e-4, 1, critic=False, search=_ADAM_SPACE, role="gan",
        paper="Goodfellow et al. 2014, eq. 1 (L_G = -L_D)",
    ),
    "nsgan": LossSpec(
        "non-saturating", "adam", 1e-4, 1, critic=False, search=_ADAM_SPACE, role="gan",
        paper="Goodfellow et al. 2014, sec. 3 (maximise log D(G(z)))",
    ),
    "wgan": LossSpec(
        "Wasserstein, clipped linear critic", "rmsprop", 5e-5, 5, critic=True,
        search={
            "lr_g": ("log_uniform", 1e-5, 1e-3),
            "lr_d": ("log_uniform", 1e-5, 1e-3),
            "clip": ("log_uniform", 1e-3, 1e-1),
            "n_critic": ("choice", [1, 5]),
        },
        role="wgan",
        paper="Arjovsky et al. 2017, Algorithm 1 (RMSProp 5e-5, c = 0.01, n_critic = 5)",
    ),
})  # fmt: skip

LOSS_NAMES = tuple(LOSS_TABLE)


def with_role(role: str) -> tuple[str, ...]:
    """The losses the claims give `role` ("gan" or "wgan"), in the table's order."""
    return tuple(n for n, s in LOSS_TABLE.items() if s.role == role)


def loss_help() -> str:
    """'gan (minimax), nsgan (non-saturating) or wgan (Wasserstein, ...).'"""
    parts = [f"{n} ({s.help})" for n, s in LOSS_TABLE.items()]
    return ", ".join(parts[:-1]) + f" or {parts[-1]}."
