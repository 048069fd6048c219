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
