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
from collections.abc import Callable
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


def distributed_fit(build_model: Callable[[], Any], dataset: Any, *, loss: Callable[[Any, Any], Any],
                    strategy: Any, global_batch_size: int, epochs: int = 1, learning_rate: float = 1e-3,
                    steps_per_epoch: int | None = None) -> tuple[Any, dict[str, list[float]]]:
    """Synchronous data-parallel training with a custom loop that works under any strategy.

    Keras 3's ``model.fit`` does not support ``MultiWorkerMirroredStrategy`` (keras-team/keras
    #20585, tensorflow/tensorflow #72388), so multi-machine training uses this loop: the model
    and Adam optimizer are created in the strategy scope, each replica computes gradients on its
    shard of every global batch, and the strategy all-reduces them. ``loss(y_true, y_pred)``
    returns per-example losses. ``dataset`` yields (x, y) batches of ``global_batch_size`` (split
    across the replicas by ``tf.distribute``), or is a function ``dataset(input_context)`` that
    returns this input pipeline's own batches of ``input_context.get_per_replica_batch_size(
    global_batch_size)`` (``strategy.distribute_datasets_from_function``: each worker reads its own
    data, as ``shared.ray_train`` does).
    ``steps_per_epoch`` fixes the steps of an epoch (the dataset is repeated): needed when every
    worker reads its own shard (``shared.ray_train``), because a collective all-reduce hangs if one
    worker runs out of batches before the others.
    Returns the trained model and {"loss": [mean loss per epoch]}.
    """
    import tensorflow as tf

    from .models._keras import keras

    if global_batch_size < 1 or epochs < 1:
        raise ValueError(f"global_batch_size and epochs must be >= 1, got {global_batch_size} and {epochs}")
    if steps_per_epoch is not None and steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}")
    with strategy.scope():
        model = build_model()
        optimizer = keras().optimizers.Adam(learning_rate)
        optimizer.build(model.trainable_variables)
    if callable(dataset):
        def per_worker(context: Any, make: Callable[[Any], Any] = dataset) -> Any:
            made = make(context)
            return made if steps_per_epoch is None else made.repeat()

        batches = strategy.distribute_datasets_from_function(per_worker)
    else:
        batches = strategy.experimental_distribute_dataset(dataset if steps_per_epoch is None else dataset.repeat())
    steps_of_epoch = (lambda: iter(batches)) if steps_per_epoch is None else _steps(iter(batches), steps_per_epoch)

    @tf.function
    def train_step(batch: Any) -> Any:
        def replica_step(x: Any, y: Any) -> Any:
            with tf.GradientTape() as tape:
                per_example = loss(y, model(x, training=True))
                value = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch_size)
                if model.losses:
                    value += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
            grads = tape.gradient(value, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return value

        return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(replica_step, args=batch), axis=None)

    history: dict[str, list[float]] = {"loss": []}
    for epoch in range(epochs):
        total, steps = 0.0, 0
        for batch in steps_of_epoch():
            total += float(train_step(batch))
            steps += 1
        history["loss"].append(total / max(steps, 1))
        log.info("epoch %d/%d loss %.4f", epoch + 1, epochs, history["loss"][-1])
    return model, history


def _steps(batches: Any, n: int) -> Callable[[], Any]:
    """Each call yields the next ``n`` batches of one endless iterator (an epoch of fixed length)."""
    import itertools

    return lambda: itertools.islice(batches, n)
