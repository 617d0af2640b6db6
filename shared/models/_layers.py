"""Small layer helpers used by several families (normalization, regularizers, output heads)."""

from __future__ import annotations

from typing import Any

from ._keras import keras


def regularizer(l2: float) -> Any:
    return keras().regularizers.L2(l2) if l2 > 0 else None


def norm_layer(kind: str | None, name: str) -> Any:
    k = keras()
    if kind == "batch":
        return k.layers.BatchNormalization(name=name)
    if kind == "layer":
        return k.layers.LayerNormalization(name=name)
    return None


def output_head(x: Any, *, outputs: int, activation: str | None, l2: float, name: str = "output") -> Any:
    return keras().layers.Dense(outputs, activation=activation, kernel_regularizer=regularizer(l2), name=name)(x)
