"""Options shared by the commands, each declared once.

A Config field's option takes its type, its choices and the default it shows from
`gancli.config`; `--set key=value` reaches every field, flags or not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from gancli import config as config_lib
from gancli import config_help
from gancli.config import CHOICES, DATASETS, Config, ConfigError
from gancli.sweep import SWEEPABLE

TRAIN = Config()
COMPARE = Config(**config_lib.COMPARE_DEFAULTS)

_LIST = " A comma-separated list sweeps it: every combination trains in one program."
HELP = config_help.FIELD_HELP


def _short(v: Any) -> str:
    """5e-05 -> '5e-5', 0.0001 -> '1e-4', True -> 'true': numbers as a reader writes them."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and v and not 1e-3 <= abs(v) < 1e4:
        mantissa, exp = f"{v:e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exp)}"
    return str(v)


def _per_loss(key: str) -> str:
    """'adam for gan/nsgan, rmsprop for wgan': a LOSS_DEFAULTS entry, losses grouped."""
    by_value: dict[Any, list[str]] = {}
    for loss, d in config_lib.LOSS_DEFAULTS.items():
        by_value.setdefault(d[key], []).append(loss)
    return ", ".join(f"{_short(v)} for {'/'.join(losses)}" for v, losses in by_value.items())


def describe_default(name: str, base: Config = TRAIN) -> str:
    """A field's default as help text; where it depends on other settings, how (from
    config's LOSS_DEFAULTS, SHAPE_DEFAULTS and IMAGE_ADAM_LR, which `resolve` uses too)."""
    value = getattr(base, name)
    if value is not None:
        return _short(value)
    if name in ("optimizer", "n_critic"):
        return _per_loss(name)
    if name in ("lr_g", "lr_d"):
        return f"{_per_loss('lr')}; {_short(config_lib.IMAGE_ADAM_LR)} for adam on images"
    if name in ("z_dim", "hidden"):
        return ", ".join(f"{d[name]} for {kind}" for kind, d in config_lib.SHAPE_DEFAULTS.items())
    if name in config_help.UNSET_MEANS:
        return config_help.UNSET_MEANS[name]
    raise KeyError(f"no default described for {name}")


def setting(name: str, base: Config = TRAIN, sweep: bool = False) -> Any:
    """The option of Config field `name`: `None` unless given, so a --config file and
    --set values below it show through; its help shows `base`'s default.

    Choices are Literal types (listed in --help, completed by the shell); their values are
    checked by `config.validate_choices`, so a flag and a TOML file fail the same way."""
    flag = "--" + name.replace("_", "-")
    decls = [f"{flag}/--no-{flag[2:]}"] if config_lib.field_type(name) is bool else [flag]
    kind: Any = config_lib.field_type(name)
    extra: dict[str, Any] = {}
    help = HELP[name]
    if name in CHOICES:
        kind, extra = Literal[CHOICES[name]], dict(parser=str)
    elif name == "dataset":
        extra = dict(metavar=f"<{'|'.join(DATASETS)}|PATH>", autocompletion=lambda: DATASETS)
    elif sweep and name in SWEEPABLE:
        kind, extra, help = str, dict(metavar="<float,...>"), help + _LIST
    help += f"  [default: {describe_default(name, base)}]"
    option = typer.Option(*decls, help=help, show_default=False, **extra)
    return Annotated[kind | None, option]


def settings(values: list[str] | None) -> dict[str, Any]:
    """`--set key=value` values as Config fields, typed as the fields are; a comma-separated
    list for a SWEEPABLE field is a sweep, as with its flag."""
    from gancli.sweep import parse_list

    out: dict[str, Any] = {}
    for text in values or []:
        name, sep, raw = text.partition("=")
        name, raw = name.strip().replace("-", "_"), raw.strip()
        if not sep or not name:
            raise ConfigError(f"--set takes key=value, got {text!r}")
        config_lib.coerce(name, None, "--set")  # an unknown name, with the close ones
        kind = config_lib.field_type(name)
        if name in SWEEPABLE:
            out[name] = parse_list(raw, f"--set {name}")
        elif kind is bool:
            if raw.lower() not in ("true", "false"):
                raise ConfigError(f"--set {name} must be true or false, got {raw!r}")
            out[name] = raw.lower() == "true"
        else:
            try:
                out[name] = kind(raw)
            except ValueError:
                raise ConfigError(f"--set {name} must be {kind.__name__}, got {raw!r}") from None
    return out


def overrides(flags: dict[str, Any], sets: list[str] | None) -> dict[str, Any]:
    """The Config fields a command was given: the --set values, then the flags on top of
    them (those given: not None); a swept flag's comma-separated list becomes a list."""
    from gancli.sweep import parse_list

    given = {}
    for name, v in flags.items():
        if v is None:
            continue
        swept = isinstance(v, str) and name in SWEEPABLE
        given[name] = parse_list(v, "--" + name.replace("_", "-")) if swept else v
    return {**settings(sets), **given}


def config_flags(command: str, base: Config = TRAIN, sweep: bool = False):
    """Give a command the flags of `config.FLAGS[command]`, each built by `setting` from
    the field's type, choices and help; the command receives them as one `flags` dict
    (field -> value or None), not as parameters of its own. They come first in --help."""
    import functools
    import inspect

    names = config_lib.FLAGS[command]

    def decorate(fn):
        own = [p for p in inspect.signature(fn).parameters.values() if p.name != "flags"]
        made = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None,
                                  annotation=setting(n, base, sweep)) for n in names]  # fmt: skip

        @functools.wraps(fn)
        def command_fn(**kwargs):
            return fn(flags={n: kwargs.pop(n) for n in names}, **kwargs)

        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
        command_fn.__signature__ = inspect.Signature(made + own)
        del command_fn.__wrapped__  # typer reads the signature above, not fn's
        command_fn.__annotations__ = {p.name: p.annotation for p in made + own}
        return command_fn

    return decorate


Set = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Any config field (docs/config.md; --print-config lists them), e.g. --set "
        "beta2=0.99; repeatable. "
        "Order: --config file, then --set, then the other flags.",
        show_default=False,
    ),
]
ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="TOML experiment file, or the name of a shipped one (`gancli presets`); flags "
        "override it.",
    ),
]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress or tables; the one-line result stays.")
]
Json = Annotated[
    bool,
    typer.Option(
        "--json", help="Print one JSON document on stdout and nothing else (progress: stderr)."
    ),
]


def force(what: str) -> Any:
    """`--force` in every command: overwrite `what` instead of refusing to. A plain flag,
    as --quiet and --json are (no --no-force, no default shown)."""
    return Annotated[bool, typer.Option("--force", help=f"Overwrite {what} instead of refusing.")]


def examples(*commands: str) -> str:
    """An epilog of commands as they are typed, one a line: click rewraps an epilog's
    paragraphs to the terminal's width, except one that starts with \\b."""
    lines = "\n".join("  " + c for c in commands)
    return f"Example{'s' if len(commands) > 1 else ''}:\n\n\b\n{lines}"


RunDirArg = Annotated[Path, typer.Argument(help="A run directory with checkpoints.")]
Step = Annotated[int | None, typer.Option(help="Checkpoint step (default latest).")]
