"""Deep models of applications/review_sentiment: leakage, save/load round trip, occlusion."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from applications.review_sentiment import models
from applications.review_sentiment.explain import occlusion
from applications.review_sentiment.text import TextPipeline

TINY = models.DeepParams(max_tokens=200, sequence_length=12, embedding_dim=8, lstm_units=4, filters=4,
                         kernel_sizes=(2, 3), dropout=0.1, epochs=2, batch_size=8, patience=1, val_fraction=0.25)
GOOD = ["a great film", "great acting", "wonderful and moving", "a wonderful cast", "great fun", "truly wonderful",
        "great great story", "moving and great"]
BAD = ["a dull film", "dull acting", "awful and boring", "a boring cast", "dull mess", "truly awful",
       "boring boring story", "awful and dull"]
PIPELINE = TextPipeline()


def _data():
    texts = PIPELINE.process(GOOD + BAD)
    labels = np.array([1] * len(GOOD) + [0] * len(BAD))
    return texts, labels


@pytest.fixture(scope="module")
def trained_cnn():
    texts, labels = _data()
    return models.train("cnn", texts, labels, params=TINY, n_classes=2, seed=7)


def test_vocabulary_is_fitted_on_the_fitting_texts_only(trained_cnn):
    texts, labels = _data()
    vocabulary = set(trained_cnn.model.get_layer("vectorizer").get_vocabulary())
    fit_idx = np.setdiff1d(np.arange(len(texts)), trained_cnn.val_idx)
    fit_tokens = {tok for i in fit_idx for tok in texts[i].split()}
    val_only = {tok for i in trained_cnn.val_idx for tok in texts[i].split()} - fit_tokens
    assert fit_tokens <= vocabulary
    assert not (val_only & vocabulary), "validation texts leaked into the vocabulary"
    assert "masterpiece" not in vocabulary          # a token seen only at test time is out of vocabulary
    vectorizer = trained_cnn.model.get_layer("vectorizer")
    ids = np.asarray(vectorizer(np.array(["masterpiece"]))).ravel()
    assert ids[0] == 1                               # 1 = OOV in Keras' TextVectorization


def test_validation_is_carved_from_training_part_stratified():
    labels = np.array([0] * 30 + [1] * 70)
    fit, val = models.carve_validation(labels, 0.1, seed=3)
    assert len(val) == 10 and len(np.intersect1d(fit, val)) == 0 and len(fit) + len(val) == 100
    assert labels[val].sum() == 7
    with pytest.raises(ValueError, match="val_fraction"):
        models.carve_validation(labels, 0.7, seed=3)


def test_predictions_are_probabilities_and_sentence_vectors_exist(trained_cnn):
    texts, _ = _data()
    proba = models.predict_proba(trained_cnn.model, texts)
    assert proba.shape == (len(texts),) and np.all((proba >= 0) & (proba <= 1))
    vectors = models.sentence_vectors(trained_cnn.model, texts[:3])
    assert vectors.shape == (3, 8)                   # 2 kernel widths x 4 filters


def test_save_and_load_round_trip_gives_the_same_probabilities(trained_cnn, tmp_path):
    from shared.artifacts import save_model

    save_model(trained_cnn.model, tmp_path / "model_text_cnn.keras")
    models.write_pipeline(tmp_path, pipeline=PIPELINE, classes=("rotten", "fresh"), model_file="model_text_cnn.keras",
                          model_name="text_cnn", params=TINY)
    predictor = models.load_predictor(tmp_path)
    raw = ["A great, wonderful film!", "Dull. Not moving at all.", "unseen words only"]
    expected = models.predict_proba(trained_cnn.model, PIPELINE.process(raw))
    np.testing.assert_allclose(predictor.proba(raw), expected, rtol=1e-6, atol=1e-7)
    assert predictor.pipeline == PIPELINE and predictor.classes == ("rotten", "fresh")
    matrix = predictor.probability_matrix(raw)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)


def test_load_predictor_errors_name_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="--model-dir"):
        models.load_predictor(tmp_path)
    (tmp_path / models.PIPELINE_FILE).write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        models.load_predictor(tmp_path)


def test_occlusion_gives_one_signed_contribution_per_token(trained_cnn):
    explanation = occlusion("A great film, not dull.", pipeline=PIPELINE, classes=("rotten", "fresh"),
                            predict=lambda s: models.predict_proba(trained_cnn.model, s), true_label="fresh")
    tokens = PIPELINE.tokenize("A great film, not dull.")
    assert len(explanation.contributions) == len(explanation.tokens) == len(tokens)
    assert explanation.class_name == "fresh" and 0 <= explanation.probability <= 1
    assert "great" in explanation.as_text()
    with pytest.raises(ValueError, match="non-empty"):
        occlusion("  ", pipeline=PIPELINE, classes=("a", "b"), predict=lambda s: np.zeros(len(s)))


@pytest.mark.slow
def test_same_seed_same_bilstm():
    texts, labels = _data()
    params = dataclasses.replace(TINY, epochs=1)
    a = models.train("bilstm", texts, labels, params=params, n_classes=2, seed=11)
    b = models.train("bilstm", texts, labels, params=params, n_classes=2, seed=11)
    np.testing.assert_allclose(models.predict_proba(a.model, texts), models.predict_proba(b.model, texts))


def test_multiclass_model_outputs_a_softmax_matrix():
    texts, labels = _data()
    labels = np.arange(len(texts)) % 3
    trained = models.train("cnn", texts, labels, params=dataclasses.replace(TINY, epochs=1), n_classes=3, seed=1)
    proba = models.predict_proba(trained.model, texts)
    assert proba.shape == (len(texts), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert set(models.predicted_class(proba)) <= {0, 1, 2}
