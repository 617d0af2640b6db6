"""PROTOCOLS.md §Finance metrics on price forecasts, per horizon step, via ``shared.evaluation``.

rmse, mae, mape (%), mase (scale: mean |Δ| of the training span's closes, naive-1),
directional_accuracy (sign of predicted change from the last known close vs the actual change;
zero predicted change counts as up) and mae_ratio_to_persistence (below 1 beats the random walk
on the same days), plus interval_coverage when the forecaster gives an interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scipy import stats

from shared.evaluation import directional_accuracy, interval_coverage, mae, mae_ratio, mape, mase, rmse

PROTOCOL_METRICS = ("rmse", "mae", "mape", "mase", "directional_accuracy", "mae_ratio_to_persistence")


def price_metrics(actual: np.ndarray, predicted: np.ndarray, *, previous: np.ndarray, train_close: np.ndarray,
                  persistence: np.ndarray, lower: np.ndarray | None = None, upper: np.ndarray | None = None
                  ) -> dict[str, float]:
    """The protocol metrics for one forecast series (all arrays aligned on the same days)."""
    out = {"rmse": rmse(actual, predicted), "mae": mae(actual, predicted), "mape": mape(actual, predicted),
           "mase": mase(actual, predicted, y_train=train_close, seasonality=1),
           "directional_accuracy": directional_accuracy(actual, predicted, y_prev=previous),
           "mae_ratio_to_persistence": mae_ratio(actual, predicted, persistence)}
    if lower is not None and upper is not None:
        out["interval_coverage"] = interval_coverage(actual, lower, upper)
        out["interval_width_pct"] = float(np.mean((upper - lower) / previous) * 100.0)
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
                     upper: np.ndarray | None = None) -> pd.DataFrame:
    """One row per horizon step k = 1..H: the protocol metrics over origins whose day t+k-1 exists."""
    rows = []
    for k in range(actual.shape[1]):
        ok = np.isfinite(actual[:, k])
        if ok.sum() < 2:
            continue
        metrics = price_metrics(actual[ok, k], point[ok, k], previous=previous[ok], train_close=train_close,
                                persistence=persistence[ok, k],
                                lower=None if lower is None else lower[ok, k],
                                upper=None if upper is None else upper[ok, k])
        rows.append({"model": name, "step": k + 1, "days": int(ok.sum()), **metrics})
    return pd.DataFrame(rows)


def diebold_mariano(actual: np.ndarray, predicted: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """Paired test of absolute errors against a reference forecast on the same days (one-step,
    no autocorrelation correction): d = |e_model| - |e_reference|, t = mean(d) / se(d).

    ``p_better``: one-sided p-value that the model's MAE is lower; ``p_worse``: that it is higher.
    """
    d = np.abs(np.asarray(actual) - predicted) - np.abs(np.asarray(actual) - reference)
    n = d.size
    sd = float(d.std(ddof=1)) if n > 1 else 0.0
    if n < 3 or sd == 0.0:
        return {"dm_stat": 0.0, "p_better": 1.0 if np.all(d >= 0) else 0.5, "p_worse": 1.0 if np.all(d <= 0) else 0.5}
    t = float(d.mean() / (sd / np.sqrt(n)))
    return {"dm_stat": t, "p_better": float(stats.t.cdf(t, df=n - 1)), "p_worse": float(stats.t.sf(t, df=n - 1))}
