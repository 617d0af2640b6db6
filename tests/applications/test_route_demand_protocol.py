"""route_demand protocol: origins, rolling-origin splits without look-ahead, metrics, baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from applications.route_demand.baselines import AutoETS, Naive, SeasonalNaive, StatsmodelsETS, WeekdayMean
from applications.route_demand.data import load_flights
from applications.route_demand.protocol import (REFERENCE, evaluate, forecast_origins, pair_errors,
                                                rolling_forecasts, rolling_origin_splits)


def test_protocol_origins_are_the_twelve_tuesdays():
    origins = forecast_origins(365, first=273)
    assert origins.tolist() == list(range(273, 351, 7))
    dates = pd.date_range("2013-01-01", periods=365)
    assert dates[origins[0]] == pd.Timestamp("2013-10-01") and dates[origins[-1]] == pd.Timestamp("2013-12-17")


def test_origins_default_to_the_latest_fit_and_reject_short_series():
    assert forecast_origins(100, horizon=14, n_origins=3, step=7).tolist() == [72, 79, 86]
    with pytest.raises(ValueError, match="too short"):
        forecast_origins(40, horizon=14, n_origins=3, step=7)
    with pytest.raises(ValueError, match="runs past the last day.*--first-origin 72"):
        forecast_origins(100, horizon=14, n_origins=3, step=7, first=80)


def test_rolling_origin_never_shows_the_forecast_window():
    values = np.arange(2 * 60, dtype=float).reshape(2, 60)
    seen = []

    def spy(history):
        seen.append(history.shape[1])
        assert not history.flags.writeable
        return np.zeros((2, 5))

    rolling_forecasts(spy, values, [30, 40, 50], horizon=5)
    assert seen == [30, 40, 50]
    for split in rolling_origin_splits([30, 40], horizon=5):
        assert split.history.stop == split.target.start == split.origin


def test_forecasts_do_not_change_when_the_future_changes():
    rng = np.random.default_rng(0)
    values = rng.poisson(20, size=(3, 80)).astype(float)
    future_changed = values.copy()
    future_changed[:, 50:] = 999.0
    for model in (Naive(horizon=7), SeasonalNaive(horizon=7), WeekdayMean(horizon=7)):
        a = rolling_forecasts(model.forecast, values, [50], horizon=7)
        b = rolling_forecasts(model.forecast, future_changed, [50], horizon=7)
        np.testing.assert_array_equal(a, b)


def test_simple_baselines_by_hand():
    history = np.array([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
                         26, 27, 28.0]])
    np.testing.assert_array_equal(Naive(horizon=3).forecast(history), [[28, 28, 28]])
    np.testing.assert_array_equal(SeasonalNaive(horizon=9).forecast(history), [[22, 23, 24, 25, 26, 27, 28, 22, 23]])
    # same weekday as day 28 (the next day) over the last 4 weeks: days 1, 8, 15, 22 -> mean 11.5
    np.testing.assert_array_equal(WeekdayMean(horizon=2).forecast(history), [[11.5, 12.5]])


def test_mase_wape_smape_per_pair_by_hand():
    # one series, history of 8 days: |y_t - y_{t-7}| over the history = |12 - 10| = 2 -> scale 2
    values = np.array([[10, 10, 10, 10, 10, 10, 10, 12, 10, 14, 0.0]])
    forecasts = np.array([[[12, 10, 0.0]]])  # origin 8, horizon 3; actual 10, 14, 0
    pairs = pair_errors(values, forecasts, [8], series=["r"], horizon=3)
    row = pairs.iloc[0]
    assert row["mase"] == pytest.approx(((2 + 4 + 0) / 3) / 2)
    assert row["wape"] == pytest.approx(6 / 24)
    # sMAPE terms: 200*2/22, 200*4/24, and 0/0 -> 0
    assert row["smape"] == pytest.approx((400 / 22 + 800 / 24 + 0) / 3)
    summary, _ = evaluate(values, forecasts, [8], series=["r"], horizon=3)
    assert summary["pooled_wape"] == pytest.approx(6 / 24)


def test_pooled_wape_weights_pairs_by_volume():
    values = np.array([[1.0] * 14 + [10, 10], [1.0] * 14 + [1, 1]])
    forecasts = np.array([[[9, 9], [0, 0]]])  # errors 2 on volume 20, 2 on volume 2
    summary, _ = evaluate(values, forecasts, [14], series=["a", "b"], horizon=2)
    assert summary["wape"] == pytest.approx((0.1 + 1.0) / 2)
    assert summary["pooled_wape"] == pytest.approx(4 / 22)


def test_seasonal_naive_reproduces_protocols_md_exactly():
    panel = load_flights(top_routes=50)
    origins = forecast_origins(panel.n_days, first=273)
    forecasts = rolling_forecasts(SeasonalNaive().forecast, panel.values, origins)
    metrics, pairs = evaluate(panel.values, forecasts, origins, series=panel.series)
    assert len(pairs) == 600
    reference = REFERENCE["seasonal naive (7)"]
    assert round(metrics["wape"], 4) == reference["wape"]
    assert round(metrics["mase"], 4) == reference["mase"]
    assert round(metrics["smape"], 2) == reference["smape"]
    assert round(metrics["pooled_wape"], 4) == reference["pooled_wape"]


def test_ets_baselines_follow_a_weekly_pattern():
    pattern = np.array([10, 12, 11, 13, 12, 6, 8.0])
    history = np.tile(pattern, 8)[None, :] + np.random.default_rng(1).normal(0, 0.1, (1, 56))
    for model in (StatsmodelsETS(horizon=7), AutoETS(horizon=7)):
        forecast = model.forecast(history)
        assert forecast.shape == (1, 7)
        np.testing.assert_allclose(forecast[0], pattern, atol=0.5)
