"""build_matrix_factorization(implicit_interactions=...): SVD++'s implicit term, by hand, saved and validated."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from shared.models import build_matrix_factorization

#: user 0 rated items 1 and 4, user 1 nothing, user 2 items 0, 2 and 3
RATED = sparse.csr_matrix((np.ones(5), ([0, 0, 2, 2, 2], [1, 4, 0, 2, 3])), shape=(3, 5))


def _model(**kwargs):
    return build_matrix_factorization(n_users=3, n_items=5, n_factors=4, l2=0.0, global_mean=3.0, sparse_lookup=True,
                                      implicit_interactions=RATED, **kwargs)


def test_the_user_vector_adds_the_normalized_sum_of_the_rated_items_factors():
    model = _model()
    users = np.array([0, 1, 2, 0, 2], np.int32)
    items = np.array([2, 2, 1, 0, 4], np.int32)
    y = model.get_layer("implicit_feedback").factors.numpy()
    p = model.get_layer("user_factors").get_weights()[0]
    q = model.get_layer("item_factors").get_weights()[0]
    bu = model.get_layer("user_bias").get_weights()[0].ravel()
    bi = model.get_layer("item_bias").get_weights()[0].ravel()
    implicit = {0: y[[1, 4]].sum(0) / np.sqrt(2), 1: np.zeros(4), 2: y[[0, 2, 3]].sum(0) / np.sqrt(3)}
    expected = [3.0 + bu[u] + bi[i] + (p[u] + implicit[u]) @ q[i] for u, i in zip(users, items)]
    got = np.asarray(model({"user": users, "item": items}))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert np.abs(y).sum() > 0  # initialized like the other factors, so the check above is not 0 == 0


def test_only_the_rated_items_factors_get_a_gradient_and_the_model_round_trips(tmp_path):
    import tensorflow as tf

    from shared.models._keras import keras

    model = _model(implicit_l2=0.1)
    x = {"user": tf.constant([0, 0], "int32"), "item": tf.constant([2, 3], "int32")}
    layer = model.get_layer("implicit_feedback")
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(x) - 4.0) ** 2)
    grad = tape.gradient(loss, layer.factors.value)
    assert isinstance(grad, tf.IndexedSlices)
    assert set(np.asarray(grad.indices).tolist()) == {1, 4}  # user 0's rated items only
    y = layer.factors.numpy()  # implicit_l2 on user 0's looked-up rows (once per distinct user), per example
    np.testing.assert_allclose([float(v) for v in model.losses], [0.1 * np.square(y[[1, 4]]).sum() / 2], rtol=1e-5)
    path = tmp_path / "svdpp.keras"
    model.save(path)
    loaded = keras().models.load_model(path)
    np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6)
    np.testing.assert_array_equal(loaded.get_layer("implicit_feedback").item_ids.numpy(), RATED.indices)


def test_interactions_of_another_shape_are_refused():
    with pytest.raises(ValueError, match=r"CSR matrix of shape \(4, 5\)"):
        build_matrix_factorization(n_users=4, n_items=5, implicit_interactions=RATED)
    with pytest.raises(ValueError, match="CSR matrix"):
        build_matrix_factorization(n_users=3, n_items=5, implicit_interactions=RATED.toarray())
