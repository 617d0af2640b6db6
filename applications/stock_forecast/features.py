"""Model inputs and targets: windows of past log returns (+ volume/range), scaled on the train span.

Row ``t`` of the price frame is a trading day. A forecast *origin* ``t`` predicts the close of
day ``t`` (and, for ``horizon`` H, of days t … t+H-1) from the history of days < t only:

    inputs  x_t = features[t-window : t]                  (feature of day i uses days <= i)
    targets y_t[k] = log(close[t+k] / close[t-1])           k = 0 … H-1  (cumulative log return)
    price forecast  close[t+k] ≈ close[t-1] · exp(ŷ_t[k])

Features per day i: ``ret`` = log(close_i/close_{i-1}); optional ``volume`` = log(volume_i /
mean volume of the previous 20 days) and ``range`` = log(high_i/low_i). Means and standard
deviations come from days of the training span only (:class:`TrainScaler`), so nothing about
validation or test days leaks into the inputs or the target scale.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd
from shared.errors import UserError

FEATURES = ("ret", "volume", "range")
_VOLUME_LOOKBACK = 20


def log_returns(close: np.ndarray) -> np.ndarray:
    """``r[i] = log(close[i] / close[i-1])``; ``r[0]`` is NaN."""
    close = np.asarray(close, dtype=float)
    out = np.full(close.shape, np.nan)
    out[1:] = np.diff(np.log(close))
    return out


def feature_matrix(frame: pd.DataFrame, features: Sequence[str]) -> np.ndarray:
    """(days, len(features)) raw features; each day's value uses that day and earlier days only.

    Leading days without a value (the first return, the volume look-back) are NaN.
    """
    unknown = [f for f in features if f not in FEATURES]
    if unknown or not features:
        raise UserError(f"features must be a non-empty subset of {list(FEATURES)}, got {list(features)}")
    if features[0] != "ret":
        raise UserError(f"the first feature must be 'ret' (log return), got {list(features)}")
    columns = []
    for name in features:
        if name == "ret":
            columns.append(log_returns(frame["close"].to_numpy()))
        elif name == "volume":
            if "volume" not in frame.columns:
                raise UserError("feature 'volume' needs a volume column, which this data lacks; "
                                 "drop it from --features")
            vol = frame["volume"].to_numpy(dtype=float)
            past = pd.Series(vol).rolling(_VOLUME_LOOKBACK).mean().shift(1).to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                col = np.log((vol + 1.0) / (past + 1.0))
            columns.append(np.where(np.isfinite(col), col, np.nan))
        else:
            missing = [c for c in ("high", "low") if c not in frame.columns]
            if missing:
                raise UserError(f"feature 'range' needs high and low columns, this data lacks {missing}; "
                                 "drop it from --features")
            columns.append(np.log(frame["high"].to_numpy(dtype=float) / frame["low"].to_numpy(dtype=float)))
    return np.column_stack(columns)


def first_valid_day(features: np.ndarray) -> int:
    """First day from which every feature is defined (1 for returns, ~21 with volume)."""
    ok = np.all(np.isfinite(features), axis=1)
    if not ok.any():
        raise UserError("no day has every feature defined; the series is too short for these features")
    return int(np.argmax(ok))


@dataclasses.dataclass(frozen=True)
class TrainScaler:
    """Standardization of inputs (per feature) and targets (per horizon step), fitted on the
    training span only."""

    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: np.ndarray
    y_std: np.ndarray

    @classmethod
    def fit(cls, features: np.ndarray, targets: np.ndarray, *, train_end: int, first_day: int) -> "TrainScaler":
        """``features`` rows first_day..train_end-1 and training-window ``targets`` only."""
        rows = features[first_day:train_end]
        if len(rows) < 2 or not np.all(np.isfinite(rows)):
            raise UserError("the training span has too few complete feature rows to fit the scaler; "
                             "use a longer series")
        x_std = rows.std(axis=0)
        y_std = targets.std(axis=0)
        return cls(x_mean=rows.mean(axis=0), x_std=np.where(x_std > 0, x_std, 1.0),
                   y_mean=targets.mean(axis=0), y_std=np.where(y_std > 0, y_std, 1.0))

    def transform_x(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.x_mean) / self.x_std).astype("float32")

    def transform_y(self, y: np.ndarray) -> np.ndarray:
        return ((y - self.y_mean) / self.y_std).astype("float32")

    def inverse_y(self, y_scaled: np.ndarray) -> np.ndarray:
        """Scaled targets back to log returns; works on (n, H) and (n, H, quantiles)."""
        y_scaled = np.asarray(y_scaled, dtype=float)
        if y_scaled.ndim == 3:
            return y_scaled * self.y_std[None, :, None] + self.y_mean[None, :, None]
        return y_scaled * self.y_std + self.y_mean


def cumulative_targets(close: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """(len(origins), horizon): log(close[t+k]/close[t-1]); NaN where t+k is past the end."""
    logc = np.log(np.asarray(close, dtype=float))
    idx = origins[:, None] + np.arange(horizon)[None, :]
    out = np.full(idx.shape, np.nan)
    ok = idx < len(logc)
    out[ok] = logc[idx[ok]] - logc[np.broadcast_to(origins[:, None] - 1, idx.shape)[ok]]
    return out


def windows_at(features: np.ndarray, origins: np.ndarray, window: int) -> np.ndarray:
    """(len(origins), window, n_features): ``features[t-window:t]`` for each origin t."""
    idx = origins[:, None] + np.arange(-window, 0)[None, :]
    if idx.min() < 0:
        raise UserError(f"origin {int(origins.min())} is too early for window {window}")
    return features[idx]


@dataclasses.dataclass(frozen=True)
class SupervisedData:
    """Scaled windows for train/validation/test and what is needed to turn outputs into prices."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    test_origins: np.ndarray
    val_origins: np.ndarray
    train_origins: np.ndarray
    scaler: TrainScaler


