"""The four family builders: shapes, validation messages, save/load round trip, registry."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from shared import models
from shared.models import (build_cnn1d, build_cnn2d, build_embedding_tower, build_matrix_factorization, build_mlp,
                           build_rnn, build_text_classifier, build_two_tower, fit_text_vectorizer, text_batch)


def test_importing_shared_does_not_import_tensorflow():
    code = ("import sys, shared, shared.models, shared.data, shared.artifacts, shared.results, shared.app, "
            "shared.cli, shared.training, shared.losses; "
            "print('tensorflow' in sys.modules or 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_mlp_shapes_and_regularization_layers():
    model = build_mlp(n_features=5, hidden_units=(8, 4), dropout=0.2, l2=1e-3, normalization="batch", outputs=3,
                      output_activation="softmax")
    assert model.output_shape == (None, 3)
    names = [layer.name for layer in model.layers]
    assert any("dropout" in n for n in names) and any("norm" in n for n in names)
    assert len(model.losses) > 0  # the L2 penalties are attached
    probs = model(np.zeros((2, 5), dtype="float32")).numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert not model.compiled  # the caller compiles


def test_rnn_many_to_one_and_many_to_many():
    one = build_rnn(input_steps=7, n_features=3, units=(8, 4), cell="gru", bidirectional=True, outputs=2)
    assert one.output_shape == (None, 2)
    many = build_rnn(input_steps=7, n_features=3, units=(4,), return_sequences=True, outputs=1,
                     normalization="layer")
    assert many.output_shape == (None, 7, 1)


def test_cnn_shapes():
    assert build_cnn2d(input_shape=(8, 8, 1), filters=(4, 8), outputs=10).output_shape == (None, 10)
    assert build_cnn1d(input_steps=20, n_features=2, kernel_sizes=(3, 5), outputs=14).output_shape == (None, 14)


def test_embedding_models():
    tower = build_embedding_tower(n_ids=10, embedding_dim=4, hidden_units=(8,), output_dim=3, n_features=2)
    assert tower.output_shape == (None, 3)
    mf = build_matrix_factorization(n_users=4, n_items=5, n_factors=3, global_mean=3.5)
    pred = mf({"user": np.array([0, 3]), "item": np.array([4, 0])}).numpy()
    assert pred.shape == (2,)
    np.testing.assert_allclose(pred, 3.5, atol=0.1)  # small init: starts near the global mean
    tt = build_two_tower(n_users=4, n_items=5, embedding_dim=6, hidden_units=(8,))
    assert {layer.name for layer in tt.layers} >= {"user_tower", "item_tower"}
    assert tt({"user": np.array([1]), "item": np.array([2])}).shape == (1,)


def test_text_classifier_takes_raw_strings_and_round_trips(tmp_path):
    texts = ["a fine film", "a dull film", "fine acting", "dull plot and dull acting"]
    vectorizer = fit_text_vectorizer(texts, max_tokens=50, sequence_length=6)
    for encoder in ("lstm", "cnn"):
        model = build_text_classifier(vectorizer=vectorizer, encoder=encoder, embedding_dim=8, units=(4,),
                                      filters=4, kernel_sizes=(2, 3), dropout=0.1)
        batch = text_batch(["fine film", "never seen words"])
        before = model.predict(batch, verbose=0)
        assert before.shape == (2, 1) and np.all((before > 0) & (before < 1))
        path = tmp_path / f"{encoder}.keras"
        model.save(path)
        from shared.models._keras import keras

        loaded = keras().models.load_model(path)
        np.testing.assert_allclose(loaded.predict(batch, verbose=0), before, rtol=1e-5)
    multi = build_text_classifier(vectorizer=vectorizer, n_classes=3, units=(4,), embedding_dim=4)
    assert multi.output_shape == (None, 3)


def test_vectorizer_is_fitted_on_given_texts_only():
    vectorizer = fit_text_vectorizer(["train words only"], max_tokens=20, sequence_length=4)
    vocab = vectorizer.get_vocabulary()
    assert "train" in vocab and "unseen" not in vocab
    ids = vectorizer(np.array(["unseen train"])).numpy()[0]
    assert ids[0] == 1  # out-of-vocabulary token


@pytest.mark.parametrize("builder,kwargs,match", [
    (build_mlp, {"n_features": 0}, "n_features must be >= 1"),
    (build_mlp, {"n_features": 3, "dropout": 1.5}, r"dropout must be in \[0, 1\)"),
    (build_mlp, {"n_features": 3, "l2": -1.0}, "l2 must be >= 0"),
    (build_mlp, {"n_features": 3, "normalization": "group"}, "normalization must be one of"),
    (build_mlp, {"n_features": 3, "hidden_units": (8, -2)}, r"hidden_units\[1\] must be >= 1"),
    (build_rnn, {"input_steps": 0, "n_features": 1}, "input_steps must be >= 1, got 0; pass the window length"),
    (build_rnn, {"input_steps": 5, "n_features": 1, "cell": "transformer"}, "cell must be one of"),
    (build_rnn, {"input_steps": 5, "n_features": 1, "units": ()}, "units must hold at least one size"),
    (build_cnn2d, {"input_shape": (8, 8)}, "add a channel axis"),
    (build_cnn1d, {"input_steps": 5, "n_features": 1, "pooling": "median"}, "pooling must be one of"),
    (build_matrix_factorization, {"n_users": 0, "n_items": 3}, "user index built on training data"),
    (build_embedding_tower, {"n_ids": 5, "n_features": -1}, "n_features must be an int >= 0"),
])
def test_builders_reject_bad_arguments(builder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        builder(**kwargs)


def test_builders_reject_wrong_types():
    with pytest.raises(TypeError, match="n_features must be an int"):
        build_mlp(n_features=3.5)
    with pytest.raises(TypeError, match="vectorizer must be a keras TextVectorization"):
        build_text_classifier(vectorizer="not a layer")
    with pytest.raises(TypeError, match="train_texts must hold strings only"):
        fit_text_vectorizer(["ok", None])
    with pytest.raises(ValueError, match="non-empty"):
        fit_text_vectorizer([])


def test_registry_maps_names_to_builders():
    assert set(models.FAMILIES) == {"dense", "cnn", "rnn", "nlp"}
    assert models.get_builder("rnn") is build_rnn
    model = models.build_model("mlp", n_features=2, hidden_units=(3,))
    assert model.output_shape == (None, 1)
    with pytest.raises(ValueError, match="unknown model 'transformer'; choose one of"):
        models.get_builder("transformer")


def test_models_save_and_load_as_keras_files(tmp_path):
    from shared.models._keras import keras

    x = np.random.default_rng(0).normal(size=(3, 6, 2)).astype("float32")
    for model in (build_rnn(input_steps=6, n_features=2, units=(4,)), build_cnn1d(input_steps=6, n_features=2)):
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        np.testing.assert_allclose(keras().models.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0),
                                   rtol=1e-5)


def test_token_embeddings_are_the_model_rows_of_its_vocabulary():
    from shared.models import token_embeddings

    vectorizer = fit_text_vectorizer(["good good good film", "bad film", "dull"], max_tokens=20, sequence_length=4)
    model = build_text_classifier(vectorizer=vectorizer, embedding_dim=3, units=(2,))
    words, matrix = token_embeddings(model)
    vocabulary = vectorizer.get_vocabulary()
    assert words == vocabulary[2:] and words[0] == "good"  # padding and [UNK] dropped, most frequent first
    np.testing.assert_array_equal(matrix, model.get_layer("token_embedding").get_weights()[0][2:])
    assert token_embeddings(model, max_words=2)[0] == words[:2]
    with pytest.raises(ValueError, match="built by build_text_classifier"):
        token_embeddings(build_mlp(n_features=3, hidden_units=(2,)))
