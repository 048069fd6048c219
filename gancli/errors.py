"""The error for bad input, wherever it is found (a flag, a TOML file, a size that will not
fit): one line a user can act on. The command line prints it as `error: ...` and exits 2."""


class ConfigError(ValueError):
    """A bad experiment: the message is one line a user can act on."""
