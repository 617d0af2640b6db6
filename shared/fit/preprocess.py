"""Tabular preprocessing fitted on training rows only, saved as plain JSON beside the model.

Numeric columns: median imputation, then standardization (training mean and std). Datetime
columns: year, month, day of week and day of year as numeric features (then the same). Categorical
columns: one-hot over the training levels plus one *unknown bucket* that takes levels rarer than
``rare_fraction`` of the training rows and, at prediction time, levels never seen in training
(counted in ``unseen_`` so callers can warn). Missing categorical values are a level of their own.

It has the scikit-learn shape (``fit(X, y=None)``, ``transform``, ``fit_transform``), so it also works
as the ``preprocess`` of ``shared.evaluation.cross_validate``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .schema import FEATURE_KINDS, feature_kinds, parse_datetimes
from ..errors import UserError

MISSING = "__missing__"
UNKNOWN = "__unknown__"
DATE_PARTS = ("year", "month", "dayofweek", "dayofyear")


def category_strings(series: pd.Series) -> pd.Series:
    """Category values as strings, the same for a column read with or without missing values
    (1 and 1.0 both become "1"); missing values become ``__missing__``."""
    def one(value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
            return MISSING
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return str(int(value))
        if isinstance(value, (bool, np.bool_)):
            return str(bool(value))
        return str(value).strip()

    return series.astype(object).map(one)


class TabularPreprocessor:
    """Impute + scale numeric, expand dates, one-hot categoricals with an unknown bucket."""

    def __init__(self, kinds: Mapping[str, str] | None = None, *, rare_fraction: float = 0.01,
                 column_types: Mapping[str, str] | None = None) -> None:
        if kinds is not None:
            bad = {k: v for k, v in kinds.items() if v not in FEATURE_KINDS}
            if bad:
                raise UserError(f"kinds must map columns to {list(FEATURE_KINDS)}, got {bad}")
        if not 0.0 <= rare_fraction < 1.0:
            raise UserError(f"rare_fraction must be in [0, 1), got {rare_fraction}")
        self.kinds = dict(kinds) if kinds is not None else None
        self.rare_fraction = float(rare_fraction)
        self.column_types = dict(column_types or {})
        self.numeric_: dict[str, dict[str, float]] = {}
        self.levels_: dict[str, list[str]] = {}
        self.seen_: dict[str, list[str]] = {}
        self.unseen_: dict[str, int] = {}
        self.n_train_: int = 0

    # ------------------------------------------------------------------------------- fitting
    def _numeric_blocks(self, X: pd.DataFrame) -> dict[str, pd.Series]:
        blocks: dict[str, pd.Series] = {}
        for column, kind in self.kinds.items():
            if kind == "numeric":
                values = X[column]
                blocks[column] = (values.astype(float) if pd.api.types.is_bool_dtype(values)
                                  else pd.to_numeric(values, errors="coerce"))
            elif kind == "datetime":
                dates = parse_datetimes(X[column])
                for part in DATE_PARTS:
                    blocks[f"{column}__{part}"] = getattr(dates.dt, part).astype(float)
        return blocks

    def fit(self, X: pd.DataFrame, y: Any = None) -> "TabularPreprocessor":
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame of feature columns, got {type(X).__name__}")
        if X.empty:
            raise UserError("cannot fit preprocessing on zero rows; the training part is empty")
        if self.kinds is None:
            self.kinds = feature_kinds(X, self.column_types)
        if not self.kinds:
            raise UserError(f"no usable feature columns among {list(X.columns)} (all empty, constant, ids or "
                             "text); add feature columns or set their kinds with column_types")
        missing = [c for c in self.kinds if c not in X.columns]
        if missing:
            raise UserError(f"X lacks feature column(s) {missing}; found {list(X.columns)}")
        self.n_train_ = len(X)
        self.numeric_ = {}
        for name, values in self._numeric_blocks(X).items():
            median = float(values.median()) if values.notna().any() else 0.0
            filled = values.fillna(median)
            std = float(filled.std(ddof=0))
            self.numeric_[name] = {"median": median, "mean": float(filled.mean()),
                                   "std": std if np.isfinite(std) and std > 1e-12 else 1.0}
        self.levels_, self.seen_ = {}, {}
        min_count = max(1, math.ceil(self.rare_fraction * len(X)))
        for column, kind in self.kinds.items():
            if kind != "categorical":
                continue
            counts = category_strings(X[column]).value_counts()
            self.seen_[column] = sorted(counts.index)
            kept = counts[counts >= min_count]
            self.levels_[column] = sorted(kept.index, key=lambda level: (-int(kept[level]), level))
        return self

    def _check_fitted(self) -> None:
        if not self.n_train_:
            raise UserError("the preprocessor is not fitted; call fit(training_rows) first")

    # ----------------------------------------------------------------------------- transform
    @property
    def feature_names_(self) -> list[str]:
        self._check_fitted()
        names = list(self.numeric_)
        for column, levels in self.levels_.items():
            names += [f"{column}={level}" for level in levels] + [f"{column}={UNKNOWN}"]
        return names

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """A float32 matrix (rows, len(feature_names_)); unseen levels go to the unknown bucket."""
        self._check_fitted()
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame of feature columns, got {type(X).__name__}")
        missing = [c for c in self.kinds if c not in X.columns]
        if missing:
            raise UserError(f"X lacks feature column(s) {missing} seen in training; found {list(X.columns)}")
        parts = []
        blocks = self._numeric_blocks(X)
        for name, stats in self.numeric_.items():
            values = blocks[name].fillna(stats["median"]).to_numpy(dtype=float)
            parts.append(((values - stats["mean"]) / stats["std"])[:, None])
        self.unseen_ = {}
        for column, levels in self.levels_.items():
            strings = category_strings(X[column]).to_numpy()
            onehot = np.zeros((len(X), len(levels) + 1))
            index = {level: i for i, level in enumerate(levels)}
            positions = np.array([index.get(s, len(levels)) for s in strings], dtype=int)
            onehot[np.arange(len(X)), positions] = 1.0
            unseen = int(np.sum(~np.isin(strings, self.seen_[column])))
            if unseen:
                self.unseen_[column] = unseen
            parts.append(onehot)
        out = np.hstack(parts) if parts else np.zeros((len(X), 0))
        return out.astype("float32")

    def fit_transform(self, X: pd.DataFrame, y: Any = None) -> np.ndarray:
        return self.fit(X, y).transform(X)

    def unseen_examples(self, X: pd.DataFrame, limit: int = 3) -> dict[str, list[str]]:
        """Up to ``limit`` levels per categorical column that training never saw."""
        self._check_fitted()
        out = {}
        for column in self.levels_:
            strings = pd.unique(category_strings(X[column]))
            new = [s for s in strings if s not in set(self.seen_[column])]
            if new:
                out[column] = new[:limit]
        return out

    # --------------------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        self._check_fitted()
        return {"kinds": self.kinds, "rare_fraction": self.rare_fraction, "n_train": self.n_train_,
                "numeric": self.numeric_, "levels": self.levels_, "seen": self.seen_}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TabularPreprocessor":
        try:
            out = cls(data["kinds"], rare_fraction=data["rare_fraction"])
            out.numeric_ = {k: dict(v) for k, v in data["numeric"].items()}
            out.levels_ = {k: list(v) for k, v in data["levels"].items()}
            out.seen_ = {k: list(v) for k, v in data["seen"].items()}
            out.n_train_ = int(data["n_train"])
        except (KeyError, TypeError) as err:
            raise UserError(f"saved preprocessing is incomplete ({err}); refit the data with `deepcases fit`") \
                from err
        return out
