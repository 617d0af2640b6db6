"""Dense family: MLPs for tabular inputs and embedding models for ids (users, items, routes).

Every builder takes keyword-only options, validates them up front and returns an
uncompiled ``keras.Model``; compiling (loss, optimizer, metrics) is the caller's job.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import _checks as check
from ._custom import sparse_embedding
from ._keras import keras
from ._layers import norm_layer, output_head, regularizer

_ACTIVATIONS = ("relu", "gelu", "selu", "tanh", "elu", "swish")


def _dense_stack(x: Any, *, hidden_units: Sequence[int], activation: str, dropout: float, l2: float,
                 norm: str | None, prefix: str) -> Any:
    k = keras()
    for i, units in enumerate(hidden_units):
        x = k.layers.Dense(units, kernel_regularizer=regularizer(l2), name=f"{prefix}_dense_{i}")(x)
        layer = norm_layer(norm, f"{prefix}_norm_{i}")
        if layer is not None:
            x = layer(x)
        x = k.layers.Activation(activation, name=f"{prefix}_act_{i}")(x)
        if dropout > 0:
            x = k.layers.Dropout(dropout, name=f"{prefix}_dropout_{i}")(x)
    return x


def build_mlp(*, n_features: int, hidden_units: Sequence[int] = (64, 32), activation: str = "relu",
              dropout: float = 0.0, l2: float = 0.0, normalization: str | None = None, outputs: int = 1,
              output_activation: str | None = None, name: str = "mlp") -> Any:
    """Multi-layer perceptron for a tabular matrix of shape (rows, n_features).

    ``outputs`` units with ``output_activation`` (None for regression or logits,
    "sigmoid" for binary, "softmax" for multi-class, None for a Cox risk score).
    """
    check.positive_int("n_features", n_features, hint="pass the number of input columns after preprocessing")
    units = check.positive_ints("hidden_units", hidden_units, allow_empty=True)
    check.choice("activation", activation, _ACTIVATIONS)
    dropout = check.rate("dropout", dropout)
    l2 = check.non_negative("l2", l2)
    check.choice("normalization", normalization, check.NORMALIZATIONS)
    check.positive_int("outputs", outputs)
    k = keras()
    inputs = k.Input((n_features,), name="features")
    x = _dense_stack(inputs, hidden_units=units, activation=activation, dropout=dropout, l2=l2,
                     norm=normalization, prefix="hidden")
    return k.Model(inputs, output_head(x, outputs=outputs, activation=output_activation, l2=l2), name=name)


def build_embedding_tower(*, n_ids: int, embedding_dim: int = 32, hidden_units: Sequence[int] = (),
                          activation: str = "relu", dropout: float = 0.0, l2: float = 0.0,
                          n_features: int = 0, output_dim: int | None = None, name: str = "tower") -> Any:
    """Tower mapping an integer id (plus optional side features) to a vector.

    Input ``ids`` of shape (batch,) holding indices in [0, n_ids); index 0 may be reserved by
    the caller for unknown ids. With ``n_features > 0`` a second input ``features`` is
    concatenated to the embedding before the hidden layers. ``output_dim`` adds a final linear
    projection (the retrieval space of a two-tower model).
    """
    check.positive_int("n_ids", n_ids, hint="pass the size of the id-to-index map built on training data")
    check.positive_int("embedding_dim", embedding_dim)
    units = check.positive_ints("hidden_units", hidden_units, allow_empty=True)
    check.choice("activation", activation, _ACTIVATIONS)
    dropout = check.rate("dropout", dropout)
    l2 = check.non_negative("l2", l2)
    if isinstance(n_features, bool) or not isinstance(n_features, int) or n_features < 0:
        raise ValueError(f"n_features must be an int >= 0, got {n_features!r}; use 0 for ids only")
    if output_dim is not None:
        check.positive_int("output_dim", output_dim)
    k = keras()
    ids = k.Input((), dtype="int32", name="ids")
    x = k.layers.Embedding(n_ids, embedding_dim, embeddings_regularizer=regularizer(l2), name="embedding")(ids)
    inputs: Any = ids
    if n_features:
        features = k.Input((n_features,), name="features")
        x = k.layers.Concatenate(name="with_features")([x, features])
        inputs = {"ids": ids, "features": features}
    x = _dense_stack(x, hidden_units=units, activation=activation, dropout=dropout, l2=l2, norm=None, prefix=name)
    if output_dim is not None:
        x = k.layers.Dense(output_dim, kernel_regularizer=regularizer(l2), name="projection")(x)
    return k.Model(inputs, x, name=name)


def build_matrix_factorization(*, n_users: int, n_items: int, n_factors: int = 32, l2: float = 1e-4,
                               use_bias: bool = True, global_mean: float = 0.0, sparse_lookup: bool = False,
                               implicit_interactions: Any = None, implicit_l2: float | None = None,
                               name: str = "mf") -> Any:
    """Biased matrix factorization: r(u, i) = mu + b_u + b_i + <p_u, q_i>.

    Inputs ``user`` and ``item`` (int indices); output of shape (batch,) the predicted rating.
    ``global_mean`` is the training mean ``mu``, fixed (not trained) so the biases learn offsets.

    ``sparse_lookup=True`` is for large id sets: the embedding lookups read only the batch rows and
    ``l2`` applies to those rows (per-example, as in SGD matrix factorization) instead of the whole
    tables, so with a sparse optimizer (SGD, Adagrad; not Adam, whose moments touch every row) a
    step costs the same whatever the number of users and items (TensorFlow backend only).

    ``implicit_interactions`` (a SciPy CSR matrix, users x items, of the TRAINING interactions) makes it
    SVD++ (Koren 2008): the user vector is p_u + |N(u)|^-1/2 * sum of y_j over the items j user u
    interacted with, so what a user rated shapes their vector beyond the ratings' values. The matrix is
    stored in the model (layer ``implicit_feedback``); ``implicit_l2`` (default ``l2``) applies to its
    looked-up rows.
    """
    check.positive_int("n_users", n_users, hint="pass the size of the user index built on training data")
    check.positive_int("n_items", n_items, hint="pass the size of the item index built on training data")
    check.positive_int("n_factors", n_factors)
    l2 = check.non_negative("l2", l2)
    if not isinstance(sparse_lookup, bool):
        raise TypeError(f"sparse_lookup must be True or False, got {sparse_lookup!r}")
    implicit_l2 = l2 if implicit_l2 is None else check.non_negative("implicit_l2", implicit_l2)
    if implicit_interactions is not None:
        shape = getattr(implicit_interactions, "shape", None)
        if not hasattr(implicit_interactions, "indptr") or tuple(shape) != (n_users, n_items):
            raise ValueError(f"implicit_interactions must be a CSR matrix of shape ({n_users}, {n_items}) (users x "
                             f"items of the training interactions), got {type(implicit_interactions).__name__} "
                             f"of shape {shape}")
    k = keras()
    user = k.Input((), dtype="int32", name="user")
    item = k.Input((), dtype="int32", name="item")
    init = k.initializers.RandomNormal(stddev=0.05)

    def table(n: int, dim: int, initializer: Any, layer_name: str) -> Any:
        if sparse_lookup:
            return sparse_embedding(n, dim, row_l2=l2, embeddings_initializer=initializer, name=layer_name)
        return k.layers.Embedding(n, dim, embeddings_initializer=initializer,
                                  embeddings_regularizer=regularizer(l2), name=layer_name)

    p = table(n_users, n_factors, init, "user_factors")(user)
    if implicit_interactions is not None:
        from ._custom import implicit_feedback

        csr = implicit_interactions.tocsr()
        implicit = implicit_feedback(n_users, n_items, n_factors, csr.nnz, row_l2=implicit_l2, initializer=init,
                                     name="implicit_feedback")
        p = k.layers.Add(name="user_vector")([p, implicit(user)])
        implicit.set_interactions(csr.indptr, csr.indices)
    q = table(n_items, n_factors, init, "item_factors")(item)
    score = k.layers.Dot(axes=1, name="interaction")([p, q])
    if use_bias:
        bu = table(n_users, 1, "zeros", "user_bias")(user)
        bi = table(n_items, 1, "zeros", "item_bias")(item)
        score = k.layers.Add(name="with_biases")([score, bu, bi])
    score = k.layers.Rescaling(1.0, offset=float(global_mean), name="plus_global_mean")(score)
    score = k.layers.Reshape((), name="rating")(score)
    return k.Model({"user": user, "item": item}, score, name=name)


def build_two_tower(*, n_users: int, n_items: int, embedding_dim: int = 64, hidden_units: Sequence[int] = (),
                    dropout: float = 0.0, l2: float = 0.0, name: str = "two_tower") -> Any:
    """Two-tower retrieval model: score(u, i) = <user_tower(u), item_tower(i)> (a logit).

    Inputs ``user`` and ``item``; output shape (batch,). The towers are sub-models named
    ``user_tower`` and ``item_tower`` so callers can embed all items once for fast retrieval.
    """
    user_tower = build_embedding_tower(n_ids=n_users, embedding_dim=embedding_dim, hidden_units=hidden_units,
                                       dropout=dropout, l2=l2, output_dim=embedding_dim if hidden_units else None,
                                       name="user_tower")
    item_tower = build_embedding_tower(n_ids=n_items, embedding_dim=embedding_dim, hidden_units=hidden_units,
                                       dropout=dropout, l2=l2, output_dim=embedding_dim if hidden_units else None,
                                       name="item_tower")
    k = keras()
    user = k.Input((), dtype="int32", name="user")
    item = k.Input((), dtype="int32", name="item")
    score = k.layers.Dot(axes=1, name="score")([user_tower(user), item_tower(item)])
    return k.Model({"user": user, "item": item}, k.layers.Reshape((), name="logit")(score), name=name)
