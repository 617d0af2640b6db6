"""Two worker processes on localhost train one model with MultiWorkerMirroredStrategy.

This is the multi-machine path of docs/distributed.md with both "machines" on 127.0.0.1.
"""

import json
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from localhost_workers import run_workers  # noqa: E402

WORKER = textwrap.dedent("""
    import json, numpy as np, tensorflow as tf
    from shared.distribute import distributed_fit, get_strategy
    from shared.models import build_mlp
    from shared.training import set_seed
    strategy = get_strategy("multi_worker")
    set_seed(0)
    x = np.random.default_rng(0).normal(size=(256, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)
    model, history = distributed_fit(lambda: build_mlp(n_features=3, hidden_units=(8,)), dataset,
                                     loss=lambda t, p: tf.reduce_mean(tf.square(p - t), axis=-1),
                                     strategy=strategy, global_batch_size=64, epochs=3, learning_rate=1e-2)
    print(json.dumps({"replicas": strategy.num_replicas_in_sync, "loss": history["loss"]}))
""")


def test_two_workers_on_localhost_train_in_sync():
    outputs = []
    for code, out, err in run_workers(WORKER, 2):
        assert code == 0, err[-2000:]
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    assert [o["replicas"] for o in outputs] == [2, 2]
    # synchronous training: both workers see the same all-reduced loss, and it goes down
    assert outputs[0]["loss"] == outputs[1]["loss"]
    assert outputs[0]["loss"][-1] < outputs[0]["loss"][0]
