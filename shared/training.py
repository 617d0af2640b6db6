"""Seeding, determinism, standard callbacks and a small fit helper."""

from __future__ import annotations

import logging
import os
import random
from pathlib import Path
from typing import Any

import numpy as np

from .models._keras import keras

log = logging.getLogger(__name__)


def set_seed(seed: int, *, deterministic: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow/Keras from one number.

    With ``deterministic`` TensorFlow ops are made deterministic too, so the same seed on the same
    machine gives the same weights and metrics (at some speed cost on GPU, none measurable on CPU).
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    k = keras()
    k.utils.set_random_seed(seed)  # python, numpy and the backend
    if deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def standard_callbacks(run_dir: str | Path | None = None, *, monitor: str = "val_loss", mode: str = "auto",
                       patience: int = 5, restore_best_weights: bool = True, checkpoint: bool = False,
                       backup: bool = False, tensorboard: bool = False, csv_log: bool = True,
                       progress: Any = None) -> list[Any]:
    """Early stopping with best weights, plus optional checkpoint, backup-and-restore, TensorBoard, CSV.

    Files go under ``run_dir``: ``checkpoint.keras`` (best model), ``backup/`` (resume after an
    interruption: rerun the same fit and it continues from the last finished epoch), ``logs/``
    (TensorBoard) and ``history.csv``.
    """
    k = keras()
    if patience < 0:
        raise ValueError(f"patience must be >= 0, got {patience}; use 0 to stop at the first bad epoch")
    callbacks: list[Any] = [k.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=patience,
                                                      restore_best_weights=restore_best_weights)]
    wants_files = checkpoint or backup or tensorboard or csv_log
    if wants_files and run_dir is None:
        raise ValueError("run_dir is required for checkpoint, backup, tensorboard or csv_log; "
                         "pass the run directory or switch those off")
    if run_dir is not None:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        if checkpoint:
            callbacks.append(k.callbacks.ModelCheckpoint(str(run_dir / "checkpoint.keras"), monitor=monitor,
                                                         mode=mode, save_best_only=True))
        if backup:
            callbacks.append(k.callbacks.BackupAndRestore(str(run_dir / "backup"), delete_checkpoint=True))
        if tensorboard:
            callbacks.append(k.callbacks.TensorBoard(str(run_dir / "logs"), histogram_freq=0))
        if csv_log:
            callbacks.append(k.callbacks.CSVLogger(str(run_dir / "history.csv"), append=backup))
    if progress is not None:
        callbacks.append(progress)
    return callbacks


