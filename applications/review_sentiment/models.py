"""The two deep text classifiers (NLP family BiLSTM, CNN family text CNN): train, predict, save, load.

Both come from ``shared.models.build_text_classifier``: raw (already NLTK-processed) strings in,
a ``TextVectorization`` layer adapted on the *fitting* texts only (the validation texts used for
early stopping are carved out of the training part first and never adapt the vocabulary), an
embedding, the encoder, dropout, and a sigmoid (two classes) or softmax head.

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

MODEL_KINDS = ("bilstm", "cnn")
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


def build(kind: str, vectorizer: Any, params: DeepParams, n_classes: int) -> Any:
    """The uncompiled model of ``kind`` ("bilstm" or "cnn") on a fitted vectorizer."""
    from shared.models import build_text_classifier

    if kind not in MODEL_KINDS:
        raise ValueError(f"model must be one of {list(MODEL_KINDS)}, got {kind!r}")
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


def train(kind: str, texts: Sequence[str], labels: np.ndarray, *, params: DeepParams, n_classes: int, seed: int,
          verbose: int = 0, callbacks: Sequence[Any] = ()) -> TrainedModel:
    """Carve the validation part, adapt the vectorizer on the rest, build, compile and train ``kind``.

    ``texts`` are the NLTK-processed training texts (never test texts); early stopping watches the
    validation loss and restores the best weights.
    """
    from shared.models import fit_text_vectorizer, text_batch
    from shared.training import fit_keras, set_seed, standard_callbacks

    texts = np.asarray(list(texts), dtype=object)
    labels = np.asarray(labels, dtype=np.int64)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels; pass one label per text")
    set_seed(seed)
    fit_idx, val_idx = carve_validation(labels, params.val_fraction, seed=seed)
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
        padded = texts + [""] * (-n % batch_size)
        out = np.asarray(model.predict(text_batch(padded), batch_size=batch_size, verbose=0), dtype=float)[:n]
    return out[:, 0] if out.shape[-1] == 1 else out


def sentence_vectors(model: Any, texts: Sequence[str], *, batch_size: int = 256) -> np.ndarray:
    """The ``sentence_repr`` layer's output: the model's representation of each text."""
    from shared.models import text_batch
    from shared.models._keras import keras

    k = keras()
    texts = list(texts)
    encoder = k.Model(model.inputs, model.get_layer("sentence_repr").output)
    padded = texts + [""] * (-len(texts) % batch_size)
    return np.asarray(encoder.predict(text_batch(padded), batch_size=batch_size, verbose=0), dtype=float)[:len(texts)]


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

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        return predict_proba(self.model, self.pipeline.process(texts))

    def probability_matrix(self, texts: Sequence[str]) -> np.ndarray:
        p = self.proba(texts)
        return np.column_stack([1 - p, p]) if p.ndim == 1 else p


def write_pipeline(run_dir: Path, *, pipeline: TextPipeline, classes: Sequence[str], model_file: str,
                   model_name: str, params: DeepParams) -> Path:
    """``pipeline.json``: what ``--predict`` needs besides the ``.keras`` file."""
    from shared.artifacts import write_json

    return write_json(Path(run_dir) / PIPELINE_FILE, {
        "model_file": model_file, "model_name": model_name, "classes": list(classes),
        "preprocessing": pipeline.to_dict(), "deep_params": dataclasses.asdict(params),
        "note": "texts are processed with `preprocessing` (NLTK), joined by spaces, then fed to the model"})


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
    model = keras().models.load_model(model_path)
    return Predictor(model=model, pipeline=pipeline, classes=tuple(spec["classes"]),
                     model_name=spec.get("model_name", model_path.stem))
