"""PROTOCOLS.md §Finance metrics on price forecasts, per horizon step, via ``shared.evaluation``.

rmse, mae, mape (%), mase (scale: mean |Δ| of the training span's closes, naive-1),
directional_accuracy (sign of predicted change from the last known close vs the actual change;
zero predicted change counts as up) and mae_ratio_to_persistence (below 1 beats the random walk
on the same days), plus, when the forecaster gives a central ``level`` interval, its coverage, mean
width (% of the last close), interval (Winkler) score in index points and the mean pinball loss of
(lower, point, upper) read as the (1−level)/2, 0.5 and (1+level)/2 quantiles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scipy import stats

from shared.evaluation import (directional_accuracy, interval_coverage, interval_score_error, mae, mae_ratio, mape,
                               mase, mean_pinball_error, rmse)

PROTOCOL_METRICS = ("rmse", "mae", "mape", "mase", "directional_accuracy", "mae_ratio_to_persistence")


def price_metrics(actual: np.ndarray, predicted: np.ndarray, *, previous: np.ndarray, train_close: np.ndarray,
                  persistence: np.ndarray, lower: np.ndarray | None = None, upper: np.ndarray | None = None,
                  level: float = 0.9) -> dict[str, float]:
    """The protocol metrics for one forecast series (all arrays aligned on the same days)."""
    out = {"rmse": rmse(actual, predicted), "mae": mae(actual, predicted), "mape": mape(actual, predicted),
           "mase": mase(actual, predicted, y_train=train_close, seasonality=1),
           "directional_accuracy": directional_accuracy(actual, predicted, y_prev=previous),
           "mae_ratio_to_persistence": mae_ratio(actual, predicted, persistence)}
    if lower is not None and upper is not None:
        out["interval_coverage"] = interval_coverage(actual, lower, upper)
        out["interval_width_pct"] = float(np.mean((upper - lower) / previous) * 100.0)
        out["interval_score"] = interval_score_error(actual, lower, upper, alpha=1.0 - level)
        out["pinball_loss"] = mean_pinball_error(actual, np.stack([lower, predicted, upper], axis=-1),
                                                 [(1.0 - level) / 2, 0.5, (1.0 + level) / 2])
    return out


def horizon_targets(close: np.ndarray, origins: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Actual closes (origins, horizon) of days t+k, NaN past the end, and the last known close."""
    close = np.asarray(close, dtype=float)
    idx = origins[:, None] + np.arange(horizon)[None, :]
    actual = np.full(idx.shape, np.nan)
    ok = idx < len(close)
    actual[ok] = close[idx[ok]]
    return actual, close[origins - 1]


def multi_step_table(name: str, actual: np.ndarray, previous: np.ndarray, point: np.ndarray,
                     persistence: np.ndarray, *, train_close: np.ndarray, lower: np.ndarray | None = None,
                     upper: np.ndarray | None = None, level: float = 0.9) -> pd.DataFrame:
    """One row per horizon step k = 1..H: the protocol metrics over origins whose day t+k-1 exists,
    and the Diebold–Mariano p-value that the step-k MAE is below persistence's."""
    rows = []
    for k in range(actual.shape[1]):
        ok = np.isfinite(actual[:, k])
        if ok.sum() < 2:
            continue
        metrics = price_metrics(actual[ok, k], point[ok, k], previous=previous[ok], train_close=train_close,
                                persistence=persistence[ok, k],
                                lower=None if lower is None else lower[ok, k],
                                upper=None if upper is None else upper[ok, k], level=level)
        dm = diebold_mariano(actual[ok, k], point[ok, k], persistence[ok, k], horizon=k + 1)
        rows.append({"model": name, "step": k + 1, "days": int(ok.sum()), **metrics,
                     "dm_p_better_than_persistence": dm["p_better"]})
    return pd.DataFrame(rows)


def diebold_mariano(actual: np.ndarray, predicted: np.ndarray, reference: np.ndarray, *, horizon: int = 1
                    ) -> dict[str, float]:
    """Diebold–Mariano test of absolute errors against a reference forecast on the same days.

    d = |e_model| - |e_reference|; for an h-step forecast made every day the d's overlap, so the
    variance of their mean uses Newey–West (Bartlett) weights up to lag h-1, with the
    Harvey–Leybourne–Newbold small-sample correction and a t(n-1) reference.
    ``p_better``: one-sided p-value that the model's MAE is lower; ``p_worse``: that it is higher.
    """
    d = np.abs(np.asarray(actual, dtype=float) - predicted) - np.abs(np.asarray(actual, dtype=float) - reference)
    n = d.size
    centred = d - d.mean()
    var = float(np.mean(centred ** 2))
    for lag in range(1, min(horizon, n)):
        var += 2.0 * (1.0 - lag / horizon) * float(np.mean(centred[lag:] * centred[:-lag]))
    if n < 3 or var <= 0.0:
        return {"dm_stat": 0.0, "p_better": 1.0 if np.all(d >= 0) else 0.5,
                "p_worse": 1.0 if np.all(d <= 0) else 0.5}
    correction = np.sqrt(max(n + 1 - 2 * horizon + horizon * (horizon - 1) / n, 1.0) / n)
    t = float(d.mean() / np.sqrt(var / n) * correction)
    return {"dm_stat": t, "p_better": float(stats.t.cdf(t, df=n - 1)), "p_worse": float(stats.t.sf(t, df=n - 1))}
