import numpy as np
import pytest

from shared.losses import quantile_loss


def test_quantile_loss_matches_hand_computed_pinball():
    loss = quantile_loss([0.1, 0.5, 0.9])
    y_true = np.array([[10.0]], dtype="float32")            # (batch, horizon)
    y_pred = np.array([[[8.0, 10.0, 13.0]]], dtype="float32")  # (batch, horizon, quantiles)
    # errors y - q: 2, 0, -3 -> pinball: 0.1*2=0.2, 0, (0.9-1)*(-3)=0.3 -> mean 0.5/3
    value = float(np.asarray(loss(y_true, y_pred)).mean())
    assert value == pytest.approx(0.5 / 3, rel=1e-6)


def test_quantile_loss_validates_quantiles():
    with pytest.raises(ValueError, match=r"quantiles must be in \(0, 1\)"):
        quantile_loss([0.5, 1.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        quantile_loss([0.9, 0.1])
