"""route_demand features and model: calendar, training-only scaling, windows without look-ahead, quantile loss."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from applications.route_demand.features import (SeriesScaler, WindowMaker, calendar_features, extended_calendar,
                                                pairs, training_origins)


def test_calendar_marks_weekdays_and_holidays():
    dates = pd.date_range("2013-11-25", "2013-12-01")  # Mon … Sun, Thanksgiving on Thu 11-28
    features, names = calendar_features(dates)
    frame = pd.DataFrame(features, index=dates, columns=names)
    assert frame["dow_mon"].tolist() == [1, 0, 0, 0, 0, 0, 0]
    assert frame["federal_holiday"].tolist() == [0, 0, 0, 1, 0, 0, 0]
    assert frame["major_holiday"].tolist() == [0, 0, 0, 1, 0, 0, 0]
    assert frame["major_holiday_m1"].tolist() == [0, 0, 1, 0, 0, 0, 0]
    assert frame["major_holiday_p2"].tolist() == [0, 0, 0, 0, 0, 1, 0]
    columbus, _ = calendar_features(pd.DatetimeIndex(["2013-10-14"]))
    assert columbus[0, names.index("federal_holiday")] == 1 and columbus[0, names.index("major_holiday")] == 0


def test_scaler_uses_the_training_days_only():
    values = np.array([[2.0, 4.0, 6.0, 100.0], [0.0, 0.0, 0.0, 5.0]])
    scaler = SeriesScaler.fit(values, end=3)
    np.testing.assert_allclose(scaler.level, [4.0, 1.0])  # a series silent in training keeps scale 1
    changed = values.copy()
    changed[:, 3] = -1e6
    np.testing.assert_array_equal(SeriesScaler.fit(changed, end=3).level, scaler.level)
    np.testing.assert_allclose(scaler.inverse(scaler.transform(values)), values)


def _maker(n_days=120, window=14, horizon=7):
    calendar, _ = calendar_features(extended_calendar(pd.date_range("2013-01-01", periods=n_days), horizon))
    return WindowMaker(window=window, horizon=horizon, calendar=calendar)


def test_windows_read_only_days_before_the_origin():
    maker = _maker()
    rng = np.random.default_rng(0)
    z = rng.random((3, 120))
    origins, series = pairs([40, 60], 3)
    x = maker.inputs(z, origins, series)
    assert x["past"].shape == (6, 14, maker.n_past_features)
    assert x["future"].shape == (6, 7, maker.n_future_features)
    changed = z.copy()
    changed[:, 40:] = 1e6  # everything from the first origin on
    x_changed = maker.inputs(changed, [40, 40, 40], [0, 1, 2])
    for key in x:
        np.testing.assert_array_equal(x_changed[key], x[key][:3])
    # the past block ends the day before the origin; the reference is the same weekday last week
    assert x["past"][0, -1, 0] == pytest.approx(z[0, 39])
    assert x["future"][0, 0, 0] == pytest.approx(z[0, 33])
    np.testing.assert_allclose(maker.targets(z, [40], [0])[0], z[0, 40:47] - z[0, 33:40], rtol=1e-6)


def test_training_origins_keep_targets_before_validation_and_the_first_origin():
    fit, val = training_origins(min_origin=21, end=273, horizon=14, val_days=42)
    assert fit.min() == 21 and fit.max() + 14 <= 273 - 42  # fitting targets end before the validation slice
    assert val.min() >= 273 - 42 and val.max() + 14 == 273  # validation targets end the day before origin 273
    with pytest.raises(ValueError, match="not enough training days"):
        training_origins(min_origin=21, end=60, horizon=14, val_days=42)


def test_quantile_loss_by_hand():
    from shared.losses import quantile_loss

    loss = quantile_loss((0.1, 0.5, 0.9))
    y_true = np.array([[10.0]], dtype="float32")
    y_pred = np.array([[[8.0, 10.0, 13.0]]], dtype="float32")
    # errors y - q: +2, 0, -3 -> pinball 0.1*2, 0, (0.9-1)*(-3) = 0.2, 0, 0.3 -> mean 0.1667
    assert float(np.asarray(loss(y_true, y_pred)).mean()) == pytest.approx(0.5 / 3, rel=1e-5)


def test_fitted_model_never_reads_the_forecast_window():
    from applications.route_demand.models import GlobalForecaster, NetworkSpec, TrainSettings

    rng = np.random.default_rng(0)
    weekly = np.tile([10, 12, 11, 13, 12, 6, 8.0], 20)[:130]
    values = np.stack([weekly * s for s in (1.0, 2.0)]) + rng.normal(0, 0.2, (2, 130))
    calendar, _ = calendar_features(extended_calendar(pd.date_range("2013-01-01", periods=130), 7))
    price = {"price": rng.normal(100, 5, (2, 130))}
    forecaster = GlobalForecaster(NetworkSpec(family="cnn1d", units=8, filters=4, context=4, hidden=8),
                                  window=14, horizon=7, quantiles=(0.1, 0.5, 0.9), calendar=calendar, n_series=2,
                                  covariates=["price"])
    changed = values.copy()
    changed[:, 100:] *= 50
    changed_price = {"price": price["price"].copy()}
    changed_price["price"][:, 100:] = 1e6
    forecaster.fit(changed, end=100, settings=TrainSettings(epochs=1, batch_size=64, val_days=14), seed=0,
                   covariates=changed_price)
    # scaled with training days only
    np.testing.assert_allclose(forecaster.scaler.level, values[:, :100].mean(axis=1))
    assert forecaster.covariate_scaler.mean["price"] == pytest.approx(price["price"][:, :100].mean())
    a = forecaster.forecast_many(values, [100, 107], covariates=price)
    shifted, shifted_price = values.copy(), {"price": price["price"].copy()}
    shifted[:, 107:] = 0.0  # changing days at or after the second origin leaves both forecasts unchanged
    shifted_price["price"][:, 107:] = -1e6
    np.testing.assert_array_equal(forecaster.forecast_many(shifted, [100, 107], covariates=shifted_price), a)
    assert a.shape == (2, 2, 7, 3) and (np.diff(a, axis=-1) >= 0).all() and (a >= 0).all()
    # one origin alone (a smaller batch) gives the same forecast up to float32 rounding
    np.testing.assert_allclose(forecaster.forecast_quantiles(values[:, :107], covariates=price), a[1], rtol=1e-5)
    with pytest.raises(ValueError, match="covariates"):
        forecaster.forecast_many(values, [100])
