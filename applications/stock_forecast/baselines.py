"""The baselines a quant checks first (PROTOCOLS.md §Finance), with the deep models' fit/predict shape.

Every forecaster has ``fit(close, train_end=, fit_end=)`` and ``predict(close, origins, horizon)``
returning a :class:`Forecast` of prices for days ``t … t+H-1`` made at each origin ``t`` from the
true history of days ``< t``:

- ``Persistence`` (random walk): tomorrow = today.
- ``Drift``: today + k · (mean daily change of the training span).
- ``ArimaDrift``: ARIMA(1,1,1) with drift on log price, parameters fitted once on train +
  validation, then run over the test span with those parameters (the Kalman filter is updated
  with every true day, never refitted). Gaussian interval on the log scale.
- always up: directional accuracy only (``always_up_accuracy``).
- ``MedianDrift`` (extra, not in PROTOCOLS.md): today moved by the training span's median k-day
  return, with the empirical quantiles of those moves as the interval.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings

import numpy as np
from scipy import stats
from threadpoolctl import threadpool_limits

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Forecast:
    """Price forecasts (origins, horizon); ``lower``/``upper`` bound the central interval if any."""

    point: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None


def _check(close: np.ndarray, origins: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    close = np.asarray(close, dtype=float)
    origins = np.asarray(origins, dtype=int)
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    if origins.size == 0 or origins.min() < 1 or origins.max() > len(close):
        raise ValueError(f"origins must lie in [1, {len(close)}] (a forecast needs at least one past day)")
    return close, origins


def _split_levels(level: float) -> tuple[float, float]:
    if not 0.0 < level < 1.0:
        raise ValueError(f"interval level must be in (0, 1), got {level}; e.g. 0.9 for a 90 % interval")
    return (1.0 - level) / 2.0, 1.0 - (1.0 - level) / 2.0


class Persistence:
    """Random walk: every future day's close is the last known close."""

    name = "persistence"

    def fit(self, close: np.ndarray, *, train_end: int, fit_end: int | None = None, horizon: int = 1
            ) -> "Persistence":
        return self

    def predict(self, close: np.ndarray, origins: np.ndarray, horizon: int = 1) -> Forecast:
        close, origins = _check(close, origins, horizon)
        return Forecast(np.repeat(close[origins - 1][:, None], horizon, axis=1))


class MedianDrift:
    """Last close moved by the training span's median k-day log return; the interval is the
    empirical quantiles of those moves (a random walk with the training span's move distribution).

    Not in PROTOCOLS.md: it is the trivial model a quantile-trained network can imitate. Daily
    returns are negatively skewed, so their median is above their mean and forecasting it wins
    a little MAE in a rising market; a deep model that does not beat this has learned nothing more.
    """

    name = "median_drift"

    def __init__(self, *, level: float = 0.9) -> None:
        self.level = level
        self._q: np.ndarray | None = None

    def fit(self, close: np.ndarray, *, train_end: int, fit_end: int | None = None, horizon: int = 1
            ) -> "MedianDrift":
        lo, hi = _split_levels(self.level)
        logc = np.log(np.asarray(close[:train_end], dtype=float))
        qs = []
        for k in range(1, horizon + 1):
            moves = logc[k:] - logc[:-k]
            if moves.size < 2:
                raise ValueError(f"the training span is too short for {k}-day moves; use a longer series")
            qs.append(np.quantile(moves, [lo, 0.5, hi]))
        self._q = np.array(qs)  # (horizon, 3)
        return self

    def predict(self, close: np.ndarray, origins: np.ndarray, horizon: int = 1) -> Forecast:
        if self._q is None or len(self._q) < horizon:
            raise ValueError(f"call fit(..., horizon>={horizon}) before predict()")
        close, origins = _check(close, origins, horizon)
        last = close[origins - 1][:, None]
        q = self._q[None, :horizon, :]
        return Forecast(last * np.exp(q[..., 1]), last * np.exp(q[..., 0]), last * np.exp(q[..., 2]))


class Drift:
    name = "drift"

    def __init__(self) -> None:
        self.slope: float | None = None

    def fit(self, close: np.ndarray, *, train_end: int, fit_end: int | None = None, horizon: int = 1) -> "Drift":
        if train_end < 2:
            raise ValueError("drift needs at least 2 training days")
        self.slope = float((close[train_end - 1] - close[0]) / (train_end - 1))
        return self

    def predict(self, close: np.ndarray, origins: np.ndarray, horizon: int = 1) -> Forecast:
        if self.slope is None:
            raise ValueError("call fit() before predict()")
        close, origins = _check(close, origins, horizon)
        steps = np.arange(1, horizon + 1)[None, :]
        return Forecast(close[origins - 1][:, None] + self.slope * steps)


