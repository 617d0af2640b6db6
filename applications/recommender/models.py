"""The deep recommenders, built from shared.models' dense family and compiled and trained here.

* :class:`MFRegressor` — explicit ratings (Protocol A): ``build_matrix_factorization`` (embeddings,
  dot product, user/item biases, L2), MSE loss, Adam on the batch rows only (``RowSparseAdam`` with
  batch-row lookups, so a step costs the same at any number of users and items); unseen items fall
  back to mu + b_u.
* :class:`TwoTowerRanker` — implicit interactions (Protocol B): ``build_two_tower`` trained with an
  in-batch softmax (every other positive of the batch is a negative; repeated items masked;
  optional logQ popularity correction), scored by dot product for full-catalogue retrieval.

TensorFlow/Keras are imported inside functions only.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import sparse

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------- MF
@dataclasses.dataclass(frozen=True)
class MFSettings:
    n_factors: int = 64
    l2: float = 0.15  # MF_DEFAULT_L2["adam"]: per looked-up row
    learning_rate: float = 2e-3
    batch_size: int = 512
    epochs: int = 40
    patience: int = 4
    #: "adam": Adam on the rows of the batch (``RowSparseAdam``, batch-row lookups, L2 on the looked-up
    #: rows); "dense-adam": Keras' Adam on whole tables with a table-wide L2 (the default before issue 23:
    #: a step costs O(users + items), 0.07x the 1x throughput at 100x); "sparse-sgd": plain SGD, batch rows.
    optimizer: str = "adam"

    def __post_init__(self) -> None:
        if self.optimizer not in MF_OPTIMIZERS:
            raise ValueError(f"MF optimizer must be one of {MF_OPTIMIZERS}, got {self.optimizer!r}")


MF_OPTIMIZERS = ("adam", "dense-adam", "sparse-sgd")
#: learning rates that work on the bundled data when --mf-learning-rate is not given
MF_DEFAULT_LEARNING_RATE = {"adam": 2e-3, "dense-adam": 2e-3, "sparse-sgd": 5.0}
#: L2 when --mf-l2 is not given. "adam" and "sparse-sgd" penalize each looked-up row (mean over the batch,
#: as SGD matrix factorization does), "dense-adam" the whole tables at every step: the per-row penalty
#: needs a far larger weight (0.15 chosen on MovieLens Protocol A: 0.05 -> RMSE 0.897, 0.1 -> 0.888,
#: 0.14 -> 0.887, 0.2 -> 0.891, 0.4 -> 0.910, one seed, 30 epochs; see docs/big_data.md)
MF_DEFAULT_L2 = {"adam": 0.15, "dense-adam": 1e-4, "sparse-sgd": 1e-4}


def mf_settings(config: Any) -> MFSettings:
    """The MF settings of an application config (``mf_*`` fields); learning rate and L2 default per optimizer."""
    rate = config.mf_learning_rate if config.mf_learning_rate is not None else \
        MF_DEFAULT_LEARNING_RATE[config.mf_optimizer]
    l2 = config.mf_l2 if config.mf_l2 is not None else MF_DEFAULT_L2[config.mf_optimizer]
    return MFSettings(n_factors=config.mf_factors, l2=l2, learning_rate=rate,
                      batch_size=config.mf_batch_size, epochs=config.mf_epochs, patience=config.patience,
                      optimizer=config.mf_optimizer)


class MFRegressor:
    """Biased matrix factorization for ratings; ``predict`` handles unknown (-1) users and items."""

    name = "mf_biased"

    def __init__(self, *, n_users: int, n_items: int, global_mean: float, settings: MFSettings,
                 implicit_interactions: Any = None, implicit_l2: float | None = None) -> None:
        """``implicit_interactions`` (users x items CSR of the ratings it trains on) makes it SVD++."""
        from shared.models import build_matrix_factorization
        from shared.models._keras import keras
        from shared.models.row_sparse_adam import row_sparse_adam

        self.settings = settings
        self.global_mean = float(global_mean)
        self.name = "mf_biased" if implicit_interactions is None else "svdpp"
        self.model = build_matrix_factorization(n_users=n_users, n_items=n_items, n_factors=settings.n_factors,
                                                l2=settings.l2, use_bias=True, global_mean=global_mean,
                                                sparse_lookup=settings.optimizer != "dense-adam",
                                                implicit_interactions=implicit_interactions,
                                                implicit_l2=implicit_l2, name=self.name)
        optimizer = {"adam": row_sparse_adam, "dense-adam": keras().optimizers.Adam,
                     "sparse-sgd": keras().optimizers.SGD}[settings.optimizer](settings.learning_rate)
        self.model.compile(optimizer=optimizer, loss="mse",
                           metrics=[keras().metrics.RootMeanSquaredError(name="rmse")])

    def fit(self, users: np.ndarray, items: np.ndarray, ratings: np.ndarray, *, validation: tuple | None = None,
            epochs: int | None = None, callbacks: list | None = None, verbose: int = 0) -> dict[str, list[float]]:
        from shared.training import fit_keras

        x = {"user": np.asarray(users, np.int32), "item": np.asarray(items, np.int32)}
        val = None
        if validation is not None:
            vu, vi, vr = validation
            val = ({"user": np.asarray(vu, np.int32), "item": np.asarray(vi, np.int32)}, np.asarray(vr, np.float32))
        return fit_keras(self.model, x, np.asarray(ratings, np.float32), validation_data=val,
                         epochs=epochs or self.settings.epochs, batch_size=self.settings.batch_size,
                         callbacks=callbacks, verbose=verbose, shuffle=True)

    def user_bias(self) -> np.ndarray:
        return np.asarray(self.model.get_layer("user_bias").get_weights()[0]).ravel()

    def item_factors(self) -> np.ndarray:
        return np.asarray(self.model.get_layer("item_factors").get_weights()[0])

    def predict(self, users: np.ndarray, items: np.ndarray, *, rating_range: tuple[float, float] | None = None
                ) -> np.ndarray:
        """Predicted ratings; a pair with an unknown item is mu + b_u (unknown user: mu + b_i; both: mu)."""
        u = np.asarray(users, np.int64)
        i = np.asarray(items, np.int64)
        known = (u >= 0) & (i >= 0)
        out = np.full(u.shape, self.global_mean, dtype=np.float64)
        if known.any():
            x = {"user": u[known].astype(np.int32), "item": i[known].astype(np.int32)}
            out[known] = np.asarray(self.model.predict(x, batch_size=8192, verbose=0)).ravel()
        bu = self.user_bias()
        only_user = (u >= 0) & (i < 0)
        out[only_user] += bu[u[only_user]]
        only_item = (u < 0) & (i >= 0)
        if only_item.any():
            bi = np.asarray(self.model.get_layer("item_bias").get_weights()[0]).ravel()
            out[only_item] += bi[i[only_item]]
        if rating_range is not None:
            out = np.clip(out, *rating_range)
        return out


# --------------------------------------------------------------------------------------------- two-tower
@dataclasses.dataclass(frozen=True)
class TwoTowerSettings:
    embedding_dim: int = 64
    l2: float = 0.0
    learning_rate: float = 2e-3
    batch_size: int = 1024
    epochs: int = 30
    patience: int = 4
    temperature: float = 0.1
    logq_correction: bool = True


def _in_batch_softmax_loss(y_true: Any, y_pred: Any) -> Any:
    """Cross-entropy of each row's own positive (the diagonal) against the batch; ``y_true`` is unused."""
    from shared.models._keras import keras

    ops = keras().ops
    n = ops.shape(y_pred)[0]
    labels = ops.arange(n)
    return keras().losses.sparse_categorical_crossentropy(labels, y_pred, from_logits=True)


