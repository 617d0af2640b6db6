"""Sequential next-item recommenders for Protocol B: GRU4Rec-style (RNN family) and SASRec-style (attention).

Both read a user's training items in time order (``sequences.py``: tokens = item position + 1,
0 = padding, left-padded) and predict the next item at EVERY position. The encoder maps tokens
(batch, max_len) to hidden states (batch, max_len, dim); the score of item j after position t is
``h_t · E_j + b_j`` with E the model's own input item embedding (tied weights: one table to learn, and
the hidden state lives in the item space, so ``--similar`` and the item map use the same vectors).

Loss: FULL softmax over the whole catalogue (no sampling), cross-entropy at each non-padding
position. It is exact, and cheap enough here: 9k MovieLens / 4k retail items, and the logits are
formed only for the non-padding positions of a batch (gathered first), so a batch costs
``positions x dim x n_items`` — a few GFLOP. Sampled softmax with logQ correction would only pay off
with catalogues of 10^5+ items; it also biases the ranking unless corrected, which full softmax needs
no correction for.

* GRU4Rec-style: item embedding -> dropout -> GRU stack (``shared.models.rnn.recurrent_encoder``,
  which respects the padding mask) -> dropout. Causal by construction (a recurrence only reads the past).
* SASRec-style: ``shared.models.attention.build_transformer_encoder`` with ``causal=True`` (learned
  positions, pre-norm blocks, padding mask), whose token embedding is tied to the output.

Scoring: every user's latest ``max_len`` training items in one batched forward pass; the hidden
state at the last column (the latest item) scores all items by one matrix product. TensorFlow is
imported inside functions only.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

ARCHITECTURES = ("gru4rec", "sasrec")


@dataclasses.dataclass(frozen=True)
class SequentialSettings:
    architecture: str = "sasrec"
    max_len: int = 50
    dim: int = 64
    blocks: int = 2              # GRU layers or transformer blocks
    heads: int = 2               # attention heads (SASRec only)
    dropout: float = 0.2
    learning_rate: float = 1e-3
    batch_size: int = 64
    epochs: int = 50
    patience: int = 5
    all_windows: bool = False    # also train on the earlier windows of a long history
    ties: str = "shuffled"       # order of equal timestamps in the input (sequences.TIE_ORDERS)

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {self.architecture!r}")
        for name in ("max_len", "dim", "blocks", "heads", "batch_size", "epochs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        from .sequences import TIE_ORDERS

        if self.ties not in TIE_ORDERS:
            raise ValueError(f"ties must be one of {TIE_ORDERS}, got {self.ties!r}")
        if self.architecture == "sasrec" and self.dim % self.heads:
            raise ValueError(f"dim ({self.dim}) must be a multiple of heads ({self.heads}) for SASRec")


def embedding_layer_name(architecture: str) -> str:
    """Name of the (tied) token embedding layer inside the encoder of ``architecture``."""
    return "gru4rec_item_embedding" if architecture == "gru4rec" else "sasrec_token_embedding"


def build_gru4rec(*, n_items: int, max_len: int, dim: int = 64, layers: int = 1, dropout: float = 0.2,
                  name: str = "gru4rec") -> Any:
    """GRU4Rec-style encoder: tokens (batch, max_len), 0 = padding -> hidden states (batch, max_len, dim).

    ``n_items`` counts real items; the embedding holds ``n_items + 1`` rows (row 0 = padding, masked).
    Returns an uncompiled ``keras.Model``; the output layer is the caller's (tied: ``h · E^T``).
    """
    from shared.models import _checks as check
    from shared.models._keras import keras
    from shared.models.rnn import recurrent_encoder

    check.positive_int("n_items", n_items, hint="pass the size of the training item index")
    check.positive_int("max_len", max_len, hint="pass --max-len 1 or more")
    check.positive_int("dim", dim)
    check.positive_int("layers", layers)
    dropout = check.rate("dropout", dropout)
    k = keras()
    tokens = k.Input((max_len,), dtype="int32", name="tokens")
    x = k.layers.Embedding(n_items + 1, dim, mask_zero=True, name=embedding_layer_name("gru4rec"))(tokens)
    if dropout:
        x = k.layers.Dropout(dropout, name="embedding_dropout")(x)
    x = recurrent_encoder(x, units=(dim,) * layers, cell="gru", bidirectional=False, dropout=0.0,
                          recurrent_dropout=0.0, l2=0.0, norm=None, return_sequences=True, prefix="gru4rec")
    if dropout:
        x = k.layers.Dropout(dropout, name="output_dropout")(x)
    return k.Model(tokens, x, name=name)


def build_sasrec(*, n_items: int, max_len: int, dim: int = 64, blocks: int = 2, heads: int = 2,
                 dropout: float = 0.2, name: str = "sasrec") -> Any:
    """SASRec-style encoder: the shared causal transformer encoder over item tokens (0 = padding)."""
    from shared.models import _checks as check
    from shared.models.attention import build_transformer_encoder

    check.positive_int("n_items", n_items, hint="pass the size of the training item index")
    check.positive_int("max_len", max_len, hint="pass --max-len 1 or more")
    return build_transformer_encoder(vocab_size=n_items + 1, max_len=max_len, embed_dim=dim, num_heads=heads,
                                     num_blocks=blocks, dropout=dropout, causal=True, pooling="none", name=name)


def build_encoder(settings: SequentialSettings, *, n_items: int) -> Any:
    if settings.architecture == "gru4rec":
        return build_gru4rec(n_items=n_items, max_len=settings.max_len, dim=settings.dim, layers=settings.blocks,
                             dropout=settings.dropout)
    return build_sasrec(n_items=n_items, max_len=settings.max_len, dim=settings.dim, blocks=settings.blocks,
                        heads=settings.heads, dropout=settings.dropout)


def _find_layer(model: Any, name: str) -> Any:
    """A layer by name anywhere inside ``model`` (the shared encoder may nest its embedding)."""
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if layer.name == name:
            return layer
    raise ValueError(f"model {model.name!r} has no layer named {name!r}")


def _next_item_loss_layer(embedding: Any) -> Any:
    """Layer (hidden, targets) -> per-row summed full-softmax cross-entropy over the non-padding positions.

    The non-padding positions are gathered before the logits are formed, so the (positions, n_items + 1)
    logit matrix never holds padding rows; the padding token itself is never a valid prediction.
    """
    import tensorflow as tf

    from shared.models._keras import keras

    k = keras()
    table = [embedding]  # a list attribute: a reference, so Keras tracks the shared weights once

    class NextItemSoftmax(k.layers.Layer):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.supports_masking = True  # the padding mask arrives with ``hidden``; ``targets`` carries it too

        def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
            return None

        def build(self, hidden_shape: Any, targets_shape: Any = None) -> None:
            # a per-item output bias learns popularity directly (the dot product then models taste only)
            self.bias = self.add_weight(shape=(int(table[0].input_dim),), initializer="zeros", name="item_bias")

        def call(self, hidden: Any, targets: Any, mask: Any = None) -> Any:  # padding handled via targets
            targets = tf.cast(targets, "int32")
            mask = targets > 0
            h = tf.boolean_mask(hidden, mask)
            t = tf.boolean_mask(targets, mask)
            weights = tf.convert_to_tensor(table[0].embeddings)
            pad = tf.one_hot(0, tf.shape(weights)[0], on_value=-1e9, off_value=0.0)  # padding: never predicted
            logits = tf.matmul(h, weights, transpose_b=True) + (tf.convert_to_tensor(self.bias) + pad)[None, :]
            ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=t, logits=logits)
            rows = tf.where(mask)[:, 0]
            return tf.math.unsorted_segment_sum(ce, rows, tf.shape(targets)[0])

    return NextItemSoftmax(name="next_item_softmax")


def _passthrough_loss(y_true: Any, y_pred: Any) -> Any:
    """The model already returns each row's summed cross-entropy; ``y_true`` is unused."""
    return y_pred


