"""The rolling-origin protocol of PROTOCOLS.md §Logistics and its metrics.

Horizon 14 days; 12 weekly forecast origins T = 273, 280, …, 350 (day 0 = 2013-01-01, so
2013-10-01 … 2013-12-17). At origin T a forecaster sees the true history of days < T and
forecasts days T … T+13. Per (series, origin) pair: MASE (scale = mean |y_t − y_{t−7}| over
the days before T), WAPE and sMAPE (0/0 terms count 0), averaged over the pairs; plus the
pooled WAPE over all pairs.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from shared.evaluation import UndefinedMetricError, interval_coverage, mase, smape, wape
from shared.errors import UserError

log = logging.getLogger(__name__)

HORIZON = 14
FIRST_ORIGIN = 273  # 2013-10-01
N_ORIGINS = 12
ORIGIN_STEP = 7
SEASON = 7
METRICS = ("mase", "wape", "smape", "pooled_wape")

#: PROTOCOLS.md §Logistics reference numbers (measured by the protocol's reference implementations).
#: Display only: they are quoted beside our own measured baselines, never reported as ours.
REFERENCE = {
    "naive (last value)": {"mase": 3.5840, "wape": 0.1147, "smape": 11.85, "pooled_wape": 0.1074},
    "mean of last 4 same weekdays": {"mase": 2.5922, "wape": 0.0807, "smape": 8.44, "pooled_wape": 0.0717},
    "seasonal naive (7)": {"mase": 2.3948, "wape": 0.0750, "smape": 7.96, "pooled_wape": 0.0679},
    "ETS additive weekly (statsmodels)": {"mase": 2.4093, "wape": 0.0756, "smape": 7.93, "pooled_wape": 0.0676},
    "AutoETS, season 7 (statsforecast 2.1.1)": {"mase": 2.3892, "wape": 0.0747, "smape": 7.81,
                                                "pooled_wape": 0.0668},
}


def forecast_origins(n_days: int, *, horizon: int = HORIZON, n_origins: int = N_ORIGINS, step: int = ORIGIN_STEP,
                     first: int | None = None, min_history: int = 2 * SEASON) -> np.ndarray:
    """Day indices of the forecast origins.

    ``first`` defaults to the latest start that still fits: the last origin's horizon ends on the
    last day. Raises a ValueError naming the fix when the series is too short.
    """
    for name, value in (("horizon", horizon), ("n_origins", n_origins), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise UserError(f"{name} must be an int >= 1, got {value!r}")
    latest_first = n_days - horizon - (n_origins - 1) * step
    if first is None:
        first = latest_first
    if first < min_history:
        raise UserError(f"the series have {n_days} days, too short for {n_origins} origins every {step} days with "
                         f"horizon {horizon} after at least {min_history} days of history; need at least "
                         f"{min_history + horizon + (n_origins - 1) * step} days, or pass fewer --origins")
    if first > latest_first:
        raise UserError(f"first origin {first} plus {n_origins} origins every {step} days with horizon {horizon} "
                         f"runs past the last day ({n_days - 1}); pass --first-origin {latest_first} or less, or "
                         "fewer --origins")
    return first + step * np.arange(n_origins)


@dataclasses.dataclass(frozen=True)
class OriginSplit:
    """One rolling origin: the model may see days [0, origin), it is scored on [origin, origin + horizon)."""

    origin: int
    horizon: int

    @property
    def history(self) -> slice:
        return slice(0, self.origin)

    @property
    def target(self) -> slice:
        return slice(self.origin, self.origin + self.horizon)


def rolling_origin_splits(origins: Sequence[int], *, horizon: int = HORIZON) -> Iterator[OriginSplit]:
    """The splits of the protocol, in time order."""
    for origin in origins:
        yield OriginSplit(int(origin), int(horizon))


def rolling_forecasts(forecast: Callable[[np.ndarray], np.ndarray], values: np.ndarray, origins: Sequence[int],
                      *, horizon: int = HORIZON) -> np.ndarray:
    """Call ``forecast(history)`` at every origin with ``values[:, :origin]`` only.

    Returns (n_origins, n_series, horizon). The forecaster never receives a day at or after the
    origin, so it cannot use the window it is scored on.
    """
    values = np.asarray(values, dtype=float)
    out = []
    for split in rolling_origin_splits(origins, horizon=horizon):
        history = values[:, split.history].copy()
        history.setflags(write=False)
        pred = np.asarray(forecast(history), dtype=float)
        if pred.shape != (values.shape[0], horizon):
            raise UserError(f"forecast returned shape {pred.shape}, expected {(values.shape[0], horizon)}")
        out.append(pred)
    return np.stack(out)


def _safe(metric: Callable[[], float]) -> float:
    try:
        return metric()
    except UndefinedMetricError:
        return float("nan")


def pair_errors(values: np.ndarray, forecasts: np.ndarray, origins: Sequence[int], *, series: Sequence[str],
                dates: pd.DatetimeIndex | None = None, horizon: int = HORIZON, season: int = SEASON) -> pd.DataFrame:
    """One row per (origin, series) with mase, wape, smape and the absolute error and actual sums."""
    values = np.asarray(values, dtype=float)
    forecasts = np.asarray(forecasts, dtype=float)
    expected = (len(origins), values.shape[0], horizon)
    if forecasts.shape != expected:
        raise UserError(f"forecasts must have shape (origins, series, horizon) = {expected}, got {forecasts.shape}")
    rows = []
    for k, split in enumerate(rolling_origin_splits(origins, horizon=horizon)):
        for i, name in enumerate(series):
            actual = values[i, split.target]
            pred = forecasts[k, i]
            train = values[i, split.history]
            rows.append({"origin": split.origin,
                         "origin_date": None if dates is None else dates[split.origin].date().isoformat(),
                         "series": name,
                         "mase": _safe(lambda: mase(actual, pred, y_train=train, seasonality=season)),
                         "wape": _safe(lambda: wape(actual, pred)),
                         "smape": smape(actual, pred),
                         "abs_error": float(np.abs(actual - pred).sum()),
                         "actual": float(np.abs(actual).sum())})
    return pd.DataFrame(rows)


def summarize(pairs: pd.DataFrame) -> dict[str, float]:
    """Protocol metrics from :func:`pair_errors`: means over pairs and the pooled WAPE."""
    out = {m: float(pairs[m].mean(skipna=True)) for m in ("mase", "wape", "smape")}
    out["pooled_wape"] = float(pairs["abs_error"].sum() / pairs["actual"].sum())
    undefined = int(pairs[["mase", "wape"]].isna().any(axis=1).sum())
    if undefined:
        log.warning("%d (series, origin) pair(s) have an undefined MASE or WAPE (zero scale or all-zero window); "
                    "they are left out of those means", undefined)
    return out


def evaluate(values: np.ndarray, forecasts: np.ndarray, origins: Sequence[int], *, series: Sequence[str],
             dates: pd.DatetimeIndex | None = None, horizon: int = HORIZON) -> tuple[dict[str, float], pd.DataFrame]:
    """Protocol metrics and the per-pair table."""
    pairs = pair_errors(values, forecasts, origins, series=series, dates=dates, horizon=horizon)
    return summarize(pairs), pairs


def band_coverage(values: np.ndarray, lower: np.ndarray, upper: np.ndarray, origins: Sequence[int], *,
                  horizon: int = HORIZON) -> float:
    """Share of actual values inside [lower, upper] over all (origin, series, day) cells."""
    actual = np.stack([np.asarray(values, dtype=float)[:, s.target]
                       for s in rolling_origin_splits(origins, horizon=horizon)])
    return interval_coverage(actual.reshape(-1), np.asarray(lower).reshape(-1), np.asarray(upper).reshape(-1))


def actual_windows(values: np.ndarray, origins: Sequence[int], *, horizon: int = HORIZON) -> np.ndarray:
    """The true values of every forecast window, shape (origins, series, horizon)."""
    return np.stack([np.asarray(values, dtype=float)[:, s.target]
                     for s in rolling_origin_splits(origins, horizon=horizon)])


def grouped_wape(pairs: Mapping[str, pd.DataFrame], by: str) -> pd.DataFrame:
    """Mean per-pair WAPE grouped by ``by`` ("series" or "origin"), one column per model."""
    columns = {name: frame.groupby(by)["wape"].mean() for name, frame in pairs.items()}
    return pd.DataFrame(columns)
