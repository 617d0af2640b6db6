"""Interactive HTML figures (plotly), written as single self-contained files.

The plotly.js library is inlined (``include_plotlyjs=True``), so the page opens offline and
from a run directory copied elsewhere; no CDN is contacted. Files are written atomically.
plotly is imported only when a function is called.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shared.viz._common import OKABE_ITO, _as_1d, _same_length
from shared.viz.embeddings import _label_kind

log = logging.getLogger(__name__)

_MAX_CATEGORIES = 20
_WEBGL_ABOVE = 5000          # beyond this many points use WebGL (scattergl) so the page stays responsive


def _hover_texts(hover_text: Any, n: int, *, as_html: bool) -> list[str]:
    if hover_text is None:
        return [f"#{i}" for i in range(n)]
    if isinstance(hover_text, (str, bytes)) or not isinstance(hover_text, (Sequence, np.ndarray, pd.Series, pd.Index)):
        raise TypeError(f"hover_text must be a list of strings, one per point, got {type(hover_text).__name__}")
    texts = ["" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t) for t in list(hover_text)]
    if len(texts) != n:
        raise ValueError(f"coords and hover_text must have the same length, got coords={n}, hover_text={len(texts)}")
    if as_html:
        return texts
    # Shown literally: plotly reads hover text as a subset of HTML, so escape it; keep line breaks.
    return [html.escape(t, quote=False).replace("\n", "<br>") for t in texts]


def embedding_map_html(coords: Any, *, labels: Any = None, hover_text: Sequence[str] | None = None,
                       title: str = "Embedding map", path: str | os.PathLike,
                       label_name: str | None = None, label_kind: str | None = None,
                       axis_titles: tuple[str, str] = ("dimension 1", "dimension 2"),
                       hover_html: bool = False, webgl: bool | None = None) -> Path:
    """Write an interactive scatter of 2-D points (e.g. from :func:`shared.viz.project_2d`) to ``path``.

    ``labels`` colour the points: categorical ones (strings, bools, few integers) get one legend
    entry each (click to hide/show; the 19 most frequent are shown, the rest as "other"), numeric
    ones a viridis colour scale; ``label_kind`` overrides the guess. ``hover_text`` is shown when
    the pointer is over a point (default: the point's row number); it is escaped and shown
    literally unless ``hover_html=True`` (then plotly's HTML subset such as ``<b>``/``<br>``
    applies). ``webgl``: draw with plotly's WebGL ``scattergl`` (default: above 5,000 points).
    Returns the path of the self-contained ``.html`` file.
    """
    if isinstance(coords, pd.DataFrame):
        coords = coords.to_numpy()
    try:
        xy = np.asarray(coords, dtype=float)
    except (TypeError, ValueError):
        raise TypeError("coords must be a numeric array of shape (n_points, 2)") from None
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"coords must have shape (n_points, 2), got {xy.shape}; "
                         f"project high-dimensional vectors first with shared.viz.project_2d")
    if len(xy) == 0:
        raise ValueError("coords is empty; pass at least one point")
    if not np.isfinite(xy).all():
        raise ValueError("coords contains NaN or infinite values; drop those points first")
    if not isinstance(title, str):
        raise TypeError(f"title must be a string, got {type(title).__name__}")
    if label_name is not None and not isinstance(label_name, str):
        raise TypeError(f"label_name must be a string, got {type(label_name).__name__}")
    if not (isinstance(axis_titles, (tuple, list)) and len(axis_titles) == 2):
        raise TypeError(f"axis_titles must be a pair of strings, got {axis_titles!r}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or pathlib.Path ending in .html, got {type(path).__name__}")
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"path must end in .html, got {path.name!r}")
    n = len(xy)
    texts = _hover_texts(hover_text, n, as_html=hover_html)
    lab = kind = None
    if labels is not None:
        lab = _as_1d("labels", labels, numeric=False)
        _same_length(coords=xy, labels=lab)
        kind = _label_kind(lab, label_kind)
        if kind == "continuous":
            lab = _as_1d("labels", lab)

    import plotly.graph_objects as go

    if webgl is not None and not isinstance(webgl, bool):
        raise TypeError(f"webgl must be True, False or None (automatic), got {webgl!r}")
    trace = go.Scattergl if (n > _WEBGL_ABOVE if webgl is None else webgl) else go.Scatter
    size = 7 if n <= 1000 else 4
    fig = go.Figure()
    common = {"mode": "markers", "hoverinfo": "text"}
    if lab is None:
        fig.add_trace(trace(x=xy[:, 0], y=xy[:, 1], hovertext=texts, name="points", showlegend=False,
                            marker={"color": OKABE_ITO[0], "size": size, "opacity": 0.8}, **common))
    elif kind == "continuous":
        fig.add_trace(trace(x=xy[:, 0], y=xy[:, 1], hovertext=texts, name=label_name or "label", showlegend=False,
                            marker={"color": lab, "colorscale": "Viridis", "size": size, "opacity": 0.85,
                                    "showscale": True, "colorbar": {"title": {"text": label_name or "label"}}},
                            **common))
    else:
        keys = pd.Series(["missing" if pd.isna(v) else str(v) for v in lab])
        counts = keys.value_counts(sort=True)
        shown = list(counts.index[: _MAX_CATEGORIES - 1]) if len(counts) > _MAX_CATEGORIES else sorted(counts.index)
        text_arr = np.asarray(texts, dtype=object)
        groups = [(key, (keys == key).to_numpy(), OKABE_ITO[i % len(OKABE_ITO)]) for i, key in enumerate(shown)]
        rest = ~keys.isin(shown).to_numpy()
        if rest.any():
            groups.append(("other", rest, "#7f7f7f"))
        symbols = ("circle", "square", "diamond", "triangle-up", "cross", "x", "star")
        for i, (key, mask, color) in enumerate(groups):
            fig.add_trace(trace(x=xy[mask, 0], y=xy[mask, 1], hovertext=list(text_arr[mask]),
                                name=f"{key} ({int(mask.sum())})", hoverinfo="text+name", mode="markers",
                                marker={"color": color, "size": size, "opacity": 0.85,
                                        "symbol": symbols[(i // len(OKABE_ITO)) % len(symbols)]}))
    fig.update_layout(title={"text": html.escape(title)}, template="plotly_white", height=700,
                      legend={"title": {"text": html.escape(label_name or "")}, "itemsizing": "constant"},
                      xaxis={"title": {"text": str(axis_titles[0])}, "zeroline": False},
                      yaxis={"title": {"text": str(axis_titles[1])}, "zeroline": False})
    page = fig.to_html(include_plotlyjs=True, full_html=True,
                       config={"displaylogo": False, "responsive": True})
    from shared.artifacts import write_text

    written = write_text(path, page)          # temporary file in the same folder, then os.replace
    log.info("interactive embedding map (%d points) written to %s", n, written)
    return written
