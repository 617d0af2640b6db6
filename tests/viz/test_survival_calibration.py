"""shared.viz.survival calibration at a horizon: the decile table by hand, the figure, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from shared.viz import calibration_at_horizon_table, plot_calibration_at_horizon


def test_decile_table_by_hand():
    # two bins of predicted S(10): low group {0.2, 0.2, 0.2, 0.2}, high group {0.9, 0.9, 0.9, 0.9}
    time = np.array([5.0, 6.0, 20.0, 3.0, 30.0, 8.0, 40.0, 50.0])
    event = np.array([1, 1, 0, 0, 0, 1, 1, 0])
    pred = np.array([0.2, 0.2, 0.2, 0.2, 0.9, 0.9, 0.9, 0.9])
    table = calibration_at_horizon_table(time, event, pred, horizon=10, n_bins=2)
    # low: censored at 3 leaves 3 at risk; deaths at 5 and 6 -> KM S(10) = (2/3)(1/2) = 1/3
    # high: death at 8 among 4 at risk -> S(10) = 3/4
    assert table["patients"] == [4, 4]
    np.testing.assert_allclose(table["predicted"], [0.2, 0.9])
    np.testing.assert_allclose(table["observed"], [1 / 3, 0.75])


def test_figure_holds_one_line_per_model_and_rejects_bad_input(tmp_path):
    rng = np.random.default_rng(0)
    time, event, pred = rng.uniform(1, 100, 200), rng.integers(0, 2, 200), rng.uniform(0, 1, 200)
    fig = plot_calibration_at_horizon(time, event, {"a": pred, "b": 1 - pred}, horizon=50)
    assert set(fig.calibration) == {"a", "b"} and sum(fig.calibration["a"]["patients"]) == 200
    assert len(fig.axes[0].lines) == 3
    path = plot_calibration_at_horizon(time, event, pred, horizon=50, path=tmp_path / "c.png")
    assert path.stat().st_size > 1000
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        calibration_at_horizon_table(time, event, pred + 1, horizon=50)
    with pytest.raises(ValueError, match="horizon"):
        calibration_at_horizon_table(time, event, pred, horizon=0)
