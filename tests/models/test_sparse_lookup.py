"""build_matrix_factorization(sparse_lookup=True): same model, batch-row reads, sparse gradients."""

from __future__ import annotations

import numpy as np
import pytest

from shared.models import build_matrix_factorization


def _batch():
    import tensorflow as tf

    return {"user": tf.constant([0, 3, 3, 7], "int32"), "item": tf.constant([1, 1, 4, 2], "int32")}, \
        tf.constant([4.0, 3.0, 5.0, 2.0])


def test_sparse_lookup_matches_the_dense_model_step_for_step():
    import tensorflow as tf

    from shared.models._keras import keras

    k = keras()
    dense = build_matrix_factorization(n_users=8, n_items=5, n_factors=3, l2=0.0, global_mean=3.5)
    sparse = build_matrix_factorization(n_users=8, n_items=5, n_factors=3, l2=0.0, global_mean=3.5,
                                        sparse_lookup=True)
    sparse.set_weights(dense.get_weights())
    x, y = _batch()
    np.testing.assert_allclose(sparse(x), dense(x), rtol=1e-6)
    for model in (dense, sparse):
        model.compile(optimizer=k.optimizers.SGD(0.1), loss="mse")
        model.train_on_batch(x, y)
    for a, b in zip(dense.get_weights(), sparse.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((sparse(x) - y) ** 2)
    grads = tape.gradient(loss, [v.value for v in sparse.trainable_variables])
    assert all(isinstance(g, tf.IndexedSlices) for g in grads)  # only the batch rows are touched


def test_sparse_lookup_l2_penalizes_batch_rows_and_round_trips(tmp_path):
    from shared.models._keras import keras

    k = keras()
    model = build_matrix_factorization(n_users=8, n_items=5, n_factors=3, l2=0.1, sparse_lookup=True)
    x, _ = _batch()
    model(x)
    assert len(model.losses) == 4 and all(float(v) > 0 for v in model.losses[:2])
    path = tmp_path / "mf.keras"
    model.save(path)
    loaded = k.models.load_model(path)
    np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6)
    assert type(loaded.get_layer("user_factors")).__name__ == "SparseEmbedding"
    with pytest.raises(TypeError, match="sparse_lookup must be True or False"):
        build_matrix_factorization(n_users=2, n_items=2, sparse_lookup="yes")
