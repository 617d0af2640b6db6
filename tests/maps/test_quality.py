"""Map quality scores, checked by hand: an isometry is perfect, a shuffled map is poor, k-NN by hand."""

from __future__ import annotations

import time

import numpy as np
import pytest

from shared.maps import continuity_score, knn_accuracy_score, map_quality, measure, trustworthiness_score
from shared.maps.quality import quality_subsample


def blobs(n=200, d=6, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6.0, size=(4, d))
    labels = np.arange(n) % 4
    return centres[labels] + rng.normal(size=(n, d)), labels


def test_an_exact_isometry_scores_one():
    rng = np.random.default_rng(1)
    low = rng.normal(size=(120, 2))
    angle = 0.7
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    high = np.hstack([low @ rotation + 3.0, np.zeros((120, 3))])      # rotated, shifted, padded: same distances
    assert trustworthiness_score(high, low) == pytest.approx(1.0)
    assert continuity_score(high, low) == pytest.approx(1.0)


def test_a_shuffled_map_scores_low_and_continuity_swaps_the_spaces():
    high, _ = blobs()
    good = high[:, :2]
    shuffled = good[np.random.default_rng(2).permutation(len(good))]
    assert trustworthiness_score(high, shuffled) < 0.6 < trustworthiness_score(high, good)
    assert continuity_score(high, good) == pytest.approx(trustworthiness_score(good, high))


def test_trustworthiness_by_hand_on_five_points():
    """n=5, k=1. Original line 0, 1, 2.5, 4.5, 7; map neighbours 0->4, 1->2, 2->3, 3->2, 4->0, whose ranks
    among the original neighbours are 4, 2, 2, 1, 4: penalties (rank - k) 3+1+1+0+3 = 8, so
    T = 1 - 2 / (n k (2n - 3k - 1)) * 8 = 1 - 2/30 * 8."""
    high = np.array([[0.0, 0.0], [1.0, 0.0], [2.5, 0.0], [4.5, 0.0], [7.0, 0.0]])
    low = np.array([[0.0, 0.0], [10.0, 0.0], [12.5, 0.0], [14.5, 0.0], [-0.5, 0.0]])
    assert trustworthiness_score(high, low, n_neighbors=1) == pytest.approx(1 - 2 / 30 * 8)
    # continuity swaps the roles: original neighbours 0->1, 1->0, 2->1, 3->2, 4->3 ranked in the map 2, 3, 2, 1, 4
    assert continuity_score(high, low, n_neighbors=1) == pytest.approx(1 - 2 / 30 * (1 + 2 + 1 + 0 + 3))


def test_knn_accuracy_by_hand():
    train = np.array([[0.0, 0], [0, 1], [1, 0], [10, 10], [10, 11], [11, 10]])
    labels = ["a", "a", "a", "b", "b", "b"]
    test = np.array([[0.5, 0.5], [10.5, 10.5], [9, 9], [1, 1]])
    assert knn_accuracy_score(train, labels, test, ["a", "b", "a", "a"], n_neighbors=3) == pytest.approx(0.75)


def test_map_quality_on_a_fixed_subsample_and_with_labels():
    high, labels = blobs(n=400)
    rows = quality_subsample(400, max_points=100, seed=3)
    assert len(rows) == 100 and np.array_equal(rows, quality_subsample(400, max_points=100, seed=3))
    record = map_quality(high, high[:, :2], labels, max_points=100, seed=3)
    assert record["quality_points"] == 100
    assert 0.5 < record["trustworthiness"] <= 1.0 and 0.5 < record["knn_accuracy"] <= 1.0
    noise = np.random.default_rng(0).normal(size=(400, 2))
    assert map_quality(high, noise, labels, seed=3)["knn_accuracy"] < 0.5     # 4 balanced classes: chance 0.25


def test_quality_input_errors_name_the_fix():
    high, labels = blobs(n=30)
    with pytest.raises(ValueError, match="need more than 20 points"):
        trustworthiness_score(high[:20], high[:20, :2])
    with pytest.raises(ValueError, match="single class"):
        map_quality(high, high[:, :2], np.zeros(30))
    with pytest.raises(ValueError, match="one row per point"):
        trustworthiness_score(high, high[:10, :2])


def test_measure_records_time_and_memory():
    with measure() as usage:
        block = np.ones((2_000, 2_000))           # 32 MB resident while the block runs
        block[::7] = 2.0
        time.sleep(0.1)
    assert usage.seconds >= 0.1
    assert usage.added_rss_mb > 20 and usage.peak_rss_mb >= usage.added_rss_mb
    del block
