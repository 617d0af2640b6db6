"""Figures for the case studies: static PNGs (matplotlib, Agg) and self-contained HTML maps (plotly).

Each ``plot_*`` function validates its inputs and returns a matplotlib ``Figure``; save it with
``shared.artifacts.save_figure(fig, path)`` or pass ``path=`` to save it directly. Importing this
package loads neither matplotlib.pyplot, plotly nor TensorFlow; they are imported on first use.
"""

from shared.viz.interactive import embedding_map_html
from shared.viz.plots import (
    OKABE_ITO,
    logrank_p_value,
    plot_bar,
    plot_calibration,
    plot_confusion_matrix,
    plot_embedding_map,
    plot_forecast,
    plot_heatmap,
    plot_km_by_group,
    plot_learning_curves,
    plot_metric_vs_param,
    plot_residuals,
    plot_roc_curves,
    plot_tuning_scores,
    project_2d,
)

__all__ = [
    "OKABE_ITO",
    "embedding_map_html",
    "logrank_p_value",
    "plot_bar",
    "plot_calibration",
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
