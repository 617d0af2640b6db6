"""Two worker processes on localhost train one model with MultiWorkerMirroredStrategy.

This is the multi-machine path of docs/distributed.md with both "machines" on 127.0.0.1.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_workers_on_localhost_train_in_sync():
    workers = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(tf_config), "CUDA_VISIBLE_DEVICES": ""}
        procs.append(subprocess.Popen([sys.executable, "-c", WORKER], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    outputs = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err[-2000:]
            outputs.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            proc.kill()
    assert [o["replicas"] for o in outputs] == [2, 2]
    # synchronous training: both workers see the same all-reduced loss, and it goes down
    assert outputs[0]["loss"] == outputs[1]["loss"]
    assert outputs[0]["loss"][-1] < outputs[0]["loss"][0]
