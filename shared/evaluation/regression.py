"""Regression and forecasting metrics (PROTOCOLS.md: Finance, Recommender A, Logistics).

RMSE, MAE, MAPE and the pinball loss come from scikit-learn; MASE, sMAPE, WAPE, directional
accuracy, the MAE ratio and interval coverage are written here (each has a hand-computed test).
Percentages (``mape``, ``smape``) are in percent; ratios (``wape``, ``mase``) are plain numbers.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn import metrics as skm

log = logging.getLogger(__name__)

__all__ = ["UndefinedMetricError", "rmse", "mae", "mape", "mase", "smape", "wape", "directional_accuracy",
           "mae_ratio", "pinball_loss", "interval_coverage", "forecast_metrics"]


class UndefinedMetricError(ValueError):
    """The inputs are valid but the metric has no value on them (e.g. MAPE with a zero actual)."""


def _series(name: str, values: Any, *, min_len: int = 1) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)  # a (n, 1) model output is a series too
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per time step), got shape {arr.shape}; "
                         "evaluate one series at a time")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.size < min_len:
        raise ValueError(f"{name} needs at least {min_len} value(s), got {arr.size}")
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values; drop or fill them before scoring")
    return arr


def _pair(y_true: Any, y_pred: Any, *others: tuple[str, Any]) -> list[np.ndarray]:
    arrays = [_series("y_true", y_true), _series("y_pred", y_pred)]
    arrays += [_series(name, value) for name, value in others]
    names = ["y_true", "y_pred"] + [name for name, _ in others]
    n = arrays[0].size
    for name, arr in zip(names[1:], arrays[1:], strict=True):
        if arr.size != n:
            raise ValueError(f"y_true has {n} values but {name} has {arr.size}; align them on the same time steps")
    return arrays


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error."""
    t, p = _pair(y_true, y_pred)
    return float(skm.root_mean_squared_error(t, p))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error."""
    t, p = _pair(y_true, y_pred)
    return float(skm.mean_absolute_error(t, p))


def mape(y_true: Any, y_pred: Any) -> float:
    """Mean absolute percentage error in percent: ``100 * mean(|y - ŷ| / |y|)``.

    Raises :class:`UndefinedMetricError` when an actual value is 0 (use ``wape`` or ``smape``).
    """
    t, p = _pair(y_true, y_pred)
    if np.any(t == 0):
        raise UndefinedMetricError(f"mape is undefined: y_true holds {int(np.sum(t == 0))} zero(s); "
                                   "use wape or smape for series with zeros")
    return float(100.0 * skm.mean_absolute_percentage_error(t, p))


def mase(y_true: Any, y_pred: Any, *, y_train: Any, seasonality: int = 1) -> float:
    """Mean absolute scaled error: MAE / mean ``|y_t - y_{t-m}|`` over ``y_train`` (``m = seasonality``).

    ``seasonality=1`` scales by the in-sample naive-1 error (Finance), ``7`` by the weekly
    seasonal-naive error (Logistics). Raises :class:`UndefinedMetricError` when that scale is 0.
    """
    if isinstance(seasonality, bool) or not isinstance(seasonality, (int, np.integer)) or seasonality < 1:
        raise ValueError(f"seasonality must be an int >= 1, got {seasonality!r}; use 1 for non-seasonal data")
    t, p = _pair(y_true, y_pred)
    train = _series("y_train", y_train)
    if train.size <= seasonality:
        raise ValueError(f"y_train needs more than seasonality={seasonality} values to compute the MASE scale, "
                         f"got {train.size}; pass a longer training history")
    scale = float(np.mean(np.abs(train[seasonality:] - train[:-seasonality])))
    if scale == 0.0:
        raise UndefinedMetricError(f"mase is undefined: y_train never changes over lag {seasonality}, "
                                   "so the scale is 0; report wape instead")
    return float(np.mean(np.abs(t - p)) / scale)


def smape(y_true: Any, y_pred: Any) -> float:
    """Symmetric MAPE in percent: mean of ``200 |y - ŷ| / (|y| + |ŷ|)``; a 0/0 term counts 0."""
    t, p = _pair(y_true, y_pred)
    denom = np.abs(t) + np.abs(p)
    terms = np.divide(200.0 * np.abs(t - p), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(np.mean(terms))


def wape(y_true: Any, y_pred: Any) -> float:
    """Weighted absolute percentage error as a ratio: ``sum |y - ŷ| / sum |y|``."""
    t, p = _pair(y_true, y_pred)
    total = float(np.sum(np.abs(t)))
    if total == 0.0:
        raise UndefinedMetricError("wape is undefined: sum |y_true| is 0; use mae for an all-zero window")
    return float(np.sum(np.abs(t - p)) / total)


def directional_accuracy(y_true: Any, y_pred: Any, *, y_prev: Any) -> float:
    """Share of steps where the predicted move from ``y_prev`` has the sign of the actual move.

    As PROTOCOLS.md (Finance) words it: sign(ŷ - y_prev) == sign(y - y_prev), where a zero
    *predicted* change counts as up (+1). An actual zero change has sign 0, so a flat day is
    never matched (this reproduces the reference "always up" score 406/756 = 0.537 on a test
    span with 406 up, 349 down and 1 flat day).
    """
    t, p, prev = _pair(y_true, y_pred, ("y_prev", y_prev))
    predicted = np.where(p - prev >= 0, 1.0, -1.0)
    actual = np.sign(t - prev)
    return float(np.mean(predicted == actual))


def mae_ratio(y_true: Any, y_pred: Any, y_reference: Any) -> float:
    """MAE of ``y_pred`` divided by MAE of a reference forecast (e.g. persistence); < 1 beats it."""
    t, p, ref = _pair(y_true, y_pred, ("y_reference", y_reference))
    ref_mae = float(np.mean(np.abs(t - ref)))
    if ref_mae == 0.0:
        raise UndefinedMetricError("mae_ratio is undefined: the reference forecast is exact (MAE 0)")
    return float(np.mean(np.abs(t - p)) / ref_mae)


def pinball_loss(y_true: Any, y_quantile_pred: Any, quantile: float) -> float:
    """Mean pinball (quantile) loss of a forecast of the ``quantile``-th quantile, 0 < quantile < 1."""
    if isinstance(quantile, bool) or not isinstance(quantile, (int, float)) or not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be a number in (0, 1), got {quantile!r}; e.g. 0.9 for the 90 % quantile")
    t, q = _pair(y_true, y_quantile_pred)
    return float(skm.mean_pinball_loss(t, q, alpha=float(quantile)))


def interval_coverage(y_true: Any, lower: Any, upper: Any) -> float:
    """Share of actual values inside the closed interval ``[lower, upper]``."""
    t, lo, hi = _pair(y_true, lower, ("upper", upper))
    if np.any(lo > hi):
        raise ValueError(f"lower exceeds upper at {int(np.sum(lo > hi))} step(s); pass (lower, upper) in that order")
    return float(np.mean((t >= lo) & (t <= hi)))


def forecast_metrics(y_true: Any, y_pred: Any, *, y_train: Any = None, seasonality: int = 1) -> dict[str, float]:
    """rmse, mae, mape, smape, wape and (with ``y_train``) mase in one dict.

    A metric undefined on these data (MAPE with a zero actual, WAPE of an all-zero window,
    MASE with a zero scale) is NaN with a logged warning; invalid inputs still raise.
    """
    funcs: dict[str, Any] = {"rmse": rmse, "mae": mae, "mape": mape, "smape": smape, "wape": wape}
    if y_train is not None:
        funcs["mase"] = lambda t, p: mase(t, p, y_train=y_train, seasonality=seasonality)
    out: dict[str, float] = {}
    for name, func in funcs.items():
        try:
            out[name] = func(y_true, y_pred)
        except UndefinedMetricError as exc:
            log.warning("%s; reporting NaN", exc)
            out[name] = float("nan")
    return out
