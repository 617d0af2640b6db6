"""The deep text classifiers: train, predict, save, load.

From scratch on NLTK-processed strings, with a ``TextVectorization`` layer adapted on the *fitting*
texts only (the validation texts used for early stopping are carved out of the training part first
and never adapt the vocabulary): the BiLSTM (NLP family) and the text CNN
(``shared.models.build_text_classifier``) and a small Transformer encoder
(``shared.models.build_text_transformer``), each ending in a sigmoid (two classes) or softmax head.

Pretrained (``shared.models.pretrained_text``, all-MiniLM-L6-v2 through keras-hub) on the RAW
texts, whose WordPiece tokenizer is part of the model: ``minilm_frozen`` (mean-pooled sentence
embeddings of the frozen encoder + logistic regression, C by CV on the fitting texts, folded into
the model's dense head) and ``minilm_finetuned`` (every layer trained: AdamW, linear warm-up and
decay, early stopping on the validation part; batches bucketed by length, sequence length capped
at the fitting texts' 99th-percentile WordPiece length).

TensorFlow is imported inside the functions, so importing this module stays light.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shared.options import option

from .text import TextPipeline
from shared.errors import InputFileNotFound

log = logging.getLogger(__name__)

MODEL_KINDS = ("bilstm", "cnn", "transformer", "minilm_frozen", "minilm_finetuned")
#: kinds whose model takes the raw texts (its own WordPiece tokenizer), not the NLTK-processed ones
RAW_INPUT_KINDS = ("minilm_frozen", "minilm_finetuned")
PIPELINE_FILE = "pipeline.json"


def _positive_ints(value: str) -> tuple[int, ...]:
    """``--kernel-sizes 3,4,5`` -> ``(3, 4, 5)``."""
    try:
        out = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 3,4,5, got {value!r}") from None
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers such as 3,4,5, got {value!r}")
    return out


@dataclasses.dataclass(frozen=True)
class DeepParams:
    """Size and training settings of the deep models (defaults: the case study's); each one a
    command-line option of the application (shared.options)."""

    max_tokens: int = option(12000, help="vocabulary size (fitted on training texts)")
    # 99 % of the processed snippets have at most 45 tokens
    sequence_length: int = option(48, help="tokens kept per text")
    embedding_dim: int = option(64, help="token embedding size")
    lstm_units: int = option(32, help="LSTM units per direction")
    filters: int = option(64, help="CNN filters per kernel width")
    kernel_sizes: tuple[int, ...] = option((3, 4, 5), type=_positive_ints, help="CNN kernel widths, e.g. 3,4,5")
    dropout: float = option(0.5, help="dropout on embeddings and before the head")
    l2: float = option(0.0, help="L2 weight penalty")
    learning_rate: float = option(1e-3, help="Adam learning rate")
    epochs: int = option(15, help="maximum epochs (early stopping on val_loss)")
    batch_size: int = option(64, help="mini-batch size")
    patience: int = option(2, help="early-stopping patience in epochs")
    val_fraction: float = option(0.1, help="share of the training part held out for early stopping")
    # the from-scratch Transformer (its embedding size is --embedding-dim)
    transformer_blocks: int = option(2, help="Transformer: self-attention blocks")
    transformer_heads: int = option(2, help="Transformer: attention heads (must divide --embedding-dim)")
    transformer_dropout: float = option(0.1, help="Transformer: dropout in the blocks and before the head")
    # the pretrained encoder (minilm_*)
    finetune_epochs: int = option(3, help="minilm_finetuned: maximum epochs (early stopping on val_loss, "
                                          "patience 1)")
    finetune_learning_rate: float = option(5e-5, help="minilm_finetuned: peak AdamW learning rate (linear warm-up "
                                                      "over 10 %% of the steps, then linear decay to 0)")
    finetune_batch_size: int = option(32, help="minilm_finetuned: mini-batch size")
    max_seq_len: int | None = option(None, help="minilm_*: WordPiece tokens kept per text (default: the fitting "
                                                "texts' 99th percentile)")


def build(kind: str, vectorizer: Any, params: DeepParams, n_classes: int) -> Any:
    """The uncompiled model of ``kind`` ("bilstm", "cnn" or "transformer") on a fitted vectorizer."""
    from shared.models import build_text_classifier, build_text_transformer

    if kind not in MODEL_KINDS or kind in RAW_INPUT_KINDS:
        raise ValueError(f"model must be one of bilstm, cnn, transformer, got {kind!r}")
    if kind == "transformer":
        return build_text_transformer(vectorizer=vectorizer, embed_dim=params.embedding_dim,
                                      num_heads=params.transformer_heads, num_blocks=params.transformer_blocks,
                                      dropout=params.transformer_dropout, pooling="mean", n_classes=n_classes,
                                      name="transformer_scratch")
    if kind == "bilstm":
        return build_text_classifier(vectorizer=vectorizer, encoder="lstm", bidirectional=True,
                                     units=(params.lstm_units,), embedding_dim=params.embedding_dim,
                                     dropout=params.dropout, l2=params.l2, n_classes=n_classes, name="bilstm")
    return build_text_classifier(vectorizer=vectorizer, encoder="cnn", kernel_sizes=params.kernel_sizes,
                                 filters=params.filters, embedding_dim=params.embedding_dim,
                                 dropout=params.dropout, l2=params.l2, n_classes=n_classes, name="text_cnn")


def compile_model(model: Any, params: DeepParams, n_classes: int) -> Any:
    from shared.models._keras import keras

    k = keras()
    binary = n_classes == 2
    model.compile(optimizer=k.optimizers.Adam(params.learning_rate),
                  loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
                  metrics=[k.metrics.BinaryAccuracy(name="accuracy") if binary
                           else k.metrics.SparseCategoricalAccuracy(name="accuracy")])
    return model


def carve_validation(labels: np.ndarray, fraction: float, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions (fit, validation) inside the training part, stratified; validation only stops training."""
    from sklearn.model_selection import train_test_split

    if not 0.0 < fraction < 0.5:
        raise ValueError(f"val_fraction must be in (0, 0.5), got {fraction}")
    positions = np.arange(len(labels))
    counts = np.bincount(labels)
    stratify = labels if counts[counts > 0].min() >= 2 else None
    n_val = max(int(round(fraction * len(labels))), len(np.unique(labels)))
    fit, val = train_test_split(positions, test_size=n_val, random_state=seed, stratify=stratify)
    return np.sort(fit), np.sort(val)


@dataclasses.dataclass
class TrainedModel:
    kind: str
    model: Any
    history: dict[str, list[float]]
    epoch_seconds: float
    fit_size: int
    val_size: int
    val_idx: np.ndarray
    info: dict[str, Any] = dataclasses.field(default_factory=dict)   # e.g. sequence length, C


def train(kind: str, texts: Sequence[str], labels: np.ndarray, *, params: DeepParams, n_classes: int, seed: int,
          verbose: int = 0, callbacks: Sequence[Any] = ()) -> TrainedModel:
    """Carve the validation part, adapt the vectorizer on the rest, build, compile and train ``kind``.

    ``texts`` are the training texts (never test texts): NLTK-processed for the from-scratch kinds,
    raw for :data:`RAW_INPUT_KINDS`. Early stopping watches the validation loss and restores the
    best weights.
    """
    from shared.models import fit_text_vectorizer, text_batch
    from shared.training import fit_keras, set_seed, standard_callbacks

    texts = np.asarray(list(texts), dtype=object)
    labels = np.asarray(labels, dtype=np.int64)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels; pass one label per text")
    if kind not in MODEL_KINDS:
        raise ValueError(f"model must be one of {list(MODEL_KINDS)}, got {kind!r}")
    set_seed(seed)
    fit_idx, val_idx = carve_validation(labels, params.val_fraction, seed=seed)
    if kind == "minilm_frozen":
        return _train_frozen(texts, labels, fit_idx, val_idx, params=params, n_classes=n_classes, seed=seed)
    if kind == "minilm_finetuned":
        return _train_finetuned(texts, labels, fit_idx, val_idx, params=params, n_classes=n_classes, seed=seed,
                                verbose=verbose, callbacks=callbacks)
    vectorizer = fit_text_vectorizer(texts[fit_idx], max_tokens=params.max_tokens,
                                     sequence_length=params.sequence_length, standardize=None)
    model = compile_model(build(kind, vectorizer, params, n_classes), params, n_classes)
    started = time.perf_counter()
    history = fit_keras(model, text_batch(texts[fit_idx]), labels[fit_idx],
                        validation_data=(text_batch(texts[val_idx]), labels[val_idx]), epochs=params.epochs,
                        batch_size=params.batch_size, verbose=verbose,
                        callbacks=[*standard_callbacks(None, monitor="val_loss", patience=params.patience,
                                                       csv_log=False), *callbacks])
    epochs_run = max(len(history.get("loss", [])), 1)
    seconds = (time.perf_counter() - started) / epochs_run
    log.info("%s: %d epochs, %.1f s/epoch, best val_loss %.4f", kind, epochs_run, seconds,
             min(history.get("val_loss", [float("nan")])))
    return TrainedModel(kind=kind, model=model, history=history, epoch_seconds=seconds, fit_size=len(fit_idx),
                        val_size=len(val_idx), val_idx=val_idx)


def _sequence_cap(lengths: np.ndarray, params: DeepParams) -> int:
    """--max-seq-len, else the 99th percentile of the fitting texts' WordPiece lengths (with [CLS]/[SEP])."""
    if params.max_seq_len is not None:
        return int(params.max_seq_len)
    return int(min(max(np.ceil(np.percentile(lengths, 99)), 8), 512))


_EMBEDDINGS: dict[tuple[str, int], np.ndarray] = {}


def _frozen_vectors(texts: np.ndarray, sequence_length: int) -> np.ndarray:
    """Frozen sentence vectors, cached per (texts, length): the encoder is deterministic, so seeds share them."""
    import hashlib

    from shared.models.pretrained_text import sentence_embeddings

    digest = hashlib.sha256("\x00".join(map(str, texts)).encode("utf-8")).hexdigest()
    key = (digest, sequence_length)
    if key not in _EMBEDDINGS:
        _EMBEDDINGS.clear()  # keep one set: the training texts of the current split
        _EMBEDDINGS[key] = sentence_embeddings(list(texts), sequence_length=sequence_length, batch_size=64)
    return _EMBEDDINGS[key]


def fold_scaler_into_head(lr: Any, scaler: Any) -> tuple[np.ndarray, np.ndarray]:
    """(kernel, bias) of a Dense layer computing ``lr``'s decision function on ``scaler``-standardized input:
    w·(x − μ)/σ + b  ==  (w/σ)·x + (b − Σ w μ/σ). Kernel (d, 1) for two classes, (d, k) otherwise."""
    coef = lr.coef_ / scaler.scale_
    bias = lr.intercept_ - coef @ scaler.mean_
    return coef.T.astype("float32"), bias.astype("float32")


def _train_frozen(texts: np.ndarray, labels: np.ndarray, fit_idx: np.ndarray, val_idx: np.ndarray, *,
                  params: DeepParams, n_classes: int, seed: int) -> TrainedModel:
    """Frozen MiniLM sentence embeddings + standardized logistic regression (C by 5-fold CV on the fitting
    texts), folded into the model's sigmoid/softmax head so the result is one raw-string Keras model."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    from shared.models.pretrained_text import build_pretrained_text_classifier, token_lengths

    started = time.perf_counter()
    cap = _sequence_cap(token_lengths(list(texts[fit_idx])), params)
    vectors = _frozen_vectors(texts, cap)
    scaler = StandardScaler().fit(vectors[fit_idx])
    counts = np.bincount(labels[fit_idx])
    folds = int(min(5, counts[counts > 0].min()))
    lr = LogisticRegressionCV(Cs=np.logspace(-4, 2, 13).tolist(), max_iter=5000, scoring="accuracy",
                              cv=StratifiedKFold(max(folds, 2), shuffle=True, random_state=seed))
    lr.fit(scaler.transform(vectors[fit_idx]), labels[fit_idx])
    model = build_pretrained_text_classifier(n_classes=n_classes, sequence_length=cap, pooling="mean",
                                             trainable=False, dropout=0.0, output="probabilities",
                                             name="minilm_frozen")
    model.get_layer("output").set_weights(list(fold_scaler_into_head(lr, scaler)))
    seconds = time.perf_counter() - started
    c = float(np.atleast_1d(lr.C_)[0])
    log.info("minilm_frozen: sequence length %d, C = %g by CV, %.1f s", cap, c, seconds)
    return TrainedModel(kind="minilm_frozen", model=model, history={}, epoch_seconds=seconds, fit_size=len(fit_idx),
                        val_size=len(val_idx), val_idx=val_idx, info={"sequence_length": cap, "C": c})


def _length_batches(texts: np.ndarray, labels: np.ndarray, lengths: np.ndarray, *, batch_size: int, seed: int | None,
                    n_classes: int) -> Any:
    """A tf.data pipeline of length-bucketed batches; with ``seed``, a new batch order every epoch."""
    import tensorflow as tf

    from shared.models.pretrained_text import length_sorted_order

    epoch = [0]
    binary = n_classes == 2

    def batches():  # noqa: ANN202 - generator
        order = length_sorted_order(lengths, batch_size=batch_size,
                                    seed=None if seed is None else seed + epoch[0])
        epoch[0] += 1
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            y = labels[rows].astype("float32")[:, None] if binary else labels[rows].astype("int64")
            yield np.asarray([str(t) for t in texts[rows]], dtype=object)[:, None], y

    y_spec = tf.TensorSpec((None, 1), tf.float32) if binary else tf.TensorSpec((None,), tf.int64)
    dataset = tf.data.Dataset.from_generator(batches, output_signature=(tf.TensorSpec((None, 1), tf.string), y_spec))
    # a known number of batches: Keras then neither warns nor guesses the epoch length
    return dataset.apply(tf.data.experimental.assert_cardinality(int(np.ceil(len(texts) / batch_size))))


def _train_finetuned(texts: np.ndarray, labels: np.ndarray, fit_idx: np.ndarray, val_idx: np.ndarray, *,
                     params: DeepParams, n_classes: int, seed: int, verbose: int,
                     callbacks: Sequence[Any]) -> TrainedModel:
    """Every MiniLM layer trained: AdamW (weight decay 0.01, not on biases and norms), linear warm-up over
    10 % of the steps then linear decay, early stopping on the validation part (patience 1, best weights)."""
    from shared.models._keras import keras
    from shared.models.pretrained_text import build_pretrained_text_classifier, linear_warmup_decay, token_lengths
    from shared.training import fit_keras, standard_callbacks

    k = keras()
    lengths = token_lengths(list(texts))
    cap = _sequence_cap(lengths[fit_idx], params)
    lengths = np.minimum(lengths, cap)
    model = build_pretrained_text_classifier(n_classes=n_classes, sequence_length=cap, pooling="mean",
                                             trainable=True, dropout=0.1, output="probabilities",
                                             name="minilm_finetuned")
    bs = params.finetune_batch_size
    steps = int(np.ceil(len(fit_idx) / bs)) * params.finetune_epochs
    optimizer = k.optimizers.AdamW(learning_rate=linear_warmup_decay(peak=params.finetune_learning_rate,
                                                                     total_steps=steps, warmup_fraction=0.1),
                                   weight_decay=0.01)
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    binary = n_classes == 2
    model.compile(optimizer=optimizer, loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
                  metrics=[k.metrics.BinaryAccuracy(name="accuracy") if binary
                           else k.metrics.SparseCategoricalAccuracy(name="accuracy")])
    train_ds = _length_batches(texts[fit_idx], labels[fit_idx], lengths[fit_idx], batch_size=bs, seed=seed,
                               n_classes=n_classes)
    val_ds = _length_batches(texts[val_idx], labels[val_idx], lengths[val_idx], batch_size=128, seed=None,
                             n_classes=n_classes)
    started = time.perf_counter()
    history = fit_keras(model, train_ds, validation_data=val_ds, epochs=params.finetune_epochs, verbose=verbose,
                        callbacks=[*standard_callbacks(None, monitor="val_loss", patience=1, csv_log=False),
                                   *callbacks])
    epochs_run = max(len(history.get("loss", [])), 1)
    seconds = (time.perf_counter() - started) / epochs_run
    log.info("minilm_finetuned: sequence length %d, %d epochs, %.1f s/epoch, best val_loss %.4f", cap, epochs_run,
             seconds, min(history.get("val_loss", [float("nan")])))
    return TrainedModel(kind="minilm_finetuned", model=model, history=history, epoch_seconds=seconds,
                        fit_size=len(fit_idx), val_size=len(val_idx), val_idx=val_idx, info={"sequence_length": cap})


def predict_proba(model: Any, texts: Sequence[str], *, batch_size: int = 256) -> np.ndarray:
    """Positive-class probabilities (1-D) for two classes, an (n, k) matrix otherwise."""
    from shared.models import text_batch

    texts = list(texts)
    if not texts:
        return np.zeros((0,), dtype=float)
    n = len(texts)
    if n <= batch_size:  # one small batch (--predict, occlusion): a direct call, no predict() retracing
        out = np.asarray(model(text_batch(texts), training=False), dtype=float)
    else:  # pad to whole batches so every predict() call sees one batch shape (no tf.function retracing)
        order = _by_length(texts)   # similar lengths share a batch: short tensors for the MiniLM models
        padded = [texts[i] for i in order] + [""] * (-n % batch_size)
        out = np.empty((n, int(model.output_shape[-1])), dtype=float)
        out[order] = np.asarray(model.predict(text_batch(padded), batch_size=batch_size, verbose=0), dtype=float)[:n]
    return out[:, 0] if out.shape[-1] == 1 else out


def _by_length(texts: Sequence[str]) -> np.ndarray:
    """Positions ordered by text length (stable). Models that trim each batch to its longest text (the
    pretrained encoder) then run on short tensors; fixed-length models give the same numbers either way."""
    return np.argsort([len(t) for t in texts], kind="stable")


def sentence_vectors(model: Any, texts: Sequence[str], *, batch_size: int = 256) -> np.ndarray:
    """The ``sentence_repr`` layer's output: the model's representation of each text."""
    from shared.models import text_batch
    from shared.models._keras import keras

    k = keras()
    texts = list(texts)
    encoder = k.Model(model.inputs, model.get_layer("sentence_repr").output)
    order = _by_length(texts)
    padded = [texts[i] for i in order] + [""] * (-len(texts) % batch_size)
    out = np.empty((len(texts), int(encoder.output_shape[-1])), dtype=float)
    out[order] = np.asarray(encoder.predict(text_batch(padded), batch_size=batch_size, verbose=0),
                            dtype=float)[:len(texts)]
    return out


def predicted_class(proba: np.ndarray) -> np.ndarray:
    return (proba >= 0.5).astype(np.int64) if proba.ndim == 1 else proba.argmax(axis=1).astype(np.int64)


class KerasTextClassifier:
    """``fit``/``predict`` wrapper for ``shared.evaluation.cross_validate``: each ``fit`` builds fresh
    vectorizers and models from the fold's training texts only; ``predict`` returns probabilities
    (averaged over ``kinds`` when it names both architectures, i.e. the ensemble)."""

    def __init__(self, kinds: Sequence[str] | str, *, params: DeepParams, n_classes: int, seed: int) -> None:
        self.kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        self.params, self.n_classes, self.seed = params, n_classes, seed
        self.trained_: list[TrainedModel] = []

    def fit(self, texts: Any, labels: Any) -> "KerasTextClassifier":
        self.trained_ = [train(kind, list(texts), np.asarray(labels), params=self.params, n_classes=self.n_classes,
                               seed=self.seed) for kind in self.kinds]
        return self

    def predict(self, texts: Any) -> np.ndarray:
        if not self.trained_:
            raise ValueError("call fit before predict")
        return np.mean([predict_proba(t.model, list(texts)) for t in self.trained_], axis=0)


# -- saving and loading a predictor ---------------------------------------------------------------
@dataclasses.dataclass
class Predictor:
    """A saved model plus the preprocessing and class names it was trained with."""

    model: Any
    pipeline: TextPipeline
    classes: tuple[str, ...]
    model_name: str
    raw_input: bool = False   # the model tokenizes raw texts itself (the pretrained encoder)

    def inputs(self, texts: Sequence[str]) -> list[str]:
        """What the model takes: the raw texts, or the NLTK-processed ones."""
        return [str(t) for t in texts] if self.raw_input else self.pipeline.process(texts)

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        return predict_proba(self.model, self.inputs(texts))

    @property
    def occlusion_pipeline(self) -> TextPipeline:
        """Tokens to leave out one at a time: the NLTK pipeline's, or, for a raw-text model, the same
        tokenizer without lower-casing, negation marks, stop words or stems (the variants stay raw text)."""
        if not self.raw_input:
            return self.pipeline
        return TextPipeline(tokenizer=self.pipeline.tokenizer, lowercase=False, negation=False)

    def explain(self, text: str, *, true_label: str | None = None) -> Any:
        """Token occlusion of one raw text (see explain.py)."""
        from .explain import occlusion

        return occlusion(text, pipeline=self.occlusion_pipeline, predict=lambda s: predict_proba(self.model, s),
                         classes=self.classes, true_label=true_label)

    def probability_matrix(self, texts: Sequence[str]) -> np.ndarray:
        p = self.proba(texts)
        return np.column_stack([1 - p, p]) if p.ndim == 1 else p


def write_pipeline(run_dir: Path, *, pipeline: TextPipeline, classes: Sequence[str], model_file: str,
                   model_name: str, params: DeepParams, raw_input: bool = False) -> Path:
    """``pipeline.json``: what ``--predict`` needs besides the ``.keras`` file."""
    from shared.artifacts import write_json

    note = ("the model takes the raw texts (its WordPiece tokenizer is inside it); `preprocessing` only splits "
            "tokens for occlusion" if raw_input else
            "texts are processed with `preprocessing` (NLTK), joined by spaces, then fed to the model")
    return write_json(Path(run_dir) / PIPELINE_FILE, {
        "model_file": model_file, "model_name": model_name, "classes": list(classes),
        "input": "raw" if raw_input else "nltk", "preprocessing": pipeline.to_dict(),
        "deep_params": dataclasses.asdict(params), "note": note})


def load_predictor(run_dir: str | Path) -> Predictor:
    """Load a run's best model and its preprocessing (``--model-dir``)."""
    from shared.models._keras import keras

    run_dir = Path(run_dir)
    spec_path = run_dir / PIPELINE_FILE
    if not spec_path.is_file():
        raise InputFileNotFound(f"no {PIPELINE_FILE} in {run_dir}; pass --model-dir with a finished "
                                "review_sentiment run directory (runs/review_sentiment/<run-id>)")
    try:
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{spec_path} is not valid JSON ({err}); rerun the case study") from err
    model_path = run_dir / spec.get("model_file", "")
    if not model_path.is_file():
        raise InputFileNotFound(f"model file {model_path} is missing; rerun the case study")
    pipeline = TextPipeline.from_dict(spec["preprocessing"]).check_resources()
    if spec.get("input") == "raw":  # a MiniLM model: its keras-hub layers must be registered first
        from shared.models.pretrained_text import import_keras_hub

        import_keras_hub()
    model = keras().models.load_model(model_path)
    return Predictor(model=model, pipeline=pipeline, classes=tuple(spec["classes"]),
                     model_name=spec.get("model_name", model_path.stem), raw_input=spec.get("input") == "raw")
