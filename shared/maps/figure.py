"""The side-by-side figure of a learned-map comparison: one panel per map, its quality in the title."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .methods import method_title

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

    from .learned import MapComparison


def _scatter(ax: Any, xy: np.ndarray, labels: np.ndarray) -> list[tuple[str, str, int]]:
    """Points coloured by category (at most 20 levels, the rest "other"); returns the legend entries."""
    from .render import _categories

    keys, colours = _categories(labels, len(xy))
    size = 10 if len(xy) <= 1000 else 4
    entries = []
    for level in keys.categories:
        mask = np.asarray(keys == level)
        ax.scatter(xy[mask, 0], xy[mask, 1], s=size, alpha=0.75, linewidths=0, color=colours[level])
        entries.append((level, colours[level], int(mask.sum())))
    ax.set_xticks([])
    ax.set_yticks([])
    return entries


def _legend(ax: Any, entries: list[tuple[str, str, int]], title: str) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", linestyle="", color=c, label=f"{k} ({n})") for k, c, n in entries]
    ax.legend(handles=handles, title=title, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.04),
              ncol=min(4, len(handles)), frameon=False)


def comparison_figure(comparison: MapComparison, table: Sequence[Mapping[str, Any]], *, title: str,
                      label_name: str, extras: Mapping[str, np.ndarray]) -> Figure:
    """A row of panels: the learned UMAP and PCA, the raw PCA and UMAP, then the learned UMAP
    coloured by each extra labelling; every map panel's title gives its trustworthiness and 5-NN accuracy."""
    from shared.viz._common import _pyplot

    plt = _pyplot()
    n_panels = len(table) + len(extras)
    fig, axes = plt.subplots(1, n_panels, figsize=(3.6 * n_panels, 4.4), layout="constrained")
    axes = np.atleast_1d(axes)
    for ax, row in zip(axes, table):
        entries = _scatter(ax, comparison.coords[f"{row['space']} {row['method']}"], comparison.labels)
        ax.set_title(f"{method_title(row['method'])} of the {row['of']}\ntrust {row['trustworthiness']:.3f} · "
                     f"5-NN acc. {row['knn_accuracy']:.3f}", fontsize="small")
    _legend(axes[0], entries, label_name)
    for ax, (name, values) in zip(axes[len(table):], extras.items()):
        first = table[0]
        _legend(ax, _scatter(ax, comparison.coords[f"learned {first['method']}"], values), name)
        ax.set_title(f"{method_title(first['method'])} of the {first['of']}\ncoloured by {name}", fontsize="small")
    shown = len(comparison.points)
    sample = f"{shown:,} points" + (f" (random sample of {comparison.n_total:,})" if shown < comparison.n_total else "")
    fig.suptitle(f"{title}: {sample}; trust = trustworthiness (k = 10) in the space mapped", fontsize="medium")
    return fig
