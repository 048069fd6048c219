"""The 2-D metrics exactly as PacGAN's and VEEGAN's code computes them (docs/reproduce.md).

- A sample is high quality (HQ) when its std-normalised distance to the nearest mode,
  sqrt(sum(d^2 / std^2)), is below 3 (PacGAN `pacgan/extensions.py:154-168`; VEEGAN's
  notebook: Euclidean distance <= 3 * 0.05 on the grid, the same up to a measure-zero tie).
- modes: modes with at least one HQ sample (`extensions.py:171`).
- hq_pct: HQ samples as a percentage of all samples (`extensions.py:172`).
- reverse_kl: KL(p_HQ || uniform) of the histogram of HQ samples over nearest modes, in
  nats. The released code logs that histogram's entropy H (`extensions.py:174`), and
  KL(p || U_K) = log K - H; the KL itself is our definition (no released code computes it).
"""

from __future__ import annotations

import numpy as np

from gancli.data.mixtures import Mixture2D
from gancli.quality.mixture import mode_kl

HQ_STDS = 3.0
PAPER_METRICS = ("modes", "hq_pct", "reverse_kl")


def hq_histogram(x_Nx2: np.ndarray, centers_Kx2: np.ndarray, std: float) -> np.ndarray:
    """Count of HQ samples per mode (each sample goes to its nearest mode)."""
    x = np.asarray(x_Nx2, np.float64)
    c = np.asarray(centers_Kx2, np.float64)
    d_NxK = np.sqrt((((x[:, None, :] - c[None, :, :]) / std) ** 2).sum(-1))
    nearest, dist = d_NxK.argmin(1), d_NxK.min(1)
    return np.bincount(nearest[dist < HQ_STDS], minlength=len(c))


def reverse_kl(counts_K: np.ndarray) -> float:
    """KL(p || uniform over K) of a histogram, natural log; NaN for an empty histogram."""
    counts = np.asarray(counts_K, np.float64)
    return mode_kl(counts) if counts.sum() > 0 else float("nan")


def paper_quality(x_Nx2: np.ndarray, mixture: Mixture2D) -> dict:
    """modes, hq_pct and reverse_kl of one seed's samples (NaN if any sample is non-finite)."""
    x = np.asarray(x_Nx2)
    if not np.isfinite(x).all():
        return {k: float("nan") for k in PAPER_METRICS}
    hist = hq_histogram(x, mixture.centers, mixture.std)
    return {
        "modes": int((hist >= 1).sum()),
        "hq_pct": 100.0 * float(hist.sum()) / len(x),
        "reverse_kl": reverse_kl(hist),
    }
