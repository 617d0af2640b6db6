"""Runs that survive interruption (shared.resume): units read back, a killed training resumes exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shared.resume import Resume, config_fingerprint

REPO = Path(__file__).resolve().parents[1]

# Trains one small model with dropout, shuffling and early stopping inside a unit; with KILL_EPOCH >= 0 it
# kills itself with the given signal in the middle of that epoch (after 3 batches).
_TRAINING = textwrap.dedent('''
    import json, os, signal, sys
    from pathlib import Path
    import numpy as np
    from shared.models._keras import keras
    from shared.resume import Resume
    from shared.training import fit_keras, standard_callbacks

    run_dir, kill_epoch, sig = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    k = keras()

    class Killer(k.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == kill_epoch and batch == 3:
                os.kill(os.getpid(), sig)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x[:, 0] + rng.normal(size=256) * 0.5 > 0).astype("float32")

    def compute():
        model = k.Sequential([k.Input((8,)), k.layers.Dense(16, activation="relu"), k.layers.Dropout(0.3),
                              k.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=k.optimizers.Adam(1e-2), loss="binary_crossentropy")
        history = fit_keras(model, x, y, validation_data=(x[:100], y[:100]), epochs=6, batch_size=32,
                            callbacks=[*standard_callbacks(None, patience=3, csv_log=False), Killer()])
        return {"weights": [w.tolist() for w in model.get_weights()], "history": history}

    resume = Resume(run_dir, {"case": "probe"})
    out = resume.unit("probe/seed1", compute)
    print(json.dumps({"out": out, "reused": resume.reused}))
''')


def _train(run_dir: Path, kill_epoch: int = -1, sig: int = signal.SIGKILL) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, "-c", _TRAINING, str(run_dir), str(kill_epoch), str(int(sig))],
                          capture_output=True, text=True, env=env, timeout=300, check=False, cwd=REPO)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    done = _train(tmp_path_factory.mktemp("straight"))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])["out"]


def test_a_training_killed_mid_epoch_twice_resumes_to_the_same_weights(tmp_path, uninterrupted):
    """SIGTERM in epoch 2, then SIGKILL in epoch 4 of the resumed run; the third run finishes bit for bit equal."""
    fit_dir = tmp_path / "resume" / "fits" / "probe" / "seed1" / "fit0"
    for sig, epoch in ((signal.SIGTERM, 2), (signal.SIGKILL, 4)):
        killed = _train(tmp_path, kill_epoch=epoch, sig=sig)
        assert killed.returncode == -sig, killed.stderr[-3000:]
        state = json.loads((fit_dir / "state.json").read_text())
        assert state["epoch"] == epoch and len(state["history"]["loss"]) == epoch  # the cut epoch is redone
    resumed = _train(tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    result = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert result["reused"] == []  # the unit was not finished: it was computed, resuming its fit
    assert result["out"]["history"] == uninterrupted["history"]
    assert result["out"]["weights"] == uninterrupted["weights"]
    assert not fit_dir.exists(), "a finished unit's checkpoints are removed"
    again = Resume(tmp_path, {"case": "probe"})
    assert again.unit("probe/seed1", lambda: pytest.fail("a finished unit is read back, not computed")) == \
        result["out"] and again.reused == ["probe/seed1"]


def test_finished_units_are_read_back_and_a_new_config_starts_afresh(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"c": 0.77}

    assert Resume(tmp_path, {"folds": 5}).unit("support/fold1/cox", compute) == {"c": 0.77}
    again = Resume(tmp_path, {"folds": 5, "log_level": "DEBUG", "run_id": "x"})  # run-only fields do not count
    assert again.unit("support/fold1/cox", compute) == {"c": 0.77} and len(calls) == 1
    assert again.reused == ["support/fold1/cox"]
    other = Resume(tmp_path, {"folds": 3})
    assert other.unit("support/fold1/cox", compute) == {"c": 0.77} and len(calls) == 2
    assert list(tmp_path.glob("resume-stale-*")), "the units of the other configuration are set aside, not deleted"


def test_keys_and_fingerprints():
    with pytest.raises(ValueError, match="a unit key is a non-empty path"):
        Resume.unit(Resume.__new__(Resume), "../escape", dict)
    assert config_fingerprint({"a": 1, "runs_dir": "x"}) == config_fingerprint({"a": 1, "runs_dir": "y"})
    assert config_fingerprint({"a": 1}) != config_fingerprint({"a": 2})


def test_a_csv_log_of_a_resumable_fit_keeps_every_epoch(tmp_path):
    import numpy as np

    from shared.models._keras import keras
    from shared.training import fit_keras, standard_callbacks

    k = keras()
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = x.sum(axis=1)

    def compute():
        model = k.Sequential([k.Input((3,)), k.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        callbacks = standard_callbacks(tmp_path / "fit", patience=5, csv_log=True)
        return fit_keras(model, x, y, validation_data=(x, y), epochs=3, batch_size=16, callbacks=callbacks)

    history = Resume(tmp_path, {"case": "csv"}).unit("csv/seed1", compute)
    rows = (tmp_path / "fit" / "history.csv").read_text().strip().splitlines()
    assert len(history["loss"]) == 3 and len(rows) == 1 + 3 and rows[0].startswith("epoch")
