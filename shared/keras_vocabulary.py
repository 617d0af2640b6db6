"""A text vocabulary learned by Keras' own ``TextVectorization.adapt()`` over a stream of text batches.

Keras adapts a layer batch by batch (its token counts live in a hash table inside the layer), so
the training texts never need to sit in memory together; the standardization and split are
Keras' own, the ones the model's ``TextVectorization`` applies at training and prediction time.

    vocabulary = adapt_vocabulary(batches, standardize=None)   # batches: an iterable of 1-D string arrays
    vectorizer = vocabulary.vectorizer(max_tokens=20000, sequence_length=64)

The layer is adapted once with ``max_tokens=None``; Keras sorts every distinct token by count,
ties by token bytes from high to low, then truncates. So ``vocabulary.top(n)`` (the first
``n - 2`` tokens) is exactly what ``adapt()`` with ``max_tokens=n`` learns, and one pass serves
every ``max_tokens``. TensorFlow and Keras are imported inside functions only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from .errors import UserError

STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation", None)
#: the padding and out-of-vocabulary tokens a TextVectorization puts before the learned tokens
SPECIAL_TOKENS = 2


@dataclasses.dataclass(frozen=True)
class Vocabulary:
    """Every distinct training token in Keras' order (most frequent first), and how they were made."""

    tokens: tuple[str, ...]
    standardize: str | None = "lower_and_strip_punctuation"
    ngrams: int | None = None
    texts: int = 0

    def __len__(self) -> int:
        return len(self.tokens)

    def top(self, max_tokens: int | None = 20000) -> list[str]:
        """The tokens ``adapt(max_tokens=...)`` keeps; ``max_tokens`` counts padding and OOV, as in Keras."""
        if max_tokens is not None and max_tokens < SPECIAL_TOKENS + 1:
            raise UserError(f"max_tokens must be >= 3 (padding, OOV and one token), got {max_tokens}")
        return list(self.tokens if max_tokens is None else self.tokens[:max_tokens - SPECIAL_TOKENS])

    def vectorizer(self, *, max_tokens: int | None = 20000, sequence_length: int = 64) -> Any:
        """A ``TextVectorization`` layer holding :meth:`top` (built from the vocabulary: no second adapt)."""
        from shared.models._keras import keras

        if not self.tokens:
            raise UserError("the training texts hold no tokens; check the text column and the split")
        return keras().layers.TextVectorization(vocabulary=self.top(max_tokens), standardize=self.standardize,
                                                ngrams=self.ngrams, output_sequence_length=sequence_length,
                                                name="vectorizer")

    def to_dict(self) -> dict[str, Any]:
        return {"standardize": self.standardize, "ngrams": self.ngrams, "texts": self.texts,
                "distinct": len(self.tokens), "learned_by": "keras TextVectorization.adapt (streamed)"}


def adapt_vocabulary(batches: Iterable[Any], *, standardize: str | None = "lower_and_strip_punctuation",
                     ngrams: int | None = None) -> Vocabulary:
    """Adapt a ``TextVectorization`` on a stream of 1-D string batches (NumPy object arrays or lists).

    The batches are wrapped in a ``tf.data.Dataset`` (prefetched, so the producer, e.g. a Dask
    partition being read, overlaps with Keras' counting); empty batches are skipped.
    """
    import numpy as np
    import tensorflow as tf

    from shared.models._keras import keras

    if standardize not in STANDARDIZE:
        raise UserError(f"standardize must be one of {list(STANDARDIZE)}, got {standardize!r}")
    if ngrams is not None and (isinstance(ngrams, bool) or not isinstance(ngrams, int) or ngrams < 1):
        raise UserError(f"ngrams must be None or an int >= 1, got {ngrams!r}")
    ngrams = ngrams if ngrams and ngrams > 1 else None
    seen = [0]

    def stream() -> Iterable[np.ndarray]:
        for batch in batches:
            batch = np.asarray(batch, dtype=object)
            if len(batch):
                seen[0] += len(batch)
                yield batch

    dataset = tf.data.Dataset.from_generator(stream, output_signature=tf.TensorSpec((None,), tf.string))
    layer = keras().layers.TextVectorization(max_tokens=None, standardize=standardize, ngrams=ngrams)
    layer.adapt(dataset.prefetch(2))
    learned = [str(t) for t in layer.get_vocabulary()[SPECIAL_TOKENS:]]
    return Vocabulary(tokens=tuple(learned), standardize=standardize, ngrams=ngrams, texts=seen[0])
