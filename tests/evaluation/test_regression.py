import logging

import numpy as np
import pytest
from sklearn import metrics as skm

from shared.evaluation import (
    UndefinedMetricError,
    directional_accuracy,
    forecast_metrics,
    interval_coverage,
    mae,
    mae_ratio,
    mape,
    mase,
    pinball_loss,
    rmse,
    smape,
    wape,
)

RNG = np.random.default_rng(0)
T = RNG.normal(100, 5, 20)
F = T + RNG.normal(0, 2, 20)


def test_rmse_mae_mape_match_sklearn():
    assert rmse(T, F) == pytest.approx(np.sqrt(skm.mean_squared_error(T, F)))
    assert mae(T, F) == pytest.approx(skm.mean_absolute_error(T, F))
    assert mape(T, F) == pytest.approx(100 * skm.mean_absolute_percentage_error(T, F))


def test_mape_hand_computed_in_percent():
    assert mape([100, 200], [110, 180]) == pytest.approx(10.0)


def test_column_vector_predictions_are_accepted():
    assert rmse(T, F.reshape(-1, 1)) == pytest.approx(rmse(T, F))


def test_mase_hand_computed_naive_one():
    # scale: |3-1|, |2-3|, |5-2| -> mean 2; errors |6-5|, |4-5| -> MAE 1
    assert mase([6, 4], [5, 5], y_train=[1, 3, 2, 5]) == pytest.approx(0.5)


def test_mase_hand_computed_seasonal():
    # lag 2 over [1, 3, 2, 5, 4]: |2-1|, |5-3|, |4-2| -> mean 5/3; MAE 1
    assert mase([6, 4], [5, 5], y_train=[1, 3, 2, 5, 4], seasonality=2) == pytest.approx(0.6)


def test_smape_hand_computed_with_zero_over_zero():
    # terms: 200*10/210, 0/0 -> 0, 200*50/50
    assert smape([100, 0, 50], [110, 0, 0]) == pytest.approx((2000 / 210 + 0 + 200) / 3)


def test_wape_hand_computed():
    assert wape([10, 0, 30], [12, 1, 27]) == pytest.approx(6 / 40)


def test_directional_accuracy_hand_computed():
    prev = [10, 10, 10, 10, 10]
    pred = [11, 9, 10, 10, 12]  # up, down, flat (= up), flat (= up), up
    true = [12, 8, 9, 10, 10]   # up, down, down, flat, flat
    assert directional_accuracy(true, pred, y_prev=prev) == pytest.approx(2 / 5)


def test_directional_accuracy_reproduces_the_always_up_reference():
    # PROTOCOLS.md Finance: 406 up, 349 down, 1 flat day -> "always up" scores 0.537
    moves = np.array([1.0] * 406 + [-1.0] * 349 + [0.0])
    prev = np.full(moves.size, 100.0)
    score = directional_accuracy(prev + moves, prev, y_prev=prev)  # persistence: zero predicted change
    assert score == pytest.approx(406 / 756)
    assert round(score, 3) == 0.537


def test_mae_ratio_hand_computed():
    assert mae_ratio([1, 2, 3], [1, 2, 4], [2, 3, 4]) == pytest.approx(1 / 3)


def test_pinball_loss_hand_computed_and_sklearn():
    # under-forecast by 5 costs 0.9*5, over-forecast by 2 costs 0.1*2
    assert pinball_loss([10, 20], [12, 15], 0.9) == pytest.approx((0.2 + 4.5) / 2)
    assert pinball_loss(T, F, 0.3) == pytest.approx(skm.mean_pinball_loss(T, F, alpha=0.3))


def test_interval_coverage_hand_computed_inclusive_bounds():
    assert interval_coverage([1, 2, 3, 4], [0, 2, 3.5, 0], [1, 3, 4, 3]) == pytest.approx(0.5)


def test_forecast_metrics_keys_and_values():
    train = RNG.normal(100, 5, 30)
    out = forecast_metrics(T, F, y_train=train, seasonality=7)
    assert list(out) == ["rmse", "mae", "mape", "smape", "wape", "mase"]
    assert out["mase"] == pytest.approx(mase(T, F, y_train=train, seasonality=7))
    assert out["wape"] == pytest.approx(wape(T, F))
    assert "mase" not in forecast_metrics(T, F)


def test_forecast_metrics_reports_undefined_metrics_as_nan(caplog):
    with caplog.at_level(logging.WARNING, logger="shared.evaluation.regression"):
        out = forecast_metrics([0, 2, 4], [1, 2, 3], y_train=[5, 5, 5])
    assert np.isnan(out["mape"]) and np.isnan(out["mase"])
    assert out["wape"] == pytest.approx(2 / 6)
    assert "mape is undefined" in caplog.text


def test_forecast_metrics_still_raises_on_bad_input():
    with pytest.raises(ValueError, match="y_true has 3 values but y_pred has 2"):
        forecast_metrics([1, 2, 3], [1, 2])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: rmse([1, 2, 3], [1, 2]), ValueError, "y_true has 3 values but y_pred has 2"),
        (lambda: mae([[1, 2], [3, 4]], [[1, 2], [3, 4]]), ValueError, "y_true must be 1-D"),
        (lambda: mae([1, np.nan], [1, 2]), ValueError, "NaN or infinite"),
        (lambda: mae(["a", "b"], [1, 2]), TypeError, "y_true must be numeric"),
        (lambda: mae([], []), ValueError, "at least 1 value"),
        (lambda: mape([0, 1], [1, 1]), UndefinedMetricError, "use wape or smape"),
        (lambda: mase([1, 2], [1, 2], y_train=[1, 2], seasonality=2), ValueError, "y_train needs more than"),
        (lambda: mase([1, 2], [1, 2], y_train=[3, 3, 3]), UndefinedMetricError, "scale is 0"),
        (lambda: mase([1, 2], [1, 2], y_train=[1, 2, 3], seasonality=0), ValueError, "seasonality must be"),
        (lambda: wape([0, 0], [1, 1]), UndefinedMetricError, r"sum \|y_true\| is 0"),
        (lambda: directional_accuracy([1, 2], [1, 2], y_prev=[1]), ValueError, "y_prev has 1"),
        (lambda: mae_ratio([1, 2], [1, 3], [1, 2]), UndefinedMetricError, "reference forecast is exact"),
        (lambda: mae_ratio([1, 2], [1, 3], [1]), ValueError, "y_reference has 1"),
        (lambda: pinball_loss([1, 2], [1, 2], 1.0), ValueError, r"quantile must be a number in \(0, 1\)"),
        (lambda: interval_coverage([1, 2], [2, 0], [1, 3]), ValueError, "lower exceeds upper"),
        (lambda: interval_coverage([1, 2], [0, 0], [1]), ValueError, "upper has 1"),
    ],
)
def test_regression_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_undefined_metric_error_is_a_value_error():
    assert issubclass(UndefinedMetricError, ValueError)
