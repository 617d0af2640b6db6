"""shared.survival: the Cox loss against a hand-computed partial likelihood with ties, the Breslow
baseline hazard against a hand computation and scikit-survival, horizon labels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shared.survival import (BreslowBaseline, cox_partial_log_likelihood, cox_ph_loss, horizon_labels,
                             survival_curves, survival_target)

# Five subjects; two events tied at t = 3 (Breslow: both keep the whole risk set {t >= 3}).
TIME = np.array([2.0, 3.0, 3.0, 5.0, 8.0])
EVENT = np.array([1, 1, 1, 0, 1])
ETA = np.array([0.1, -0.4, 0.5, 2.0, 0.3])


def _hand_log_likelihood() -> float:
    e = [math.exp(v) for v in ETA]
    # event at t=2: risk set everyone; events at t=3 (two, tied): risk set {3, 3, 5, 8}; event at t=8: {8}
    return ((0.1 - math.log(sum(e)))
            + (-0.4 - math.log(e[1] + e[2] + e[3] + e[4]))
            + (0.5 - math.log(e[1] + e[2] + e[3] + e[4]))
            + (0.3 - math.log(e[4])))


def test_numpy_partial_likelihood_matches_hand_computation_with_ties():
    assert cox_partial_log_likelihood(ETA, TIME, EVENT) == pytest.approx(_hand_log_likelihood(), rel=1e-12)


def test_keras_cox_loss_is_the_negative_mean_partial_likelihood_per_event():
    loss = float(cox_ph_loss()(survival_target(TIME, EVENT), ETA.reshape(-1, 1).astype("float32")))
    assert loss == pytest.approx(-_hand_log_likelihood() / EVENT.sum(), rel=1e-5)


def test_cox_loss_does_not_depend_on_row_order_and_ignores_a_batch_without_events():
    loss = cox_ph_loss()
    order = np.array([4, 2, 0, 3, 1])
    a = float(loss(survival_target(TIME, EVENT), ETA.reshape(-1, 1).astype("float32")))
    b = float(loss(survival_target(TIME[order], EVENT[order]), ETA[order].reshape(-1, 1).astype("float32")))
    assert a == pytest.approx(b, rel=1e-6)
    none = float(loss(survival_target(TIME, np.zeros(5, int)), ETA.reshape(-1, 1).astype("float32")))
    assert none == 0.0


def test_cox_loss_trains_a_linear_model_towards_the_true_direction():
    from shared.models._keras import keras
    from shared.training import set_seed

    set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2)).astype("float32")
    time = rng.exponential(1.0 / np.exp(1.5 * x[:, 0])) + 1e-3          # only feature 0 matters
    event = (rng.random(400) < 0.8).astype(int)
    k = keras()
    model = k.Sequential([k.Input((2,)), k.layers.Dense(1, use_bias=False)])
    model.compile(optimizer=k.optimizers.Adam(0.05), loss=cox_ph_loss(), jit_compile=False)
    model.fit(x, survival_target(time, event), batch_size=400, epochs=60, verbose=0)
    w = model.layers[-1].get_weights()[0].ravel()
    assert w[0] > 0.8 and abs(w[1]) < 0.4 * w[0]


def test_breslow_baseline_matches_hand_computation():
    # no ties: H0 jumps by 1 / sum_{at risk} exp(eta - mean(eta)) at each event time
    time, event, eta = np.array([1.0, 2.0, 4.0]), np.array([1, 0, 1]), np.array([0.0, 1.0, -1.0])
    w = np.exp(eta - eta.mean())
    base = BreslowBaseline().fit(eta, time, event)
    np.testing.assert_allclose(base.times, [1.0, 4.0])
    np.testing.assert_allclose(base.cumulative_hazard, [1 / w.sum(), 1 / w.sum() + 1 / w[2]])
    np.testing.assert_allclose(base.baseline_cumulative_hazard([0.5, 1.0, 3.9, 10.0]),
                               [0.0, 1 / w.sum(), 1 / w.sum(), 1 / w.sum() + 1 / w[2]])
    s = base.survival(np.array([0.0]), [1.0])
    assert s[0, 0] == pytest.approx(math.exp(-(1 / w.sum()) * math.exp(0.0 - eta.mean())))


def test_breslow_survival_matches_scikit_survival_with_ties():
    from sksurv.linear_model.coxph import BreslowEstimator

    rng = np.random.default_rng(1)
    time = rng.integers(1, 40, 150).astype(float)
    event = (rng.random(150) < 0.6).astype(int)
    eta = rng.normal(size=150)
    grid = np.array([1.0, 2.5, 10.0, 20.0, 39.0])
    ours = survival_curves(eta, time, event, eta[:6], grid)
    ref = BreslowEstimator().fit(eta, event.astype(bool), time).get_survival_function(eta[:6])
    np.testing.assert_allclose(ours, np.array([fn(grid) for fn in ref]), atol=1e-10)
    assert np.all(np.diff(ours, axis=1) <= 0)


def test_breslow_round_trips_through_a_dict_and_rejects_bad_input():
    base = BreslowBaseline().fit(ETA, TIME, EVENT)
    again = BreslowBaseline.from_dict(base.to_dict())
    np.testing.assert_allclose(again.survival(ETA, [2, 5]), base.survival(ETA, [2, 5]))
    with pytest.raises(ValueError, match="not fitted"):
        BreslowBaseline().survival(ETA, [1])
    with pytest.raises(ValueError, match="no events"):
        BreslowBaseline().fit(ETA, TIME, np.zeros(5, int))
    with pytest.raises(ValueError, match="positive and finite"):
        BreslowBaseline().fit(ETA, np.array([1.0, 0.0, 2.0, 3.0, 4.0]), EVENT)
    with pytest.raises(ValueError, match="only 0/1"):
        BreslowBaseline().fit(ETA, TIME, np.array([1, 2, 0, 0, 1]))
    with pytest.raises(ValueError, match="needs times"):
        BreslowBaseline.from_dict({"times": [1.0]})


def test_horizon_labels_exclude_subjects_censored_before_the_horizon():
    time = np.array([10.0, 30.0, 50.0, 50.0, 80.0, 20.0])
    event = np.array([1, 0, 1, 0, 0, 0])
    label, known = horizon_labels(time, event, 50)
    # died at 10 and at 50 -> 1; censored at 50 (seen through H) and at 80 -> 0; censored at 30, 20 -> unknown
    assert known.tolist() == [True, False, True, True, True, False]
    assert label[known].tolist() == [1, 1, 0, 0]
    with pytest.raises(ValueError, match="horizon must be a positive"):
        horizon_labels(time, event, 0)
