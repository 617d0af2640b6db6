"""Volatility target: hand-computed scores and tests, and the references reproduce PROTOCOLS.md."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from applications.stock_forecast import volatility as V


def test_qlike_by_hand_skips_zero_proxy_days():
    # proxy/f = 2 and 0.5: (2 - ln 2 - 1) + (0.5 - ln 0.5 - 1) = 1.5 - 1 = 0.5 (the ln terms cancel); day 3 skipped
    assert V.qlike_error([2.0, 1.0, 0.0], [1.0, 2.0, 5.0]) == pytest.approx(0.25)
    assert V.qlike_error([3.0, 3.0], [3.0, 3.0]) == 0.0
    with pytest.raises(ValueError, match="> 0"):
        V.qlike_error([1.0], [0.0])


def test_kupiec_by_hand():
    hits = np.zeros(100, dtype=bool)
    # no violation in 100 days at 5 %: LR = -2 * 100 ln 0.95 = 10.2587, chi2(1) p = 0.00136
    assert V.kupiec_pvalue(hits, 0.05) == pytest.approx(0.0013604, rel=1e-4)
    hits[:5] = True  # exactly 5 %: LR = 0
    assert V.kupiec_pvalue(hits, 0.05) == pytest.approx(1.0)


def test_christoffersen_by_hand():
    # transitions of 0 1 1 0 0 0 1 0: n00 = 2, n01 = 2, n10 = 2, n11 = 1 -> LR = 0.19645, p = 0.6576
    hits = np.array([0, 1, 1, 0, 0, 0, 1, 0], dtype=bool)
    assert V.christoffersen_pvalue(hits) == pytest.approx(0.65760, abs=1e-4)
    assert V.christoffersen_pvalue(np.zeros(10, dtype=bool)) == 1.0
    clustered = np.array([0] * 40 + [1] * 5 + [0] * 40 + [1] * 5, dtype=bool)
    assert V.christoffersen_pvalue(clustered) < 0.001


def test_parkinson_and_returns_by_hand():
    assert V.parkinson_variance([math.e ** 0.01], [1.0])[0] == pytest.approx(1.0 / (4 * math.log(2)))
    r = V.percent_log_returns([100.0, 110.0])
    assert np.isnan(r[0]) and r[1] == pytest.approx(100 * math.log(1.1))


def test_diebold_mariano_on_losses():
    rng = np.random.default_rng(0)
    ref = rng.exponential(size=500)
    assert V.diebold_mariano_losses(ref - 0.5, ref)["p_better"] == 0.0  # the same lower loss every day
    better = V.diebold_mariano_losses(ref - 0.2 + rng.normal(scale=0.5, size=500), ref)
    assert better["p_better"] < 1e-6 and better["dm_stat"] < 0
    noise = V.diebold_mariano_losses(ref + rng.normal(scale=0.1, size=500), ref)
    assert 0.01 < noise["p_two_sided"] <= 1.0


@pytest.fixture(scope="module")
def sample():
    from applications.stock_forecast.data import load_prices
    from shared.data import chronological_split

    frame, _ = load_prices(source="sample", ticker=None, path=None, date_column="Date", close_column="Close",
                           start=None, end=None, cache_dir=None)
    train, val, _ = chronological_split(len(frame), fractions=(0.70, 0.15, 0.15))
    return frame, V.volatility_data(frame, train_end=int(train[-1]) + 1, val_end=int(val[-1]) + 1)


def test_references_reproduce_protocols_md(sample):
    _, data = sample
    assert data.test.size == 756
    refs = V.reference_forecasts(data)
    for name, expected in V.REFERENCE.items():
        ours = V.volatility_metrics(data, refs[name][0])
        for col, value in expected.items():
            tol = 0.006 if col.endswith("_p") else 6e-5
            assert ours[col] == pytest.approx(value, abs=tol), (name, col)


def test_references_read_no_future_return(sample):
    """Changing the returns of the test span from day k on leaves every forecast up to day k unchanged."""
    frame, data = sample
    k = 300
    changed = frame.copy()
    idx = data.test[k:]
    changed.loc[idx, ["close", "high"]] *= np.linspace(1.0, 1.5, len(idx))[:, None]  # returns and ranges change
    other = V.volatility_data(changed, train_end=data.train_end, val_end=data.val_end)
    a, b = V.reference_forecasts(data), V.reference_forecasts(other)
    for name in a:
        np.testing.assert_allclose(a[name][0][:k + 1], b[name][0][:k + 1], rtol=1e-9, err_msg=name)
        assert not np.allclose(a[name][0][k + 2:], b[name][0][k + 2:]) or name == "constant"


def test_missing_high_low_is_a_user_error():
    from shared.app import UserError

    frame = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=5), "close": [1.0, 2, 3, 4, 5]})
    with pytest.raises(UserError, match="High and Low"):
        V.volatility_data(frame, train_end=3, val_end=4)


def test_vol_windows_scale_on_training_days_and_never_read_the_forecast_day(sample):
    from applications.stock_forecast.vol_model import vol_windows

    frame, data = sample
    w = vol_windows(data, window=10)
    assert len(w.x_test) == data.test.size and w.x_train.shape[1:] == (10, 3)
    np.testing.assert_allclose(w.y_val[:, 0], data.parkinson[data.train_end:data.val_end])
    k = 200
    changed = frame.copy()
    idx = data.test[k:]
    changed.loc[idx, ["close", "high"]] *= 1.3
    other = vol_windows(V.volatility_data(changed, train_end=data.train_end, val_end=data.val_end), window=10)
    np.testing.assert_array_equal(w.mean, other.mean)  # the scaler saw training days only
    np.testing.assert_array_equal(w.x_train, other.x_train)
    np.testing.assert_array_equal(w.x_test[:k + 1], other.x_test[:k + 1])  # day k's window ends the day before
    assert not np.array_equal(w.x_test[k + 1], other.x_test[k + 1])
