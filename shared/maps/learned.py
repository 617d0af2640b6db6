"""Maps of what a deep model learned, beside maps of the raw inputs, on the same points and labels.

``compare_maps(learned, raw, labels)`` maps the same rows twice, from the model's representation
(UMAP and PCA of it) and from the raw inputs the model was fed (PCA and UMAP of them), and measures
every map the same way (trustworthiness and continuity against the space it maps, 5-NN accuracy
of the labels in 2-D). ``write_learned_map(run, comparison, ...)`` saves the side-by-side figure,
the interactive page of the learned map and the quality table (``maps/<name>.json`` and ``.csv``),
which the HTML report shows on the application's page. Applications only extract their vectors
and labels; :func:`learned_map` does both steps.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shared.errors import UserError

from .checks import as_labels, positive_int, varying_columns
from .methods import method_title

log = logging.getLogger(__name__)

MAPS_DIR = "maps"              # maps/<name>.json and .csv in a run directory, read by the report
MAX_POINTS = 2000              # UMAP of 2,000 points takes a few seconds; more add little to a figure
MIN_POINTS = 30                # trustworthiness with k = 10 needs > 20 points; 5-NN scores 30 % of them
# (space, method) of each row, the learned map first: it is the one on the interactive page. "pca" leaves
# UMAP out: umap-learn compiles with numba on first use (minutes on a cold cache), too slow for tests.
# "parametric" adds the parametric UMAP of the learned vectors, first (a minute of training per map: for
# benchmarks/maps_apps.py, which measures it against UMAP on each application's own representation).
MAPS = {"umap": (("learned", "umap"), ("learned", "pca"), ("raw", "pca"), ("raw", "umap")),
        "pca": (("learned", "pca"), ("raw", "pca")),
        "parametric": (("learned", "parametric_umap"), ("learned", "umap"), ("learned", "pca"), ("raw", "pca"),
                       ("raw", "umap"))}
QUALITY_COLUMNS = ("trustworthiness", "continuity", "knn_accuracy", "fit_seconds")


@dataclasses.dataclass
class MapComparison:
    """The 2-D maps of the same points from two spaces, and one quality row per map."""

    rows: list[dict[str, Any]]          # one per map, in MAPS order
    coords: dict[str, np.ndarray]       # "learned umap" -> (n, 2)
    points: np.ndarray                  # which input rows were mapped (sorted indices)
    labels: np.ndarray                  # their labels
    n_total: int                        # rows before subsampling


def _varying(x: Any, *, name: str) -> np.ndarray:
    """``x`` with the columns constant over these points left out (logged)."""
    arr = np.asarray(x)
    if arr.ndim not in (0, 2):  # a representation (n, ...) is flattened per point
        arr = arr.reshape(len(arr), -1)
    kept, keep = varying_columns(arr, name=name)
    if not keep.all():
        log.info("%s: %d constant column(s) left out of the map", name, int((~keep).sum()))
    return kept


def _rows(x: Any, n: int, points: np.ndarray, *, name: str) -> np.ndarray:
    """Rows ``points`` of ``x`` (an array, a frame or a scipy sparse matrix: only those rows are densified)."""
    if hasattr(x, "tocsr"):
        rows = x.shape[0]
    else:
        x = np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x)
        rows = 0 if x.ndim == 0 else len(x)
    if rows != n:
        raise UserError(f"{name} has {rows} rows but the learned vectors have {n}; pass one row per point, in the "
                        "same order")
    return x.tocsr()[points].toarray() if hasattr(x, "tocsr") else x[points]


def compare_maps(learned: Any, raw: Any, labels: Any, *, seed: int = 0, max_points: int = MAX_POINTS,
                 methods: str = "umap", n_neighbors: int = 15) -> MapComparison:
    """UMAP and PCA of ``learned`` and PCA and UMAP of ``raw`` (same rows), each with its quality row
    (``methods="pca"``: the two PCA maps only; ``"parametric"``: also the parametric UMAP of ``learned``).

    At most ``max_points`` rows (a fixed random subsample by ``seed``) are mapped. Raises
    :class:`~shared.errors.UserError` for one-class labels, fewer than ``MIN_POINTS`` points or
    mismatched rows.
    """
    from .methods import map_2d

    if methods not in MAPS:
        raise UserError(f"methods must be one of {sorted(MAPS)}, got {methods!r}")
    positive_int("seed", seed, minimum=0)
    positive_int("max_points", max_points, minimum=MIN_POINTS)
    try:
        n = len(learned)
    except TypeError:
        raise UserError("learned must be a 2-D array with one row per point") from None
    if n < max(MIN_POINTS, n_neighbors + 1):
        raise UserError(f"a learned map needs at least {max(MIN_POINTS, n_neighbors + 1)} points, got {n}; map more "
                        "points (a bigger test part) or skip the map for this run")
    try:
        y = as_labels(labels, n)
    except ValueError as err:
        raise UserError(str(err)) from None
    points = np.arange(n)
    if n > max_points:
        points = np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))
    y = y[points]
    if len(np.unique(y.astype(str))) < 2:
        raise UserError(f"the {len(points)} sampled points all have label {y[0]!r}; raise max_points or pick a label "
                        "with more than one class")
    # constant columns are judged on the mapped points: a column can vary only outside the subsample
    spaces = {"learned": _varying(np.asarray(learned)[points], name="learned"),
              "raw": _varying(_rows(raw, n, points, name="raw"), name="raw")}
    rows, coords = [], {}
    for space, method in MAPS[methods]:
        x = spaces[space]
        result = map_2d(x, method=method, seed=seed, labels=y, n_neighbors=n_neighbors)
        coords[f"{space} {method}"] = result.coords
        rows.append({"space": space, "method": method, "n_points": len(points), "n_features": int(x.shape[1]),
                     **{k: result.quality[k] for k in QUALITY_COLUMNS}})
    return MapComparison(rows=rows, coords=coords, points=points, labels=y, n_total=n)


def write_learned_map(run: Any, comparison: MapComparison, *, name: str, title: str, label_name: str,
                      learned_name: str, raw_name: str, hover_text: Sequence[str] | None = None,
                      extra_labels: Mapping[str, Any] | None = None, page: bool = True) -> dict[str, Path]:
    """Save ``figures/<name>.png`` (every map side by side), ``figures/<name>.html`` (the learned map,
    interactive; with ``page``) and ``maps/<name>.json`` + ``.csv`` (the quality rows), all atomically.

    ``hover_text`` and every ``extra_labels`` value hold one entry per INPUT row (before subsampling);
    each extra labelling adds a panel of the learned map coloured by it (e.g. correct / wrong).
    """
    import pandas as pd

    from shared.artifacts import write_csv, write_json

    from .figure import comparison_figure

    rows = comparison.points
    extras = {k: np.asarray(v, dtype=object)[rows] for k, v in (extra_labels or {}).items()}
    spaces = {"learned": learned_name, "raw": raw_name}
    table = [{"map": f"{m['space']} · {method_title(m['method'])}", "of": spaces[m["space"]], **m}
             for m in comparison.rows]
    fig = comparison_figure(comparison, table, title=title, label_name=label_name, extras=extras)
    written = {"figure": run.save_figure(fig, name)}
    if page:
        from .render import render_page

        hover = None if hover_text is None else np.asarray(list(hover_text), dtype=object)[rows]
        first = comparison.rows[0]
        shown = method_title(first["method"])
        written["page"] = render_page(comparison.coords[f"learned {first['method']}"], run.figures / f"{name}.html",
                                      labels=comparison.labels, hover_text=hover, label_name=label_name,
                                      title=f"{title}: {shown} of the {learned_name}", seed=0,
                                      axis_titles=(f"{shown} 1", f"{shown} 2"))
    record = {"name": name, "title": title, "label": label_name, "learned": learned_name, "raw": raw_name,
              "n_points": len(rows), "n_total": comparison.n_total,
              "classes": {str(k): int(v) for k, v in zip(*np.unique(comparison.labels.astype(str),
                                                                     return_counts=True))},
              "figure": f"figures/{written['figure'].name}",
              "page": f"figures/{written['page'].name}" if "page" in written else None, "rows": table}
    written["json"] = write_json(run.path / MAPS_DIR / f"{name}.json", record)
    written["csv"] = write_csv(run.path / MAPS_DIR / f"{name}.csv", pd.DataFrame(table).round(4))
    log.info("map %s (%d points): %s", name, len(rows), "; ".join(
        f"{m['map']} trustworthiness {m['trustworthiness']:.3f}, 5-NN {m['knn_accuracy']:.3f}" for m in table))
    return written


def learned_map(run: Any, *, name: str, learned: Any, raw: Any, labels: Any, title: str, label_name: str,
                learned_name: str = "learned representation", raw_name: str = "raw inputs", seed: int = 0,
                max_points: int = MAX_POINTS, methods: str = "umap", hover_text: Sequence[str] | None = None,
                extra_labels: Mapping[str, Any] | None = None, page: bool = True,
                required: bool = True) -> dict[str, Any]:
    """:func:`compare_maps` then :func:`write_learned_map`; returns the written paths and ``rows``.

    ``methods="off"`` maps nothing. With ``required=False`` (applications: the map is one figure of
    many, and a run must not fail over it) a problem with the points (too few, one class) is logged
    as a warning and nothing is written.
    """
    if methods == "off":
        return {}
    try:
        comparison = compare_maps(learned, raw, labels, seed=seed, max_points=max_points, methods=methods)
    except UserError as err:
        if required:
            raise
        log.warning("learned map %s skipped: %s", name, err)
        return {}
    written: dict[str, Any] = write_learned_map(run, comparison, name=name, title=title, label_name=label_name,
                                                learned_name=learned_name, raw_name=raw_name, hover_text=hover_text,
                                                extra_labels=extra_labels, page=page)
    written["rows"] = comparison.rows
    return written
