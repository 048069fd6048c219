"""The `gancli` application: the Typer app, its two consoles, and `main`, which maps known
errors to one line on stderr and an exit code (2 for usage errors), never a traceback."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.exceptions import TyperException

from gancli import stopping
from gancli.config import ConfigError
from gancli.errors import os_error_line

app = typer.Typer(
    name="gancli",
    help="GAN experiments on JAX: many seeds in one compiled program.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out = Console()
if not out.is_terminal and "COLUMNS" not in os.environ:
    # Piped to a file or a log: rich would squeeze tables to 80 columns and wrap every
    # cell; keep them whole (COLUMNS still wins when set).
    out = Console(width=200)
err = Console(stderr=True)


def log(message: str) -> None:
    """A diagnostic line on stderr, as is: rich would wrap or colour it, and read `[sweep]`
    or `[budget.full]` in a message as markup and drop it."""
    err.print(message, highlight=False, soft_wrap=True, markup=False)


def print_json(obj: Any) -> None:
    """The one JSON document of `--json` on stdout; NaN and Infinity become null."""
    from gancli.run import files

    print(files.dumps(obj, indent=2))


def _print_version(value: bool) -> None:
    if value:
        from importlib import metadata

        out.print(f"gancli {metadata.version('gancli')}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version, exit."
        ),
    ] = False,
) -> None:
    """GAN experiments on JAX: many seeds in one compiled program."""


def _known_errors() -> tuple[type[BaseException], ...]:
    from gancli.errors import DataError, RunDirError
    from gancli.run.checkpoint import CheckpointError
    from gancli.run.loop import TrainingStopped

    return ConfigError, DataError, CheckpointError, TrainingStopped, RunDirError


def _setup_jax() -> None:
    from gancli.machine.cpu_ops import unroll_threefry_on_cpu
    from gancli.machine.jaxsetup import (
        check_platforms,
        enable_compilation_cache,
        maybe_initialize_distributed,
        quiet_library_logs,
    )

    enable_compilation_cache()
    unroll_threefry_on_cpu()
    quiet_library_logs()
    maybe_initialize_distributed()
    check_platforms()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and exits with) the exit code."""
    args = sys.argv[1:] if argv is None else argv
    code, stopped = 0, False
    try:
        # a shell's tab completion, help and the version need no JAX (2 s on a small VM)
        answers_only = not args or {"--help", "--version"} & set(args)
        if "_GANCLI_COMPLETE" not in os.environ and not answers_only:
            with stopping.deferred():
                _setup_jax()
            stopping.check()  # a Ctrl-C during the imports or JAX's start
        app(args=args, prog_name="gancli", standalone_mode=False)
    except TyperException as e:  # Typer's (vendored click's) usage errors
        ctx = getattr(e, "ctx", None)
        if type(e).__name__ == "NoArgsIsHelpError" and ctx is not None:
            print(ctx.get_help())
            code = 0
        else:
            cmd = ctx.command_path if ctx is not None else "gancli"
            log(f"error: {e.format_message()} (see `{cmd} --help`)")
            code = e.exit_code
    except typer.Exit as e:
        code = e.exit_code
    except SystemExit:  # shell completion's answer: the clause below would import JAX
        raise
    except (typer.Abort, KeyboardInterrupt):
        log("interrupted")
        code = 130
    except stopping.Stopped as e:
        log(str(e))
        code, stopped = e.exit_code, True
    except _known_errors() as e:
        log(f"error: {e}")
        code = getattr(e, "exit_code", 2)
    except OSError as e:  # a file-system error no command foresaw: still one line
        log(f"error: {os_error_line(e)}")
        code = 1
    if argv is None:
        if stopped:  # XLA may still be compiling on another thread: no interpreter shutdown
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        sys.exit(code)
    return code
