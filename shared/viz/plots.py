"""Static figures for the case studies (matplotlib, Agg backend, files only).

Every ``plot_*`` function takes the data plus keyword-only options, checks its inputs (raising
``ValueError``/``TypeError`` that names the argument and the fix) and returns a matplotlib
``Figure``. Save it with :func:`shared.artifacts.save_figure` (atomic, closes the figure), or pass
``path=`` to have the function do that and return the written path instead.

Nothing heavy is imported when this module is imported: matplotlib (with the Agg backend
selected first), scikit-learn, lifelines and scipy are imported inside the functions, so
``import shared.viz`` stays cheap and never opens a window.

Colours: the Okabe–Ito palette (safe for the common colour-vision deficiencies) for lines and
categories, with line styles / markers varying once it runs out; ``viridis`` for colour scales.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

#: Okabe & Ito (2008) colours without black: blue, orange, bluish green, vermillion, reddish
#: purple, sky blue, yellow. Distinguishable under deuteranopia, protanopia and tritanopia.
OKABE_ITO: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")
_LINESTYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
_REFERENCE = "#7f7f7f"          # grey for chance lines, diagonals, history
_ACTUAL = "#000000"             # black for observed values
_MAX_CATEGORIES = 20            # embedding maps lump the rarer categories into "other" beyond this
_LOWER_IS_BETTER = ("loss", "error", "mae", "mse", "rmse", "mape", "msle", "crossentropy", "hinge",
                    "divergence", "kld", "logcosh", "poisson", "brier")
_NORMALIZE = {False: None, None: None, True: "true", "true": "true", "pred": "pred", "all": "all"}


# --------------------------------------------------------------------------- helpers


def _pyplot() -> Any:
    """Select the non-interactive Agg backend, then import pyplot (at call time, never at import)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _style(i: int) -> dict[str, str]:
    """Colour and line style of the i-th series: colours first, then line styles."""
    return {"color": OKABE_ITO[i % len(OKABE_ITO)],
            "linestyle": _LINESTYLES[(i // len(OKABE_ITO)) % len(_LINESTYLES)]}


def _check_path(path: Any) -> None:
    if path is None:
        return
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or pathlib.Path such as 'figures/roc.png', got {type(path).__name__}")
    from matplotlib.backend_bases import FigureCanvasBase

    suffix = Path(path).suffix.lstrip(".").lower()
    supported = FigureCanvasBase.get_supported_filetypes()
    if suffix and suffix not in supported:
        raise ValueError(f"path {str(path)!r} has an unsupported extension .{suffix}; "
                         f"use one of {sorted('.' + s for s in supported)} (e.g. .png)")


def _check_str(name: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__} {value!r}")


def _check_int(name: str, value: Any, *, minimum: int, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _render(draw: Callable[[Figure, np.ndarray], None], *, path: Any, figsize: tuple[float, float],
            nrows: int = 1, ncols: int = 1, **subplots_kw: Any) -> Figure | Path:
    """Create the figure, let ``draw`` fill it, then return it or save it to ``path``.

    A figure is closed again if drawing or saving fails, so errors never leak open figures.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, layout="constrained", **subplots_kw)
    try:
        draw(fig, axes)
        if path is None:
            return fig
        from shared.artifacts import save_figure

        saved = save_figure(fig, path)
        log.debug("figure saved to %s", saved)
        return saved
    except BaseException:
        plt.close(fig)
        raise


def _as_1d(name: str, values: Any, *, numeric: bool = True, allow_nan: bool = False) -> np.ndarray:
    """A non-empty 1-D array; numeric ones become float and must be finite (NaN only if allowed)."""
    if values is None:
        raise TypeError(f"{name} is required; pass a 1-D array-like such as a list, numpy array or pandas Series")
    if isinstance(values, (str, bytes, Mapping)) or np.isscalar(values):
        raise TypeError(f"{name} must be a 1-D array-like (list, numpy array, pandas Series), "
                        f"got {type(values).__name__}")
    arr = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else np.asarray(values)
    if arr.ndim == 2 and 1 in arr.shape:      # Keras predictions come as (n, 1)
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}; select one column or flatten it with np.ravel")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; pass at least one value")
    if not numeric:
        return arr
    if arr.dtype.kind == "b":
        arr = arr.astype(float)
    elif arr.dtype.kind == "O":
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be numeric, got values such as {arr[0]!r}; "
                            f"convert it with pd.to_numeric first") from None
    elif arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}; convert it with pd.to_numeric first")
    arr = arr.astype(float)
    if allow_nan:
        if np.isinf(arr).any():
            raise ValueError(f"{name} contains infinite values; replace them (e.g. with NaN) first")
        if np.isnan(arr).all():
            raise ValueError(f"{name} has only NaN values; nothing to plot")
    elif not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); drop or fill them first "
                         f"(e.g. values[np.isfinite(values)])")
    return arr


def _same_length(**arrays: Any) -> int:
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise ValueError(f"{' and '.join(lengths)} must have the same length, got {detail}")
    return next(iter(lengths.values()))


def _binary(name: str, values: Any, *, both_classes: bool = False) -> np.ndarray:
    arr = _as_1d(name, values)
    found = set(np.unique(arr).tolist())
    if not found <= {0.0, 1.0}:
        shown = sorted(found)[:5]
        raise ValueError(f"{name} must hold binary labels 0/1 (or bool), got values {shown}; "
                         f"encode the positive class as 1 and the rest as 0")
    if both_classes and len(found) < 2:
        raise ValueError(f"{name} has only the class {int(found.pop())}; this plot needs both "
                         f"positives (1) and negatives (0) — use a larger or stratified sample")
    return arr.astype(int)


def _format_p(p: float) -> str:
    if not np.isfinite(p):
        return "n/a"
    if p == 0.0:
        return "< 1e-300"
    return f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"


def _tick_positions(n: int, max_ticks: int) -> np.ndarray:
    if n <= max_ticks:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_ticks).round().astype(int))


def _tick_labels(values: pd.Index) -> list[str]:
    if isinstance(values, pd.DatetimeIndex):
        fmt = "%Y-%m-%d" if (values == values.normalize()).all() else "%Y-%m-%d %H:%M"
        return list(values.strftime(fmt))
    return [str(v) for v in values]


def _lower_is_better(metric: str) -> bool:
    name = metric.lower()
    return any(token in name for token in _LOWER_IS_BETTER)


# --------------------------------------------------------------------------- learning curves


def _history_frame(history: Any) -> pd.DataFrame:
    if hasattr(history, "history") and isinstance(getattr(history, "history"), Mapping):
        history = history.history                       # a keras.callbacks.History
    if isinstance(history, pd.DataFrame):
        frame = history.copy()
    elif isinstance(history, Mapping):
        if not history:
            raise ValueError("history is empty; pass model.fit(...).history or the DataFrame read from history.csv")
        lengths = {str(k): len(v) if hasattr(v, "__len__") else -1 for k, v in history.items()}
        if min(lengths.values()) < 0:
            raise TypeError("history values must be lists of one number per epoch, e.g. {'loss': [0.9, 0.7]}")
        if len(set(lengths.values())) > 1:
            raise ValueError(f"history lists must all have one value per epoch, got lengths {lengths}")
        frame = pd.DataFrame({str(k): list(v) for k, v in history.items()})
    else:
        raise TypeError(f"history must be a dict of per-epoch lists, a pandas DataFrame or a Keras History, "
                        f"got {type(history).__name__}")
    frame.columns = [str(c) for c in frame.columns]
    if len(frame) == 0 or frame.shape[1] == 0:
        raise ValueError("history has no epochs; train for at least one epoch before plotting")
    return frame


def plot_learning_curves(history: Mapping[str, Sequence[float]] | pd.DataFrame | Any, *,
                         metrics: str | Sequence[str] | None = None, title: str = "Learning curves",
                         path: str | os.PathLike | None = None) -> Figure | Path:
    """One panel per metric with the training and ``val_`` curves and the best validation epoch marked.

    ``history`` is ``model.fit(...).history`` (or the History object itself) or a DataFrame such as
    ``history.csv``; an ``epoch`` column, if present, gives the x values (else 1, 2, ...).
    ``metrics`` defaults to every non-``val_`` key except the learning rate, loss first. "Best" is
    the minimum for loss/error-like names (loss, mae, mse, ..._error) and the maximum otherwise.
    """
    frame = _history_frame(history)
    _check_str("title", title)
    _check_path(path)
    if "epoch" in frame:
        epochs = _as_1d("history['epoch']", frame.pop("epoch"))
    else:
        epochs = np.arange(1, len(frame) + 1, dtype=float)
    columns = list(frame.columns)
    if metrics is None:
        names = [c for c in columns if not c.startswith("val_") and c not in ("lr", "learning_rate")]
        names += [c[4:] for c in columns if c.startswith("val_") and c[4:] not in columns]
        names.sort(key=lambda c: c != "loss")
    else:
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        if not names:
            raise ValueError("metrics is empty; pass e.g. ['loss', 'mae'] or None for all")
    if not names:
        raise ValueError(f"history has no metrics to plot, only {columns}")
    for m in names:
        _check_str("metrics entries", m)
        if m not in frame and f"val_{m}" not in frame:
            raise ValueError(f"metric {m!r} is not in history; available: {columns}")
    series: dict[str, np.ndarray] = {}
    for c in columns:
        if c in names or (c.startswith("val_") and c[4:] in names):
            values = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
            if np.isnan(values).all():
                raise TypeError(f"history[{c!r}] has no numeric values; expected one number per epoch")
            series[c] = np.where(np.isfinite(values), values, np.nan)   # diverged epochs become gaps

    ncols = min(len(names), 3)
    nrows = math.ceil(len(names) / ncols)
    marker = "o" if len(epochs) <= 30 else None

    def draw(fig: Figure, axes: np.ndarray) -> None:
        from matplotlib.ticker import MaxNLocator

        flat = axes.ravel()
        for ax in flat[len(names):]:
            fig.delaxes(ax)
        for ax, m in zip(flat, names):
            if m in series:
                ax.plot(epochs, series[m], label="train", marker=marker, markersize=3, **_style(0))
            val = series.get(f"val_{m}")
            if val is not None:
                ax.plot(epochs, val, label="validation", marker=marker, markersize=3, **_style(1))
                if not np.isnan(val).all():
                    best = int(np.nanargmin(val) if _lower_is_better(m) else np.nanargmax(val))
                    ax.axvline(epochs[best], color=_REFERENCE, linestyle=":", linewidth=1)
                    ax.scatter([epochs[best]], [val[best]], s=60, zorder=3, facecolors="none",
                               edgecolors=_ACTUAL, label=f"best val: {val[best]:.4g} (epoch {epochs[best]:g})")
            ax.set_title(m)
            ax.set_xlabel("epoch")
            ax.set_ylabel(m)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
            ax.legend(fontsize="small", loc="upper right")
        fig.suptitle(title)

    return _render(draw, path=path, figsize=(4.5 * ncols, 3.4 * nrows), nrows=nrows, ncols=ncols)


# --------------------------------------------------------------------------- classification


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


# --------------------------------------------------------------------------- regression / forecasting


def _as_index(name: str, values: Any) -> tuple[np.ndarray, bool]:
    """x values for a series plot: numbers, or datetimes (timezone dropped, wall time kept)."""
    if values is None or isinstance(values, (str, bytes, Mapping)) or np.isscalar(values):
        raise TypeError(f"{name} must be a 1-D sequence of numbers or datetimes, got {type(values).__name__}")
    if isinstance(values, pd.PeriodIndex):
        values = values.to_timestamp()
    idx = values if isinstance(values, pd.Index) else pd.Index(np.asarray(values).reshape(-1)
                                                                   if np.ndim(values) == 2 else values)
    if len(idx) == 0:
        raise ValueError(f"{name} is empty; pass one x value per point")
    if idx.dtype == object and all(isinstance(v, (_dt.date, _dt.datetime, pd.Timestamp)) for v in idx):
        idx = pd.DatetimeIndex(pd.to_datetime(list(idx)))
    if isinstance(idx.dtype, pd.DatetimeTZDtype):
        idx = idx.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(idx.dtype):
        if idx.isna().any():
            raise ValueError(f"{name} contains missing dates (NaT); drop those rows first")
        return idx.to_numpy(dtype="datetime64[ns]"), True
    if pd.api.types.is_numeric_dtype(idx.dtype) and not pd.api.types.is_bool_dtype(idx.dtype):
        arr = idx.to_numpy(dtype=float)
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or infinite values; drop those rows first")
        return arr, False
    raise TypeError(f"{name} must hold numbers or datetimes, got dtype {idx.dtype}; "
                    f"parse date strings with pd.to_datetime first")


def _named_arrays(name: str, values: Any, default: str) -> dict[str, np.ndarray]:
    if isinstance(values, Mapping):
        if not values:
            raise ValueError(f"{name} is an empty dict; pass at least one name -> array")
        return {str(k): _as_1d(f"{name}[{k!r}]", v, allow_nan=True) for k, v in values.items()}
    return {default: _as_1d(name, values, allow_nan=True)}


def plot_forecast(index: Any, actual: Any, predicted: Any, *, lower: Any = None, upper: Any = None,
                  history_index: Any = None, history: Any = None, title: str = "Forecast",
                  ylabel: str = "value", label: str = "forecast", interval_label: str = "interval",
                  path: str | os.PathLike | None = None) -> Figure | Path:
    """Actual values against one or several forecasts, with shaded prediction intervals.

    ``index`` holds the x values of the forecast period (numbers or datetimes). ``actual`` may be
    None for a pure out-of-sample forecast and may contain NaN for missing observations.
    ``predicted`` is one array (named ``label``) or a dict name -> array. ``lower``/``upper``
    give the interval: arrays for a single forecast, or dicts keyed like ``predicted`` (any
    subset). ``history_index``/``history`` add the observed series before the forecast period,
    with a dotted line where the forecast starts.
    """
    x, x_dates = _as_index("index", index)
    for name, value in (("title", title), ("ylabel", ylabel), ("label", label), ("interval_label", interval_label)):
        _check_str(name, value)
    _check_path(path)
    y_actual = None if actual is None else _as_1d("actual", actual, allow_nan=True)
    forecasts = _named_arrays("predicted", predicted, label)
    for name, arr in forecasts.items():
        tag = "predicted" if not isinstance(predicted, Mapping) else f"predicted[{name!r}]"
        _same_length(index=x, **({"actual": y_actual} if y_actual is not None else {}), **{tag: arr})
    if (lower is None) != (upper is None):
        raise ValueError("pass both lower and upper for an interval band, or neither")
    bands: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if lower is not None:
        lows = lower if isinstance(lower, Mapping) else None
        highs = upper if isinstance(upper, Mapping) else None
        if (lows is None) != (highs is None):
            raise TypeError("lower and upper must both be arrays or both be dicts keyed like predicted")
        if lows is None:
            if len(forecasts) != 1:
                raise ValueError("with several forecasts, lower and upper must be dicts name -> array "
                                 "(keys as in predicted)")
            lows, highs = {next(iter(forecasts)): lower}, {next(iter(forecasts)): upper}
        if set(lows) != set(highs):
            raise ValueError(f"lower and upper must have the same keys, got {sorted(map(str, lows))} "
                             f"and {sorted(map(str, highs))}")
        for key in lows:
            if str(key) not in forecasts:
                raise ValueError(f"interval for {key!r} has no forecast; predicted has {list(forecasts)}")
            lo = _as_1d(f"lower[{key!r}]" if isinstance(lower, Mapping) else "lower", lows[key], allow_nan=True)
            hi = _as_1d(f"upper[{key!r}]" if isinstance(upper, Mapping) else "upper", highs[key], allow_nan=True)
            _same_length(index=x, lower=lo, upper=hi)
            with np.errstate(invalid="ignore"):
                crossed = int(np.sum(lo > hi))
            if crossed:
                raise ValueError(f"lower is above upper at {crossed} point(s) for {key!r}; pass the lower bound "
                                 f"as lower (swap them?)")
            bands[str(key)] = (lo, hi)
    if (history_index is None) != (history is None):
        raise ValueError("pass both history_index and history to show the past, or neither")
    hx = hy = None
    if history is not None:
        hx, h_dates = _as_index("history_index", history_index)
        hy = _as_1d("history", history, allow_nan=True)
        _same_length(history_index=hx, history=hy)
        if h_dates != x_dates:
            raise TypeError("history_index and index must both be datetimes or both be numbers, "
                            f"got {'datetimes' if h_dates else 'numbers'} and {'datetimes' if x_dates else 'numbers'}")
    marker = "o" if len(x) <= 60 else None

    def draw(fig: Figure, axes: np.ndarray) -> None:
        ax = axes[0, 0]
        if hx is not None:
            ax.plot(hx, hy, color=_REFERENCE, linewidth=1.2, label="history")
            ax.axvline(x[0], color=_REFERENCE, linestyle=":", linewidth=1, label="forecast start")
        if y_actual is not None:
            ax.plot(x, y_actual, color=_ACTUAL, linewidth=1.5, marker=marker, markersize=3, label="actual")
        for i, (name, arr) in enumerate(forecasts.items()):
            style = _style(i)
            if name in bands:
                lo, hi = bands[name]
                ax.fill_between(x, lo, hi, color=style["color"], alpha=0.2, linewidth=0,
                                label=f"{name} {interval_label}")
            ax.plot(x, arr, linewidth=1.5, marker=marker, markersize=3, label=name, **style)
        if x_dates:
            import matplotlib.dates as mdates

            locator = mdates.AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
            ax.set_xlabel("date")
        else:
            ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="upper left")

    return _render(draw, path=path, figsize=(9.0, 4.2))


def plot_residuals(residuals: Any, *, title: str = "Residuals", bins: int | str = "auto",
                   path: str | os.PathLike | None = None) -> Figure | Path:
    """Histogram of residuals with the fitted normal density, and a normal Q–Q panel.

    Points on the Q–Q reference line mean normally distributed residuals; an S-shape means heavy
    tails, a bow means skew. Residuals must be finite (drop NaN first).
    """
    r = _as_1d("residuals", residuals)
    if len(r) < 2:
        raise ValueError(f"residuals needs at least 2 values, got {len(r)}")
    _check_str("title", title)
    if not (isinstance(bins, str) or (isinstance(bins, (int, np.integer)) and not isinstance(bins, bool))):
        raise TypeError(f"bins must be an int or a numpy rule such as 'auto', got {bins!r}")
    if isinstance(bins, (int, np.integer)) and bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    _check_path(path)
    from scipy.special import ndtri

    mean, std = float(r.mean()), float(r.std(ddof=1))
    m = min(len(r), 2000)                         # Q-Q at most 2000 quantiles, enough to judge the tails
    probs = (np.arange(1, m + 1) - 0.5) / m
    theoretical = ndtri(probs)
    sample = np.sort(r) if m == len(r) else np.quantile(r, probs)

    def draw(fig: Figure, axes: np.ndarray) -> None:
        hist_ax, qq_ax = axes[0]
        hist_ax.hist(r, bins=bins, density=True, color=OKABE_ITO[0], alpha=0.6, label=f"residuals (n={len(r)})")
        if std > 0:
            grid = np.linspace(r.min() - 0.5 * std, r.max() + 0.5 * std, 200)
            pdf = np.exp(-0.5 * ((grid - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))
            hist_ax.plot(grid, pdf, color=OKABE_ITO[3], linewidth=1.5, label=f"normal (mean {mean:.3g}, sd {std:.3g})")
        hist_ax.axvline(0.0, color=_ACTUAL, linestyle=":", linewidth=1, label="zero")
        hist_ax.set_xlabel("residual")
        hist_ax.set_ylabel("density")
        hist_ax.set_title("Distribution")
        hist_ax.legend(fontsize="small", loc="upper right")
        hist_ax.grid(alpha=0.3)

        qq_ax.scatter(theoretical, sample, s=10, color=OKABE_ITO[0], alpha=0.7, label="residual quantiles")
        if std > 0:
            qq_ax.plot(theoretical[[0, -1]], mean + std * theoretical[[0, -1]], color=OKABE_ITO[3],
                       linewidth=1.5, label="normal reference")
        qq_ax.set_xlabel("theoretical normal quantile")
        qq_ax.set_ylabel("residual quantile")
        qq_ax.set_title("Normal Q–Q")
        qq_ax.legend(fontsize="small", loc="upper right")
        qq_ax.grid(alpha=0.3)
        fig.suptitle(title)

    return _render(draw, path=path, figsize=(10.0, 4.0), ncols=2)


# --------------------------------------------------------------------------- embeddings


def project_2d(vectors: Any, *, method: str = "pca", seed: int = 0, max_points: int | None = 3000,
               perplexity: float | None = None, keep: Iterable[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Project ``vectors`` (n, d) to 2-D with PCA or t-SNE; returns ``(coords, kept_indices)``.

    If n exceeds ``max_points`` a random subset (fixed by ``seed``) is projected; ``keep`` lists
    row indices that must be in it (e.g. points to annotate). ``kept_indices`` (sorted) maps the
    rows of ``coords`` back to rows of ``vectors``. t-SNE's ``perplexity`` defaults to
    ``min(30, (n - 1) / 3)``; inputs wider than 50 are reduced to 50 dimensions by PCA first;
    up to 100 points use exact gradients, more use Barnes–Hut. t-SNE of 3,000 points takes tens
    of seconds on a laptop; lower ``max_points`` for quick runs.
    """
    if method not in ("pca", "tsne"):
        raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}")
    _check_int("seed", seed, minimum=0)
    _check_int("max_points", max_points, minimum=3, optional=True)
    if isinstance(vectors, pd.DataFrame):
        vectors = vectors.to_numpy()
    try:
        X = np.asarray(vectors, dtype=float)
    except (TypeError, ValueError):
        raise TypeError("vectors must be a numeric 2-D array (n_points, n_dims)") from None
    if X.ndim != 2:
        raise ValueError(f"vectors must be 2-D (n_points, n_dims), got shape {X.shape}; "
                         f"for a Keras Embedding layer pass layer.get_weights()[0]")
    n, d = X.shape
    if n < 3:
        raise ValueError(f"vectors needs at least 3 points to draw a map, got {n}")
    if d < 2:
        raise ValueError(f"vectors needs at least 2 columns for a 2-D map, got {d}")
    if not np.isfinite(X).all():
        raise ValueError("vectors contains NaN or infinite values; the embedding may have diverged")
    kept = np.arange(n)
    forced = np.array([], dtype=int)
    if keep is not None:
        forced = np.unique(np.asarray(list(keep), dtype=int))
        if forced.size and (forced.min() < 0 or forced.max() >= n):
            raise ValueError(f"keep holds indices outside 0..{n - 1}")
    if max_points is not None and n > max_points:
        if forced.size > max_points:
            raise ValueError(f"{forced.size} points must be kept but max_points is {max_points}; "
                             f"raise max_points or keep fewer points")
        rng = np.random.default_rng(seed)
        others = np.setdiff1d(np.arange(n), forced)
        kept = np.sort(np.concatenate([forced, rng.choice(others, max_points - forced.size, replace=False)]))
        X = X[kept]
        log.info("projecting a random %d of %d vectors (max_points=%d)", len(kept), n, max_points)
    if np.ptp(X, axis=0).max() == 0:
        raise ValueError("all vectors are identical, so there is nothing to project; check the embedding was trained")
    from sklearn.decomposition import PCA

    if method == "pca":
        coords = PCA(n_components=2, random_state=seed).fit_transform(X)
    else:
        from sklearn.manifold import TSNE

        m = len(X)
        if perplexity is None:
            perplexity = min(30.0, max(1.0, (m - 1) / 3))
        elif not isinstance(perplexity, (int, float)) or isinstance(perplexity, bool) or not 0 < perplexity < m:
            raise ValueError(f"perplexity must be a number in (0, {m}) (below the number of points), "
                             f"got {perplexity!r}")
        if X.shape[1] > 50:
            X = PCA(n_components=min(50, m), random_state=seed).fit_transform(X)
        # exact gradients are faster and more accurate than Barnes-Hut for small maps
        coords = TSNE(n_components=2, perplexity=float(perplexity), init="pca", learning_rate="auto",
                      method="exact" if m <= 100 else "barnes_hut", random_state=seed).fit_transform(X)
    return np.asarray(coords, dtype=float), kept


def _label_kind(labels: np.ndarray, kind: str | None) -> str:
    if kind is not None:
        if kind not in ("categorical", "continuous"):
            raise ValueError(f"label_kind must be 'categorical', 'continuous' or None (guess), got {kind!r}")
        return kind
    if labels.dtype.kind == "f":
        return "continuous"
    if labels.dtype.kind in "iu" and len(np.unique(labels)) > _MAX_CATEGORIES:
        return "continuous"
    return "categorical"


def plot_embedding_map(vectors: Any, *, labels: Any = None, method: str = "pca",
                       annotate: Sequence[str | None] | Mapping[int, str] | None = None,
                       max_points: int | None = 3000, seed: int = 0, title: str = "Embedding map",
                       label_name: str | None = None, label_kind: str | None = None,
                       perplexity: float | None = None,
                       path: str | os.PathLike | None = None) -> Figure | Path:
    """2-D map of learned vectors (PCA or t-SNE), coloured by ``labels``.

    Categorical labels (strings, bools, few integers) get a legend (the 19 most frequent shown,
    the rest as "other"); numeric labels (floats, many integers) get a viridis colour bar;
    ``label_kind`` overrides the guess. ``annotate`` writes text beside some points: a list with
    one entry per vector (None or "" to skip) or a dict index -> text; annotated points are always
    kept when subsampling to ``max_points``.
    """
    _check_str("title", title)
    _check_str("label_name", label_name, optional=True)
    _check_path(path)
    n_total = len(vectors) if hasattr(vectors, "__len__") else None
    lab = None
    if labels is not None:
        lab = _as_1d("labels", labels, numeric=False)
        if n_total is not None:
            _same_length(vectors=vectors, labels=lab)
    notes: dict[int, str] = {}
    if annotate is not None:
        if isinstance(annotate, Mapping):
            notes = {int(k): str(v) for k, v in annotate.items() if v is not None and str(v)}
        elif isinstance(annotate, (str, bytes)) or not isinstance(annotate, Iterable):
            raise TypeError("annotate must be a list of texts (one per vector, None to skip) or a dict index -> text")
        else:
            texts = list(annotate)
            if n_total is not None:
                _same_length(vectors=vectors, annotate=texts)
            notes = {i: str(t) for i, t in enumerate(texts) if t is not None and str(t)}
    coords, kept = project_2d(vectors, method=method, seed=seed, max_points=max_points,
                              perplexity=perplexity, keep=notes.keys() if notes else None)
    kind = None
    if lab is not None:
        lab = lab[kept]
        kind = _label_kind(lab, label_kind)
        if kind == "continuous":
            lab = _as_1d("labels", lab)
        elif pd.isna(lab).any():
            lab = np.array(["missing" if pd.isna(v) else v for v in lab], dtype=object)
    axis = "PC" if method == "pca" else "t-SNE"
    subtitle = f"{'PCA' if method == 'pca' else 't-SNE'} of {len(kept):,}" + (
        f" of {n_total:,} points (random sample)" if n_total and len(kept) < n_total else " points")

    def draw(fig: Figure, axes: np.ndarray) -> None:
        ax = axes[0, 0]
        size = 14 if len(coords) <= 1000 else 6
        if lab is None:
            ax.scatter(coords[:, 0], coords[:, 1], s=size, alpha=0.7, color=OKABE_ITO[0], linewidths=0)
        elif kind == "continuous":
            sc = ax.scatter(coords[:, 0], coords[:, 1], c=lab, cmap="viridis", s=size, alpha=0.8, linewidths=0)
            fig.colorbar(sc, ax=ax, label=label_name or "label")
        else:
            keys = pd.Series(lab.astype(str))
            counts = keys.value_counts(sort=True)
            shown = list(counts.index[: _MAX_CATEGORIES - 1]) if len(counts) > _MAX_CATEGORIES else list(counts.index)
            if len(counts) <= _MAX_CATEGORIES:
                try:                                   # natural order for numbers / sortable labels
                    order = sorted(set(lab.tolist()))
                    shown = [str(v) for v in order]
                except TypeError:
                    shown = sorted(shown)
            for i, key in enumerate(shown):
                mask = (keys == key).to_numpy()
                ax.scatter(coords[mask, 0], coords[mask, 1], s=size, alpha=0.8, linewidths=0,
                           color=OKABE_ITO[i % len(OKABE_ITO)], marker=_MARKERS[(i // len(OKABE_ITO)) % len(_MARKERS)],
                           label=f"{key} ({int(mask.sum())})")
            rest = ~keys.isin(shown).to_numpy()
            if rest.any():
                ax.scatter(coords[rest, 0], coords[rest, 1], s=size, alpha=0.5, linewidths=0, color=_REFERENCE,
                           label=f"other ({int(rest.sum())})")
            ax.legend(title=label_name, fontsize="small", markerscale=1.5,
                      loc="center left", bbox_to_anchor=(1.01, 0.5))
        position = {int(orig): row for row, orig in enumerate(kept)}
        for index, text in notes.items():
            row = position[index]
            ax.annotate(text, (coords[row, 0], coords[row, 1]), xytext=(3, 3), textcoords="offset points",
                        fontsize=8)
        ax.set_xlabel(f"{axis} 1")
        ax.set_ylabel(f"{axis} 2")
        ax.set_title(f"{title}\n{subtitle}", fontsize="medium")
        ax.grid(alpha=0.2)

    return _render(draw, path=path, figsize=(7.5, 6.0))


# --------------------------------------------------------------------------- survival


def _survival_inputs(time: Any, event: Any, groups: Any,
                     order: Sequence[Any] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Any]]:
    t = _as_1d("time", time)
    if (t < 0).any():
        raise ValueError("time must be >= 0 (durations since the start of follow-up)")
    e = _binary("event", event)
    g = _as_1d("groups", groups, numeric=False)
    _same_length(time=t, event=e, groups=g)
    if pd.isna(g).any():
        raise ValueError("groups has missing values; fill or drop those rows first")
    if order is not None:
        levels = list(order)
        missing = set(pd.unique(g).tolist()) - set(levels)
        if missing:
            raise ValueError(f"order does not list the group(s) {sorted(map(str, missing))}; include every group")
        levels = [v for v in levels if (g == v).any()]
    elif isinstance(groups, (pd.Series, pd.Categorical)) and isinstance(getattr(groups, "dtype", None),
                                                                          pd.CategoricalDtype):
        present = set(pd.unique(g).tolist())
        levels = [c for c in groups.dtype.categories if c in present]
    else:
        try:
            levels = sorted(pd.unique(g).tolist())
        except TypeError:
            levels = sorted(pd.unique(g).tolist(), key=str)
    if len(levels) < 2:
        raise ValueError(f"groups must contain at least 2 distinct groups for a log-rank comparison, got {levels}")
    return t, e, g, levels


def logrank_p_value(time: Any, event: Any, groups: Any) -> float:
    """p-value of the multivariate log-rank test that all groups share one survival curve."""
    t, e, g, _ = _survival_inputs(time, event, groups)
    from lifelines.statistics import multivariate_logrank_test

    return float(multivariate_logrank_test(t, g, e).p_value)


def plot_km_by_group(time: Any, event: Any, groups: Any, *, title: str = "Kaplan–Meier survival by group",
                     horizon: float | None = None, xlabel: str = "time", order: Sequence[Any] | None = None,
                     ci: bool = True, path: str | os.PathLike | None = None) -> Figure | Path:
    """Kaplan–Meier curves per group (e.g. predicted risk tertiles) with the log-rank p-value.

    ``event`` is 1 for an observed event and 0 for censoring. Groups are drawn in ``order``, or
    the category order of a categorical, or sorted. ``horizon`` limits the x axis and adds each
    group's survival at the horizon to the legend. The log-rank p-value is in the title and on
    ``fig.logrank_p`` (see also :func:`logrank_p_value`).
    """
    t, e, g, levels = _survival_inputs(time, event, groups, order)
    for name, value in (("title", title), ("xlabel", xlabel)):
        _check_str(name, value)
    if horizon is not None:
        if isinstance(horizon, bool) or not isinstance(horizon, (int, float, np.integer, np.floating)):
            raise TypeError(f"horizon must be a number (in the units of time), got {horizon!r}")
        if not horizon > 0:
            raise ValueError(f"horizon must be > 0, got {horizon}")
    _check_path(path)
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    p_value = float(multivariate_logrank_test(t, g, e).p_value)
    fits = []
    for level in levels:
        mask = g == level
        kmf = KaplanMeierFitter().fit(t[mask], e[mask], label=str(level))
        at_h = float(kmf.survival_function_at_times([horizon]).iloc[0]) if horizon is not None else None
        fits.append((str(level), kmf, int(mask.sum()), int(e[mask].sum()), at_h))

    def draw(fig: Figure, axes: np.ndarray) -> None:
        ax = axes[0, 0]
        for i, (name, kmf, n, events, at_h) in enumerate(fits):
            style = _style(i)
            timeline = kmf.survival_function_.index.to_numpy(dtype=float)
            surv = kmf.survival_function_.iloc[:, 0].to_numpy(dtype=float)
            text = f"{name} (n={n}, events={events}" + (f", S({horizon:g})={at_h:.2f})" if at_h is not None else ")")
            ax.step(timeline, surv, where="post", linewidth=1.8, label=text, **style)
            if ci:
                band = kmf.confidence_interval_.to_numpy(dtype=float)
                ax.fill_between(timeline, band[:, 0], band[:, 1], step="post", color=style["color"],
                                alpha=0.15, linewidth=0)
        if horizon is not None:
            ax.set_xlim(0, horizon)
        else:
            ax.set_xlim(left=0)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("survival probability")
        ax.set_title(f"{title}\nlog-rank p = {_format_p(p_value)}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="lower left")
        fig.logrank_p = p_value

    return _render(draw, path=path, figsize=(7.5, 5.0))


# --------------------------------------------------------------------------- comparisons


def _keyed(name: str, values: Any) -> pd.Series:
    if isinstance(values, pd.Series):
        series = values.copy()
    elif isinstance(values, Mapping):
        series = pd.Series(dict(values), dtype=object)
    else:
        raise TypeError(f"{name} must be a dict name -> number or a pandas Series, got {type(values).__name__}")
    if series.empty:
        raise ValueError(f"{name} is empty; pass at least one name -> number")
    series.index = [str(k) for k in series.index]
    if series.index.duplicated().any():
        raise ValueError(f"{name} has repeated names {sorted(set(series.index[series.index.duplicated()]))}")
    return series


def plot_bar(values: Mapping[str, float] | pd.Series, *, title: str = "", xlabel: str = "value",
             errors: Mapping[str, float] | pd.Series | Sequence[float] | None = None,
             highlight: str | Iterable[str] | None = None, sort: bool = True, top: int | None = None,
             path: str | os.PathLike | None = None) -> Figure | Path:
    """Horizontal bar chart: feature importance, error by route, a metric across models.

    Bars are sorted by value, largest at the top (``sort=False`` keeps the given order); ``top``
    keeps only the ``top`` largest by absolute value. ``errors`` adds error bars (same names as
    ``values``, or one value per bar in the given order). ``highlight`` names the bar(s) to draw
    in a contrasting colour, e.g. the deep model among its baselines.
    """
    series = _keyed("values", values)
    numbers = _as_1d("values", series.to_numpy())
    series = pd.Series(numbers, index=series.index)
    for name, value in (("title", title), ("xlabel", xlabel)):
        _check_str(name, value)
    _check_int("top", top, minimum=1, optional=True)
    _check_path(path)
    err = None
    if errors is not None:
        if isinstance(errors, (Mapping, pd.Series)):
            err_series = _keyed("errors", errors)
            missing = [k for k in series.index if k not in err_series.index]
            if missing:
                raise ValueError(f"errors has no value for {missing[:5]}; give one error per name in values")
            err = pd.Series(_as_1d("errors", err_series[series.index].to_numpy()), index=series.index)
        else:
            arr = _as_1d("errors", errors)
            _same_length(values=series, errors=arr)
            err = pd.Series(arr, index=series.index)
        if (err < 0).any():
            raise ValueError("errors must be >= 0 (half-widths such as one standard deviation)")
    marked: set[str] = set()
    if highlight is not None:
        marked = {highlight} if isinstance(highlight, str) else {str(h) for h in highlight}
        unknown = sorted(marked - set(series.index))
        if unknown:
            raise ValueError(f"highlight names {unknown} are not in values; choose from {list(series.index)[:10]}")
    if top is not None and len(series) > top:
        series = series.loc[series.abs().sort_values(ascending=False).index[:top]]
    if sort:
        series = series.sort_values(ascending=True)       # barh draws bottom-up: largest ends on top
    else:
        series = series.iloc[::-1]
    if err is not None:
        err = err[series.index]
    colors = [OKABE_ITO[3] if k in marked else OKABE_ITO[0] for k in series.index]

    def draw(fig: Figure, axes: np.ndarray) -> None:
        ax = axes[0, 0]
        bars = ax.barh(np.arange(len(series)), series.to_numpy(), color=colors,
                       xerr=None if err is None else err.to_numpy(), capsize=3 if err is not None else 0,
                       error_kw={"ecolor": _ACTUAL, "elinewidth": 1})
        ax.bar_label(bars, fmt="%.3g", padding=3, fontsize=8)
        ax.set_yticks(np.arange(len(series)), list(series.index))
        for tick, key in zip(ax.get_yticklabels(), series.index):
            if key in marked:
                tick.set_fontweight("bold")
        if (series < 0).any():
            ax.axvline(0, color=_ACTUAL, linewidth=0.8)
        ax.margins(x=0.12)
        ax.set_xlabel(xlabel)
        if title:
            ax.set_title(title)
        ax.grid(axis="x", alpha=0.3)

    height = max(2.5, 0.28 * len(series) + 1.3)
    return _render(draw, path=path, figsize=(7.0, height))


def plot_heatmap(frame: pd.DataFrame, *, title: str = "", xlabel: str = "", ylabel: str = "",
                 cmap: str = "viridis", colorbar_label: str | None = None, annotate: bool | None = None,
                 path: str | os.PathLike | None = None) -> Figure | Path:
    """Heatmap of a numeric DataFrame (rows x columns), e.g. routes x dates of demand.

    Works for hundreds of columns: cells are annotated with their values only when the table is
    small (``annotate=None``: at most 20 columns and 200 cells) and tick labels are thinned to
    about 12 on x and 30 on y. Dates in the index or columns are shown as YYYY-MM-DD; missing
    cells are light grey.
    """
    if isinstance(frame, np.ndarray):
        frame = pd.DataFrame(frame)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}; "
                        f"pivot long data first, e.g. df.pivot(index='route', columns='date', values='demand')")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"frame is empty (shape {frame.shape}); nothing to plot")
    bad = [str(c) for c in frame.columns if not (pd.api.types.is_numeric_dtype(frame[c].dtype))]
    if bad:
        raise TypeError(f"frame has non-numeric columns {bad[:5]}; move labels to the index "
                        f"(frame.set_index({bad[0]!r})) or pivot first")
    for name, value in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel)):
        _check_str(name, value)
    _check_str("colorbar_label", colorbar_label, optional=True)
    if annotate is not None and not isinstance(annotate, bool):
        raise TypeError(f"annotate must be True, False or None (automatic), got {annotate!r}")
    _check_path(path)
    import matplotlib

    if not isinstance(cmap, str) or cmap not in matplotlib.colormaps:
        raise ValueError(f"cmap must be a matplotlib colormap name such as 'viridis' or 'cividis', got {cmap!r}")
    values = frame.to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(values)
    if not finite.any():
        raise ValueError("frame has no finite values; nothing to plot")
    rows, cols = values.shape
    if annotate is None:
        annotate = cols <= 20 and rows * cols <= 200
    colormap = matplotlib.colormaps[cmap].with_extremes(bad="#dddddd")
    masked = np.ma.masked_invalid(values)
    vmin, vmax = float(values[finite].min()), float(values[finite].max())
    x_labels, y_labels = _tick_labels(frame.columns), _tick_labels(frame.index)

    def draw(fig: Figure, axes: np.ndarray) -> None:
        ax = axes[0, 0]
        image = ax.imshow(masked, aspect="auto", cmap=colormap, interpolation="nearest", vmin=vmin, vmax=vmax)
        fig.colorbar(image, ax=ax, label=colorbar_label or "")
        xt = _tick_positions(cols, 12 if cols > 20 else 20)
        yt = _tick_positions(rows, 30 if rows > 40 else 40)
        long_x = max(len(x_labels[i]) for i in xt) > 4
        ax.set_xticks(xt, [x_labels[i] for i in xt], rotation=45 if long_x else 0, ha="right" if long_x else "center")
        ax.set_yticks(yt, [y_labels[i] for i in yt])
        if annotate:
            mid = (vmin + vmax) / 2
            for (r, c), value in np.ndenumerate(values):
                if np.isfinite(value):
                    ax.text(c, r, f"{value:.3g}", ha="center", va="center", fontsize=7,
                            color="white" if value < mid and cmap in ("viridis", "cividis", "magma", "inferno",
                                                                     "plasma") else "black")
        ax.set_xlabel(xlabel or (str(frame.columns.name) if frame.columns.name is not None else ""))
        ax.set_ylabel(ylabel or (str(frame.index.name) if frame.index.name is not None else ""))
        if title:
            ax.set_title(title)

    width = min(max(6.0, 0.4 * cols + 3.0), 16.0)
    height = min(max(3.0, 0.28 * rows + 1.5), 14.0)
    return _render(draw, path=path, figsize=(width, height))