def fit_keras(model: Any, x: Any, y: Any = None, *, validation_data: Any = None, epochs: int = 10,
              batch_size: int | None = 64, callbacks: list[Any] | None = None, verbose: int = 0,
              **kwargs: Any) -> dict[str, list[float]]:
    """``model.fit`` with quiet defaults; returns the history dict (loss, val_loss, ...).

    ``verbose`` stays 0 in library code; command-line entry points pass 1 or 2 for a progress bar.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if isinstance(x, (np.ndarray, list, dict)) and y is None and "sample_weight" not in kwargs:
        raise ValueError("y is required when x is an array; pass the targets, or a tf.data.Dataset of (x, y)")
    fit_batch = batch_size if not _is_dataset(x) else None
    from .resume import next_fit_checkpoint

    resumable = next_fit_checkpoint()  # inside a unit of a resumable run (shared.resume)
    if resumable is not None:
        return _resumable_fit(model, x, y, checkpoint=resumable[0], name=resumable[1],
                              validation_data=validation_data, epochs=epochs, batch_size=fit_batch,
                              callbacks=list(callbacks or []), verbose=verbose, **kwargs)
    history = model.fit(x, y, validation_data=validation_data, epochs=epochs, batch_size=fit_batch,
                        callbacks=callbacks or [], verbose=verbose, **kwargs)
    log.info("trained %s for %d epochs", model.name, len(history.history.get("loss", [])))
    return {key: [float(v) for v in values] for key, values in history.history.items()}


def derived_seed(name: str, index: int = 0) -> int:
    """A seed that depends only on (name, index): the same in an uninterrupted and a resumed run."""
    import hashlib

    return int.from_bytes(hashlib.sha256(f"{name}@{index}".encode()).digest()[:4], "little") % (2 ** 31 - 1)


_EARLY_STOPPING_STATE = ("wait", "stopped_epoch", "best", "best_epoch")


def _resumable_fit(model: Any, x: Any, y: Any, *, checkpoint: Path, name: str, validation_data: Any, epochs: int,
                   batch_size: int | None, callbacks: list[Any], verbose: int, **kwargs: Any) -> dict[str, list[float]]:
    """One ``model.fit`` per epoch, checkpointed after each (see shared.resume for why it is exact).

    Early stopping is driven here, not inside ``model.fit`` (whose ``on_train_begin`` would reset it at
    every call), and its state (wait, best, best weights) is part of the checkpoint.
    """
    import json

    k = keras()
    stoppers = [c for c in callbacks if isinstance(c, k.callbacks.EarlyStopping)]
    others = [c for c in callbacks if not isinstance(c, k.callbacks.EarlyStopping)]
    for stopper in stoppers:
        stopper.set_model(model)
        stopper.on_train_begin()
    history: dict[str, list[float]] = {}
    start, stopped = 0, False
    state_file = checkpoint / "state.json"
    if state_file.is_file():
        state = json.loads(state_file.read_text(encoding="utf-8"))
        _load_training_state(model, checkpoint / state["variables"], stoppers,
                             [(i, checkpoint / f) for i, f in state["best_weights"]])
        for stopper, saved in zip(stoppers, state["early_stopping"]):
            for field in _EARLY_STOPPING_STATE:
                setattr(stopper, field, saved[field])
        history, start, stopped = state["history"], int(state["epoch"]), bool(state["stopped"])
        log.info("resumed %s after epoch %d of %d from %s", model.name, start, epochs, checkpoint)
    for epoch in range(start, epochs):
        if stopped:
            break
        set_seed(derived_seed(name, epoch))
        for logger in (c for c in others if isinstance(c, k.callbacks.CSVLogger)):
            logger.append = epoch > 0  # one fit per epoch: keep the rows of the epochs before
        done = model.fit(x, y, validation_data=validation_data, epochs=epoch + 1, initial_epoch=epoch,
                         batch_size=batch_size, callbacks=others, verbose=verbose, **kwargs)
        logs = {key: float(values[-1]) for key, values in done.history.items()}
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        for stopper in stoppers:
            stopper.on_epoch_end(epoch, logs)
        stopped = bool(model.stop_training)
        _save_training_state(model, checkpoint, epoch + 1, history, stopped, stoppers)
    for stopper in stoppers:
        stopper.on_train_end()
    log.info("trained %s for %d epochs (resumable)", model.name, len(history.get("loss", [])))
    return history


def _optimizer_variables(model: Any) -> list[Any]:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return []
    if not optimizer.built:  # a fresh process: create the slots so the saved values have somewhere to go
        optimizer.build(model.trainable_variables)
    return list(optimizer.variables)


def _save_training_state(model: Any, checkpoint: Path, epoch: int, history: dict[str, list[float]], stopped: bool,
                         stoppers: list[Any]) -> None:
    """Variables of epoch ``epoch`` first, under names of their own, then ``state.json`` naming them (atomic),
    then the previous epoch's files: a kill at any point leaves one consistent checkpoint."""
    import json

    from .artifacts import atomic_path, write_json

    checkpoint.mkdir(parents=True, exist_ok=True)
    variables = f"variables-{epoch}.npz"
    arrays = [np.asarray(v.numpy()) for v in [*model.variables, *_optimizer_variables(model)]]
    with atomic_path(checkpoint / variables) as tmp, tmp.open("wb") as handle:
        np.savez(handle, *arrays)
    best_files = []
    for i, stopper in enumerate(stoppers):
        if stopper.best_weights is not None:
            best_files.append((i, f"best-{epoch}-{i}.npz"))
            with atomic_path(checkpoint / best_files[-1][1]) as tmp, tmp.open("wb") as handle:
                np.savez(handle, *[np.asarray(w) for w in stopper.best_weights])
    state = {"epoch": epoch, "stopped": stopped, "history": history, "variables": variables,
             "best_weights": best_files,
             "early_stopping": [{f: _plain(getattr(s, f)) for f in _EARLY_STOPPING_STATE} for s in stoppers]}
    previous = json.loads((checkpoint / "state.json").read_text()) if (checkpoint / "state.json").is_file() else None
    write_json(checkpoint / "state.json", state)
    if previous is not None:
        keep = {variables, *(f for _, f in best_files)}
        for old in [previous["variables"], *(f for _, f in previous["best_weights"])]:
            if old not in keep:
                (checkpoint / old).unlink(missing_ok=True)


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, (np.floating, np.integer)) else value


def _load_training_state(model: Any, variables: Path, stoppers: list[Any], best_files: list[tuple[int, Path]]) -> None:
    with np.load(variables) as stored:
        arrays = [stored[f"arr_{i}"] for i in range(len(stored.files))]
    targets = [*model.variables, *_optimizer_variables(model)]
    if len(arrays) != len(targets):
        raise RuntimeError(f"checkpoint {variables} holds {len(arrays)} variables but the model and optimizer have "
                           f"{len(targets)}; the model changed since it was written: delete {variables.parent}")
    for target, value in zip(targets, arrays):
        target.assign(value)
    for index, path in best_files:
        with np.load(path) as stored:
            stoppers[index].best_weights = [stored[f"arr_{i}"] for i in range(len(stored.files))]


def _is_dataset(x: Any) -> bool:
    return type(x).__name__.endswith("Dataset") or hasattr(x, "element_spec")


def verbosity() -> int:
    """Keras verbosity for command-line runs: 2 (one line per epoch) unless DEEPCASES_QUIET is set."""
    return 0 if os.environ.get("DEEPCASES_QUIET") else 2
