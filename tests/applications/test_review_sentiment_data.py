"""Loaders of applications/review_sentiment: the bundled sample's cleaning and CSV validation."""

from __future__ import annotations

import pandas as pd
import pytest

from applications.review_sentiment import data


@pytest.fixture(scope="module")
def sample():
    return data.load_sample()


def test_sample_is_cleaned_as_the_protocol_says(sample):
    corpus = sample
    assert len(corpus.frame) == 12752
    assert corpus.classes == ("rotten", "fresh")
    assert corpus.class_counts() == {"rotten": 5384, "fresh": 7368}
    assert corpus.cleaning["non_review_rows_dropped"] == 1097
    assert corpus.cleaning["duplicate_texts_dropped"] == 56
    assert corpus.frame["text"].is_unique
    assert set(corpus.frame["label"]) == {0, 1}
    assert 105 < corpus.info()["mean_characters"] < 118


def test_missing_sample_names_the_rebuild_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="fetch_rotten_tomatoes.py"):
        data.load_sample(tmp_path / "nope.csv.bz2")


def _write(tmp_path, frame, name="reviews.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_csv_binary_with_duplicates_and_positive_label(tmp_path):
    frame = pd.DataFrame({"review": ["good", "bad", "good", "great", "awful", "fine"],
                          "stars": ["pos", "neg", "pos", "pos", "neg", "neg"]})
    corpus = data.load_csv(_write(tmp_path, frame), text_column="review", label_column="stars")
    assert corpus.classes == ("neg", "pos")
    assert corpus.cleaning["duplicate_texts_dropped"] == 1
    assert len(corpus.frame) == 5
    flipped = data.load_csv(_write(tmp_path, frame), text_column="review", label_column="stars",
                            positive_label="neg")
    assert flipped.classes == ("pos", "neg")
    assert flipped.frame.loc[flipped.frame["text"] == "bad", "label"].item() == 1


def test_csv_multiclass_numeric_labels_sort_numerically(tmp_path):
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(9)], "label": [10, 2, 1, 10, 2, 1, 10, 2, 1]})
    corpus = data.load_csv(_write(tmp_path, frame))
    assert corpus.classes == ("1", "2", "10")
    assert corpus.n_classes == 3


@pytest.mark.parametrize("frame, match", [
    (pd.DataFrame({"text": ["a", "", "c", "d"], "label": [0, 1, 0, 1]}), "empty or missing text"),
    (pd.DataFrame({"text": ["a", None, "c", "d"], "label": [0, 1, 0, 1]}), "empty or missing text"),
    (pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [0, None, 0, 1]}), "missing label"),
    (pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [0, 0, 0, 1]}), "fewer than 2 examples"),
    (pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [1, 1, 1, 1]}), "single class"),
    (pd.DataFrame({"body": ["a", "b"], "label": [0, 1]}), r"missing column.*--text-column"),
])
def test_bad_csvs_give_clear_errors(tmp_path, frame, match):
    with pytest.raises(ValueError, match=match):
        data.load_csv(_write(tmp_path, frame))


def test_empty_and_missing_csv_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        data.load_csv(empty)
    with pytest.raises(FileNotFoundError, match="--path"):
        data.load_csv(tmp_path / "absent.csv")


def test_positive_label_must_exist_and_needs_two_classes(tmp_path):
    frame = pd.DataFrame({"text": list("abcdef"), "label": ["x", "y", "z", "x", "y", "z"]})
    with pytest.raises(ValueError, match="two classes"):
        data.load_csv(_write(tmp_path, frame), positive_label="x")
    binary = pd.DataFrame({"text": list("abcd"), "label": ["x", "y", "x", "y"]})
    with pytest.raises(ValueError, match="not a label"):
        data.load_csv(_write(tmp_path, binary), positive_label="q")


def test_stratified_subsample_keeps_proportions(sample):
    corpus = sample
    small = data.stratified_subsample(corpus, 1000, seed=42)
    assert len(small.frame) == 1000
    share = small.frame["label"].mean()
    assert abs(share - corpus.frame["label"].mean()) < 0.002
    again = data.stratified_subsample(corpus, 1000, seed=42)
    assert small.frame.equals(again.frame)
    assert data.stratified_subsample(corpus, None, seed=1) is corpus
    with pytest.raises(ValueError, match="too small"):
        data.stratified_subsample(corpus, 5, seed=1)
