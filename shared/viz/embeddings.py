"""Maps of learned vectors: a 2-D projection (PCA or t-SNE) and the static embedding map."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shared.viz._common import (OKABE_ITO, _MARKERS, _REFERENCE, _as_1d, _check_int, _check_path, _check_str,
                                _render, _same_length)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure


log = logging.getLogger(__name__)

_MAX_CATEGORIES = 20            # embedding maps lump the rarer categories into "other" beyond this


def project_2d(vectors: Any, *, method: str = "pca", seed: int = 0, max_points: int | None = 3000,
               perplexity: float | None = None, keep: Iterable[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Project ``vectors`` (n, d) to 2-D with PCA or t-SNE; returns ``(coords, kept_indices)``.

    If n exceeds ``max_points`` a random subset (fixed by ``seed``) is projected; ``keep`` lists
    row indices that must be in it (e.g. points to annotate). ``kept_indices`` (sorted) maps the
    rows of ``coords`` back to rows of ``vectors``. The projection is :func:`shared.maps.map_2d`'s
    (t-SNE: openTSNE; ``perplexity`` defaults to ``min(30, (n - 1) / 3 - 0.5)``), without its quality
    record; columns constant over the projected points are left out. For a map with its quality
    numbers beside maps of the raw inputs, use :func:`shared.maps.learned.learned_map`.
    """
    from shared.maps import map_2d
    from shared.maps.checks import as_points

    if method not in ("pca", "tsne"):
        raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}")
    _check_int("seed", seed, minimum=0)
    _check_int("max_points", max_points, minimum=3, optional=True)
    X = as_points(vectors, name="vectors", allow_constant=True)
    n = len(X)
    kept = np.arange(n)
    forced = np.array([], dtype=int)
    if keep is not None:
        forced = np.unique(np.asarray(list(keep), dtype=int))
        if forced.size and (forced.min() < 0 or forced.max() >= n):
            raise ValueError(f"keep holds indices outside 0..{n - 1}")
    if max_points is not None and n > max_points:
        if forced.size > max_points:
            raise ValueError(f"{forced.size} points must be kept but max_points is {max_points}; "
                             f"raise max_points or keep fewer points")
        rng = np.random.default_rng(seed)
        others = np.setdiff1d(np.arange(n), forced)
        kept = np.sort(np.concatenate([forced, rng.choice(others, max_points - forced.size, replace=False)]))
        X = X[kept]
        log.info("projecting a random %d of %d vectors (max_points=%d)", len(kept), n, max_points)
    varying = np.ptp(X, axis=0) > 0
    if not varying.any():
        raise ValueError("all vectors are identical, so there is nothing to project; check the embedding was trained")
    if varying.sum() < 2:
        raise ValueError("the vectors vary in only one column, so a 2-D map of them is a line; plot that column "
                         "as a histogram instead")
    X = X[:, varying]
    if method == "tsne" and perplexity is None:
        perplexity = min(30.0, max(1.0, (len(X) - 1) / 3 - 0.5))
    if perplexity is not None and (isinstance(perplexity, bool) or not isinstance(perplexity, (int, float))):
        raise ValueError(f"perplexity must be a number, got {perplexity!r}")
    result = map_2d(X, method=method, seed=seed, quality=False,
                    **({"perplexity": float(perplexity)} if method == "tsne" else {}))
    return np.asarray(result.coords, dtype=float), kept


def _label_kind(labels: np.ndarray, kind: str | None) -> str:
    if kind is not None:
        if kind not in ("categorical", "continuous"):
            raise ValueError(f"label_kind must be 'categorical', 'continuous' or None (guess), got {kind!r}")
        return kind
    if labels.dtype.kind == "f":
        return "continuous"
    if labels.dtype.kind in "iu" and len(np.unique(labels)) > _MAX_CATEGORIES:
        return "continuous"
    return "categorical"


