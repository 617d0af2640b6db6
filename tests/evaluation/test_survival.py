import numpy as np
import pytest
from sksurv.metrics import concordance_index_censored, concordance_index_ipcw, integrated_brier_score
from sksurv.util import Surv

from shared.evaluation import brier_time_grid, harrell_c, integrated_brier, make_surv_array, uno_c


def _toy(n, seed):
    rng = np.random.default_rng(seed)
    risk = rng.normal(size=n)
    event_time = rng.exponential(10 * np.exp(-risk))
    censor_time = rng.exponential(15, n)
    time = np.maximum(np.minimum(event_time, censor_time), 0.01)
    event = (event_time <= censor_time).astype(int)
    return event, time, risk + rng.normal(0, 0.5, n)


TR_E, TR_T, _ = _toy(200, 0)
TE_E, TE_T, TE_R = _toy(80, 1)


def test_make_surv_array_matches_sksurv():
    y = make_surv_array(TR_E, TR_T)
    expected = Surv.from_arrays(event=TR_E.astype(bool), time=TR_T)
    assert y.dtype == expected.dtype
    np.testing.assert_array_equal(y["event"], expected["event"])
    np.testing.assert_allclose(y["time"], expected["time"])


def test_harrell_c_matches_sksurv_and_a_hand_case():
    assert harrell_c(TE_E, TE_T, TE_R) == pytest.approx(
        concordance_index_censored(TE_E.astype(bool), TE_T, TE_R)[0])
    # pairs comparable: (1<2), (1<3), (2<3) all led by events; risk orders two of three correctly
    assert harrell_c([1, 1, 0], [1.0, 2.0, 3.0], [3.0, 1.0, 2.0]) == pytest.approx(2 / 3)
    assert harrell_c([True, False], [1.0, 2.0], [1.0, 0.0]) == pytest.approx(1.0)


def test_uno_c_matches_sksurv():
    tau = float(np.percentile(TR_T, 80))
    expected = concordance_index_ipcw(Surv.from_arrays(TR_E.astype(bool), TR_T),
                                      Surv.from_arrays(TE_E.astype(bool), TE_T), TE_R, tau=tau)[0]
    assert uno_c(TR_E, TR_T, TE_E, TE_T, TE_R, tau=tau) == pytest.approx(expected)


def test_brier_time_grid_follows_the_protocol():
    grid = brier_time_grid(TR_E, TR_T, TE_T)
    lo, hi = np.percentile(TR_T[TR_E == 1], [10, 80])
    assert grid.shape == (50,)
    assert grid[0] == pytest.approx(lo) and grid[-1] == pytest.approx(hi)
    np.testing.assert_allclose(np.diff(grid), np.diff(grid)[0])


def test_brier_time_grid_is_clipped_to_the_test_follow_up():
    grid = brier_time_grid([1, 1, 1, 1, 1], [1, 2, 3, 4, 100], [2.5, 3.0, 4.0], n=5)
    # training event percentiles 10 % = 1.4, 80 % = 23.2; the test range is [2.5, 4.0)
    assert grid[0] == 2.5 and grid[-1] < 4.0
    assert grid.size == 5 and np.all(np.diff(grid) > 0)


def test_integrated_brier_matches_sksurv():
    times = brier_time_grid(TR_E, TR_T, TE_T, n=20)
    probs = np.exp(-np.outer(np.exp(TE_R), times) / 10)  # any survival curves in [0, 1]
    expected = integrated_brier_score(Surv.from_arrays(TR_E.astype(bool), TR_T),
                                      Surv.from_arrays(TE_E.astype(bool), TE_T), probs, times)
    assert integrated_brier(TR_E, TR_T, TE_E, TE_T, probs, times) == pytest.approx(expected)



def test_integrated_brier_accepts_test_follow_up_past_the_last_training_time():
    times = brier_time_grid(TR_E, TR_T, TE_T, n=20)
    probs = np.exp(-np.outer(np.exp(TE_R), times) / 10)
    late = TE_T.copy()
    beyond = late > times[-1]
    assert beyond.any()
    late[beyond] = TR_T.max() + 5 + np.arange(beyond.sum())
    train_e = TR_E.copy()
    train_e[TR_T.argmax()] = 1  # the last training time is an event: the censoring KM never reaches 0
    with pytest.raises(ValueError, match="largest observed time"):  # scikit-survival alone refuses
        integrated_brier_score(Surv.from_arrays(train_e.astype(bool), TR_T),
                               Surv.from_arrays(TE_E.astype(bool), late), probs, times)
    # Where follow-up ends past the grid does not matter: same score as with the original times.
    assert integrated_brier(train_e, TR_T, TE_E, late, probs, times) == pytest.approx(
        integrated_brier(train_e, TR_T, TE_E, TE_T, probs, times))


