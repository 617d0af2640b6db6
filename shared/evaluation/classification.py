"""Classification metrics: one call gives the numbers every classifier table reports.

Everything is computed with scikit-learn; this module only decides what the input is
(hard labels, a positive-class probability vector, or an ``(n, k)`` probability matrix) and
checks it at the edge.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn import metrics as skm

log = logging.getLogger(__name__)

__all__ = ["classification_metrics", "confusion"]


def _labels_1d(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per sample), got shape {arr.shape}; flatten it")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; pass at least one sample")
    return arr


def _resolve_labels(y_true: np.ndarray, extra: np.ndarray | None, labels: Sequence[Any] | None) -> np.ndarray:
    if labels is None:
        pool = y_true if extra is None else np.concatenate([y_true, extra])
        return np.unique(pool)
    out = np.asarray(labels)
    if out.ndim != 1 or out.size < 2 or np.unique(out).size != out.size:
        raise ValueError(f"labels must list at least two distinct classes, got {labels!r}")
    unknown = np.setdiff1d(y_true, out)
    if unknown.size:
        raise ValueError(f"y_true holds classes {unknown.tolist()} that are not in labels={out.tolist()}; "
                         "add them to labels")
    return out


def _probabilities(values: np.ndarray, name: str) -> np.ndarray:
    if not np.issubdtype(values.dtype, np.number) or np.issubdtype(values.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold numeric probabilities, got dtype {values.dtype}")
    probs = values.astype(float)
    if not np.all(np.isfinite(probs)):
        raise ValueError(f"{name} holds NaN or infinite probabilities; check the model output")
    if probs.min() < 0.0 or probs.max() > 1.0:
        raise ValueError(f"{name} must be probabilities in [0, 1], got values in [{probs.min():.4g}, "
                         f"{probs.max():.4g}]; apply a sigmoid/softmax to logits first")
    return probs


def _roc_auc(y_true: np.ndarray, scores: np.ndarray, labels: np.ndarray) -> float:
    present = np.unique(y_true)
    if present.size < 2:
        log.warning("roc_auc is undefined when y_true holds one class (%s); reporting NaN", present.tolist())
        return float("nan")
    if scores.ndim == 1:
        return float(skm.roc_auc_score(y_true == labels[1], scores))
    if present.size < labels.size:
        log.warning("roc_auc (one-vs-rest) needs every class in y_true; missing %s; reporting NaN",
                    np.setdiff1d(labels, present).tolist())
        return float("nan")
    return float(skm.roc_auc_score(y_true, scores, multi_class="ovr", average="macro", labels=labels))


def classification_metrics(y_true: Any, y_pred_or_proba: Any, *, threshold: float = 0.5,
                           labels: Sequence[Any] | None = None) -> dict[str, float]:
    """Accuracy, precision, recall, F1, macro F1 and ROC-AUC in one dict (lower-case keys).

    ``y_pred_or_proba`` may be
    - hard labels (integer, bool or string dtype), 1-D: ``roc_auc`` is NaN (it needs scores);
    - a 1-D float vector of positive-class probabilities (binary only): the prediction is
      ``labels[1]`` where ``p >= threshold``, else ``labels[0]``;
    - an ``(n, k)`` probability matrix whose column ``j`` belongs to ``labels[j]``: the prediction
      is the arg-max; with ``k == 2`` the AUC uses column 1, with ``k > 2`` it is the macro
      one-vs-rest AUC.

    ``labels`` defaults to the sorted classes seen in ``y_true`` (and in hard predictions); the
    positive class of a binary problem is ``labels[1]`` (so 1 for 0/1 data). ``precision``,
    ``recall`` and ``f1`` are for the positive class when there are two classes and macro
    averages otherwise. Undefined ratios (no predicted positives) count 0, as scikit-learn's
    ``zero_division=0``.
    """
    y_true = _labels_1d("y_true", y_true)
    raw = np.asarray(y_pred_or_proba)
    if raw.ndim not in (1, 2):
        raise ValueError(f"y_pred_or_proba must be 1-D labels/probabilities or an (n, k) probability matrix, "
                         f"got shape {raw.shape}")
    if raw.shape[0] != y_true.shape[0]:
        raise ValueError(f"y_true has {y_true.shape[0]} samples but y_pred_or_proba has {raw.shape[0]}; "
                         "pass predictions for the same rows")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be a number in (0, 1), got {threshold!r}")

    is_float = np.issubdtype(raw.dtype, np.floating)
    if raw.ndim == 2:
        probs = _probabilities(raw, "y_pred_or_proba")
        if not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
            raise ValueError("rows of the y_pred_or_proba matrix must sum to 1; apply a softmax to the "
                             "model output (or pass the positive-class column as a 1-D vector)")
        if labels is None and np.unique(y_true).size != probs.shape[1]:
            raise ValueError(f"y_pred_or_proba has {probs.shape[1]} columns but y_true shows "
                             f"{np.unique(y_true).size} classes; pass labels=[...] naming each column")
        cls = _resolve_labels(y_true, None, labels)
        if cls.size != probs.shape[1]:
            raise ValueError(f"labels has {cls.size} classes but y_pred_or_proba has {probs.shape[1]} columns; "
                             "give one label per column")
        y_pred = cls[probs.argmax(axis=1)]
        scores: np.ndarray | None = probs[:, 1] if cls.size == 2 else probs
    elif is_float:
        scores = _probabilities(raw, "y_pred_or_proba")
        cls = _resolve_labels(y_true, None, labels)
        if cls.size != 2:
            raise ValueError(f"a 1-D probability vector needs a binary problem, but there are {cls.size} classes "
                             f"{cls.tolist()}; pass an (n, k) probability matrix or hard labels")
        y_pred = np.where(scores >= threshold, cls[1], cls[0])
    else:
        y_pred = raw
        cls = _resolve_labels(y_true, y_pred, labels)
        unknown = np.setdiff1d(y_pred, cls)
        if unknown.size:
            raise ValueError(f"y_pred_or_proba holds classes {unknown.tolist()} not in labels={cls.tolist()}")
        scores = None

    binary = cls.size == 2
    kw: dict[str, Any] = ({"average": "binary", "pos_label": cls[1]} if binary
                          else {"average": "macro", "labels": cls})
    out = {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "precision": float(skm.precision_score(y_true, y_pred, zero_division=0, **kw)),
        "recall": float(skm.recall_score(y_true, y_pred, zero_division=0, **kw)),
        "f1": float(skm.f1_score(y_true, y_pred, zero_division=0, **kw)),
        "macro_f1": float(skm.f1_score(y_true, y_pred, average="macro", labels=cls, zero_division=0)),
        "roc_auc": float("nan") if scores is None else _roc_auc(y_true, scores, cls),
    }
    return out


def confusion(y_true: Any, y_pred: Any, labels: Sequence[Any] | None = None) -> np.ndarray:
    """Confusion matrix (rows = true class, columns = predicted), classes in ``labels`` order.

    ``labels`` defaults to the sorted union of the classes in ``y_true`` and ``y_pred``.
    """
    y_true = _labels_1d("y_true", y_true)
    y_pred = _labels_1d("y_pred", y_pred)
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(f"y_true has {y_true.shape[0]} samples but y_pred has {y_pred.shape[0]}; "
                         "pass predictions for the same rows")
    if labels is not None:
        labels = list(labels)
        if not labels:
            raise ValueError("labels is empty; pass the classes in the order you want, or None")
    return skm.confusion_matrix(y_true, y_pred, labels=labels)
