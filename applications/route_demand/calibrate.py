"""Conformal calibration of the global model's quantiles (CQR per lead day, shared.calibration).

The calibration span is the early-stopping span: the origins whose 14-day windows lie in the last
``val_days`` days before the first test origin (day 273 on the flights protocol). The network's
weights never fit those targets (they only chose the stopping epoch), the forecasts there are made
exactly as at a test origin (true history before the origin, the model not refitted), and every
target day lies before the first test origin. One shift per lead day (1 … 14) and quantile level
is learnt, pooled over routes, with scores divided by each route's mean demand on the training
days (the scaler's level), so a busy and a thin route get proportionate widening. The median is
never moved: point metrics (WAPE, MASE, sMAPE) are the same as the raw model's.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from shared.calibration import (QuantileCalibrator, adaptive_conformal_thresholds, fit_cqr, one_sided_scores,
                                uncross_quantiles)
from shared.evaluation import coverage_by_group, interval_metrics

from .features import training_origins
from .protocol import actual_windows


@dataclasses.dataclass
class Calibration:
    calibrator: QuantileCalibrator
    origins: np.ndarray
    q_cal: np.ndarray
    seconds: float


def calibration_origins(forecaster: Any, *, end: int, val_days: int) -> np.ndarray:
    """The origins of the calibration span: windows whose targets fill [end − val_days, end)."""
    _, val = training_origins(min_origin=forecaster.windows.min_origin, end=end, horizon=forecaster.horizon,
                              val_days=val_days)
    return val


def cqr_from_forecasts(values: np.ndarray, q_cal: np.ndarray, origins: np.ndarray, *, end: int, horizon: int,
                       quantiles: Sequence[float], level: np.ndarray) -> QuantileCalibrator:
    """CQR shifts per lead day from calibration forecasts ``q_cal`` (origins, series, horizon, quantiles)."""
    if int(np.max(origins)) + horizon > end:
        raise ValueError(f"calibration windows run past day {end}; they must end before the first test origin")
    history = np.asarray(values, dtype=float)[:, :end]  # nothing from the test span is even passed on
    y_cal = actual_windows(history, origins, horizon=horizon)
    return fit_cqr(y_cal, q_cal, quantiles, scale=level[None, :, None], grouped=True, span_end=end)


def calibrate(forecaster: Any, values: np.ndarray, *, end: int, val_days: int,
              covariates: dict[str, np.ndarray] | None = None) -> Calibration:
    """Forecast the calibration span from the true history before each of its origins and fit CQR."""
    started = time.perf_counter()
    origins = calibration_origins(forecaster, end=end, val_days=val_days)
    history = np.asarray(values, dtype=float)[:, :end]
    before = {k: np.asarray(v)[:, :end] for k, v in covariates.items()} if covariates else covariates
    q_cal = forecaster.forecast_many(history, origins, covariates=before)
    calibrator = cqr_from_forecasts(history, q_cal, origins, end=end, horizon=forecaster.horizon,
                                    quantiles=forecaster.quantiles, level=forecaster.scaler.level)
    return Calibration(calibrator, origins, q_cal, time.perf_counter() - started)


def apply_calibration(calibrator: QuantileCalibrator, q: np.ndarray, *, level: np.ndarray, first: int) -> np.ndarray:
    """Calibrated (origins, series, horizon, quantiles), never below 0 (demand is a count)."""
    return calibrator.apply(q, scale=level[None, :, None], first_test=first, lower_bound=0.0)


def aci_quantiles(actual: np.ndarray, q: np.ndarray, calibration: Calibration, values: np.ndarray, *, end: int,
                  quantiles: Sequence[float], level: np.ndarray, origin_step: int, gamma: float) -> np.ndarray:
    """ACI (Gibbs & Candès 2021) across the rolling origins, per lead day and outer level.

    Starts from the calibration span's scores (as CQR) and, at each test origin, adds the scores
    of the earlier origins whose target day is already past: lead h of origin k is known from
    origin k + d on, d = ⌊(h − 1) / origin_step⌋ + 1. ``actual`` (origins, series, horizon) is
    read only through that delay (shared.calibration.adaptive_conformal_thresholds).
    """
    qs = tuple(float(v) for v in quantiles)
    point = int(np.argmin([abs(v - 0.5) for v in qs]))
    horizon = q.shape[2]
    y_cal = actual_windows(np.asarray(values, dtype=float)[:, :end], calibration.origins, horizon=horizon)
    out = q.copy()
    scale = level[None, :]
    for h in range(horizon):
        delay = h // origin_step + 1
        for j, tau in enumerate(qs):
            if j == point:
                continue
            base = one_sided_scores(y_cal[:, :, h], calibration.q_cal[:, :, h, j], tau, scale)
            steps = [one_sided_scores(actual[k, :, h], q[k, :, h, j], tau, level) for k in range(q.shape[0])]
            thr, _ = adaptive_conformal_thresholds(base, steps, coverage=tau if tau > 0.5 else 1 - tau,
                                                   gamma=gamma, delay=delay)
            sign = 1.0 if tau > 0.5 else -1.0
            out[:, :, h, j] = q[:, :, h, j] + sign * thr[:, None] * level[None, :]
    return np.maximum(uncross_quantiles(out, point), 0.0)


def interval_report(actual: np.ndarray, q: np.ndarray, quantiles: Sequence[float]) -> dict[str, float]:
    """Coverage, width, interval score and pinball loss of the outer band, plus coverage with rounded bounds
    (demand is a count: a lower bound of 12.03 against 12 departures misses only by rounding)."""
    out = interval_metrics(actual, q, quantiles)
    lo, hi = np.round(q[..., 0]), np.round(q[..., -1])
    out["interval_coverage_rounded"] = float(np.mean((actual >= lo) & (actual <= hi)))
    return out


def coverage_tables(actual: np.ndarray, raw: np.ndarray, calibrated: np.ndarray, series: Sequence[str]
                    ) -> tuple[Any, Any]:
    """Coverage of the outer band per lead day and per route, raw and calibrated side by side."""
    import pandas as pd

    lead = np.broadcast_to(np.arange(1, actual.shape[-1] + 1)[None, None, :], actual.shape)
    route = np.broadcast_to(np.asarray(series, dtype=object)[None, :, None], actual.shape)
    tables = []
    for groups, name in ((lead, "lead_days"), (route, "series")):
        parts = {}
        for label, q in (("raw", raw), ("calibrated", calibrated)):
            t = coverage_by_group(actual, q[..., 0], q[..., -1], groups, name=name)
            parts[f"coverage_{label}"] = t["coverage"]
            parts[f"width_{label}"] = t["width"]
        tables.append(pd.DataFrame(parts))
    by_lead, by_route = tables
    return by_lead, by_route.loc[list(series)]
