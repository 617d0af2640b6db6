"""shared.streaming: the split rule and id maps, test rows never feed the statistics, and the streaming
dataset yields every training row exactly once per epoch (the Dask statistics pass: tests/test_dask_prep.py)."""

import numpy as np
import pandas as pd
import pytest

from shared.dask_prep import scan_training
from shared.streaming import ColumnMoments, SplitRule, StreamingIndex, hash_bucket, make_transform, streaming_dataset


def _write_parts(frame: pd.DataFrame, folder, sizes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    start = 0
    for k, size in enumerate(sizes):
        frame.iloc[start:start + size].to_parquet(folder / f"part-{k:03d}.parquet", index=False)
        start += size
    assert start == len(frame)


@pytest.fixture
def ratings(tmp_path):
    rng = np.random.default_rng(0)
    n = 3000
    frame = pd.DataFrame({"row_id": np.arange(n, dtype=np.int64), "user": rng.integers(0, 60, n) * 7,
                          "item": rng.choice([f"m{i}" for i in range(400)], n),
                          "rating": (1e6 + rng.normal(3.5, 1.0, n)).astype(np.float64)})
    frame["split"] = np.where(hash_bucket(frame["row_id"].to_numpy()) >= 0.25, "train", "test")
    # ids and a rating only present in test rows: they must never reach the statistics
    test_rows = frame.index[frame["split"] == "test"][:3]
    frame.loc[test_rows, "user"] = 99_999
    frame.loc[test_rows, "item"] = "only-in-test"
    frame.loc[test_rows, "rating"] = 1e9
    folder = tmp_path / "ratings"
    _write_parts(frame, folder, [1000, 700, 1300])
    return frame, folder


def test_column_moments_standardize_with_training_moments():
    values = 1e9 + np.random.default_rng(1).normal(0, 0.5, 1000)
    moments = ColumnMoments("x", count=values.size, mean=float(values.mean()), variance=float(values.var()))
    scaled = moments.transform(values)
    assert abs(float(scaled.mean())) < 1e-3 and float(scaled.std()) == pytest.approx(1.0, rel=1e-3)
    assert list(ColumnMoments("c", count=3, mean=2.0, variance=0.0).transform([2.0, 3.0])) == [0.0, 1.0]  # centred only
    with pytest.raises(ValueError, match="no training values"):
        ColumnMoments("empty").transform([1.0])


def test_streaming_index_is_sorted_and_maps_unknown_ids_to_zero():
    rng = np.random.default_rng(2)
    ids = rng.choice(np.arange(1000, 1100), 2000)
    counts = pd.Series(ids).value_counts()
    a = StreamingIndex.from_counts("user", counts)
    b = StreamingIndex.from_counts("user", counts.sample(frac=1.0, random_state=0))  # counts in another order
    expected = np.sort(np.unique(ids))
    assert list(a.ids) == list(b.ids) == list(expected)
    assert a.size == len(expected) + 1
    assert list(a.lookup(expected)) == list(range(1, len(expected) + 1))
    assert list(a.lookup([5, -3, 2000])) == [0, 0, 0]  # never seen in training -> the unknown index
    assert (a.counts() == counts.reindex(a.ids)).all()
    rare = StreamingIndex.from_counts("user", counts, min_count=25)
    assert set(rare.ids) == set(counts[counts >= 25].index)
    assert rare.lookup(counts[counts < 25].index[:1].to_numpy())[0] == 0
    restored = StreamingIndex.from_dict(a.to_dict())
    assert list(restored.lookup(expected)) == list(a.lookup(expected))
    mixed = StreamingIndex.from_counts("item", pd.Series([1, 1, 1], index=pd.Index(["b", 3, "a"], dtype=object)))
    assert list(mixed.ids) == [3, "a", "b"]                  # mixed types: ordered by their text
    with pytest.raises(ValueError, match="min_count must be an int"):
        StreamingIndex("user", min_count=0)


def test_split_rule_is_decided_per_row():
    frame = pd.DataFrame({"row_id": np.arange(20_000)})
    rule = SplitRule("row_id", test_fraction=0.2)
    mask = rule.is_train(frame)
    assert 0.78 < mask.mean() < 0.82
    assert (np.concatenate([rule.is_train(frame.iloc[:777]), rule.is_train(frame.iloc[777:])]) == mask).all()
    assert not (SplitRule("row_id", test_fraction=0.2, salt=1).is_train(frame) == mask).all()
    labels = SplitRule("split", train_values="train")
    assert list(labels.mask(pd.DataFrame({"split": ["train", "test", "val"]}), "test")) == [False, True, True]
    with pytest.raises(ValueError, match="split column 'split' is missing"):
        labels.is_train(frame)
    with pytest.raises(ValueError, match=r"test_fraction must be in \[0, 1\)"):
        SplitRule("row_id", test_fraction=1.5)
    with pytest.raises(ValueError, match="part must be one of"):
        rule.mask(frame, "validation")


def test_scan_training_equals_in_memory_statistics_and_ignores_test_rows(ratings):
    frame, folder = ratings
    split = SplitRule("split", train_values=("train",))
    stats = scan_training(folder, split=split, id_columns=("user", "item"), numeric_columns=("rating",))
    train = frame[frame["split"] == "train"]
    assert stats.rows_train == len(train) and stats.rows_held_out == len(frame) - len(train)
    assert list(stats.indexes["user"].ids) == sorted(train["user"].unique())
    assert list(stats.indexes["item"].ids) == sorted(train["item"].unique())
    assert stats.moments["rating"].mean == pytest.approx(train["rating"].mean(), rel=1e-12)
    assert stats.moments["rating"].variance == pytest.approx(train["rating"].var(ddof=0), rel=1e-8)
    # the ids (and the outlier rating) that exist only in test rows are unknown to the training statistics
    assert stats.indexes["user"].lookup([99_999])[0] == 0
    assert stats.indexes["item"].lookup(["only-in-test"])[0] == 0
    assert stats.moments["rating"].maximum < 1e9
    test_part = make_transform(stats, part="test")(frame)
    assert (test_part.loc[test_part.index.isin(frame.index[frame["user"] == 99_999]), "user"] == 0).all()
    # a hash split on the row id selects the same rows per chunk as the precomputed column
    hashed = scan_training(folder, split=SplitRule("row_id", test_fraction=0.25), id_columns=("user",))
    assert hashed.rows_train == stats.rows_train
    with pytest.raises(ValueError, match="needs something to compute"):
        scan_training(folder, split=split)
    with pytest.raises(ValueError, match="no training rows"):
        scan_training(folder, split=SplitRule("split", train_values=("nope",)), id_columns=("user",))
    with pytest.raises(ValueError, match=r"no statistics for column\(s\) \['rating'\]"):
        make_transform(stats, scale_columns=("rating",), id_columns=("rating",))


def test_text_statistics_never_see_test_texts(tmp_path):
    frame = pd.DataFrame({"row_id": np.arange(8), "text": ["good film", "bad film", "good good", "bad plot",
                                                           "secretword appears", "great acting", "dull", "fine"],
                          "label": [1, 0, 1, 0, 1, 1, 0, 1],
                          "split": ["train"] * 4 + ["test"] + ["train"] * 3})
    _write_parts(frame, tmp_path / "texts", [3, 5])
    stats = scan_training(tmp_path / "texts", split=SplitRule("split", train_values=("train",)), text_column="text",
                          label_column="label")
    assert "secretword" not in stats.vocabulary.tokens and "appears" not in stats.vocabulary.tokens
    train_words = {w for t in frame.loc[frame["split"] == "train", "text"] for w in t.split()}
    assert set(stats.vocabulary.tokens) == train_words
    assert stats.label_counts == {0: 3, 1: 4}
    vectorizer = stats.vocabulary.vectorizer(max_tokens=100, sequence_length=3)
    ids = np.asarray(vectorizer(np.array(["secretword good"])))
    assert list(ids[0]) == [1, vectorizer.get_vocabulary().index("good"), 0]  # OOV, known, padding


@pytest.mark.parametrize("engine", ["numpy", "tf.data"])
def test_streaming_dataset_yields_every_training_row_once_per_epoch(ratings, engine):
    frame, folder = ratings
    split = SplitRule("split", train_values=("train",))
    stats = scan_training(folder, split=split, id_columns=("user", "item"), numeric_columns=("rating",))
    ds = streaming_dataset(folder, stats, features=("row_id", "user", "item"), target="rating",
                           scale_columns=("rating",), batch_size=64, chunk_rows=300, shuffle_buffer=500, seed=3,
                           engine=engine)
    train = frame[frame["split"] == "train"].set_index("row_id")
    assert int(ds.cardinality()) == -(-len(train) // 64)
    epochs = []
    for _ in range(2):
        seen, users, ratings_ = [], [], []
        for x, y in ds:
            assert x["user"].dtype.name == "int32" and set(x) == {"row_id", "user", "item"}
            seen.append(x["row_id"].numpy())
            users.append(x["user"].numpy())
            ratings_.append(y.numpy())
        epochs.append(np.concatenate(seen))
        order = np.concatenate(seen)
        assert len(order) == len(train) and set(order) == set(train.index)  # every row, once
        expected_users = stats.indexes["user"].lookup(train.loc[order, "user"].to_numpy())
        assert (np.concatenate(users) == expected_users).all() and (np.concatenate(users) > 0).all()
        expected = stats.moments["rating"].transform(train.loc[order, "rating"].to_numpy())
        assert np.allclose(np.concatenate(ratings_), expected, atol=1e-5)
    assert not (epochs[0] == epochs[1]).all()                       # reshuffled each epoch
    assert not (epochs[0] == np.sort(epochs[0])).all()              # and shuffled at all
    in_order = streaming_dataset(folder, stats, features=("row_id",), part="test", batch_size=50, shuffle_buffer=0,
                                 engine=engine)
    test_ids = np.concatenate([x["row_id"].numpy() for x in in_order])
    assert list(test_ids) == list(frame.loc[frame["split"] == "test", "row_id"])  # file order, test rows only


def test_streaming_dataset_single_text_input_and_errors(tmp_path):
    frame = pd.DataFrame({"text": [f"text {i}" for i in range(10)], "label": [i % 2 for i in range(10)],
                          "split": ["train"] * 10})
    _write_parts(frame, tmp_path / "t", [10])
    stats = scan_training(tmp_path / "t", split=SplitRule("split", train_values=("train",)), text_column="text")
    x, y = next(iter(streaming_dataset(tmp_path / "t", stats, features=("text",), target="label", batch_size=4,
                                       single_input=True)))
    assert tuple(x.shape) == (4, 1) and x.dtype.name == "string" and y.dtype.name == "float32"
    with pytest.raises(ValueError, match="engine must be one of"):
        streaming_dataset(tmp_path / "t", stats, features=("text",), engine="spark")
    with pytest.raises(ValueError, match="single_input needs exactly one feature"):
        streaming_dataset(tmp_path / "t", stats, features=("text", "label"), single_input=True)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['missing'\]"):
        streaming_dataset(tmp_path / "t", stats, features=("missing",))
    with pytest.raises(FileNotFoundError, match="no .parquet files"):
        scan_training(tmp_path / "nowhere", split=stats.split, text_column="text")