class SequentialRanker:
    """A GRU4Rec- or SASRec-style encoder trained with full-softmax next-item prediction.

    ``fit(inputs, targets)`` on ``sequences.build_sequences`` arrays; ``user_states(history)`` the last
    hidden state per user; ``item_embeddings()`` the (n_items, dim) item table (padding row dropped);
    ``scorer(history)`` a Protocol B ``score(rows)`` function. ``model`` (the encoder, saved as
    ``.keras``) maps tokens to states; scores also add ``item_bias()``, a weight of the trainer's
    output layer (the run saves the encoder only).
    """

    def __init__(self, *, n_items: int, settings: SequentialSettings) -> None:
        from shared.models._keras import keras

        k = keras()
        self.settings = settings
        self.n_items = int(n_items)
        self.name = settings.architecture
        self.model = build_encoder(settings, n_items=n_items)
        self.embedding = _find_layer(self.model, embedding_layer_name(settings.architecture))
        tokens = k.Input((settings.max_len,), dtype="int32", name="tokens")
        targets = k.Input((settings.max_len,), dtype="int32", name="targets")
        self.output_layer = _next_item_loss_layer(self.embedding)
        loss = self.output_layer(self.model(tokens), targets)
        self.trainer = k.Model({"tokens": tokens, "targets": targets}, loss, name=f"{self.name}_trainer")
        self.trainer.compile(optimizer=k.optimizers.Adam(settings.learning_rate), loss=_passthrough_loss)

    def fit(self, inputs: np.ndarray, targets: np.ndarray, *, epochs: int | None = None,
            callbacks: list | None = None, verbose: int = 0) -> dict[str, list[float]]:
        from shared.training import fit_keras

        inputs, targets = np.asarray(inputs, np.int32), np.asarray(targets, np.int32)
        if inputs.shape != targets.shape or inputs.ndim != 2 or inputs.shape[1] != self.settings.max_len:
            raise ValueError(f"inputs and targets must both be (rows, {self.settings.max_len}), got {inputs.shape} "
                             f"and {targets.shape}")
        if len(inputs) == 0:
            raise ValueError("no training sequences: every user has a single training interaction")
        dummy = np.zeros(len(inputs), np.float32)
        return fit_keras(self.trainer, {"tokens": inputs, "targets": targets}, dummy,
                         epochs=epochs or self.settings.epochs, batch_size=self.settings.batch_size,
                         callbacks=callbacks, verbose=verbose, shuffle=True)

    def user_states(self, history: np.ndarray) -> np.ndarray:
        """(users, dim): the hidden state after each user's latest item (the last, right-aligned column)."""
        history = np.asarray(history, np.int32)
        states = self.model.predict(history, batch_size=256, verbose=0)
        return np.asarray(states[:, -1, :], dtype=np.float32)

    def item_embeddings(self) -> np.ndarray:
        return np.asarray(self.embedding.get_weights()[0][1:], dtype=np.float32)

    def item_bias(self) -> np.ndarray:
        """(n_items,) output bias of each item (padding dropped)."""
        return np.asarray(self.output_layer.get_weights()[0][1:], dtype=np.float32)

    def scorer(self, history: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """``score(rows)`` over item positions from the users' histories, computed in one batched pass."""
        scores = self.user_states(history) @ self.item_embeddings().T + self.item_bias()[None, :]

        def score(rows: np.ndarray) -> np.ndarray:
            return scores[np.asarray(rows, np.int64)]

        return score
