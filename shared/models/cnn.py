"""CNN family: 2-D convolutions for images, 1-D convolutions for sequences (series, token ids)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import _checks as check
from ._keras import keras
from ._layers import norm_layer, output_head, regularizer

_POOLINGS = ("max", "average")


def build_cnn2d(*, input_shape: Sequence[int], filters: Sequence[int] = (32, 64), kernel_size: int = 3,
                pool_size: int = 2, dense_units: Sequence[int] = (64,), dropout: float = 0.0, l2: float = 0.0,
                normalization: str | None = "batch", outputs: int = 10, output_activation: str | None = "softmax",
                name: str = "cnn2d") -> Any:
    """Image classifier: [conv → norm → relu → max-pool] per entry of ``filters``, then dense layers.

    ``input_shape`` is (height, width, channels). Pooling stops once the map is 1 pixel wide,
    so small images such as 8×8 digits work with several blocks.
    """
    if not isinstance(input_shape, Sequence) or len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}; "
                         "add a channel axis for grey images, e.g. (8, 8, 1)")
    height, width, _ = (check.positive_int(f"input_shape[{i}]", v) for i, v in enumerate(input_shape))
    filters = check.positive_ints("filters", filters)
    check.positive_int("kernel_size", kernel_size)
    check.positive_int("pool_size", pool_size)
    dense_units = check.positive_ints("dense_units", dense_units, allow_empty=True)
    dropout = check.rate("dropout", dropout)
    l2 = check.non_negative("l2", l2)
    check.choice("normalization", normalization, check.NORMALIZATIONS)
    check.positive_int("outputs", outputs)
    k = keras()
    inputs = k.Input(tuple(input_shape), name="image")
    x = inputs
    size = min(height, width)
    for i, f in enumerate(filters):
        x = k.layers.Conv2D(f, kernel_size, padding="same", kernel_regularizer=regularizer(l2), name=f"conv_{i}")(x)
        layer = norm_layer(normalization, f"norm_{i}")
        if layer is not None:
            x = layer(x)
        x = k.layers.Activation("relu", name=f"relu_{i}")(x)
        if size >= 2 * pool_size:
            x = k.layers.MaxPooling2D(pool_size, name=f"pool_{i}")(x)
            size //= pool_size
    x = k.layers.GlobalAveragePooling2D(name="global_pool")(x) if size > 2 else k.layers.Flatten(name="flatten")(x)
    for i, units in enumerate(dense_units):
        if dropout > 0:
            x = k.layers.Dropout(dropout, name=f"dropout_{i}")(x)
        x = k.layers.Dense(units, activation="relu", kernel_regularizer=regularizer(l2), name=f"dense_{i}")(x)
    if dropout > 0:
        x = k.layers.Dropout(dropout, name="dropout_out")(x)
    return k.Model(inputs, output_head(x, outputs=outputs, activation=output_activation, l2=l2), name=name)


def conv1d_encoder(x: Any, *, filters: int, kernel_sizes: Sequence[int], pooling: str, dropout: float,
                   l2: float, norm: str | None, prefix: str = "conv") -> Any:
    """Parallel 1-D convolutions of several widths, each globally pooled, concatenated (Kim 2014).

    Shared by ``build_cnn1d`` and the NLP family's convolutional text encoder.
    """
    k = keras()
    pool = k.layers.GlobalMaxPooling1D if pooling == "max" else k.layers.GlobalAveragePooling1D
    branches = []
    for width in kernel_sizes:
        h = k.layers.Conv1D(filters, width, padding="same", kernel_regularizer=regularizer(l2),
                            name=f"{prefix}_{width}")(x)
        layer = norm_layer(norm, f"{prefix}_{width}_norm")
        if layer is not None:
            h = layer(h)
        h = k.layers.Activation("relu", name=f"{prefix}_{width}_relu")(h)
        branches.append(pool(name=f"{prefix}_{width}_pool")(h))
    x = branches[0] if len(branches) == 1 else k.layers.Concatenate(name=f"{prefix}_concat")(branches)
    if dropout > 0:
        x = k.layers.Dropout(dropout, name=f"{prefix}_dropout")(x)
    return x


def build_cnn1d(*, input_steps: int, n_features: int, filters: int = 32, kernel_sizes: Sequence[int] = (3, 5),
                pooling: str = "max", dense_units: Sequence[int] = (), dropout: float = 0.0, l2: float = 0.0,
                normalization: str | None = None, outputs: int = 1, output_activation: str | None = None,
                name: str = "cnn1d") -> Any:
    """1-D CNN over a (input_steps, n_features) sequence, many-to-one.

    Use it for windows of a time series (``outputs`` = forecast horizon, or horizon×quantiles)
    or for already-embedded text.
    """
    check.positive_int("input_steps", input_steps, hint="pass the window length")
    check.positive_int("n_features", n_features, hint="pass the number of features per time step")
    check.positive_int("filters", filters)
    kernel_sizes = check.positive_ints("kernel_sizes", kernel_sizes)
    check.choice("pooling", pooling, _POOLINGS)
    dense_units = check.positive_ints("dense_units", dense_units, allow_empty=True)
    dropout = check.rate("dropout", dropout)
    l2 = check.non_negative("l2", l2)
    check.choice("normalization", normalization, check.NORMALIZATIONS)
    check.positive_int("outputs", outputs)
    k = keras()
    inputs = k.Input((input_steps, n_features), name="sequence")
    x = conv1d_encoder(inputs, filters=filters, kernel_sizes=kernel_sizes, pooling=pooling, dropout=dropout,
                       l2=l2, norm=normalization)
    for i, units in enumerate(dense_units):
        x = k.layers.Dense(units, activation="relu", kernel_regularizer=regularizer(l2), name=f"dense_{i}")(x)
    return k.Model(inputs, output_head(x, outputs=outputs, activation=output_activation, l2=l2), name=name)
