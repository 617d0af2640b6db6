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
    history = model.fit(x, y, validation_data=validation_data, epochs=epochs, batch_size=fit_batch,
                        callbacks=callbacks or [], verbose=verbose, **kwargs)
    log.info("trained %s for %d epochs", model.name, len(history.history.get("loss", [])))
    return {key: [float(v) for v in values] for key, values in history.history.items()}


def _is_dataset(x: Any) -> bool:
    return type(x).__name__.endswith("Dataset") or hasattr(x, "element_spec")


def verbosity() -> int:
    """Keras verbosity for command-line runs: 2 (one line per epoch) unless DEEPCASES_QUIET is set."""
    return 0 if os.environ.get("DEEPCASES_QUIET") else 2
