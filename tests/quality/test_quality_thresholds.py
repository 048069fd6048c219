"""The exact thresholds of the 2-D quality metrics, at both sides of each: a mode counts
with at least 20 high-quality samples per 2,500 (19 do not), and a sample is high quality
within 3 std of its nearest mode (2.9 std is, 3.1 std is not)."""

import numpy as np
import pytest

from gancli.data.mixtures import MIXTURES
from gancli.quality.mixture import blocked_w1, mixture_quality, stratified_reference, wasserstein1

RING = MIXTURES["ring8"]  # radius 2, std 0.02
REF = stratified_reference(RING, 500)


def samples(on_mode: dict[int, int], n: int = 2500, offset_std: float = 0.0) -> np.ndarray:
    """`on_mode[k]` samples at mode k (shifted radially by offset_std std), the rest at the
    ring's centre: 2 away from every mode, 100 std, never high quality."""
    x = np.zeros((n, 2))
    i = 0
    for k, count in on_mode.items():
        c = RING.centers[k].astype(np.float64)
        x[i : i + count] = c * (1 + offset_std * RING.std / np.linalg.norm(c))
        i += count
    return x


@pytest.mark.parametrize("count, captured", [(19, 0), (20, 1), (21, 1)])
def test_a_mode_counts_from_20_high_quality_samples_in_2500(count, captured):
    q = mixture_quality(samples({0: count}), RING, REF)
    assert q["modes"] == captured
    assert q["modes_any"] == 1  # the papers' count: one sample is enough
    assert q["hq_frac"] == pytest.approx(count / 2500)


def test_the_mode_threshold_scales_with_the_sample_count():
    # 20 per 2,500 is 4 per 500
    assert mixture_quality(samples({0: 3}, n=500), RING, REF)["modes"] == 0
    assert mixture_quality(samples({0: 4}, n=500), RING, REF)["modes"] == 1
    # rounded to the nearest count: 1,312 samples need round(10.496) = 10, 1,313 need 11
    assert mixture_quality(samples({0: 10}, n=1312), RING, REF)["modes"] == 1
    assert mixture_quality(samples({0: 10}, n=1313), RING, REF)["modes"] == 0
    assert mixture_quality(samples({0: 11}, n=1313), RING, REF)["modes"] == 1
    # and never below 1: one sample of 100 captures its mode (round(0.8) = 1)
    assert mixture_quality(samples({0: 1}, n=100), RING, REF)["modes"] == 1
    # even where 20 per 2,500 rounds to 0 (50 samples): an empty mode is never captured
    assert mixture_quality(samples({0: 1}, n=50), RING, REF)["modes"] == 1


@pytest.mark.parametrize("offset, high_quality", [(2.9, True), (3.1, False)])
def test_high_quality_means_within_3_std_of_the_nearest_mode(offset, high_quality):
    x = samples({0: 100, 5: 100}, offset_std=offset)
    q = mixture_quality(x, RING, REF)
    assert q["hq_frac"] == pytest.approx(200 / 2500 if high_quality else 0.0)
    assert q["modes"] == (2 if high_quality else 0)
    assert q["modes_any"] == (2 if high_quality else 0)
    # inward or outward, the distance is what counts
    inward = mixture_quality(samples({3: 100}, offset_std=-offset), RING, REF)
    assert inward["hq_frac"] == pytest.approx(100 / 2500 if high_quality else 0.0)


def test_mode_kl_uses_every_sample_not_only_high_quality_ones():
    # 1,250 samples near mode 0 and 1,250 near mode 4, all 10 std away: none is high
    # quality, yet the histogram over nearest modes is two equal bins: KL = log(8/2).
    x = np.concatenate([samples({0: 1250}, n=1250, offset_std=10),
                        samples({4: 1250}, n=1250, offset_std=10)])  # fmt: skip
    q = mixture_quality(x, RING, REF)
    assert q["hq_frac"] == 0.0
    assert q["mode_kl"] == pytest.approx(np.log(4.0))


def test_w1_drops_a_last_block_shorter_than_the_reference():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(999, 2))  # one block of 500 and 499 left over
    assert blocked_w1(x, REF) == wasserstein1(x[:500], REF)
    y = rng.normal(size=(1000, 2))  # two whole blocks
    assert blocked_w1(y, REF) == pytest.approx(
        (wasserstein1(y[:500], REF) + wasserstein1(y[500:], REF)) / 2
    )


def test_mode_kl_of_a_single_sample_is_log_k():
    from gancli.quality.mixture import mode_kl

    assert mode_kl(np.array([1, 0, 0, 0])) == pytest.approx(np.log(4.0))
    assert mode_kl(np.array([0, 0, 3, 0, 0, 0, 0, 0])) == pytest.approx(np.log(8.0))
    assert mode_kl(np.zeros(8, int)) == 0.0  # no samples: nothing to compare


def test_w1_is_the_mean_over_blocks_of_500_against_500_reference_points():
    rng = np.random.default_rng(1)
    x = RING.centers[rng.integers(0, 8, 2500)] + 0.3 * rng.normal(size=(2500, 2))
    ref = stratified_reference(RING, 1000)
    want = np.mean([wasserstein1(x[i : i + 500], ref[:500]) for i in range(0, 2500, 500)])
    assert mixture_quality(x, RING, ref)["w1"] == pytest.approx(want)
