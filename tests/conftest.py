"""Shared tiny configs. Every test trains small models so the suite stays fast on 2 cores."""

import json
import os
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import pytest  # noqa: E402

from gancli.machine.cpu_ops import unroll_threefry_on_cpu  # noqa: E402
from gancli.machine.jaxsetup import enable_compilation_cache  # noqa: E402

enable_compilation_cache()
import jax  # noqa: E402

# The tests compile many small programs (evaluators, samplers, tiny steps) under the CLI's
# 0.5 s threshold: cached too, a rerun of three training test files took 133 s, not 144 s.
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
unroll_threefry_on_cpu()  # as the CLI does

from gancli.config import Config, resolve  # noqa: E402

# One small MLP shape shared by most tests, so its programs compile once per session.
TINY = dict(hidden=32, depth=2, batch_size=64, z_dim=2, log_every=10, eval_every=20,
            checkpoint_every=20, eval_samples=250)  # fmt: skip


def tiny(**changes) -> Config:
    return resolve(Config(**{**TINY, "steps": 40, **changes}))


@pytest.fixture
def tiny_cfg():
    return tiny


def expected_git_commit() -> str | None:
    """What env.json must record as git_commit: this checkout's HEAD (with '-dirty' when
    gancli/ has uncommitted changes), or None outside a git checkout."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    git = ["git", "-C", str(root)]
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "gancli"], capture_output=True,
                           text=True).stdout.strip()  # fmt: skip
    assert len(head.stdout.strip()) == 40, head.stderr
    return head.stdout.strip() + ("-dirty" if dirty else "")


def log_rows(path) -> list[dict]:
    """A JSON-lines log's rows without their wall-clock `time`, which no two runs share."""
    rows = [json.loads(line) for line in Path(path).read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "time"} for r in rows]
