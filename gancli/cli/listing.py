"""The commands that list: `runs` (run directories and how far each got) and `presets`
(the experiment files shipped with gancli)."""

from pathlib import Path
from typing import Annotated

import typer

from gancli.cli.app import app, out, print_json
from gancli.cli.options import Json, examples
from gancli.config import ConfigError


@app.command(
    short_help="List run directories: loss, data, seeds, step, status.",
    epilog=examples("gancli runs", "gancli runs reports/ring8", "gancli runs --json"),
)
def runs(
    directory: Annotated[
        Path, typer.Argument(help="A directory of runs, searched 3 levels deep, or one run.")
    ] = Path("runs"),
    as_json: Json = False,
) -> None:
    """One line per run: loss, data, seeds, step, latest scores, status."""
    from gancli.run import index

    if not directory.is_dir():
        raise ConfigError(f"no directory {directory} (give the directory that holds the runs)")
    found = [index.describe(p) for p in index.find_runs(directory)]
    if as_json:
        print_json(found)
        return
    if not found:
        out.print(f"no runs in {directory}", highlight=False)
    for line in index.lines(found):
        out.print(line, highlight=False, soft_wrap=True)


@app.command(
    short_help="List the shipped experiment files and presets by name.",
    epilog=examples("gancli presets", "gancli train --config demo_nsgan_ring8"),
)
def presets(as_json: Json = False) -> None:
    """The shipped experiment files, by name: train --config NAME, compare-losses
    --config NAME, reproduce NAME."""
    from gancli.presets import all_presets

    found = all_presets()
    if as_json:
        print_json([{"name": p.name, "kind": p.kind, "path": str(p.path),
                     "summary": p.summary} for p in found])  # fmt: skip
        return
    width = max(len(p.name) for p in found)
    for p in found:
        out.print(f"{p.name:<{width}}  {p.kind:<9}  {p.summary}", highlight=False, soft_wrap=True)
