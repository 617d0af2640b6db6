"""Covariate preprocessing, fitted on a training fold only (PROTOCOLS.md Survival).

Numeric: median imputation then standardization. Categorical: one-hot, levels seen in fewer than
1 % of the training rows pooled into one "infrequent" column, and levels never seen in training
sent to that pool too (``OneHotEncoder(min_frequency=0.01, handle_unknown="infrequent_if_exist")``;
if the training fold has no rare level, an unseen level becomes all zeros, i.e. the reference).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from shared.errors import UserError

log = logging.getLogger(__name__)


class SurvivalPreprocessor:
    """``fit`` on training covariates, ``transform`` any fold or new patients to a float32 matrix."""

    def __init__(self, numeric: Sequence[str], categorical: Sequence[str], *, min_frequency: float = 0.01) -> None:
        if not 0.0 <= min_frequency < 1.0:
            raise UserError(f"min_frequency must be in [0, 1), got {min_frequency}; use 0.01 for 1 %")
        if not numeric and not categorical:
            raise UserError("no covariates: pass at least one numeric or categorical column")
        self.numeric = list(numeric)
        self.categorical = list(categorical)
        self.min_frequency = float(min_frequency)
        self._transformer: Any = None

    @property
    def columns(self) -> list[str]:
        return self.numeric + self.categorical

    def _prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"covariates must be a pandas DataFrame, got {type(frame).__name__}")
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise UserError(f"covariate column(s) {missing} are missing; the model was trained with columns "
                             f"{self.columns}")
        out = pd.DataFrame(index=frame.index)
        for column in self.numeric:
            values = pd.to_numeric(frame[column], errors="coerce")
            bad = values.isna() & frame[column].notna()
            if bad.any():
                raise UserError(f"numeric covariate {column!r} has {int(bad.sum())} non-numeric value(s) "
                                 f"(e.g. {frame[column][bad].iloc[0]!r}); leave them empty or fix them")
            out[column] = values.astype(float)
        for column in self.categorical:
            series = frame[column]
            out[column] = series.astype(object).where(series.notna(), "missing").map(str)
        return out

    def fit(self, frame: pd.DataFrame) -> "SurvivalPreprocessor":
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        parts = []
        if self.numeric:
            parts.append(("numeric", Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                                               ("scale", StandardScaler())]), self.numeric))
        if self.categorical:
            min_freq = self.min_frequency if self.min_frequency > 0 else None
            parts.append(("categorical", OneHotEncoder(min_frequency=min_freq, handle_unknown="infrequent_if_exist",
                                                       sparse_output=False, dtype=np.float32), self.categorical))
        self._transformer = ColumnTransformer(parts, verbose_feature_names_out=False)
        self._transformer.fit(self._prepare(frame))
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        if self._transformer is None:
            raise UserError("the preprocessor is not fitted; call fit(training_covariates) first")
        import warnings

        with warnings.catch_warnings():
            # unseen levels are expected (they go to the infrequent pool); not worth a warning per fold
            warnings.filterwarnings("ignore", message="Found unknown categories")
            return np.asarray(self._transformer.transform(self._prepare(frame)), dtype=np.float32)

    def fit_transform(self, frame: pd.DataFrame) -> np.ndarray:
        return self.fit(frame).transform(frame)

    @property
    def feature_names(self) -> list[str]:
        if self._transformer is None:
            raise UserError("the preprocessor is not fitted; call fit(training_covariates) first")
        return [str(n) for n in self._transformer.get_feature_names_out()]

    @property
    def numeric_statistics(self) -> dict[str, dict[str, float]]:
        """Fitted medians, means and scales (for tests and the run's aggregates)."""
        if self._transformer is None or not self.numeric:
            return {}
        pipe = self._transformer.named_transformers_["numeric"]
        imp, sc = pipe.named_steps["impute"], pipe.named_steps["scale"]
        return {c: {"median": float(imp.statistics_[i]), "mean": float(sc.mean_[i]), "scale": float(sc.scale_[i])}
                for i, c in enumerate(self.numeric)}
