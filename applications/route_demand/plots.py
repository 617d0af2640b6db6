"""The case study's figures (shared.viz where it has the chart, matplotlib Agg otherwise)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .data import DemandPanel


def non_overlapping(origins: Sequence[int], horizon: int) -> list[int]:
    """Indices of origins whose windows do not overlap, counted back from the last origin (so the
    latest window, Christmas in the protocol, is always shown), in time order."""
    keep, start = [], None
    for k in range(len(origins) - 1, -1, -1):
        if start is None or origins[k] + horizon <= start:
            keep.append(k)
            start = origins[k]
    return keep[::-1]


def forecast_figure(panel: DemandPanel, series_index: int, origins: Sequence[int], quantiles: np.ndarray,
                    baseline: np.ndarray, *, model_name: str, baseline_name: str, history_days: int = 56,
                    interval: str = "10–90 % band") -> Any:
    """Actual demand of one series against the model's median and band and a baseline, over
    non-overlapping forecast windows, with the weeks before the first one shown as history."""
    from shared.viz import plot_forecast

    horizon = quantiles.shape[2]
    ks = non_overlapping(origins, horizon)
    days = np.concatenate([np.arange(origins[k], origins[k] + horizon) for k in ks])
    pick = lambda arr, j=None: np.concatenate([arr[k, series_index] if j is None else arr[k, series_index, :, j]
                                               for k in ks])
    first = int(origins[ks[0]])
    hist = np.arange(max(0, first - history_days), first)
    return plot_forecast(panel.dates[days], panel.values[series_index, days],
                         {model_name: pick(quantiles, 1), baseline_name: pick(baseline)},
                         lower={model_name: pick(quantiles, 0)}, upper={model_name: pick(quantiles, -1)},
                         history_index=panel.dates[hist], history=panel.values[series_index, hist],
                         title=f"{panel.series[series_index]}: daily {panel.measure}, forecasts from origins "
                               f"{', '.join(panel.dates[origins[k]].strftime('%m-%d') for k in ks)}",
                         ylabel=panel.measure, interval_label=interval)


def heatmap_figure(panel: DemandPanel) -> Any:
    """Series × date heatmap of demand relative to each series' mean (holidays show as dark columns)."""
    from shared.viz import plot_heatmap

    wide = panel.wide()
    mean = wide.mean(axis=1).replace(0, 1.0)
    relative = wide.div(mean, axis=0)
    relative.columns = [d.date().isoformat() for d in wide.columns]
    return plot_heatmap(relative, title=f"Daily {panel.measure} per series, relative to the series' mean "
                                          f"({panel.dates[0].date()} … {panel.dates[-1].date()})",
                        xlabel="date", ylabel="series (busiest first)", cmap="viridis",
                        colorbar_label="demand / series mean")


def error_by_route_figure(per_route: pd.DataFrame, *, model: str, baseline: str) -> Any:
    """Per-route mean WAPE of the model minus the baseline's (negative = the model is better)."""
    from shared.viz import plot_bar

    diff = (per_route[model] - per_route[baseline]).rename(lambda s: str(s))
    worse = [s for s, v in diff.items() if v > 0]
    return plot_bar(diff, title=f"WAPE by route: {model} minus {baseline} (bars > 0: the model loses)",
                    xlabel="difference in mean WAPE over the 12 origins", highlight=worse or None)


def wape_by_route_figure(per_route: pd.DataFrame, *, model: str) -> Any:
    """Per-route mean WAPE of the model."""
    from shared.viz import plot_bar

    return plot_bar(per_route[model].rename(lambda s: str(s)), title=f"{model}: mean WAPE by route",
                    xlabel="mean WAPE over the forecast origins")


def error_by_origin_figure(per_origin: pd.DataFrame, *, holidays: Mapping[str, str] | None = None,
                           bold: Sequence[str] = ()) -> Any:
    """Mean WAPE per forecast origin, one line per model; holidays marked with dotted lines."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 4.2))
    ax = fig.subplots()
    x = pd.to_datetime(per_origin.index)
    for name in per_origin.columns:
        ax.plot(x, per_origin[name].to_numpy(), marker="o", markersize=3, label=name,
                linewidth=2.2 if name in bold else 1.0)
    top = float(np.nanmax(per_origin.to_numpy())) * 1.05
    for day, label in (holidays or {}).items():
        ax.axvline(pd.Timestamp(day), color="grey", linestyle=":", linewidth=1)
        ax.text(pd.Timestamp(day), top, label, rotation=90, va="top", ha="right", fontsize=8)
    ax.set_xlabel("forecast origin (first forecast day)")
    ax.set_ylabel("mean WAPE over series")
    ax.set_title("Error by forecast origin (holidays marked)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper right")
    fig.autofmt_xdate()
    return fig


def learning_curves_figure(history: Mapping[str, Sequence[float]], *, title: str) -> Any:
    from shared.viz import plot_learning_curves

    return plot_learning_curves(dict(history), metrics=["loss"], title=title)



def coverage_figure(table: pd.DataFrame, *, nominal: float, title: str, xlabel: str) -> Any:
    """Coverage of the outer band per group (lead day or route), raw and calibrated, against the nominal level."""
    from matplotlib.figure import Figure

    labels = [str(i) for i in table.index]
    x = np.arange(len(labels))
    fig = Figure(figsize=(max(6.0, 0.22 * len(labels) + 2.5), 4.2))
    ax = fig.subplots()
    ax.bar(x - 0.2, table["coverage_raw"].to_numpy(), width=0.4, label="raw", color="#bbbbbb")
    ax.bar(x + 0.2, table["coverage_calibrated"].to_numpy(), width=0.4, label="calibrated (CQR)", color="#1f77b4")
    ax.axhline(nominal, color="black", linestyle="--", linewidth=1, label=f"nominal {nominal:.2f}")
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=90 if len(labels) > 20 else 0, fontsize=7 if len(labels) > 20 else 9)
    ax.set_ylim(0, 1.15)  # headroom for the legend above the bars
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of actuals inside the band")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small", loc="upper center", ncol=3)
    fig.tight_layout()
    return fig
