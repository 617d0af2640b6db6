"""shared.dask_prep: the Dask statistics pass equals pandas on the training rows, test rows never feed it,
the Keras-adapted vocabulary equals an in-memory adapt(), and a bad scheduler address is a clear error."""

import numpy as np
import pandas as pd
import pytest

from shared.dask_prep import dask_client, scan_training
from shared.keras_vocabulary import adapt_vocabulary
from shared.streaming import SplitRule, hash_bucket

SPLIT = SplitRule("split", train_values=("train",))
WORDS = ["good", "bad", "film", "plot", "cast", "Great", "dull,", "l'été", "a", "b", "c", "d"]
TEST_ONLY = {"user": 99_999, "item": "only-in-test", "token": "zzheldout", "label": "neutral"}


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """4,000 rows in four part files of unequal sizes; a few values exist only in test rows."""
    rng = np.random.default_rng(7)
    n = 4000
    frame = pd.DataFrame({"row_id": np.arange(n, dtype=np.int64), "user": rng.integers(0, 300, n) * 3,
                          "item": rng.choice([f"m{i}" for i in range(500)], n),
                          "rating": 1e6 + rng.normal(3.5, 1.0, n),     # a large offset: var needs care
                          "label": rng.choice(["pos", "neg"], n),
                          "text": [" ".join(rng.choice(WORDS, rng.integers(0, 9))) for _ in range(n)]})
    frame["split"] = np.where(hash_bucket(frame["row_id"].to_numpy()) >= 0.25, "train", "test")
    train_rows = frame.index[frame["split"] == "train"]
    frame.loc[train_rows[:5], "rating"] = np.nan           # skipped and counted as missing
    frame.loc[train_rows[5:7], "rating"] = np.inf
    test_rows = frame.index[frame["split"] == "test"][:4]
    frame.loc[test_rows, ["user", "item", "rating", "label"]] = [TEST_ONLY["user"], TEST_ONLY["item"], 1e9,
                                                                  TEST_ONLY["label"]]
    frame.loc[test_rows, "text"] = TEST_ONLY["token"]
    folder = tmp_path_factory.mktemp("dask_source")
    for k, rows in enumerate(np.split(np.arange(n), [700, 1900, 2000])):
        frame.iloc[rows].to_parquet(folder / f"part-{k:05d}.parquet", index=False)
    return frame, folder


def _keras_order(words: list[str]) -> list[str]:
    """Distinct words by decreasing count, ties by UTF-8 bytes from high to low (keras adapt's order)."""
    counts = pd.Series(words, dtype=object).value_counts()
    return sorted(counts.index, key=lambda w: (counts[w], w.encode()), reverse=True)


def test_dask_pass_equals_pandas_on_the_training_rows(source):
    frame, folder = source
    stats = scan_training(folder, split=SPLIT, id_columns=("user", "item"), numeric_columns=("rating",),
                          label_column="label")
    train = frame[frame["split"] == "train"]
    assert (stats.rows_train, stats.rows_held_out, stats.chunks) == (len(train), len(frame) - len(train), 4)
    for column in ("user", "item"):      # the same map the chunked pass built: sorted training ids
        index = stats.indexes[column]
        assert list(index.ids) == sorted(train[column].unique())
        assert index.ids.dtype == train[column].dtype
        assert (index.counts() == train[column].value_counts().reindex(index.ids)).all()
    finite = train["rating"][np.isfinite(train["rating"])]
    moments = stats.moments["rating"]
    assert (moments.count, moments.missing) == (len(finite), 7)
    assert moments.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert moments.variance == pytest.approx(float((finite - 1e6).var(ddof=0)), rel=1e-12)  # exact: offset removed
    assert (moments.minimum, moments.maximum) == (finite.min(), finite.max())
    assert stats.label_counts == train["label"].value_counts().to_dict()
    # what only test rows hold never reaches the statistics
    assert stats.indexes["user"].lookup([TEST_ONLY["user"]])[0] == 0
    assert stats.indexes["item"].lookup([TEST_ONLY["item"]])[0] == 0
    assert moments.maximum < 1e9 and TEST_ONLY["label"] not in stats.label_counts
    hashed = scan_training(folder, split=SplitRule("row_id", test_fraction=0.25), id_columns=("user",))
    assert list(hashed.indexes["user"].ids) == list(stats.indexes["user"].ids)  # same rows as the split column


