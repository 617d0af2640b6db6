"""Price-interval calibration: CQR from the validation span, ACI through test without look-ahead."""

import numpy as np
import pytest

from applications.stock_forecast.calibrate import calibrate_log_quantiles

Z95 = 1.6448536269514722
QS = (0.05, 0.5, 0.95)


def _forecasts(n, rng, horizon=2, width=2.0):
    """Cumulative log returns with step-k noise sd 0.01·√k and a model whose 90 % band is ``width`` times too wide."""
    sd = 0.01 * np.sqrt(np.arange(1, horizon + 1))
    y = rng.normal(size=(n, horizon)) * sd
    q = np.stack([-width * Z95 * sd * np.ones((n, 1)), np.zeros((n, horizon)), width * Z95 * sd * np.ones((n, 1))],
                 axis=-1)
    return y, q


def test_cqr_and_aci_reach_nominal_coverage_and_keep_the_median():
    rng = np.random.default_rng(0)
    y_val, q_val = _forecasts(750, rng)
    y_test, q_test = _forecasts(3000, rng)
    out = calibrate_log_quantiles(q_val, y_val, q_test, y_test, QS, val_end=1000, test_start=1000)
    for band in (out.cqr, out.aci):
        np.testing.assert_array_equal(band[..., 1], q_test[..., 1])
        for k in range(2):
            covered = (y_test[:, k] >= band[:, k, 0]) & (y_test[:, k] <= band[:, k, 2])
            assert covered.mean() == pytest.approx(0.90, abs=0.02)
    raw = (y_test[:, 0] >= q_test[:, 0, 0]) & (y_test[:, 0] <= q_test[:, 0, 2])
    assert raw.mean() > 0.99  # the raw band was far too wide
    assert out.shifts.shape == (2, 3)


def test_aci_reads_a_test_outcome_only_after_its_delay():
    rng = np.random.default_rng(1)
    y_val, q_val = _forecasts(300, rng)
    y_test, q_test = _forecasts(200, rng)
    a = calibrate_log_quantiles(q_val, y_val, q_test, y_test, QS, val_end=300, test_start=300).aci
    changed = y_test.copy()
    changed[100:] += 1.0  # every later outcome misses
    b = calibrate_log_quantiles(q_val, y_val, q_test, changed, QS, val_end=300, test_start=300).aci
    # step 1 (delay 1) of day 100 is known from day 101 on; step 2 (delay 2) from day 102 on
    np.testing.assert_array_equal(a[:101, 0], b[:101, 0])
    np.testing.assert_array_equal(a[:102, 1], b[:102, 1])
    assert not np.array_equal(a[101:, 0], b[101:, 0])


def test_the_calibration_span_must_end_before_the_test_span():
    rng = np.random.default_rng(2)
    y, q = _forecasts(100, rng)
    with pytest.raises(ValueError, match="before the test span"):
        calibrate_log_quantiles(q, y, q, y, QS, val_end=500, test_start=400)
