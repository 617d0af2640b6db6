"""Recommender --source parquet: Protocol A streamed from Parquet parts, statistics from training rows only."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from applications.recommender import main as app
from applications.recommender import stream
from shared.results import read_results
from shared.streaming import hash_bucket

TEST_ONLY_USER, TEST_ONLY_ITEM = 777_777, 888_888


@pytest.fixture(scope="module")
def ratings_dir(tmp_path_factory):
    rng = np.random.default_rng(3)
    n = 1500
    frame = pd.DataFrame({"row_id": np.arange(n, dtype=np.int64), "user": rng.integers(1, 41, n).astype(np.int64),
                          "item": rng.integers(1, 61, n).astype(np.int64),
                          "rating": rng.integers(1, 11, n) / 2.0, "timestamp": np.arange(n, dtype=np.int64)})
    frame["split"] = np.where(hash_bucket(frame["row_id"].to_numpy()) >= 0.2, "train", "test")
    test_rows = frame.index[frame["split"] == "test"][:4]   # a user and an item that only test rows have
    frame.loc[test_rows[:2], "user"] = TEST_ONLY_USER
    frame.loc[test_rows[2:], "item"] = TEST_ONLY_ITEM
    folder = tmp_path_factory.mktemp("ratings")
    for k, part in enumerate(np.array_split(np.arange(n), 3)):
        frame.iloc[part].to_parquet(folder / f"part-{k:05d}.parquet", index=False)
    return frame, folder


TINY = ["--learned-maps", "pca", "--source", "parquet", "--seeds", "1", "--mf-epochs", "2", "--mf-factors", "4", "--mf-batch-size", "128",
        "--chunk-rows", "400", "--shuffle-buffer", "300", "--log-level", "WARNING"]


@pytest.fixture(scope="module")
def parquet_run(ratings_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("rec-parquet-runs")
    code = app.main([*TINY, "--path", str(ratings_dir[1]), "--runs-dir", str(root), "--run-id", "p"])
    return code, root / "recommender" / "p"


def test_parquet_run_trains_from_the_stream_and_scores_every_baseline(parquet_run, ratings_dir):
    code, run = parquet_run
    assert code == 0
    for name in ("config.json", "data.json", "metrics.json", "results.md", "mf_biased_parquet.keras",
                 "history_mf_parquet.csv", "id_maps.json", "figures/learning_curves_mf_parquet.png"):
        assert (run / name).is_file(), name
    [result] = read_results(run / "metrics.json")
    models = {m["name"]: m for m in result["models"]}
    assert set(models) == {"mf_biased", "global_mean", "bias_baseline"}
    for m in models.values():
        assert all(np.isfinite(v) and v > 0 for v in m["metrics"].values())
    frame = ratings_dir[0]
    assert result["extra"]["test_rows"] == int((frame["split"] == "test").sum())
    assert result["extra"]["test_rows_unseen_item"] == 2 and result["extra"]["test_rows_unseen_user"] == 2
    assert "protocol_B" in result["extra"]["skipped_on_parquet_path"]
    assert result["dataset"]["rows"] == len(frame) and result["dataset"]["files"] == 3


def test_statistics_come_from_the_training_rows_only(parquet_run, ratings_dir):
    _, run = parquet_run
    frame = ratings_dir[0]
    maps = json.loads((run / "id_maps.json").read_text())
    assert TEST_ONLY_USER not in maps["user"]["ids"] and TEST_ONLY_ITEM not in maps["item"]["ids"]
    train = frame[frame["split"] == "train"]
    assert maps["user"]["ids"] == sorted(train["user"].unique().tolist())
    assert maps["global_mean"] == pytest.approx(train["rating"].mean(), rel=1e-12)
    stats = json.loads((run / "data.json").read_text())["streaming_stats"]
    assert stats["rows_train"] == len(train) and stats["rows_held_out"] == len(frame) - len(train)


def test_streamed_biases_equal_the_in_memory_bias_baseline(ratings_dir):
    from applications.recommender.baselines import BiasBaseline
    from applications.recommender.indexing import IdIndex

    frame, folder = ratings_dir
    config = app.parse_args(["--source", "parquet", "--path", str(folder), "--chunk-rows", "250"])
    stats = stream.scan(config)
    mu, bu, bi = stream.fit_streaming_biases(config, stats)
    train = frame[frame["split"] == "train"]
    users, items = IdIndex(train["user"]), IdIndex(train["item"])
    ref = BiasBaseline().fit(users.transform(train["user"]), items.transform(train["item"]), train["rating"],
                             n_users=len(users), n_items=len(items))
    assert mu == pytest.approx(ref.mu, rel=1e-12)
    np.testing.assert_allclose(bu[1:], ref.user_bias, rtol=1e-10, atol=1e-12)   # index k+1 <-> position k
    np.testing.assert_allclose(bi[1:], ref.item_bias, rtol=1e-10, atol=1e-12)
    assert bu[0] == 0.0 and bi[0] == 0.0


def test_clear_errors_for_bad_sources(ratings_dir, tmp_path):
    frame, folder = ratings_dir

    def config(path, *extra):
        return app.parse_args(["--source", "parquet", "--path", str(path), *extra])

    with pytest.raises(FileNotFoundError, match="not found.*check the --path"):
        stream.scan(config(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .parquet files.*empty directory"):
        stream.scan(config(tmp_path / "empty"))
    with pytest.raises(ValueError, match=r"missing column\(s\) \['stars'\].*--value-col"):
        stream.scan(config(folder, "--value-col", "stars"))
    with pytest.raises(ValueError, match=r"missing column\(s\) \['fold'\].*--split-column"):
        stream.scan(config(folder, "--split-column", "fold"))
    with pytest.raises(ValueError, match="outside the declared range.*--rating-range"):
        stream.scan(config(folder, "--rating-range", "1", "4"))
    with pytest.raises(ValueError, match="cannot reach the Dask scheduler at 'nonsense::'.*--dask-scheduler"):
        stream.scan(config(folder, "--dask-scheduler", "nonsense::"))
    with pytest.raises(SystemExit):
        app.parse_args(["--source", "parquet"])            # no --path
    with pytest.raises(SystemExit):
        app.parse_args(["--source", "parquet", "--path", str(folder), "--protocol", "B"])


def test_sparse_sgd_option_trains_mf_with_batch_row_lookups(ratings_dir, tmp_path):
    from shared.models._keras import keras

    code = app.main([*TINY, "--path", str(ratings_dir[1]), "--mf-optimizer", "sparse-sgd", "--runs-dir", str(tmp_path),
                     "--run-id", "s"])
    assert code == 0
    run = tmp_path / "recommender" / "s"
    [result] = read_results(run / "metrics.json")
    assert result["extra"]["mf_optimizer"] == {"name": "sparse-sgd", "learning_rate": 5.0, "l2": 1e-4}
    mf = {m["name"]: m for m in result["models"]}["mf_biased"]
    assert all(np.isfinite(v) and v > 0 for v in mf["metrics"].values())
    model = keras().models.load_model(run / "mf_biased_parquet.keras", compile=False)
    assert type(model.get_layer("item_factors")).__name__ == "SparseEmbedding"
    with pytest.raises(SystemExit):
        app.parse_args(["--mf-optimizer", "lazy-adam"])
