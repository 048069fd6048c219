"""Quality of a state's samples, per seed, from a fixed z so steps are comparable."""

from __future__ import annotations

import jax
import numpy as np

from gancli.core.step import GANProgram
from gancli.data import Dataset
from gancli.machine.host import to_host
from gancli.quality import mixture as metrics

EVAL_STREAM = 0x5EED  # folds a seed's key into its evaluation noise, apart from training
REJECT = 0.1  # D(G(z)) below this: D rejects the sample confidently (claim 1's regime)
JUDGED = 1000  # samples per seed whose D(G(z)) is recorded at each evaluation


def fixed_z(seeds: list[int], n: int, z_dim: int) -> jax.Array:
    """The same latent points for a seed at every evaluation: (S, n, z_dim)."""
    keys = [jax.random.fold_in(jax.random.key(s), EVAL_STREAM) for s in seeds]
    return jax.numpy.stack([jax.random.normal(k, (n, z_dim)) for k in keys])


class Evaluator:
    """Draws `eval_samples` per seed and scores them against the data."""

    def __init__(self, program: GANProgram, data: Dataset, seeds: list[int] | None = None):
        cfg = program.cfg
        self.program, self.data = program, data
        # a replica's z depends on its seed only: every point of a sweep is judged on the
        # same latent points as the single run with that seed
        self.seeds = seeds if seeds is not None else [r["seed"] for r in cfg.replicas]
        self.z = fixed_z(self.seeds, cfg.eval_samples, cfg.z_dim)
        if data.mixture is not None:
            self.names = metrics.MIXTURE_METRICS
            # one data reference shared by every seed and step
            self.ref = metrics.stratified_reference(data.mixture, metrics.W1_POINTS, EVAL_STREAM)
        else:
            from gancli.quality import images as image_eval

            self.image = image_eval.ImageScorer(data)
            self.names = self.image.names

    def samples(self, state) -> np.ndarray:
        """(S, eval_samples, *sample_shape) from the fixed z."""
        return np.asarray(to_host(self.program.sample(state, self.z)))

    def __call__(self, state) -> tuple[np.ndarray, list[dict]]:
        x = self.samples(state)
        if self.data.mixture is not None:
            scores = [metrics.mixture_quality(xs, self.data.mixture, self.ref) for xs in x]
        else:
            scores = [self.image.score(xs) for xs in x]
        return x, scores

    def rejection(self, state, x: np.ndarray) -> list[dict]:
        """Per replica, the distribution of D(G(z)) over individual samples (not a batch
        mean): quantiles and the share below REJECT. Empty for a WGAN critic (no
        probability)."""
        if self.program.loss.critic:
            return [{} for _ in self.seeds]
        p = np.asarray(to_host(self.program.judge(state, x[:, :JUDGED])), np.float64)
        q = np.quantile(p, [0.1, 0.5, 0.9], axis=1)
        rejected = np.mean(p < REJECT, axis=1)
        return [
            {"d_fake_q10": q[0, i], "d_fake_q50": q[1, i], "d_fake_q90": q[2, i],
             "d_fake_rejected": rejected[i]}
            for i in range(p.shape[0])
        ]  # fmt: skip
