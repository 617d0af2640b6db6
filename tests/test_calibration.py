"""CQR and ACI on synthetic data with known quantiles."""

import numpy as np
import pytest

from shared.calibration import adaptive_conformal_thresholds, conformal_quantile, fit_cqr
from shared.evaluation import interval_coverage

Z90 = 1.2815515655446004  # standard normal 90 % quantile


def _too_narrow(n, rng, sigma=1.0, shrink=0.5):
    """y ~ N(mu, sigma); a model whose 10/50/90 % quantiles are right in the middle but half as wide."""
    mu = rng.normal(0, 5, size=n)
    y = mu + rng.normal(0, sigma, size=n)
    q = np.stack([mu - shrink * Z90 * sigma, mu, mu + shrink * Z90 * sigma], axis=-1)
    return y, q


def test_conformal_quantile_by_hand():
    scores = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert conformal_quantile(scores, 0.5) == 3.0  # ceil(6 * 0.5) = 3rd smallest
    assert conformal_quantile(scores, 0.8) == 5.0  # ceil(6 * 0.8) = 5th
    with pytest.raises(ValueError, match="too few"):
        conformal_quantile(scores, 0.9)  # ceil(5.4) = 6 > 5


def test_cqr_brings_a_too_narrow_band_to_nominal_and_keeps_the_median():
    rng = np.random.default_rng(0)
    y_cal, q_cal = _too_narrow(4000, rng)
    y_test, q_test = _too_narrow(20000, rng)
    raw = interval_coverage(y_test, q_test[:, 0], q_test[:, -1])
    assert raw < 0.55  # half-width band of a normal: about 0.52
    cal = fit_cqr(y_cal, q_cal, [0.1, 0.5, 0.9], span_end=4000)
    out = cal.apply(q_test, first_test=4000)
    assert interval_coverage(y_test, out[:, 0], out[:, -1]) == pytest.approx(0.80, abs=0.015)
    np.testing.assert_array_equal(out[:, 1], q_test[:, 1])  # the point forecast is untouched
    # each tail on its own is calibrated: the upper shift is about (1 - 0.5) * z90
    assert cal.shifts[0, 2] == pytest.approx(0.5 * Z90, abs=0.08)
    assert cal.shifts[0, 0] == pytest.approx(-0.5 * Z90, abs=0.08)
    assert np.mean(y_test <= out[:, 2]) == pytest.approx(0.90, abs=0.01)


def test_cqr_narrows_a_too_wide_band_without_crossing_the_median():
    rng = np.random.default_rng(1)
    y_cal, q_cal = _too_narrow(3000, rng, shrink=3.0)
    cal = fit_cqr(y_cal, q_cal, [0.1, 0.5, 0.9])
    y_test, q_test = _too_narrow(10000, rng, shrink=3.0)
    out = cal.apply(q_test)
    assert interval_coverage(y_test, out[:, 0], out[:, -1]) == pytest.approx(0.80, abs=0.02)
    assert np.all(out[:, 0] <= out[:, 1]) and np.all(out[:, 1] <= out[:, 2])


def test_cqr_per_group_and_scale():
    """Two lead times with different noise, series of different size: grouped + scaled CQR fits both."""
    rng = np.random.default_rng(2)
    n, levels = 3000, np.array([1.0, 10.0])  # (cells, series) × lead

    def sample(m):
        level = levels[rng.integers(0, 2, size=m)][:, None]
        sigma = np.array([0.5, 2.0])[None, :] * level  # lead 2 is four times noisier
        mu = 3 * level * np.ones((m, 2))
        y = mu + rng.normal(size=(m, 2)) * sigma
        q = np.stack([mu - 0.1 * level, mu, mu + 0.1 * level], axis=-1)  # same (wrong) band at both leads
        return y, q, level

    y, q, level = sample(n)
    cal = fit_cqr(y, q, [0.1, 0.5, 0.9], scale=level, grouped=True)
    assert cal.shifts.shape == (2, 3)
    y2, q2, level2 = sample(20000)
    out = cal.apply(q2, scale=level2)
    for lead in range(2):
        assert interval_coverage(y2[:, lead], out[:, lead, 0], out[:, lead, 2]) == pytest.approx(0.8, abs=0.02)
    small = level2[:, 0] == 1.0
    assert interval_coverage(y2[small, 1], out[small, 1, 0], out[small, 1, 2]) == pytest.approx(0.8, abs=0.03)


def test_calibration_span_must_end_before_the_test_span():
    rng = np.random.default_rng(3)
    y, q = _too_narrow(500, rng)
    cal = fit_cqr(y, q, [0.1, 0.5, 0.9], span_end=273)
    cal.apply(q, first_test=273)
    with pytest.raises(ValueError, match="before the test span"):
        cal.apply(q, first_test=260)


def test_aci_recovers_coverage_after_a_shift_and_uses_only_past_steps():
    rng = np.random.default_rng(4)
    cal_scores = rng.normal(size=500)  # scores of a band that was right on the calibration span
    # the test half drifts: the noise doubles, so the static threshold under-covers
    steps = [rng.normal(scale=1.0 if t < 200 else 2.0, size=1) for t in range(2000)]
    static = conformal_quantile(cal_scores, 0.9)
    thr, alphas = adaptive_conformal_thresholds(cal_scores, steps, coverage=0.9, gamma=0.01, window=300)
    covered = np.array([s[0] <= t for s, t in zip(steps, thr)])
    static_cov = np.mean([s[0] <= static for s in steps[200:]])
    assert static_cov < 0.8
    assert np.mean(covered[200:]) == pytest.approx(0.9, abs=0.02)
    # no look-ahead: changing a future step leaves earlier thresholds alone
    changed = [s.copy() for s in steps]
    changed[1000] = changed[1000] + 100.0
    thr2, _ = adaptive_conformal_thresholds(cal_scores, changed, coverage=0.9, gamma=0.01, window=300)
    np.testing.assert_array_equal(thr[:1001], thr2[:1001])
    assert not np.array_equal(thr[1001:], thr2[1001:])
    # with a delay of 2 the step right after the change is still unaffected
    thr3, _ = adaptive_conformal_thresholds(cal_scores, steps, coverage=0.9, gamma=0.01, window=300, delay=2)
    thr4, _ = adaptive_conformal_thresholds(cal_scores, changed, coverage=0.9, gamma=0.01, window=300, delay=2)
    np.testing.assert_array_equal(thr3[:1002], thr4[:1002])


def test_input_errors():
    with pytest.raises(ValueError, match="q_cal must have shape"):
        fit_cqr(np.zeros(5), np.zeros((5, 2)), [0.1, 0.5, 0.9])
    with pytest.raises(ValueError, match="increasing"):
        fit_cqr(np.zeros(5), np.zeros((5, 3)), [0.9, 0.5, 0.1])
    with pytest.raises(ValueError, match="delay"):
        adaptive_conformal_thresholds([1.0], [[1.0]], coverage=0.9, delay=0)
