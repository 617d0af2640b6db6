"""RNN family: stacked LSTM/GRU, optionally bidirectional, many-to-one or many-to-many."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import _checks as check
from ._keras import keras
from ._layers import norm_layer, output_head, regularizer

CELLS = ("lstm", "gru")


def recurrent_encoder(x: Any, *, units: Sequence[int], cell: str, bidirectional: bool, dropout: float,
                      recurrent_dropout: float, l2: float, norm: str | None, return_sequences: bool,
                      prefix: str = "rnn") -> Any:
    """Stack of recurrent layers; the last returns sequences only if ``return_sequences``.

    Shared by ``build_rnn`` and the NLP family's recurrent text encoder.
    """
    k = keras()
    layer_cls = k.layers.LSTM if cell == "lstm" else k.layers.GRU
    for i, n in enumerate(units):
        last = i == len(units) - 1
        layer = layer_cls(n, return_sequences=return_sequences or not last, dropout=dropout,
                          recurrent_dropout=recurrent_dropout, kernel_regularizer=regularizer(l2),
                          name=f"{prefix}_{cell}_{i}")
        x = k.layers.Bidirectional(layer, name=f"{prefix}_bi_{i}")(x) if bidirectional else layer(x)
        normalizer = norm_layer(norm, f"{prefix}_norm_{i}")
        if normalizer is not None:
            x = normalizer(x)
    return x


def build_rnn(*, input_steps: int, n_features: int, units: Sequence[int] = (64,), cell: str = "lstm",
              bidirectional: bool = False, dropout: float = 0.0, recurrent_dropout: float = 0.0,
              l2: float = 0.0, normalization: str | None = None, dense_units: Sequence[int] = (),
              outputs: int = 1, output_activation: str | None = None, return_sequences: bool = False,
              name: str = "rnn") -> Any:
    """Recurrent network over (input_steps, n_features) windows.

    Many-to-one (default): output (batch, outputs), e.g. next value or the next ``outputs``
    days directly. Many-to-many (``return_sequences=True``): output (batch, input_steps,
    outputs), one prediction per step. ``normalization="layer"`` is the usual choice for RNNs.
    """
    check.positive_int("input_steps", input_steps, hint="pass the window length")
    check.positive_int("n_features", n_features, hint="pass the number of features per time step")
    units = check.positive_ints("units", units)
    check.choice("cell", cell, CELLS)
    dropout = check.rate("dropout", dropout)
    recurrent_dropout = check.rate("recurrent_dropout", recurrent_dropout)
    l2 = check.non_negative("l2", l2)
    check.choice("normalization", normalization, check.NORMALIZATIONS)
    dense_units = check.positive_ints("dense_units", dense_units, allow_empty=True)
    check.positive_int("outputs", outputs)
    k = keras()
    inputs = k.Input((input_steps, n_features), name="sequence")
    x = recurrent_encoder(inputs, units=units, cell=cell, bidirectional=bool(bidirectional), dropout=dropout,
                          recurrent_dropout=recurrent_dropout, l2=l2, norm=normalization,
                          return_sequences=return_sequences)
    for i, n in enumerate(dense_units):
        x = k.layers.Dense(n, activation="relu", kernel_regularizer=regularizer(l2), name=f"dense_{i}")(x)
    return k.Model(inputs, output_head(x, outputs=outputs, activation=output_activation, l2=l2), name=name)
