"""Training and tuning figures: learning curves, a score against one hyperparameter, and a
search's trials per hyperparameter."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shared.viz._common import (OKABE_ITO, _ACTUAL, _MARKERS, _REFERENCE, _as_1d, _check_path, _check_str,
                                _lower_is_better, _render, _style)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure


log = logging.getLogger(__name__)


def _history_frame(history: Any) -> pd.DataFrame:
    if hasattr(history, "history") and isinstance(getattr(history, "history"), Mapping):
        history = history.history                       # a keras.callbacks.History
    if isinstance(history, pd.DataFrame):
        frame = history.copy()
    elif isinstance(history, Mapping):
        if not history:
            raise ValueError("history is empty; pass model.fit(...).history or the DataFrame read from history.csv")
        lengths = {str(k): len(v) if hasattr(v, "__len__") else -1 for k, v in history.items()}
        if min(lengths.values()) < 0:
            raise TypeError("history values must be lists of one number per epoch, e.g. {'loss': [0.9, 0.7]}")
        if len(set(lengths.values())) > 1:
            raise ValueError(f"history lists must all have one value per epoch, got lengths {lengths}")
        frame = pd.DataFrame({str(k): list(v) for k, v in history.items()})
    else:
        raise TypeError(f"history must be a dict of per-epoch lists, a pandas DataFrame or a Keras History, "
                        f"got {type(history).__name__}")
    frame.columns = [str(c) for c in frame.columns]
    if len(frame) == 0 or frame.shape[1] == 0:
        raise ValueError("history has no epochs; train for at least one epoch before plotting")
    return frame


def plot_learning_curves(history: Mapping[str, Sequence[float]] | pd.DataFrame | Any, *,
                         metrics: str | Sequence[str] | None = None, title: str = "Learning curves",
                         path: str | os.PathLike | None = None) -> Figure | Path:
    """One panel per metric with the training and ``val_`` curves and the best validation epoch marked.

    ``history`` is ``model.fit(...).history`` (or the History object itself) or a DataFrame such as
    ``history.csv``; an ``epoch`` column, if present, gives the x values (else 1, 2, ...).
    ``metrics`` defaults to every non-``val_`` key except the learning rate, loss first. "Best" is
    the minimum for loss/error-like names (loss, mae, mse, ..._error) and the maximum otherwise.
    """
    frame = _history_frame(history)
    _check_str("title", title)
    _check_path(path)
    if "epoch" in frame:
        epochs = _as_1d("history['epoch']", frame.pop("epoch"))
    else:
        epochs = np.arange(1, len(frame) + 1, dtype=float)
    columns = list(frame.columns)
    if metrics is None:
        names = [c for c in columns if not c.startswith("val_") and c not in ("lr", "learning_rate")]
        names += [c[4:] for c in columns if c.startswith("val_") and c[4:] not in columns]
        names.sort(key=lambda c: c != "loss")
    else:
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        if not names:
            raise ValueError("metrics is empty; pass e.g. ['loss', 'mae'] or None for all")
    if not names:
        raise ValueError(f"history has no metrics to plot, only {columns}")
    for m in names:
        _check_str("metrics entries", m)
        if m not in frame and f"val_{m}" not in frame:
            raise ValueError(f"metric {m!r} is not in history; available: {columns}")
    series: dict[str, np.ndarray] = {}
    for c in columns:
        if c in names or (c.startswith("val_") and c[4:] in names):
            values = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
            if np.isnan(values).all():
                raise TypeError(f"history[{c!r}] has no numeric values; expected one number per epoch")
            series[c] = np.where(np.isfinite(values), values, np.nan)   # diverged epochs become gaps

    ncols = min(len(names), 3)
    nrows = math.ceil(len(names) / ncols)
    marker = "o" if len(epochs) <= 30 else None

    def draw(fig: Figure, axes: np.ndarray) -> None:
        from matplotlib.ticker import MaxNLocator

        flat = axes.ravel()
        for ax in flat[len(names):]:
            fig.delaxes(ax)
        for ax, m in zip(flat, names):
            if m in series:
                ax.plot(epochs, series[m], label="train", marker=marker, markersize=3, **_style(0))
            val = series.get(f"val_{m}")
            if val is not None:
                ax.plot(epochs, val, label="validation", marker=marker, markersize=3, **_style(1))
                if not np.isnan(val).all():
                    best = int(np.nanargmin(val) if _lower_is_better(m) else np.nanargmax(val))
                    ax.axvline(epochs[best], color=_REFERENCE, linestyle=":", linewidth=1)
                    ax.scatter([epochs[best]], [val[best]], s=60, zorder=3, facecolors="none",
                                 edgecolors=_ACTUAL, label=f"best val: {val[best]:.4g} (epoch {epochs[best]:g})")
            ax.set_title(m)
            ax.set_xlabel("epoch")
            ax.set_ylabel(m)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
            ax.legend(fontsize="small", loc="upper right")
        fig.suptitle(title)

    return _render(draw, path=path, figsize=(4.5 * ncols, 3.4 * nrows), nrows=nrows, ncols=ncols)


def plot_metric_vs_param(frame: pd.DataFrame, *, param: str, metrics: str | Sequence[str],
                         title: str = "", logx: bool = False, ylabel: str = "score",
                         std_suffix: str | None = "_std",
                         path: str | os.PathLike | None = None) -> Figure | Path:
    """Scores against a hyperparameter (e.g. validation AUC against L2 strength), one line per metric.

    Numeric ``param`` values are sorted; repeated values (several seeds or folds) are averaged and
    shaded with ± one standard deviation. A column ``<metric><std_suffix>`` (default ``_std``),
    if present, is shaded the same way. Non-numeric ``param`` values (e.g. optimizer names) are
    placed in the given order. ``logx`` needs positive values.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame with a {param!r} column, got {type(frame).__name__}")
    if frame.empty:
        raise ValueError("frame is empty; pass one row per hyperparameter value")
    _check_str("param", param)
    if param not in frame:
        raise ValueError(f"param {param!r} is not a column of frame; columns: {list(map(str, frame.columns))}")
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names:
        raise ValueError("metrics is empty; pass a column name or a list of them")
    for m in names:
        if m not in frame:
            raise ValueError(f"metric {m!r} is not a column of frame; columns: {list(map(str, frame.columns))}")
        if not pd.api.types.is_numeric_dtype(frame[m].dtype) or pd.api.types.is_bool_dtype(frame[m].dtype):
            raise TypeError(f"metric column {m!r} must be numeric, got dtype {frame[m].dtype}")
    if not isinstance(logx, bool):
        raise TypeError(f"logx must be True or False, got {logx!r}")
    for name, value in (("title", title), ("ylabel", ylabel)):
        _check_str(name, value)
    _check_str("std_suffix", std_suffix, optional=True)
    _check_path(path)
    numeric = pd.api.types.is_numeric_dtype(frame[param].dtype) and not pd.api.types.is_bool_dtype(frame[param].dtype)
    if frame[param].isna().any():
        raise ValueError(f"param column {param!r} has missing values; drop those rows first")
    if logx and not numeric:
        raise ValueError(f"logx needs numeric {param!r} values, got dtype {frame[param].dtype}")
    if logx and (frame[param] <= 0).any():
        raise ValueError(f"logx needs {param!r} > 0, but it contains {frame[param].min()}; "
                         f"drop that row or use logx=False")
    std_cols = {m: f"{m}{std_suffix}" for m in names if std_suffix and f"{m}{std_suffix}" in frame}
    grouped = frame.groupby(param, sort=numeric)
    means = grouped[names + list(std_cols.values())].mean()
    repeated = grouped.size().max() > 1
    spreads = {}
    for m in names:
        if m in std_cols:
            spreads[m] = means[std_cols[m]]
        elif repeated:
            spreads[m] = grouped[m].std(ddof=1).fillna(0.0)
    if repeated:
        log.info("plot_metric_vs_param: %s has repeated values; plotting the mean and ±1 sd", param)
    x = means.index.to_numpy(dtype=float) if numeric else np.arange(len(means))

    def draw(fig: Figure, axes: np.ndarray) -> None:
        ax = axes[0, 0]
        for i, m in enumerate(names):
            style = _style(i)
            y = means[m].to_numpy(dtype=float)
            ax.plot(x, y, marker="o", markersize=4, linewidth=1.6, label=m, **style)
            if m in spreads:
                s = spreads[m].to_numpy(dtype=float)
                ax.fill_between(x, y - s, y + s, color=style["color"], alpha=0.15, linewidth=0)
        if logx:
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(x, [str(v) for v in means.index])
        ax.set_xlabel(param)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="upper right")

    return _render(draw, path=path, figsize=(7.0, 4.2))


