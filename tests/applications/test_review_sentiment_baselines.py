"""The text baselines of applications/review_sentiment on a tiny hand-made corpus."""

from __future__ import annotations

import numpy as np
import pytest

from applications.review_sentiment import baselines as bl

POSITIVE = ["a great film", "great acting and a great story", "wonderful and moving", "a wonderful cast",
            "great fun", "moving and wonderful", "a great, wonderful ride", "loved the great score"]
NEGATIVE = ["a dull film", "dull acting and a dull story", "awful and boring", "a boring cast", "dull mess",
            "boring and awful", "an awful, dull ride", "hated the boring score"]
TEXTS = POSITIVE + NEGATIVE
LABELS = np.array([1] * len(POSITIVE) + [0] * len(NEGATIVE))
TEST = ["great and wonderful", "boring and dull", "a great story", "an awful film"]
TEST_Y = np.array([1, 0, 1, 0])


def test_majority_predicts_the_most_frequent_class():
    model = bl.MajorityBaseline().fit(["a", "b", "c"], [1, 1, 0])
    assert model.predict(["x", "y"]).tolist() == [1, 1]
    metrics = bl.metrics_from_scores([1, 0], model.predict(["x", "y"]), model.scores(["x", "y"]), n_classes=2)
    assert metrics == {"accuracy": 0.5, "macro_f1": pytest.approx(1 / 3), "roc_auc": 0.5}


def test_vader_needs_no_training_and_reads_obvious_sentiment():
    model = bl.VaderBaseline().fit(TEXTS, LABELS)
    assert model.predict(["a wonderful, great movie", "an awful, terrible movie"]).tolist() == [1, 0]
    compound = model.scores(["a wonderful, great movie", "an awful, terrible movie"])
    assert compound[0] >= 0.05 > compound[1]
    with pytest.raises(ValueError, match="two classes"):
        bl.VaderBaseline().fit(["a", "b", "c"], [0, 1, 2])


@pytest.mark.parametrize("make", [lambda: bl.TfidfLogReg(cv=2), bl.NBSVM, bl.CharSVM])
def test_trained_baselines_separate_a_tiny_corpus(make):
    model = make().fit(TEXTS, LABELS)
    metrics, pred, scores = bl.evaluate(model, TEST, TEST_Y, n_classes=2)
    assert pred.tolist() == TEST_Y.tolist()
    assert metrics["accuracy"] == 1.0 and metrics["roc_auc"] == 1.0
    assert scores.shape == (len(TEST),)


def test_tfidf_logreg_picks_c_from_its_grid_by_cv_on_training_texts():
    model = bl.TfidfLogReg(cs=(0.1, 10.0), cv=2, seed=0).fit(TEXTS, LABELS)
    assert model.c_ in (0.1, 10.0)
    assert set(model.cv_scores_) == {0.1, 10.0}
    assert model.cv_scores_[model.c_] == max(model.cv_scores_.values())


def test_vocabularies_come_from_training_texts_only():
    nb = bl.NBSVM().fit(TEXTS, LABELS)
    lr = bl.TfidfLogReg(cv=2).fit(TEXTS, LABELS)
    for vectorizer in (nb.vectorizer_, lr.vectorizer_):
        assert "wonderful" in vectorizer.vocabulary_
        assert "masterpiece" not in vectorizer.vocabulary_   # a word that only a test text could bring


def test_nbsvm_interpolation_and_multiclass():
    plain = bl.NBSVM(beta=1.0).fit(TEXTS, LABELS)
    mixed = bl.NBSVM(beta=0.25).fit(TEXTS, LABELS)
    assert not np.allclose(plain.scores(TEST), mixed.scores(TEST))
    texts = TEXTS + ["an average film", "average acting, average story", "ok and average", "an ok cast"]
    labels = np.concatenate([LABELS, [2, 2, 2, 2]])
    model = bl.NBSVM().fit(texts, labels)
    scores = model.scores(["average and ok", "great and wonderful"])
    assert scores.shape == (2, 3)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0)
    assert model.predict(["average and ok", "great and wonderful"]).tolist() == [2, 1]


def test_all_baselines_skip_vader_for_multiclass():
    assert [m.name for m in bl.all_baselines(2)] == ["majority", "vader", "tfidf_logreg", "nbsvm", "char_svm"]
    assert "vader" not in [m.name for m in bl.all_baselines(3)]


def test_baselines_reject_bad_input():
    with pytest.raises(ValueError, match="single class"):
        bl.NBSVM().fit(["a", "b"], [1, 1])
    with pytest.raises(TypeError, match="strings"):
        bl.CharSVM().fit(["a", None], [0, 1])
    with pytest.raises(ValueError, match="one entry per text"):
        bl.MajorityBaseline().fit(["a", "b"], [0])


def test_multiclass_auc_from_a_probability_matrix():
    y = np.array([0, 1, 2, 0, 1, 2])
    scores = np.eye(3)[y] * 0.8 + 0.2 / 3
    metrics = bl.metrics_from_scores(y, y, scores, n_classes=3)
    assert metrics["accuracy"] == 1.0 and metrics["roc_auc"] == 1.0
