"""review_sentiment --source parquet: deep models trained from a Parquet stream; vocabulary from training rows only."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from applications.review_sentiment import main as app
from applications.review_sentiment import stream
from shared.results import read_results
from shared.streaming import hash_bucket

GOOD = ["wonderful", "moving", "brilliant", "funny", "charming", "great"]
BAD = ["dull", "boring", "clumsy", "tedious", "awful", "bland"]
FILLER = ["the", "film", "story", "cast", "plot", "director", "a", "is", "and"]
TEST_ONLY = "zzqxheldoutword"


@pytest.fixture(scope="module")
def texts_dir(tmp_path_factory):
    rng = np.random.default_rng(5)
    n = 360
    labels = rng.integers(0, 2, n)
    texts = [" ".join(rng.choice(FILLER, 5).tolist() + rng.choice(GOOD if y else BAD, 2).tolist()) for y in labels]
    frame = pd.DataFrame({"row_id": np.arange(n, dtype=np.int64), "text": texts, "label": labels.astype(np.int64)})
    frame["split"] = np.where(hash_bucket(frame["row_id"].to_numpy()) >= 0.25, "train", "test")
    test_rows = frame.index[frame["split"] == "test"][:5]
    frame.loc[test_rows, "text"] = frame.loc[test_rows, "text"] + f" {TEST_ONLY}"
    folder = tmp_path_factory.mktemp("texts")
    for k, part in enumerate(np.array_split(np.arange(n), 3)):
        frame.iloc[part].to_parquet(folder / f"part-{k:05d}.parquet", index=False)
    return frame, folder


TINY = ["--learned-maps", "pca", "--source", "parquet", "--models", "cnn", "--epochs", "2", "--max-tokens", "200", "--sequence-length", "12",
        "--embedding-dim", "8", "--filters", "4", "--kernel-sizes", "2", "--batch-size", "32", "--chunk-rows", "100",
        "--shuffle-buffer", "150", "--learning-rate", "0.01", "--log-level", "WARNING"]


@pytest.fixture(scope="module")
def parquet_run(texts_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("sentiment-parquet-runs")
    code = app.main([*TINY, "--path", str(texts_dir[1]), "--runs-dir", str(root), "--run-id", "p",
                     "--predict", "a wonderful and charming film", "--explain", "a dull and tedious plot"])
    return code, root / "review_sentiment" / "p"


def test_parquet_run_trains_from_the_stream_and_scores_the_streaming_baselines(parquet_run, texts_dir):
    code, run = parquet_run
    assert code == 0
    for name in ("config.json", "data.json", "metrics.json", "model_text_cnn.keras", "history_text_cnn.csv",
                 "pipeline.json", "vocabulary.json", "predictions.csv", "explanations.txt", "figures/roc_curves.png"):
        assert (run / name).is_file(), name
    [result] = read_results(run / "metrics.json")
    models = {m["name"]: m for m in result["models"]}
    assert set(models) == {"majority", "vader", "hashing_logreg", "text_cnn"}
    for m in models.values():
        assert set(m["metrics"]) == {"accuracy", "macro_f1", "roc_auc"}
        assert 0.0 <= m["metrics"]["accuracy"] <= 1.0
    frame = texts_dir[0]
    assert result["extra"]["test_rows"] == int((frame["split"] == "test").sum())
    # the sentiment words separate the classes perfectly: the streamed linear baseline must find them
    assert models["hashing_logreg"]["metrics"]["accuracy"] > models["majority"]["metrics"]["accuracy"]
    assert "cross_validation" in result["extra"]["skipped_on_parquet_path"]


def test_vocabulary_and_label_counts_come_from_training_rows_only(parquet_run, texts_dir):
    _, run = parquet_run
    frame = texts_dir[0]
    vocabulary = json.loads((run / "vocabulary.json").read_text())["tokens"]
    assert TEST_ONLY not in vocabulary and "wonderful" in vocabulary
    stats = json.loads((run / "data.json").read_text())["streaming_stats"]
    train = frame[frame["split"] == "train"]
    assert stats["label_counts"] == {str(k): int(v) for k, v in train["label"].value_counts().sort_index().items()}
    assert stats["rows_train"] == len(train)


def test_the_streamed_vocabulary_is_the_one_adapt_learns_in_memory(texts_dir):
    from shared.models import fit_text_vectorizer

    frame, folder = texts_dir
    config = app.parse_args(["--source", "parquet", "--path", str(folder), "--chunk-rows", "70"])
    plan = stream.scan(config)
    processed = config.pipeline().process(frame.loc[frame["split"] == "train", "text"].tolist())
    adapted = fit_text_vectorizer(processed, max_tokens=20, sequence_length=8, standardize=None)
    streamed = plan.stats.vocabulary.vectorizer(max_tokens=20, sequence_length=8)
    # keras adapt() on the streamed partitions = keras adapt() on the texts in memory, ties and cut included
    assert streamed.get_vocabulary() == adapted.get_vocabulary() and len(plan.stats.vocabulary) > 20
    assert plan.stats.vocabulary.texts == int((frame["split"] == "train").sum())


def test_clear_errors_for_bad_sources(texts_dir, tmp_path):
    frame, folder = texts_dir

    def config(path, *extra):
        return app.parse_args(["--source", "parquet", "--path", str(path), *extra])

    with pytest.raises(FileNotFoundError, match="not found.*check the --path"):
        stream.scan(config(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .parquet files.*empty directory"):
        stream.scan(config(tmp_path / "empty"))
    with pytest.raises(ValueError, match=r"missing column\(s\) \['review'\].*--text-column"):
        stream.scan(config(folder, "--text-column", "review"))
    one_class = tmp_path / "one"
    one_class.mkdir()
    frame.assign(label=1).to_parquet(one_class / "part-0.parquet", index=False)
    with pytest.raises(ValueError, match="at least two"):
        stream.scan(config(one_class))
    with pytest.raises(ValueError, match=r"label\(s\) \['7'\].*no training row has"):
        stream.label_ids([0, 7], [0, 1], column="label")
    with pytest.raises(SystemExit):
        app.parse_args(["--source", "parquet"])            # no --path
