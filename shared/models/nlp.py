"""NLP family: text vectorization fitted on training texts + embedding + recurrent, conv or attention encoder.

Two steps, so vocabulary fitting can never see test data by accident:

    vectorizer = fit_text_vectorizer(train_texts, max_tokens=20000, sequence_length=64)
    model = build_text_classifier(vectorizer=vectorizer, encoder="lstm", bidirectional=True, n_classes=2)

``build_text_transformer(vectorizer=...)`` puts a from-scratch Transformer encoder
(:mod:`shared.models.attention`) in place of the RNN/CNN. The returned models take raw strings, so the saved ``.keras`` file carries its preprocessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _checks as check
from ._keras import keras
from ._layers import output_head, regularizer
from .cnn import conv1d_encoder
from .rnn import recurrent_encoder

ENCODERS = ("lstm", "gru", "cnn")
STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation", None)


def fit_text_vectorizer(train_texts: Sequence[str] | np.ndarray, *, max_tokens: int = 20000,
                        sequence_length: int = 64, ngrams: int | None = None,
                        standardize: str | None = "lower_and_strip_punctuation") -> Any:
    """A ``TextVectorization`` layer adapted on ``train_texts`` only (never pass test texts).

    Token 0 is padding and token 1 is out-of-vocabulary, as in Keras.
    """
    texts = np.asarray(list(train_texts) if not isinstance(train_texts, np.ndarray) else train_texts, dtype=object)
    if texts.ndim != 1 or len(texts) == 0:
        raise ValueError(f"train_texts must be a non-empty 1-D sequence of strings, got shape {texts.shape}; "
                         "pass the training texts only")
    if not all(isinstance(t, str) for t in texts):
        raise TypeError("train_texts must hold strings only; fill or drop missing texts before fitting")
    check.positive_int("max_tokens", max_tokens)
    check.positive_int("sequence_length", sequence_length, hint="pass the number of tokens kept per text")
    if ngrams is not None:
        check.positive_int("ngrams", ngrams)
    check.choice("standardize", standardize, STANDARDIZE)
    k = keras()
    vectorizer = k.layers.TextVectorization(max_tokens=max_tokens, output_sequence_length=sequence_length,
                                            standardize=standardize, ngrams=ngrams, name="vectorizer")
    vectorizer.adapt(texts.astype(str))
    return vectorizer


def _fitted_vocabulary_size(vectorizer: Any) -> int:
    """The vocabulary size of a TextVectorization fitted on training texts (clear errors otherwise)."""
    if not isinstance(vectorizer, keras().layers.TextVectorization):
        raise TypeError("vectorizer must be a keras TextVectorization layer; build it with "
                        "fit_text_vectorizer(train_texts)")
    vocab_size = vectorizer.vocabulary_size()
    if vocab_size <= 2:
        raise ValueError("vectorizer has an empty vocabulary; fit it on training texts with "
                         "fit_text_vectorizer(train_texts) first")
    return vocab_size


def build_text_classifier(*, vectorizer: Any, embedding_dim: int = 64, encoder: str = "lstm",
                          units: Sequence[int] = (64,), bidirectional: bool = True,
                          kernel_sizes: Sequence[int] = (3, 4, 5), filters: int = 64, dropout: float = 0.0,
                          recurrent_dropout: float = 0.0, l2: float = 0.0, dense_units: Sequence[int] = (),
                          n_classes: int = 2, name: str = "text_classifier") -> Any:
    """Raw string in, class probabilities out: vectorizer → embedding → encoder → dense head.

    ``n_classes == 2`` gives one sigmoid unit (probability of class 1); more gives softmax.
    ``encoder``: "lstm"/"gru" (``units`` stacked, optionally bidirectional) or "cnn" (parallel
    convolutions of ``kernel_sizes`` with global max-pooling). The layer ``sentence_repr`` is the
    text representation used for maps and transfer.
    """
    k = keras()
    vocab_size = _fitted_vocabulary_size(vectorizer)
    check.positive_int("embedding_dim", embedding_dim)
    check.choice("encoder", encoder, ENCODERS)
    units = check.positive_ints("units", units)
    kernel_sizes = check.positive_ints("kernel_sizes", kernel_sizes)
    check.positive_int("filters", filters)
    dropout = check.rate("dropout", dropout)
    recurrent_dropout = check.rate("recurrent_dropout", recurrent_dropout)
    l2 = check.non_negative("l2", l2)
    dense_units = check.positive_ints("dense_units", dense_units, allow_empty=True)
    check.positive_int("n_classes", n_classes)
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}; a classifier needs two labels at least")
    text = k.Input((1,), dtype="string", name="text")
    tokens = vectorizer(text)
    x = build_token_encoder(tokens, vocab_size=vocab_size, embedding_dim=embedding_dim, encoder=encoder,
                            units=units, bidirectional=bidirectional, kernel_sizes=kernel_sizes, filters=filters,
                            dropout=dropout, recurrent_dropout=recurrent_dropout, l2=l2)
    for i, n in enumerate(dense_units):
        x = k.layers.Dense(n, activation="relu", kernel_regularizer=regularizer(l2), name=f"dense_{i}")(x)
    x = k.layers.Identity(name="sentence_repr")(x)
    if dropout > 0:
        x = k.layers.Dropout(dropout, name="head_dropout")(x)
    binary = n_classes == 2
    out = output_head(x, outputs=1 if binary else n_classes, activation="sigmoid" if binary else "softmax", l2=l2)
    return k.Model(text, out, name=name)


def build_text_transformer(*, vectorizer: Any, embed_dim: int = 64, num_heads: int = 2, num_blocks: int = 2,
                           ff_dim: int | None = None, dropout: float = 0.1, pooling: str = "mean",
                           dense_units: Sequence[int] = (), n_classes: int = 2, name: str = "text_transformer") -> Any:
    """Raw string in, class probabilities out: vectorizer → Transformer encoder (from scratch) → head.

    The encoder is :func:`shared.models.attention.build_transformer_encoder` (token + position
    embeddings, ``num_blocks`` pre-norm self-attention blocks, padding masked) nested as the layer
    ``text_encoder``; ``pooling`` "mean" (over real tokens) or "first". The layer ``sentence_repr``
    is the text representation, as in :func:`build_text_classifier`; the head is the same.
    """
    from .attention import build_transformer_encoder

    k = keras()
    vocab_size = _fitted_vocabulary_size(vectorizer)
    max_len = vectorizer.get_config().get("output_sequence_length")
    if not max_len:
        raise ValueError("the vectorizer must pad to a fixed length for the position embeddings; pass "
                         "sequence_length to fit_text_vectorizer")
    check.choice("pooling", pooling, ("mean", "first"))
    dense_units = check.positive_ints("dense_units", dense_units, allow_empty=True)
    check.positive_int("n_classes", n_classes)
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}; a classifier needs two labels at least")
    encoder = build_transformer_encoder(vocab_size=vocab_size, max_len=int(max_len), embed_dim=embed_dim,
                                        num_heads=num_heads, num_blocks=num_blocks, ff_dim=ff_dim, dropout=dropout,
                                        pooling=pooling, name="text_encoder")
    text = k.Input((1,), dtype="string", name="text")
    tokens = vectorizer(text)
    x = encoder(k.ops.cast(tokens, "int32"))
    for i, n in enumerate(dense_units):
        x = k.layers.Dense(n, activation="relu", name=f"dense_{i}")(x)
    x = k.layers.Identity(name="sentence_repr")(x)
    if dropout > 0:
        x = k.layers.Dropout(dropout, name="head_dropout")(x)
    binary = n_classes == 2
    out = output_head(x, outputs=1 if binary else n_classes, activation="sigmoid" if binary else "softmax", l2=0.0)
    return k.Model(text, out, name=name)


def build_token_encoder(tokens: Any, *, vocab_size: int, embedding_dim: int, encoder: str, units: Sequence[int],
                        bidirectional: bool, kernel_sizes: Sequence[int], filters: int, dropout: float,
                        recurrent_dropout: float, l2: float) -> Any:
    """Embedding (token 0 masked for RNNs) and the chosen encoder, from token ids to one vector."""
    k = keras()
    recurrent = encoder in ("lstm", "gru")
    x = k.layers.Embedding(vocab_size, embedding_dim, mask_zero=recurrent,
                           embeddings_regularizer=regularizer(l2), name="token_embedding")(tokens)
    if dropout > 0:
        x = k.layers.SpatialDropout1D(dropout, name="embedding_dropout")(x)
    if recurrent:
        return recurrent_encoder(x, units=units, cell=encoder, bidirectional=bidirectional, dropout=0.0,
                                 recurrent_dropout=recurrent_dropout, l2=l2, norm=None, return_sequences=False,
                                 prefix="text")
    return conv1d_encoder(x, filters=filters, kernel_sizes=kernel_sizes, pooling="max", dropout=0.0, l2=l2,
                          norm=None, prefix="text_conv")


def text_batch(texts: Sequence[str] | np.ndarray) -> Any:
    """Texts as the (n, 1) string tensor the text models take.

    Keras' ``predict``/``fit`` reject NumPy string arrays; a ``tf.constant`` (or a ``tf.data``
    dataset built from one) is the supported way to feed raw strings.
    """
    import tensorflow as tf

    values = [t if isinstance(t, str) else "" if t is None else str(t) for t in np.asarray(texts, dtype=object).ravel()]
    return tf.constant(values, dtype=tf.string, shape=(len(values), 1))


def token_embeddings(model: Any, *, max_words: int | None = None) -> tuple[list[str], np.ndarray]:
    """The learned word vectors of a text model: (words, matrix), most frequent words first.

    Reads the model's ``vectorizer`` (its vocabulary) and ``token_embedding`` layers, as built by
    :func:`build_text_classifier`; the padding and out-of-vocabulary rows are left out.
    """
    try:
        vocabulary = model.get_layer("vectorizer").get_vocabulary()
        matrix = np.asarray(model.get_layer("token_embedding").get_weights()[0])
    except ValueError as err:
        raise ValueError("token_embeddings needs a model with 'vectorizer' and 'token_embedding' layers "
                         "(built by build_text_classifier)") from err
    if max_words is not None and max_words < 1:
        raise ValueError(f"max_words must be >= 1 or None, got {max_words}")
    words = [str(w) for w in vocabulary]
    skip = [i for i, w in enumerate(words[:2]) if w in ("", "[UNK]")]  # padding and OOV come first
    start = len(skip)
    stop = len(words) if max_words is None else min(len(words), start + max_words)
    return words[start:stop], matrix[start:stop]