def plot_embedding_map(vectors: Any, *, labels: Any = None, method: str = "pca",
                       annotate: Sequence[str | None] | Mapping[int, str] | None = None,
                       max_points: int | None = 3000, seed: int = 0, title: str = "Embedding map",
                       label_name: str | None = None, label_kind: str | None = None,
                       perplexity: float | None = None,
                       path: str | os.PathLike | None = None) -> Figure | Path:
    """2-D map of learned vectors (PCA or t-SNE), coloured by ``labels``.

    Categorical labels (strings, bools, few integers) get a legend (the 19 most frequent shown,
    the rest as "other"); numeric labels (floats, many integers) get a viridis colour bar;
    ``label_kind`` overrides the guess. ``annotate`` writes text beside some points: a list with
    one entry per vector (None or "" to skip) or a dict index -> text; annotated points are always
    kept when subsampling to ``max_points``.
    """
    _check_str("title", title)
    _check_str("label_name", label_name, optional=True)
    _check_path(path)
    n_total = len(vectors) if hasattr(vectors, "__len__") else None
    lab = None
    if labels is not None:
        lab = _as_1d("labels", labels, numeric=False)
        if n_total is not None:
            _same_length(vectors=vectors, labels=lab)
    notes: dict[int, str] = {}
    if annotate is not None:
        if isinstance(annotate, Mapping):
            notes = {int(k): str(v) for k, v in annotate.items() if v is not None and str(v)}
        elif isinstance(annotate, (str, bytes)) or not isinstance(annotate, Iterable):
            raise TypeError("annotate must be a list of texts (one per vector, None to skip) or a dict index -> text")
        else:
            texts = list(annotate)
            if n_total is not None:
                _same_length(vectors=vectors, annotate=texts)
            notes = {i: str(t) for i, t in enumerate(texts) if t is not None and str(t)}
    coords, kept = project_2d(vectors, method=method, seed=seed, max_points=max_points,
                                perplexity=perplexity, keep=notes.keys() if notes else None)
    kind = None
    if lab is not None:
        lab = lab[kept]
        kind = _label_kind(lab, label_kind)
        if kind == "continuous":
            lab = _as_1d("labels", lab)
        elif pd.isna(lab).any():
            lab = np.array(["missing" if pd.isna(v) else v for v in lab], dtype=object)
    axis = "PC" if method == "pca" else "t-SNE"
    subtitle = f"{'PCA' if method == 'pca' else 't-SNE'} of {len(kept):,}" + (
        f" of {n_total:,} points (random sample)" if n_total and len(kept) < n_total else " points")

    def draw(fig: Figure, axes: np.ndarray) -> None:
        ax = axes[0, 0]
        size = 14 if len(coords) <= 1000 else 6
        if lab is None:
            ax.scatter(coords[:, 0], coords[:, 1], s=size, alpha=0.7, color=OKABE_ITO[0], linewidths=0)
        elif kind == "continuous":
            sc = ax.scatter(coords[:, 0], coords[:, 1], c=lab, cmap="viridis", s=size, alpha=0.8, linewidths=0)
            fig.colorbar(sc, ax=ax, label=label_name or "label")
        else:
            keys = pd.Series(lab.astype(str))
            counts = keys.value_counts(sort=True)
            shown = list(counts.index[: _MAX_CATEGORIES - 1]) if len(counts) > _MAX_CATEGORIES else list(counts.index)
            if len(counts) <= _MAX_CATEGORIES:
                try:                                   # natural order for numbers / sortable labels
                    order = sorted(set(lab.tolist()))
                    shown = [str(v) for v in order]
                except TypeError:
                    shown = sorted(shown)
            for i, key in enumerate(shown):
                mask = (keys == key).to_numpy()
                ax.scatter(coords[mask, 0], coords[mask, 1], s=size, alpha=0.8, linewidths=0,
                           color=OKABE_ITO[i % len(OKABE_ITO)], marker=_MARKERS[(i // len(OKABE_ITO)) % len(_MARKERS)],
                           label=f"{key} ({int(mask.sum())})")
            rest = ~keys.isin(shown).to_numpy()
            if rest.any():
                ax.scatter(coords[rest, 0], coords[rest, 1], s=size, alpha=0.5, linewidths=0, color=_REFERENCE,
                           label=f"other ({int(rest.sum())})")
            ax.legend(title=label_name, fontsize="small", markerscale=1.5,
                      loc="center left", bbox_to_anchor=(1.01, 0.5))
        position = {int(orig): row for row, orig in enumerate(kept)}
        for index, text in notes.items():
            row = position[index]
            ax.annotate(text, (coords[row, 0], coords[row, 1]), xytext=(3, 3), textcoords="offset points",
                        fontsize=8)
        ax.set_xlabel(f"{axis} 1")
        ax.set_ylabel(f"{axis} 2")
        ax.set_title(f"{title}\n{subtitle}", fontsize="medium")
        ax.grid(alpha=0.2)

    return _render(draw, path=path, figsize=(7.5, 6.0))
