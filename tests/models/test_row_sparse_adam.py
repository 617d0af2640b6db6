"""RowSparseAdam: Keras' Adam on the rows a batch touched; untouched rows and their moments stay put."""

from __future__ import annotations

import numpy as np
import pytest

from shared.models import build_matrix_factorization


def _pair(**kwargs):
    dense = build_matrix_factorization(n_users=6, n_items=4, n_factors=3, l2=0.0, global_mean=3.5, **kwargs)
    sparse = build_matrix_factorization(n_users=6, n_items=4, n_factors=3, l2=0.0, global_mean=3.5,
                                        sparse_lookup=True, **kwargs)
    sparse.set_weights(dense.get_weights())
    return dense, sparse


def _compile(dense, sparse):
    from shared.models._keras import keras
    from shared.models.row_sparse_adam import row_sparse_adam

    dense.compile(optimizer=keras().optimizers.Adam(0.05), loss="mse")
    sparse.compile(optimizer=row_sparse_adam(0.05), loss="mse")


def test_row_sparse_adam_equals_adam_when_every_row_is_in_the_batch():
    import tensorflow as tf

    from shared.models._keras import keras
    from shared.models.row_sparse_adam import row_sparse_adam

    # every user and item appears (user 2 and item 1 more than once: duplicate ids must be summed)
    x = {"user": np.array([0, 1, 2, 3, 4, 5, 2], "int32"), "item": np.array([0, 1, 2, 3, 1, 0, 1], "int32")}
    y = np.array([4.0, 3.0, 5.0, 2.0, 1.0, 4.5, 3.0], "float32")
    dense, sparse = _pair()
    sparse.compile(optimizer=row_sparse_adam(0.05), loss="mse")
    # the reference: textbook Adam on the dense gradient (Keras' Adam fed IndexedSlices squares each
    # duplicate's slice separately, which is not Adam's second moment)
    adam = keras().optimizers.Adam(0.05)
    for _ in range(3):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((dense(x) - y) ** 2)
        grads = tape.gradient(loss, dense.trainable_variables)
        adam.apply_gradients([(tf.convert_to_tensor(g), v) for g, v in zip(grads, dense.trainable_variables)])
        sparse.train_on_batch(x, y)
    for a, b in zip(dense.get_weights(), sparse.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not np.allclose(dense.get_weights()[0], _pair()[0].get_weights()[0])  # the step did move the weights


def test_rows_outside_the_batch_keep_their_weights_unlike_dense_adam():
    first = {"user": np.array([0, 1, 2, 3, 4, 5], "int32"), "item": np.array([0, 1, 2, 3, 0, 1], "int32")}
    only_user_0 = {"user": np.array([0, 0], "int32"), "item": np.array([2, 3], "int32")}
    y6, y2 = np.linspace(1, 5, 6).astype("float32"), np.array([5.0, 1.0], "float32")
    dense, sparse = _pair()
    _compile(dense, sparse)
    for model in (dense, sparse):
        model.train_on_batch(first, y6)
    models = {"dense": dense, "sparse": sparse}
    before = {k: m.get_layer("user_factors").get_weights()[0].copy() for k, m in models.items()}
    for model in models.values():
        model.train_on_batch(only_user_0, y2)
    moved = {k: (~np.isclose(m.get_layer("user_factors").get_weights()[0], before[k])).any(axis=1).tolist()
             for k, m in models.items()}
    assert moved["sparse"] == [True, False, False, False, False, False]
    assert moved["dense"] == [True] * 6  # Keras' Adam keeps moving every row on its old momentum


def test_row_sparse_adam_round_trips_with_the_compiled_model(tmp_path):
    from shared.models._keras import keras
    from shared.models.row_sparse_adam import row_sparse_adam

    _, model = _pair()
    model.compile(optimizer=row_sparse_adam(0.01), loss="mse")
    x = {"user": np.array([0, 5], "int32"), "item": np.array([3, 1], "int32")}
    model.train_on_batch(x, np.array([4.0, 2.0], "float32"))
    model.save(tmp_path / "mf.keras")
    loaded = keras().models.load_model(tmp_path / "mf.keras")
    assert type(loaded.optimizer).__name__ == "RowSparseAdam"
    assert float(loaded.optimizer.learning_rate) == pytest.approx(0.01)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    with pytest.raises(ValueError, match="amsgrad"):
        row_sparse_adam(0.01, amsgrad=True)
