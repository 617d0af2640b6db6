"""The survival protocol: folds, metric wrappers against scikit-survival and lifelines, the
baselines on tiny data, permutation importance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from applications.survival.baselines import CoxPH, KaplanMeier, LogisticAtHorizon, RandomSurvivalForest
from applications.survival.importance import permutation_importance
from applications.survival.protocol import FoldContext, Prediction, folds, score, step_at, summarize


def _toy(n=240, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    t_event = rng.exponential(100.0 / np.exp(1.2 * x[:, 0]))
    t_cens = rng.uniform(20, 400, n)
    time = np.maximum(np.minimum(t_event, t_cens), 0.5).round(1)
    event = (t_event <= t_cens).astype(int)
    return x, time, event


def test_harrell_c_wrapper_matches_scikit_survival_and_lifelines_on_a_toy_case():
    from lifelines.utils import concordance_index
    from sksurv.metrics import concordance_index_censored

    from shared.evaluation.survival import harrell_c

    time = np.array([5.0, 8.0, 8.0, 12.0, 20.0, 3.0])
    event = np.array([1, 0, 1, 1, 0, 1])
    risk = np.array([0.9, 0.1, 0.5, 0.5, -1.0, 2.0])
    ours = harrell_c(event, time, risk)
    assert ours == pytest.approx(concordance_index_censored(event.astype(bool), time, risk)[0])
    assert ours == pytest.approx(concordance_index(time, -risk, event))   # lifelines: higher score = longer life
    # by hand: 13 comparable pairs (the earlier time is an event; an event tied in time with a censoring
    # counts too): 12 concordant and one tie in risk (0.5 vs 0.5 at t=8 vs 12) counted 1/2
    assert ours == pytest.approx(12.5 / 13)


def test_folds_are_the_protocols_stratified_5_fold_split():
    from sklearn.model_selection import StratifiedKFold

    _, _, event = _toy()
    ours = folds(event)
    ref = list(StratifiedKFold(5, shuffle=True, random_state=42).split(np.zeros(len(event)), event))
    assert len(ours) == 5
    for (a, b), (c, d) in zip(ours, ref):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
        assert abs(event[b].mean() - event.mean()) < 0.05
    with pytest.raises(ValueError, match="too few"):
        folds(np.array([1, 1, 0, 0, 0, 0, 0, 0]))


def test_fold_context_uses_training_quantiles_for_tau_and_the_brier_grid():
    _, time, event = _toy()
    train, test = folds(event)[0]
    ctx = FoldContext.build(time, event, train, test, horizon=60.0)
    assert ctx.tau == pytest.approx(np.percentile(time[train], 80))
    lo, hi = np.percentile(time[train][event[train] == 1], [10, 80])
    assert ctx.grid.size == 50
    assert ctx.grid[0] >= max(lo, time[test].min()) - 1e-9 and ctx.grid[-1] <= min(hi, time[test].max())
    assert not ctx.test_known[(event[test] == 0) & (time[test] < 60)].any()


def test_baselines_score_as_expected_on_tiny_data():
    x, time, event = _toy()
    train, test = folds(event)[0]
    ctx = FoldContext.build(time, event, train, test, horizon=60.0)
    scores = {}
    for model in (KaplanMeier(), CoxPH(), RandomSurvivalForest(n_estimators=10, seed=0), LogisticAtHorizon(60.0)):
        pred = model.fit(x[train], time[train], event[train]).predict(x[test], ctx)
        scores[model.name] = score(ctx, pred)
        if pred.surv is not None:
            assert pred.surv.shape == (len(test), 50) and np.all(np.diff(pred.surv, axis=1) <= 1e-12)
    assert scores["kaplan_meier"]["harrell_c"] == 0.5 and scores["kaplan_meier"]["auc_h"] == 0.5
    assert scores["cox_ph"]["harrell_c"] > 0.65 and scores["cox_ph"]["ibs"] < scores["kaplan_meier"]["ibs"]
    assert scores["random_survival_forest"]["harrell_c"] > 0.6
    assert scores["logistic_regression_h"]["ibs"] is None and scores["logistic_regression_h"]["auc_h"] > 0.6


def test_summarize_keeps_metrics_every_fold_has():
    mean, std = summarize([{"harrell_c": 0.7, "ibs": None}, {"harrell_c": 0.8, "ibs": 0.2}])
    assert mean == {"harrell_c": pytest.approx(0.75)} and std == {"harrell_c": pytest.approx(0.05)}


def test_step_at_evaluates_right_continuous_steps():
    out = step_at(np.array([1.0, 3.0]), np.array([[0.9, 0.5]]), [0.5, 1.0, 2.0, 3.0, 9.0])
    np.testing.assert_allclose(out, [[1.0, 0.9, 0.9, 0.5, 0.5]])


def test_permutation_importance_finds_the_only_informative_covariate():
    x, time, event = _toy(n=300)
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    drops, errs, base = permutation_importance(frame, time, event, transform=lambda f: f.to_numpy(),
                                               predict=lambda m: m[:, 0], columns=["a", "b", "c"], repeats=2)
    assert base > 0.65
    assert drops["a"] > 0.1 and drops["b"] == 0.0 and drops["c"] == 0.0 and set(errs) == {"a", "b", "c"}


def test_prediction_without_curve_has_no_ibs():
    _, time, event = _toy()
    train, test = folds(event)[0]
    ctx = FoldContext.build(time, event, train, test, horizon=60.0)
    out = score(ctx, Prediction(risk=np.linspace(0, 1, len(test))))
    assert out["ibs"] is None and out["auc_h"] is None and 0 <= out["harrell_c"] <= 1


def test_ibs_with_follow_up_capped_past_the_grid_equals_scikit_survival_and_survives_long_test_times():
    from sksurv.metrics import integrated_brier_score

    from shared.evaluation.survival import integrated_brier, make_surv_array

    def integrated_brier_clipped(ctx, surv):  # what protocol.score computes
        return integrated_brier(ctx.train_event, ctx.train_time, ctx.test_event, ctx.test_time, surv, ctx.grid)

    x, time, event = _toy(n=300, seed=3)
    train, test = folds(event)[0]
    event[train[np.argmax(time[train])]] = 1     # the last training time is an event: censoring KM stays > 0
    ctx = FoldContext.build(time, event, train, test, horizon=60.0)
    assert time[test].max() < time[train].max()                       # scikit-survival accepts this fold as is
    surv = np.exp(-np.outer(np.exp(x[test, 0]), ctx.grid) / 150.0)
    ref = integrated_brier_score(make_surv_array(event[train], time[train]), make_surv_array(event[test], time[test]),
                                 surv, ctx.grid)
    assert integrated_brier_clipped(ctx, surv) == pytest.approx(ref, rel=1e-12)
    longer = time.copy()
    past = test[(time[test] > ctx.grid[-1]) & (event[test] == 1)][0]      # an event after the grid
    longer[past] = time[train].max() + 100.0                          # followed past every training patient
    ctx_long = FoldContext.build(longer, event, train, test, horizon=60.0)
    np.testing.assert_array_equal(ctx_long.grid, ctx.grid)
    with pytest.raises(ValueError, match="largest observed time"):
        integrated_brier_score(make_surv_array(event[train], time[train]),
                               make_surv_array(event[test], longer[test]), surv, ctx.grid)
    assert integrated_brier_clipped(ctx_long, surv) == pytest.approx(ref, rel=1e-12)
