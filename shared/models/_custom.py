"""Custom Keras layers (and the one optimizer) of the project, registered as serializable on first use of Keras.

``SparseEmbedding``: an ``Embedding`` whose lookup reads only the rows of the batch. Keras 3's
``Embedding`` reads the whole table; once a table has had a sparse (SGD) update, TensorFlow copies
it on every such read, so a training step costs O(table size) and throughput falls as the number of
users and items grows (see docs/big_data.md). ``tf.gather`` on the variable reads only the batch
rows, and its gradient stays sparse. An ``l2`` penalty, if any, applies to the looked-up rows
(per-example regularization, as in SGD matrix factorization), not to the whole table.
TensorFlow backend only.

``ImplicitFeedback``: SVD++'s implicit term (Koren 2008), ``|N(u)|^-1/2 * sum of y_j over j in N(u)``
for each user of a batch, N(u) the items the user interacted with in training. The interactions are
stored in the layer as non-trainable CSR weights (row splits and item ids), so a ``.keras`` file
carries them; each step reads the ``y`` rows of the batch's distinct users only (sparse gradient).
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

    @k.saving.register_keras_serializable(package="deepcases")
    class ImplicitFeedback(k.layers.Layer):
        def __init__(self, n_users: int, n_items: int, output_dim: int, n_interactions: int, *,
                     row_l2: float = 0.0, initializer: Any = "zeros", **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.n_users, self.n_items, self.output_dim = int(n_users), int(n_items), int(output_dim)
            self.n_interactions, self.row_l2 = int(n_interactions), float(row_l2)
            self.initializer = k.initializers.get(initializer)

        def build(self, input_shape: Any) -> None:
            self.factors = self.add_weight(shape=(self.n_items, self.output_dim), initializer=self.initializer,
                                           name="implicit_factors")
            self.row_splits = self.add_weight(shape=(self.n_users + 1,), dtype="int32", initializer="zeros",
                                              trainable=False, name="row_splits")
            self.item_ids = self.add_weight(shape=(max(1, self.n_interactions),), dtype="int32", initializer="zeros",
                                            trainable=False, name="item_ids")

        def set_interactions(self, row_splits: Any, item_ids: Any) -> None:
            import numpy as np

            row_splits, item_ids = np.asarray(row_splits, np.int32), np.asarray(item_ids, np.int32)
            if row_splits.shape != (self.n_users + 1,) or len(item_ids) != self.n_interactions:
                raise ValueError(f"interactions of {len(row_splits) - 1} users / {len(item_ids)} items do not fit a "
                                 f"layer built for {self.n_users} users / {self.n_interactions} interactions")
            self.row_splits.assign(row_splits)
            self.item_ids.assign(np.pad(item_ids, (0, max(1, len(item_ids)) - len(item_ids))))

        def call(self, users: Any) -> Any:
            import tensorflow as tf

            distinct, position = tf.unique(tf.reshape(tf.cast(users, "int32"), [-1]))
            splits = tf.convert_to_tensor(self.row_splits.value)
            starts, ends = tf.gather(splits, distinct), tf.gather(splits, distinct + 1)
            slots = tf.ragged.range(starts, ends)  # (distinct users, their interactions)
            rows = tf.gather(self.factors.value, tf.gather(self.item_ids.value, slots.flat_values))
            sums = tf.math.unsorted_segment_sum(rows, slots.value_rowids(), tf.shape(distinct)[0])
            scale = tf.math.rsqrt(tf.cast(tf.maximum(ends - starts, 1), rows.dtype))
            if self.row_l2 > 0:  # per looked-up row, as SGD SVD++ regularizes y_j at each rating of u
                self.add_loss(self.row_l2 * tf.reduce_sum(tf.square(rows)) / tf.cast(tf.shape(position)[0], rows.dtype))
            return tf.gather(sums * scale[:, None], position)

        def compute_output_shape(self, input_shape: Any) -> tuple:
            return (*tuple(input_shape), self.output_dim)

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "n_users": self.n_users, "n_items": self.n_items,
                    "output_dim": self.output_dim, "n_interactions": self.n_interactions, "row_l2": self.row_l2,
                    "initializer": k.initializers.serialize(self.initializer)}

    _REGISTERED["SparseEmbedding"] = SparseEmbedding
    _REGISTERED["ImplicitFeedback"] = ImplicitFeedback
    from . import attention, pretrained_text, row_sparse_adam

    _REGISTERED.update(attention.define_layers(k))  # TransformerBlock, PositionEmbedding, SequencePooling
    _REGISTERED.update(pretrained_text.define_layers(k))  # SqueezeText, TrimPadding, LinearWarmupDecay
    _REGISTERED.update(row_sparse_adam.define_optimizers(k))  # RowSparseAdam
    return _REGISTERED


def sparse_embedding(input_dim: int, output_dim: int, **kwargs: Any) -> Any:
    from ._keras import keras

    return register_custom_objects(keras())["SparseEmbedding"](input_dim, output_dim, **kwargs)


def implicit_feedback(n_users: int, n_items: int, output_dim: int, n_interactions: int, **kwargs: Any) -> Any:
    from ._keras import keras

    return register_custom_objects(keras())["ImplicitFeedback"](n_users, n_items, output_dim, n_interactions,
                                                                **kwargs)
