"""Ray Train launches the project's multi-worker loop: 2 workers on localhost, each reading its own shard."""

from __future__ import annotations

import json

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="the cluster extra is not installed: pip install -e '.[cluster]'")

import sys  # noqa: E402

from shared.errors import UserError  # noqa: E402
from shared.ray_train import ray_fit, shard  # noqa: E402

# The workers cannot import this test module (pytest put its folder on sys.path only here), so its
# functions travel by value, as functions of a user's __main__ script do.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _build():
    from shared.models import build_mlp

    return build_mlp(n_features=3, hidden_units=(8,))


def _shard_dataset(rank, world, per_worker_batch):
    """Worker ``rank``'s own rows (its 'files'), batched per worker."""
    import tensorflow as tf

    rng = np.random.default_rng(100 + rank)
    x = rng.normal(size=(192, 3)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, x.sum(axis=1, keepdims=True))).batch(per_worker_batch)


def _mse(y_true, y_pred):
    import tensorflow as tf

    return tf.reduce_mean(tf.square(y_pred - y_true), axis=-1)


@pytest.fixture
def ray_env(tmp_path, monkeypatch):
    """Ray's session files and token under tmp (the user's ~/.ray stays untouched)."""
    import shutil
    import tempfile

    short = tempfile.mkdtemp(prefix="ray", dir="/tmp")   # Ray's socket paths must stay under 107 bytes
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    monkeypatch.setenv("RAY_TMPDIR", short)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    yield tmp_path
    shutil.rmtree(short, ignore_errors=True)


def test_two_ray_workers_train_in_sync_on_their_own_shards(ray_env):
    out = ray_env / "ray-run"
    result = ray_fit(_build, _shard_dataset, loss=_mse, global_batch_size=64, epochs=3, steps_per_epoch=6,
                     out_dir=out, workers=2, learning_rate=1e-2, seed=0)
    assert [w["rank"] for w in result.workers] == [0, 1]
    assert all(w["world"] == 2 and w["replicas"] == 2 for w in result.workers)
    assert all(w["legacy_keras"] is None for w in result.workers)            # Keras 3, not Ray's tf.keras
    # synchronous: the same all-reduced loss and bit-identical final weights on both workers
    assert result.workers[0]["loss"] == result.workers[1]["loss"] == result.history["loss"]
    assert result.workers[0]["weights_sha256"] == result.workers[1]["weights_sha256"]
    loss = result.history["loss"]
    assert loss[0] > loss[1] > loss[2] and loss[2] < 0.8 * loss[0]
    # the same training in one process: each global batch = worker 0's 32 rows next to worker 1's 32
    import tensorflow as tf

    from shared.distribute import distributed_fit, get_strategy
    from shared.training import set_seed

    pairs = tf.data.Dataset.zip((_shard_dataset(0, 2, 32), _shard_dataset(1, 2, 32)))
    side_by_side = pairs.map(lambda a, b: (tf.concat([a[0], b[0]], 0), tf.concat([a[1], b[1]], 0)))
    set_seed(0)
    _, single = distributed_fit(_build, side_by_side, loss=_mse, strategy=get_strategy("none"), global_batch_size=64,
                                epochs=3, learning_rate=1e-2, steps_per_epoch=6)
    np.testing.assert_allclose(loss, single["loss"], rtol=1e-4)
    from shared.models._keras import keras

    model = keras().models.load_model(result.model_path, compile=False)
    x = np.eye(3, dtype="float32")
    assert model.predict(x, verbose=0).shape == (3, 1)                        # the chief's saved model loads
    assert json.loads((out / "worker1.json").read_text())["rank"] == 1


def test_shard_gives_every_worker_its_files_or_names_the_fix():
    files = [f"part-{i}.parquet" for i in range(5)]
    assert shard(files, 0, 2) == ["part-0.parquet", "part-2.parquet", "part-4.parquet"]
    assert shard(files, 1, 2) == ["part-1.parquet", "part-3.parquet"]
    with pytest.raises(UserError, match="at least 3 files"):
        shard(files[:2], 2, 3)
    with pytest.raises(ValueError, match="rank must be in"):
        shard(files, 2, 2)


def test_bad_settings_fail_before_ray_starts(tmp_path):
    with pytest.raises(ValueError, match="multiple of workers"):
        ray_fit(_build, _shard_dataset, loss=_mse, global_batch_size=63, epochs=1, steps_per_epoch=1,
                out_dir=tmp_path, workers=2)
    with pytest.raises(ValueError, match="steps_per_epoch must be an int >= 1"):
        ray_fit(_build, _shard_dataset, loss=_mse, global_batch_size=64, epochs=1, steps_per_epoch=0,
                out_dir=tmp_path, workers=2)
    assert not ray.is_initialized()


@pytest.fixture
def ratings_parts(tmp_path):
    import pandas as pd

    rng = np.random.default_rng(5)
    n = 1200
    frame = pd.DataFrame({"user": rng.integers(1, 31, n).astype(np.int64), "item": rng.integers(1, 41, n).astype(np.int64),
                          "rating": rng.integers(1, 11, n) / 2.0})
    frame["split"] = np.where(np.arange(n) % 5 == 0, "test", "train")
    folder = tmp_path / "ratings"
    folder.mkdir()
    for k, part in enumerate(np.array_split(np.arange(n), 4)):
        frame.iloc[part].to_parquet(folder / f"part-{k}.parquet", index=False)
    return folder


def test_the_recommender_trains_its_mf_on_two_ray_workers(ray_env, ratings_parts, capsys):
    """``--distribute ray --workers 2``: the app's MF on 2 local workers, each reading 2 of the 4 files."""
    from applications.recommender import main as app
    from shared.results import read_results

    runs = ray_env / "runs"
    args = ["--source", "parquet", "--path", str(ratings_parts), "--seeds", "1", "--mf-epochs", "4", "--mf-factors",
            "4", "--mf-batch-size", "64", "--chunk-rows", "200", "--shuffle-buffer", "100", "--learned-maps", "off",
            "--log-level", "WARNING", "--runs-dir", str(runs)]
    assert app.main([*args, "--distribute", "ray", "--workers", "2", "--run-id", "ray"]) == 0, capsys.readouterr().err
    [result] = read_results(runs / "recommender" / "ray" / "metrics.json")
    ray_record = result["extra"]["distribute"]
    assert ray_record["mode"] == "ray" and ray_record["ray"][0]["workers"] == 2
    assert ray_record["ray"][0]["same_final_weights"] is True
    models = {m["name"]: m["metrics"] for m in result["models"]}
    assert np.isfinite(models["mf_biased"]["rmse"]) and models["mf_biased"]["rmse"] < 2.0
    [record] = (runs / "recommender" / "ray" / "ray").glob("seed*/worker0.json")
    loss = json.loads(record.read_text())["loss"]
    assert len(loss) == 4 and loss[-1] < loss[0]                               # it learned

    assert app.main([*args, "--distribute", "ray", "--workers", "8", "--run-id", "too-many"]) == 2
    assert "holds 4 Parquet file(s) for --workers 8" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:                                     # an option error: argparse's exit
        app.parse_args(["--distribute", "ray"])
    assert stop.value.code == 2 and "add --source parquet" in capsys.readouterr().err
