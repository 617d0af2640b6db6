"""Seeding gives identical metrics; callbacks write their files; backup-and-restore resumes."""

import numpy as np
import pandas as pd
import pytest

from shared.models import build_mlp
from shared.training import fit_keras, set_seed, standard_callbacks


def _train_once(seed, run_dir=None):
    set_seed(seed)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(scale=0.1, size=64)).astype("float32")
    model = build_mlp(n_features=4, hidden_units=(8,), dropout=0.2)
    model.compile(optimizer="adam", loss="mse")
    history = fit_keras(model, x, y, validation_data=(x[:16], y[:16]), epochs=3, batch_size=16,
                        callbacks=standard_callbacks(run_dir, patience=2, csv_log=run_dir is not None))
    return history, model.predict(x, verbose=0)


def test_same_seed_same_results_different_seed_different():
    h1, p1 = _train_once(7)
    h2, p2 = _train_once(7)
    h3, p3 = _train_once(8)
    assert h1["loss"] == h2["loss"]
    np.testing.assert_array_equal(p1, p2)
    assert not np.array_equal(p1, p3)


def test_callbacks_write_history_and_checkpoint(tmp_path):
    set_seed(1)
    x = np.random.default_rng(1).normal(size=(32, 2)).astype("float32")
    model = build_mlp(n_features=2, hidden_units=(4,))
    model.compile(optimizer="adam", loss="mse")
    callbacks = standard_callbacks(tmp_path, checkpoint=True, backup=True, tensorboard=True)
    fit_keras(model, x, x[:, 0], validation_data=(x, x[:, 0]), epochs=2, callbacks=callbacks)
    assert (tmp_path / "checkpoint.keras").is_file()
    assert len(pd.read_csv(tmp_path / "history.csv")) == 2
    assert any((tmp_path / "logs").rglob("*tfevents*"))


def test_backup_and_restore_resumes_an_interrupted_fit(tmp_path):
    from shared.models._keras import keras

    k = keras()

    class Interrupt(k.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    x = np.random.default_rng(2).normal(size=(32, 2)).astype("float32")

    def fresh():
        model = build_mlp(n_features=2, hidden_units=(4,))
        model.compile(optimizer="adam", loss="mse")
        return model

    set_seed(2)
    with pytest.raises(KeyboardInterrupt):
        fit_keras(fresh(), x, x[:, 0], epochs=5,
                  callbacks=standard_callbacks(tmp_path, monitor="loss", backup=True, csv_log=False) + [Interrupt()])
    set_seed(2)
    history = fit_keras(fresh(), x, x[:, 0], epochs=5,
                        callbacks=standard_callbacks(tmp_path, monitor="loss", backup=True, csv_log=False))
    assert len(history["loss"]) == 3  # epochs 3..5 only: it resumed after the 2 finished epochs


def test_seed_and_arguments_are_validated(tmp_path):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        set_seed(-1)
    with pytest.raises(ValueError, match="run_dir is required"):
        standard_callbacks(None, checkpoint=True)
    with pytest.raises(ValueError, match="y is required"):
        fit_keras(build_mlp(n_features=2), np.zeros((2, 2)), None)
