"""Transfer learning: copy what one model learned into another and fine-tune with a freeze schedule.

    copied = transfer_weights(pretrained, target)                # layers with equal names and shapes
    history = fine_tune(target, x, y, validation_data=(xv, yv), loss="mse",
                        schedule=[Stage(epochs=5, frozen=("rnn_",), learning_rate=1e-3),   # head only
                                  Stage(epochs=10, frozen=(), learning_rate=1e-4)])        # everything

Layer names are matched by prefix, so ``frozen=("text_", "token_embedding")`` freezes the NLP
family's encoder and embedding. Each stage recompiles (Keras needs it after changing
``trainable``) with its own learning rate.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from .models._keras import keras
from .training import fit_keras

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Stage:
    epochs: int
    frozen: tuple[str, ...] = ()
    learning_rate: float = 1e-3

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"a fine-tuning stage needs epochs >= 1, got {self.epochs}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")


def _layers(model: Any) -> list[Any]:
    """All layers, descending into nested sub-models (e.g. two-tower towers)."""
    out = []
    for layer in model.layers:
        out.append(layer)
        if hasattr(layer, "layers"):
            out.extend(_layers(layer))
    return out


def set_trainable(model: Any, *, frozen: Sequence[str] = ()) -> list[str]:
    """Freeze the layers whose name starts with one of ``frozen``; unfreeze every other layer.

    Returns the names of the frozen layers; an unknown prefix is an error (a typo would
    otherwise silently fine-tune everything).
    """
    names = [layer.name for layer in _layers(model)]
    unknown = [p for p in frozen if not any(n.startswith(p) for n in names)]
    if unknown:
        raise ValueError(f"no layer of {model.name!r} starts with {unknown}; layers are {names}")
    done = []
    for layer in _layers(model):
        layer.trainable = not any(layer.name.startswith(p) for p in frozen)
        if not layer.trainable:
            done.append(layer.name)
    return done


def transfer_weights(source: Any, target: Any, *, only: Sequence[str] | None = None) -> list[str]:
    """Copy weights from ``source`` into ``target`` for layers with the same name and weight shapes.

    ``only`` restricts to name prefixes. Layers that differ (e.g. a new output head) are skipped
    and logged; returns the names copied. Raises if nothing could be copied.
    """
    source_layers = {layer.name: layer for layer in _layers(source)}
    copied = []
    for layer in _layers(target):
        if only is not None and not any(layer.name.startswith(p) for p in only):
            continue
        if hasattr(layer, "layers"):  # nested model: its own layers are visited one by one
            continue
        match = source_layers.get(layer.name)
        if match is None or not layer.weights:
            continue
        src, dst = match.get_weights(), layer.get_weights()
        if len(src) != len(dst) or any(a.shape != b.shape for a, b in zip(src, dst)):
            log.info("transfer: %s has other shapes in the target, left as initialized", layer.name)
            continue
        layer.set_weights(src)
        copied.append(layer.name)
    if not copied:
        raise ValueError(f"no layer of {target.name!r} matches {source.name!r} by name and shape; build both "
                         "with the same family builder and options")
    return copied


def fine_tune(model: Any, x: Any, y: Any = None, *, validation_data: Any = None, schedule: Sequence[Stage],
              loss: Any, metrics: Sequence[Any] = (), batch_size: int | None = 64,
              callbacks: Sequence[Any] = (), verbose: int = 0) -> dict[str, list[float]]:
    """Train ``model`` stage by stage; returns the concatenated history with a ``stage`` entry."""
    if not schedule:
        raise ValueError("schedule is empty; pass at least one Stage(epochs=..)")
    k = keras()
    history: dict[str, list[float]] = {}
    for index, stage in enumerate(schedule):
        frozen = set_trainable(model, frozen=stage.frozen)
        log.info("fine-tune stage %d: %d epochs, lr %g, frozen %s", index + 1, stage.epochs, stage.learning_rate,
                 frozen or "nothing")
        model.compile(optimizer=k.optimizers.Adam(stage.learning_rate), loss=loss, metrics=list(metrics))
        part = fit_keras(model, x, y, validation_data=validation_data, epochs=stage.epochs, batch_size=batch_size,
                         callbacks=list(callbacks), verbose=verbose)
        for key, values in part.items():
            history.setdefault(key, []).extend(values)
        history.setdefault("stage", []).extend([float(index + 1)] * len(part.get("loss", [])))
    set_trainable(model, frozen=())
    return history
