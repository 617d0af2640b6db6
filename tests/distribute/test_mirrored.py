"""Mirrored training on two logical CPUs, in a fresh process (device setup must precede TF init)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import json, numpy as np
    from shared.distribute import get_strategy
    from shared.models import build_mlp
    from shared.training import set_seed
    strategy = get_strategy("mirrored", logical_cpus=2)
    set_seed(0)
    with strategy.scope():
        model = build_mlp(n_features=3, hidden_units=(8,))
        model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(256, 3)).astype("float32")
    y = x.sum(axis=1)
    history = model.fit(x, y, batch_size=64, epochs=3, verbose=0)
    print(json.dumps({"replicas": strategy.num_replicas_in_sync, "loss": history.history["loss"]}))
""")


def test_mirrored_strategy_trains_on_two_logical_cpus():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    assert result["loss"][-1] < result["loss"][0]  # it learns with batches split across replicas


def test_unknown_strategy_and_missing_tf_config():
    from shared.distribute import get_strategy

    with pytest.raises(ValueError, match="distribute must be one of"):
        get_strategy("parameter_server")
    env = dict(os.environ)
    env.pop("TF_CONFIG", None)
    code = ("from shared.distribute import get_strategy\n"
            "try:\n    get_strategy('multi_worker')\nexcept ValueError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert "multi_worker needs TF_CONFIG" in out.stdout
