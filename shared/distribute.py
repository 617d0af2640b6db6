"""Distribution strategies: one code path for one device, several local devices, or several machines.

    strategy = get_strategy("mirrored")          # all local GPUs, or N logical CPUs for testing
    with strategy.scope():
        model = build_mlp(n_features=10); model.compile(...)
    model.fit(dataset)                           # batches are split across replicas

``"multi_worker"`` uses ``tf.distribute.MultiWorkerMirroredStrategy``: every machine runs the
same script with its own ``TF_CONFIG`` (cluster addresses and its task index); see
docs/distributed.md. Strategies must be created before TensorFlow initializes its devices.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

log = logging.getLogger(__name__)

STRATEGIES = ("none", "mirrored", "multi_worker")


def get_strategy(name: str = "none", *, logical_cpus: int | None = None) -> Any:
    """The ``tf.distribute`` strategy called ``name``.

    ``logical_cpus`` splits the CPU into that many logical devices (only before TensorFlow has
    initialized them), so mirrored training can be exercised without GPUs.
    """
    if name not in STRATEGIES:
        raise ValueError(f"distribute must be one of {list(STRATEGIES)}, got {name!r}")
    import tensorflow as tf

    if name == "none":
        return tf.distribute.get_strategy()  # the default: no distribution
    if logical_cpus is not None:
        _split_cpu(tf, logical_cpus)
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(devices=devices)
    else:
        config = os.environ.get("TF_CONFIG")
        if not config:
            raise ValueError("multi_worker needs TF_CONFIG set on every worker, e.g. "
                             '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                             '"task": {"type": "worker", "index": 0}}; see docs/distributed.md')
        try:
            json.loads(config)
        except json.JSONDecodeError as err:
            raise ValueError(f"TF_CONFIG is not valid JSON ({err}); see docs/distributed.md") from err
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    log.info("distribution: %s with %d replica(s)", name, strategy.num_replicas_in_sync)
    return strategy


def _split_cpu(tf: Any, n: int) -> None:
    if n < 1:
        raise ValueError(f"logical_cpus must be >= 1, got {n}")
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError as err:
        raise RuntimeError("logical CPUs must be configured before TensorFlow initializes its devices: create "
                           "the strategy first thing in the process") from err
