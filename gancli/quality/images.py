"""Quality of generated images, scored by a small classifier trained on the real images.

No pretrained network is downloaded: the classifier is trained once per dataset (a few
seconds on a CPU) and cached under ~/.cache/gancli/classifiers, keyed by the data. Its
figures are relative, for comparing runs on the same data; they are not FID or the
Inception Score of the literature.
"""

from __future__ import annotations

import numpy as np

from gancli.data import Dataset

# hq_frac: share of samples the classifier is confident about (features.CONFIDENT),
# the image analogue of the 2-D share of samples near a mode.
IMAGE_METRICS = ("fd", "classes", "class_kl", "inception_score", "hq_frac")
PIXEL_METRICS = ("fd_pixels",)


class ImageScorer:
    """Scores one seed's samples against the dataset (features or, unlabelled, pixels)."""

    def __init__(self, data: Dataset):
        from gancli.quality import features as im
        from gancli.quality.classifier import load_or_train_classifier

        self.im = im
        self.real = data.array
        if data.labels is None:
            self.names = PIXEL_METRICS
            self.clf = None
            self.pixel_mu, self.pixel_sigma = _pixel_stats(self.real)
            return
        self.names = IMAGE_METRICS
        self.clf = load_or_train_classifier(data.array, data.labels)
        self.real_stats = im.feature_stats(self.clf, data.array)

    def score(self, fake: np.ndarray) -> dict:
        if not np.isfinite(fake).all():
            return {k: float("nan") for k in self.names}
        if self.clf is None:
            mu, sigma = _pixel_stats(fake)
            return {
                "fd_pixels": self.im.frechet_distance(self.pixel_mu, self.pixel_sigma, mu, sigma)
            }
        q = self.im.image_quality(self.clf, self.real_stats, fake)
        return {
            "fd": float(q["fd"]),
            "classes": int(q["classes"]),
            "class_kl": float(q["class_kl"]),
            "inception_score": float(q["inception_score"]),
            "hq_frac": float(q["confident_frac"]),
        }


def _pixel_stats(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(images, np.float64).reshape(len(images), -1)
    return x.mean(0), np.cov(x, rowvar=False)
