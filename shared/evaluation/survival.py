"""Survival metrics: thin, validated wrappers over scikit-survival (PROTOCOLS.md Survival).

``event`` is 1/True for an observed event and 0/False for censoring; ``time`` is the observed
time (event or censoring), positive and finite. ``risk`` is higher for subjects expected to fail
sooner. scikit-survival is imported on first use, so importing this module stays cheap.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["make_surv_array", "harrell_c", "uno_c", "integrated_brier", "brier_time_grid", "d_calibration_error",
           "d_calibration_histogram"]


def _event(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of 0/1 or bool, got shape {arr.shape}")
    if arr.dtype != bool:
        if not np.issubdtype(arr.dtype, np.number) or not np.isin(arr, (0, 1)).all():
            raise ValueError(f"{name} must hold only 0/1 or True/False (1 = event observed), got values "
                             f"{np.unique(arr)[:5].tolist()}; recode the event column")
        arr = arr.astype(bool)
    if not arr.any():
        raise ValueError(f"{name} has no events (all censored); the metric needs at least one observed event")
    return arr


def _time(name: str, values: Any, n: int | None = None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of times, got shape {arr.shape}")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be positive and finite; found {int(np.sum(~(np.isfinite(arr) & (arr > 0))))} "
                         "bad value(s) (drop them or shift zero times by a small amount)")
    if n is not None and arr.size != n:
        raise ValueError(f"{name} has {arr.size} values but the matching event array has {n}; align them")
    return arr


def _scores(name: str, values: Any, n: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(float)
    if arr.ndim != 1 or arr.size != n:
        raise ValueError(f"{name} must be 1-D with one value per test subject ({n}), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values; check the model output")
    return arr


def _surv(event: Any, time: Any, prefix: str = "") -> np.ndarray:
    from sksurv.util import Surv

    e = _event(f"{prefix}event", event)
    t = _time(f"{prefix}time", time, e.size)
    return Surv.from_arrays(event=e, time=t)


def make_surv_array(event: Any, time: Any) -> np.ndarray:
    """Structured array ``(event: bool, time: float)`` as scikit-survival estimators expect."""
    return _surv(event, time)


def harrell_c(event: Any, time: Any, risk: Any) -> float:
    """Harrell's concordance index (``sksurv.metrics.concordance_index_censored``)."""
    from sksurv.metrics import concordance_index_censored

    y = _surv(event, time)
    r = _scores("risk", risk, y.shape[0])
    return float(concordance_index_censored(y["event"], y["time"], r)[0])


def uno_c(train_event: Any, train_time: Any, test_event: Any, test_time: Any, risk: Any, *,
          tau: float | None) -> float:
    """Uno's IPCW concordance truncated at ``tau`` (``sksurv.metrics.concordance_index_ipcw``).

    The censoring distribution is estimated on the training data. PROTOCOLS.md uses
    ``tau`` = 80th percentile of the training fold's observed times; ``None`` means no truncation.
    """
    from sksurv.metrics import concordance_index_ipcw

    y_train = _surv(train_event, train_time, "train_")
    y_test = _surv(test_event, test_time, "test_")
    r = _scores("risk", risk, y_test.shape[0])
    if tau is not None and (isinstance(tau, bool) or not isinstance(tau, (int, float, np.number))
                            or not np.isfinite(tau) or tau <= 0):
        raise ValueError(f"tau must be a positive finite time or None, got {tau!r}")
    return float(concordance_index_ipcw(y_train, y_test, r, tau=tau)[0])


