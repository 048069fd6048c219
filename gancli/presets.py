"""The experiment files shipped in the package (gancli/experiments/; `experiments/` in a
checkout is a link to it), found by name as well as by path from any directory."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from gancli.config import ConfigError
from gancli.config_io import read_toml

ROOT = Path(__file__).parent / "experiments"
KINDS = ("train", "compare", "atlas", "reproduce")
COMPARE_KEYS = ("losses", "weak_variant", "escape_steps", "per_loss")  # compare-only keys


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    kind: str  # train, compare, atlas or reproduce
    path: Path
    summary: str  # the file's first comment line that is not a command


def _summary(path: Path) -> str:
    """The first clause of the file's opening comment, its command line left out."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if not text.startswith("`gancli"):
            lines.append(text)
    text = " ".join(lines)
    cut = re.compile(r"(?<! al)\. |: |; ").search(text, 20)  # not at "et al. 2018"
    return text[: cut.start()] if cut else text.rstrip(".")


def _kind(path: Path) -> str:
    if path.parent.name == "reproduce":
        return "reproduce"
    values = read_toml(path)
    if isinstance(values.get("datasets"), dict):  # a study of several datasets: gancli atlas
        return "atlas"
    return "compare" if any(k in values for k in COMPARE_KEYS) else "train"


def all_presets() -> list[Preset]:
    paths = sorted(ROOT.glob("*.toml")) + sorted((ROOT / "reproduce").glob("*.toml"))
    return [Preset(p.stem, _kind(p), p, _summary(p)) for p in paths]


def find(name_or_path: str | Path, reproduce: bool = False) -> Path:
    """A file that exists, else the shipped experiment of that name (`pacgan_ring`,
    `demo_nsgan_ring8.toml`, or a README path such as experiments/reproduce/pacgan_ring.toml
    run from another directory)."""
    path = Path(name_or_path)
    if path.exists():
        return path
    name = path.name.removesuffix(".toml")
    # train --config takes a reproduce preset too (its [config] is the paper's run)
    for folder in (ROOT / "reproduce",) if reproduce else (ROOT, ROOT / "reproduce"):
        if (folder / f"{name}.toml").is_file():
            return folder / f"{name}.toml"
    names = [p.name for p in all_presets() if reproduce <= (p.kind == "reproduce")]
    raise ConfigError(
        f"config file not found: {path} (nor a shipped experiment of that name: "
        f"{', '.join(names)}; see `gancli presets`)"
    )
