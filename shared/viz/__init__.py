"""Figures for the case studies: static PNGs (matplotlib, Agg) and self-contained HTML maps (plotly).

Each ``plot_*`` function validates its inputs and returns a matplotlib ``Figure``; save it with
``shared.artifacts.save_figure(fig, path)`` or pass ``path=`` to save it directly. Importing this
package loads neither matplotlib.pyplot, plotly nor TensorFlow; they are imported on first use.

Modules by kind of figure: ``learning`` (learning curves, tuning scores, a metric against a
hyperparameter), ``classification`` (ROC, confusion matrix, calibration), ``forecasts`` (forecast,
residuals), ``survival`` (Kaplan–Meier by group, log-rank), ``embeddings`` (2-D projection, embedding
map), ``tables`` (bars, heatmap) and ``interactive`` (plotly pages); ``_common`` holds the private
input checks, the Agg backend and the Okabe–Ito colours.
"""

from shared.viz._common import OKABE_ITO
from shared.viz.classification import plot_calibration, plot_confusion_matrix, plot_roc_curves
from shared.viz.embeddings import plot_embedding_map, project_2d
from shared.viz.forecasts import plot_forecast, plot_residuals
from shared.viz.interactive import embedding_map_html
from shared.viz.learning import plot_learning_curves, plot_metric_vs_param, plot_tuning_scores
from shared.viz.survival import (calibration_at_horizon_table, logrank_p_value, plot_calibration_at_horizon,
                                 plot_km_by_group)
from shared.viz.tables import plot_bar, plot_heatmap

__all__ = [
    "OKABE_ITO",
    "calibration_at_horizon_table",
    "embedding_map_html",
    "logrank_p_value",
    "plot_bar",
    "plot_calibration",
    "plot_calibration_at_horizon",
    "plot_confusion_matrix",
    "plot_embedding_map",
    "plot_forecast",
    "plot_heatmap",
    "plot_km_by_group",
    "plot_learning_curves",
    "plot_metric_vs_param",
    "plot_residuals",
    "plot_roc_curves",
    "plot_tuning_scores",
    "project_2d",
]
