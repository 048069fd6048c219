"""The `gancli` command line: parse, build a config, call one function, print.

Diagnostics go to stderr, results to stdout. Known errors become one line on stderr and
a non-zero exit code (2 for usage errors), never a traceback.
"""

from gancli.cli import experiments, listing, tools  # noqa: F401  (registers the commands)
from gancli.cli.app import app, main

__all__ = ["app", "main"]
