"""Figures of named numbers: horizontal bars (e.g. one score per model) and heatmaps of a table."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shared.viz._common import (OKABE_ITO, _ACTUAL, _as_1d, _check_int, _check_path, _check_str, _render,
                                _same_length, _tick_labels, _tick_positions)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure


def _keyed(name: str, values: Any) -> pd.Series:
    if isinstance(values, pd.Series):
        series = values.copy()
    elif isinstance(values, Mapping):
        series = pd.Series(dict(values), dtype=object)
    else:
        raise TypeError(f"{name} must be a dict name -> number or a pandas Series, got {type(values).__name__}")
    if series.empty:
        raise ValueError(f"{name} is empty; pass at least one name -> number")
    series.index = [str(k) for k in series.index]
    if series.index.duplicated().any():
        raise ValueError(f"{name} has repeated names {sorted(set(series.index[series.index.duplicated()]))}")
    return series


def plot_bar(values: Mapping[str, float] | pd.Series, *, title: str = "", xlabel: str = "value",
             errors: Mapping[str, float] | pd.Series | Sequence[float] | None = None,
             highlight: str | Iterable[str] | None = None, sort: bool = True, top: int | None = None,
             path: str | os.PathLike | None = None) -> Figure | Path:
    """Horizontal bar chart: feature importance, error by route, a metric across models.

    Bars are sorted by value, largest at the top (``sort=False`` keeps the given order); ``top``
    keeps only the ``top`` largest by absolute value. ``errors`` adds error bars (same names as
    ``values``, or one value per bar in the given order). ``highlight`` names the bar(s) to draw
    in a contrasting colour, e.g. the deep model among its baselines.
    """
    series = _keyed("values", values)
    numbers = _as_1d("values", series.to_numpy())
    series = pd.Series(numbers, index=series.index)
    for name, value in (("title", title), ("xlabel", xlabel)):
        _check_str(name, value)
    _check_int("top", top, minimum=1, optional=True)
    _check_path(path)
    err = None
    if errors is not None:
        if isinstance(errors, (Mapping, pd.Series)):
            err_series = _keyed("errors", errors)
            missing = [k for k in series.index if k not in err_series.index]
            if missing:
                raise ValueError(f"errors has no value for {missing[:5]}; give one error per name in values")
            err = pd.Series(_as_1d("errors", err_series[series.index].to_numpy()), index=series.index)
        else:
            arr = _as_1d("errors", errors)
            _same_length(values=series, errors=arr)
            err = pd.Series(arr, index=series.index)
        if (err < 0).any():
            raise ValueError("errors must be >= 0 (half-widths such as one standard deviation)")
    marked: set[str] = set()
    if highlight is not None:
        marked = {highlight} if isinstance(highlight, str) else {str(h) for h in highlight}
        unknown = sorted(marked - set(series.index))
        if unknown:
            raise ValueError(f"highlight names {unknown} are not in values; choose from {list(series.index)[:10]}")
    if top is not None and len(series) > top:
        series = series.loc[series.abs().sort_values(ascending=False).index[:top]]
    if sort:
        series = series.sort_values(ascending=True)       # barh draws bottom-up: largest ends on top
    else:
        series = series.iloc[::-1]
    if err is not None:
        err = err[series.index]
    colors = [OKABE_ITO[3] if k in marked else OKABE_ITO[0] for k in series.index]

    def draw(fig: Figure, axes: np.ndarray) -> None:
        ax = axes[0, 0]
        bars = ax.barh(np.arange(len(series)), series.to_numpy(), color=colors,
                       xerr=None if err is None else err.to_numpy(), capsize=3 if err is not None else 0,
                       error_kw={"ecolor": _ACTUAL, "elinewidth": 1})
        ax.bar_label(bars, fmt="%.3g", padding=3, fontsize=8)
        ax.set_yticks(np.arange(len(series)), list(series.index))
        for tick, key in zip(ax.get_yticklabels(), series.index):
            if key in marked:
                tick.set_fontweight("bold")
        if (series < 0).any():
            ax.axvline(0, color=_ACTUAL, linewidth=0.8)
        ax.margins(x=0.12)
        ax.set_xlabel(xlabel)
        if title:
            ax.set_title(title)
        ax.grid(axis="x", alpha=0.3)

    height = max(2.5, 0.28 * len(series) + 1.3)
    return _render(draw, path=path, figsize=(7.0, height))


def plot_heatmap(frame: pd.DataFrame, *, title: str = "", xlabel: str = "", ylabel: str = "",
                 cmap: str = "viridis", colorbar_label: str | None = None, annotate: bool | None = None,
                 path: str | os.PathLike | None = None) -> Figure | Path:
    """Heatmap of a numeric DataFrame (rows x columns), e.g. routes x dates of demand.

    Works for hundreds of columns: cells are annotated with their values only when the table is
    small (``annotate=None``: at most 20 columns and 200 cells) and tick labels are thinned to
    about 12 on x and 30 on y. Dates in the index or columns are shown as YYYY-MM-DD; missing
    cells are light grey.
    """
    if isinstance(frame, np.ndarray):
        frame = pd.DataFrame(frame)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}; "
                        f"pivot long data first, e.g. df.pivot(index='route', columns='date', values='demand')")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"frame is empty (shape {frame.shape}); nothing to plot")
    bad = [str(c) for c in frame.columns if not (pd.api.types.is_numeric_dtype(frame[c].dtype))]
    if bad:
        raise TypeError(f"frame has non-numeric columns {bad[:5]}; move labels to the index "
                        f"(frame.set_index({bad[0]!r})) or pivot first")
    for name, value in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel)):
        _check_str(name, value)
    _check_str("colorbar_label", colorbar_label, optional=True)
    if annotate is not None and not isinstance(annotate, bool):
        raise TypeError(f"annotate must be True, False or None (automatic), got {annotate!r}")
    _check_path(path)
    import matplotlib

    if not isinstance(cmap, str) or cmap not in matplotlib.colormaps:
        raise ValueError(f"cmap must be a matplotlib colormap name such as 'viridis' or 'cividis', got {cmap!r}")
    values = frame.to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(values)
    if not finite.any():
        raise ValueError("frame has no finite values; nothing to plot")
    rows, cols = values.shape
    if annotate is None:
        annotate = cols <= 20 and rows * cols <= 200
    colormap = matplotlib.colormaps[cmap].with_extremes(bad="#dddddd")
    masked = np.ma.masked_invalid(values)
    vmin, vmax = float(values[finite].min()), float(values[finite].max())
    x_labels, y_labels = _tick_labels(frame.columns), _tick_labels(frame.index)

    def draw(fig: Figure, axes: np.ndarray) -> None:
        ax = axes[0, 0]
        image = ax.imshow(masked, aspect="auto", cmap=colormap, interpolation="nearest", vmin=vmin, vmax=vmax)
        fig.colorbar(image, ax=ax, label=colorbar_label or "")
        xt = _tick_positions(cols, 12 if cols > 20 else 20)
        yt = _tick_positions(rows, 30 if rows > 40 else 40)
        long_x = max(len(x_labels[i]) for i in xt) > 4
        ax.set_xticks(xt, [x_labels[i] for i in xt], rotation=45 if long_x else 0, ha="right" if long_x else "center")
        ax.set_yticks(yt, [y_labels[i] for i in yt])
        if annotate:
            mid = (vmin + vmax) / 2
            for (r, c), value in np.ndenumerate(values):
                if np.isfinite(value):
                    ax.text(c, r, f"{value:.3g}", ha="center", va="center", fontsize=7,
                            color="white" if value < mid and cmap in ("viridis", "cividis", "magma", "inferno",
                                                                       "plasma") else "black")
        ax.set_xlabel(xlabel or (str(frame.columns.name) if frame.columns.name is not None else ""))
        ax.set_ylabel(ylabel or (str(frame.index.name) if frame.index.name is not None else ""))
        if title:
            ax.set_title(title)

    width = min(max(6.0, 0.4 * cols + 3.0), 16.0)
    height = min(max(3.0, 0.28 * rows + 1.5), 14.0)
    return _render(draw, path=path, figsize=(width, height))
