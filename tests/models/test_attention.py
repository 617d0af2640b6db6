"""shared.models.attention: shapes, padding invariance, causality, .keras round trip, validation."""

from __future__ import annotations

import numpy as np
import pytest

from shared.models.attention import build_transformer_encoder


def _ids(rows, length):
    out = np.zeros((len(rows), length), dtype="int32")
    for i, row in enumerate(rows):
        out[i, :len(row)] = row
    return out


ROWS = [[5, 3, 9, 2], [7, 1], [4, 4, 8, 6, 11, 2]]


@pytest.mark.parametrize("pooling, shape", [("none", (3, 8, 16)), ("mean", (3, 16)), ("first", (3, 16))])
def test_shapes(pooling, shape):
    model = build_transformer_encoder(vocab_size=12, max_len=8, embed_dim=16, num_heads=4, num_blocks=1,
                                      pooling=pooling)
    assert tuple(model(_ids(ROWS, 8)).shape) == shape
    assert model.get_layer("transformer_encoder_token_embedding").input_dim == 12
    assert not model.compiled  # uncompiled


@pytest.mark.parametrize("causal", [False, True])
def test_extra_padding_changes_nothing(causal):
    seq = build_transformer_encoder(vocab_size=12, max_len=10, embed_dim=16, num_blocks=2, causal=causal)
    mean = build_transformer_encoder(vocab_size=12, max_len=10, embed_dim=16, num_blocks=2, causal=causal,
                                     pooling="mean")
    short, padded = _ids(ROWS, 6), _ids(ROWS, 10)
    a, b = np.asarray(seq(short)), np.asarray(seq(padded))
    for i, row in enumerate(ROWS):
        np.testing.assert_allclose(a[i, :len(row)], b[i, :len(row)], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mean(short), mean(padded), rtol=1e-5, atol=1e-6)
    # the padding really is masked: without the mask the pooled vector would move
    assert not np.allclose(np.asarray(mean(short))[1], np.asarray(seq(short))[1].mean(axis=0), atol=1e-4)


def test_block_honours_an_explicit_boolean_mask():
    from shared.models._keras import keras
    from shared.models.attention import TransformerBlock

    k = keras()
    block = TransformerBlock(num_heads=2, ff_dim=8, dropout=0.0)
    x = np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 0]], dtype=bool)
    noisy = x.copy()
    noisy[~mask] = 100.0  # garbage under the mask must not leak into real positions
    a, b = np.asarray(block(x, mask=k.ops.convert_to_tensor(mask))), np.asarray(block(noisy, mask=mask))
    np.testing.assert_allclose(a[mask], b[mask], rtol=1e-5, atol=1e-5)
    assert not np.allclose(np.asarray(block(x))[mask], np.asarray(block(noisy))[mask])  # unmasked: it leaks


def test_causal_mask_hides_later_positions():
    model = build_transformer_encoder(vocab_size=12, max_len=6, embed_dim=8, num_blocks=2, causal=True)
    ids = _ids([[3, 4, 5, 6, 7, 8]], 6)
    base = np.asarray(model(ids))
    for t in range(1, 6):
        changed = ids.copy()
        changed[0, t] = 11
        out = np.asarray(model(changed))
        np.testing.assert_allclose(out[0, :t], base[0, :t], rtol=1e-5, atol=1e-6)
        assert not np.allclose(out[0, t], base[0, t])
    bidirectional = build_transformer_encoder(vocab_size=12, max_len=6, embed_dim=8, num_blocks=1)
    changed = ids.copy()
    changed[0, 5] = 11
    assert not np.allclose(np.asarray(bidirectional(changed))[0, 0], np.asarray(bidirectional(ids))[0, 0])


@pytest.mark.parametrize("pooling", ["none", "mean"])
def test_keras_round_trip_gives_identical_outputs(tmp_path, pooling):
    from shared.models._keras import keras

    model = build_transformer_encoder(vocab_size=12, max_len=8, embed_dim=8, num_blocks=2, causal=True,
                                      pooling=pooling, name="items")
    ids = _ids(ROWS, 8)
    path = tmp_path / "enc.keras"
    model.save(path)
    loaded = keras().models.load_model(path)
    np.testing.assert_array_equal(np.asarray(loaded(ids)), np.asarray(model(ids)))
    assert loaded.get_layer("items_block_1").causal is True
    assert type(loaded.get_layer("items_block_0")).__name__ == "TransformerBlock"


