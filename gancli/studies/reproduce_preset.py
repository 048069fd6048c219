"""A `gancli reproduce` preset: a published 2-D GAN row as a file, read and checked.

A preset (experiments/reproduce/*.toml) holds the paper's setup as Config fields in
`[config]`, the paper's row in `[anchor]`, two budgets in `[budget.full]` and
`[budget.reduced]` (lists of generator-step counts: the run is evaluated after each),
and variants in `[variants.NAME]` (Config overrides plus optional `full_steps` /
`reduced_steps`). `load_preset` checks every variant's Config at every budget before
anything trains; `gancli.studies.reproduce` runs them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from gancli import config as config_lib
from gancli import config_io, presets
from gancli.config import Config, ConfigError

BUDGETS = config_lib.REPRODUCE_BUDGETS
VARIANT_KEYS = ("full_steps", "reduced_steps")


@dataclasses.dataclass(frozen=True)
class Preset:
    path: Path
    name: str
    paper: dict
    anchor: dict
    base: Config
    budgets: dict  # budget -> {"steps": [...], ...}
    variants: dict  # name -> {"config": {...}, "full_steps": [...], "reduced_steps": [...]}

    @property
    def paper_steps(self) -> int:
        return int(self.budgets["full"]["steps"][-1])

    def steps_for(self, variant: str, budget: str) -> list[int]:
        """Generator steps at which the variant is scored: the preset's `reduced` or `full`
        budget, or a custom one, `epochs:N` (N passes over the training set) or `steps:N`."""
        kind, _, n = budget.partition(":")
        if kind == "epochs":
            return [int(n) * self.epoch_steps(variant)]
        if kind == "steps":
            return [int(n)]
        v = self.variants[variant]
        steps = v.get(f"{budget}_steps") or self.budgets[budget]["steps"]
        return [int(s) for s in steps]

    def epoch_steps(self, variant: str) -> int:
        """Generator steps in one pass over the training set: train_set_size / batch, and
        / n_critic where each generator step's critic steps take the next batches."""
        cfg = self.config_for(variant, 1)
        if not cfg.train_set_size:
            raise ConfigError(f"{self.path} [variants.{variant}]: no train_set_size, no epochs")
        per_step = cfg.batch_size * (cfg.n_critic if cfg.updates == "alternating" else 1)
        return max(1, cfg.train_set_size // per_step)

    def config_for(self, variant: str, steps: int, seeds: int | None = None) -> Config:
        changes: dict[str, Any] = dict(self.variants[variant]["config"])
        changes["steps"] = steps
        if seeds is not None:
            changes["seeds"] = seeds
        cfg = config_io.from_mapping(changes, self.base, source=f"[variants.{variant}]")
        return config_lib.resolve(cfg)


def _steps_list(value, where: str) -> list[int]:
    if not isinstance(value, list) or not value or not all(isinstance(s, int) for s in value):
        raise ConfigError(f"{where} must be a non-empty list of step counts, got {value!r}")
    if any(s < 1 for s in value) or sorted(set(value)) != value:
        raise ConfigError(f"{where} must be increasing positive step counts, got {value!r}")
    return value


def load_preset(path: str | Path) -> Preset:
    """A preset file, or a shipped one by name (`pacgan_ring`)."""
    path = presets.find(path, reproduce=True)
    values = config_io.read_toml(path)
    for table in ("paper", "anchor", "config", "budget", "variants"):
        if not isinstance(values.get(table), dict):
            raise ConfigError(f"{path}: missing table [{table}] of a reproduce preset")
    base = config_io.from_mapping(values["config"], source=f"[config] in {path}")
    budgets = {}
    for b in BUDGETS:
        table = values["budget"].get(b)
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: missing table [budget.{b}]")
        budgets[b] = {**table, "steps": _steps_list(table.get("steps"), f"[budget.{b}] steps")}
    variants = {}
    for name, table in values["variants"].items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [variants.{name}] must be a table")
        extra = {k: _steps_list(table[k], f"[variants.{name}] {k}") for k in VARIANT_KEYS
                 if k in table}  # fmt: skip
        cfg = {k: v for k, v in table.items() if k not in VARIANT_KEYS}
        variants[name] = {"config": cfg, **{k.replace("-", "_"): v for k, v in extra.items()}}
    if not variants:
        raise ConfigError(f"{path}: no [variants.NAME] tables")
    preset = Preset(path, path.stem, values["paper"], values["anchor"], base, budgets, variants)
    for name in variants:  # every run valid before any trains
        for b in BUDGETS:
            preset.config_for(name, preset.steps_for(name, b)[-1])
    return preset


def budget_name(budget: str = "reduced", epochs: int | None = None, steps: int | None = None):
    """`reduced`/`full`, or a custom budget `epochs:N` / `steps:N` (at most one of the three)."""
    if epochs is not None and steps is not None:
        raise ConfigError("--epochs and --steps are two ways to give one budget: choose one")
    for flag, n in (("epochs", epochs), ("steps", steps)):
        if n is not None:
            if n < 1:
                raise ConfigError(f"--{flag} must be at least 1, got {n}")
            return f"{flag}:{n}"
    if budget not in BUDGETS:
        raise ConfigError(f"--budget must be one of {', '.join(BUDGETS)}, got {budget!r}")
    return budget
