"""One global quantile forecaster over all routes, built around the shared RNN or 1D-CNN.

The shared builder (``build_rnn`` or ``build_cnn1d``) is the encoder of the past window; this
module wraps it in a small functional model that adds what is specific to the case study:

    past (window, F) ─> shared encoder ─┐
                                        ├─> dense ─> per-day context (horizon, c) ─┐
    route id ─> learned embedding ──────┘                                          ├─> per-day MLP ─┐
    future (horizon, G): target days' calendar, last week's values ────────────────┘                │
                                                                             (horizon, quantiles) <─┘

The per-day MLP is the same for every target day (an MQ-CNN-style "local" decoder), so what it
learns about, say, the day after a major holiday applies at every lead time. Outputs are the
quantiles of the scaled residual against the seasonal-naive reference; quantile crossing is
removed by sorting at prediction time.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .features import CovariateScaler, SeriesScaler, WindowMaker, pairs

log = logging.getLogger(__name__)

FAMILIES = ("rnn", "cnn1d")


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    family: str = "rnn"
    cell: str = "lstm"
    units: int = 64
    filters: int = 32
    embedding_dim: int = 8
    context: int = 16
    hidden: int = 32
    dropout: float = 0.1
    l2: float = 0.0

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"model family must be one of {FAMILIES}, got {self.family!r}")
        for name in ("units", "filters", "embedding_dim", "context", "hidden"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if not self.l2 >= 0.0:
            raise ValueError(f"l2 must be >= 0, got {self.l2}")


def build_global_model(spec: NetworkSpec, *, window: int, horizon: int, n_past_features: int,
                       n_future_features: int, n_series: int, n_quantiles: int) -> Any:
    """The uncompiled functional model (inputs ``past``, ``future``, ``route``)."""
    from shared.models import build_cnn1d, build_rnn
    from shared.models._keras import keras

    k = keras()
    reg = k.regularizers.L2(spec.l2) if spec.l2 > 0 else None
    if spec.family == "rnn":
        encoder = build_rnn(input_steps=window, n_features=n_past_features, units=(spec.units,), cell=spec.cell,
                            dropout=spec.dropout, l2=spec.l2, outputs=spec.units,
                            output_activation="relu", name="rnn_encoder")
    else:
        encoder = build_cnn1d(input_steps=window, n_features=n_past_features, filters=spec.filters,
                              kernel_sizes=(3, 7, 14), pooling="max", dropout=spec.dropout,
                              l2=spec.l2, dense_units=(), outputs=spec.units, output_activation="relu", name="cnn1d_encoder")
    past = k.Input((window, n_past_features), name="past")
    future = k.Input((horizon, n_future_features), name="future")
    route = k.Input((), dtype="int32", name="route")
    encoded = encoder(past)
    embedded = k.layers.Embedding(n_series, spec.embedding_dim, name="route_embedding")(route)
    summary = k.layers.Concatenate(name="summary")([encoded, embedded])
    context = k.layers.Dense(horizon * spec.context, activation="relu", kernel_regularizer=reg, name="context")(summary)
    context = k.layers.Reshape((horizon, spec.context), name="per_day_context")(context)
    x = k.layers.Concatenate(name="per_day_inputs")([context, future])
    x = k.layers.Dense(spec.hidden, activation="relu", kernel_regularizer=reg, name="local_mlp")(x)
    if spec.dropout > 0:
        x = k.layers.Dropout(spec.dropout, name="local_dropout")(x)
    out = k.layers.Dense(n_quantiles, name="quantiles")(x)
    return k.Model({"past": past, "future": future, "route": route}, out, name=f"global_{spec.family}")


@dataclasses.dataclass
class TrainSettings:
    epochs: int = 60
    batch_size: int = 128
    learning_rate: float = 2e-3
    patience: int = 8
    val_days: int = 42


class GlobalForecaster:
    """Fit once on the days before the first origin; then forecast from the true history at any origin.

    ``forecast_quantiles(history)`` uses only ``history`` (series × days before the origin) and
    the known calendar, and returns (series, horizon, quantiles) in demand units.
    """

    def __init__(self, spec: NetworkSpec, *, window: int, horizon: int, quantiles: Sequence[float],
                 calendar: np.ndarray, n_series: int, covariates: Sequence[str] = ()) -> None:
        self.spec = spec
        self.quantiles = tuple(float(q) for q in quantiles)
        self.horizon = horizon
        self.covariate_names = tuple(covariates)
        self.windows = WindowMaker(window=window, horizon=horizon, calendar=np.asarray(calendar, dtype="float32"),
                                   n_covariates=len(self.covariate_names))
        self.n_series = n_series
        self.model: Any = None
        self.scaler: SeriesScaler | None = None
        self.covariate_scaler: CovariateScaler | None = None
        self.history: dict[str, list[float]] = {}
        self.seconds_per_epoch: float | None = None
        self.epoch_seconds: list[float] = []
        self.train_samples = 0

    @property
    def name(self) -> str:
        return self.spec.family

    def _covariates(self, covariates: dict[str, np.ndarray] | None, end: int | None) -> list[np.ndarray]:
        if not self.covariate_names:
            return []
        missing = [c for c in self.covariate_names if not covariates or c not in covariates]
        if missing:
            raise ValueError(f"the model was set up with covariates {list(self.covariate_names)}; pass {missing}")
        part = {c: np.asarray(covariates[c], dtype=float)[:, :end] for c in self.covariate_names}
        if self.covariate_scaler is None:
            raise ValueError("the forecaster is not fitted; call fit(...) first")
        return self.covariate_scaler.transform(part)

    def fit(self, values: np.ndarray, *, end: int, settings: TrainSettings, seed: int,
            covariates: dict[str, np.ndarray] | None = None, run_dir: str | Path | None = None,
            verbose: int = 0) -> "GlobalForecaster":
        """Train on windows whose targets lie before day ``end`` (the first forecast origin).

        The scaler is fitted on days [0, end) and the values at or after ``end`` are never read.
        """
        from shared.losses import quantile_loss
        from shared.models._keras import keras
        from shared.training import fit_keras, set_seed, standard_callbacks

        from .features import training_origins

        values = np.asarray(values, dtype=float)
        if values.shape[0] != self.n_series:
            raise ValueError(f"values have {values.shape[0]} series, the model was set up for {self.n_series}")
        train = values[:, :end]  # nothing at or after the first origin is even passed on
        self.scaler = SeriesScaler.fit(train, end=end)
        z = self.scaler.transform(train)
        if self.covariate_names:
            self.covariate_scaler = CovariateScaler.fit({c: np.asarray((covariates or {})[c])[:, :end]
                                                         for c in self.covariate_names if c in (covariates or {})},
                                                        end=end)
        covs = self._covariates(covariates, end)
        fit_o, val_o = training_origins(min_origin=self.windows.min_origin, end=end, horizon=self.horizon,
                                        val_days=settings.val_days)
        fit_t, fit_s = pairs(fit_o, self.n_series)
        val_t, val_s = pairs(val_o, self.n_series)
        x_fit, y_fit = self.windows.inputs(z, fit_t, fit_s, covariates=covs), self.windows.targets(z, fit_t, fit_s)
        x_val, y_val = self.windows.inputs(z, val_t, val_s, covariates=covs), self.windows.targets(z, val_t, val_s)
        self.train_samples = len(y_fit)
        set_seed(seed)
        k = keras()
        self.model = build_global_model(self.spec, window=self.windows.window, horizon=self.horizon,
                                        n_past_features=self.windows.n_past_features,
                                        n_future_features=self.windows.n_future_features, n_series=self.n_series,
                                        n_quantiles=len(self.quantiles))
        self.model.compile(optimizer=k.optimizers.Adam(settings.learning_rate), loss=quantile_loss(self.quantiles))
        callbacks = standard_callbacks(run_dir, monitor="val_loss", patience=settings.patience,
                                       csv_log=run_dir is not None)
        clock: list[float] = []
        self.epoch_seconds = []
        callbacks.append(k.callbacks.LambdaCallback(
            on_epoch_begin=lambda epoch, logs: clock.append(time.perf_counter()),
            on_epoch_end=lambda epoch, logs: self.epoch_seconds.append(time.perf_counter() - clock[-1])))
        self.history = fit_keras(self.model, x_fit, y_fit, validation_data=(x_val, y_val), epochs=settings.epochs,
                                 batch_size=settings.batch_size, callbacks=callbacks, verbose=verbose, shuffle=True)
        # the first epoch includes graph tracing; the typical cost is the median of the later ones
        later = self.epoch_seconds[1:] or self.epoch_seconds
        self.seconds_per_epoch = float(np.median(later)) if later else None
        log.info("%s: %d fitting and %d validation windows, %d epochs, %.2f s/epoch", self.name, len(y_fit),
                 len(y_val), len(self.epoch_seconds), self.seconds_per_epoch or 0.0)
        return self

    def _require_fitted(self) -> None:
        if self.model is None or self.scaler is None:
            raise ValueError("the forecaster is not fitted; call fit(values, end=first_origin, ...) first")

    def forecast_many(self, values: np.ndarray, origins: Sequence[int], *,
                      covariates: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Quantile forecasts at several origins at once, (origins, series, horizon, quantiles).

        Each origin's inputs read only the days before it.
        """
        self._require_fitted()
        origins = np.asarray(origins, dtype=int)
        z = self.scaler.transform(values)
        t, s = pairs(origins, self.n_series)
        x = self.windows.inputs(z, t, s, covariates=self._covariates(covariates, None))
        ref = self.windows.reference(z, t, s)
        raw = np.asarray(self.model.predict(x, batch_size=1024, verbose=0), dtype=float)
        scaled = np.sort(raw, axis=-1) + ref[..., None]
        out = scaled.reshape(len(origins), self.n_series, self.horizon, len(self.quantiles))
        out = out * self.scaler.level[None, :, None, None]
        return np.clip(out, 0.0, None)

    def forecast_quantiles(self, history: np.ndarray, *,
                           covariates: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """(series, horizon, quantiles) at the origin ``history.shape[1]``."""
        history = np.asarray(history, dtype=float)
        return self.forecast_many(history, [history.shape[1]], covariates=covariates)[0]

    def forecast(self, history: np.ndarray, *, covariates: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """The median (or the middle quantile) as the point forecast, (series, horizon)."""
        return self.forecast_quantiles(history, covariates=covariates)[..., self.point_index]

    @property
    def point_index(self) -> int:
        return int(np.argmin([abs(q - 0.5) for q in self.quantiles]))