def integrated_brier(train_event: Any, train_time: Any, test_event: Any, test_time: Any,
                     surv_probs: Any, times: Any) -> float:
    """Integrated Brier score (``sksurv.metrics.integrated_brier_score``), lower is better.

    ``surv_probs[i, j]`` is the predicted probability that test subject ``i`` survives past
    ``times[j]``; ``times`` must be increasing and inside ``[min, max)`` of the test times
    (``brier_time_grid`` builds such a grid).

    Test follow-up past the last grid time is capped halfway between that time and the last
    training time. It does not change the score (such a subject is event-free at every grid time
    and weighted by the censoring survival at the grid time, not at its own time), but
    scikit-survival refuses test times beyond the last training time, which happens in small folds.
    """
    from sksurv.metrics import integrated_brier_score

    y_train = _surv(train_event, train_time, "train_")
    y_test = _surv(test_event, test_time, "test_")
    grid = np.asarray(times, dtype=float)
    if grid.ndim != 1 or grid.size < 2 or not np.all(np.diff(grid) > 0):
        raise ValueError(f"times must be a strictly increasing 1-D grid of at least 2 points, got shape {grid.shape}; "
                         "use brier_time_grid(...)")
    if grid[-1] < y_train["time"].max():
        cap = 0.5 * (grid[-1] + y_train["time"].max())
        y_test["time"] = np.minimum(y_test["time"], cap)
    lo, hi = y_test["time"].min(), y_test["time"].max()
    if grid[0] < lo or grid[-1] >= hi:
        raise ValueError(f"times must lie in [{lo:g}, {hi:g}) (the test fold's follow-up), got [{grid[0]:g}, "
                         f"{grid[-1]:g}]; build them with brier_time_grid(...)")
    probs = np.asarray(surv_probs, dtype=float)
    if probs.shape != (y_test.shape[0], grid.size):
        raise ValueError(f"surv_probs must have shape (n_test, len(times)) = ({y_test.shape[0]}, {grid.size}), "
                         f"got {probs.shape}")
    if not np.all(np.isfinite(probs)) or probs.min() < 0 or probs.max() > 1:
        raise ValueError("surv_probs must be survival probabilities in [0, 1]; check the model output")
    return float(integrated_brier_score(y_train, y_test, probs, grid))


def brier_time_grid(train_event: Any, train_time: Any, test_time: Any, n: int = 50) -> np.ndarray:
    """``n`` equally spaced times from the 10th to the 80th percentile of training *event* times.

    The two ends are clipped to the test fold's follow-up so the IBS is defined: the grid lies
    in ``[min(test_time), max(test_time))`` (the upper end at most the float just below the max).
    Clipping the ends, not the points, keeps the ``n`` times distinct and equally spaced.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an int >= 2 (points in the grid), got {n!r}")
    e = _event("train_event", train_event)
    t = _time("train_time", train_time, e.size)
    test = _time("test_time", test_time)
    lo, hi = np.percentile(t[e], [10, 80])
    lo = max(lo, test.min())
    hi = min(hi, np.nextafter(test.max(), -np.inf))
    if not lo < hi:
        raise ValueError(f"the training event-time window [{lo:g}, {hi:g}] does not overlap the test follow-up "
                         f"[{test.min():g}, {test.max():g}); the folds are too small or too different")
    return np.linspace(lo, hi, int(n))


def d_calibration_histogram(event: Any, surv_at_own_time: Any, *, n_bins: int = 10) -> np.ndarray:
    """Shares of the test subjects in ``n_bins`` equal bins of predicted survival at their own time.

    D-calibration (Haider et al. 2020): for a calibrated model, ``S(T_i | x_i)`` of the subjects is
    uniform on [0, 1]. An event puts its whole weight in the bin holding ``s_i = S(t_i | x_i)``; a
    subject censored at ``t_i`` only tells us ``S(T_i) < s_i``, so its weight is spread uniformly over
    [0, s_i] (bin k gets ``|[b_k, b_k+1] & [0, s_i]| / s_i``). Returns the shares (sum 1), lowest bin first.
    """
    e = np.asarray(event)
    if e.ndim != 1 or e.size == 0 or not np.isin(e, (0, 1)).all():
        raise ValueError("event must be a non-empty 1-D array of 0/1 (1 = event observed)")
    s = _scores("surv_at_own_time", surv_at_own_time, e.size)
    if s.min() < 0 or s.max() > 1:
        raise ValueError("surv_at_own_time must be survival probabilities in [0, 1]")
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
        raise ValueError(f"n_bins must be an int >= 2, got {n_bins!r}")
    lo = np.arange(n_bins) / n_bins
    hi = lo + 1.0 / n_bins
    weight = np.zeros(n_bins)
    ev = e.astype(bool)
    np.add.at(weight, np.minimum((s[ev] * n_bins).astype(int), n_bins - 1), 1.0)
    sc = np.maximum(s[~ev], 1e-12)[:, None]
    overlap = np.clip(np.minimum(hi[None, :], sc) - lo[None, :], 0.0, None)
    weight += (overlap / sc).sum(axis=0)
    return weight / e.size


def d_calibration_error(event: Any, surv_at_own_time: Any, *, n_bins: int = 10) -> float:
    """Squared distance of the D-calibration histogram from uniform, ``sum_k (share_k - 1/B)^2``
    (the D-calibration measure of Goldstein et al. 2020, X-CAL); 0 = perfectly calibrated, lower is better."""
    shares = d_calibration_histogram(event, surv_at_own_time, n_bins=n_bins)
    return float(np.sum((shares - 1.0 / n_bins) ** 2))
