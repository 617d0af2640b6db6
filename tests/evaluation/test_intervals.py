"""Interval scores against numbers worked out by hand."""

import numpy as np
import pytest

from shared.evaluation import (coverage_by_horizon, interval_coverage, interval_metrics, interval_score_error,
                               mean_interval_width, mean_pinball_error)

Y = np.array([1.0, 5.0, 10.0, 3.0])
LO = np.array([0.0, 2.0, 4.0, 4.0])
HI = np.array([2.0, 4.0, 12.0, 6.0])


def test_coverage_and_width_by_hand():
    # inside: 1 in [0,2] yes, 5 in [2,4] no, 10 in [4,12] yes, 3 in [4,6] no
    assert interval_coverage(Y, LO, HI) == 0.5  # the regression module's coverage, reused
    assert mean_interval_width(LO, HI) == pytest.approx((2 + 2 + 8 + 2) / 4)


def test_interval_score_by_hand():
    # alpha 0.2 -> penalty 2/0.2 = 10 per unit outside: widths 2,2,8,2; misses 5-4=1 above, 4-3=1 below
    expected = (2 + (2 + 10 * 1) + 8 + (2 + 10 * 1)) / 4
    assert interval_score_error(Y, LO, HI, alpha=0.2) == pytest.approx(expected)


def test_pinball_by_hand():
    y = np.array([10.0, 0.0])
    q = np.array([[8.0, 10.0, 13.0], [1.0, 2.0, 3.0]])
    # cell 1: u = 2, 0, -3 -> 0.1*2, 0, 0.1*3 (= (0.9-1)*-3); cell 2: u = -1, -2, -3 -> 0.9, 1.0, 0.3
    expected = (0.2 + 0 + 0.3 + 0.9 + 1.0 + 0.3) / 6
    assert mean_pinball_error(y, q, [0.1, 0.5, 0.9]) == pytest.approx(expected)


def test_interval_metrics_uses_the_outer_band():
    q = np.stack([LO, (LO + HI) / 2, HI], axis=-1)
    out = interval_metrics(Y, q, [0.1, 0.5, 0.9])
    assert out["interval_coverage"] == 0.5
    assert out["interval_score"] == pytest.approx(interval_score_error(Y, LO, HI, alpha=0.2))
    assert set(out) == {"interval_coverage", "interval_width", "interval_score", "pinball_loss"}
    # any shape: (origins, series, horizon) cells score like the flattened ones
    grid = interval_metrics(np.tile(Y, 3).reshape(3, 2, 2), np.tile(q, (3, 1)).reshape(3, 2, 2, 3), [0.1, 0.5, 0.9])
    assert grid == pytest.approx(out)


def test_coverage_by_horizon_groups_the_last_axis():
    y = np.array([[1.0, 5.0], [10.0, 3.0]])  # (origins, lead)
    table = coverage_by_horizon(y, LO.reshape(2, 2), HI.reshape(2, 2))
    assert table.index.tolist() == [1, 2]
    assert table["coverage"].tolist() == [1.0, 0.0]  # lead 1: 1 and 10 inside; lead 2: 5 and 3 outside
    assert table["width"].tolist() == [5.0, 2.0]
    assert table["n"].tolist() == [2, 2]


def test_errors_name_the_fix():
    with pytest.raises(ValueError, match="lower exceeds upper"):
        mean_interval_width(HI, LO)
    with pytest.raises(ValueError, match="alpha must be"):
        interval_score_error(Y, LO, HI, alpha=1.5)
    with pytest.raises(ValueError, match="shape"):
        interval_score_error(Y[:3], LO, HI, alpha=0.2)
    with pytest.raises(ValueError, match="last axis"):
        mean_pinball_error(Y, np.ones((4, 2)), [0.1, 0.5, 0.9])
