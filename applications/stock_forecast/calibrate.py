"""Calibrated price intervals: CQR on the validation span, and ACI through the test span (shared.calibration).

The networks forecast quantiles of the cumulative log return to each of the next H days. The
calibration span is the validation span (the end of the data before the test span; the weights
never fit it, it only chose the stopping epoch): one CQR shift per horizon step and quantile level,
in log-return units (so a shift is a relative move of the price, the same at 2,000 and 2,900
points). ACI then moves the levels day by day through the test span from the misses already
known: step k of the forecast made at day t is known from day t + k + 1 on (``delay`` k + 1).
The median is never moved, so every point metric equals the raw model's.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import numpy as np

from shared.calibration import adaptive_conformal_thresholds, fit_cqr, one_sided_scores, uncross_quantiles

#: ACI step size; Gibbs & Candès (2021) use 0.005 for daily data
ACI_GAMMA = 0.005


@dataclasses.dataclass(frozen=True)
class CalibratedQuantiles:
    cqr: np.ndarray
    aci: np.ndarray
    shifts: np.ndarray
    seconds_cqr: float
    seconds_aci: float


def calibrate_log_quantiles(q_val: np.ndarray, y_val: np.ndarray, q_test: np.ndarray, y_test: np.ndarray,
                            quantiles: Sequence[float], *, val_end: int, test_start: int,
                            gamma: float = ACI_GAMMA) -> CalibratedQuantiles:
    """CQR and ACI versions of ``q_test`` (origins, H, Q) of cumulative log returns.

    ``q_val``/``y_val``: forecasts and actual cumulative log returns at the validation origins,
    whose targets all lie before ``val_end`` (checked against ``test_start``). ``y_test`` (origins,
    H; NaN past the data) feeds ACI only through the delay of each step.
    """
    qs = tuple(float(v) for v in quantiles)
    point = int(np.argmin([abs(v - 0.5) for v in qs]))
    tick = time.perf_counter()
    calibrator = fit_cqr(y_val, q_val, qs, grouped=True, span_end=val_end)
    cqr = calibrator.apply(q_test, first_test=test_start)
    seconds_cqr = time.perf_counter() - tick
    tick = time.perf_counter()
    aci = q_test.copy()
    for k in range(q_test.shape[1]):
        for j, tau in enumerate(qs):
            if j == point:
                continue
            base = one_sided_scores(y_val[:, k], q_val[:, k, j], tau)
            steps = [one_sided_scores(y_test[t:t + 1, k], q_test[t:t + 1, k, j], tau) for t in range(len(q_test))]
            thr, _ = adaptive_conformal_thresholds(base, steps, coverage=tau if tau > 0.5 else 1 - tau, gamma=gamma,
                                                   delay=k + 1)
            aci[:, k, j] = q_test[:, k, j] + (thr if tau > 0.5 else -thr)
    aci = uncross_quantiles(aci, point)
    return CalibratedQuantiles(cqr=cqr, aci=aci, shifts=calibrator.shifts, seconds_cqr=seconds_cqr,
                               seconds_aci=time.perf_counter() - tick)
