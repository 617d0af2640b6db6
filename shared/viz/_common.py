"""Private helpers shared by the figure modules of :mod:`shared.viz`: input checks, the Agg
backend, the render-or-save step and the colours.

Colours: the Okabe–Ito palette (safe for the common colour-vision deficiencies) for lines and
categories, with line styles / markers varying once it runs out; ``viridis`` for colour scales.
Nothing heavy is imported here: matplotlib is imported (Agg selected first) when a figure is drawn.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
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
    from shared.verdict import higher_is_better  # one list of metric directions for figures and tables

    return higher_is_better(metric) is False
