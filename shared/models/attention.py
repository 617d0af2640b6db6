"""Self-attention: a pre-norm Transformer block and an encoder over id sequences (tokens or items).

Written once for text (``build_text_transformer`` in :mod:`shared.models.nlp`) and for item
sequences (the recommender's SASRec-style model):

    encoder = build_transformer_encoder(vocab_size=20000, max_len=64, pooling="mean")
    vectors = encoder(ids)          # ids: int (batch, length <= max_len), 0 = padding

Id 0 is padding: the token embedding masks it (``mask_zero=True``), every block and the pooling
honour that mask, so padding never changes the output at real positions. Positions are counted
from the start of the sequence, so pad at the END (as ``TextVectorization`` does) for appending
padding to leave the outputs unchanged. ``causal=True`` lets each position attend only to itself
and earlier positions (next-item prediction).

``TransformerBlock``, ``PositionEmbedding`` and ``SequencePooling`` are Keras layers registered as
serializable (package "deepcases"); they are defined on first use of Keras so that importing this
module does not import TensorFlow.
"""

from __future__ import annotations

from typing import Any

from . import _checks as check
from ._keras import keras

POOLINGS = ("none", "mean", "first")
ACTIVATIONS = ("gelu", "relu")
_LAYER_NAMES = ("TransformerBlock", "PositionEmbedding", "SequencePooling")


def define_layers(k: Any) -> dict[str, Any]:
    """Define and register the attention layers with Keras module ``k`` (called once, by _custom)."""

    @k.saving.register_keras_serializable(package="deepcases")
    class TransformerBlock(k.layers.Layer):
        """Pre-norm block: x + MHA(LN(x)), then x + FF(LN(x)), with dropout on both branches.

        ``call(x, mask=None)``: ``mask`` (batch, length) bool, True at real positions; Keras passes
        it automatically when ``x`` comes from an ``Embedding(mask_zero=True)``. Padded query
        positions produce finite values that later layers must ignore (the mask propagates).
        """

        def __init__(self, num_heads: int = 2, ff_dim: int | None = None, dropout: float = 0.1,
                     activation: str = "gelu", causal: bool = False, epsilon: float = 1e-6, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.num_heads = check.positive_int("num_heads", num_heads)
            self.ff_dim = None if ff_dim is None else check.positive_int("ff_dim", ff_dim)
            self.dropout_rate = check.rate("dropout", dropout)
            self.activation = check.choice("activation", activation, ACTIVATIONS)
            if not isinstance(causal, bool):
                raise TypeError(f"causal must be True or False, got {causal!r}")
            self.causal = causal
            self.epsilon = float(epsilon)
            self.supports_masking = True

        def build(self, input_shape: Any) -> None:
            embed_dim = int(input_shape[-1])
            if embed_dim % self.num_heads:
                raise ValueError(f"the embedding size ({embed_dim}) must be divisible by num_heads "
                                 f"({self.num_heads}); change one of them")
            ff_dim = self.ff_dim or 4 * embed_dim
            self.attention_norm = k.layers.LayerNormalization(epsilon=self.epsilon, name="attention_norm")
            self.attention = k.layers.MultiHeadAttention(self.num_heads, embed_dim // self.num_heads,
                                                         dropout=self.dropout_rate, name="attention")
            self.attention_dropout = k.layers.Dropout(self.dropout_rate, name="attention_dropout")
            self.ff_norm = k.layers.LayerNormalization(epsilon=self.epsilon, name="ff_norm")
            self.ff_in = k.layers.Dense(ff_dim, activation=self.activation, name="ff_in")
            self.ff_out = k.layers.Dense(embed_dim, name="ff_out")
            self.ff_dropout = k.layers.Dropout(self.dropout_rate, name="ff_dropout")
            shape = tuple(input_shape)
            self.attention_norm.build(shape)
            self.attention.build(shape, shape)
            self.ff_norm.build(shape)
            self.ff_in.build(shape)
            self.ff_out.build(shape[:-1] + (ff_dim,))
            super().build(input_shape)

        def call(self, x: Any, mask: Any = None, training: Any = None) -> Any:
            h = self.attention_norm(x)
            if mask is not None:
                mask = k.ops.cast(mask, "bool")
            h = self.attention(h, h, query_mask=mask, value_mask=mask, use_causal_mask=self.causal,
                               training=training)
            x = x + self.attention_dropout(h, training=training)
            h = self.ff_out(self.ff_in(self.ff_norm(x)))
            return x + self.ff_dropout(h, training=training)

        def compute_output_shape(self, input_shape: Any) -> Any:
            return input_shape

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "num_heads": self.num_heads, "ff_dim": self.ff_dim,
                    "dropout": self.dropout_rate, "activation": self.activation, "causal": self.causal,
                    "epsilon": self.epsilon}

    @k.saving.register_keras_serializable(package="deepcases")
    class PositionEmbedding(k.layers.Layer):
        """Adds a learned vector per position (0 .. max_len - 1) to a (batch, length, dim) input."""

        def __init__(self, max_len: int, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.max_len = check.positive_int("max_len", max_len)
            self.supports_masking = True

        def build(self, input_shape: Any) -> None:
            self.positions = self.add_weight(name="positions", shape=(self.max_len, int(input_shape[-1])),
                                             initializer=k.initializers.RandomNormal(stddev=0.02))
            super().build(input_shape)

        def call(self, x: Any) -> Any:
            length = k.ops.shape(x)[1]
            return x + k.ops.expand_dims(self.positions[:length], 0)

        def compute_output_shape(self, input_shape: Any) -> Any:
            return input_shape

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "max_len": self.max_len}

    @k.saving.register_keras_serializable(package="deepcases")
    class SequencePooling(k.layers.Layer):
        """(batch, length, dim) -> (batch, dim): "mean" over real positions only, or the "first" one."""

        def __init__(self, mode: str = "mean", **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.mode = check.choice("mode", mode, ("mean", "first"))
            self.supports_masking = True

        def call(self, x: Any, mask: Any = None) -> Any:
            if self.mode == "first":
                return x[:, 0, :]
            if mask is None:
                return k.ops.mean(x, axis=1)
            weights = k.ops.expand_dims(k.ops.cast(mask, x.dtype), -1)
            return k.ops.sum(x * weights, axis=1) / k.ops.maximum(k.ops.sum(weights, axis=1), 1.0)

        def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
            return None

        def compute_output_shape(self, input_shape: Any) -> Any:
            return (input_shape[0], input_shape[-1])

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "mode": self.mode}

    return {"TransformerBlock": TransformerBlock, "PositionEmbedding": PositionEmbedding,
            "SequencePooling": SequencePooling}


