"""Calibrating forecast quantiles: conformalized quantile regression (CQR) and its adaptive variant (ACI).

CQR (Romano, Patterson & Candès 2019), the asymmetric form: a model forecasts quantiles q_tau;
on a calibration span the model was not fitted on, each outer level gets its own conformity
score, and the level is shifted by the finite-sample conformal quantile of those scores:

    tau > 0.5:  s = (y − q_tau) / scale,  q'_tau = q_tau + s_(k) · scale,  k = ⌈(n + 1) · tau⌉
    tau < 0.5:  s = (q_tau − y) / scale,  q'_tau = q_tau − s_(k) · scale,  k = ⌈(n + 1) · (1 − tau)⌉

so that, for exchangeable calibration and test cells, P(y ≤ q'_tau) ≥ tau for the upper levels
and P(y ≥ q'_tau) ≥ 1 − tau for the lower ones: the 10-90 % band covers at least 80 %. The
median (the point forecast) is never moved, and the outer levels are clipped so they do not cross
it, so calibration leaves every point metric unchanged. ``scale`` (optional, fixed from the
training data, e.g. each series' mean level) makes the scores comparable across series of
different size; a shift is learnt per group (e.g. per lead time) when ``groups`` is given.

The calibration span is carved from the END of the data the model may use (the last weeks or
days before the first test origin) and must end before the test span starts:
:meth:`QuantileCalibrator.apply` refuses ``first_test`` earlier than the span's end.

ACI (Gibbs & Candès 2021) for rolling origins: the miscoverage level used at step t moves with
the misses seen so far, alpha_{t+1} = alpha_t + gamma · (alpha − err_t), and the threshold is the
(1 − alpha_t) conformal quantile of the scores observed so far (calibration span plus every test
step whose outcome is already known; ``delay`` steps of feedback lag for multi-step horizons).
It keeps long-run coverage near nominal even when the error distribution drifts.

Why not ``mapie``: its CQR wants three scikit-learn style estimators refitted (or prefit) on
feature matrices, one interval per call; here the quantiles come from one multi-output Keras
model over (origin, series, lead) cells, calibrated per lead with a per-series scale and delayed
feedback across rolling origins. The arithmetic is a sort and an index, so these few functions
are clearer than an adapter (and each has a test on data with known quantiles).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["conformal_quantile", "QuantileCalibrator", "fit_cqr", "adaptive_conformal_thresholds",
           "one_sided_scores", "uncross_quantiles"]


def conformal_quantile(scores: Any, level: float) -> float:
    """The finite-sample conformal ``level`` quantile: the ⌈(n + 1)·level⌉-th smallest score.

    Raises when the calibration set is too small for the level (⌈(n + 1)·level⌉ > n).
    """
    s = np.sort(np.asarray(scores, dtype=float).reshape(-1))
    if s.size == 0 or not np.all(np.isfinite(s)):
        raise ValueError("conformal_quantile needs at least one finite calibration score")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    k = math.ceil((s.size + 1) * level - 1e-12)
    if k > s.size:
        raise ValueError(f"{s.size} calibration scores are too few for level {level}: need at least "
                         f"{math.ceil(level / (1 - level))}; lengthen the calibration span")
    return float(s[k - 1])


def one_sided_scores(y: Any, q: Any, tau: float, scale: Any = 1.0) -> np.ndarray:
    """Conformity scores of the level-``tau`` quantile: (y − q)/scale above the median, (q − y)/scale below."""
    y = np.asarray(y, dtype=float)
    q = np.asarray(q, dtype=float)
    scale = np.broadcast_to(np.asarray(scale, dtype=float), y.shape)
    if np.any(scale <= 0):
        raise ValueError("scale must be positive everywhere (e.g. each series' mean level on the training days)")
    return ((y - q) if tau > 0.5 else (q - y)) / scale


def _coverage_level(tau: float) -> float:
    """The one-sided coverage a level-tau quantile promises: tau above the median, 1 − tau below."""
    return tau if tau > 0.5 else 1.0 - tau


def _check_quantiles(quantiles: Sequence[float]) -> tuple[tuple[float, ...], int]:
    qs = tuple(float(q) for q in quantiles)
    if len(qs) < 2 or any(not 0 < q < 1 for q in qs) or list(qs) != sorted(set(qs)):
        raise ValueError(f"quantiles must be increasing levels in (0, 1), got {list(quantiles)}")
    point = int(np.argmin([abs(q - 0.5) for q in qs]))
    return qs, point


def uncross_quantiles(q: np.ndarray, point: int) -> np.ndarray:
    """Keep the quantiles ordered without moving the point (median) level."""
    q = q.copy()
    for j in range(point - 1, -1, -1):
        q[..., j] = np.minimum(q[..., j], q[..., j + 1])
    for j in range(point + 1, q.shape[-1]):
        q[..., j] = np.maximum(q[..., j], q[..., j - 1])
    return q


@dataclasses.dataclass(frozen=True)
class QuantileCalibrator:
    """Per-level (and per-group) CQR shifts in scaled units, learnt on a calibration span.

    ``shifts`` has shape (n_groups, n_quantiles) (one group when not grouped); the point level's
    shift is 0. ``span_end`` is the first step after the calibration span (exclusive end).
    """

    quantiles: tuple[float, ...]
    shifts: np.ndarray
    n_scores: int
    span_end: int | None = None
    grouped: bool = False

    @property
    def point_index(self) -> int:
        return _check_quantiles(self.quantiles)[1]

    def apply(self, q: Any, *, scale: Any = 1.0, first_test: int | None = None, lower_bound: float | None = None
              ) -> np.ndarray:
        """Calibrated quantiles of the same shape as ``q`` (..., [groups,] n_quantiles).

        With ``grouped`` the second-to-last axis of ``q`` is the group axis (e.g. lead time).
        ``scale`` broadcasts against ``q[..., 0]``. ``first_test`` (the first step scored) must
        not precede the calibration span's end. ``lower_bound`` clips (e.g. 0 for counts).
        """
        if first_test is not None and self.span_end is not None and first_test < self.span_end:
            raise ValueError(f"the calibration span ends at step {self.span_end} but the test starts at "
                             f"{first_test}: calibrate on steps before the test span only")
        q = np.asarray(q, dtype=float)
        if q.shape[-1] != len(self.quantiles):
            raise ValueError(f"q has {q.shape[-1]} quantile levels on its last axis, the calibrator "
                             f"{len(self.quantiles)}")
        if self.grouped and (q.ndim < 2 or q.shape[-2] != self.shifts.shape[0]):
            raise ValueError(f"q must have the {self.shifts.shape[0]} groups on its second-to-last axis, got shape "
                             f"{q.shape}")
        scale = np.broadcast_to(np.asarray(scale, dtype=float), q.shape[:-1])[..., None]
        shifts = self.shifts if self.grouped else self.shifts[0]
        out = q + shifts * scale
        out = uncross_quantiles(out, self.point_index)
        if lower_bound is not None:
            out = np.maximum(out, lower_bound)
        return out


def fit_cqr(y_cal: Any, q_cal: Any, quantiles: Sequence[float], *, scale: Any = 1.0, grouped: bool = False,
            span_end: int | None = None) -> QuantileCalibrator:
    """Learn CQR shifts from calibration actuals ``y_cal`` and forecast quantiles ``q_cal``.

    ``q_cal`` has shape ``y_cal.shape + (n_quantiles,)``. With ``grouped`` the last axis of
    ``y_cal`` is the group axis (one shift per group and level, other axes pooled); otherwise
    every cell is pooled. ``span_end``: the exclusive end step of the calibration span, checked
    against the test start in :meth:`QuantileCalibrator.apply`.
    """
    qs, point = _check_quantiles(quantiles)
    y = np.asarray(y_cal, dtype=float)
    q = np.asarray(q_cal, dtype=float)
    if q.shape != y.shape + (len(qs),):
        raise ValueError(f"q_cal must have shape y_cal.shape + (n_quantiles,) = {y.shape + (len(qs),)}, "
                         f"got {q.shape}")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(q))):
        raise ValueError("calibration actuals and forecasts must be finite")
    scale = np.broadcast_to(np.asarray(scale, dtype=float), y.shape)
    if grouped:
        if y.ndim < 1:
            raise ValueError("grouped calibration needs the group axis last in y_cal")
        y2, q2, s2 = y.reshape(-1, y.shape[-1]), q.reshape(-1, y.shape[-1], len(qs)), scale.reshape(-1, y.shape[-1])
    else:
        y2, q2, s2 = y.reshape(-1, 1), q.reshape(-1, 1, len(qs)), scale.reshape(-1, 1)
    shifts = np.zeros((y2.shape[1], len(qs)))
    for g in range(y2.shape[1]):
        for j, tau in enumerate(qs):
            if j == point:
                continue
            threshold = conformal_quantile(one_sided_scores(y2[:, g], q2[:, g, j], tau, s2[:, g]),
                                           _coverage_level(tau))
            shifts[g, j] = threshold if tau > 0.5 else -threshold
    return QuantileCalibrator(quantiles=qs, shifts=shifts, n_scores=int(y2.shape[0]), span_end=span_end,
                              grouped=grouped)


def adaptive_conformal_thresholds(calibration_scores: Any, step_scores: Sequence[Any], *, coverage: float,
                                  gamma: float = 0.005, delay: int = 1, window: int | None = None
                                  ) -> tuple[np.ndarray, np.ndarray]:
    """ACI thresholds for a stream of steps (Gibbs & Candès 2021), one-sided scores.

    ``step_scores[t]`` holds the scores of the cells forecast at step t (one value per day for a
    single series, or one per series); they become known ``delay`` steps later. At step t the
    threshold is the conformal (1 − alpha_t) quantile of the calibration scores plus every known
    step's scores (the last ``window`` of them if given), and alpha_{t+1} = alpha_t + gamma ·
    (alpha − err_{t+1−delay}), err = share of that step's cells above its threshold. A level
    outside (0, 1) uses the largest or smallest known score (Gibbs & Candès use the whole line or
    the empty set). Returns (thresholds per step, alpha_t per step). The threshold of step t never
    reads scores of steps > t − delay.
    """
    if not 0.0 < coverage < 1.0:
        raise ValueError(f"coverage must be in (0, 1), got {coverage!r}")
    if not gamma >= 0.0:
        raise ValueError(f"gamma must be >= 0, got {gamma!r}")
    if isinstance(delay, bool) or not isinstance(delay, int) or delay < 1:
        raise ValueError(f"delay must be an int >= 1 (outcomes are known after the forecast), got {delay!r}")
    base = np.asarray(calibration_scores, dtype=float).reshape(-1)
    if base.size == 0:
        raise ValueError("ACI needs calibration scores to start from; pass the calibration span's scores")
    steps = [np.asarray(s, dtype=float).reshape(-1) for s in step_scores]
    target = 1.0 - coverage
    alpha_t = target
    thresholds = np.empty(len(steps))
    alphas = np.empty(len(steps))
    pool = np.sort(base)  # kept sorted: each revealed step is inserted in place (no re-sort per step)
    revealed = 0
    for t in range(len(steps)):
        if window is not None:
            known = steps[max(0, t - delay + 1 - window):max(0, t - delay + 1)]
            pool = np.sort(np.concatenate([base, *known])) if known else np.sort(base)
        else:
            while revealed < t - delay + 1:
                new = np.sort(steps[revealed])
                pool = np.insert(pool, np.searchsorted(pool, new), new)
                revealed += 1
        alphas[t] = alpha_t
        level = 1.0 - alpha_t
        k = math.ceil((pool.size + 1) * level - 1e-12) if 0.0 < level < 1.0 else (pool.size + 1 if level >= 1 else 0)
        thresholds[t] = float(pool[min(max(k, 1), pool.size) - 1])  # past either end: the largest / smallest score
        done = t + 1 - delay  # the step whose outcome becomes known before step t + 1
        if done >= 0:
            err = float(np.mean(steps[done] > thresholds[done]))
            alpha_t = alpha_t + gamma * (target - err)
    return thresholds, alphas
