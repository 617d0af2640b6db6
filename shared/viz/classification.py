"""Classifier figures: ROC curves, the confusion matrix and the reliability diagram."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shared.viz._common import (_REFERENCE, _as_1d, _binary, _check_int, _check_path, _check_str, _render,
                                _same_length, _style, _tick_positions)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure


_NORMALIZE = {False: None, None: None, True: "true", "true": "true", "pred": "pred", "all": "all"}


def plot_roc_curves(curves: Mapping[str, tuple[Any, Any]], *, title: str = "ROC curves",
                    path: str | os.PathLike | None = None) -> Figure | Path:
    """ROC curves of several models on one plot, the AUC in the legend, and the chance diagonal.

    ``curves`` maps a model name to ``(y_true, y_score)``: 0/1 labels and scores (probabilities or
    any monotone score, higher meaning more likely positive).
    """
    if not isinstance(curves, Mapping):
        raise TypeError(f"curves must be a dict name -> (y_true, y_score), got {type(curves).__name__}; "
                        f"wrap a single model as {{'model': (y_true, y_score)}}")
    if not curves:
        raise ValueError("curves is empty; pass at least one model as {'model': (y_true, y_score)}")
    _check_str("title", title)
    _check_path(path)
    from sklearn.metrics import auc, roc_curve

    computed = []
    for name, pair in curves.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"curves[{name!r}] must be a (y_true, y_score) pair, got {type(pair).__name__}")
        y_true = _binary(f"curves[{name!r}] y_true", pair[0], both_classes=True)
        y_score = _as_1d(f"curves[{name!r}] y_score", pair[1])
        _same_length(y_true=y_true, y_score=y_score)
        fpr, tpr, _ = roc_curve(y_true, y_score)
        computed.append((str(name), fpr, tpr, auc(fpr, tpr)))

    def draw(fig: Figure, axes: np.ndarray) -> None:
        ax = axes[0, 0]
        for i, (name, fpr, tpr, score) in enumerate(computed):
            ax.plot(fpr, tpr, label=f"{name} (AUC = {score:.3f})", linewidth=1.8, **_style(i))
        ax.plot([0, 1], [0, 1], color=_REFERENCE, linestyle="--", linewidth=1, label="chance (AUC = 0.500)")
        ax.set_xlim(-0.01, 1.01)
        ax.set_ylim(-0.01, 1.01)
        ax.set_aspect("equal")
        ax.set_xlabel("False positive rate (1 - specificity)")
        ax.set_ylabel("True positive rate (sensitivity)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize="small")

    return _render(draw, path=path, figsize=(5.6, 5.2))


def plot_confusion_matrix(data: Any, *, labels: Sequence[Any] | None = None,
                          normalize: bool | str = False, title: str = "Confusion matrix",
                          path: str | os.PathLike | None = None) -> Figure | Path:
    """Annotated heatmap of a confusion matrix (rows: true class, columns: predicted class).

    ``data`` is either a square matrix of counts (array, nested list or DataFrame) or a *tuple*
    ``(y_true, y_pred)`` of class labels (a list of two lists is read as a 2x2 matrix).
    ``labels``: for a matrix, the display names of its classes; for ``(y_true, y_pred)``, the
    classes to show and their order (default: all classes seen, sorted).
    ``normalize``: False (counts), True or "true" (share of each true class, i.e. recall per
    row), "pred" (share of each predicted class) or "all".
    """
    if isinstance(normalize, str) or isinstance(normalize, bool) or normalize is None:
        mode = _NORMALIZE.get(normalize, "invalid")
    else:
        mode = "invalid"
    if mode == "invalid":
        raise ValueError(f"normalize must be False, True, 'true', 'pred' or 'all', got {normalize!r}")
    _check_str("title", title)
    _check_path(path)
    if labels is not None and (isinstance(labels, (str, bytes)) or not isinstance(labels, Iterable)):
        raise TypeError(f"labels must be a list of class names, got {type(labels).__name__}")
    labels = None if labels is None else list(labels)
    if labels is not None and len(set(map(str, labels))) != len(labels):
        raise ValueError(f"labels must not repeat a class, got {labels}")

    if isinstance(data, tuple):
        if len(data) != 2:
            raise TypeError(f"data as a tuple must be (y_true, y_pred), got a tuple of {len(data)} items")
        y_true = _as_1d("y_true", data[0], numeric=False)
        y_pred = _as_1d("y_pred", data[1], numeric=False)
        _same_length(y_true=y_true, y_pred=y_pred)
        if pd.isna(y_true).any() or pd.isna(y_pred).any():
            raise ValueError("y_true and y_pred must not contain missing values; drop those rows first")
        from sklearn.metrics import confusion_matrix

        classes = labels if labels is not None else list(pd.unique(np.concatenate([y_true, y_pred])))
        if labels is None:
            try:
                classes = sorted(classes)
            except TypeError:
                classes = sorted(classes, key=str)
        elif not set(classes) & set(y_true.tolist()):
            raise ValueError(f"none of labels {classes} occurs in y_true; pass the class values, not display names")
        matrix = confusion_matrix(y_true, y_pred, labels=classes).astype(float)
        names = [str(c) for c in classes]
    else:
        if isinstance(data, pd.DataFrame):
            frame_names = [str(c) for c in data.index]
            data = data.to_numpy()
        else:
            frame_names = None
        try:
            matrix = np.asarray(data, dtype=float)
        except (TypeError, ValueError):
            raise TypeError("data must be a square numeric matrix or a tuple (y_true, y_pred)") from None
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.size == 0:
            raise ValueError(f"data must be a non-empty square matrix (classes x classes), got shape {matrix.shape}; "
                             f"pass (y_true, y_pred) as a tuple to have it computed")
        if not np.isfinite(matrix).all() or (matrix < 0).any():
            raise ValueError("data must hold non-negative finite counts")
        names = [str(c) for c in labels] if labels is not None else frame_names or [str(i) for i in range(len(matrix))]
        if len(names) != len(matrix):
            raise ValueError(f"labels has {len(names)} names but the matrix has {len(matrix)} classes; "
                             f"pass one name per row")

    counts = matrix
    if mode == "true":
        shown = np.divide(counts, counts.sum(axis=1, keepdims=True), out=np.zeros_like(counts),
                          where=counts.sum(axis=1, keepdims=True) > 0)
        bar_label = "share of true class"
    elif mode == "pred":
        shown = np.divide(counts, counts.sum(axis=0, keepdims=True), out=np.zeros_like(counts),
                          where=counts.sum(axis=0, keepdims=True) > 0)
        bar_label = "share of predicted class"
    elif mode == "all":
        total = counts.sum()
        shown = counts / total if total > 0 else np.zeros_like(counts)
        bar_label = "share of all samples"
    else:
        shown = counts
        bar_label = "count"
    integer_counts = mode is None and np.allclose(counts, np.round(counts))
    k = len(shown)

    def draw(fig: Figure, axes: np.ndarray) -> None:
        ax = axes[0, 0]
        vmax = 1.0 if mode is not None else max(float(shown.max()), 1.0)
        image = ax.imshow(shown, cmap="viridis", vmin=0.0, vmax=vmax, interpolation="nearest")
        fig.colorbar(image, ax=ax, label=bar_label, shrink=0.85)
        if k <= 25:
            for (r, c), value in np.ndenumerate(shown):
                text = f"{int(round(value))}" if integer_counts else f"{value:.2f}"
                ax.text(c, r, text, ha="center", va="center", fontsize=9 if k <= 10 else 7,
                        color="white" if value < 0.5 * vmax else "black")
        ticks = _tick_positions(k, 40)
        ax.set_xticks(ticks, [names[i] for i in ticks], rotation=45 if max(map(len, names)) > 3 else 0,
                      ha="right" if max(map(len, names)) > 3 else "center")
        ax.set_yticks(ticks, [names[i] for i in ticks])
        ax.set_xlabel("Predicted label")
        ax.set_ylabel("True label")
        ax.set_title(title)

    side = min(3.0 + 0.45 * k, 14.0)
    return _render(draw, path=path, figsize=(side + 1.2, side))


def plot_calibration(y_true: Any, y_prob: Any, *, n_bins: int = 10, strategy: str = "uniform",
                     title: str = "Calibration (reliability diagram)",
                     path: str | os.PathLike | None = None) -> Figure | Path:
    """Reliability diagram: observed share of positives against mean predicted probability per bin.

    ``y_prob`` is one array of probabilities or a dict name -> probabilities (several models
    against the same ``y_true``). The legend shows each model's Brier score; a lower panel shows
    how the predictions are distributed. ``strategy``: "uniform" bins or "quantile" bins.
    """
    y = _binary("y_true", y_true)
    probs = dict(y_prob) if isinstance(y_prob, Mapping) else {"model": y_prob}
    if not probs:
        raise ValueError("y_prob is empty; pass an array of probabilities or a dict name -> probabilities")
    _check_int("n_bins", n_bins, minimum=2)
    if strategy not in ("uniform", "quantile"):
        raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")
    _check_str("title", title)
    _check_path(path)
    arrays = {}
    for name, p in probs.items():
        label = "y_prob" if len(probs) == 1 and not isinstance(y_prob, Mapping) else f"y_prob[{name!r}]"
        arr = _as_1d(label, p)
        _same_length(y_true=y, **{label: arr})
        if arr.min() < 0 or arr.max() > 1:
            raise ValueError(f"{label} must be probabilities in [0, 1], got range [{arr.min():.3g}, {arr.max():.3g}]; "
                             f"apply a sigmoid to logits first")
        arrays[str(name)] = arr
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss

    results = []
    for name, arr in arrays.items():
        frac_pos, mean_pred = calibration_curve(y, arr, n_bins=n_bins, strategy=strategy, pos_label=1)
        results.append((name, arr, mean_pred, frac_pos, brier_score_loss(y, arr, pos_label=1)))

    def draw(fig: Figure, axes: np.ndarray) -> None:
        top, bottom = axes[0, 0], axes[1, 0]
        top.plot([0, 1], [0, 1], color=_REFERENCE, linestyle="--", linewidth=1, label="perfectly calibrated")
        for i, (name, arr, mean_pred, frac_pos, brier) in enumerate(results):
            style = _style(i)
            top.plot(mean_pred, frac_pos, marker="o", markersize=4, label=f"{name} (Brier = {brier:.3f})", **style)
            bottom.hist(arr, bins=n_bins, range=(0, 1), histtype="step", color=style["color"], linewidth=1.5)
        top.set_xlim(-0.01, 1.01)
        top.set_ylim(-0.01, 1.01)
        top.set_ylabel("Observed share of positives")
        top.set_title(title)
        top.grid(alpha=0.3)
        top.legend(loc="upper left", fontsize="small")
        bottom.set_xlabel("Mean predicted probability")
        bottom.set_ylabel("count")
        bottom.grid(alpha=0.3)

    return _render(draw, path=path, figsize=(5.6, 6.4), nrows=2, sharex=True,
                   gridspec_kw={"height_ratios": [3, 1]})