def plot_tuning_scores(trials: pd.DataFrame, names: Sequence[str], *, score_name: str = "validation score",
                       direction: str = "min", log_params: Sequence[str] = (), group: str | None = None,
                       title: str | None = None, path: str | os.PathLike | None = None) -> Figure | Path:
    """One scatter panel per hyperparameter: each completed trial's validation score against its value.

    ``trials`` is a search's trial table (``shared.tuning.tune(...).trials`` or its ``trials.csv``):
    columns ``status``, ``score`` and one per name in ``names``; only ``COMPLETED`` trials are drawn.
    The best trial (lowest score for ``direction="min"``, highest for ``"max"``) is starred. With
    ``group`` (a column, e.g. the outer fold of a nested search) each group gets its own colour and
    its own star. ``log_params`` get a log x axis (symmetric-log when they include 0, e.g. L2 choices).
    """
    if not isinstance(trials, pd.DataFrame):
        raise TypeError(f"trials must be a pandas DataFrame (the search's trials.csv), got {type(trials).__name__}")
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise ValueError("names is empty; pass the hyperparameter columns to plot, e.g. ['learning_rate']")
    needed = ["status", "score", *names, *([group] if group is not None else [])]
    missing = [c for c in needed if c not in trials.columns]
    if missing:
        raise ValueError(f"trials lacks column(s) {missing}; pass the search's trial table (columns "
                         f"{list(map(str, trials.columns))}) and hyperparameter names among its columns")
    if direction not in ("min", "max"):
        raise ValueError(f"direction must be 'min' (lower score is better) or 'max', got {direction!r}")
    _check_str("score_name", score_name)
    _check_str("title", title, optional=True)
    _check_path(path)
    done = trials[trials["status"].astype(str) == "COMPLETED"]
    if done.empty:
        raise ValueError("trials has no COMPLETED trial to plot; run at least one successful trial")
    done = done.assign(score=pd.to_numeric(done["score"], errors="coerce"))
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    groups = ([(None, done)] if group is None
              else [(key, part) for key, part in done.groupby(group, sort=True)])
    ncols = len(names)

    def draw(fig: Figure, axes: np.ndarray) -> None:
        for ax, name in zip(axes[0], names):
            column = done[name]
            numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
            order = sorted(column.astype(str).unique()) if not numeric else None
            for i, (key, part) in enumerate(groups):
                colour = OKABE_ITO[i % len(OKABE_ITO)]
                x = (part[name].astype(float) if numeric
                     else part[name].astype(str).map({v: j for j, v in enumerate(order)}))
                ax.scatter(x, part["score"], color=colour, alpha=0.8, s=22, marker=_MARKERS[i % len(_MARKERS)],
                           label=None if key is None else str(key))
                best = part["score"].idxmin() if direction == "min" else part["score"].idxmax()
                ax.scatter([x.loc[best]], [part.loc[best, "score"]], color=colour, edgecolor="black",
                           marker="*", s=140, zorder=3, label="best" if key is None else None)
            if not numeric:
                ax.set_xticks(range(len(order)), order)
            elif name in log_params and (column >= 0).all() and (column > 0).any():
                if (column > 0).all():
                    ax.set_xscale("log")
                    # ticks at 1, 2, 5 x 10^k so a range narrower than a decade still gets labels
                    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
                    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
                    ax.tick_params(axis="x", labelrotation=30)
                else:  # a zero among log-spaced choices (e.g. L2 0, 1e-5, 1e-4): linear around 0, log beyond
                    ax.set_xscale("symlog", linthresh=float(column[column > 0].min()))
                ax.xaxis.set_minor_formatter(NullFormatter())  # no overlapping 2x10^-3-style minor labels
            ax.set_xlabel(name)
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel(score_name)
        axes[0][0].legend(fontsize="small", loc="upper left")
        better = "lower" if direction == "min" else "higher"
        fig.suptitle(title or f"hyperparameter search: {len(done)} completed trials ({better} is better; "
                                "star = best)")

    return _render(draw, path=path, figsize=(max(3.0 * ncols, 4.0), 3.2), ncols=ncols)
