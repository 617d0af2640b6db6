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
                           dataset: str) -> tuple[Any, dict[str, dict[str, list[float]]]]:
    """Deciles of predicted S(H) against Kaplan–Meier in each decile (pooled test folds); figure and table."""
    from shared.viz import plot_calibration_at_horizon

    fig = plot_calibration_at_horizon(time, event, surv_h, horizon=horizon,
                                      title=f"{dataset}: survival at H = {horizon:g} days, predicted vs "
                                            "Kaplan–Meier by decile (test folds)")
    return fig, fig.calibration
