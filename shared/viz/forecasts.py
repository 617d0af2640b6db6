"""Regression and forecasting figures: forecasts with intervals against the actual series, and residuals."""

from __future__ import annotations

import datetime as _dt
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shared.viz._common import (OKABE_ITO, _ACTUAL, _REFERENCE, _as_1d, _check_path, _check_str, _render,
                                _same_length, _style)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure


def _as_index(name: str, values: Any) -> tuple[np.ndarray, bool]:
    """x values for a series plot: numbers, or datetimes (timezone dropped, wall time kept)."""
    if values is None or isinstance(values, (str, bytes, Mapping)) or np.isscalar(values):
        raise TypeError(f"{name} must be a 1-D sequence of numbers or datetimes, got {type(values).__name__}")
    if isinstance(values, pd.PeriodIndex):
        values = values.to_timestamp()
    idx = values if isinstance(values, pd.Index) else pd.Index(np.asarray(values).reshape(-1)
                                                                     if np.ndim(values) == 2 else values)
    if len(idx) == 0:
        raise ValueError(f"{name} is empty; pass one x value per point")
    if idx.dtype == object and all(isinstance(v, (_dt.date, _dt.datetime, pd.Timestamp)) for v in idx):
        idx = pd.DatetimeIndex(pd.to_datetime(list(idx)))
    if isinstance(idx.dtype, pd.DatetimeTZDtype):
        idx = idx.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(idx.dtype):
        if idx.isna().any():
            raise ValueError(f"{name} contains missing dates (NaT); drop those rows first")
        return idx.to_numpy(dtype="datetime64[ns]"), True
    if pd.api.types.is_numeric_dtype(idx.dtype) and not pd.api.types.is_bool_dtype(idx.dtype):
        arr = idx.to_numpy(dtype=float)
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or infinite values; drop those rows first")
        return arr, False
    raise TypeError(f"{name} must hold numbers or datetimes, got dtype {idx.dtype}; "
                    f"parse date strings with pd.to_datetime first")


def _named_arrays(name: str, values: Any, default: str) -> dict[str, np.ndarray]:
    if isinstance(values, Mapping):
        if not values:
            raise ValueError(f"{name} is an empty dict; pass at least one name -> array")
        return {str(k): _as_1d(f"{name}[{k!r}]", v, allow_nan=True) for k, v in values.items()}
    return {default: _as_1d(name, values, allow_nan=True)}


def plot_forecast(index: Any, actual: Any, predicted: Any, *, lower: Any = None, upper: Any = None,
                  history_index: Any = None, history: Any = None, title: str = "Forecast",
                  ylabel: str = "value", label: str = "forecast", interval_label: str = "interval",
                  path: str | os.PathLike | None = None) -> Figure | Path:
    """Actual values against one or several forecasts, with shaded prediction intervals.

    ``index`` holds the x values of the forecast period (numbers or datetimes). ``actual`` may be
    None for a pure out-of-sample forecast and may contain NaN for missing observations.
    ``predicted`` is one array (named ``label``) or a dict name -> array. ``lower``/``upper``
    give the interval: arrays for a single forecast, or dicts keyed like ``predicted`` (any
    subset). ``history_index``/``history`` add the observed series before the forecast period,
    with a dotted line where the forecast starts.
    """
    x, x_dates = _as_index("index", index)
    for name, value in (("title", title), ("ylabel", ylabel), ("label", label), ("interval_label", interval_label)):
        _check_str(name, value)
    _check_path(path)
    y_actual = None if actual is None else _as_1d("actual", actual, allow_nan=True)
    forecasts = _named_arrays("predicted", predicted, label)
    for name, arr in forecasts.items():
        tag = "predicted" if not isinstance(predicted, Mapping) else f"predicted[{name!r}]"
        _same_length(index=x, **({"actual": y_actual} if y_actual is not None else {}), **{tag: arr})
    if (lower is None) != (upper is None):
        raise ValueError("pass both lower and upper for an interval band, or neither")
    bands: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if lower is not None:
        lows = lower if isinstance(lower, Mapping) else None
        highs = upper if isinstance(upper, Mapping) else None
        if (lows is None) != (highs is None):
            raise TypeError("lower and upper must both be arrays or both be dicts keyed like predicted")
        if lows is None:
            if len(forecasts) != 1:
                raise ValueError("with several forecasts, lower and upper must be dicts name -> array "
                                   "(keys as in predicted)")
            lows, highs = {next(iter(forecasts)): lower}, {next(iter(forecasts)): upper}
        if set(lows) != set(highs):
            raise ValueError(f"lower and upper must have the same keys, got {sorted(map(str, lows))} "
                             f"and {sorted(map(str, highs))}")
        for key in lows:
            if str(key) not in forecasts:
                raise ValueError(f"interval for {key!r} has no forecast; predicted has {list(forecasts)}")
            lo = _as_1d(f"lower[{key!r}]" if isinstance(lower, Mapping) else "lower", lows[key], allow_nan=True)
            hi = _as_1d(f"upper[{key!r}]" if isinstance(upper, Mapping) else "upper", highs[key], allow_nan=True)
            _same_length(index=x, lower=lo, upper=hi)
            with np.errstate(invalid="ignore"):
                crossed = int(np.sum(lo > hi))
            if crossed:
                raise ValueError(f"lower is above upper at {crossed} point(s) for {key!r}; pass the lower bound "
                                   f"as lower (swap them?)")
            bands[str(key)] = (lo, hi)
    if (history_index is None) != (history is None):
        raise ValueError("pass both history_index and history to show the past, or neither")
    hx = hy = None
    if history is not None:
        hx, h_dates = _as_index("history_index", history_index)
        hy = _as_1d("history", history, allow_nan=True)
        _same_length(history_index=hx, history=hy)
        if h_dates != x_dates:
            raise TypeError("history_index and index must both be datetimes or both be numbers, "
                            f"got {'datetimes' if h_dates else 'numbers'} and {'datetimes' if x_dates else 'numbers'}")
    marker = "o" if len(x) <= 60 else None

    def draw(fig: Figure, axes: np.ndarray) -> None:
        ax = axes[0, 0]
        if hx is not None:
            ax.plot(hx, hy, color=_REFERENCE, linewidth=1.2, label="history")
            ax.axvline(x[0], color=_REFERENCE, linestyle=":", linewidth=1, label="forecast start")
        if y_actual is not None:
            ax.plot(x, y_actual, color=_ACTUAL, linewidth=1.5, marker=marker, markersize=3, label="actual")
        for i, (name, arr) in enumerate(forecasts.items()):
            style = _style(i)
            if name in bands:
                lo, hi = bands[name]
                ax.fill_between(x, lo, hi, color=style["color"], alpha=0.2, linewidth=0,
                                  label=f"{name} {interval_label}")
            ax.plot(x, arr, linewidth=1.5, marker=marker, markersize=3, label=name, **style)
        if x_dates:
            import matplotlib.dates as mdates

            locator = mdates.AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
            ax.set_xlabel("date")
        else:
            ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="upper left")

    return _render(draw, path=path, figsize=(9.0, 4.2))


