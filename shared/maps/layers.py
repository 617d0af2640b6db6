"""What a trained Keras model computes at one of its layers: the vectors a learned map shows."""

from __future__ import annotations

from typing import Any

import numpy as np


def last_layer(model: Any, prefix: str) -> str:
    """Name of the model's last layer whose name starts with ``prefix`` (e.g. the last ``hidden_act``)."""
    names = [layer.name for layer in model.layers if layer.name.startswith(prefix)]
    if not names:
        raise ValueError(f"model {model.name!r} has no layer named {prefix}*; its layers are "
                         f"{[layer.name for layer in model.layers]}")
    return names[-1]


def layer_output(model: Any, x: Any, *, layer: str, batch_size: int = 1024) -> np.ndarray:
    """The output of ``model``'s layer ``layer`` for the inputs ``x`` (as the model takes them), (n, ...)."""
    from shared.models._keras import keras

    try:
        target = model.get_layer(layer)
    except ValueError:
        raise ValueError(f"model {model.name!r} has no layer {layer!r}; its layers are "
                         f"{[each.name for each in model.layers]}") from None
    probe = keras().Model(model.inputs, target.output)
    return np.asarray(probe.predict(x, batch_size=batch_size, verbose=0))


def head_input(model: Any, x: Any, *, head: str = "output", batch_size: int = 1024) -> np.ndarray:
    """What ``model`` feeds its head layer ``head`` for the inputs ``x``: the last learned representation
    (every family's builder names its prediction layer ``output``), (n, width)."""
    from shared.models._keras import keras

    try:
        target = model.get_layer(head)
    except ValueError:
        raise ValueError(f"model {model.name!r} has no layer {head!r}; its layers are "
                         f"{[each.name for each in model.layers]}") from None
    probe = keras().Model(model.inputs, target.input)
    return np.asarray(probe.predict(x, batch_size=batch_size, verbose=0))
