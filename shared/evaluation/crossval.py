"""K-fold cross-validation of a model *builder*, with preprocessing fitted inside each fold.

Works for anything with ``fit(X, y, **kwargs)`` / ``predict(X)``: scikit-learn estimators and
baselines, or a thin wrapper around a Keras model that the caller provides. This module never
imports Keras; it seeds Keras only if the caller has already imported it.
"""

from __future__ import annotations

import logging
import random
import sys
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

log = logging.getLogger(__name__)

__all__ = ["cross_validate", "summarize_folds"]


def _rows(data: Any) -> int:
    return data.shape[0] if hasattr(data, "shape") else len(data)


def _take(data: Any, idx: np.ndarray) -> Any:
    if hasattr(data, "iloc"):
        return data.iloc[idx]
    return data[idx]  # ndarray or scipy.sparse (lists were turned into arrays at the edge)


def _as_indexable(name: str, data: Any) -> Any:
    if data is None:
        raise ValueError(f"{name} is None; pass the data to cross-validate")
    if hasattr(data, "iloc") or isinstance(data, np.ndarray) or sparse.issparse(data):
        return data
    return np.asarray(data)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    if "keras" in sys.modules:  # seed Keras only if the caller uses it; never import TensorFlow here
        sys.modules["keras"].utils.set_random_seed(seed)


def _check_args(make_model: Any, splitter: Any, preprocess: Any, metrics: Any, seed: Any) -> None:
    if not callable(make_model):
        raise TypeError("make_model must be a callable returning a fresh unfitted model, e.g. "
                        "`lambda: LogisticRegression()`; got a non-callable (an already built model?)")
    if not hasattr(splitter, "split"):
        raise TypeError(f"splitter must have a .split(X, y, groups) method such as "
                        f"sklearn.model_selection.KFold(5), got {type(splitter).__name__}")
    if preprocess is not None and not callable(preprocess):
        raise TypeError("preprocess must be a callable returning a fresh unfitted transformer, e.g. "
                        "`StandardScaler` or `lambda: make_pipeline(...)`, or None")
    if not isinstance(metrics, Mapping) or not metrics:
        raise ValueError("metrics must be a non-empty dict of name -> callable(y_true, y_pred), "
                         "e.g. {'rmse': rmse}")
    for name, func in metrics.items():
        if not isinstance(name, str) or name == "fold":
            raise ValueError(f"metric names must be strings other than 'fold', got {name!r}")
        if not callable(func):
            raise TypeError(f"metrics[{name!r}] must be callable(y_true, y_pred), got {type(func).__name__}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")


def cross_validate(make_model: Callable[[], Any], X: Any, y: Any, *, splitter: Any,
                   fit_kwargs: Mapping[str, Any] | None = None, preprocess: Callable[[], Any] | None = None,
                   metrics: Mapping[str, Callable[[Any, Any], float]], seed: int | None = None,
                   groups: Any = None) -> pd.DataFrame:
    """Score a fresh model per fold; returns one row per fold: ``fold`` plus one column per metric.

    For each ``(train, test)`` split of ``splitter.split(X, y, groups)``:
    ``preprocess()`` (if given) builds a fresh transformer, fitted on the training rows only
    (``fit_transform`` on train, ``transform`` on test); ``make_model()`` builds a fresh model,
    fitted with ``fit(X_train, y_train, **fit_kwargs)``; each metric is called as
    ``metric(y_test, model.predict(X_test))``. With ``seed``, fold ``i`` starts from seed
    ``seed + i`` for ``random``, NumPy and (if already imported) Keras, set before the model is built.
    """
    _check_args(make_model, splitter, preprocess, metrics, seed)
    X = _as_indexable("X", X)
    y = _as_indexable("y", y)
    if _rows(X) != _rows(y):
        raise ValueError(f"X has {_rows(X)} rows but y has {_rows(y)}; pass one target per row")
    if groups is not None and len(groups) != _rows(X):
        raise ValueError(f"groups has {len(groups)} entries but X has {_rows(X)} rows; pass one group per row")
    fit_kwargs = dict(fit_kwargs or {})

    rows: list[dict[str, Any]] = []
    last_model: Any = None  # the previous fold's objects, to catch a builder that hands back one instance
    last_transformer: Any = None
    for fold, (train_idx, test_idx) in enumerate(splitter.split(X, y, groups)):
        train_idx, test_idx = np.asarray(train_idx), np.asarray(test_idx)
        if np.intersect1d(train_idx, test_idx).size:
            raise ValueError(f"splitter fold {fold} puts the same rows in train and test; use a proper CV splitter")
        if seed is not None:
            _seed_everything(int(seed) + fold)
        X_tr, X_te = _take(X, train_idx), _take(X, test_idx)
        y_tr, y_te = _take(y, train_idx), _take(y, test_idx)
        if preprocess is not None:
            transformer = preprocess()
            if transformer is last_transformer:
                raise ValueError("preprocess returned the same object for two folds; it must build a fresh "
                                 "transformer per fold (e.g. `lambda: StandardScaler()`)")
            last_transformer = transformer
            if hasattr(transformer, "fit_transform"):
                X_tr = transformer.fit_transform(X_tr, y_tr)
            else:
                X_tr = transformer.fit(X_tr, y_tr).transform(X_tr)
            X_te = transformer.transform(X_te)
        model = make_model()
        if model is last_model:
            raise ValueError("make_model returned the same object for two folds; it must build a fresh model "
                             "per fold, or earlier folds' training leaks into later ones")
        last_model = model
        model.fit(X_tr, y_tr, **fit_kwargs)
        y_hat = model.predict(X_te)
        row: dict[str, Any] = {"fold": fold}
        for name, func in metrics.items():
            value = func(y_te, y_hat)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise TypeError(f"metrics[{name!r}] returned {type(value).__name__}, not a number; wrap it, e.g. "
                                "`lambda t, p: classification_metrics(t, p)['accuracy']`")
            row[name] = float(value)
        log.info("fold %d (train %d, test %d): %s", fold, train_idx.size, test_idx.size,
                 {k: round(v, 4) for k, v in row.items() if k != "fold"})
        rows.append(row)
    if not rows:
        raise ValueError("splitter produced no folds; check n_splits and the data size")
    return pd.DataFrame(rows, columns=["fold", *metrics])


def summarize_folds(frame: pd.DataFrame, *, ddof: int = 0, digits: int = 4) -> pd.DataFrame:
    """Mean and standard deviation of each metric over folds, plus a ``"mean ± std"`` text column.

    One row per metric (index = metric name). ``ddof=0`` is NumPy's population std, as
    ``scores.std()`` on scikit-learn's ``cross_val_score`` output; pass ``ddof=1`` for the sample std.
    A metric that is NaN in any fold stays NaN here, so an undefined fold is not averaged away.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be the DataFrame returned by cross_validate, got {type(frame).__name__}")
    metric_cols = [c for c in frame.columns if c != "fold" and pd.api.types.is_numeric_dtype(frame[c])]
    if frame.empty or not metric_cols:
        raise ValueError("frame has no folds or no numeric metric columns; pass cross_validate(...)'s result")
    values = frame[metric_cols]
    out = pd.DataFrame({"mean": values.mean(skipna=False), "std": values.std(ddof=ddof, skipna=False)})
    out["mean ± std"] = [f"{m:.{digits}f} ± {s:.{digits}f}" for m, s in zip(out["mean"], out["std"], strict=True)]
    out.index.name = "metric"
    return out