E, T = [1, 0, 1], [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: harrell_c([1, 2, 0], T, [1, 2, 3]), ValueError, "only 0/1 or True/False"),
        (lambda: harrell_c(["a", "b", "c"], T, [1, 2, 3]), ValueError, "only 0/1"),
        (lambda: harrell_c([0, 0, 0], T, [1, 2, 3]), ValueError, "has no events"),
        (lambda: harrell_c(E, [1.0, 0.0, 3.0], [1, 2, 3]), ValueError, "time must be positive and finite"),
        (lambda: harrell_c(E, [1.0, np.inf, 3.0], [1, 2, 3]), ValueError, "positive and finite"),
        (lambda: harrell_c(E, ["a", "b", "c"], [1, 2, 3]), TypeError, "time must be numeric"),
        (lambda: harrell_c(E, [1.0, 2.0], [1, 2, 3]), ValueError, "time has 2 values but the matching event"),
        (lambda: harrell_c(E, T, [1, 2]), ValueError, "risk must be 1-D with one value per test subject"),
        (lambda: harrell_c(E, T, [1, np.nan, 2]), ValueError, "risk holds NaN"),
        (lambda: harrell_c(E, T, ["a", "b", "c"]), TypeError, "risk must be numeric"),
        (lambda: harrell_c([], [], []), ValueError, "event must be a non-empty 1-D"),
        (lambda: uno_c(E, T, E, T, [1, 2, 3], tau=-1.0), ValueError, "tau must be a positive finite time"),
        (lambda: uno_c(E, T, [0, 0, 0], T, [1, 2, 3], tau=None), ValueError, "test_event has no events"),
        (lambda: integrated_brier(E, T, E, T, np.full((3, 2), 0.5), [2.0, 1.5]), ValueError, "strictly increasing"),
        (lambda: integrated_brier(E, T, E, T, np.full((3, 2), 0.5), [1.0, 3.0]), ValueError,
         r"times must lie in \[1, 3\)"),
        (lambda: integrated_brier(E, T, E, T, np.full((3, 3), 0.5), [1.0, 2.0]), ValueError,
         r"surv_probs must have shape \(n_test, len\(times\)\) = \(3, 2\)"),
        (lambda: integrated_brier(E, T, E, T, np.full((3, 2), 1.5), [1.0, 2.0]), ValueError, "in \\[0, 1\\]"),
        (lambda: brier_time_grid(E, T, T, n=1), ValueError, "n must be an int >= 2"),
        (lambda: brier_time_grid(E, T, [50.0, 60.0]), ValueError, "does not overlap the test follow-up"),
    ],
)
def test_survival_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_d_calibration_by_hand():
    from shared.evaluation.survival import d_calibration_error, d_calibration_histogram

    # two bins; events at S = 0.2 (low bin) and 0.7 (high bin); a subject censored at S = 0.8 spreads
    # its weight uniformly over [0, 0.8]: 0.5 / 0.8 to the low bin, 0.3 / 0.8 to the high one
    shares = d_calibration_histogram([1, 1, 0], [0.2, 0.7, 0.8], n_bins=2)
    np.testing.assert_allclose(shares, [(1 + 0.625) / 3, (1 + 0.375) / 3])
    assert d_calibration_error([1, 1, 0], [0.2, 0.7, 0.8], n_bins=2) == pytest.approx(2 * (1.625 / 3 - 0.5) ** 2)
    # uniform S at the event times (no censoring) is perfectly calibrated; all at S = 0.95 is not
    assert d_calibration_error(np.ones(10), (np.arange(10) + 0.5) / 10) == pytest.approx(0.0, abs=1e-12)
    assert d_calibration_error(np.ones(10), np.full(10, 0.95)) == pytest.approx(0.9, rel=1e-9)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        d_calibration_histogram([1], [1.5])
