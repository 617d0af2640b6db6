"""The PROTOCOLS.md baselines, from scikit-survival and scikit-learn (not reimplemented), each with
one ``fit(x, time, event) -> self`` and ``predict(x, ctx) -> Prediction`` shape so one loop scores
them all beside the deep models.
"""

from __future__ import annotations

import logging
import time as _time
from typing import Any

import numpy as np

from shared.survival import horizon_labels

from .protocol import FoldContext, Prediction, step_at, step_at_own

log = logging.getLogger(__name__)


def _surv_array(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    from shared.evaluation.survival import make_surv_array

    return make_surv_array(event, time)


class KaplanMeier:
    """Population survival curve, identical for everyone: C = 0.5, AUC@H = 0.5 by construction."""

    name = "kaplan_meier"

    def fit(self, x: np.ndarray, time: np.ndarray, event: np.ndarray) -> "KaplanMeier":
        from sksurv.nonparametric import kaplan_meier_estimator

        self.times_, self.surv_ = kaplan_meier_estimator(np.asarray(event, bool), np.asarray(time, float))
        return self

    def predict(self, x: np.ndarray, ctx: FoldContext) -> Prediction:
        n = len(x)
        surv = np.tile(step_at(self.times_, self.surv_, ctx.grid), (n, 1))
        p_h = np.full(n, 1.0 - float(step_at(self.times_, self.surv_, [ctx.horizon])[0]))
        own = step_at(self.times_, self.surv_, ctx.test_time) if n == len(ctx.test_time) else None
        return Prediction(risk=np.zeros(n), surv=surv, p_horizon=p_h, surv_own=own)


class CoxPH:
    """``sksurv.linear_model.CoxPHSurvivalAnalysis(alpha=0.01)`` (ridge 0.01, Breslow ties)."""

    name = "cox_ph"

    def __init__(self, alpha: float = 0.01) -> None:
        self.alpha = alpha

    def fit(self, x: np.ndarray, time: np.ndarray, event: np.ndarray) -> "CoxPH":
        from sksurv.linear_model import CoxPHSurvivalAnalysis

        self.model_ = CoxPHSurvivalAnalysis(alpha=self.alpha).fit(x, _surv_array(time, event))
        return self

    def predict(self, x: np.ndarray, ctx: FoldContext) -> Prediction:
        fns = self.model_.predict_survival_function(x)
        at = np.concatenate([ctx.grid, [ctx.horizon]])
        values = np.array([fn(np.clip(at, fn.x[0], fn.x[-1])) for fn in fns])  # grid lies inside the domain
        own = (np.array([1.0 if t < fn.x[0] else fn(min(t, fn.x[-1])) for fn, t in zip(fns, ctx.test_time)])
               if len(x) == len(ctx.test_time) else None)
        return Prediction(risk=self.model_.predict(x), surv=values[:, :-1], p_horizon=1.0 - values[:, -1],
                          surv_own=own)


class RandomSurvivalForest:
    """``sksurv.ensemble.RandomSurvivalForest(n_estimators, min_samples_leaf=15, n_jobs=1)``."""

    name = "random_survival_forest"

    def __init__(self, n_estimators: int = 200, min_samples_leaf: int = 15, seed: int = 0) -> None:
        self.n_estimators, self.min_samples_leaf, self.seed = n_estimators, min_samples_leaf, seed
        self.fit_seconds = 0.0

    def fit(self, x: np.ndarray, time: np.ndarray, event: np.ndarray) -> "RandomSurvivalForest":
        from sksurv.ensemble import RandomSurvivalForest as RSF

        started = _time.perf_counter()
        self.model_ = RSF(n_estimators=self.n_estimators, min_samples_leaf=self.min_samples_leaf, n_jobs=1,
                          random_state=self.seed).fit(x, _surv_array(time, event))
        self.fit_seconds = _time.perf_counter() - started
        return self

    def predict(self, x: np.ndarray, ctx: FoldContext) -> Prediction:
        surv = self.model_.predict_survival_function(x, return_array=True)
        times = self.model_.unique_times_
        at = np.concatenate([ctx.grid, [ctx.horizon]])
        values = step_at(times, surv, at)
        own = step_at_own(times, surv, ctx.test_time) if len(x) == len(ctx.test_time) else None
        return Prediction(risk=self.model_.predict(x), surv=values[:, :-1], p_horizon=1.0 - values[:, -1],
                          surv_own=own)


class LogisticAtHorizon:
    """``sklearn LogisticRegression`` on "event by H", trained on subjects whose status at H is known.

    Its probability also serves as the risk score for the C-indices; it gives no survival curve.
    """

    name = "logistic_regression_h"

    def __init__(self, horizon: float, seed: int = 0) -> None:
        self.horizon, self.seed = horizon, seed

    def fit(self, x: np.ndarray, time: np.ndarray, event: np.ndarray) -> "LogisticAtHorizon":
        from sklearn.linear_model import LogisticRegression

        label, known = horizon_labels(time, event, self.horizon)
        if len(np.unique(label[known])) < 2:
            raise ValueError(f"the horizon {self.horizon:g} leaves only one class among training subjects with a "
                             "known status; pass a different --horizon-days")
        self.model_ = LogisticRegression(max_iter=5000, random_state=self.seed).fit(x[known], label[known])
        return self

    def predict(self, x: np.ndarray, ctx: FoldContext) -> Prediction:
        p = self.model_.predict_proba(x)[:, 1]
        return Prediction(risk=p, surv=None, p_horizon=p)


def make_baselines(*, horizon: float, rsf_trees: int, seed: int) -> list[Any]:
    out: list[Any] = [KaplanMeier(), CoxPH(alpha=0.01)]
    if rsf_trees > 0:
        out.append(RandomSurvivalForest(n_estimators=rsf_trees, min_samples_leaf=15, seed=seed))
    out.append(LogisticAtHorizon(horizon, seed=seed))
    return out
