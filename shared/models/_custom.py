"""Custom Keras layers (and the one optimizer) of the project, registered as serializable on first use of Keras.

``SparseEmbedding``: an ``Embedding`` whose lookup reads only the rows of the batch. Keras 3's
``Embedding`` reads the whole table; once a table has had a sparse (SGD) update, TensorFlow copies
it on every such read, so a training step costs O(table size) and throughput falls as the number of
users and items grows (see docs/big_data.md). ``tf.gather`` on the variable reads only the batch
rows, and its gradient stays sparse. An ``l2`` penalty, if any, applies to the looked-up rows
(per-example regularization, as in SGD matrix factorization), not to the whole table.
TensorFlow backend only.
"""

from __future__ import annotations

from typing import Any

_REGISTERED: dict[str, Any] = {}


def register_custom_objects(k: Any) -> dict[str, Any]:
    """Define (once) and register the project's layers; returns ``{name: class}``."""
    if _REGISTERED:
        return _REGISTERED

    @k.saving.register_keras_serializable(package="deepcases")
    class SparseEmbedding(k.layers.Embedding):
        def __init__(self, input_dim: int, output_dim: int, *, row_l2: float = 0.0, **kwargs: Any) -> None:
            super().__init__(input_dim, output_dim, **kwargs)
            self.row_l2 = float(row_l2)

        def call(self, inputs: Any) -> Any:
            import tensorflow as tf

            rows = tf.gather(self.embeddings.value, tf.cast(inputs, "int32"))
            if self.row_l2 > 0:
                self.add_loss(self.row_l2 * tf.reduce_sum(tf.square(rows)) / tf.cast(tf.shape(rows)[0], rows.dtype))
            return rows

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "row_l2": self.row_l2}

    _REGISTERED["SparseEmbedding"] = SparseEmbedding
    from . import attention, pretrained_text, row_sparse_adam

    _REGISTERED.update(attention.define_layers(k))  # TransformerBlock, PositionEmbedding, SequencePooling
    _REGISTERED.update(pretrained_text.define_layers(k))  # SqueezeText, TrimPadding, LinearWarmupDecay
    _REGISTERED.update(row_sparse_adam.define_optimizers(k))  # RowSparseAdam
    return _REGISTERED


def sparse_embedding(input_dim: int, output_dim: int, **kwargs: Any) -> Any:
    from ._keras import keras

    return register_custom_objects(keras())["SparseEmbedding"](input_dim, output_dim, **kwargs)
