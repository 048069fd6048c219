"""The image metrics by hand, without training a classifier: the Frechet distance on
Gaussians whose distance is known, and image_quality through a stand-in classifier whose
probabilities are chosen here. Fast: mutation runs of features.py start with this file."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest

from gancli.quality import features as im

# ----------------------------------------------------------------------------- Fréchet


def test_frechet_distance_hand_worked():
    # Diagonal Gaussians: FD = sum_d (mu1-mu2)^2 + (s1-s2)^2 with s the std deviations.
    mu1, s1 = np.array([0.0, 1.0]), np.array([1.0, 2.0])
    mu2, s2 = np.array([2.0, 1.0]), np.array([3.0, 1.0])
    expected = 4.0 + 0.0 + (1 - 3) ** 2 + (2 - 1) ** 2  # = 9
    fd = im.frechet_distance(mu1, np.diag(s1**2), mu2, np.diag(s2**2))
    assert fd == pytest.approx(expected, abs=1e-9)
    # Invariant under a common rotation (non-diagonal, commuting covariances).
    q, _ = np.linalg.qr(np.array([[1.0, 2.0], [3.0, -1.0]]))
    fd_rot = im.frechet_distance(
        q @ mu1, q @ np.diag(s1**2) @ q.T, q @ mu2, q @ np.diag(s2**2) @ q.T
    )
    assert fd_rot == pytest.approx(expected, abs=1e-8)
    # 1-D scalars: (0-3)^2 + (2-1)^2.
    assert im.frechet_distance(0.0, 4.0, 3.0, 1.0) == pytest.approx(10.0, abs=1e-9)
    # Symmetric.
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(50, 6)), rng.normal(size=(50, 6)) * 1.5 + 0.3
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    f_ab = im.frechet_distance(a.mean(0), sa, b.mean(0), sb)
    f_ba = im.frechet_distance(b.mean(0), sb, a.mean(0), sa)
    assert f_ab > 0.5 and f_ab == pytest.approx(f_ba, rel=1e-6)


def test_frechet_distance_identical_and_singular():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(200, 16))
    mu, sig = f.mean(0), np.cov(f, rowvar=False)
    assert abs(im.frechet_distance(mu, sig, mu, sig)) < 1e-6
    # Rank-deficient covariances (fewer samples than dims): finite, ~0 for identical.
    g = rng.normal(size=(5, 30))
    mu, sig = g.mean(0), np.cov(g, rowvar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no LinAlgWarning / ComplexWarning leaks out
        fd = im.frechet_distance(mu, sig, mu, sig)
    assert np.isfinite(fd) and abs(fd) < 1e-3
    # Zero covariance vs zero covariance: only the mean term.
    z = np.zeros((3, 3))
    assert im.frechet_distance(np.zeros(3), z, np.ones(3), z) == pytest.approx(3.0)


@pytest.mark.parametrize(
    "shapes",
    [((2,), (2, 2), (3,), (2, 2)),  # the means differ
     ((2,), (2, 2), (2,), (3, 3)),  # the covariances differ
     ((2,), (3, 3), (2,), (3, 3)),  # both agree, but not with the dimension
     ((2,), (1, 1), (2,), (1, 1)),  # smaller than the dimension
     ((3,), (3, 3), (3,), (2, 2)),  # the second covariance smaller
     ((3,), (3, 3), (2,), (3, 3))],  # the second mean shorter
)  # fmt: skip
def test_frechet_distance_refuses_shapes_that_do_not_match(shapes):
    mu1, s1, mu2, s2 = (np.zeros(s) for s in shapes)
    with pytest.raises(ValueError, match="shape mismatch"):
        im.frechet_distance(mu1, s1, mu2, s2)


# ----------------------------------------------------------- by hand, a stand-in classifier


class _Stub:
    """A classifier whose logits are given: log-probabilities chosen by hand."""

    num_classes = 3

    def __init__(self, probs, feats):
        self.logits, self.feats = np.log(np.asarray(probs)), np.asarray(feats, np.float64)

    def logits_and_features(self, images):
        return self.logits, self.feats


def test_image_quality_by_hand_with_a_class_the_real_data_never_shows():
    probs = [[0.95, 0.03, 0.02],  # confident, class 0
             [0.91, 0.05, 0.04],  # confident, class 0
             [0.10, 0.89, 0.01],  # not confident (0.89 < 0.9), argmax 1
             [0.02, 0.03, 0.95],  # confident, class 2
             [0.20, 0.30, 0.50]]  # not confident, argmax 2  # fmt: skip
    feats = [[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [1.0, 3.0], [0.0, 0.0]]
    real = im.FeatureStats(mu=np.zeros(2), sigma=np.eye(2), class_hist=np.array([0.5, 0.5, 0.0]))
    q = im.image_quality(_Stub(probs, feats), real, None)  # fmt: skip
    assert q["confident_frac"] == pytest.approx(3 / 5)
    assert q["classes"] == 2  # classes 0 and 2 have a confident sample (5 images: 1 is enough)
    # KL(fake || real) of the argmax histograms [2, 1, 2] / 5 and [0.5, 0.5, 0], each
    # smoothed by 1e-6 and renormalised: the class the real data never shows costs most
    eps = 1e-6
    p = (np.array([0.4, 0.2, 0.4]) + eps) / (1 + 3 * eps)
    r = (np.array([0.5, 0.5, 0.0]) + eps) / (1 + 3 * eps)
    kl = sum(p[k] * math.log(p[k] / r[k]) for k in range(3))
    assert kl > 4.5  # the absent class's term alone, 0.4 * log(0.4 / 1e-6), is 5.2
    assert q["class_kl"] == pytest.approx(kl, rel=1e-9)
    # inception score: exp of the mean over images of KL(p(y|x) || p(y))
    py = [sum(row[k] for row in probs) / 5 for k in range(3)]
    mean_kl = sum(sum(row[k] * math.log(row[k] / py[k]) for k in range(3)) for row in probs) / 5
    assert q["inception_score"] == pytest.approx(math.exp(mean_kl), rel=1e-9)
    f = np.array(feats)
    assert q["fd"] == pytest.approx(
        im.frechet_distance(np.zeros(2), np.eye(2), f.mean(0), np.cov(f, rowvar=False))
    )


def _first_root(monkeypatch, wrong) -> list:
    """Make the first square root `wrong(a)` and the later ones right; the matrices asked
    for, in order."""
    real_sqrtm, calls = im._sqrtm, []

    def root(a):
        calls.append(a)
        return wrong(a) if len(calls) == 1 else real_sqrtm(a)

    monkeypatch.setattr(im, "_sqrtm", root)
    return calls


def test_when_the_square_root_fails_the_covariances_are_nudged_by_eps(monkeypatch):
    # sqrtm of the product fails once (NaN); the fallback takes sqrt((S1 + eps I)(S2 + eps I))
    calls = _first_root(monkeypatch, lambda a: np.full_like(a, np.nan))
    eps = 0.01
    s1, s2 = np.diag([1.0, 4.0]), np.diag([9.0, 0.0])
    fd = im.frechet_distance(np.zeros(2), s1, np.ones(2), s2, eps=eps)
    assert len(calls) == 2
    np.testing.assert_allclose(calls[1], np.diag([1.01 * 9.01, 4.01 * 0.01]))
    root = math.sqrt(1.01 * 9.01) + math.sqrt(4.01 * 0.01)
    assert fd == pytest.approx(2.0 + (1 + 4) + (9 + 0) - 2 * root, rel=1e-12)


def test_a_root_wrong_by_more_than_a_thousandth_of_the_product_is_replaced(monkeypatch):
    # small covariances (product norm 1.4e-4): a zero "root" is off by all of it, far more
    # than 1e-3 of it, though less than 1e-3 in absolute terms
    calls = _first_root(monkeypatch, np.zeros_like)
    s = np.diag([0.01, 0.01])
    fd = im.frechet_distance(np.zeros(2), s, np.ones(2), s)  # the default nudge, 1e-6
    assert len(calls) == 2
    assert fd == pytest.approx(2.0 + 0.02 + 0.02 - 2 * 2 * 0.010001, rel=1e-12)


def test_a_distance_below_zero_by_rounding_or_the_nudge_is_zero(monkeypatch):
    # equal Gaussians through the fallback: 5 + 5 - 2 (1.01 + 4.01) = -0.04 before the floor
    _first_root(monkeypatch, lambda a: np.full_like(a, np.nan))
    s = np.diag([1.0, 4.0])
    assert im.frechet_distance(np.zeros(2), s, np.zeros(2), s, eps=0.01) == 0.0


def test_a_root_with_rounding_error_imaginary_parts_gives_a_real_distance(monkeypatch):
    real_sqrtm = im._sqrtm
    monkeypatch.setattr(im, "_sqrtm", lambda a: real_sqrtm(a) + 1e-12j)
    s1, s2 = np.diag([1.0, 4.0]), np.diag([9.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the imaginary parts dropped on purpose, no ComplexWarning
        fd = im.frechet_distance(np.zeros(2), s1, np.zeros(2), s2)
    assert isinstance(fd, float)
    assert fd == pytest.approx((1 - 3) ** 2 + (2 - 1) ** 2, rel=1e-9)


def test_feature_statistics_cannot_be_changed_once_made():
    stats = im.FeatureStats(mu=np.zeros(2), sigma=np.eye(2), class_hist=np.ones(3) / 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.mu = np.ones(2)


def test_a_sample_at_exactly_the_confidence_threshold_counts(monkeypatch):
    # softmax of equal logits is exactly 1/2: with the threshold there, >= counts it
    monkeypatch.setattr(im, "CONFIDENT", 0.5)
    probs = [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [0.1, 0.2, 0.7]]
    with np.errstate(divide="ignore"):  # log(0): a class with no probability at all
        q = im.image_quality(_Stub(probs, np.eye(3)), _real(), None)
    assert q["confident_frac"] == pytest.approx(1.0)
    # a zero probability adds nothing to the inception score's KL (0 log 0 = 0)
    py = [sum(row[k] for row in probs) / 3 for k in range(3)]
    mean_kl = sum(row[k] * math.log(row[k] / py[k]) for row in probs for k in range(3)
                  if row[k] > 0) / 3  # fmt: skip
    assert q["inception_score"] == pytest.approx(math.exp(mean_kl), rel=1e-9)


def _real():
    return im.FeatureStats(mu=np.zeros(3), sigma=np.eye(3), class_hist=np.ones(3) / 3)


def test_feature_statistics_need_two_images_and_two_are_enough():
    two = _Stub([[0.5, 0.25, 0.25], [0.25, 0.5, 0.25]], [[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])
    q = im.image_quality(two, _real(), None)
    assert q["fd"] == pytest.approx(
        im.frechet_distance(np.zeros(3), np.eye(3), [1.0, 1.0, 1.0], np.cov(two.feats.T))
    )
    one = _Stub([[0.5, 0.25, 0.25]], [[0.0, 1.0, 2.0]])
    with pytest.raises(ValueError, match="at least 2 images"):
        im.image_quality(one, _real(), None)


class _Logits(_Stub):
    def __init__(self, logits, feats):
        self.logits, self.feats = np.asarray(logits, np.float64), np.asarray(feats, np.float64)


def test_huge_logits_give_the_same_probabilities_as_small_ones():
    # softmax shifts by the row's max: logits 1000 apart are as good as 10 apart
    big = im.image_quality(_Logits([[1000.0, 0.0, 0.0], [0.0, 990.0, 0.0]], np.eye(2, 3)),
                           _real(), None)  # fmt: skip
    small = im.image_quality(_Logits([[10.0, 0.0, 0.0], [0.0, 10.0, 0.0]], np.eye(2, 3)),
                             _real(), None)  # fmt: skip
    assert big["confident_frac"] == small["confident_frac"] == 1.0
    assert big["classes"] == small["classes"] == 2
    assert math.isfinite(big["inception_score"])
    assert big["inception_score"] == pytest.approx(2.0, rel=1e-6)  # two sure, different classes


def test_the_kl_smoothing_is_a_keyword():
    with pytest.raises(TypeError):
        im.image_quality(_Stub([[0.5, 0.25, 0.25]] * 2, np.eye(2, 3)), _real(), None, 1e-3)


@pytest.mark.parametrize(("on_class", "covered"), [(20, 0), (21, 1)])
def test_a_class_needs_20_confident_in_every_2500_so_more_than_20_in_2501(on_class, covered):
    # 2,501 images: 20 / 2,500 of them is 20.008, so 20 confident samples are not enough
    n = 2501
    probs = np.tile([0.2, 0.4, 0.4], (n, 1))  # not confident
    probs[:on_class] = [0.95, 0.025, 0.025]  # confident, class 0
    with np.errstate(divide="ignore"):
        q = im.image_quality(_Stub(probs, np.eye(n, 3)), _real(), None)
    assert q["classes"] == covered
