"""Sliding windows: turn a series into supervised (past window → future targets) samples."""

from __future__ import annotations

import numpy as np
from ..errors import UserError


def sliding_windows(values: np.ndarray, *, window: int, horizon: int = 1, target: np.ndarray | None = None,
                    stride: int = 1, start: int = 0, end: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Windows ``X[j] = values[t-window:t]`` and targets ``y[j] = target[t:t+horizon]``.

    ``values`` is (time,) or (time, features); ``target`` defaults to ``values`` (first feature if
    2-D). Forecast origins ``t`` run over [max(start, window), end - horizon] so no target lies at
    or after ``end``: pass ``end`` = the end of the training span to keep windows inside it.
    Returns X of shape (samples, window, features) and y of shape (samples, horizon).
    """
    values = np.asarray(values, dtype="float32")
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise UserError(f"values must be (time,) or (time, features), got shape {values.shape}")
    if target is None:
        target = values[:, 0]
    target = np.asarray(target, dtype="float32")
    if target.shape[0] != values.shape[0]:
        raise UserError(f"target has {target.shape[0]} steps but values have {values.shape[0]}; align them")
    for name, v in (("window", window), ("horizon", horizon), ("stride", stride)):
        if v < 1:
            raise UserError(f"{name} must be >= 1, got {v}")
    end = values.shape[0] if end is None else end
    first = max(start, window)
    origins = np.arange(first, end - horizon + 1, stride)
    if len(origins) == 0:
        raise UserError(f"series of {end} steps is too short for window {window} and horizon {horizon} "
                         f"(starting at {start}); need at least {first + horizon} steps")
    idx = origins[:, None] + np.arange(-window, 0)[None, :]
    X = values[idx]
    y = target[origins[:, None] + np.arange(horizon)[None, :]]
    return X, y
