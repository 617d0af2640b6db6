"""Ray Train benchmark: 2 local Ray workers (each its own Parquet shard) beside one process.

    python benchmarks/ray_train.py [--rows 200000] [--files 8] [--workers 2] [--epochs 5]

Data: ``--rows`` synthetic regression rows (20 features, y = a fixed linear map + a sine term +
noise) written as ``--files`` Parquet parts. One process: ``distributed_fit`` under the default
strategy over every part. Ray: :func:`shared.ray_train.ray_fit` with ``--workers`` workers, each
reading ``shard(parts, rank, world)``, the same global batch (1,024 = 512 per worker), the same
steps per epoch (one pass over the rows) and the same seed. Reports seconds per epoch (excluding start-up), wall time including Ray's start-up,
and the loss per epoch of both; writes ``benchmarks/results/ray_train.json``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

BATCH = 1024
FEATURES = 20


def write_parts(folder: Path, rows: int, files: int, seed: int) -> list[str]:
    import pandas as pd

    rng = np.random.default_rng(seed)
    weights = rng.normal(size=FEATURES)
    paths = []
    for i, part in enumerate(np.array_split(np.arange(rows), files)):
        x = rng.normal(size=(len(part), FEATURES)).astype("float32")
        y = x @ weights + np.sin(3 * x[:, 0]) + 0.1 * rng.normal(size=len(part))
        frame = pd.DataFrame(x, columns=[f"x{j}" for j in range(FEATURES)]).assign(y=y.astype("float32"))
        path = folder / f"part-{i:03d}.parquet"
        frame.to_parquet(path, index=False)
        paths.append(str(path))
    return paths


def parquet_dataset(paths, batch):
    """(x, y) batches of the rows of ``paths`` (read with pandas: the shards are small here)."""
    import pandas as pd
    import tensorflow as tf

    frame = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    x = frame.drop(columns="y").to_numpy("float32")
    return tf.data.Dataset.from_tensor_slices((x, frame["y"].to_numpy("float32")[:, None])).shuffle(
        8192, seed=0).batch(batch, drop_remainder=True)


def build():
    from shared.models import build_mlp

    return build_mlp(n_features=FEATURES, hidden_units=(128, 64))


def mse(y_true, y_pred):
    import tensorflow as tf

    return tf.reduce_mean(tf.square(y_pred - y_true), axis=-1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import ray.cloudpickle

    from shared.artifacts import environment, write_json
    from shared.distribute import distributed_fit, get_strategy
    from shared.ray_train import ray_fit, shard
    from shared.training import set_seed

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])   # the workers get these functions by value
    work = Path(tempfile.mkdtemp(prefix="rayb", dir="/tmp"))
    try:
        parts = write_parts(work, args.rows, args.files, args.seed)
        steps = args.rows // BATCH
        set_seed(args.seed)
        started = time.perf_counter()
        _, single = distributed_fit(build, parquet_dataset(parts, BATCH), loss=mse, strategy=get_strategy("none"),
                                    global_batch_size=BATCH, epochs=args.epochs, learning_rate=1e-3,
                                    steps_per_epoch=steps)
        single_s = time.perf_counter() - started
        print(f"one process: {single_s / args.epochs:.2f} s/epoch, loss {[round(v, 4) for v in single['loss']]}",
              flush=True)

        def worker_data(rank, world, per_worker_batch, parts=parts):
            return parquet_dataset(shard(parts, rank, world), per_worker_batch)

        started = time.perf_counter()
        result = ray_fit(build, worker_data, loss=mse, global_batch_size=BATCH, epochs=args.epochs,
                         steps_per_epoch=steps, out_dir=work / "ray", workers=args.workers, seed=args.seed)
        wall = time.perf_counter() - started
        per_epoch = max(w["seconds_per_epoch"] for w in result.workers)
        print(f"ray {args.workers} workers: {per_epoch:.2f} s/epoch, wall {wall:.1f} s with start-up, loss "
              f"{[round(v, 4) for v in result.history['loss']]}", flush=True)
        write_json(ROOT / "benchmarks" / "results" / "ray_train.json", {
            "environment": environment(), "rows": args.rows, "files": args.files, "features": FEATURES,
            "global_batch": BATCH, "epochs": args.epochs, "load_average_after": os.getloadavg()[0],
            "one_process": {"seconds_per_epoch": single_s / args.epochs, "steps_per_epoch": steps,
                            "loss": single["loss"]},
            "ray": {"workers": args.workers, "seconds_per_epoch": per_epoch, "wall_seconds_with_startup": wall,
                    "steps_per_epoch": steps, "per_worker_batch": BATCH // args.workers,
                    "loss": result.history["loss"],
                    "same_weights_on_every_worker": len({w["weights_sha256"] for w in result.workers}) == 1}})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