def plot_metric_vs_param(frame: pd.DataFrame, *, param: str, metrics: str | Sequence[str],
                         title: str = "", logx: bool = False, ylabel: str = "score",
                         std_suffix: str | None = "_std",
                         path: str | os.PathLike | None = None) -> Figure | Path:
    """Scores against a hyperparameter (e.g. validation AUC against L2 strength), one line per metric.

    Numeric ``param`` values are sorted; repeated values (several seeds or folds) are averaged and
    shaded with ± one standard deviation. A column ``<metric><std_suffix>`` (default ``_std``),
    if present, is shaded the same way. Non-numeric ``param`` values (e.g. optimizer names) are
    placed in the given order. ``logx`` needs positive values.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame with a {param!r} column, got {type(frame).__name__}")
    if frame.empty:
        raise ValueError("frame is empty; pass one row per hyperparameter value")
    _check_str("param", param)
    if param not in frame:
        raise ValueError(f"param {param!r} is not a column of frame; columns: {list(map(str, frame.columns))}")
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names:
        raise ValueError("metrics is empty; pass a column name or a list of them")
    for m in names:
        if m not in frame:
            raise ValueError(f"metric {m!r} is not a column of frame; columns: {list(map(str, frame.columns))}")
        if not pd.api.types.is_numeric_dtype(frame[m].dtype) or pd.api.types.is_bool_dtype(frame[m].dtype):
            raise TypeError(f"metric column {m!r} must be numeric, got dtype {frame[m].dtype}")
    if not isinstance(logx, bool):
        raise TypeError(f"logx must be True or False, got {logx!r}")
    for name, value in (("title", title), ("ylabel", ylabel)):
        _check_str(name, value)
    _check_str("std_suffix", std_suffix, optional=True)
    _check_path(path)
    numeric = pd.api.types.is_numeric_dtype(frame[param].dtype) and not pd.api.types.is_bool_dtype(frame[param].dtype)
    if frame[param].isna().any():
        raise ValueError(f"param column {param!r} has missing values; drop those rows first")
    if logx and not numeric:
        raise ValueError(f"logx needs numeric {param!r} values, got dtype {frame[param].dtype}")
    if logx and (frame[param] <= 0).any():
        raise ValueError(f"logx needs {param!r} > 0, but it contains {frame[param].min()}; "
                         f"drop that row or use logx=False")
    std_cols = {m: f"{m}{std_suffix}" for m in names if std_suffix and f"{m}{std_suffix}" in frame}
    grouped = frame.groupby(param, sort=numeric)
    means = grouped[names + list(std_cols.values())].mean()
    repeated = grouped.size().max() > 1
    spreads = {}
    for m in names:
        if m in std_cols:
            spreads[m] = means[std_cols[m]]
        elif repeated:
            spreads[m] = grouped[m].std(ddof=1).fillna(0.0)
    if repeated:
        log.info("plot_metric_vs_param: %s has repeated values; plotting the mean and ±1 sd", param)
    x = means.index.to_numpy(dtype=float) if numeric else np.arange(len(means))

    def draw(fig: Figure, axes: np.ndarray) -> None:
        ax = axes[0, 0]
        for i, m in enumerate(names):
            style = _style(i)
            y = means[m].to_numpy(dtype=float)
            ax.plot(x, y, marker="o", markersize=4, linewidth=1.6, label=m, **style)
            if m in spreads:
                s = spreads[m].to_numpy(dtype=float)
                ax.fill_between(x, y - s, y + s, color=style["color"], alpha=0.15, linewidth=0)
        if logx:
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(x, [str(v) for v in means.index])
        ax.set_xlabel(param)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="upper right")

    return _render(draw, path=path, figsize=(7.0, 4.2))


# --------------------------------------------------------------------------- hyperparameter search


def plot_tuning_scores(trials: pd.DataFrame, names: Sequence[str], *, score_name: str = "validation score",
                       direction: str = "min", log_params: Sequence[str] = (), group: str | None = None,
                       title: str | None = None, path: str | os.PathLike | None = None) -> Figure | Path:
    """One scatter panel per hyperparameter: each completed trial's validation score against its value.

    ``trials`` is a search's trial table (``shared.tuning.tune(...).trials`` or its ``trials.csv``):
    columns ``status``, ``score`` and one per name in ``names``; only ``COMPLETED`` trials are drawn.
    The best trial (lowest score for ``direction="min"``, highest for ``"max"``) is starred. With
    ``group`` (a column, e.g. the outer fold of a nested search) each group gets its own colour and
    its own star. ``log_params`` get a log x axis (symmetric-log when they include 0, e.g. L2 choices).
    """
    if not isinstance(trials, pd.DataFrame):
        raise TypeError(f"trials must be a pandas DataFrame (the search's trials.csv), got {type(trials).__name__}")
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise ValueError("names is empty; pass the hyperparameter columns to plot, e.g. ['learning_rate']")
    needed = ["status", "score", *names, *([group] if group is not None else [])]
    missing = [c for c in needed if c not in trials.columns]
    if missing:
        raise ValueError(f"trials lacks column(s) {missing}; pass the search's trial table (columns "
                         f"{list(map(str, trials.columns))}) and hyperparameter names among its columns")
    if direction not in ("min", "max"):
        raise ValueError(f"direction must be 'min' (lower score is better) or 'max', got {direction!r}")
    _check_str("score_name", score_name)
    _check_str("title", title, optional=True)
    _check_path(path)
    done = trials[trials["status"].astype(str) == "COMPLETED"]
    if done.empty:
        raise ValueError("trials has no COMPLETED trial to plot; run at least one successful trial")
    done = done.assign(score=pd.to_numeric(done["score"], errors="coerce"))
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    groups = ([(None, done)] if group is None
              else [(key, part) for key, part in done.groupby(group, sort=True)])
    ncols = len(names)

    def draw(fig: Figure, axes: np.ndarray) -> None:
        for ax, name in zip(axes[0], names):
            column = done[name]
            numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
            order = sorted(column.astype(str).unique()) if not numeric else None
            for i, (key, part) in enumerate(groups):
                colour = OKABE_ITO[i % len(OKABE_ITO)]
                x = (part[name].astype(float) if numeric
                     else part[name].astype(str).map({v: j for j, v in enumerate(order)}))
                ax.scatter(x, part["score"], color=colour, alpha=0.8, s=22, marker=_MARKERS[i % len(_MARKERS)],
                           label=None if key is None else str(key))
                best = part["score"].idxmin() if direction == "min" else part["score"].idxmax()
                ax.scatter([x.loc[best]], [part.loc[best, "score"]], color=colour, edgecolor="black",
                           marker="*", s=140, zorder=3, label="best" if key is None else None)
            if not numeric:
                ax.set_xticks(range(len(order)), order)
            elif name in log_params and (column >= 0).all() and (column > 0).any():
                if (column > 0).all():
                    ax.set_xscale("log")
                    # ticks at 1, 2, 5 x 10^k so a range narrower than a decade still gets labels
                    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
                    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
                    ax.tick_params(axis="x", labelrotation=30)
                else:  # a zero among log-spaced choices (e.g. L2 0, 1e-5, 1e-4): linear around 0, log beyond
                    ax.set_xscale("symlog", linthresh=float(column[column > 0].min()))
                ax.xaxis.set_minor_formatter(NullFormatter())  # no overlapping 2x10^-3-style minor labels
            ax.set_xlabel(name)
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel(score_name)
        axes[0][0].legend(fontsize="small", loc="upper left")
        better = "lower" if direction == "min" else "higher"
        fig.suptitle(title or f"hyperparameter search: {len(done)} completed trials ({better} is better; "
                              "star = best)")

    return _render(draw, path=path, figsize=(max(3.0 * ncols, 4.0), 3.2), ncols=ncols)
