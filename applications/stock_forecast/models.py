"""The deep forecasters: shared LSTM/GRU (``build_rnn``) and 1-D CNN (``build_cnn1d``) with a
quantile head, trained with the shared pinball loss and early stopping on the validation span.

Each model maps a (window, n_features) input to (horizon, n_quantiles) scaled cumulative log
returns; the middle quantile (0.5) is the point forecast and the outer two the interval.
TensorFlow is imported inside the functions only.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MODELS = ("lstm", "gru", "cnn1d")


@dataclasses.dataclass(frozen=True)
class NetSettings:
    units: int = 32
    dropout: float = 0.1
    learning_rate: float = 1e-3
    batch_size: int = 64
    epochs: int = 40
    patience: int = 6
    l2: float = 0.0


def quantile_levels(level: float) -> tuple[float, float, float]:
    if not 0.0 < level < 1.0:
        raise ValueError(f"--interval must be in (0, 1), got {level}; e.g. 0.9 for a 90 % interval")
    lo = round((1.0 - level) / 2.0, 6)
    return (lo, 0.5, round(1.0 - lo, 6))


def build_forecaster(kind: str, *, window: int, n_features: int, horizon: int, quantiles: Sequence[float],
                     settings: NetSettings, name: str | None = None) -> Any:
    """Uncompiled shared-family network with a (horizon, quantiles) output."""
    from shared.models import build_cnn1d, build_rnn
    from shared.models._keras import keras

    if kind not in MODELS:
        raise ValueError(f"model must be one of {list(MODELS)}, got {kind!r}")
    outputs = horizon * len(quantiles)
    if kind == "cnn1d":
        base = build_cnn1d(input_steps=window, n_features=n_features, filters=settings.units,
                           kernel_sizes=(3, 5), pooling="average", dense_units=(settings.units,),
                           dropout=settings.dropout, l2=settings.l2, outputs=outputs, name=f"{kind}_base")
    else:
        base = build_rnn(input_steps=window, n_features=n_features, units=(settings.units,), cell=kind,
                         dropout=settings.dropout, l2=settings.l2, outputs=outputs, name=f"{kind}_base")
    k = keras()
    out = k.layers.Reshape((horizon, len(quantiles)), name="quantiles")(base.output)
    return k.Model(base.input, out, name=name or kind)


def compile_forecaster(model: Any, *, quantiles: Sequence[float], learning_rate: float) -> Any:
    from shared.losses import quantile_loss
    from shared.models._keras import keras

    model.compile(optimizer=keras().optimizers.Adam(learning_rate), loss=quantile_loss(quantiles))
    return model


def train_forecaster(kind: str, *, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray | None,
                     y_val: np.ndarray | None, horizon: int, quantiles: Sequence[float], settings: NetSettings,
                     seed: int, run_dir: Any = None, epochs: int | None = None, verbose: int = 0
                     ) -> tuple[Any, dict[str, list[float]]]:
    """Seed, build, compile and fit one model. With validation data: early stopping (best weights
    restored); without (the refit on all data): exactly ``epochs`` epochs."""
    from shared.training import fit_keras, set_seed, standard_callbacks

    set_seed(seed)
    model = build_forecaster(kind, window=x_train.shape[1], n_features=x_train.shape[2], horizon=horizon,
                             quantiles=quantiles, settings=settings)
    compile_forecaster(model, quantiles=quantiles, learning_rate=settings.learning_rate)
    if x_val is not None:
        callbacks = standard_callbacks(run_dir, monitor="val_loss", patience=settings.patience, csv_log=False)
        history = fit_keras(model, x_train, y_train, validation_data=(x_val, y_val), epochs=settings.epochs,
                            batch_size=settings.batch_size, callbacks=callbacks, verbose=verbose, shuffle=True)
    else:
        history = fit_keras(model, x_train, y_train, epochs=epochs or settings.epochs,
                            batch_size=settings.batch_size, verbose=verbose, shuffle=True)
    return model, history


def predict_quantiles(model: Any, x: np.ndarray, *, batch_size: int = 512) -> np.ndarray:
    """(n, horizon, quantiles) scaled outputs, sorted along the quantile axis (no crossing)."""
    from shared.models._keras import keras

    def numpy(t: Any) -> np.ndarray:
        return t.numpy() if hasattr(t, "numpy") else keras().ops.convert_to_numpy(t)

    # direct calls: no new tf.function per model (model.predict retraces for every fresh model)
    parts = [numpy(model(x[i:i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
    return np.sort(np.concatenate(parts).astype(float), axis=-1)


def best_epoch(history: dict[str, list[float]]) -> int:
    """1-based epoch with the lowest validation loss (the weights early stopping restored)."""
    val = history.get("val_loss") or history.get("loss")
    return int(np.argmin(val)) + 1
