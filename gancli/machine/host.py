"""The host side of the core: arrays back to numpy, which process writes, what ran where.

Kept apart from the step so the compiled core (`gancli.core.step`) imports nothing host-only.
"""

from __future__ import annotations

import datetime
import os
import platform
import socket
import sys
from importlib import metadata
from pathlib import Path

import jax


def to_host(tree):
    """A (possibly sharded) array tree as numpy, on every process.

    With several processes (`jax.distributed`), each holds only its devices' seeds; the
    gather gives every process all of them, so host code is the same on one or many.
    """
    if jax.process_count() == 1:
        return jax.device_get(tree)
    from jax.experimental import multihost_utils

    return multihost_utils.process_allgather(tree, tiled=True)


def is_primary() -> bool:
    """Only process 0 writes the run directory's files (Orbax coordinates checkpoints)."""
    return jax.process_index() == 0


def environment() -> dict:
    def version(pkg: str) -> str | None:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return None

    # every package whose code touches the numbers (training, metrics, the digits data)
    packages = ["gancli", "jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "numpy", "scipy",
                "scikit-learn", "ml_dtypes"]  # fmt: skip
    return {
        "git_commit": _git_commit(),
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "argv": sys.argv,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "versions": {p: version(p) for p in packages},
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "process_count": jax.process_count(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
    }


# The checkout gancli runs from (site-packages itself when installed without -e).
ROOT = Path(__file__).resolve().parents[2]


def _git_commit(root: Path = ROOT) -> str | None:
    """The checkout's commit ('-dirty' with uncommitted changes under gancli/, tracked or
    not) when run from one; None otherwise."""
    import subprocess

    if not (root / ".git").exists():
        return None
    git = ["git", "-C", str(root)]
    try:
        run = dict(capture_output=True, text=True, timeout=5, check=True)
        head = subprocess.run([*git, "rev-parse", "HEAD"], **run).stdout.strip()
        dirty = subprocess.run([*git, "status", "--porcelain", "--", "gancli"], **run).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if dirty else "")
