"""Keras' own ``fit`` under MultiWorkerMirroredStrategy still fails (keras-team/keras#20585).

A strict expected failure: the known error is reported as xfail; the day a Keras release fixes it
the test fails (so the project notices and can drop its custom loop,
``shared.distribute.distributed_fit``, for ``model.fit``), and so does any other crash.
"""

import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from localhost_workers import run_workers  # noqa: E402

WORKER = textwrap.dedent("""
    import numpy as np, tensorflow as tf
    from shared.distribute import get_strategy
    from shared.models import build_mlp
    strategy = get_strategy("multi_worker")
    with strategy.scope():
        model = build_mlp(n_features=3, hidden_units=(8,))
        model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(256, 3)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices((x, x.sum(axis=1, keepdims=True))).batch(64)
    model.fit(dataset, epochs=1, verbose=0)
    print("fit finished")
""")


def test_keras_fit_under_multi_worker_mirrored_strategy_still_fails_the_known_way():
    """Expected to fail as keras-team/keras#20585 says (reported as xfail); an unrelated crash fails the
    test, and so does success, which means the bug is fixed and the custom loop can go."""
    results = run_workers(WORKER, 2)
    failed = [err for code, _, err in results if code != 0]
    if not failed:
        assert all("fit finished" in out for _, out, _ in results)
        pytest.fail("Keras' fit now trains under MultiWorkerMirroredStrategy: keras-team/keras#20585 is fixed in "
                    "this Keras; replace shared.distribute.distributed_fit by model.fit and update docs/distributed.md")
    for err in failed:
        assert "PerReplica" in err, err[-3000:]     # the known failure, not another crash
    pytest.xfail("keras-team/keras#20585: Keras 3 fit under MultiWorkerMirroredStrategy converts a PerReplica "
                 "value outside replica context")
