"""Input checks for maps: each problem is a ``UserError`` (a ``ValueError``) or ``TypeError`` naming the fix."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from shared.errors import UserError


def as_points(x: Any, *, name: str = "x", n_neighbors: int | None = None, allow_constant: bool = False) -> np.ndarray:
    """``x`` as a finite float32 (n, d) array with no constant column (unless ``allow_constant``: the
    caller drops them after subsampling) and more rows than neighbours."""
    if isinstance(x, pd.DataFrame):
        bad = [str(c) for c in x.columns if not pd.api.types.is_numeric_dtype(x[c].dtype)]
        if bad:
            raise TypeError(f"{name} has non-numeric columns {bad[:5]}; encode them first (deepcases map does this "
                            "for a table: one-hot categoricals, standardized numbers)")
        x = x.to_numpy()
    try:
        arr = np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric 2-D array (n_points, n_features)") from None
    if arr.ndim != 2:
        raise UserError(f"{name} must be 2-D (n_points, n_features), got shape {arr.shape}; "
                         f"reshape it with x.reshape(len(x), -1)")
    n, d = arr.shape
    if n < 3:
        raise UserError(f"{name} has {n} point(s); a map needs at least 3")
    if d < 2:
        raise UserError(f"{name} has {d} column(s); a 2-D map of it needs at least 2 (plot a 1-column {name} "
                         "as a histogram instead)")
    finite = np.isfinite(arr)
    if not finite.all():
        rows = np.flatnonzero(~finite.all(axis=1))
        raise UserError(f"{name} has {int((~finite).sum())} NaN or infinite value(s) in {len(rows)} row(s) "
                         f"(first rows {rows[:5].tolist()}); impute them (e.g. with the training median) or drop "
                         "those rows first")
    constant = np.flatnonzero(np.ptp(arr, axis=0) == 0)
    if constant.size and not allow_constant:
        raise UserError(f"{name} has {constant.size} constant column(s) (the same value in every row; first "
                         f"{constant[:10].tolist()}): they carry nothing to map; drop them, e.g. "
                         f"{name}[:, {name}.std(axis=0) > 0]")
    if n_neighbors is not None and n <= n_neighbors:
        raise UserError(f"{name} has {n} points but n_neighbors is {n_neighbors}; pass n_neighbors below the "
                         f"number of points (e.g. n_neighbors={max(2, n // 3)}) or map more points")
    return arr


def varying_columns(x: Any, *, name: str = "x") -> tuple[np.ndarray, np.ndarray]:
    """``x`` checked as :func:`as_points` does, with the columns constant over ITS rows dropped, and
    the boolean mask of the kept columns. For a subsample or a model's representation (a dead ReLU
    unit is constant): such a column maps to nothing, so it is left out instead of failing the map."""
    arr = as_points(x, name=name, allow_constant=True)
    keep = np.ptp(arr, axis=0) > 0
    if keep.sum() < 2:
        raise UserError(f"{name} has {int(keep.sum())} non-constant column(s) over these points; a 2-D map needs at "
                        "least 2 (was the model trained? are the points all the same?)")
    return arr[:, keep], keep


def as_labels(labels: Any, n: int, *, name: str = "labels") -> np.ndarray:
    """One label per point, at least two classes, no missing value."""
    if isinstance(labels, (str, bytes)) or np.isscalar(labels):
        raise TypeError(f"{name} must be a 1-D array with one label per point, got {type(labels).__name__}")
    arr = labels.to_numpy() if isinstance(labels, (pd.Series, pd.Index)) else np.asarray(labels)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1 or len(arr) != n:
        raise UserError(f"{name} must hold one label per point ({n}), got shape {arr.shape}")
    if pd.isna(arr).any():
        raise UserError(f"{name} has {int(pd.isna(arr).sum())} missing value(s); drop those points or fill the "
                         "label (e.g. 'missing') first")
    classes = pd.unique(arr)
    if len(classes) < 2:
        raise UserError(f"{name} has a single class ({classes[0]!r}); the k-NN accuracy of a map needs at least 2 "
                         "classes: pick another label column, or pass labels=None (no accuracy is scored)")
    return arr


def positive_int(name: str, value: Any, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise UserError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)
