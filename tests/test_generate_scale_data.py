"""data_scripts/generate_scale_data.py: same seed ⇒ same files, realistic structure, clear errors."""

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shared.streaming import SplitRule, read_manifest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "applications" / "review_sentiment" / "data" / "rotten_tomatoes_corpus_full.csv.bz2"


def _load_generator():
    path = ROOT / "data_scripts" / "generate_scale_data.py"
    spec = importlib.util.spec_from_file_location("generate_scale_data", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses in the script look their module up here
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
needs_corpus = pytest.mark.skipif(not CORPUS.is_file(), reason="bundled Rotten Tomatoes corpus not present")


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_writes_identical_files_and_another_seed_does_not(tmp_path):
    a = gen.generate("recommender", 0.02, tmp_path / "a", seed=7, rows_per_file=1000, block_rows=700)
    b = gen.generate("recommender", 0.02, tmp_path / "b", seed=7, rows_per_file=1000, block_rows=700)
    c = gen.generate("recommender", 0.02, tmp_path / "c", seed=8, rows_per_file=1000, block_rows=700)
    assert a.name == "recommender_x0.02"
    digests = _digests(a)
    assert len([n for n in digests if n.endswith(".parquet")]) >= 2  # several part files, several blocks
    assert digests == _digests(b)
    assert _digests(c)["part-00000.parquet"] != digests["part-00000.parquet"]
    # regenerating over an existing directory replaces it (no stale parts, no .partial left behind)
    again = gen.generate("recommender", 0.02, tmp_path / "a", seed=7, rows_per_file=1000, block_rows=700)
    assert _digests(again) == digests and not list((tmp_path / "a").glob("*.partial"))


def test_ratings_look_like_movielens(tmp_path):
    folder = gen.generate("recommender", 0.05, tmp_path, seed=42, rows_per_file=2000, block_rows=4000)
    frame = pd.read_parquet(folder)  # pyarrow skips _manifest.json
    manifest = read_manifest(folder)
    assert len(frame) == manifest["rows"] and manifest["rows_train"] == int((frame["split"] == "train").sum())
    assert sorted(frame["row_id"]) == list(range(len(frame)))
    per_user = frame.groupby("user").size()
    assert per_user.min() >= 20 and len(per_user) == manifest["users"] == round(671 * 0.05)
    assert per_user.max() > 3 * per_user.median()                    # heavy-tailed activity
    assert not frame.duplicated(["user", "item"]).any()              # one rating per user and item
    assert set(frame["rating"].unique()) <= set(np.arange(1, 11) / 2)
    popularity = frame["item"].value_counts()
    assert popularity.iloc[: len(popularity) // 10].sum() > 0.3 * len(frame)  # power-law popularity
    assert frame["timestamp"].between(gen.T_START, gen.T_END).all()
    # the split column is the documented per-row hash rule
    assert (SplitRule("row_id", test_fraction=0.2).is_train(frame) == (frame["split"] == "train")).all()
    # the part files mix users: the first 200 rows of a file already hold many different users
    first = pd.read_parquet(folder / "part-00000.parquet").head(200)
    assert first["user"].nunique() > 10


@needs_corpus
def test_reviews_are_deterministic_and_carry_the_sentiment_signal(tmp_path):
    a = gen.generate("review_sentiment", 0.1, tmp_path / "a", seed=3, rows_per_file=1000, block_rows=400)
    b = gen.generate("review_sentiment", 0.1, tmp_path / "b", seed=3, rows_per_file=1000, block_rows=400)
    assert _digests(a) == _digests(b)
    frame = pd.read_parquet(a)
    manifest = read_manifest(a)
    assert len(frame) == manifest["rows"] == round(12_752 * 0.1) and len(manifest["files"]) == 2
    assert frame["text"].str.len().gt(0).all() and set(frame["label"]) == {0, 1}
    assert 0.5 < frame["label"].mean() < 0.66                         # ≈ 57.8 % fresh as in the corpus
    corpus_words = {w for t in pd.read_csv(CORPUS)["text"].dropna().str.lower() for w in gen._TOKEN.findall(t)}
    words = {w for t in frame["text"].str.lower() for w in gen._TOKEN.findall(t)}
    assert words <= corpus_words                                      # the real vocabulary, nothing invented
    # labels follow the sentiment words: judged by an independent lexicon (VADER), positive texts are
    # fresh more often than negative ones
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    compound = frame["text"].map(lambda text: analyzer.polarity_scores(text)["compound"])
    positive, negative = frame.loc[compound >= 0.05, "label"], frame.loc[compound <= -0.05, "label"]
    assert len(positive) > 100 and len(negative) > 100
    assert positive.mean() - negative.mean() > 0.1


def test_errors_name_the_problem_and_the_fix(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="fetch_rotten_tomatoes.py"):
        gen.generate("review_sentiment", 0.01, tmp_path, corpus=tmp_path / "missing.csv.bz2")
    assert not list(tmp_path.glob("review_sentiment*"))               # nothing half-written left behind
    with pytest.raises(ValueError, match="app must be one of"):
        gen.generate("stock_forecast", 1, tmp_path)
    with pytest.raises(ValueError, match="scale must be a number"):
        gen.generate("recommender", 0, tmp_path)
    assert gen.main(["--app", "review_sentiment", "--scale", "0.01", "--out", str(tmp_path),
                     "--corpus", str(tmp_path / "missing.csv.bz2")]) == 2
    assert "Rotten Tomatoes corpus not found" in capsys.readouterr().err
    assert gen.main(["--app", "recommender", "--scale", "0.01", "--out", str(tmp_path), "--log-level", "WARNING"]) == 0
    manifest = json.loads((tmp_path / "recommender_x0.01" / "_manifest.json").read_text())
    assert manifest["seed"] == 42 and manifest["rows"] > 0
