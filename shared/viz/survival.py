"""Survival figures: Kaplan–Meier curves by group and the log-rank test between them; calibration of
predicted survival at a horizon against Kaplan–Meier in deciles of predicted risk."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shared.viz._common import (_as_1d, _binary, _check_path, _check_str, _format_p, _render, _same_length,
                                _style)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure


def _survival_inputs(time: Any, event: Any, groups: Any,
                     order: Sequence[Any] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Any]]:
    t = _as_1d("time", time)
    if (t < 0).any():
        raise ValueError("time must be >= 0 (durations since the start of follow-up)")
    e = _binary("event", event)
    g = _as_1d("groups", groups, numeric=False)
    _same_length(time=t, event=e, groups=g)
    if pd.isna(g).any():
        raise ValueError("groups has missing values; fill or drop those rows first")
    if order is not None:
        levels = list(order)
        missing = set(pd.unique(g).tolist()) - set(levels)
        if missing:
            raise ValueError(f"order does not list the group(s) {sorted(map(str, missing))}; include every group")
        levels = [v for v in levels if (g == v).any()]
    elif isinstance(groups, (pd.Series, pd.Categorical)) and isinstance(getattr(groups, "dtype", None),
                                                                            pd.CategoricalDtype):
        present = set(pd.unique(g).tolist())
        levels = [c for c in groups.dtype.categories if c in present]
    else:
        try:
            levels = sorted(pd.unique(g).tolist())
        except TypeError:
            levels = sorted(pd.unique(g).tolist(), key=str)
    if len(levels) < 2:
        raise ValueError(f"groups must contain at least 2 distinct groups for a log-rank comparison, got {levels}")
    return t, e, g, levels


def logrank_p_value(time: Any, event: Any, groups: Any) -> float:
    """p-value of the multivariate log-rank test that all groups share one survival curve."""
    t, e, g, _ = _survival_inputs(time, event, groups)
    from lifelines.statistics import multivariate_logrank_test

    return float(multivariate_logrank_test(t, g, e).p_value)


def plot_km_by_group(time: Any, event: Any, groups: Any, *, title: str = "Kaplan–Meier survival by group",
                     horizon: float | None = None, xlabel: str = "time", order: Sequence[Any] | None = None,
                     ci: bool = True, path: str | os.PathLike | None = None) -> Figure | Path:
    """Kaplan–Meier curves per group (e.g. predicted risk tertiles) with the log-rank p-value.

    ``event`` is 1 for an observed event and 0 for censoring. Groups are drawn in ``order``, or
    the category order of a categorical, or sorted. ``horizon`` limits the x axis and adds each
    group's survival at the horizon to the legend. The log-rank p-value is in the title and on
    ``fig.logrank_p`` (see also :func:`logrank_p_value`).
    """
    t, e, g, levels = _survival_inputs(time, event, groups, order)
    for name, value in (("title", title), ("xlabel", xlabel)):
        _check_str(name, value)
    if horizon is not None:
        if isinstance(horizon, bool) or not isinstance(horizon, (int, float, np.integer, np.floating)):
            raise TypeError(f"horizon must be a number (in the units of time), got {horizon!r}")
        if not horizon > 0:
            raise ValueError(f"horizon must be > 0, got {horizon}")
    _check_path(path)
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    p_value = float(multivariate_logrank_test(t, g, e).p_value)
    fits = []
    for level in levels:
        mask = g == level
        kmf = KaplanMeierFitter().fit(t[mask], e[mask], label=str(level))
        at_h = float(kmf.survival_function_at_times([horizon]).iloc[0]) if horizon is not None else None
        fits.append((str(level), kmf, int(mask.sum()), int(e[mask].sum()), at_h))

    def draw(fig: Figure, axes: np.ndarray) -> None:
        ax = axes[0, 0]
        for i, (name, kmf, n, events, at_h) in enumerate(fits):
            style = _style(i)
            timeline = kmf.survival_function_.index.to_numpy(dtype=float)
            surv = kmf.survival_function_.iloc[:, 0].to_numpy(dtype=float)
            text = f"{name} (n={n}, events={events}" + (f", S({horizon:g})={at_h:.2f})" if at_h is not None else ")")
            ax.step(timeline, surv, where="post", linewidth=1.8, label=text, **style)
            if ci:
                band = kmf.confidence_interval_.to_numpy(dtype=float)
                ax.fill_between(timeline, band[:, 0], band[:, 1], step="post", color=style["color"],
                                  alpha=0.15, linewidth=0)
        if horizon is not None:
            ax.set_xlim(0, horizon)
        else:
            ax.set_xlim(left=0)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("survival probability")
        ax.set_title(f"{title}\nlog-rank p = {_format_p(p_value)}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="lower left")
        fig.logrank_p = p_value

    return _render(draw, path=path, figsize=(7.5, 5.0))


def calibration_at_horizon_table(time: Any, event: Any, surv_at_horizon: Any, *, horizon: float,
                                 n_bins: int = 10) -> dict[str, list[float]]:
    """Deciles (``n_bins`` quantile bins, ties merged) of predicted S(H | x): the mean prediction, the
    Kaplan–Meier S(H) of the decile's subjects (censoring before H handled as KM does) and the count."""
    t = _as_1d("time", time)
    e = _binary("event", event)
    s = _as_1d("surv_at_horizon", surv_at_horizon)
    _same_length(time=t, event=e, surv_at_horizon=s)
    if s.min() < 0 or s.max() > 1:
        raise ValueError("surv_at_horizon must be survival probabilities in [0, 1]")
    if isinstance(horizon, bool) or not isinstance(horizon, (int, float, np.integer, np.floating)) or not horizon > 0:
        raise ValueError(f"horizon must be a number > 0, got {horizon!r}")
    from sksurv.nonparametric import kaplan_meier_estimator

    bins = pd.qcut(s, n_bins, labels=False, duplicates="drop")
    out: dict[str, list[float]] = {"predicted": [], "observed": [], "patients": []}
    for b in np.unique(bins):
        mask = bins == b
        km_t, km_s = kaplan_meier_estimator(e[mask].astype(bool), t[mask])
        idx = np.searchsorted(km_t, horizon, side="right") - 1
        out["predicted"].append(float(s[mask].mean()))
        out["observed"].append(float(km_s[idx]) if idx >= 0 else 1.0)
        out["patients"].append(int(mask.sum()))
    return out


