"""Drawing maps of any size: a datashader image above ~200,000 points, an interactive page below.

Datashader aggregates every point into a pixel grid (count per category, or the mean of a value),
so a million points cost about as much to draw as a thousand; matplotlib then frames the image with
axes, a legend or a colour bar. Below the threshold the static image is a plain matplotlib scatter
(one pixel per point would leave a few thousand points barely visible), beside the page. The interactive page is plotly's WebGL ``scattergl`` on a random
subsample (at most ``page_points``) with hover text, written by :func:`shared.viz.embedding_map_html`.
Both files are written atomically.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

IMAGE_ABOVE = 200_000          # more points than this: a datashader image instead of a page of every point
PAGE_POINTS = 50_000           # points drawn in an interactive page (a random subsample beyond)
MAX_CATEGORIES = 20            # more classes than this: the rarest are drawn together as "other"
_OTHER = "#7f7f7f"


def _coords(coords: Any) -> np.ndarray:
    xy = np.asarray(coords, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) == 0:
        raise ValueError(f"coords must have shape (n_points, 2), got {xy.shape}; map the data first with map_2d")
    if not np.isfinite(xy).all():
        raise ValueError("coords contains NaN or infinite values; drop those points first")
    return xy


def _categories(labels: Any, n: int) -> tuple[pd.Categorical, dict[str, str]]:
    """Labels as a categorical of at most MAX_CATEGORIES levels (the rest "other") and a colour per level."""
    from shared.viz import OKABE_ITO

    keys = pd.Series(["missing" if pd.isna(v) else str(v) for v in np.asarray(labels, dtype=object)])
    if len(keys) != n:
        raise ValueError(f"labels must hold one label per point ({n}), got {len(keys)}")
    counts = keys.value_counts()
    if len(counts) > MAX_CATEGORIES:
        shown = list(counts.index[: MAX_CATEGORIES - 1])
        keys = keys.where(keys.isin(shown), "other")
    levels = sorted(keys.unique(), key=lambda k: (k == "other", k))
    if len(levels) <= len(OKABE_ITO):
        palette = list(OKABE_ITO)
    else:
        import colorcet

        palette = list(colorcet.palette["glasbey_category10"])   # hex strings
    colours = {level: (_OTHER if level == "other" else palette[i % len(palette)]) for i, level in enumerate(levels)}
    return pd.Categorical(keys, categories=levels), colours


def shade(coords: Any, *, labels: Any = None, values: Any = None, width: int = 900, height: int = 900) -> dict:
    """Aggregate the points into a ``width`` x ``height`` RGBA image (row 0 = the top, highest y).

    Returns ``{"image": uint8 array (height, width, 4), "extent": (x0, x1, y0, y1), "colours": {level:
    colour} or None, "range": (lo, hi) of ``values`` or None}``.
    """
    import datashader as ds
    import datashader.transfer_functions as tf

    xy = _coords(coords)
    if labels is not None and values is not None:
        raise ValueError("pass labels (categorical colour) or values (continuous colour), not both")
    pad = 0.02 * max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1]), 1e-9)
    x0, x1 = xy[:, 0].min() - pad, xy[:, 0].max() + pad
    y0, y1 = xy[:, 1].min() - pad, xy[:, 1].max() + pad
    frame = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]})
    canvas = ds.Canvas(plot_width=width, plot_height=height, x_range=(x0, x1), y_range=(y0, y1))
    colours = value_range = None
    if labels is not None:
        frame["label"], colours = _categories(labels, len(xy))
        image = tf.shade(canvas.points(frame, "x", "y", ds.count_cat("label")), color_key=colours, how="eq_hist",
                         min_alpha=60)
    elif values is not None:
        frame["value"] = np.asarray(values, dtype=np.float64).reshape(-1)
        if len(frame["value"]) != len(xy) or not np.isfinite(frame["value"]).all():
            raise ValueError("values must hold one finite number per point; fill or drop missing values first")
        from matplotlib import colormaps

        viridis = [colormaps["viridis"](i / 255) for i in range(256)]
        hexes = ["#%02x%02x%02x" % tuple(int(255 * c) for c in rgba[:3]) for rgba in viridis]
        value_range = (float(frame["value"].min()), float(frame["value"].max()))
        image = tf.shade(canvas.points(frame, "x", "y", ds.mean("value")), cmap=hexes, how="linear",
                         span=value_range)
    else:
        image = tf.shade(canvas.points(frame, "x", "y", ds.count()), cmap=["#9ecae1", "#08306b"], how="eq_hist")
    rgba = np.asarray(tf.set_background(image, "white").to_pil().convert("RGBA"))
    return {"image": rgba, "extent": (x0, x1, y0, y1), "colours": colours, "range": value_range}


def render_image(coords: Any, path: str | Path, *, labels: Any = None, values: Any = None, title: str = "Map",
                 label_name: str | None = None, axis_titles: tuple[str, str] = ("map 1", "map 2"),
                 size: int = 900) -> Path:
    """A PNG of every point (datashader), framed with axes and a legend or colour bar."""
    from shared.artifacts import save_figure
    from shared.viz._common import _pyplot

    shaded = shade(coords, labels=labels, values=values, width=size, height=size)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.5, 7.5), layout="constrained")
    try:
        ax.imshow(shaded["image"], extent=shaded["extent"], origin="upper", aspect="auto", interpolation="nearest")
        if shaded["colours"]:
            from matplotlib.patches import Patch

            ax.legend(handles=[Patch(color=c, label=k) for k, c in shaded["colours"].items()], title=label_name,
                      fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
        elif shaded["range"] is not None:
            from matplotlib.cm import ScalarMappable
            from matplotlib.colors import Normalize

            fig.colorbar(ScalarMappable(Normalize(*shaded["range"]), "viridis"), ax=ax,
                         label=f"mean {label_name or 'value'} per pixel")
        ax.set_xlabel(axis_titles[0])
        ax.set_ylabel(axis_titles[1])
        ax.set_title(f"{title}\n{len(np.asarray(coords)):,} points (datashader)", fontsize="medium")
        return save_figure(fig, path)
    except BaseException:
        plt.close(fig)
        raise


def render_scatter(coords: Any, path: str | Path, *, labels: Any = None, values: Any = None, title: str = "Map",
                   label_name: str | None = None, axis_titles: tuple[str, str] = ("map 1", "map 2"),
                   max_points: int = PAGE_POINTS, seed: int = 0) -> Path:
    """A PNG scatter of at most ``max_points`` random points (for maps too small for a datashader image)."""
    from shared.artifacts import save_figure
    from shared.viz._common import _pyplot

    xy = _coords(coords)
    rows = np.arange(len(xy))
    if len(xy) > max_points:
        rows = np.sort(np.random.default_rng(seed).choice(len(xy), size=max_points, replace=False))
    size = 10 if len(rows) <= 2000 else 3
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.5, 7.5), layout="constrained")
    try:
        if labels is not None:
            from matplotlib.patches import Patch

            keys, colours = _categories(np.asarray(labels, dtype=object)[rows], len(rows))
            for level in keys.categories:
                mask = np.asarray(keys == level)
                ax.scatter(xy[rows][mask, 0], xy[rows][mask, 1], s=size, alpha=0.7, linewidths=0,
                           color=colours[level])
            ax.legend(handles=[Patch(color=c, label=k) for k, c in colours.items()], title=label_name,
                      fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
        elif values is not None:
            drawn = ax.scatter(xy[rows, 0], xy[rows, 1], s=size, alpha=0.7, linewidths=0, cmap="viridis",
                               c=np.asarray(values, dtype=float)[rows])
            fig.colorbar(drawn, ax=ax, label=label_name or "value")
        else:
            ax.scatter(xy[rows, 0], xy[rows, 1], s=size, alpha=0.7, linewidths=0, color="#0072B2")
        ax.set_xlabel(axis_titles[0])
        ax.set_ylabel(axis_titles[1])
        shown = f"{len(rows):,} points" + (f" (random sample of {len(xy):,})" if len(rows) < len(xy) else "")
        ax.set_title(f"{title}\n{shown}", fontsize="medium")
        return save_figure(fig, path)
    except BaseException:
        plt.close(fig)
        raise


def render_page(coords: Any, path: str | Path, *, labels: Any = None, values: Any = None,
                hover_text: Any = None, title: str = "Map", label_name: str | None = None,
                page_points: int = PAGE_POINTS, seed: int = 0,
                axis_titles: tuple[str, str] = ("map 1", "map 2")) -> Path:
    """A self-contained interactive page (plotly scattergl) of at most ``page_points`` random points."""
    from shared.viz import embedding_map_html

    xy = _coords(coords)
    rows = np.arange(len(xy))
    if len(xy) > page_points:
        rows = np.sort(np.random.default_rng(seed).choice(len(xy), size=page_points, replace=False))
    colour = labels if labels is not None else values
    picked = None if colour is None else np.asarray(colour, dtype=object if labels is not None else float)[rows]
    texts = None if hover_text is None else [str(t) for t in np.asarray(hover_text, dtype=object)[rows]]
    shown = title if len(rows) == len(xy) else f"{title} ({len(rows):,} of {len(xy):,} points, random sample)"
    return embedding_map_html(xy[rows], labels=picked, hover_text=texts, title=shown, path=path,
                              label_name=label_name, axis_titles=axis_titles,
                              label_kind=None if colour is None else ("categorical" if labels is not None
                                                                      else "continuous"), webgl=True)


def render_map(coords: Any, out_dir: str | Path, *, name: str = "map", labels: Any = None, values: Any = None,
               hover_text: Any = None, title: str = "Map", label_name: str | None = None,
               image_above: int = IMAGE_ABOVE, page_points: int = PAGE_POINTS, seed: int = 0) -> dict[str, Path]:
    """``{"page": NAME.html, "image": NAME.png}``: the image is datashader's (every point) above ``image_above``
    points, a matplotlib scatter (of at most ``page_points``) below."""
    xy = _coords(coords)
    out_dir = Path(out_dir)
    written = {"page": render_page(xy, out_dir / f"{name}.html", labels=labels, values=values,
                                   hover_text=hover_text, title=title, label_name=label_name,
                                   page_points=page_points, seed=seed)}
    if len(xy) > image_above:
        written["image"] = render_image(xy, out_dir / f"{name}.png", labels=labels, values=values, title=title,
                                        label_name=label_name)
    else:
        written["image"] = render_scatter(xy, out_dir / f"{name}.png", labels=labels, values=values, title=title,
                                          label_name=label_name, max_points=page_points, seed=seed)
    log.info("map of %d points drawn: %s", len(xy), ", ".join(str(p) for p in written.values()))
    return written
