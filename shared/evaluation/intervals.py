"""Scores of forecast intervals and quantiles: coverage, width, pinball loss, interval (Winkler) score.

A central ``1 − alpha`` interval [lower, upper] is judged on two things at once: does it hold the
actual as often as it says (coverage), and how wide is it (sharpness). The interval score of
Gneiting & Raftery (2007, eq. 43; Winkler 1972) folds both into one proper score, lower is better:

    IS_alpha = (upper − lower) + (2/alpha)·(lower − y)·[y < lower] + (2/alpha)·(y − upper)·[y > upper]

A band that is too narrow pays the penalty on the misses, one too wide pays its width. The
pinball loss scores one quantile; the mean pinball loss over the 10/50/90 % quantiles is the
forecast's quantile loss. Coverage is ``regression.interval_coverage`` (reused here). Inputs are
arrays of any matching shape (flattened); all are pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .regression import interval_coverage

__all__ = ["mean_interval_width", "interval_score_error", "mean_pinball_error",
           "coverage_by_group", "coverage_by_horizon", "interval_metrics"]


def _arrays(y_true: Any, *others: tuple[str, Any]) -> list[np.ndarray]:
    out = [np.asarray(y_true, dtype=float)]
    for name, value in others:
        arr = np.asarray(value, dtype=float)
        if arr.shape != out[0].shape:
            raise ValueError(f"y_true has shape {out[0].shape} but {name} has {arr.shape}; align them cell by cell")
        out.append(arr)
    if out[0].size == 0:
        raise ValueError("y_true is empty; pass at least one forecast")
    for name, arr in zip(["y_true", *(n for n, _ in others)], out, strict=True):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} holds NaN or infinite values; drop or fill them before scoring")
    return [a.reshape(-1) for a in out]


def _bounds(y_true: Any, lower: Any, upper: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, lo, hi = _arrays(y_true, ("lower", lower), ("upper", upper))
    if np.any(lo > hi):
        raise ValueError(f"lower exceeds upper at {int(np.sum(lo > hi))} cell(s); pass (lower, upper) in that order")
    return t, lo, hi


def _alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1) (0.2 for a 10-90 % band), got {alpha!r}")
    return float(alpha)


def mean_interval_width(lower: Any, upper: Any) -> float:
    """Mean of upper − lower."""
    lo, hi = _arrays(lower, ("upper", upper))
    if np.any(lo > hi):
        raise ValueError(f"lower exceeds upper at {int(np.sum(lo > hi))} cell(s); pass (lower, upper) in that order")
    return float(np.mean(hi - lo))


def interval_score_error(y_true: Any, lower: Any, upper: Any, *, alpha: float) -> float:
    """Mean interval (Winkler) score of central ``1 − alpha`` intervals; lower is better."""
    a = _alpha(alpha)
    t, lo, hi = _bounds(y_true, lower, upper)
    score = (hi - lo) + (2.0 / a) * np.clip(lo - t, 0.0, None) + (2.0 / a) * np.clip(t - hi, 0.0, None)
    return float(np.mean(score))


def mean_pinball_error(y_true: Any, quantile_preds: Any, quantiles: Sequence[float]) -> float:
    """Pinball loss averaged over the quantile levels (last axis of ``quantile_preds``) and cells.

    For level tau and residual u = y − q: loss = tau·u if u ≥ 0 else (tau − 1)·u.
    """
    qs = np.asarray([float(q) for q in quantiles])
    if qs.size == 0 or np.any((qs <= 0) | (qs >= 1)):
        raise ValueError(f"quantiles must be levels in (0, 1), got {list(quantiles)}")
    preds = np.asarray(quantile_preds, dtype=float)
    if preds.shape[-1:] != (qs.size,):
        raise ValueError(f"quantile_preds must have the {qs.size} quantile levels on the last axis, got shape "
                         f"{preds.shape}")
    t = np.asarray(y_true, dtype=float)
    if t.shape != preds.shape[:-1]:
        raise ValueError(f"y_true has shape {t.shape}, quantile_preds {preds.shape}; they must match up to the "
                         "last (quantile) axis")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(preds))):
        raise ValueError("y_true or quantile_preds hold NaN or infinite values")
    u = t[..., None] - preds
    return float(np.mean(np.maximum(qs * u, (qs - 1.0) * u)))


def interval_metrics(y_true: Any, quantile_preds: Any, quantiles: Sequence[float], *,
                     prefix: str = "interval") -> dict[str, float]:
    """Coverage, mean width and interval score of the outer band, and the mean pinball loss, in one dict.

    The band is [first quantile, last quantile] of ``quantile_preds`` (levels increasing), so
    alpha = first + (1 − last): 0.2 for 10/50/90 %.
    """
    qs = [float(q) for q in quantiles]
    preds = np.asarray(quantile_preds, dtype=float)
    alpha = qs[0] + 1.0 - qs[-1]
    lo, hi = preds[..., 0], preds[..., -1]
    t, lo, hi = _bounds(y_true, lo, hi)
    return {f"{prefix}_coverage": interval_coverage(t, lo, hi),
            f"{prefix}_width": mean_interval_width(lo, hi),
            f"{prefix}_score": interval_score_error(t, lo, hi, alpha=alpha),
            "pinball_loss": mean_pinball_error(y_true, preds, qs)}


def coverage_by_group(y_true: Any, lower: Any, upper: Any, groups: Any, *, name: str = "group") -> pd.DataFrame:
    """Coverage and mean width per group (e.g. per horizon day or per route), one row per group.

    ``groups`` has the shape of ``y_true`` (broadcast first); rows are sorted by group.
    """
    t, lo, hi = _bounds(y_true, lower, upper)
    g = np.broadcast_to(np.asarray(groups), np.asarray(y_true).shape).reshape(-1)
    frame = pd.DataFrame({name: g, "covered": (t >= lo) & (t <= hi), "width": hi - lo})
    out = frame.groupby(name, sort=True).agg(coverage=("covered", "mean"), width=("width", "mean"),
                                             n=("covered", "size"))
    out["coverage"] = out["coverage"].astype(float)
    return out


def coverage_by_horizon(y_true: Any, lower: Any, upper: Any) -> pd.DataFrame:
    """Coverage and mean width per lead time; the LAST axis of the arrays is the horizon (lead 1, 2, …)."""
    shape = np.asarray(y_true).shape
    if len(shape) < 1 or shape[-1] < 1:
        raise ValueError(f"y_true must have the horizon on its last axis, got shape {shape}")
    lead = np.arange(1, shape[-1] + 1)
    return coverage_by_group(y_true, lower, upper, lead, name="lead")
