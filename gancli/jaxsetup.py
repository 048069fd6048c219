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
    """Orbax and absl log INFO/WARNING lines meant for their developers, not ours."""
    import logging

    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)


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
