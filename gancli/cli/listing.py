"""The commands that list: `runs` (run directories and how far each got)."""

from pathlib import Path
from typing import Annotated

import typer

from gancli.cli.app import app, out, print_json
from gancli.cli.options import Json
from gancli.config import ConfigError


@app.command(
    epilog="Examples:\n\n  gancli runs\n\n  gancli runs reports/ring8\n\n  gancli runs --json"
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

