"""The case study's figures (aggregates only: curves, bins and bars, never patient rows), drawn with
``shared.viz`` and saved into the run directory."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

TERCILES = ["low risk", "medium risk", "high risk"]


def risk_terciles(train_risk: np.ndarray, test_risk: np.ndarray) -> np.ndarray:
    """Tercile labels of test risks with cut points from the *training* fold's risk distribution."""
    cuts = np.quantile(np.asarray(train_risk, float), [1 / 3, 2 / 3])
    idx = np.searchsorted(cuts, np.asarray(test_risk, float), side="right")
    return np.array(TERCILES, dtype=object)[idx]


def km_by_terciles(time: np.ndarray, event: np.ndarray, groups: np.ndarray, *, dataset: str,
                   horizon: float) -> tuple[Any, float]:
    from shared.viz import plot_km_by_group

    fig = plot_km_by_group(time, event, pd.Categorical(groups, categories=TERCILES),
                           title=f"{dataset}: test folds by DeepSurv predicted-risk tercile",
                           xlabel="days", order=[t for t in TERCILES if (groups == t).any()])
    ax = fig.axes[0]
    ax.axvline(horizon, color="grey", linestyle=":", linewidth=1)
    return fig, float(fig.logrank_p)


def calibration(label: np.ndarray, probs: dict[str, np.ndarray], *, dataset: str, horizon: float) -> Any:
    from shared.viz import plot_calibration

    return plot_calibration(label, probs, n_bins=10, strategy="quantile",
                            title=f"{dataset}: calibration of P(event within {horizon:g} days), test folds")


def importance(drops: dict[str, float], errors: dict[str, float], *, dataset: str) -> Any:
    from shared.viz import plot_bar

    return plot_bar(drops, errors=errors, top=20, xlabel="drop in Harrell's C when the covariate is permuted",
                    title=f"{dataset}: DeepSurv permutation importance (held-out fold 1)")


def learning_curves(history: dict[str, list[float]], *, title: str) -> Any:
    from shared.viz import plot_learning_curves

    return plot_learning_curves(history, title=title)


def calibration_at_horizon(time: np.ndarray, event: np.ndarray, surv_h: dict[str, np.ndarray], *, horizon: float,
                           dataset: str, n_bins: int = 10) -> tuple[Any, dict[str, dict[str, list[float]]]]:
    """Predicted S(H | x) against Kaplan–Meier S(H) within each decile of predicted risk, one line per model.

    Deciles are cut on each model's own predictions (ties merged); the observed survival in a decile
    is the Kaplan–Meier estimate at H of its patients, so censoring before H is handled as KM does.
    Returns the figure and, per model, the decile means (predicted, observed, patients): aggregates only.
    """
    from matplotlib.figure import Figure

    table: dict[str, dict[str, list[float]]] = {}
    for name, pred in surv_h.items():
        pred = np.asarray(pred, dtype=float)
        bins = pd.qcut(pred, n_bins, labels=False, duplicates="drop")
        rows = [(float(pred[bins == b].mean()), km_at(time[bins == b], event[bins == b], horizon),
                 int((bins == b).sum())) for b in np.unique(bins)]
        table[name] = {"predicted": [r[0] for r in rows], "observed": [r[1] for r in rows],
                       "patients": [r[2] for r in rows]}
    fig = Figure(figsize=(5.5, 5.0))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="perfect calibration")
    for name, rows in table.items():
        ax.plot(rows["predicted"], rows["observed"], marker="o", label=name)
    ax.set_xlabel(f"predicted S({horizon:g} days), decile mean")
    ax.set_ylabel(f"observed S({horizon:g} days), Kaplan–Meier in the decile")
    ax.set_title(f"{dataset}: calibration at H = {horizon:g} days (test folds)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    return fig, table


def km_at(time: np.ndarray, event: np.ndarray, at: float) -> float:
    """Kaplan–Meier S(at) of one group (1 before its first event time)."""
    from sksurv.nonparametric import kaplan_meier_estimator

    t, s = kaplan_meier_estimator(np.asarray(event, bool), np.asarray(time, float))
    idx = np.searchsorted(t, at, side="right") - 1
    return float(s[idx]) if idx >= 0 else 1.0
