"""route_demand calibration: the span lies before the first origin, and test days never reach it."""

from types import SimpleNamespace

import numpy as np
import pytest

from applications.route_demand.calibrate import apply_calibration, calibrate, calibration_origins

FIRST, HORIZON, QUANTILES = 120, 14, (0.1, 0.5, 0.9)


class _FakeForecaster:
    """Seasonal naive with a fixed (too narrow) ±1 band; records the longest history it was given."""

    def __init__(self):
        self.windows = SimpleNamespace(min_origin=14)
        self.horizon = HORIZON
        self.quantiles = QUANTILES
        self.scaler = SimpleNamespace(level=np.array([5.0, 50.0]))
        self.seen_days = 0

    def forecast_many(self, values, origins, covariates=None):
        self.seen_days = max(self.seen_days, values.shape[1])
        out = []
        for o in origins:
            last_week = values[:, o - 7:o]
            med = np.concatenate([last_week, last_week], axis=1)  # (series, 14)
            out.append(np.stack([med - 1, med, med + 1], axis=-1))
        return np.stack(out)


def _panel(seed=0):
    rng = np.random.default_rng(seed)
    days = FIRST + 3 * 7 + HORIZON
    level = np.array([5.0, 50.0])[:, None]
    return np.clip(level + rng.normal(size=(2, days)) * 0.3 * level, 0, None)


def test_calibration_span_ends_before_the_first_origin_and_never_reads_test_days():
    values = _panel()
    model = _FakeForecaster()
    cal = calibrate(model, values, end=FIRST, val_days=28)
    assert model.seen_days <= FIRST
    origins = calibration_origins(model, end=FIRST, val_days=28)
    assert origins.min() == FIRST - 28 and origins.max() + HORIZON == FIRST
    # leakage check: changing every day from the first origin on changes nothing in the calibration
    changed = values.copy()
    changed[:, FIRST:] += 1000.0
    again = calibrate(_FakeForecaster(), changed, end=FIRST, val_days=28)
    np.testing.assert_array_equal(cal.calibrator.shifts, again.calibrator.shifts)
    with pytest.raises(ValueError, match="before the test span"):
        apply_calibration(cal.calibrator, cal.q_cal, level=model.scaler.level, first=FIRST - 7)


def test_calibrated_band_is_wider_than_the_too_narrow_one_and_keeps_the_median():
    values = _panel(1)
    model = _FakeForecaster()
    cal = calibrate(model, values, end=FIRST, val_days=28)
    q = model.forecast_many(values, [FIRST, FIRST + 7])
    out = apply_calibration(cal.calibrator, q, level=model.scaler.level, first=FIRST)
    np.testing.assert_array_equal(out[..., 1], q[..., 1])
    assert np.all(out[..., 2] - out[..., 0] >= q[..., 2] - q[..., 0])
    assert cal.calibrator.shifts.shape == (HORIZON, 3)
    # the big route (level 50) gets a ten times larger absolute widening than the small one
    widen = (out[..., 2] - q[..., 2]).mean(axis=(0, 2))
    assert widen[1] == pytest.approx(10 * widen[0], rel=1e-6)
