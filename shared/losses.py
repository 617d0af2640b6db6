"""Losses shared by applications (compiled by the caller, as the builders return uncompiled models)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .models._keras import keras


def quantile_loss(quantiles: Sequence[float]) -> Any:
    """Pinball loss for a model whose last axis holds one output per quantile.

    ``y_true`` has shape (batch, horizon) and ``y_pred`` (batch, horizon, len(quantiles)), or
    (batch, len(quantiles)) against (batch,) / (batch, 1). The mean over quantiles and steps is
    returned; minimizing it makes each output the corresponding conditional quantile.
    """
    qs = [float(q) for q in quantiles]
    if not qs or any(not 0.0 < q < 1.0 for q in qs):
        raise ValueError(f"quantiles must be in (0, 1), got {list(quantiles)}; e.g. (0.1, 0.5, 0.9)")
    if sorted(qs) != qs or len(set(qs)) != len(qs):
        raise ValueError(f"quantiles must be strictly increasing, got {qs}")
    k = keras()
    ops = k.ops

    def loss(y_true: Any, y_pred: Any) -> Any:
        q = ops.convert_to_tensor(qs, dtype=y_pred.dtype)
        y_true = ops.cast(y_true, y_pred.dtype)
        if len(y_true.shape) == len(y_pred.shape):  # (batch, 1) against (batch, n_quantiles)
            err = y_true - y_pred
        else:
            err = ops.expand_dims(y_true, -1) - y_pred
        return ops.mean(ops.maximum(q * err, (q - 1.0) * err), axis=-1)

    loss.__name__ = "quantile_loss"
    return loss
