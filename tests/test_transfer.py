import numpy as np
import pytest

from shared.models import build_rnn
from shared.training import set_seed
from shared.transfer import Stage, fine_tune, set_trainable, transfer_weights


def _data(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(48, 5, 1)).astype("float32")
    return x, x[:, -1, 0] * 0.5


def test_transfer_copies_matching_layers_and_skips_a_new_head():
    set_seed(0)
    source = build_rnn(input_steps=5, n_features=1, units=(4,), outputs=1)
    target = build_rnn(input_steps=5, n_features=1, units=(4,), outputs=3)  # different head
    copied = transfer_weights(source, target)
    assert copied == ["rnn_lstm_0"]
    for a, b in zip(source.get_layer("rnn_lstm_0").get_weights(), target.get_layer("rnn_lstm_0").get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="no layer of"):
        transfer_weights(source, build_rnn(input_steps=5, n_features=2, units=(8,), name="other"), only=("rnn_",))


def test_frozen_layers_do_not_move_then_unfreeze_stage_moves_them():
    set_seed(0)
    model = build_rnn(input_steps=5, n_features=1, units=(4,))
    x, y = _data(0)
    before = [w.copy() for w in model.get_layer("rnn_lstm_0").get_weights()]
    history = fine_tune(model, x, y, schedule=[Stage(epochs=2, frozen=("rnn_",), learning_rate=1e-2)], loss="mse",
                        batch_size=16)
    after = model.get_layer("rnn_lstm_0").get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert history["stage"] == [1.0, 1.0]
    fine_tune(model, x, y, schedule=[Stage(epochs=1, frozen=(), learning_rate=1e-2)], loss="mse", batch_size=16)
    assert not all(np.array_equal(a, b) for a, b in zip(before, model.get_layer("rnn_lstm_0").get_weights()))


def test_schedule_and_prefix_errors():
    model = build_rnn(input_steps=5, n_features=1, units=(4,))
    with pytest.raises(ValueError, match="starts with"):
        set_trainable(model, frozen=("encoder",))
    with pytest.raises(ValueError, match="epochs >= 1"):
        Stage(epochs=0)
    with pytest.raises(ValueError, match="schedule is empty"):
        fine_tune(model, *_data(1), schedule=[], loss="mse")
