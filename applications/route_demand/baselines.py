"""The planner's forecasts the deep model is measured against (PROTOCOLS.md §Logistics).

Each baseline has the deep model's shape: ``forecast(history)`` takes the true history of every
series before the origin, (n_series, days), and returns (n_series, horizon). The ETS baselines
call statsmodels and statsforecast; nothing is reimplemented.
"""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


def _check_history(history: np.ndarray, *, need: int, name: str) -> np.ndarray:
    history = np.asarray(history, dtype=float)
    if history.ndim != 2:
        raise ValueError(f"{name}: history must be (series, days), got shape {history.shape}")
    if history.shape[1] < need:
        raise ValueError(f"{name} needs at least {need} days of history, got {history.shape[1]}")
    return history


class Naive:
    """The last observed value, repeated."""

    name = "naive"
    label = "naive (last value)"

    def __init__(self, *, horizon: int = 14) -> None:
        self.horizon = horizon

    def forecast(self, history: np.ndarray) -> np.ndarray:
        history = _check_history(history, need=1, name=self.name)
        return np.repeat(history[:, -1:], self.horizon, axis=1)


class SeasonalNaive:
    """The value one season (7 days) before the same weekday: ŷ[T+h] = y[T − m + (h mod m)]."""

    name = "seasonal_naive"
    label = "seasonal naive (7)"

    def __init__(self, *, horizon: int = 14, season: int = 7) -> None:
        self.horizon, self.season = horizon, season

    def forecast(self, history: np.ndarray) -> np.ndarray:
        history = _check_history(history, need=self.season, name=self.name)
        last_season = history[:, -self.season:]
        return last_season[:, np.arange(self.horizon) % self.season]


class WeekdayMean:
    """Mean of the last ``weeks`` values on the same weekday (default 4)."""

    name = "weekday_mean_4"
    label = "mean of last 4 same weekdays"

    def __init__(self, *, horizon: int = 14, season: int = 7, weeks: int = 4) -> None:
        self.horizon, self.season, self.weeks = horizon, season, weeks

    def forecast(self, history: np.ndarray) -> np.ndarray:
        need = self.season * self.weeks
        history = _check_history(history, need=need, name=self.name)
        last = history[:, -need:].reshape(history.shape[0], self.weeks, self.season).mean(axis=1)
        return last[:, np.arange(self.horizon) % self.season]


class StatsmodelsETS:
    """Holt-Winters with additive weekly seasonality, no trend (statsmodels ``ExponentialSmoothing``,
    library defaults otherwise), fitted on each series' history at every origin."""

    name = "ets_statsmodels"
    label = "ETS additive weekly (statsmodels)"

    def __init__(self, *, horizon: int = 14, season: int = 7) -> None:
        self.horizon, self.season = horizon, season

    def forecast(self, history: np.ndarray) -> np.ndarray:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing
        from threadpoolctl import threadpool_limits

        history = _check_history(history, need=2 * self.season, name=self.name)
        out = np.empty((history.shape[0], self.horizon))
        # One BLAS thread: the tiny L-BFGS problems get slower, not faster, with more threads.
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter on flat series
            for i, y in enumerate(history):
                model = ExponentialSmoothing(y, trend=None, seasonal="add", seasonal_periods=self.season)
                out[i] = model.fit().forecast(self.horizon)
        return out


class AutoETS:
    """statsforecast ``AutoETS(season_length=7)`` (model chosen by AICc per series and origin)."""

    name = "autoets_statsforecast"
    label = "AutoETS, season 7 (statsforecast)"

    def __init__(self, *, horizon: int = 14, season: int = 7) -> None:
        self.horizon, self.season = horizon, season

    def forecast(self, history: np.ndarray) -> np.ndarray:
        from statsforecast.models import AutoETS as _AutoETS

        history = _check_history(history, need=2 * self.season, name=self.name)
        out = np.empty((history.shape[0], self.horizon))
        for i, y in enumerate(history):
            out[i] = _AutoETS(season_length=self.season).forecast(y=y.astype(float), h=self.horizon)["mean"]
        return out


def baseline_models(*, horizon: int, season: int = 7, include_ets: bool = True,
                    include_autoets: bool = True) -> list[Any]:
    """The PROTOCOLS.md baselines in table order."""
    models: list[Any] = [Naive(horizon=horizon), WeekdayMean(horizon=horizon, season=season),
                         SeasonalNaive(horizon=horizon, season=season)]
    if include_ets:
        models.append(StatsmodelsETS(horizon=horizon, season=season))
    if include_autoets:
        models.append(AutoETS(horizon=horizon, season=season))
    return models


def timed_rolling_forecasts(model: Any, values: np.ndarray, origins: Any, *, horizon: int) -> tuple[np.ndarray, float]:
    """Rolling forecasts of a baseline and the seconds they took."""
    from .protocol import rolling_forecasts

    started = time.perf_counter()
    forecasts = rolling_forecasts(model.forecast, values, origins, horizon=horizon)
    seconds = time.perf_counter() - started
    log.info("%s: %d forecasts in %.1f s", model.name, forecasts.shape[0] * forecasts.shape[1], seconds)
    return forecasts, seconds