def _in_batch_logits_layer(temperature: float) -> Any:
    """Layer: (user vecs, item vecs, item ids, item log-probs) -> (batch, batch) logits.

    logit[a, b] = <u_a, v_b> / temperature - log q(item_b) (logQ correction: popular items appear
    as in-batch negatives more often); pairs where item_b repeats row a's positive are masked.
    """
    from shared.models._keras import keras

    k = keras()
    ops = k.ops

    class InBatchLogits(k.layers.Layer):
        def call(self, inputs: list) -> Any:
            u, v, item, logq = inputs
            logits = ops.matmul(u, ops.transpose(v)) / temperature - logq[None, :]
            idx = ops.arange(ops.shape(item)[0])
            off_diagonal = ops.not_equal(idx[:, None], idx[None, :])
            repeat = ops.logical_and(ops.equal(item[:, None], item[None, :]), off_diagonal)
            return ops.where(repeat, ops.full_like(logits, -1e9), logits)

    return InBatchLogits(name="in_batch_logits")


class TwoTowerRanker:
    """Two-tower retrieval model trained with an in-batch softmax; ``score(rows)`` = user · item embeddings."""

    name = "two_tower"

    def __init__(self, *, n_users: int, n_items: int, settings: TwoTowerSettings,
                 item_log_prob: np.ndarray | None = None) -> None:
        from shared.models import build_two_tower
        from shared.models._keras import keras

        k = keras()
        self.settings = settings
        self.n_items = n_items
        self.model = build_two_tower(n_users=n_users, n_items=n_items, embedding_dim=settings.embedding_dim,
                                     l2=settings.l2, name="two_tower")
        self.user_tower = self.model.get_layer("user_tower")
        self.item_tower = self.model.get_layer("item_tower")
        logq = np.zeros(n_items, np.float32) if item_log_prob is None else np.asarray(item_log_prob, np.float32)
        if logq.shape != (n_items,):
            raise ValueError(f"item_log_prob must have one value per item ({n_items}), got {logq.shape}")
        self._logq = logq if settings.logq_correction else np.zeros_like(logq)
        user = k.Input((), dtype="int32", name="user")
        item = k.Input((), dtype="int32", name="item")
        item_logq = k.Input((), dtype="float32", name="item_logq")
        logits = _in_batch_logits_layer(settings.temperature)(
            [self.user_tower(user), self.item_tower(item), item, item_logq])
        self.trainer = k.Model({"user": user, "item": item, "item_logq": item_logq}, logits, name="two_tower_in_batch")
        self.trainer.compile(optimizer=k.optimizers.Adam(settings.learning_rate), loss=_in_batch_softmax_loss)

    def _inputs(self, users: np.ndarray, items: np.ndarray) -> dict[str, np.ndarray]:
        items = np.asarray(items, np.int32)
        return {"user": np.asarray(users, np.int32), "item": items, "item_logq": self._logq[items]}

    def fit(self, users: np.ndarray, items: np.ndarray, *, epochs: int | None = None, callbacks: list | None = None,
            verbose: int = 0) -> dict[str, list[float]]:
        from shared.training import fit_keras

        x = self._inputs(users, items)
        dummy = np.zeros(len(x["user"]), np.float32)
        # drop_remainder-like behaviour is not needed: a short last batch is still a valid in-batch softmax
        return fit_keras(self.trainer, x, dummy, epochs=epochs or self.settings.epochs,
                         batch_size=self.settings.batch_size, callbacks=callbacks, verbose=verbose, shuffle=True)

    def user_embeddings(self) -> np.ndarray:
        return np.asarray(self.user_tower.get_layer("embedding").get_weights()[0])

    def item_embeddings(self) -> np.ndarray:
        return np.asarray(self.item_tower.get_layer("embedding").get_weights()[0])

    def score(self, rows: np.ndarray) -> np.ndarray:
        return self.user_embeddings()[np.asarray(rows, np.int64)] @ self.item_embeddings().T


def ranking_callback(score_fn: Callable[[np.ndarray], np.ndarray], train_x: sparse.csr_matrix, rows: np.ndarray,
                     held_out: np.ndarray, *, k: int = 10) -> Any:
    """A Keras callback that adds ``val_hr@k`` and ``val_ndcg@k`` (validation leave-last-out) to the epoch logs.

    Put it before EarlyStopping in the callback list so early stopping can monitor ``val_ndcg@k``.
    """
    from shared.models._keras import keras

    from .evaluate import evaluate_ranker

    class RankingValidation(keras().callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            outcome = evaluate_ranker(score_fn, train_x, rows, held_out, k=k)
            if logs is not None:
                for key, value in outcome.metrics.items():
                    logs[f"val_{key}"] = value

    return RankingValidation()
