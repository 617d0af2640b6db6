"""stock_forecast networks: shared-family builders with a (horizon, quantiles) head; scaler round trip."""

from __future__ import annotations

import numpy as np
import pytest

from applications.stock_forecast.features import TrainScaler
from applications.stock_forecast.models import (MODELS, NetSettings, best_epoch, build_forecaster,
                                                predict_quantiles, quantile_levels)


def test_quantile_levels():
    assert quantile_levels(0.9) == (0.05, 0.5, 0.95)
    assert quantile_levels(0.8) == (0.1, 0.5, 0.9)
    with pytest.raises(ValueError, match="--interval must be in"):
        quantile_levels(1.0)


@pytest.mark.parametrize("kind", MODELS)
def test_builders_give_horizon_by_quantile_outputs_without_crossing(kind):
    model = build_forecaster(kind, window=6, n_features=2, horizon=3, quantiles=(0.1, 0.5, 0.9),
                             settings=NetSettings(units=4))
    assert tuple(model.output_shape) == (None, 3, 3)
    assert not getattr(model, "compiled", False)  # uncompiled, as the shared builders return them
    out = predict_quantiles(model, np.random.default_rng(0).normal(size=(5, 6, 2)).astype("float32"))
    assert out.shape == (5, 3, 3) and np.all(np.diff(out, axis=-1) >= 0)


def test_unknown_model_is_rejected():
    with pytest.raises(ValueError, match="model must be one of"):
        build_forecaster("transformer", window=5, n_features=1, horizon=1, quantiles=(0.5,),
                         settings=NetSettings())


def test_scaler_round_trip_and_best_epoch():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(50, 2))
    targets = rng.normal(0.001, 0.02, size=(30, 2))
    scaler = TrainScaler.fit(feats, targets, train_end=40, first_day=1)
    np.testing.assert_allclose(scaler.inverse_y(scaler.transform_y(targets)), targets, atol=1e-6)
    q = np.stack([scaler.transform_y(targets)] * 3, axis=-1)
    np.testing.assert_allclose(scaler.inverse_y(q)[..., 1], targets, atol=1e-6)
    assert best_epoch({"loss": [3, 2, 1], "val_loss": [2.0, 1.0, 1.5]}) == 2
