"""NLTK text processing of applications/review_sentiment: tokenizers, negation, stemming, resources."""

from __future__ import annotations

import pytest

from applications.review_sentiment import text
from applications.review_sentiment.text import NLTKResourceMissing, TextPipeline


def test_treebank_splits_contractions_and_sentences():
    tokens = TextPipeline(negation=False).tokenize("It isn't good. Don't go!")
    assert tokens == ["it", "is", "n't", "good", ".", "do", "n't", "go", "!"]


def test_curly_quotes_are_normalized():
    assert TextPipeline(negation=False).tokenize("Pete’s film") == ["pete", "'s", "film"]


def test_negation_marks_until_sentence_punctuation():
    tokens = TextPipeline().tokenize("It is not good, not bad. Great fun.")
    assert tokens[:3] == ["it", "is", "not"]
    assert "good_NEG" in tokens and "bad_NEG" in tokens
    assert tokens[tokens.index(".") + 1:] == ["great", "fun", "."]
    assert text.mark_negation(["never", "funny", "!", "ok"]) == ["never", "funny_NEG", "!", "ok"]


@pytest.mark.parametrize("tokenizer", ["treebank", "regexp", "tweet"])
def test_offline_tokenizers_work_without_nltk_data(tokenizer, tmp_path, monkeypatch):
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    pipeline = TextPipeline(tokenizer=tokenizer).check_resources()
    tokens = pipeline.tokenize("Loved it :) but the ending wasn't great")
    assert "loved" in tokens and any(t.startswith("great") for t in tokens)


def test_tweet_tokenizer_keeps_emoticons_and_hashtags():
    tokens = TextPipeline(tokenizer="tweet", negation=False).tokenize("sooooo good :) #mustsee")
    assert ":)" in tokens and "#mustsee" in tokens and "sooo" in tokens


def test_stemming_keeps_the_negation_suffix():
    tokens = TextPipeline(stemmer="porter").tokenize("The actors weren't convincing")
    assert "actor" in tokens and "convinc_NEG" in tokens


def test_sklearn_stop_words_keep_negations():
    tokens = TextPipeline(stopwords="sklearn", negation=False).tokenize("this is not a film of note")
    assert "not" in tokens and "this" not in tokens and "film" in tokens


def test_ngrams_from_nltk():
    assert text.ngrams(["a", "b", "c"], 2) == ["a_b", "b_c"]
    with pytest.raises(ValueError, match="n must be"):
        text.ngrams(["a"], 0)


@pytest.mark.parametrize("options, name", [({"tokenizer": "punkt"}, "punkt_tab"), ({"stemmer": "wordnet"}, "wordnet"),
                                           ({"stopwords": "nltk"}, "stopwords")])
def test_missing_nltk_resource_names_it_and_the_install_command(options, name, tmp_path, monkeypatch):
    import nltk

    empty = tmp_path / "nltk_data"
    empty.mkdir()
    monkeypatch.setenv("NLTK_DATA", str(empty))
    monkeypatch.setattr(nltk.data, "path", [str(empty)])
    with pytest.raises(NLTKResourceMissing, match=rf"'{name}'.*python -m nltk\.downloader {name}"):
        TextPipeline(**options).check_resources()


def test_unknown_options_and_bad_input():
    with pytest.raises(ValueError, match="tokenizer must be one of"):
        TextPipeline(tokenizer="spacy")
    with pytest.raises(TypeError, match="strings"):
        TextPipeline().tokenize(None)  # type: ignore[arg-type]


def test_pipeline_round_trips_through_a_dict():
    pipeline = TextPipeline(tokenizer="regexp", stemmer="snowball", negation=False)
    payload = pipeline.to_dict()
    assert "nltk_version" in payload
    assert TextPipeline.from_dict(payload) == pipeline
    with pytest.raises(ValueError, match="retrain"):
        TextPipeline.from_dict({**payload, "lemmatize": True})


def test_vader_lexicon_comes_from_the_installed_package():
    lexicon = text.vader_lexicon()
    assert len(lexicon) > 7000
    assert lexicon["good"] > 0 > lexicon["bad"]
    assert text.lexicon_valence("boring_NEG") == lexicon["boring"]
    assert text.lexicon_valence("zzzqqq") is None
