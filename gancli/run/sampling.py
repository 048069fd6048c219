"""Reusing a run without retraining: samples and quality metrics from a checkpoint."""

from __future__ import annotations

import os
from pathlib import Path

import jax
import numpy as np

from gancli import plots
from gancli.config import ConfigError
from gancli.errors import write_error
from gancli.machine.host import to_host
from gancli.quality.evaluator import Evaluator
from gancli.run import files, memory
from gancli.run.checkpoint import CheckpointError
from gancli.run.loop import replica_summary
from gancli.run.runner import load_run

Z_STREAM = 0x5A3E  # latent noise for `gancli sample`, apart from training and evaluation


def _check_writable(path: Path, force: bool) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    blocking = next((p for p in [parent, *parent.parents] if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise ConfigError(f"cannot write {path}: {blocking} is a file, not a directory")
    if not parent.is_dir():
        raise ConfigError(f"cannot write {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise ConfigError(f"cannot write {path}: directory {parent} is not writable")
    for p in (path.with_suffix(".png"), path.with_suffix(".npy")):
        if p.is_dir():
            raise ConfigError(f"cannot write {p}: it is a directory")
        if p.exists() and not force:
            raise ConfigError(f"{p} already exists: use another --out, or --force to overwrite it")


def draw(run_dir, n: int, step=None, seed_index=0, all_seeds=False, z_seed=0):
    """Samples (N, *shape) of one replica, or (S, N, *shape) of all; same args, same samples."""
    if n < 1:
        raise ConfigError(f"--n must be at least 1, got {n}")
    run = load_run(run_dir, step)
    S = run.cfg.num_replicas
    if not 0 <= seed_index < S:
        what = f"{S} replicas ({len(run.cfg.points)} points x {run.cfg.seeds} seeds)"
        raise ConfigError(
            f"--seed-index {seed_index} is out of range: this run has "
            f"{what if run.cfg.sweep else f'{S} seeds'} (0..{S - 1})"
        )
    memory.check_fits(run.program, samples=n, what=f"--n {n}", advice="use a smaller --n")
    z = jax.random.normal(jax.random.fold_in(jax.random.key(z_seed), Z_STREAM), (n, run.cfg.z_dim))
    z_SxNxZ = jax.numpy.broadcast_to(z, (S, n, run.cfg.z_dim))
    x = np.asarray(to_host(run.program.sample(run.state, z_SxNxZ)))
    return run, (x if all_seeds else x[seed_index])


def caption(run_dir, run, i: int, z_seed: int) -> str:
    """'wgan-ring8: wgan on ring8, step 2000' over 'seed 1, lr_d 0.0002, z seed 0'."""
    cfg = run.cfg
    return (
        f"{Path(run_dir).name}: {cfg.loss} on {Path(cfg.dataset).name}, step {run.step}\n"
        f"{cfg.replica_name(i)}, z seed {z_seed}"
    )


def sample_to_files(run_dir, n, out_file, step=None, seed_index=0, all_seeds=False, z_seed=0,
                    force=False):  # fmt: skip
    """FILE.png and FILE.npy of `out_file`; either existing is refused unless `force`."""
    out_file = Path(out_file)
    if out_file.suffix.lower() not in (".png", ".npy", ""):
        raise ConfigError(f"--out {out_file}: use a .png or .npy name (both files are written)")
    _check_writable(out_file, force)
    run, x = draw(run_dir, n, step, seed_index, all_seeds, z_seed)
    png, npy = out_file.with_suffix(".png"), out_file.with_suffix(".npy")
    sets = list(x) if all_seeds else [x]
    which = range(run.cfg.num_replicas) if all_seeds else [seed_index]
    titles = [caption(run_dir, run, i, z_seed) for i in which]
    # Write both beside their targets, then rename: nothing is left half-written, and
    # both get the usual permissions (umask), as any file the user asks for.
    try:
        with files.atomic_path(npy) as tmp:
            np.save(tmp, x)
            plots.save_panels(png, sets, titles, run.data.mixture)
    except OSError as e:
        raise write_error(str(e.filename or npy), e) from None
    return [png, npy]


def evaluate_run(run_dir, step=None) -> dict:
    """Quality metrics of a checkpoint for every replica, with mean, std and 95% CI."""
    run = load_run(run_dir, step)
    _, scores = Evaluator(run.program, run.data)(run.state)
    summary = replica_summary(run.cfg, to_host(run.state.diverged_at), scores)
    return {"run_dir": str(run_dir), "step": run.step, **summary}


__all__ = ["draw", "sample_to_files", "evaluate_run", "CheckpointError"]