def plot_calibration_at_horizon(time: Any, event: Any, surv_at_horizon: Any, *, horizon: float, n_bins: int = 10,
                                title: str = "Calibration at the horizon",
                                path: str | os.PathLike | None = None) -> Figure | Path:
    """Predicted against observed (Kaplan–Meier) survival at ``horizon`` in deciles of predicted risk.

    ``surv_at_horizon`` is one array of S(H | x) or a dict name -> array (several models on the same
    subjects). The decile table of each model is on ``fig.calibration`` (see
    :func:`calibration_at_horizon_table`).
    """
    preds = dict(surv_at_horizon) if isinstance(surv_at_horizon, dict) else {"model": surv_at_horizon}
    if not preds:
        raise ValueError("surv_at_horizon is empty; pass an array or a dict name -> array")
    _check_str("title", title)
    _check_path(path)
    tables = {str(k): calibration_at_horizon_table(time, event, v, horizon=horizon, n_bins=n_bins)
              for k, v in preds.items()}

    def draw(fig: Figure, axes: np.ndarray) -> None:
        ax = axes[0, 0]
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="perfect calibration")
        for i, (name, rows) in enumerate(tables.items()):
            ax.plot(rows["predicted"], rows["observed"], marker="o", linewidth=1.5, label=name, **_style(i))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel(f"predicted S({horizon:g}), decile mean")
        ax.set_ylabel(f"observed S({horizon:g}), Kaplan–Meier in the decile")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="upper left")
        fig.calibration = tables

    return _render(draw, path=path, figsize=(6.0, 5.5))
