"""The regime experiment's pure functions: memorisation onset, floor choice, significance."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))

import regime_experiment as regime  # noqa: E402

from keras_models.metrics.noise import NoiseFloor  # noqa: E402


def floor(num, std, metric="fid", data="d"):
    return NoiseFloor(data, metric, num, 10.0, std, 0.0, 0.0, 5)


def test_memorised_from_is_the_start_of_the_final_run_at_or_above_the_threshold():
    steps = [250, 500, 750, 1000, 1250]
    # Crosses early, falls back, then rises for good: the onset is the last rise.
    assert regime.memorised_from(steps, [0.4, 0.1, 0.3, 0.5, 0.6]) == 750
    assert regime.memorised_from(steps, [0.4, 0.5, 0.6, 0.7, 0.2]) is None  # ends below
    assert regime.memorised_from(steps, [0.0, 0.1, 0.2, 0.29, 0.299]) is None
    assert regime.memorised_from(steps, [0.3] * 5) == 250  # >= counts
    assert regime.memorised_from(steps, [0.1, 0.2, 0.3, 0.1, 0.9], threshold=0.8) == 1250


def test_floor_at_takes_the_largest_measured_size_not_above_the_one_used():
    floors = {("d", "fid", n): floor(n, 1.0 / n) for n in (16, 64, 84)}
    floors[("other", "fid", 100)] = floor(100, 0.0, data="other")
    floors[("d", "swd", 100)] = floor(100, 0.0, metric="swd")
    assert regime.floor_at(floors, "d", "fid", 100).num == 84
    assert regime.floor_at(floors, "d", "fid", 64).num == 64
    assert regime.floor_at(floors, "d", "fid", 80).num == 64  # not the nearer 84
    with pytest.raises(ValueError, match=r"at <= 10 images.*\[16, 64, 84\]"):
        regime.floor_at(floors, "d", "fid", 10)


def test_difference_needs_both_the_floor_and_the_seed_spread():
    noise = floor(100, 1.0)  # significant beyond 2 * sqrt(2) * 1 = 2.83
    diff, significant = regime.difference([10.0, 10.0, 10.0], [13.0, 13.0, 13.0], noise)
    assert diff == pytest.approx(3.0) and significant
    # Below the floor, however consistent the seeds.
    assert not regime.difference([10.0] * 3, [12.5] * 3, noise)[1]
    # Beyond the floor but within two standard errors of the difference of the seed
    # means (std 5 on both sides, 3 seeds: 2 * sqrt(25 / 3 + 25 / 3) = 8.16).
    baseline, values = [5.0, 10.0, 15.0], [9.0, 14.0, 19.0]
    assert np.std(baseline, ddof=1) == pytest.approx(5.0)
    diff, significant = regime.difference(baseline, values, noise)
    assert diff == pytest.approx(4.0) and not significant
    assert not regime.difference(baseline, [13.0, 18.0, 23.0], noise)[1]  # 8 < 8.16
    assert regime.difference(baseline, [13.5, 18.5, 23.5], noise)[1]  # 8.5 > 8.16
    # One seed per side: the floor alone decides; the sign follows values - baseline.
    diff, significant = regime.difference([13.0], [10.0], noise)
    assert diff == pytest.approx(-3.0) and significant


def test_marked_bolds_only_significant_differences_with_a_sign():
    noise = floor(100, 1.0)
    assert regime.marked([10.0], [14.0], noise) == "**+4.0**"
    assert regime.marked([10.0], [8.0], noise, digits=2) == "-2.00"


def test_slug_names_run_directories_without_spaces_or_commas():
    assert regime.slug("diffaugment (color,translation,cutout)") == (
        "diffaugment-color-translation-cutout"
    )
    assert regime.slug("reals_only") == "reals_only"