def __getattr__(name: str) -> Any:
    """``from shared.models.attention import TransformerBlock`` defines the layers on first use."""
    if name in _LAYER_NAMES:
        from ._custom import register_custom_objects

        return register_custom_objects(keras())[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_transformer_encoder(*, vocab_size: int, max_len: int, embed_dim: int = 64, num_heads: int = 2,
                              num_blocks: int = 2, ff_dim: int | None = None, dropout: float = 0.1,
                              causal: bool = False, pooling: str = "none",
                              name: str = "transformer_encoder") -> Any:
    """Int ids (batch, length <= max_len), 0 = padding -> encoded sequence or one pooled vector.

    Token embedding (layer ``f"{name}_token_embedding"``, so an output layer can tie its weights to
    it) + learned position embeddings + ``num_blocks`` pre-norm :class:`TransformerBlock` + a final
    LayerNorm. ``pooling``: "none" -> (batch, length, embed_dim); "mean" (over real positions) or
    "first" -> (batch, embed_dim). ``ff_dim`` defaults to ``4 * embed_dim``. Uncompiled.
    """
    k = keras()
    check.positive_int("vocab_size", vocab_size, hint="pass the number of ids including padding id 0")
    if vocab_size < 2:
        raise ValueError(f"vocab_size must be >= 2 (id 0 is padding), got {vocab_size}")
    check.positive_int("max_len", max_len, hint="pass the longest sequence length the model will see")
    check.positive_int("embed_dim", embed_dim)
    check.positive_int("num_heads", num_heads)
    if embed_dim % num_heads:
        raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads}); "
                         f"e.g. embed_dim={num_heads * max(1, round(embed_dim / num_heads))}")
    check.positive_int("num_blocks", num_blocks)
    if ff_dim is not None:
        check.positive_int("ff_dim", ff_dim, hint="or None for 4 * embed_dim")
    dropout = check.rate("dropout", dropout)
    if not isinstance(causal, bool):
        raise TypeError(f"causal must be True or False, got {causal!r}")
    check.choice("pooling", pooling, POOLINGS)
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    layers = register_layers()
    ids = k.Input((None,), dtype="int32", name=f"{name}_ids")
    x = k.layers.Embedding(vocab_size, embed_dim, mask_zero=True, name=f"{name}_token_embedding")(ids)
    x = layers["PositionEmbedding"](max_len, name=f"{name}_position_embedding")(x)
    if dropout > 0:
        x = k.layers.Dropout(dropout, name=f"{name}_embedding_dropout")(x)
    for i in range(num_blocks):
        x = layers["TransformerBlock"](num_heads=num_heads, ff_dim=ff_dim, dropout=dropout, causal=causal,
                                       name=f"{name}_block_{i}")(x)
    x = k.layers.LayerNormalization(epsilon=1e-6, name=f"{name}_final_norm")(x)
    if pooling != "none":
        x = layers["SequencePooling"](pooling, name=f"{name}_{pooling}_pooling")(x)
    return k.Model(ids, x, name=name)


def register_layers() -> dict[str, Any]:
    """``{name: class}`` of the attention layers (defining and registering them if needed)."""
    from ._custom import register_custom_objects

    registered = register_custom_objects(keras())
    return {n: registered[n] for n in _LAYER_NAMES}
