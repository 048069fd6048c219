"""Quality metrics for GAN-generated images without any pretrained network.

From the features and predictions of the digit classifier (`gancli.quality.classifier`,
trained once on the labelled real images, no download):

* ``fd`` -- a Fréchet distance between real and generated images in the classifier's
  128-d feature space (the pre-ReLU output of the penultimate Dense layer).  This is an
  "FID-like" figure, **not** FID: its scale depends on the classifier, so it is only
  meaningful for comparing runs on the same data set (same cached classifier).
* ``classes`` -- the number of classes the classifier predicts *with confidence*
  (probability >= :data:`CONFIDENT`, the rule of ``confident_frac``) for at least
  :data:`MODE_MIN_FRACTION` (20 of every 2,500) of the generated images, the image
  analogue of "modes covered" (a mode counts high-quality samples only, so noise that the
  classifier spreads over classes by argmax covers nothing).
* ``class_kl`` -- KL(fake predicted-class histogram || real predicted-class histogram).
* ``inception_score`` -- exp(E_x KL(p(y|x) || p(y))), with p(y) the mean prediction over
  the generated images.

Images are float32 arrays (N, H, W, C) in [-1, 1]; labels are int32 (N,).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import scipy.linalg

from gancli.quality.classifier import Classifier

#: A class counts as covered when at least this fraction of the samples (20 of every
#: 2,500) is predicted as it -- the same rule as the 2-D "modes covered" metric.
MODE_MIN_FRACTION = 20 / 2500
# A sample "looks like a digit" when the classifier gives one class at least this
# probability: the image analogue of a 2-D sample within 3 std of a mode.
CONFIDENT = 0.9

# --------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class FeatureStats:
    mu: np.ndarray  # (F,) float64
    sigma: np.ndarray  # (F, F) float64
    class_hist: np.ndarray  # (K,) predicted-class histogram, normalised to sum 1


def _stats_from(logits: np.ndarray, feats: np.ndarray, num_classes: int) -> FeatureStats:
    feats = feats.astype(np.float64)
    if feats.shape[0] < 2:
        raise ValueError("need at least 2 images for feature statistics")
    hist = np.bincount(logits.argmax(axis=-1), minlength=num_classes).astype(np.float64)
    return FeatureStats(
        mu=feats.mean(axis=0),
        sigma=np.cov(feats, rowvar=False),
        class_hist=hist / hist.sum(),
    )


def feature_stats(clf: Classifier, images) -> FeatureStats:
    """Mean/covariance of the classifier features and the predicted-class histogram."""
    logits, feats = clf.logits_and_features(images)
    return _stats_from(logits, feats, clf.num_classes)


def _sqrtm(a: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Matrix is singular" -- handled below
        return scipy.linalg.sqrtm(a)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2), in float64:
    ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 sqrt(S1 S2)).  Scalars are treated as 1-D."""
    mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    s1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
    s2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise ValueError(f"shape mismatch: {mu1.shape} {s1.shape} vs {mu2.shape} {s2.shape}")
    diff = mu1 - mu2
    prod = s1 @ s2
    covmean = _sqrtm(prod)
    scale = max(np.linalg.norm(prod), 1e-30)
    bad = not np.isfinite(covmean).all() or (
        np.linalg.norm(covmean @ covmean - prod) > 1e-3 * scale
    )
    if bad:
        offset = np.eye(s1.shape[0]) * eps
        covmean = _sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real  # drop (tiny) imaginary parts from numerical error
    fd = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean)
    return float(max(fd, 0.0))


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def image_quality(
    clf: Classifier, real_stats: FeatureStats, fake_images, *, kl_eps: float = 1e-6
) -> dict[str, float]:
    """Metrics of generated images against the real-data statistics:

    - ``fd``: Fréchet distance in classifier-feature space (lower is better);
    - ``classes``: classes predicted with probability >= CONFIDENT for
      >= max(1, MODE_MIN_FRACTION * N) samples;
    - ``class_kl``: KL(fake class histogram || real class histogram), both smoothed by
      ``kl_eps`` so it is finite (0 = same class balance; a single class of ten ~ 2.3);
    - ``inception_score``: exp(E_x KL(p(y|x) || p(y))), 1 (worst) .. num_classes;
    - ``confident_frac``: share of samples whose most likely class has probability
      >= CONFIDENT (real data: ~0.95; noise: near 0).
    """
    logits, feats = clf.logits_and_features(fake_images)
    n = logits.shape[0]
    fake = _stats_from(logits, feats, clf.num_classes)
    fd = frechet_distance(real_stats.mu, real_stats.sigma, fake.mu, fake.sigma)

    probs = _softmax(logits)
    confident = probs.max(axis=-1) >= CONFIDENT
    counts = np.bincount(logits.argmax(axis=-1)[confident], minlength=clf.num_classes)
    covered = int(np.sum(counts >= max(1.0, MODE_MIN_FRACTION * n) - 1e-9))

    p = fake.class_hist + kl_eps
    p /= p.sum()
    q = np.asarray(real_stats.class_hist, dtype=np.float64) + kl_eps
    q /= q.sum()
    class_kl = float(np.sum(p * (np.log(p) - np.log(q))))

    py = probs.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(probs > 0, probs * (np.log(probs) - np.log(py)), 0.0).sum(axis=-1)
    inception = float(np.exp(kl.mean()))

    return {
        "fd": fd,
        "classes": float(covered),
        "class_kl": class_kl,
        "inception_score": inception,
        "confident_frac": float(np.mean(confident)),
    }