def make_supervised(frame: pd.DataFrame, *, features: Sequence[str], window: int, horizon: int,
                    train: np.ndarray, val: np.ndarray, test: np.ndarray) -> SupervisedData:
    """Windows whose targets stay inside their own span (train targets < end of train, validation
    targets < end of validation), one test window per test day (its targets may run past the end;
    multi-step scores skip those)."""
    raw = feature_matrix(frame, features)
    close = frame["close"].to_numpy(dtype=float)
    first = first_valid_day(raw)
    start = first + window
    train_end, val_end = int(train[-1]) + 1, int(val[-1]) + 1
    train_origins = np.arange(max(start, int(train[0])), train_end - horizon + 1)
    val_origins = np.arange(max(start, int(val[0])), val_end - horizon + 1)
    test_origins = np.asarray(test, dtype=int)
    if len(train_origins) < 2 or len(val_origins) < 1:
        raise UserError(f"the time split leaves {len(train_origins)} training and {len(val_origins)} validation "
                         f"windows for window {window} and horizon {horizon}; use a longer series or a smaller "
                         "--window/--horizon")
    if test_origins.min() < start:
        raise UserError(f"the test span starts at day {int(test_origins.min())}, before the first full window "
                         f"(day {start}); use a longer series or a smaller --window")
    y_train_raw = cumulative_targets(close, train_origins, horizon)
    scaler = TrainScaler.fit(raw, y_train_raw, train_end=train_end, first_day=first)
    scaled = scaler.transform_x(np.nan_to_num(raw, nan=0.0))
    return SupervisedData(
        x_train=windows_at(scaled, train_origins, window), y_train=scaler.transform_y(y_train_raw),
        x_val=windows_at(scaled, val_origins, window),
        y_val=scaler.transform_y(cumulative_targets(close, val_origins, horizon)),
        x_test=windows_at(scaled, test_origins, window), test_origins=test_origins, val_origins=val_origins,
        train_origins=train_origins, scaler=scaler)


def windows_for_forecast(frame: pd.DataFrame, *, features: Sequence[str], window: int, scaler: TrainScaler
                         ) -> np.ndarray:
    """The single window ending on the last day, for forecasting the days after the data."""
    raw = feature_matrix(frame, features)
    scaled = scaler.transform_x(np.nan_to_num(raw, nan=0.0))
    return windows_at(scaled, np.array([len(frame)]), window)
