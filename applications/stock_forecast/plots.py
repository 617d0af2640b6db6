"""The stock forecaster's figures, drawn with ``shared.viz`` and saved into the run directory."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def span_figure(dates: pd.Series, actual: np.ndarray, point: np.ndarray, lower: np.ndarray,
                     upper: np.ndarray, *, model: str, level: float, last: int | None = None,
                     persistence: np.ndarray | None = None, title: str) -> Any:
    """Test-span close vs the one-step forecast with its interval band (optionally the last days only)."""
    from shared.viz import plot_forecast

    sl = slice(-last, None) if last else slice(None)
    predicted: dict[str, np.ndarray] = {model: point[sl]}
    if persistence is not None:
        predicted["persistence"] = persistence[sl]
    return plot_forecast(pd.to_datetime(dates)[sl], actual[sl], predicted, lower={model: lower[sl]},
                         upper={model: upper[sl]}, title=title, ylabel="close",
                         interval_label=f"{round(level * 100)} % interval")


def residual_figure(actual: np.ndarray, point: np.ndarray, *, model: str) -> Any:
    from shared.viz import plot_residuals

    return plot_residuals(actual - point, title=f"{model}: one-step residuals on the test span (price units)")


def learning_curve_figure(history: dict[str, list[float]], *, model: str, seed: int) -> Any:
    from shared.viz import plot_learning_curves

    return plot_learning_curves(history, metrics="loss",
                                title=f"{model} (seed {seed}): pinball loss on scaled returns")


def horizon_figure(table: pd.DataFrame, *, metric: str = "mae_ratio_to_persistence") -> Any:
    """``metric`` against the horizon step, one line per model."""
    from shared.viz import plot_metric_vs_param

    wide = table.pivot_table(index="step", columns="model", values=metric).reset_index()
    wide.columns = [str(c) for c in wide.columns]
    models = [c for c in wide.columns if c != "step"]
    return plot_metric_vs_param(wide, param="step", metrics=models, ylabel=metric,
                                title=f"{metric} by forecast step (test span)")


def future_figure(history_dates: pd.Series, history: np.ndarray, dates: pd.DatetimeIndex, point: np.ndarray,
                  lower: np.ndarray, upper: np.ndarray, *, model: str, level: float, title: str) -> Any:
    from shared.viz import plot_forecast

    return plot_forecast(dates, None, point, lower=lower, upper=upper, history_index=pd.to_datetime(history_dates),
                         history=history, title=title, ylabel="close", label=model,
                         interval_label=f"{round(level * 100)} % interval")


def variance_figure(dates: pd.Series, proxy: np.ndarray, forecasts: dict[str, np.ndarray], *, title: str) -> Any:
    """Parkinson proxy (dots) and the variance forecasts (lines) over the test span, log scale."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10.0, 4.2))
    ax = fig.subplots()
    x = pd.to_datetime(dates)
    keep = proxy > 0
    ax.scatter(x[keep], proxy[keep], s=4, color="#999999", label="Parkinson proxy")
    for i, (name, f) in enumerate(forecasts.items()):
        ax.plot(x, f, linewidth=1.8 if i == 0 else 1.0, label=name)
    ax.set_yscale("log")
    ax.set_ylabel("daily variance (%²)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    fig.autofmt_xdate()
    return fig
