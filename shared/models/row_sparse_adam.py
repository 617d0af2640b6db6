"""``RowSparseAdam``: Adam that updates only the rows a batch touched (the "lazy" Adam of TF-Addons).

Keras 3's Adam turns a sparse gradient (``tf.IndexedSlices``, from an embedding lookup) into a
dense one: its moment updates ``m += (g - m)(1 - beta_1)`` read and write every row of the table at
every step, so the cost of a step grows with the number of users and items. Here a sparse gradient
updates the moments and the weights of its rows only (duplicate ids summed first); the rows a
batch did not touch keep their moments and do not move. Dense gradients take Keras' own Adam step,
unchanged. TensorFlow backend only (like ``SparseEmbedding``, which produces the sparse gradients).
"""

from __future__ import annotations

from typing import Any


def define_optimizers(k: Any) -> dict[str, Any]:
    """Define and register the optimizer with Keras module ``k`` (called once, by _custom)."""

    @k.saving.register_keras_serializable(package="deepcases")
    class RowSparseAdam(k.optimizers.Adam):
        def __init__(self, learning_rate: Any = 0.001, **kwargs: Any) -> None:
            if kwargs.get("amsgrad"):
                raise ValueError("RowSparseAdam does not implement amsgrad; use keras.optimizers.Adam(amsgrad=True)")
            super().__init__(learning_rate=learning_rate, **kwargs)

        def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
            import tensorflow as tf

            if not isinstance(gradient, tf.IndexedSlices):
                return super().update_step(gradient, variable, learning_rate)
            dtype = variable.dtype
            rows, position = tf.unique(gradient.indices)
            grad = tf.math.unsorted_segment_sum(tf.cast(gradient.values, dtype), position, tf.shape(rows)[0])
            step = tf.cast(self.iterations + 1, dtype)
            beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
            alpha = tf.cast(learning_rate, dtype) * tf.sqrt(1 - tf.pow(beta_2, step)) / (1 - tf.pow(beta_1, step))
            index = self._get_variable_index(variable)
            m, v = self._momentums[index], self._velocities[index]
            # tf.gather on the variable (ResourceGather) reads only these rows; assign* scatter IndexedSlices
            m_rows = beta_1 * tf.gather(_tf_variable(m), rows) + (1 - beta_1) * grad
            v_rows = beta_2 * tf.gather(_tf_variable(v), rows) + (1 - beta_2) * tf.square(grad)
            self.assign(m, tf.IndexedSlices(m_rows, rows))
            self.assign(v, tf.IndexedSlices(v_rows, rows))
            self.assign_sub(variable, tf.IndexedSlices(alpha * m_rows / (tf.sqrt(v_rows) + self.epsilon), rows))

    return {"RowSparseAdam": RowSparseAdam}


def _tf_variable(variable: Any) -> Any:
    """The ``tf.Variable`` behind a Keras variable (the TensorFlow optimizer passes either)."""
    value = getattr(variable, "value", None)
    return variable if value is None or callable(value) else value


def row_sparse_adam(learning_rate: float = 0.001, **kwargs: Any) -> Any:
    from ._keras import keras

    from ._custom import register_custom_objects

    return register_custom_objects(keras())["RowSparseAdam"](learning_rate, **kwargs)