def test_encoder_trains_and_dropout_is_off_at_inference():
    from shared.models._keras import keras

    k = keras()
    k.utils.set_random_seed(0)
    enc = build_transformer_encoder(vocab_size=12, max_len=8, embed_dim=8, num_blocks=1, dropout=0.3, pooling="mean")
    ids = _ids(ROWS, 8)
    np.testing.assert_array_equal(np.asarray(enc(ids)), np.asarray(enc(ids)))
    assert not np.allclose(np.asarray(enc(ids, training=True)), np.asarray(enc(ids)))  # dropout when training
    model = k.Sequential([enc, k.layers.Dense(1)])
    model.compile(optimizer=k.optimizers.Adam(1e-2), loss="mse")
    y = np.array([[1.0], [-1.0], [0.5]], dtype="float32")
    before = model.evaluate(ids, y, verbose=0)
    for _ in range(40):
        model.train_on_batch(ids, y)
    assert model.evaluate(ids, y, verbose=0) < 0.5 * before


@pytest.mark.parametrize("options, error, match", [
    ({"embed_dim": 10, "num_heads": 3}, ValueError, "divisible by num_heads"),
    ({"pooling": "max"}, ValueError, "pooling must be one of"),
    ({"vocab_size": 1}, ValueError, "vocab_size must be >= 2"),
    ({"max_len": 0}, ValueError, "max_len must be >= 1"),
    ({"dropout": 1.0}, ValueError, "dropout must be in"),
    ({"causal": "yes"}, TypeError, "causal must be True or False"),
    ({"ff_dim": 0}, ValueError, "ff_dim must be >= 1"),
    ({"num_blocks": 2.0}, TypeError, "num_blocks must be an int"),
])
def test_bad_options_raise(options, error, match):
    with pytest.raises(error, match=match):
        build_transformer_encoder(**{"vocab_size": 12, "max_len": 8, **options})


def test_positional_arguments_are_refused():
    with pytest.raises(TypeError):
        build_transformer_encoder(12, 8)  # type: ignore[misc]


def test_importing_attention_does_not_import_tensorflow():
    import subprocess
    import sys

    code = "import sys, shared.models.attention; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_text_transformer_takes_raw_strings_trains_and_round_trips(tmp_path):
    from shared.models import build_text_transformer, fit_text_vectorizer, text_batch
    from shared.models._keras import keras

    k = keras()
    train = ["good fun film", "great acting", "dull and boring", "awful plot", "good great", "boring awful"] * 4
    y = np.array([1, 1, 0, 0, 1, 0] * 4, dtype="float32")
    vectorizer = fit_text_vectorizer(train, max_tokens=50, sequence_length=6)
    model = build_text_transformer(vectorizer=vectorizer, embed_dim=16, num_blocks=1, dropout=0.0)
    assert model.output_shape == (None, 1) and model.get_layer("sentence_repr").output.shape[-1] == 16
    model.compile(optimizer=k.optimizers.Adam(1e-2), loss="binary_crossentropy")
    model.fit(text_batch(train), y, epochs=15, batch_size=8, verbose=0)
    p = np.asarray(model(text_batch(["good fun", "dull boring"])))[:, 0]
    assert p[0] > 0.5 > p[1]
    # the vocabulary is the training texts': an unseen word is out-of-vocabulary (id 1)
    assert vectorizer(["zebra"]).numpy()[0, 0] == 1
    path = tmp_path / "tt.keras"
    model.save(path)
    loaded = k.models.load_model(path)
    np.testing.assert_allclose(loaded(text_batch(["good fun"])), model(text_batch(["good fun"])), atol=1e-6)
    with pytest.raises(TypeError, match="vectorizer must be a keras TextVectorization"):
        build_text_transformer(vectorizer="x")