def plot_residuals(residuals: Any, *, title: str = "Residuals", bins: int | str = "auto",
                   path: str | os.PathLike | None = None) -> Figure | Path:
    """Histogram of residuals with the fitted normal density, and a normal Q–Q panel.

    Points on the Q–Q reference line mean normally distributed residuals; an S-shape means heavy
    tails, a bow means skew. Residuals must be finite (drop NaN first).
    """
    r = _as_1d("residuals", residuals)
    if len(r) < 2:
        raise ValueError(f"residuals needs at least 2 values, got {len(r)}")
    _check_str("title", title)
    if not (isinstance(bins, str) or (isinstance(bins, (int, np.integer)) and not isinstance(bins, bool))):
        raise TypeError(f"bins must be an int or a numpy rule such as 'auto', got {bins!r}")
    if isinstance(bins, (int, np.integer)) and bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    _check_path(path)
    from scipy.special import ndtri

    mean, std = float(r.mean()), float(r.std(ddof=1))
    m = min(len(r), 2000)                         # Q-Q at most 2000 quantiles, enough to judge the tails
    probs = (np.arange(1, m + 1) - 0.5) / m
    theoretical = ndtri(probs)
    sample = np.sort(r) if m == len(r) else np.quantile(r, probs)

    def draw(fig: Figure, axes: np.ndarray) -> None:
        hist_ax, qq_ax = axes[0]
        hist_ax.hist(r, bins=bins, density=True, color=OKABE_ITO[0], alpha=0.6, label=f"residuals (n={len(r)})")
        if std > 0:
            grid = np.linspace(r.min() - 0.5 * std, r.max() + 0.5 * std, 200)
            pdf = np.exp(-0.5 * ((grid - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))
            hist_ax.plot(grid, pdf, color=OKABE_ITO[3], linewidth=1.5, label=f"normal (mean {mean:.3g}, sd {std:.3g})")
        hist_ax.axvline(0.0, color=_ACTUAL, linestyle=":", linewidth=1, label="zero")
        hist_ax.set_xlabel("residual")
        hist_ax.set_ylabel("density")
        hist_ax.set_title("Distribution")
        hist_ax.legend(fontsize="small", loc="upper right")
        hist_ax.grid(alpha=0.3)

        qq_ax.scatter(theoretical, sample, s=10, color=OKABE_ITO[0], alpha=0.7, label="residual quantiles")
        if std > 0:
            qq_ax.plot(theoretical[[0, -1]], mean + std * theoretical[[0, -1]], color=OKABE_ITO[3],
                       linewidth=1.5, label="normal reference")
        qq_ax.set_xlabel("theoretical normal quantile")
        qq_ax.set_ylabel("residual quantile")
        qq_ax.set_title("Normal Q–Q")
        qq_ax.legend(fontsize="small", loc="upper right")
        qq_ax.grid(alpha=0.3)
        fig.suptitle(title)

    return _render(draw, path=path, figsize=(10.0, 4.0), ncols=2)