class ArimaDrift:
    """ARIMA(1,1,1) + drift on log price (statsmodels), fitted once, then filtered with fixed params."""

    name = "arima_111_drift"

    def __init__(self, *, level: float = 0.9) -> None:
        self.level = level
        self.params: dict[str, float] | None = None
        self._fit_end: int | None = None
        self._result = None

    def fit(self, close: np.ndarray, *, train_end: int, fit_end: int | None = None, horizon: int = 1
            ) -> "ArimaDrift":
        from statsmodels.tsa.arima.model import ARIMA

        fit_end = train_end if fit_end is None else fit_end
        if fit_end < 20:
            raise ValueError(f"ARIMA needs at least 20 days to fit, got {fit_end}")
        logc = np.log(np.asarray(close[:fit_end], dtype=float))
        # small matrices: multi-threaded BLAS only adds contention (10x slower on a busy 2-core machine)
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")  # convergence chatter on short series
            self._result = ARIMA(logc, order=(1, 1, 1), trend="t").fit()
        names = self._result.model.param_names
        self.params = {n: float(v) for n, v in zip(names, np.asarray(self._result.params))}
        self._fit_end = fit_end
        log.info("ARIMA(1,1,1)+drift fitted on %d days: %s", fit_end,
                 {k: round(v, 6) for k, v in self.params.items()})
        return self

    def predict(self, close: np.ndarray, origins: np.ndarray, horizon: int = 1) -> Forecast:
        if self._result is None or self.params is None:
            raise ValueError("call fit() before predict()")
        close, origins = _check(close, origins, horizon)
        logc = np.log(close)
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            applied = self._result.apply(logc)  # same parameters, filter over every true day
            pred = applied.get_prediction(start=1, end=len(logc))  # one-step forecasts of days 1..n
        one_step = np.concatenate([[np.nan], np.asarray(pred.predicted_mean)])  # index = forecast day
        var1 = np.concatenate([[np.nan], np.asarray(pred.var_pred_mean)])
        mu, phi, theta = self.params["x1"], self.params["ar.L1"], self.params["ma.L1"]
        sigma2 = self.params["sigma2"]
        # h-step forecast of the log level from the one-step forecast of the change (ARMA(1,1) on Δ)
        d1 = one_step[origins] - logc[origins - 1]
        steps = np.arange(horizon)
        dchanges = mu + (phi ** steps)[None, :] * (d1[:, None] - mu)
        log_point = logc[origins - 1][:, None] + np.cumsum(dchanges, axis=1)
        # variance: psi weights of the integrated process (steady state), one-step from the filter
        psi_diff = np.concatenate([[1.0], (phi + theta) * phi ** np.arange(horizon - 1)])
        psi_level = np.cumsum(psi_diff)
        var = sigma2 * np.cumsum(psi_level ** 2)
        var = np.broadcast_to(var, log_point.shape).copy()
        var[:, 0] = var1[origins]
        z = stats.norm.ppf(0.5 + self.level / 2.0)
        sd = np.sqrt(var)
        return Forecast(np.exp(log_point), np.exp(log_point - z * sd), np.exp(log_point + z * sd))


def always_up_accuracy(actual: np.ndarray, previous: np.ndarray) -> float:
    """Directional accuracy of always predicting "up" (a flat actual day is never matched)."""
    return float(np.mean(np.sign(np.asarray(actual) - np.asarray(previous)) > 0))


def direction_hits(actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Per day: did the predicted move (zero counts as up) have the sign of the actual move?"""
    pred = np.where(np.asarray(predicted) - previous >= 0, 1.0, -1.0)
    return pred == np.sign(np.asarray(actual) - previous)


def direction_tests(actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray) -> dict[str, float]:
    """Is the model's direction better than always-up?

    ``p_value_vs_always_up``: one-sided exact binomial test of the model's hit count against the
    always-up hit rate on the same days (the brief's test; treats that rate as known).
    ``p_value_paired``: one-sided exact McNemar test on the days where exactly one of the two is
    right (accounts for both being scored on the same days).
    """
    hits = direction_hits(actual, predicted, previous)
    up_hits = np.sign(np.asarray(actual) - previous) > 0
    n, k = int(hits.size), int(hits.sum())
    base_rate = float(up_hits.mean())
    p = 1.0 if base_rate >= 1.0 else float(stats.binomtest(k, n, base_rate, alternative="greater").pvalue)
    only_model = int(np.sum(hits & ~up_hits))
    only_up = int(np.sum(~hits & up_hits))
    discordant = only_model + only_up
    p_pair = 1.0 if discordant == 0 else float(stats.binomtest(only_model, discordant, 0.5,
                                                               alternative="greater").pvalue)
    return {"hits": k, "days": n, "accuracy": k / n, "always_up_rate": base_rate,
            "p_value_vs_always_up": p, "p_value_paired": p_pair, "only_model_right": only_model,
            "only_always_up_right": only_up}
