"""Process-wide JAX settings for the command line and the tests."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    return Path(os.environ.get("GANCLI_CACHE") or Path.home() / ".cache" / "gancli")


def enable_compilation_cache() -> Path | None:
    """Keep compiled XLA programs on disk: a rerun with the same shapes skips compilation.

    Compiling one GAN step program takes seconds on a small CPU and a cached one loads in
    a fraction of that. Set GANCLI_NO_COMPILE_CACHE=1 to turn it off (`gancli bench`
    does, so compile times it reports are real).
    """
    if os.environ.get("GANCLI_NO_COMPILE_CACHE"):
        return None
    import jax

    path = cache_root() / "jax"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a read-only home: run without the cache
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    return path


def quiet_library_logs() -> None:
    """Orbax and absl log lines meant for their developers, not ours.

    Even their ERROR lines: a failed save or a damaged checkpoint is reported by gancli
    in one line of its own. GANCLI_DEBUG=1 keeps warnings and errors.
    """
    import logging

    import absl.logging

    debug = bool(os.environ.get("GANCLI_DEBUG"))
    absl.logging.set_verbosity(absl.logging.WARNING if debug else absl.logging.FATAL)
    logging.getLogger("absl").setLevel(logging.WARNING if debug else logging.CRITICAL)
    # Orbax's background writes leave asyncio futures whose error (a full disk) we have
    # already reported; asyncio would print each one again with a traceback at exit.
    logging.getLogger("asyncio").setLevel(logging.WARNING if debug else logging.CRITICAL)
    if not debug:
        _hide_closed_event_loop_errors()


def _hide_closed_event_loop_errors() -> None:
    """After a failed save Orbax closes its event loop while tensorstore writes are still in
    flight; each one that finishes later reports "Event loop is closed" as an unraisable
    error from a tensorstore thread. Those, and only those, are not printed."""
    import sys

    previous = sys.unraisablehook
    if getattr(previous, "_gancli", False):
        return

    def hook(unraisable):
        value = unraisable.exc_value
        if isinstance(value, RuntimeError) and str(value) == "Event loop is closed":
            return
        previous(unraisable)

    hook._gancli = True
    sys.unraisablehook = hook


def check_platforms() -> None:
    """A JAX_PLATFORMS that names no usable platform: one line listing those that work.

    JAX itself fails on first use, deep inside a command, with a RuntimeError (an unknown
    or unloadable platform) or an AssertionError (cuda without a visible GPU).
    """
    requested = os.environ.get("JAX_PLATFORMS", "").strip()
    if not requested:
        return
    import jax

    try:
        jax.devices()
        return
    except (RuntimeError, AssertionError) as e:
        reason = str(e).split(" (set JAX_PLATFORMS")[0].strip().rstrip(".")
        reason = reason or f"no {requested} device is visible"
    from jax.extend import backend

    from gancli.config import ConfigError

    backend.clear_backends()
    jax.config.update("jax_platforms", "")
    try:
        found = ", ".join(sorted(backend.backends())) or "none"
    except Exception:  # nothing starts at all
        found = "none"
    raise ConfigError(
        f"JAX_PLATFORMS={requested}: {reason}; platforms available here: {found} "
        "(set JAX_PLATFORMS to one of them, or unset it)"
    )


def maybe_initialize_distributed() -> bool:
    """Join a multi-process run when the environment asks for one (before any JAX work).

    JAX_COORDINATOR_ADDRESS=host:port, JAX_NUM_PROCESSES=N and JAX_PROCESS_ID=i start
    process i of N; GANCLI_DISTRIBUTED=auto lets JAX detect SLURM, Open MPI or a TPU pod.
    """
    import jax

    auto = os.environ.get("GANCLI_DISTRIBUTED") == "auto"
    address = os.environ.get("JAX_COORDINATOR_ADDRESS")
    if not (auto or address):
        return False
    if os.environ.get("JAX_PLATFORMS", "") == "cpu":
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    if auto:
        jax.distributed.initialize()
        return True
    from gancli.config import ConfigError

    try:
        n, i = int(os.environ["JAX_NUM_PROCESSES"]), int(os.environ["JAX_PROCESS_ID"])
    except (KeyError, ValueError):
        raise ConfigError(
            "JAX_COORDINATOR_ADDRESS is set: also set JAX_NUM_PROCESSES and JAX_PROCESS_ID "
            "to whole numbers (or GANCLI_DISTRIBUTED=auto on SLURM, Open MPI or a TPU pod)"
        ) from None
    jax.distributed.initialize(address, num_processes=n, process_id=i)
    return True
