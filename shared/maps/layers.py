"""What a trained Keras model computes inside: the vectors a learned map shows."""

from __future__ import annotations

from typing import Any

import numpy as np


def _layer(model: Any, name: str) -> Any:
    try:
        return model.get_layer(name)
    except ValueError:
        raise ValueError(f"model {model.name!r} has no layer {name!r}; its layers are "
                         f"{[each.name for each in model.layers]}") from None


def _run_to(model: Any, tensor: Any, x: Any, batch_size: int) -> np.ndarray:
    """``model``'s inputs -> ``tensor`` (one of its intermediate tensors), evaluated on ``x``."""
    from shared.models._keras import keras

    return np.asarray(keras().Model(model.inputs, tensor).predict(x, batch_size=batch_size, verbose=0))


def layer_output(model: Any, x: Any, *, layer: str, batch_size: int = 1024) -> np.ndarray:
    """The output of ``model``'s layer ``layer`` for the inputs ``x`` (as the model takes them), (n, ...)."""
    return _run_to(model, _layer(model, layer).output, x, batch_size)


def head_input(model: Any, x: Any, *, head: str = "output", batch_size: int = 1024) -> np.ndarray:
    """What ``model`` feeds its head layer ``head`` for the inputs ``x``: the last learned representation
    (every family's builder names its prediction layer ``output``), (n, width)."""
    return _run_to(model, _layer(model, head).input, x, batch_size)
