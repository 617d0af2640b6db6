"""The deep models and baselines of ``deepcases fit``, one ``fit``/``predict`` shape per task.

Every model fits its own preprocessing inside ``fit`` on the rows it is given (a training fold),
so nothing learnt from test rows can reach it. Deep models come from the shared families:
``build_mlp`` (tabular: classification, regression, the Cox risk network for survival),
``fit_text_vectorizer`` + ``build_text_classifier`` (text) and ``build_rnn`` (forecast windows).
Keras is imported only when a deep model is fitted.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from .config import FitConfig
from .preprocess import TabularPreprocessor

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------ Keras training
def _validation_split(n: int, fraction: float, seed: int, *, stratify: np.ndarray | None = None,
                      time_ordered: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """(fit positions, validation positions or None when there are too few rows for one)."""
    n_val = int(round(fraction * n))
    if n_val < 2 or n - n_val < 2:
        return np.arange(n), None
    if time_ordered:
        return np.arange(n - n_val), np.arange(n - n_val, n)
    if stratify is not None:
        from sklearn.model_selection import train_test_split

        counts = np.unique(stratify, return_counts=True)[1]
        if counts.min() >= 2 and n_val >= len(counts):
            fit, val = train_test_split(np.arange(n), test_size=n_val, random_state=seed, stratify=stratify)
            return np.sort(fit), np.sort(val)
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


#: runs of at most this many optimizer steps run eagerly: tracing the graph costs ~2 s of CPU, more than
#: a few hundred small eager steps (tiny tables, tests); the numbers agree up to float rounding
EAGER_MAX_STEPS = 200


def train_keras(model: Any, x: Any, y: np.ndarray, *, loss: Any, epochs: int, batch_size: int, seed: int,
                learning_rate: float = 1e-3, patience: int = 10, validation_fraction: float = 0.15,
                stratify: np.ndarray | None = None, time_ordered: bool = False, verbose: int = 0,
                metrics: list[str] | None = None, take: Any = None) -> tuple[dict[str, list[float]], int]:
    """Compile (Adam) and fit ``model``; returns (history, best epoch).

    With ``validation_fraction`` > 0: early stopping on that part of the rows (stratified on
    ``stratify``, or the latest rows with ``time_ordered``), best weights restored, at most ``epochs``.
    With ``validation_fraction`` 0 (e.g. the final model on all rows): exactly ``epochs`` epochs.
    ``take(x, positions)`` selects rows of ``x`` (default ``x[positions]``).
    """
    from shared.models._keras import keras
    from shared.training import fit_keras, standard_callbacks

    take = take or (lambda data, idx: data[idx])
    n = len(y)
    fit_idx, val_idx = (np.arange(n), None) if validation_fraction <= 0 else _validation_split(
        n, validation_fraction, seed, stratify=stratify, time_ordered=time_ordered)
    steps = epochs * -(-len(fit_idx) // batch_size)
    model.compile(optimizer=keras().optimizers.Adam(learning_rate), loss=loss, metrics=metrics or [],
                  run_eagerly=steps <= EAGER_MAX_STEPS)
    if val_idx is None:
        history = fit_keras(model, take(x, fit_idx), y[fit_idx], epochs=epochs, batch_size=batch_size,
                            verbose=verbose)
        return history, epochs
    callbacks = standard_callbacks(None, monitor="val_loss", patience=patience, csv_log=False)
    history = fit_keras(model, take(x, fit_idx), y[fit_idx], validation_data=(take(x, val_idx), y[val_idx]),
                        epochs=epochs, batch_size=batch_size, callbacks=callbacks, verbose=verbose)
    val = np.asarray(history.get("val_loss", []), dtype=float)
    best = int(np.nanargmin(val)) + 1 if val.size and np.isfinite(val).any() else len(history["loss"])
    return history, best


def _mlp(config: FitConfig, n_features: int, outputs: int, activation: str | None) -> Any:
    from shared.models import build_mlp

    return build_mlp(n_features=n_features, hidden_units=config.hidden_units, dropout=config.dropout, l2=config.l2,
                     outputs=outputs, output_activation=activation)


def predict_outputs(model: Any, x: Any) -> np.ndarray:
    """Model outputs as NumPy; small inputs go through one direct call (no predict graph to trace)."""
    n = int(x.shape[0]) if hasattr(x, "shape") else len(x)
    if n <= 4096:
        return np.asarray(model(x, training=False))
    return np.asarray(model.predict(x, verbose=0, batch_size=1024))


class DeepModel:
    """What the deep models share: the Keras model, its history and the epoch early stopping chose."""

    kind = "deep"
    model: Any = None
    history: dict[str, list[float]] | None = None
    best_epoch: int = 0

    def __init__(self, config: FitConfig, *, seed: int, verbose: int = 0) -> None:
        self.config, self.seed, self.verbose = config, seed, verbose

    def _start(self) -> None:
        from shared.training import set_seed

        set_seed(self.seed)

    def _train(self, x: Any, y: np.ndarray, *, epochs: int | None, loss: Any, batch_size: int | None = None,
               **kwargs: Any) -> None:
        """Early stopping on a validation part when ``epochs`` is None, else exactly ``epochs`` on all rows."""
        c = self.config
        self.history, self.best_epoch = train_keras(
            self.model, x, y, loss=loss, epochs=epochs or c.epochs, batch_size=batch_size or c.batch_size,
            seed=self.seed, learning_rate=c.learning_rate, patience=c.patience,
            validation_fraction=0.0 if epochs else c.validation_fraction, verbose=self.verbose, **kwargs)


# ------------------------------------------------------------------------- classification
class MLPClassifier(DeepModel):
    name = "mlp"

    def __init__(self, config: FitConfig, n_classes: int, kinds: dict[str, str], *, seed: int, verbose: int = 0):
        super().__init__(config, seed=seed, verbose=verbose)
        self.n_classes, self.kinds = n_classes, kinds

    def fit(self, X: pd.DataFrame, y: np.ndarray, *, epochs: int | None = None) -> "MLPClassifier":
        self._start()
        self.prep = TabularPreprocessor(self.kinds, rare_fraction=self.config.rare_category_fraction).fit(X)
        z = self.prep.transform(X)
        binary = self.n_classes == 2
        self.model = _mlp(self.config, z.shape[1], 1 if binary else self.n_classes, "sigmoid" if binary else "softmax")
        target = y.astype("float32") if binary else y.astype("int32")
        self._train(z, target, epochs=epochs, stratify=y, metrics=["accuracy"],
                    loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy")
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return probabilities(predict_outputs(self.model, self.prep.transform(X)), self.n_classes)


def probabilities(raw: np.ndarray, n_classes: int) -> np.ndarray:
    """Model output as an (n, k) probability matrix (a sigmoid column becomes [1 - p, p])."""
    raw = np.asarray(raw, dtype=float)
    if n_classes == 2:
        p = np.clip(raw.reshape(-1), 0.0, 1.0)
        return np.column_stack([1.0 - p, p])
    raw = np.clip(raw, 0.0, None)
    return raw / raw.sum(axis=1, keepdims=True)


class SklearnClassifier:
    """A scikit-learn classifier on the same preprocessing, probabilities aligned to all classes."""

    kind = "baseline"

    def __init__(self, name: str, make: Any, n_classes: int, kinds: dict[str, str], *, rare_fraction: float):
        self.name, self.make, self.n_classes = name, make, n_classes
        self.kinds, self.rare_fraction = kinds, rare_fraction

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> "SklearnClassifier":
        self.prep = TabularPreprocessor(self.kinds, rare_fraction=self.rare_fraction).fit(X)
        self.estimator = self.make().fit(self.prep.transform(X), y)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return aligned_proba(self.estimator, self.estimator.predict_proba(self.prep.transform(X)), self.n_classes)


def aligned_proba(estimator: Any, proba: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((proba.shape[0], n_classes))
    out[:, np.asarray(estimator.classes_, dtype=int)] = proba
    return out


def majority_classifier() -> Any:
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy="prior")


def logistic_regression(seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=5000, random_state=seed)


# ----------------------------------------------------------------------------- regression
class MLPRegressor(DeepModel):
    name = "mlp"

    def __init__(self, config: FitConfig, kinds: dict[str, str], *, seed: int, verbose: int = 0):
        super().__init__(config, seed=seed, verbose=verbose)
        self.kinds = kinds

    def fit(self, X: pd.DataFrame, y: np.ndarray, *, epochs: int | None = None) -> "MLPRegressor":
        self._start()
        self.prep = TabularPreprocessor(self.kinds, rare_fraction=self.config.rare_category_fraction).fit(X)
        z = self.prep.transform(X)
        y = np.asarray(y, dtype=float)
        self.y_mean, self.y_std = float(y.mean()), float(y.std()) or 1.0   # scaled on the training rows only
        self.model = _mlp(self.config, z.shape[1], 1, None)
        self._train(z, ((y - self.y_mean) / self.y_std).astype("float32"), epochs=epochs, loss="mse")
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return predict_outputs(self.model, self.prep.transform(X)).reshape(-1) * self.y_std + self.y_mean


class SklearnRegressor:
    kind = "baseline"

    def __init__(self, name: str, make: Any, kinds: dict[str, str], *, rare_fraction: float):
        self.name, self.make, self.kinds, self.rare_fraction = name, make, kinds, rare_fraction

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> "SklearnRegressor":
        self.prep = TabularPreprocessor(self.kinds, rare_fraction=self.rare_fraction).fit(X)
        self.estimator = self.make().fit(self.prep.transform(X), y)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.estimator.predict(self.prep.transform(X)), dtype=float).reshape(-1)


def mean_regressor() -> Any:
    from sklearn.dummy import DummyRegressor

    return DummyRegressor(strategy="mean")


def ridge_regressor() -> Any:
    """Ridge with the penalty chosen by efficient leave-one-out CV inside the training rows."""
    from sklearn.linear_model import RidgeCV

    return RidgeCV(alphas=np.logspace(-3, 3, 13))


# ------------------------------------------------------------------------------- survival
class DeepSurv(DeepModel):
    """MLP risk network trained with the Cox partial likelihood; Breslow baseline for S(t | x)."""

    name = "deepsurv"

    def __init__(self, config: FitConfig, kinds: dict[str, str], *, seed: int, verbose: int = 0):
        super().__init__(config, seed=seed, verbose=verbose)
        self.kinds = kinds

    def fit(self, X: pd.DataFrame, time: np.ndarray, event: np.ndarray, *, epochs: int | None = None) -> "DeepSurv":
        from shared.survival import BreslowBaseline, cox_ph_loss, survival_target

        self._start()
        self.prep = TabularPreprocessor(self.kinds, rare_fraction=self.config.rare_category_fraction).fit(X)
        z = self.prep.transform(X)
        self.model = _mlp(self.config, z.shape[1], 1, None)
        # risk sets are computed within a batch, so batches are large (the whole fold when it is small)
        batch = int(min(len(z), max(self.config.batch_size, 1024)))
        self._train(z, survival_target(time, event), epochs=epochs, loss=cox_ph_loss(), batch_size=batch,
                    stratify=np.asarray(event, int))
        self.baseline = BreslowBaseline().fit(self.risk(X), time, event)
        return self

    def risk(self, X: pd.DataFrame) -> np.ndarray:
        return predict_outputs(self.model, self.prep.transform(X)).reshape(-1).astype(float)

    def survival(self, X: pd.DataFrame, times: np.ndarray) -> np.ndarray:
        return self.baseline.survival(self.risk(X), times)


class CoxBaseline:
    """``sksurv.linear_model.CoxPHSurvivalAnalysis(alpha=0.01)`` on the same preprocessing."""

    name, kind = "cox_ph", "baseline"

    def __init__(self, kinds: dict[str, str], *, rare_fraction: float, alpha: float = 0.01):
        self.kinds, self.rare_fraction, self.alpha = kinds, rare_fraction, alpha

    def fit(self, X: pd.DataFrame, time: np.ndarray, event: np.ndarray) -> "CoxBaseline":
        from sksurv.linear_model import CoxPHSurvivalAnalysis

        from shared.evaluation import make_surv_array

        self.prep = TabularPreprocessor(self.kinds, rare_fraction=self.rare_fraction).fit(X)
        self.estimator = CoxPHSurvivalAnalysis(alpha=self.alpha).fit(self.prep.transform(X),
                                                                     make_surv_array(event, time))
        return self

    def risk(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.estimator.predict(self.prep.transform(X)), dtype=float)

    def survival(self, X: pd.DataFrame, times: np.ndarray) -> np.ndarray:
        fns = self.estimator.predict_survival_function(self.prep.transform(X))
        return np.array([fn(np.clip(times, fn.x[0], fn.x[-1])) for fn in fns])


class KaplanMeierBaseline:
    """One population curve for everyone (risk 0 for all: C = 0.5 by construction)."""

    name, kind = "kaplan_meier", "baseline"

    def fit(self, X: pd.DataFrame, time: np.ndarray, event: np.ndarray) -> "KaplanMeierBaseline":
        from sksurv.nonparametric import kaplan_meier_estimator

        self.times_, self.surv_ = kaplan_meier_estimator(np.asarray(event, bool), np.asarray(time, float))
        return self

    def risk(self, X: pd.DataFrame) -> np.ndarray:
        return np.zeros(len(X))

    def survival(self, X: pd.DataFrame, times: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self.times_, np.asarray(times, float), side="right") - 1
        curve = np.where(idx >= 0, self.surv_[np.clip(idx, 0, None)], 1.0)
        return np.tile(curve, (len(X), 1))


# ----------------------------------------------------------------------------------- text
class TextClassifier(DeepModel):
    """Vectorizer adapted on the training texts + embedding + encoder (NLP family)."""

    name = "text_classifier"

    def __init__(self, config: FitConfig, n_classes: int, *, seed: int, verbose: int = 0):
        super().__init__(config, seed=seed, verbose=verbose)
        self.n_classes = n_classes
        if config.text_encoder == "minilm":
            self.name = "minilm_frozen"

    def fit(self, texts: np.ndarray, y: np.ndarray, *, epochs: int | None = None) -> "TextClassifier":
        from shared.models import build_text_classifier, fit_text_vectorizer, text_batch

        self._start()
        texts = np.asarray(texts, dtype=object)
        if self.config.text_encoder == "minilm":   # pretrained, frozen: only the head learns from these texts
            from shared.models.pretrained_text import build_pretrained_text_classifier

            self.model = build_pretrained_text_classifier(n_classes=self.n_classes,
                                                          sequence_length=min(self.config.sequence_length, 512),
                                                          pooling="mean", trainable=False, dropout=self.config.dropout,
                                                          output="probabilities")
        else:
            vectorizer = fit_text_vectorizer(texts.astype(str), max_tokens=self.config.max_tokens,
                                             sequence_length=self.config.sequence_length)
            self.model = build_text_classifier(vectorizer=vectorizer, embedding_dim=self.config.embedding_dim,
                                               encoder=self.config.text_encoder, units=self.config.rnn_units,
                                               dropout=self.config.dropout, n_classes=self.n_classes)
        binary = self.n_classes == 2
        self._train(texts, y.astype("float32") if binary else y.astype("int32"), epochs=epochs, stratify=y,
                    loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy", metrics=["accuracy"],
                    take=lambda data, idx: text_batch(data[idx]))
        return self

    def predict_proba(self, texts: np.ndarray) -> np.ndarray:
        from shared.models import text_batch

        return probabilities(predict_outputs(self.model, text_batch(np.asarray(texts, dtype=object))), self.n_classes)


class TfidfLogistic:
    """TF-IDF of word 1-2-grams fitted on the training texts + logistic regression."""

    name, kind = "tfidf_logistic_regression", "baseline"

    def __init__(self, n_classes: int, *, seed: int):
        self.n_classes, self.seed = n_classes, seed

    def fit(self, texts: np.ndarray, y: np.ndarray) -> "TfidfLogistic":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        self.estimator = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                                       LogisticRegression(max_iter=5000, random_state=self.seed))
        self.estimator.fit(np.asarray(texts, dtype=str), y)
        return self

    def predict_proba(self, texts: np.ndarray) -> np.ndarray:
        proba = self.estimator.predict_proba(np.asarray(texts, dtype=str))
        return aligned_proba(self.estimator, proba, self.n_classes)


class MajorityText:
    name, kind = "majority", "baseline"

    def __init__(self, n_classes: int):
        self.n_classes = n_classes

    def fit(self, texts: np.ndarray, y: np.ndarray) -> "MajorityText":
        self.estimator = majority_classifier().fit(np.zeros((len(y), 1)), y)
        return self

    def predict_proba(self, texts: np.ndarray) -> np.ndarray:
        proba = self.estimator.predict_proba(np.zeros((len(texts), 1)))
        return aligned_proba(self.estimator, proba, self.n_classes)


# ------------------------------------------------------------------------------- forecast
class RNNForecaster(DeepModel):
    """LSTM/GRU over the last ``window`` values -> the next ``horizon`` values.

    Each window is expressed relative to its last value and divided by the spread of the training
    part's one-step changes, and the network predicts the changes from that last value. So the
    model starts from the naive forecast, is blind to the level (a trend beyond the training range
    does not push inputs out of range) and its only fitted statistic comes from the training part.
    """

    name = "rnn"

    def _windows(self, series: np.ndarray, origins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx = np.asarray(origins)[:, None] + np.arange(-self.config.window, 0)[None, :]
        last = series[np.asarray(origins) - 1][:, None]
        return ((series[idx] - last) / self.scale)[..., None].astype("float32"), last

    def fit(self, series: np.ndarray, *, epochs: int | None = None) -> "RNNForecaster":
        from shared.data import sliding_windows
        from shared.models import build_rnn

        self._start()
        series = np.asarray(series, dtype=float)
        w, h = self.config.window, self.config.horizon
        changes = np.diff(series)
        self.scale = float(changes.std()) if changes.size and changes.std() > 1e-12 else 1.0   # training part only
        x, y = sliding_windows(series, window=w, horizon=h)           # every window inside the training part
        last = x[:, -1, :]                                             # (samples, 1): the value before the origin
        x = ((x - last[:, None, :]) / self.scale).astype("float32")
        y = ((y - last) / self.scale).astype("float32")
        self.model = build_rnn(input_steps=w, n_features=1, units=self.config.rnn_units, cell=self.config.cell,
                               dropout=self.config.dropout, outputs=h)
        self._train(x, y, epochs=epochs, loss="mse", time_ordered=True)
        return self

    def forecast(self, series: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """(len(origins), horizon): for origin t, the values at t .. t+horizon-1 from series[t-window:t]."""
        x, last = self._windows(np.asarray(series, dtype=float), origins)
        return last + predict_outputs(self.model, x).reshape(len(origins), self.config.horizon) * self.scale


class NaiveForecaster:
    """Last observed value, repeated over the horizon."""

    name, kind = "naive", "baseline"

    def __init__(self, horizon: int):
        self.horizon = horizon

    def fit(self, series: np.ndarray) -> "NaiveForecaster":
        return self

    def forecast(self, series: np.ndarray, origins: np.ndarray) -> np.ndarray:
        series = np.asarray(series, dtype=float)
        return np.repeat(series[np.asarray(origins) - 1][:, None], self.horizon, axis=1)


class SeasonalNaiveForecaster:
    """The value one season earlier: y(t + k) = y(t + k - m * (k // m + 1))."""

    name, kind = "seasonal_naive", "baseline"

    def __init__(self, horizon: int, season: int):
        self.horizon, self.season = horizon, season

    def fit(self, series: np.ndarray) -> "SeasonalNaiveForecaster":
        return self

    def forecast(self, series: np.ndarray, origins: np.ndarray) -> np.ndarray:
        series = np.asarray(series, dtype=float)
        k = np.arange(self.horizon)
        idx = np.asarray(origins)[:, None] + k[None, :] - self.season * (k[None, :] // self.season + 1)
        return series[idx]
