"""Multi-worker training launched by Ray Train: ``distributed_fit`` on every worker of a Ray cluster.

    from shared.ray_train import ray_fit, shard
    result = ray_fit(build_model, make_dataset, loss=..., global_batch_size=256, epochs=5,
                     steps_per_epoch=100, out_dir="runs/ray", workers=4, address="auto")

Ray Train's ``TensorflowTrainer`` starts ``workers`` processes (on one machine, or across the
machines of a cluster started with ``ray start``), writes each one's ``TF_CONFIG`` and places them;
every worker then runs :func:`shared.distribute.distributed_fit` under
``MultiWorkerMirroredStrategy``. The project's own loop is used, not Keras' ``fit``: Keras 3's fit
still fails under that strategy (keras-team/keras#20585), and Ray's Keras integration forces legacy
Keras (``TF_USE_LEGACY_KERAS=1``), which each worker undoes before importing TensorFlow.

Data: ``make_dataset(rank, world, per_worker_batch)`` builds the worker's *own* shard (e.g. the
Parquet files ``shard(files, rank, world)``), batched per worker; TensorFlow's auto-sharding is off,
and every epoch has ``steps_per_epoch`` steps on every worker (the all-reduce would hang if one
worker ran out of batches first). The chief (rank 0) saves ``out_dir/model.keras``; every worker
writes ``out_dir/worker<rank>.json`` (loss per epoch, a digest of its final weights), so a caller
can check that the workers ended in sync. ``out_dir`` must be on a filesystem all workers share
when they run on several machines. ``build_model``, ``make_dataset`` and ``loss`` travel to the
workers by cloudpickle: define them in the script that calls ``ray_fit`` (``__main__``) or in a
module every worker can import (``ray.cloudpickle.register_pickle_by_value(module)`` otherwise).

Needs the optional extra ``pip install 'deepcases[cluster]'`` (``ray[train]``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .errors import UserError

log = logging.getLogger(__name__)


def shard(items: Sequence[Any], rank: int, world: int) -> list[Any]:
    """Worker ``rank``'s share of ``items`` (every ``world``-th one from ``rank``), never empty."""
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"rank must be in 0..world-1 and world >= 1, got rank {rank}, world {world}")
    mine = list(items)[rank::world]
    if not mine:
        raise UserError(f"{len(items)} file(s) for {world} workers leave worker {rank} without data; write the "
                        f"data in at least {world} files (one Parquet part per worker or more) or use fewer workers")
    return mine


@dataclasses.dataclass
class RayFitResult:
    """What the workers reported: the chief's history and model file, every worker's record."""

    history: dict[str, list[float]]
    model_path: Path
    workers: list[dict[str, Any]]
    seconds: float


def _weights_digest(model: Any) -> str:
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(weight.tobytes())
    return digest.hexdigest()


def _worker_loop(config: dict[str, Any]) -> None:
    """One Ray Train worker: its shard, the all-reduced custom loop, its record (and the chief's model)."""
    os.environ.pop("TF_USE_LEGACY_KERAS", None)  # Ray sets it for tf.keras; the project runs Keras 3
    import ray.train
    import tensorflow as tf

    from .artifacts import save_model, write_json
    from .distribute import distributed_fit, get_strategy
    from .training import set_seed

    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    strategy = get_strategy("multi_worker")            # TF_CONFIG written by Ray Train
    set_seed(config["seed"])                           # the same initial weights on every worker
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF

    def own_shard(context: Any) -> Any:   # this worker's rows, in batches of its share of the global batch
        batch = context.get_per_replica_batch_size(config["global_batch_size"])
        return config["make_dataset"](rank, world, batch).with_options(options)

    started = time.perf_counter()
    model, history = distributed_fit(config["build_model"], own_shard, loss=config["loss"], strategy=strategy,
                                     global_batch_size=config["global_batch_size"], epochs=config["epochs"],
                                     learning_rate=config["learning_rate"],
                                     steps_per_epoch=config["steps_per_epoch"])
    seconds = time.perf_counter() - started
    out = Path(config["out_dir"])
    if rank == 0:
        save_model(model, out / "model.keras")
    write_json(out / f"worker{rank}.json", {
        "rank": rank, "world": world, "replicas": int(strategy.num_replicas_in_sync), "loss": history["loss"],
        "train_seconds": seconds, "seconds_per_epoch": seconds / config["epochs"],
        "weights_sha256": _weights_digest(model), "keras_backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
        "legacy_keras": os.environ.get("TF_USE_LEGACY_KERAS")})
    ray.train.report({"loss": history["loss"][-1]})


def ray_fit(build_model: Callable[[], Any], make_dataset: Callable[[int, int, int], Any], *,
            loss: Callable[[Any, Any], Any], global_batch_size: int, epochs: int, steps_per_epoch: int,
            out_dir: str | Path, workers: int = 2, address: str | None = None, learning_rate: float = 1e-3,
            seed: int = 0, cpus_per_worker: int = 1) -> RayFitResult:
    """Train on ``workers`` Ray Train workers (see the module docstring); ``address=None`` starts a
    local Ray instance, ``"auto"`` or ``"ray://host:10001"`` joins a running cluster."""
    try:
        import ray
        from ray.train import RunConfig, ScalingConfig
        from ray.train.tensorflow import TensorflowTrainer
    except ImportError as err:
        raise UserError(f"Ray Train is not installed ({err}); install the cluster extra: "
                        "pip install 'deepcases[cluster]'") from None
    for name, value in (("workers", workers), ("global_batch_size", global_batch_size), ("epochs", epochs),
                        ("steps_per_epoch", steps_per_epoch), ("cpus_per_worker", cpus_per_worker)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if global_batch_size % workers:
        raise ValueError(f"global_batch_size ({global_batch_size}) must be a multiple of workers ({workers})")
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("worker*.json"):       # records of an earlier run must not pass for this one's
        old.unlink()
    started_ray = not ray.is_initialized()
    if started_ray:
        local = {} if address else {"num_cpus": workers * cpus_per_worker}
        ray.init(address=address, include_dashboard=False, log_to_driver=False, **local)
    started = time.perf_counter()
    try:
        trainer = TensorflowTrainer(
            _worker_loop,
            train_loop_config={"build_model": build_model, "make_dataset": make_dataset, "loss": loss,
                               "global_batch_size": global_batch_size, "epochs": epochs,
                               "steps_per_epoch": steps_per_epoch, "learning_rate": learning_rate, "seed": seed,
                               "out_dir": str(out)},
            scaling_config=ScalingConfig(num_workers=workers, resources_per_worker={"CPU": cpus_per_worker}),
            run_config=RunConfig(storage_path=str(out / "ray_storage"), name="ray_fit"))
        trainer.fit()
    finally:
        if started_ray:
            ray.shutdown()
    seconds = time.perf_counter() - started
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("worker*.json"))]
    if len(records) != workers:
        raise RuntimeError(f"{len(records)} of {workers} Ray workers wrote their record to {out}; with several "
                           "machines out_dir must be on a filesystem every worker shares")
    chief = next(r for r in records if r["rank"] == 0)
    log.info("ray_fit: %d workers, %d epochs in %.1f s (chief's loss %s)", workers, epochs, seconds,
             [round(v, 4) for v in chief["loss"]])
    return RayFitResult(history={"loss": chief["loss"]}, model_path=out / "model.keras", workers=records,
                        seconds=seconds)
