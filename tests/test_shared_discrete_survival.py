"""shared.discrete_survival: the time grid and target encoding by hand, both losses against
hand-computed 3-subject cases, S(t | x) against Kaplan–Meier for a network that is the same for
everyone (set to the empirical hazards, and fitted), a .keras round trip, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shared.discrete_survival import TimeGrid, deephit_loss, logistic_hazard_loss

LN2, LN3 = math.log(2.0), math.log(3.0)


# ------------------------------------------------------------------------------ grid, encoding
def test_grid_edges_are_event_time_quantiles_with_zero():
    time = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 10.0])
    event = np.array([1, 1, 1, 1, 0, 1, 0])                 # event times 1, 2, 3, 4, 6
    grid = TimeGrid.from_training(time, event, n_bins=2)
    # quantiles 1/2 and 1 of [1, 2, 3, 4, 6] (linear): 3 and 6
    np.testing.assert_allclose(grid.edges, [0.0, 3.0, 6.0])
    assert grid.n_bins == 2


def test_encoding_puts_events_in_their_interval_and_counts_full_intervals_for_the_censored():
    grid = TimeGrid(np.array([0.0, 3.0, 6.0]))
    time = np.array([1.0, 3.0, 4.0, 2.0, 3.0, 7.0, 9.0])
    event = np.array([1, 1, 1, 0, 0, 0, 1])
    y = grid.encode(time, event)
    # events: 1 -> (0, 3], 3 -> (0, 3] (right-closed), 4 -> (3, 6], 9 (past the grid) -> last bin
    # censored: at 2 survived 0 intervals, at 3 (on an edge) survived 1, at 7 survived both
    assert y[:, 0].tolist() == [0, 0, 1, 0, 1, 2, 1]
    assert y[:, 1].tolist() == [1, 1, 1, 0, 0, 0, 1]
    assert y.dtype == np.float32


# ---------------------------------------------------------------------------------- losses
# Two bins. A: event in bin 1; B: censored inside bin 1 (survived bin 0); C: event in bin 0.
Y = np.array([[1, 1], [1, 0], [0, 1]], dtype="float32")


def test_logistic_hazard_loss_matches_hand_computation():
    z = np.array([[0.0, LN3], [0.0, 0.0], [LN3, 0.0]], dtype="float32")
    # hazards A [1/2, 3/4], B [1/2, 1/2], C [3/4, 1/2]
    # A: survives bin 0 (-log 1/2), dies in bin 1 (-log 3/4); B: survives bin 0 only; C: dies in bin 0
    hand = ((LN2 + math.log(4 / 3)) + LN2 + math.log(4 / 3)) / 3
    assert float(logistic_hazard_loss()(Y, z)) == pytest.approx(hand, rel=1e-5)


def test_deephit_loss_matches_hand_computation():
    # Subjects (index, event): A (0, 1), B (1, 0), C (1, 1), logits + a zero "after the grid" logit:
    y = np.array([[0, 1], [1, 0], [1, 1]], dtype="float32")
    z = np.array([[LN2, 0.0], [0.0, LN2], [0.0, 0.0]], dtype="float32")
    # PMFs: A [1/2, 1/4, 1/4], B [1/4, 1/2, 1/4], C [1/3, 1/3, 1/3]
    # NLL: A -log 1/2; B censored after bin 0 -> -log(1/2 + 1/4); C -log 1/3; mean = log(8) / 3 = log 2
    nll = (LN2 + math.log(4 / 3) + LN3) / 3
    assert nll == pytest.approx(LN2)
    assert float(deephit_loss(alpha=0.0)(y, z)) == pytest.approx(nll, rel=1e-5)
    # ranking pairs (i an event, index_j > index_i): (A, B) and (A, C); C has no later subject.
    # F_A(0) = 1/2, F_B(0) = 1/4, F_C(0) = 1/3; mean over the 3 x 3 pairs; sigma 0.5, alpha 2
    rank = (math.exp(-(0.5 - 0.25) / 0.5) + math.exp(-(0.5 - 1 / 3) / 0.5)) / 9
    assert float(deephit_loss(alpha=2.0, sigma=0.5)(y, z)) == pytest.approx(nll + 2.0 * rank, rel=1e-5)


def test_losses_do_not_depend_on_row_order():
    rng = np.random.default_rng(0)
    y = np.column_stack([rng.integers(0, 4, 12), rng.integers(0, 2, 12)]).astype("float32")
    z = rng.normal(size=(12, 4)).astype("float32")
    order = rng.permutation(12)
    for loss in (logistic_hazard_loss(), deephit_loss(alpha=1.0, sigma=0.2)):
        assert float(loss(y, z)) == pytest.approx(float(loss(y[order], z[order])), rel=1e-5)


# ----------------------------------------------------------------------- S(t | x) versus KM
def _cohort(n: int = 200, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    time = rng.integers(1, 9, n).astype(float)
    event = (rng.random(n) < 0.7).astype(int)
    time[np.argmax(time)] = 12.0                         # the last subject is censored: KM stays > 0
    event[np.argmax(time)] = 0
    return time, event


def _km(time: np.ndarray, event: np.ndarray, at: np.ndarray) -> np.ndarray:
    from sksurv.nonparametric import kaplan_meier_estimator

    t, s = kaplan_meier_estimator(event.astype(bool), time)
    idx = np.searchsorted(t, at, side="right") - 1
    return np.where(idx >= 0, s[np.clip(idx, 0, None)], 1.0)


def test_constant_network_set_to_empirical_hazards_reproduces_kaplan_meier_at_the_edges():
    time, event = _cohort()
    grid = TimeGrid(np.concatenate([[0.0], np.unique(time[event == 1])]))   # one event time per bin
    y = grid.encode(time, event)
    bins = np.arange(grid.n_bins)
    at_risk = ((y[:, 0] + y[:, 1])[:, None] > bins).sum(0)
    deaths = ((y[:, 1] == 1)[:, None] & (y[:, 0][:, None] == bins)).sum(0)
    h = deaths / at_risk
    logits = np.tile(np.log(h / (1 - h)), (3, 1))
    np.testing.assert_allclose(grid.survival(logits, grid.edges, kind="hazard")[0], _km(time, event, grid.edges),
                               atol=1e-10)
    # the same curve as a PMF (DeepHit's output): masses = KM drops, "after the grid" = KM at the end
    s = _km(time, event, grid.edges)
    f = np.append(-np.diff(s), s[-1])
    pmf_logits = np.tile(np.log(f[:-1]) - np.log(f[-1]), (2, 1))
    np.testing.assert_allclose(grid.survival(pmf_logits, grid.edges, kind="pmf")[1], s, atol=1e-10)
    # TimeGrid.empirical_logits (the networks' initial output bias) is exactly this constant network
    np.testing.assert_allclose(grid.empirical_logits(time, event, kind="hazard"), logits[0], atol=1e-10)
    np.testing.assert_allclose(grid.survival(grid.empirical_logits(time, event, kind="pmf")[None], grid.edges,
                                             kind="pmf")[0], s, atol=1e-10)


def _fit_constant(loss, time, event, grid):
    from shared.models._keras import keras
    from shared.training import set_seed

    set_seed(0)
    k = keras()
    model = k.Sequential([k.Input((1,)), k.layers.Dense(grid.n_bins, kernel_initializer="zeros")])
    model.compile(optimizer=k.optimizers.Adam(0.1), loss=loss, jit_compile=False)
    x = np.zeros((len(time), 1), "float32")              # no covariates: the bias alone is the model
    model.fit(x, grid.encode(time, event), batch_size=len(time), epochs=400, verbose=0)
    return np.asarray(model(x[:1]))


@pytest.mark.parametrize("kind", ["hazard", "pmf"])
def test_constant_network_fitted_by_either_likelihood_reproduces_kaplan_meier(kind):
    time, event = _cohort()
    grid = TimeGrid(np.concatenate([[0.0], np.unique(time[event == 1])]))
    loss = logistic_hazard_loss() if kind == "hazard" else deephit_loss(alpha=0.0)
    out = _fit_constant(loss, time, event, grid)
    np.testing.assert_allclose(grid.survival(out, grid.edges, kind=kind)[0], _km(time, event, grid.edges),
                               atol=5e-3)


def test_survival_inside_a_bin_has_a_constant_hazard_and_stays_flat_after_the_grid():
    grid = TimeGrid(np.array([0.0, 2.0, 4.0]))
    logits = np.log(np.array([[0.5, 0.75]]) / (1 - np.array([[0.5, 0.75]])))   # hazards 1/2, 3/4
    s = grid.survival(logits, [0.0, 1.0, 2.0, 3.0, 4.0, 9.0], kind="hazard")[0]
    # edges: 1, 1/2, 1/8; midpoints geometric means: sqrt(1/2), sqrt(1/2 * 1/8) = 1/4
    np.testing.assert_allclose(s, [1.0, math.sqrt(0.5), 0.5, 0.25, 0.125, 0.125], rtol=1e-10)
    assert np.all(np.diff(s) <= 0)


# ------------------------------------------------------------------------------ round trips
def test_losses_survive_a_keras_round_trip(tmp_path):
    from shared.models import build_mlp
    from shared.models._keras import keras

    k = keras()
    model = build_mlp(n_features=3, hidden_units=(4,), outputs=5)
    model.compile(optimizer="adam", loss=deephit_loss(alpha=0.7, sigma=0.3))
    path = tmp_path / "m.keras"
    model.save(path)
    again = k.saving.load_model(path)
    assert again.loss.alpha == 0.7 and again.loss.sigma == 0.3
    model.compile(optimizer="adam", loss=logistic_hazard_loss())
    model.save(path)
    assert type(k.saving.load_model(path).loss).__name__ == "LogisticHazardLoss"
    grid = TimeGrid(np.array([0.0, 1.0, 5.0]))
    assert np.array_equal(TimeGrid.from_dict(grid.to_dict()).edges, grid.edges)


# -------------------------------------------------------------------------------- bad input
def test_bad_grids_and_options_raise_with_the_fix():
    time, event = _cohort()
    with pytest.raises(ValueError, match=">= 2"):
        TimeGrid.from_training(time, event, n_bins=1)
    with pytest.raises(ValueError, match="distinct event times"):
        TimeGrid.from_training(time, event, n_bins=50)
    with pytest.raises(ValueError, match="one bin"):
        TimeGrid.from_training(np.array([5.0, 5.0, 7.0, 9.0]), np.array([1, 1, 0, 0]), n_bins=2)
    with pytest.raises(ValueError, match="fall in one bin"):   # 3 of 4 events tied at the last time
        TimeGrid.from_training(np.array([2.0, 9.0, 9.0, 9.0, 12.0]), np.array([1, 1, 1, 1, 0]), n_bins=2)
    with pytest.raises(ValueError, match="start at 0"):
        TimeGrid(np.array([1.0, 2.0]))
    grid = TimeGrid(np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        grid.survival(np.zeros((3, 4)), [1.0], kind="hazard")
    with pytest.raises(ValueError, match="kind must be"):
        grid.survival(np.zeros((3, 2)), [1.0], kind="cdf")
    with pytest.raises(ValueError, match="NaN"):
        grid.survival(np.full((1, 2), np.nan), [1.0], kind="pmf")
    with pytest.raises(ValueError, match="alpha"):
        deephit_loss(alpha=-1)
    with pytest.raises(ValueError, match="sigma"):
        deephit_loss(sigma=0)
