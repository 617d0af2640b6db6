"""``--source parquet``: the deep text classifiers trained and evaluated from a stream of Parquet parts.

The texts never sit in memory together. One Dask DataFrame pass over the TRAINING rows
(:func:`shared.dask_prep.scan_training`; ``--dask-scheduler`` for a cluster) counts the labels, and
Keras' own ``TextVectorization.adapt()`` learns the vocabulary from a stream of the training texts
(the app's NLTK :class:`TextPipeline` applied per partition, ``standardize=None`` as in
:func:`applications.review_sentiment.models.train`); each deep model then trains from
:func:`shared.streaming.streaming_dataset` (chunks read lazily and tokenized, rows shuffled in a
bounded buffer, prefetched). The held-out rows are streamed once, chunk by chunk, for every
model's scores; only the labels and one score per held-out text are kept (8 bytes per model and
row, for ROC-AUC).

* Split row by row (``--split-column``/``--train-value``, or ``--hash-split COLUMN``): test texts never
  reach the vocabulary or the label counts (tested).
* Baselines on this path: majority (training label counts), VADER (binary; no training) and
  ``hashing_logreg`` — word 1–2-gram ``HashingVectorizer`` + ``SGDClassifier(loss="log_loss")`` fitted
  with ``partial_fit`` chunk by chunk, the out-of-core stand-in for TF-IDF + logistic regression.
* Not on this path (they need every training text in memory): TF-IDF + logistic regression with C
  by CV, NB-SVM, the character n-gram SVM, the 5-fold cross-validation, early stopping on a
  validation carve-out (the models train ``--epochs`` epochs), the representation map and the
  occlusion figures of test reviews.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from shared.errors import UserError

log = logging.getLogger(__name__)

HINT = "name the columns with --text-column/--label-column and the split with --split-column (or --hash-split COLUMN)"
SKIPPED = {
    "tfidf_logreg (C by CV) / nbsvm / char_svm": "need every training text in memory; hashing_logreg streams instead",
    "cross_validation": "k-fold CV re-reads all texts k times in memory",
    "early stopping": "no validation carve-out on this path: the deep models train --epochs epochs",
    "representation map / test explanations": "need the test texts in memory",
}
HASH_FEATURES = 1 << 20
HASH_EPOCHS = 3


def split_rule(config: Any) -> Any:
    from shared.streaming import split_rule_from

    return split_rule_from(split_column=config.split_column, train_value=config.train_value,
                           hash_split=config.hash_split, test_fraction=config.test_fraction)


def _texts(values: Any) -> list[str]:
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


def text_preprocessor(pipeline: Any, column: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Per-chunk NLTK processing of ``column`` (stateless: nothing is fitted)."""
    def process(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame[column] = np.asarray(pipeline.process(_texts(frame[column])), dtype=object)
        return frame

    return process


def label_classes(label_counts: dict[Any, int], positive_label: str | None) -> list[Any]:
    """Class values in id order: sorted (numerically when all are numbers); ``positive_label`` last."""
    from .data import _sorted_classes

    if len(label_counts) < 2:
        raise UserError(f"the training rows hold {len(label_counts)} class(es) {sorted(map(str, label_counts))}; "
                         "a classifier needs at least two: check --label-column and the split")
    by_text = {str(k): k for k in label_counts}
    classes = _sorted_classes(list(by_text))
    if positive_label is not None:
        if len(classes) != 2:
            raise UserError(f"--positive-label applies to two classes, got {len(classes)}: {classes}")
        if str(positive_label) not in by_text:
            raise UserError(f"--positive-label {positive_label!r} is not a training label; choose one of {classes}")
        classes = [c for c in classes if c != str(positive_label)] + [str(positive_label)]
    return [by_text[c] for c in classes]


def label_ids(values: Any, classes: list[Any], *, column: str) -> np.ndarray:
    """Class ids of raw label values; a label never seen in training is an error naming it."""
    index = pd.Index([str(c) for c in classes])
    ids = index.get_indexer(pd.Index([str(v) for v in values]))
    if (ids < 0).any():
        unknown = sorted({str(v) for v, i in zip(values, ids) if i < 0})[:5]
        raise UserError(f"held-out rows carry label(s) {unknown} in {column!r} that no training row has; "
                         f"known classes {[str(c) for c in classes]}: fix the labels or the split")
    return ids.astype(np.int64)


@dataclasses.dataclass
class StreamPlan:
    config: Any
    stats: Any
    classes: list[Any]
    pipeline: Any

    @property
    def k(self) -> int:
        return len(self.classes)


def scan(config: Any) -> StreamPlan:
    """Validate the source's columns, then the Dask pass over the (NLTK-processed) training texts."""
    from shared.dask_prep import scan_training
    from shared.streaming import require_source_columns

    if not config.path:
        raise UserError("--source parquet needs --path DIR (a directory of Parquet files)")
    rule = split_rule(config)
    require_source_columns(config.path, [config.text_column, config.label_column, rule.column],
                           what="texts Parquet", hint=HINT)
    pipeline = config.pipeline().check_resources()
    stats = scan_training(config.path, split=rule, text_column=config.text_column, label_column=config.label_column,
                          standardize=None, preprocess=text_preprocessor(pipeline, config.text_column),
                          scheduler=config.dask_scheduler)
    classes = label_classes(stats.label_counts, config.positive_label)
    if not len(stats.vocabulary):
        raise UserError(f"texts Parquet {config.path}: the training texts hold no tokens; check --text-column")
    return StreamPlan(config=config, stats=stats, classes=classes, pipeline=pipeline)


def training_dataset(plan: StreamPlan, *, seed: int) -> Any:
    from shared.streaming import streaming_dataset

    c = plan.config
    process = text_preprocessor(plan.pipeline, c.text_column)

    def preprocess(frame: pd.DataFrame) -> pd.DataFrame:
        frame = process(frame)
        frame[c.label_column] = label_ids(frame[c.label_column].tolist(), plan.classes, column=c.label_column)
        return frame

    return streaming_dataset(c.path, plan.stats, features=(c.text_column,), target=c.label_column,
                             batch_size=c.deep.batch_size, chunk_rows=c.chunk_rows, shuffle_buffer=c.shuffle_buffer,
                             seed=seed, single_input=True, target_dtype="float32" if plan.k == 2 else "int32",
                             preprocess=preprocess)


def _part_chunks(plan: StreamPlan, part: str):  # noqa: ANN202 - generator of (raw texts, label ids)
    from shared.data.pipelines import iter_parquet_batches

    c = plan.config
    rule = plan.stats.split
    for frame in iter_parquet_batches(c.path, columns=list(dict.fromkeys([c.text_column, c.label_column, rule.column])),
                                      chunk_rows=c.chunk_rows):
        frame = frame[rule.mask(frame, part)]
        if len(frame):
            yield _texts(frame[c.text_column]), label_ids(frame[c.label_column].tolist(), plan.classes,
                                                          column=c.label_column)


def fit_hashing_logreg(plan: StreamPlan, *, seed: int) -> Any:
    """Word 1–2-gram hashing features + logistic regression by SGD, ``partial_fit`` chunk by chunk."""
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import SGDClassifier

    vectorizer = HashingVectorizer(ngram_range=(1, 2), n_features=HASH_FEATURES, alternate_sign=False, norm="l2")
    model = SGDClassifier(loss="log_loss", alpha=1e-5, random_state=seed)
    rng = np.random.default_rng(seed)
    classes = np.arange(plan.k)
    for _ in range(HASH_EPOCHS):
        for texts, y in _part_chunks(plan, "train"):
            order = rng.permutation(len(y))
            model.partial_fit(vectorizer.transform([texts[j] for j in order]), y[order], classes=classes)
    return vectorizer, model


def evaluate_streaming(plan: StreamPlan, models: dict[str, Any], *, hashing: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """One pass over the held-out rows: labels and every model's scores (positive-class probability or matrix)."""
    from .baselines import VaderBaseline
    from .models import predict_proba

    vader = VaderBaseline() if plan.k == 2 else None
    vectorizer, logreg = hashing
    ys: list[np.ndarray] = []
    scores: dict[str, list[np.ndarray]] = {name: [] for name in [*models, "hashing_logreg", "vader"]}
    for texts, y in _part_chunks(plan, "test"):
        ys.append(y)
        processed = plan.pipeline.process(texts)
        for name, model in models.items():
            scores[name].append(predict_proba(model, processed))
        proba = logreg.predict_proba(vectorizer.transform(texts))
        scores["hashing_logreg"].append(proba[:, 1] if plan.k == 2 else proba)
        if vader is not None:
            scores["vader"].append(vader.compound(texts))
    if not ys:
        raise UserError("no held-out rows to evaluate; check the split (--split-column / --hash-split)")
    return np.concatenate(ys), {n: np.concatenate(v) for n, v in scores.items() if v}


def run_streaming(config: Any, run: Any, *, verbose: int = 0) -> Any:
    """The case study on a Parquet directory: statistics, training and evaluation streamed."""
    from shared.artifacts import write_json
    from shared.evaluation import classification_metrics
    from shared.results import CaseStudyResult, mean_and_std
    from shared.streaming import fingerprint_source
    from shared.training import fit_keras, set_seed

    from . import models as deep
    from . import plots
    from .baselines import metrics_from_scores

    started = time.perf_counter()
    plan = scan(config)
    stats = plan.stats
    dataset = {**fingerprint_source(config.path), "classes": [str(c) for c in plan.classes]}
    run.write_data_info({**dataset, "streaming_stats": stats.to_dict()})
    log.info("parquet %s: %d training texts, %d held out, %d distinct tokens (%.1f s)", config.path, stats.rows_train,
             stats.rows_held_out, len(stats.vocabulary), stats.seconds)
    timings: dict[str, float] = {"statistics_pass_s": round(stats.seconds, 2)}
    names = {kind: {"bilstm": "bilstm", "cnn": "text_cnn"}[kind] for kind in config.models}
    seeds = [config.seed + j for j in range(config.seeds)]
    trained: dict[str, Any] = {}
    histories: dict[str, dict[str, list[float]]] = {}
    t0 = time.perf_counter()
    for seed in seeds:
        for kind, name in names.items():
            set_seed(seed)
            vectorizer = stats.vocabulary.vectorizer(max_tokens=config.deep.max_tokens,
                                                     sequence_length=config.deep.sequence_length)
            model = deep.compile_model(deep.build(kind, vectorizer, config.deep, plan.k), config.deep, plan.k)
            history = fit_keras(model, training_dataset(plan, seed=seed), epochs=config.deep.epochs, verbose=verbose,
                                shuffle=False)  # the stream shuffles in its bounded buffer
            trained[f"{name}@{seed}"] = model
            histories.setdefault(name, history)
    timings["deep_training_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    hashing = fit_hashing_logreg(plan, seed=config.seed)
    timings["hashing_logreg_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    y, scores = evaluate_streaming(plan, trained, hashing=hashing)
    timings["evaluation_pass_s"] = round(time.perf_counter() - t0, 2)

    labels = list(range(plan.k))
    result = CaseStudyResult(app="review_sentiment", protocol=f"streamed from Parquet: {stats.split.describe()}",
                             dataset=dataset)
    prior = np.array([stats.label_counts[c] for c in plan.classes], dtype=float)
    prior /= prior.sum()
    constant = np.full(len(y), prior[1]) if plan.k == 2 else np.tile(prior, (len(y), 1))
    result.add("majority", "baseline", metrics_from_scores(y, np.full(len(y), int(np.argmax(prior))), constant,
                                                           n_classes=plan.k), note="training label counts")
    if "vader" in scores:
        s = scores["vader"]
        result.add("vader", "baseline", metrics_from_scores(y, (s >= 0.05).astype(np.int64), s, n_classes=2),
                   note="compound >= 0.05, no training")
    hp = scores["hashing_logreg"]
    result.add("hashing_logreg", "baseline",
               metrics_from_scores(y, deep.predicted_class(hp), hp, n_classes=plan.k),
               note=f"word 1-2-gram HashingVectorizer (2^20) + SGD logistic regression, partial_fit, {HASH_EPOCHS} "
                    "streaming passes")
    best_name, best_acc, per_model = None, -1.0, {}
    for name in names.values():
        runs = [_pick(classification_metrics(y, scores[f"{name}@{seed}"], labels=labels)) for seed in seeds]
        mean, std = mean_and_std(runs)
        per_model[name] = runs
        result.add(name, "deep", mean, seeds=seeds, std=std if len(runs) > 1 else None,
                   note=f"{config.deep.epochs} epochs from the stream, vocabulary from the streaming pass")
        if mean["accuracy"] > best_acc:
            best_name, best_acc = name, mean["accuracy"]
    result.extra.update({
        "source": "parquet", "path": str(config.path), "train_rows": stats.rows_train,
        "test_rows": int(len(y)), "classes": [str(c) for c in plan.classes],
        "statistics": "label counts from one Dask DataFrame pass, the vocabulary by keras adapt() over the streamed "
                      "texts: training rows only",
        "dask_scheduler": config.dask_scheduler or "local (threads)",
        "vocabulary": {"distinct_tokens": len(stats.vocabulary), "max_tokens": config.deep.max_tokens,
                       "learned_by": "keras TextVectorization.adapt over the streamed training texts"},
        "stream": {"chunk_rows": config.chunk_rows, "shuffle_buffer": config.shuffle_buffer,
                   "batch_size": config.deep.batch_size},
        "per_seed": per_model, "preprocessing": plan.pipeline.to_dict(), "skipped_on_parquet_path": SKIPPED,
        "scores_kept_in_memory": "labels and one score per held-out text and model (for ROC-AUC)",
        "timings": {**timings, "total_s": round(time.perf_counter() - started, 2)}})

    classes = tuple(str(c) for c in plan.classes)
    for name in names.values():
        run.save_model(trained[f"{name}@{seeds[0]}"], f"model_{name}")
        run.write_history(histories[name], f"history_{name}")
    deep.write_pipeline(run.path, pipeline=plan.pipeline, classes=classes, model_file=f"model_{best_name}.keras",
                        model_name=best_name, params=config.deep)
    write_json(run.path / "vocabulary.json", {"tokens": stats.vocabulary.top(config.deep.max_tokens),
                                              "counted_on": "training rows only"})
    plots.learning_curve_figures(run, histories)
    if plan.k == 2:
        plots.roc_figure(run, y, {n.split("@")[0]: s for n, s in scores.items()
                                  if "@" not in n or n.endswith(f"@{seeds[0]}")},
                         title=f"ROC curves on the held-out part ({len(y):,} texts)")
    best_scores = scores[f"{best_name}@{seeds[0]}"]
    plots.confusion_figure(run, y, deep.predicted_class(best_scores), classes,
                           title=f"{best_name}: confusion matrix (held-out part)")
    return result


def _pick(metrics: dict[str, float]) -> dict[str, float]:
    return {key: metrics[key] for key in ("accuracy", "macro_f1", "roc_auc")}
