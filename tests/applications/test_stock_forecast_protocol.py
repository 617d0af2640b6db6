"""stock_forecast protocol: baselines reproduce PROTOCOLS.md, metrics by hand, no leakage across the split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from applications.stock_forecast.baselines import (ArimaDrift, Drift, MedianDrift, Persistence,
                                                   always_up_accuracy, direction_tests)
from applications.stock_forecast.data import load_sample
from applications.stock_forecast.features import (TrainScaler, cumulative_targets, feature_matrix, log_returns,
                                                  make_supervised)
from applications.stock_forecast.main import FRACTIONS, REFERENCE
from applications.stock_forecast.scoring import diebold_mariano, horizon_targets, multi_step_table, price_metrics
from shared.data import chronological_split


def _walk(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0.0005, 0.01, n)))
    return pd.DataFrame({"date": pd.bdate_range("2010-01-01", periods=n), "close": close, "open": close,
                         "high": close * 1.01, "low": close * 0.99, "volume": rng.integers(1000, 2000, n) * 1.0})


@pytest.fixture(scope="module")
def sample():
    frame = load_sample()
    close = frame["close"].to_numpy()
    train, val, test = chronological_split(len(frame), fractions=FRACTIONS)
    return frame, close, train, val, test


def _one_step(model, close, train, val, test):
    model.fit(close, train_end=train[-1] + 1, fit_end=val[-1] + 1, horizon=1)
    fc = model.predict(close, test, 1)
    return price_metrics(close[test], fc.point[:, 0], previous=close[test - 1], train_close=close[:train[-1] + 1],
                         persistence=close[test - 1])


def test_split_matches_protocols_md(sample):
    frame, _, train, val, test = sample
    assert (len(train), len(val), len(test)) == (3521, 754, 756)
    assert str(frame["date"][train[-1]].date()) == "2012-12-31"
    assert str(frame["date"][val[-1]].date()) == "2015-12-29"
    assert str(frame["date"][test[0]].date()) == "2015-12-30"


def test_persistence_and_drift_reproduce_the_reference(sample):
    _, close, train, val, test = sample
    for model in (Persistence(), Drift()):
        ours = _one_step(model, close, train, val, test)
        for key, ref in REFERENCE[model.name].items():
            # the reference is rounded to 3 decimals (13.1095 was printed as 13.110)
            assert ours[key] == pytest.approx(ref, abs=6e-4), (model.name, key)
    actual, prev = close[test], close[test - 1]
    assert always_up_accuracy(actual, prev) == pytest.approx(REFERENCE["always_up"]["directional_accuracy"],
                                                             abs=5e-4)
    assert (np.sum(actual > prev), np.sum(actual < prev), np.sum(actual == prev)) == (406, 349, 1)


def test_arima_reproduces_the_reference(sample):
    _, close, train, val, test = sample
    ours = _one_step(ArimaDrift(), close, train, val, test)
    for key, ref in REFERENCE["arima_111_drift"].items():
        assert ours[key] == pytest.approx(ref, abs=6e-4), key


def test_arima_multi_step_equals_statsmodels_forecast_from_the_origin():
    close = _walk(300)["close"].to_numpy()
    model = ArimaDrift(level=0.8).fit(close, train_end=200, fit_end=250, horizon=4)
    origin = 270
    ours = model.predict(close, np.array([origin]), 4)
    ref = model._result.apply(np.log(close[:origin])).get_forecast(4)
    np.testing.assert_allclose(ours.point[0], np.exp(ref.predicted_mean), rtol=1e-9)
    ci = np.exp(ref.conf_int(alpha=0.2))
    np.testing.assert_allclose(ours.lower[0], ci[:, 0], rtol=1e-6)
    np.testing.assert_allclose(ours.upper[0], ci[:, 1], rtol=1e-6)


def test_median_drift_uses_training_moves_only():
    close = np.exp(np.array([0.0, 0.01, 0.03, 0.02, 0.05, 9.0, 9.5]))  # days 5-6 are not training days
    model = MedianDrift(level=0.5).fit(close, train_end=5, horizon=2)
    fc = model.predict(close, np.array([5, 6]), 2)
    one_day = np.median([0.01, 0.02, -0.01, 0.03])          # 0.015
    two_day = np.median([0.03, 0.01, 0.02])                 # 0.02
    np.testing.assert_allclose(np.log(fc.point[0] / close[4]), [one_day, two_day])
    np.testing.assert_allclose(np.log(fc.point[1] / close[5]), [one_day, two_day])
    assert np.all(fc.lower <= fc.point) and np.all(fc.point <= fc.upper)
    with pytest.raises(ValueError, match="before predict"):
        MedianDrift().predict(close, np.array([5]), 1)


def test_metrics_on_a_hand_made_case():
    actual = np.array([11.0, 9.0, 12.0, 12.0])
    prev = np.array([10.0, 11.0, 9.0, 12.0])
    pred = np.array([10.5, 11.5, 10.0, 11.0])   # moves: up, up, up, down; actual: up, down, up, flat
    m = price_metrics(actual, pred, previous=prev, train_close=np.array([1.0, 3.0, 2.0]), persistence=prev,
                      lower=pred - 1, upper=pred + 1)
    errors = np.abs(actual - pred)               # 0.5, 2.5, 2, 1
    assert m["mae"] == pytest.approx(1.5)
    assert m["rmse"] == pytest.approx(np.sqrt(np.mean(errors ** 2)))
    assert m["mape"] == pytest.approx(100 * np.mean(errors / actual))
    assert m["mase"] == pytest.approx(1.5 / 1.5)  # training naive-1 scale: mean(|2|, |-1|) = 1.5
    assert m["directional_accuracy"] == pytest.approx(0.5)  # up/up right, up/down wrong, up/up right, down/flat wrong
    assert m["mae_ratio_to_persistence"] == pytest.approx(1.5 / np.mean([1, 2, 3, 0]))
    inside = (actual >= pred - 1) & (actual <= pred + 1)
    assert m["interval_coverage"] == pytest.approx(inside.mean()) == pytest.approx(0.5)  # days 1 and 4


def test_direction_tests_binomial_and_paired():
    prev = np.full(10, 100.0)
    actual = prev + np.array([1, 1, 1, 1, 1, 1, -1, -1, -1, -1])  # always-up rate 0.6
    perfect = direction_tests(actual, actual, prev)
    assert perfect["accuracy"] == 1.0 and perfect["always_up_rate"] == pytest.approx(0.6)
    assert perfect["p_value_vs_always_up"] == pytest.approx(0.6 ** 10)
    assert perfect["only_model_right"] == 4 and perfect["p_value_paired"] == pytest.approx(0.5 ** 4)
    up = direction_tests(actual, prev, prev)  # zero predicted change counts as up: identical to always-up
    assert up["accuracy"] == pytest.approx(0.6) and up["p_value_paired"] == 1.0


def test_diebold_mariano_orders_better_and_worse():
    rng = np.random.default_rng(1)
    actual = rng.normal(size=300)
    good, bad = actual + rng.normal(0, 0.1, 300), actual + rng.normal(0, 1.0, 300)
    assert diebold_mariano(actual, good, bad)["p_better"] < 0.01
    assert diebold_mariano(actual, bad, good)["p_worse"] < 0.01
    # one step: the DM statistic is the paired t-test of the absolute-error differences
    d = np.abs(actual - bad) - np.abs(actual - good)
    ref = stats.ttest_1samp(d, 0.0, alternative="less")
    dm = diebold_mariano(actual, bad, good)
    assert dm["dm_stat"] == pytest.approx(ref.statistic) and dm["p_better"] == pytest.approx(ref.pvalue)
    # overlapping h-step errors: positively autocorrelated differences widen the variance, so p grows
    smooth = np.convolve(rng.normal(0.1, 1.0, 304), np.ones(5) / 5, mode="valid")  # MA(4) differences
    zeros, ref = np.zeros(300), np.full(300, 5.0)
    p1 = diebold_mariano(zeros, ref + smooth, ref, horizon=1)
    p5 = diebold_mariano(zeros, ref + smooth, ref, horizon=5)
    assert 0 < p1["p_worse"] < p5["p_worse"] < 1


def test_multi_step_table_skips_days_past_the_end():
    frame = _walk(50)
    close = frame["close"].to_numpy()
    origins = np.arange(45, 50)
    actual, prev = horizon_targets(close, origins, 3)
    assert np.isnan(actual[-1, 1:]).all() and np.isfinite(actual[:3]).all()
    fc = Persistence().fit(close, train_end=30, horizon=3).predict(close, origins, 3)
    table = multi_step_table("persistence", actual, prev, fc.point, fc.point, train_close=close[:30],
                             lower=fc.lower, upper=fc.upper)
    assert table["days"].tolist() == [5, 4, 3]
    assert np.allclose(table["mae_ratio_to_persistence"], 1.0)


# ---------------------------------------------------------------------------- leakage


def test_features_use_only_past_and_present_days():
    frame = _walk(120)
    feats = feature_matrix(frame, ("ret", "volume", "range"))
    changed = frame.copy()
    changed.loc[80:, ["close", "high", "low", "volume"]] *= 3.0
    feats2 = feature_matrix(changed, ("ret", "volume", "range"))
    np.testing.assert_array_equal(feats[:80], feats2[:80])
    np.testing.assert_allclose(log_returns(frame["close"].to_numpy())[1:], np.diff(np.log(frame["close"])))
    t = np.array([10, 20])
    np.testing.assert_allclose(cumulative_targets(frame["close"].to_numpy(), t, 2)[:, 1],
                               np.log(frame["close"].to_numpy()[t + 1] / frame["close"].to_numpy()[t - 1]))


def test_scaler_and_training_windows_ignore_validation_and_test_days():
    frame = _walk(400)
    train, val, test = chronological_split(len(frame), fractions=FRACTIONS)
    kw = dict(features=("ret", "range"), window=10, horizon=3, train=train, val=val, test=test)
    base = make_supervised(frame, **kw)
    shocked = frame.copy()
    shocked.loc[train[-1] + 1:, ["close", "high", "low"]] *= np.linspace(1, 5, len(frame) - train[-1] - 1)[:, None]
    other = make_supervised(shocked, **kw)
    for field in ("x_mean", "x_std", "y_mean", "y_std"):
        np.testing.assert_array_equal(getattr(base.scaler, field), getattr(other.scaler, field))
    np.testing.assert_array_equal(base.x_train, other.x_train)
    np.testing.assert_array_equal(base.y_train, other.y_train)
    # every training target lies inside the training span, every validation target inside validation
    assert base.train_origins.max() + 3 - 1 <= train[-1]
    assert base.val_origins.min() >= val[0] and base.val_origins.max() + 3 - 1 <= val[-1]
    # the scaler is the training span's own statistics
    raw = feature_matrix(frame, ("ret", "range"))
    np.testing.assert_allclose(base.scaler.x_mean, raw[1:train[-1] + 1].mean(axis=0))
    assert isinstance(base.scaler, TrainScaler)


def test_test_forecasts_do_not_see_the_day_they_forecast():
    frame = _walk(400)
    close = frame["close"].to_numpy()
    train, val, test = chronological_split(len(frame), fractions=FRACTIONS)
    t = int(test[20])
    future = frame.copy()
    future.loc[t:, ["close", "high", "low"]] *= 1.5
    kw = dict(features=("ret", "range"), window=10, horizon=2, train=train, val=val, test=test)
    a, b = make_supervised(frame, **kw), make_supervised(future, **kw)
    np.testing.assert_array_equal(a.x_test[: 21], b.x_test[: 21])  # windows up to origin t are unchanged
    assert not np.array_equal(a.x_test[21], b.x_test[21])           # the next one sees day t
    fclose = future["close"].to_numpy()
    for model in (Persistence(), Drift(), ArimaDrift(), MedianDrift()):
        model.fit(close, train_end=train[-1] + 1, fit_end=val[-1] + 1, horizon=2)
        p1 = model.predict(close, test[:21], 2).point
        p2 = model.predict(fclose, test[:21], 2).point
        np.testing.assert_allclose(p1, p2, err_msg=model.name)
