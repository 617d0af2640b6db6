"""Evaluation toolkit: metrics by task, cross-validation of model builders, results tables.

Metrics are pure functions ``f(y_true, y_pred, *, options)``; importing this package never
imports TensorFlow (scikit-survival is imported only when a survival metric is called).
"""

from .classification import classification_metrics, confusion
from .crossval import cross_validate, summarize_folds
from .intervals import (
    coverage_by_group,
    coverage_by_horizon,
    interval_metrics,
    interval_score_error,
    mean_interval_width,
    mean_pinball_error,
)
from .paired import paired_error_records, paired_loss_records, paired_loss_test
from .ranking import catalog_coverage, hit_rate_at_k, ndcg_at_k, top_k_from_scores
from .regression import (
    UndefinedMetricError,
    directional_accuracy,
    forecast_metrics,
    interval_coverage,
    mae,
    mae_ratio,
    mape,
    mase,
    pinball_loss,
    rmse,
    smape,
    wape,
)
from .survival import brier_time_grid, harrell_c, integrated_brier, make_surv_array, uno_c
from .tables import ResultsTable

__all__ = [
    "ResultsTable",
    "UndefinedMetricError",
    "brier_time_grid",
    "catalog_coverage",
    "classification_metrics",
    "confusion",
    "coverage_by_group",
    "coverage_by_horizon",
    "cross_validate",
    "directional_accuracy",
    "forecast_metrics",
    "harrell_c",
    "hit_rate_at_k",
    "integrated_brier",
    "interval_coverage",
    "interval_metrics",
    "interval_score_error",
    "mae",
    "mae_ratio",
    "make_surv_array",
    "mape",
    "mase",
    "mean_interval_width",
    "mean_pinball_error",
    "ndcg_at_k",
    "paired_error_records",
    "paired_loss_records",
    "paired_loss_test",
    "pinball_loss",
    "rmse",
    "smape",
    "summarize_folds",
    "top_k_from_scores",
    "uno_c",
    "wape",
]
