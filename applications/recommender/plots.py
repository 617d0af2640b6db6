"""Figures: item embedding maps (PNG + interactive HTML), learning curves, coverage and popularity."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
import numpy as np
import pandas as pd

from shared.artifacts import RunDir

log = logging.getLogger(__name__)


def item_map(run: RunDir, vectors: np.ndarray, *, labels: list[str], groups: list[str], name: str, title: str,
             popularity: np.ndarray, min_count: int = 5, max_points: int = 2000, method: str = "pca",
             seed: int = 0) -> list[Path]:
    """2-D map of the item embeddings of items with at least ``min_count`` training interactions.

    Rare items have barely trained vectors, so they are left out. Writes ``figures/<name>.png``,
    an interactive ``figures/<name>.html`` (titles on hover) and the same vectors (all kept items,
    not only the mapped sample) for TensorBoard's projector under ``logs/projector/<name>``.
    """
    from shared.viz import embedding_map_html, plot_embedding_map, project_2d

    keep = np.flatnonzero(popularity >= min_count)
    if keep.size < 3:
        keep = np.argsort(-popularity)[:max(3, min(len(popularity), max_points))]
    vecs = vectors[keep]
    run.export_embeddings(name, vecs, {"title": [labels[r] for r in keep], "group": [groups[r] for r in keep],
                                       "users": [int(popularity[r]) for r in keep]})
    coords, kept = project_2d(vecs, method=method, seed=seed, max_points=max_points)
    rows = keep[kept]
    top = rows[np.argsort(-popularity[rows])[:8]]  # annotate the 8 most popular items on the PNG
    annotate = {int(np.flatnonzero(rows == t)[0]): labels[t][:28] for t in top}
    fig = plot_embedding_map(coords, labels=[groups[r] for r in rows], method="pca", annotate=annotate,
                             max_points=None, title=title, label_name="group")
    paths = [run.save_figure(fig, name)]
    hover = [f"{labels[r]} · {groups[r]} · {int(popularity[r])} users" for r in rows]
    paths.append(embedding_map_html(coords, labels=[groups[r] for r in rows], hover_text=hover, title=title,
                                    path=run.figures / f"{name}.html", label_name="group"))
    return paths


def learning_curves(run: RunDir, history: Mapping[str, list[float]], *, name: str, title: str) -> Path | None:
    from shared.viz import plot_learning_curves

    if not history or not history.get("loss"):
        return None
    return run.save_figure(plot_learning_curves(dict(history), title=title), name)


def coverage_and_popularity(run: RunDir, stats: pd.DataFrame, *, name: str, title: str) -> Path:
    """Two panels per model: catalogue coverage of the top-10 lists, mean training popularity of their items."""
    import matplotlib.pyplot as plt

    stats = stats.sort_values("coverage")
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.45 * len(stats) + 1.8), sharey=True)
    colours = ["#D55E00" if kind == "deep" else "#0072B2" for kind in stats["kind"]]
    axes[0].barh(stats["model"], stats["coverage"] * 100, color=colours)
    axes[0].set_xlabel("catalogue coverage of top-10 lists (% of items)")
    axes[1].barh(stats["model"], stats["mean_popularity"], color=colours)
    axes[1].set_xlabel("mean training popularity of recommended items (users)")
    for ax in axes:
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title + "  (orange: deep, blue: baseline)")
    fig.tight_layout()
    return run.save_figure(fig, name)


def popularity_curve(run: RunDir, lists: Mapping[str, np.ndarray], popularity: np.ndarray, *, name: str,
                     title: str) -> Path:
    """How often each popularity rank is recommended: share of list slots by item popularity percentile."""
    import matplotlib.pyplot as plt

    order = np.argsort(-popularity, kind="stable")
    pct = np.empty(popularity.size)
    pct[order] = np.arange(popularity.size) / max(1, popularity.size - 1) * 100
    bins = np.array([0, 1, 2, 5, 10, 20, 50, 100.0001])
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(1, len(lists))
    for j, (model, top) in enumerate(lists.items()):
        share, _ = np.histogram(pct[top.ravel()], bins=bins)
        ax.bar(np.arange(len(bins) - 1) + j * width, share / max(1, top.size) * 100, width=width, label=model)
    ax.set_xticks(np.arange(len(bins) - 1) + 0.4 - width / 2)
    ax.set_xticklabels([f"top {bins[i]:.0f}-{min(100, bins[i + 1]):.0f}%" for i in range(len(bins) - 1)],
                       rotation=20)
    ax.set_ylabel("% of recommended slots")
    ax.set_xlabel("item popularity percentile in training")
    ax.legend(fontsize=8, loc="upper right")  # an explicit place: "best" is slow and warns on big plots
    ax.set_title(title)
    fig.tight_layout()
    return run.save_figure(fig, name)