def test_vocabulary_is_keras_adapt_over_the_streamed_training_texts(source):
    from shared.models._keras import keras

    frame, folder = source

    def mark(part: pd.DataFrame) -> pd.DataFrame:          # a stateless per-partition tokenizer
        return part.assign(text=part["text"] + " tail")

    stats = scan_training(folder, split=SPLIT, text_column="text", label_column="label", standardize=None,
                          preprocess=mark)
    train = frame.loc[frame["split"] == "train", "text"]
    assert stats.vocabulary.texts == len(train)            # training rows only, each once
    words = [w for t in train + " tail" for w in t.split()]
    assert list(stats.vocabulary.tokens) == _keras_order(words)
    assert TEST_ONLY["token"] not in stats.vocabulary.tokens
    # the default standardization is keras' own: the same list as adapt() on the texts in memory
    lowered = scan_training(folder, split=SPLIT, text_column="text")
    in_memory = keras().layers.TextVectorization()
    in_memory.adapt(train.to_numpy())
    assert list(lowered.vocabulary.tokens) == in_memory.get_vocabulary()[2:]
    assert {"great", "dull", "lété"} <= set(lowered.vocabulary.tokens)  # keras: ASCII lower-casing, punctuation gone
    capped = keras().layers.TextVectorization(max_tokens=6)
    capped.adapt(train.to_numpy())
    assert lowered.vocabulary.top(6) == capped.get_vocabulary()[2:]         # one pass serves every max_tokens
    layer = lowered.vocabulary.vectorizer(max_tokens=6, sequence_length=3)
    assert layer.get_vocabulary() == capped.get_vocabulary()
    with pytest.raises(ValueError, match="max_tokens must be >= 3"):
        lowered.vocabulary.top(2)


def test_adapt_vocabulary_streams_batches_with_ngrams():
    from shared.models._keras import keras

    texts = np.array(["a b c", "a b", "", "c a b"], dtype=object)
    streamed = adapt_vocabulary(iter([texts[:1], texts[1:3], texts[3:]]), standardize=None, ngrams=2)
    whole = keras().layers.TextVectorization(standardize=None, ngrams=2)
    whole.adapt(texts)
    assert list(streamed.tokens) == whole.get_vocabulary()[2:] and "a b" in streamed.tokens
    assert streamed.texts == 4
    with pytest.raises(ValueError, match="standardize must be one of"):
        adapt_vocabulary([], standardize="upper")


def test_a_running_scheduler_gives_the_same_statistics(source):
    from distributed import LocalCluster

    frame, folder = source
    local = scan_training(folder, split=SPLIT, id_columns=("item",), numeric_columns=("rating",))
    with LocalCluster(processes=False, protocol="tcp", n_workers=1, threads_per_worker=1,
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        remote = scan_training(folder, split=SPLIT, id_columns=("item",), numeric_columns=("rating",),
                               scheduler=cluster.scheduler_address)
    assert list(remote.indexes["item"].ids) == list(local.indexes["item"].ids)
    assert remote.moments["rating"] == local.moments["rating"]


@pytest.mark.parametrize("address", ["nonsense::", "tcp://127.0.0.1:1"])
def test_a_failed_connection_leaves_no_open_client_for_the_garbage_collector(address):
    # distributed leaves a Client whose address is refused in status "connecting"; its __del__ then
    # closes it under distributed's class-wide LoopRunner lock, and a collection during a later
    # LocalCluster start (which holds that lock) deadlocked CI. dask_client must close it itself.
    import traceback

    from distributed import Client

    with pytest.raises(ValueError, match="cannot reach the Dask scheduler") as failure:
        with dask_client(address, connect_timeout=0.5):
            pass
    # the failed Client is the `self` of its own __init__ frame in the cause's traceback
    frames = traceback.walk_tb(failure.value.__cause__.__traceback__)
    failed = {id(c): c for c in (frame.f_locals.get("self") for frame, _ in frames) if isinstance(c, Client)}
    assert len(failed) == 1
    assert [client.status for client in failed.values()] == ["closed"]


def test_clear_errors(source, tmp_path):
    frame, folder = source
    with pytest.raises(ValueError, match="cannot reach the Dask scheduler at 'tcp://127.0.0.1:1'.*--dask-scheduler"):
        with dask_client("tcp://127.0.0.1:1", connect_timeout=0.5):
            pass
    with pytest.raises(ValueError, match="cannot reach the Dask scheduler at 'nonsense::'"):
        scan_training(folder, split=SPLIT, id_columns=("user",), scheduler="nonsense::")
    with pytest.raises(ValueError, match="needs something to compute"):
        scan_training(folder, split=SPLIT)
    with pytest.raises(ValueError, match="preprocess applies to the text column"):
        scan_training(folder, split=SPLIT, id_columns=("user",), preprocess=lambda part: part)
    with pytest.raises(ValueError, match="no training rows"):
        scan_training(folder, split=SplitRule("split", train_values=("nope",)), id_columns=("user",))
    holes = tmp_path / "holes"
    holes.mkdir()
    pd.DataFrame({"split": ["train"] * 3, "user": [1.0, None, 2.0]}).to_parquet(holes / "part-0.parquet")
    with pytest.raises(ValueError, match="user: 1 missing id"):
        scan_training(holes, split=SPLIT, id_columns=("user",))
