"""A Config in and out: settings overlaid on one (a TOML table, flags, `--set`), sweeps
included, and TOML files read (tomllib) and written (tomli-w)."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

from gancli import sweep as sweep_lib
from gancli.config import Config, coerce
from gancli.errors import ConfigError
from gancli.sweep import SWEEPABLE


def from_mapping(values: Mapping[str, Any], base: Config | None = None, source: str = "") -> Config:
    """Overlay settings (from a TOML table or flags) on `base`, checking names and types.

    A [sweep] table, or a list for a SWEEPABLE field, makes hyper-parameter points
    (`gancli.sweep`); a scalar for a swept field takes it out of the sweep."""
    base = base or Config()
    where = f" in {source}" if source else ""
    clean, grid_values, table = {}, {}, None
    for k, v in values.items():
        k = k.replace("-", "_")
        if k == "sweep" and isinstance(v, dict):
            table = v
        elif isinstance(v, dict):
            raise ConfigError(f"unexpected table [{k}] in {source or 'config'}")
        elif isinstance(v, list) and k in SWEEPABLE:
            grid_values[k] = v
        else:
            clean[k] = coerce(k, v, source)
    cfg = base.replace(**clean)
    scalars = set(clean) & set(SWEEPABLE)
    if table is None and not grid_values and not (scalars and base.sweep):
        return cfg
    points = sweep_lib.from_table(table, where) if table is not None else cfg.points
    grid_points = sweep_lib.grid(grid_values, where) if grid_values else []
    # a scalar beside a [sweep] table in the same file is the default for points that do not
    # set it; a scalar flag on top of an earlier sweep takes that field out of it
    combined = sweep_lib.combine(points, grid_points, set() if table is not None else scalars)
    if len(combined) == 1:  # one point is no sweep: its values become plain fields
        return cfg.replace(sweep=(), **dict(combined[0]))
    return cfg.replace(sweep=tuple(combined))


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


def _file_table(path: str | os.PathLike) -> tuple[dict[str, Any], str]:
    values = read_toml(path)
    if isinstance(values.get("paper"), dict) and isinstance(values.get("config"), dict):
        return values["config"], f"[config] in {path}"
    return values, str(path)


def file_settings(path: str | os.PathLike) -> dict[str, Any]:
    """The Config fields of an experiment file: the file itself, or a reproduce preset's
    `[config]` table (a file with `[paper]` and `[config]`: the paper's run, trainable
    alone with `gancli train --config`)."""
    return _file_table(path)[0]


def load(path: str | os.PathLike, base: Config | None = None) -> Config:
    """A flat TOML file of Config fields, or a reproduce preset's `[config]` (tables are for
    compare-losses files)."""
    values, source = _file_table(path)
    return from_mapping(values, base, source=source)


def to_toml(cfg: Config | Mapping[str, Any], header: str = "") -> str:
    """TOML text (tomli-w) of a config, its sweep as explicit [sweep] points, or of a
    flat mapping; `None` values are left out (they mean "the default")."""
    items = cfg.to_dict() if isinstance(cfg, Config) else dict(cfg)
    table: dict[str, Any] = {k: v for k, v in items.items() if v is not None}
    if isinstance(cfg, Config) and cfg.sweep:
        table["sweep"] = {"points": cfg.points}
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    return comments + tomli_w.dumps(table)


def save(cfg: Config, path: str | os.PathLike) -> None:
    header = "Resolved gancli experiment: rerun with `gancli train --config <this file>`."
    Path(path).write_text(to_toml(cfg, header))
