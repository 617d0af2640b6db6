"""The case study's figures, drawn with ``shared.viz`` and saved into the run directory."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from shared.artifacts import RunDir

log = logging.getLogger(__name__)


def roc_figure(run: RunDir, y_true: np.ndarray, scores: Mapping[str, np.ndarray], *, title: str) -> None:
    """ROC curves of every model (deep and baselines) on one plot; two classes only."""
    from shared.viz import plot_roc_curves

    curves = {name: (y_true, s) for name, s in scores.items() if s is not None and np.ndim(s) == 1}
    if curves and len(np.unique(y_true)) == 2:
        run.save_figure(plot_roc_curves(curves, title=title), "roc_curves")


def confusion_figure(run: RunDir, y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str], *,
                     title: str) -> None:
    from shared.viz import plot_confusion_matrix

    names = np.asarray(classes, dtype=object)
    run.save_figure(plot_confusion_matrix((names[y_true], names[y_pred]), labels=list(classes), title=title),
                    "confusion_matrix")


def learning_curve_figures(run: RunDir, histories: Mapping[str, dict[str, list[float]]]) -> None:
    from shared.viz import plot_learning_curves

    for name, history in histories.items():
        run.save_figure(plot_learning_curves(history, title=f"{name}: learning curves (early stopping on val_loss)"),
                        f"learning_curves_{name}")


def comparison_figure(run: RunDir, accuracy: Mapping[str, float], errors: Mapping[str, float], *,
                      deep: Sequence[str]) -> None:
    """Test accuracy of every model, deep ones highlighted, ± std over seeds where there is one."""
    from shared.viz import plot_bar

    run.save_figure(plot_bar(dict(accuracy), errors={k: errors.get(k, 0.0) for k in accuracy},
                             highlight=[d for d in deep if d in accuracy], xlabel="test accuracy",
                             title="Test accuracy (deep models highlighted; error bars: std over seeds)"),
                    "model_comparison")


def representation_map(run: RunDir, vectors: np.ndarray, labels: Sequence[str], snippets: Sequence[str],
                       predicted: Sequence[str], *, train_texts: Sequence[str], model_name: str, seed: int,
                       max_points: int, methods: str) -> None:
    """The measured learned map of the test texts' sentence vectors, coloured by true label and by
    error, beside maps of their TF-IDF bag of words (fitted on the training texts only).

    The vectors of every test text also go to TensorBoard's projector (``logs/projector/sentence_map``).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    from shared.maps.learned import learned_map

    if len(vectors) < 3:
        log.info("too few test texts for a representation map; skipped")
        return
    run.export_embeddings("sentence_map", vectors, {"snippet": [_short(s) for s in snippets],
                                                    "true": list(labels), "predicted": list(predicted)})
    # the raw view of a text: its TF-IDF over the 2,000 most frequent training words
    words = TfidfVectorizer(max_features=2000, sublinear_tf=True).fit(list(train_texts))
    correct = np.where(np.asarray(labels, dtype=object) == np.asarray(predicted, dtype=object), "right", "wrong")
    learned_map(run, name="sentence_map", learned=vectors, raw=words.transform(list(snippets)),
                labels=np.asarray(labels, dtype=object), title=f"{model_name}: test reviews",
                label_name="true label", learned_name=f"{model_name} sentence vectors", raw_name="TF-IDF words",
                seed=seed, max_points=max_points, methods=methods,
                hover_text=[f"{_short(s)}\ntrue: {t} · predicted: {p}" for s, t, p in zip(snippets, labels, predicted)],
                extra_labels={f"{model_name} right or wrong": correct}, required=False)


def explanation_figure(run: RunDir, explanations: Sequence[Any], name: str, *, title: str) -> None:
    from .explain import plot_explanations

    if explanations:
        run.save_figure(plot_explanations(explanations, title=title), name)


def _short(text: str, width: int = 160) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
