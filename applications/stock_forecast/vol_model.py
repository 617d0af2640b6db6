"""The deep volatility forecaster: shared RNN / 1D-CNN on windows of past returns and ranges -> next-day log variance.

Inputs per day i (known at the close of day i): the return r_i, its size |r_i| and the log of the
Parkinson range variance ln(P_i + 0.01), standardized with training-span statistics. A window of
the ``window`` days before day t predicts the log variance z_t of r_t; the forecast is
f_t = exp(z_t + c), c = ln(mean training proxy), so an untrained network starts at the
training-span level. Loss: QLIKE of f_t against the chosen proxy of day t (QLIKE is the proper
loss for variance forecasts with a noisy proxy, Patton 2011: its minimizer is E[proxy]):
``parkinson``, ``r2`` (the Gaussian likelihood of returns, as in GARCH fitting) or ``both``
(their sum: its minimizer is the mean of the two proxies' expectations). Trained on the training
span, early stopping on the validation span.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .volatility import VolatilityData

VOL_PROXIES = ("parkinson", "r2", "both")
_FLOOR = 0.01  # %², keeps ln(P) finite on the (rare) days with High == Low


def vol_features(data: VolatilityData) -> np.ndarray:
    """(days, 3): r, |r|, ln(P + 0.01); row 0 (no return) is NaN."""
    r = data.returns
    return np.column_stack([r, np.abs(r), np.log(data.parkinson + _FLOOR)])


@dataclasses.dataclass(frozen=True)
class VolWindows:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    offset: float
    mean: np.ndarray
    std: np.ndarray


def vol_windows(data: VolatilityData, *, window: int) -> VolWindows:
    """Scaled windows; targets (P_t, r_t²) of each span stay inside it, scaler and offset from training days only."""
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    feats = vol_features(data)
    first = 1 + window  # the first day whose window holds only defined returns
    if data.train_end - first < 50:
        raise ValueError(f"the training span leaves {data.train_end - first} volatility windows for window {window}; "
                         "use a longer series or a smaller --window")
    rows = feats[1:data.train_end]
    mean, std = rows.mean(axis=0), rows.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    scaled = np.nan_to_num((feats - mean) / std, nan=0.0).astype("float32")
    targets = np.column_stack([data.parkinson, data.r2]).astype("float32")

    def at(origins: np.ndarray) -> np.ndarray:
        return scaled[origins[:, None] + np.arange(-window, 0)[None, :]]

    train = np.arange(first, data.train_end)
    val = np.arange(data.train_end, data.val_end)
    offset = float(math.log(np.mean(data.parkinson[1:data.train_end] + data.r2[1:data.train_end]) / 2.0))
    return VolWindows(x_train=at(train), y_train=targets[train], x_val=at(val), y_val=targets[val],
                      x_test=at(data.test), offset=offset, mean=mean, std=std)


def qlike_loss(proxy: str, offset: float) -> Any:
    """Keras loss: QLIKE of exp(z + offset) against the proxy columns (P, r²) of y_true (constants dropped)."""
    if proxy not in VOL_PROXIES:
        raise ValueError(f"vol proxy must be one of {VOL_PROXIES}, got {proxy!r}")
    from shared.models._keras import keras

    ops = keras().ops
    weights = {"parkinson": (1.0, 0.0), "r2": (0.0, 1.0), "both": (1.0, 1.0)}[proxy]

    def loss(y_true: Any, y_pred: Any) -> Any:
        z = ops.reshape(y_pred, (-1,)) + offset
        total = 0.0
        for col, w in enumerate(weights):
            if w:
                total = total + w * (y_true[:, col] * ops.exp(-z) + z)
        return ops.mean(total)

    return loss


def train_vol_model(kind: str, windows: VolWindows, *, units: int, dropout: float, learning_rate: float,
                    batch_size: int, epochs: int, patience: int, seed: int, proxy: str = "parkinson",
                    verbose: int = 0) -> tuple[Any, dict[str, list[float]]]:
    """Build (shared family, one output), compile with QLIKE, fit with early stopping on validation."""
    from shared.models import build_cnn1d, build_rnn
    from shared.models._keras import keras
    from shared.training import fit_keras, set_seed, standard_callbacks

    set_seed(seed)
    window, n_features = windows.x_train.shape[1:]
    if kind == "cnn1d":
        model = build_cnn1d(input_steps=window, n_features=n_features, filters=units, kernel_sizes=(3, 5),
                            pooling="average", dense_units=(units,), dropout=dropout, outputs=1,
                            name="vol_cnn1d")
    elif kind in ("lstm", "gru"):
        model = build_rnn(input_steps=window, n_features=n_features, units=(units,), cell=kind, dropout=dropout,
                          outputs=1, name=f"vol_{kind}")
    else:
        raise ValueError(f"volatility model must be lstm, gru or cnn1d, got {kind!r}")
    model.compile(optimizer=keras().optimizers.Adam(learning_rate), loss=qlike_loss(proxy, windows.offset))
    callbacks = standard_callbacks(None, monitor="val_loss", patience=patience, csv_log=False)
    history = fit_keras(model, windows.x_train, windows.y_train, validation_data=(windows.x_val, windows.y_val),
                        epochs=epochs, batch_size=batch_size, callbacks=callbacks, verbose=verbose, shuffle=True)
    return model, history


def predict_variance(model: Any, x: np.ndarray, offset: float, *, batch_size: int = 1024) -> np.ndarray:
    """Variance forecasts (%²) = exp(output + offset)."""
    parts = [np.asarray(model(x[i:i + batch_size], training=False)).reshape(-1) for i in range(0, len(x), batch_size)]
    return np.exp(np.concatenate(parts).astype(float) + offset)
