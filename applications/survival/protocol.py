"""PROTOCOLS.md §Survival: the folds, the per-fold evaluation context and the five metrics.

5-fold ``StratifiedKFold(shuffle=True, random_state=42)`` on the event indicator. Per test fold:
Harrell's C; Uno's C with tau = 80th percentile of the training fold's observed times; integrated
Brier score on 50 equally spaced times from the 10th to the 80th percentile of training-fold event
times (clipped to the test fold's range); ROC-AUC and accuracy (threshold 0.5) of P(event by H) on
test subjects whose status at H is known; D-calibration error (10 bins of S(t_i | x_i) at each test
subject's own time, Goldstein et al. 2020) for models with a survival curve. Metrics from ``shared.evaluation.survival`` (thin
wrappers over scikit-survival) and scikit-learn.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np

from shared.survival import horizon_labels
from shared.errors import UserError

N_SPLITS = 5
SPLIT_SEED = 42  # fixed by the protocol, independent of --seed
METRICS = ("harrell_c", "uno_c", "ibs", "auc_h", "accuracy_h", "d_calibration_error")


def folds(event: np.ndarray, *, n_splits: int = N_SPLITS) -> list[tuple[np.ndarray, np.ndarray]]:
    """The protocol's (train, test) index pairs."""
    from sklearn.model_selection import StratifiedKFold

    event = np.asarray(event)
    n_events = int(event.sum())
    if n_events < n_splits or (len(event) - n_events) < n_splits and (len(event) - n_events) > 0:
        raise UserError(f"{n_events} events and {len(event) - n_events} censored subjects are too few for "
                         f"{n_splits}-fold cross-validation stratified on the event; add patients")
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=SPLIT_SEED)
    return list(splitter.split(np.zeros(len(event)), event))


@dataclasses.dataclass(frozen=True)
class FoldContext:
    """Everything a fold's metrics need besides the predictions."""

    train_time: np.ndarray
    train_event: np.ndarray
    test_time: np.ndarray
    test_event: np.ndarray
    horizon: float
    tau: float
    grid: np.ndarray
    test_label: np.ndarray
    test_known: np.ndarray

    @classmethod
    def build(cls, time: np.ndarray, event: np.ndarray, train: np.ndarray, test: np.ndarray, *,
              horizon: float) -> "FoldContext":
        from shared.evaluation.survival import brier_time_grid

        tr_t, tr_e, te_t, te_e = time[train], event[train], time[test], event[test]
        grid = brier_time_grid(tr_e, tr_t, te_t, n=50)
        label, known = horizon_labels(te_t, te_e, horizon)
        return cls(train_time=tr_t, train_event=tr_e, test_time=te_t, test_event=te_e, horizon=float(horizon),
                   tau=float(np.percentile(tr_t, 80)), grid=grid, test_label=label, test_known=known)


@dataclasses.dataclass
class Prediction:
    """One model's output on a test fold. ``risk``: higher = earlier event. ``surv``: S(grid | x),
    shape (n_test, 50), or None (no survival curve, no IBS). ``p_horizon``: P(event by H), or None.
    ``surv_own``: S(t_i | x_i) of each test subject at its own observed time (D-calibration), or None."""

    risk: np.ndarray
    surv: np.ndarray | None = None
    p_horizon: np.ndarray | None = None
    surv_own: np.ndarray | None = None


def score(ctx: FoldContext, pred: Prediction) -> dict[str, float | None]:
    from sklearn.metrics import accuracy_score, roc_auc_score

    from shared.evaluation.survival import d_calibration_error, harrell_c, integrated_brier, uno_c

    out: dict[str, float | None] = {
        "harrell_c": harrell_c(ctx.test_event, ctx.test_time, pred.risk),
        "uno_c": uno_c(ctx.train_event, ctx.train_time, ctx.test_event, ctx.test_time, pred.risk, tau=ctx.tau),
        "ibs": None, "auc_h": None, "accuracy_h": None, "d_calibration_error": None,
    }
    if pred.surv_own is not None:
        out["d_calibration_error"] = d_calibration_error(ctx.test_event, np.clip(pred.surv_own, 0.0, 1.0))
    if pred.surv is not None:
        # shared integrated_brier caps follow-up past the grid itself (small folds)
        out["ibs"] = integrated_brier(ctx.train_event, ctx.train_time, ctx.test_event, ctx.test_time,
                                      np.clip(pred.surv, 0.0, 1.0), ctx.grid)
    if pred.p_horizon is not None:
        y, p = ctx.test_label[ctx.test_known], np.asarray(pred.p_horizon, dtype=float)[ctx.test_known]
        out["auc_h"] = float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else None
        out["accuracy_h"] = float(accuracy_score(y, p >= 0.5))
    return out


def summarize(per_fold: list[dict[str, float | None]]) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and (population) std over folds of each metric that every fold has."""
    keys = [k for k in METRICS if all(m.get(k) is not None for m in per_fold)]
    values = {k: np.array([float(m[k]) for m in per_fold]) for k in keys}  # type: ignore[arg-type]
    return {k: float(v.mean()) for k, v in values.items()}, {k: float(v.std()) for k, v in values.items()}


def step_at(times: np.ndarray, values: np.ndarray, at: Any, *, before: float = 1.0) -> np.ndarray:
    """Evaluate right-continuous step functions given on ``times`` (last axis of ``values``) at ``at``."""
    idx = np.searchsorted(np.asarray(times), np.asarray(at, dtype=float), side="right") - 1
    vals = np.asarray(values)
    taken = np.take(vals, np.clip(idx, 0, None), axis=-1)
    return np.where(idx >= 0, taken, before)


def step_at_own(times: np.ndarray, values: np.ndarray, at: np.ndarray, *, before: float = 1.0) -> np.ndarray:
    """Row i of right-continuous step functions ``values`` (n, len(times)) evaluated at ``at[i]``."""
    idx = np.searchsorted(np.asarray(times), np.asarray(at, dtype=float), side="right") - 1
    taken = np.take_along_axis(np.asarray(values), np.clip(idx, 0, None)[:, None], axis=1)[:, 0]
    return np.where(idx >= 0, taken, before)


def iter_folds(time: np.ndarray, event: np.ndarray, *, horizon: float,
               n_splits: int = N_SPLITS) -> Iterator[tuple[int, np.ndarray, np.ndarray, FoldContext]]:
    for i, (train, test) in enumerate(folds(event, n_splits=n_splits)):
        yield i, train, test, FoldContext.build(time, event, train, test, horizon=horizon)
