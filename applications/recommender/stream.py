"""``--source parquet``: Protocol A (rating prediction) trained and evaluated from a stream of Parquet parts.

The rows never sit in memory together. One Dask DataFrame pass over the TRAINING rows
(:func:`shared.dask_prep.scan_training`; ``--dask-scheduler`` for a cluster) builds the user and
item id maps and the rating moments (the global mean); the biased MF model then trains from :func:`shared.streaming.streaming_dataset`
(chunks read lazily, rows shuffled in a bounded buffer, prefetched), and the held-out rows are
streamed once in file order to accumulate RMSE/MAE of the model and of the baselines.

* The split is decided row by row (``--split-column``/``--train-value``, or ``--hash-split COLUMN``),
  so test rows never reach the id maps or the mean (tested).
* Ids seen only in test rows get index 0, whose factors and biases are set to zero after training:
  an unseen item is predicted as mu + b_u, the Protocol A fallback.
* Baselines: the global mean (from the streamed moments) and the user + item biases by the same
  ALS as :class:`applications.recommender.baselines.BiasBaseline`, each epoch two streaming passes.
* Not on this path (they need the whole user-item matrix or each user's full history in memory):
  Protocol B (leave-last-out), most-popular, item-kNN, EASE, the two-tower model, the item map and
  the recommendation tables. Rows are taken as given: repeated (user, item) pairs are not merged.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from shared.results import CaseStudyResult, mean_and_std
from shared.errors import UserError

log = logging.getLogger(__name__)

HINT = ("name the columns with --user-col/--item-col/--value-col and the split with --split-column "
        "(or --hash-split COLUMN)")
SKIPPED = {
    "protocol_B": "leave-last-out needs each user's latest interaction and a full ranking over the user-item "
                  "matrix in memory",
    "most_popular / item_knn / ease": "Protocol B baselines built on the in-memory user-item matrix",
    "two_tower": "Protocol B model",
    "svdpp": "not built for the stream: it needs every user's training items collected before training (a second "
             "pass over the training files; about 32 MB of ids at 100x)",
    "item_map / recommendation tables": "need the item titles and the training matrix in memory",
}


def split_rule(config: Any) -> Any:
    from shared.streaming import split_rule_from

    return split_rule_from(split_column=config.split_column, train_value=config.train_value,
                           hash_split=config.hash_split, test_fraction=config.test_fraction)


def _columns(config: Any) -> tuple[str, str, str]:
    if not config.value_col:
        raise UserError("--source parquet runs Protocol A, which needs a rating column; pass --value-col NAME")
    return config.user_col, config.item_col, config.value_col


def scan(config: Any) -> Any:
    """Validate the source's columns, then one streaming pass over its training rows."""
    from shared.dask_prep import scan_training
    from shared.streaming import require_source_columns

    if not config.path:
        raise UserError("--source parquet needs --path DIR (a directory of Parquet files)")
    uc, ic, vc = _columns(config)
    rule = split_rule(config)
    require_source_columns(config.path, [uc, ic, vc, rule.column], what="interactions Parquet", hint=HINT)
    stats = scan_training(config.path, split=rule, id_columns=(uc, ic), numeric_columns=(vc,),
                          scheduler=config.dask_scheduler)
    moments = stats.moments[vc]
    if moments.missing:
        raise UserError(f"interactions Parquet {config.path}: {moments.missing} training rating(s) in {vc!r} are "
                         "missing or not numbers; drop or fill those rows")
    low, high = config.rating_range
    if moments.minimum < low or moments.maximum > high:
        raise UserError(f"interactions Parquet {config.path}: training ratings span [{moments.minimum:g}, "
                         f"{moments.maximum:g}], outside the declared range [{low:g}, {high:g}]; fix the data or "
                         "pass the right --rating-range")
    return stats


def _rename(ds: Any, uc: str, ic: str) -> Any:
    """Feed the model's ``user``/``item`` inputs from the source's column names."""
    import tensorflow as tf

    if (uc, ic) == ("user", "item"):
        return ds
    return ds.map(lambda x, y: ({"user": x[uc], "item": x[ic]}, y), num_parallel_calls=tf.data.AUTOTUNE)


def _index_chunks(config: Any, stats: Any, part: str):  # noqa: ANN202 - generator of (u, i, r) arrays
    """(user index, item index, rating) arrays of one part, chunk by chunk (unknown ids -> 0)."""
    from shared.data.pipelines import iter_parquet_batches
    from shared.streaming import make_transform

    uc, ic, vc = _columns(config)
    transform = make_transform(stats, part=part, id_columns=[uc, ic])
    for frame in iter_parquet_batches(config.path, columns=list(dict.fromkeys([uc, ic, vc, stats.split.column])),
                                      chunk_rows=config.chunk_rows):
        frame = transform(frame)
        if len(frame):
            yield (frame[uc].to_numpy(np.int64), frame[ic].to_numpy(np.int64),
                   frame[vc].to_numpy(np.float64))


def fit_streaming_biases(config: Any, stats: Any, *, reg_user: float = 15.0, reg_item: float = 10.0,
                         epochs: int = 10) -> tuple[float, np.ndarray, np.ndarray]:
    """mu, user biases, item biases (index 0 = unknown = 0) by BiasBaseline's ALS, two passes per epoch.

    Same updates in the same order as the in-memory :class:`BiasBaseline` (users first, then
    items), so both give the same biases on the same training rows (tested).
    """
    uc, ic, vc = _columns(config)
    n_users, n_items = stats.indexes[uc].size, stats.indexes[ic].size
    mu = float(stats.moments[vc].mean)
    n_u = np.concatenate([[0.0], stats.indexes[uc].counts().to_numpy(np.float64)])
    n_i = np.concatenate([[0.0], stats.indexes[ic].counts().to_numpy(np.float64)])
    bu, bi = np.zeros(n_users), np.zeros(n_items)
    for _ in range(epochs):
        total = np.zeros(n_users)
        for u, i, r in _index_chunks(config, stats, "train"):
            total += np.bincount(u, r - mu - bi[i], minlength=n_users)
        bu = total / (reg_user + n_u)
        total = np.zeros(n_items)
        for u, i, r in _index_chunks(config, stats, "train"):
            total += np.bincount(i, r - mu - bu[u], minlength=n_items)
        bi = total / (reg_item + n_i)
    bu[0] = bi[0] = 0.0
    return mu, bu, bi


def _mf_for_workers(n_users: int, n_items: int, global_mean: float, n_factors: int, l2: float) -> Any:
    """The biased MF each Ray worker builds (batch-row lookups, L2 on the looked-up rows)."""
    from shared.models import build_matrix_factorization

    return build_matrix_factorization(n_users=n_users, n_items=n_items, n_factors=n_factors, l2=l2, use_bias=True,
                                      global_mean=global_mean, sparse_lookup=True, name="mf_biased")


def _worker_stream(path: str, stats: Any, columns: tuple[str, str, str], chunk_rows: int, shuffle_buffer: int,
                   seed: int, rank: int, world: int, per_worker_batch: int) -> Any:
    """Worker ``rank``'s training stream: only its own Parquet files (``shared.ray_train.shard``)."""
    from shared.data.pipelines import parquet_files
    from shared.ray_train import shard
    from shared.streaming import streaming_dataset

    uc, ic, vc = columns
    return _rename(streaming_dataset(path, stats, features=(uc, ic), target=vc, batch_size=per_worker_batch,
                                     chunk_rows=chunk_rows, shuffle_buffer=shuffle_buffer, seed=seed * 1000 + rank,
                                     files=shard(parquet_files(path), rank, world)), uc, ic)


def _squared_error(y_true: Any, y_pred: Any) -> Any:
    import tensorflow as tf

    return tf.square(tf.cast(y_true, y_pred.dtype) - y_pred)


def fit_mf_on_ray(config: Any, stats: Any, settings: Any, *, seed: int, out_dir: Any) -> tuple[Any, dict, dict]:
    """The MF trained by ``--workers`` Ray Train workers, each reading its own Parquet files.

    Synchronous data parallelism (``shared.ray_train.ray_fit``: the project's all-reduce loop under
    ``MultiWorkerMirroredStrategy``), Keras' Adam on the batch rows' gradients, ``--mf-epochs``
    epochs of ceil(training rows / ``--mf-batch-size``) global steps each. Returns the chief's model,
    its loss history and a summary of the workers (seconds, whether all ended with the same weights)."""
    import functools
    import math

    from shared.data.pipelines import parquet_files
    from shared.models._keras import keras
    from shared.ray_train import ray_fit

    uc, ic, vc = _columns(config)
    files = parquet_files(config.path)
    if len(files) < config.workers:  # checked here: inside a worker it would surface as a Ray traceback
        raise UserError(f"--path {config.path} holds {len(files)} Parquet file(s) for --workers {config.workers}; "
                        f"each worker reads its own files: write at least {config.workers} parts or lower --workers")
    build = functools.partial(_mf_for_workers, stats.indexes[uc].size, stats.indexes[ic].size,
                              float(stats.moments[vc].mean), settings.n_factors, settings.l2)
    data = functools.partial(_worker_stream, str(config.path), stats, (uc, ic, vc), config.chunk_rows,
                             config.shuffle_buffer, seed)
    steps = math.ceil(stats.rows_train / config.mf_batch_size)
    result = ray_fit(build, data, loss=_squared_error, global_batch_size=config.mf_batch_size,
                     epochs=config.mf_epochs, steps_per_epoch=steps, out_dir=out_dir, workers=config.workers,
                     address=config.ray_address, learning_rate=settings.learning_rate, seed=seed)
    model = keras().models.load_model(result.model_path, compile=False)
    digests = {w["weights_sha256"] for w in result.workers}
    summary = {"workers": len(result.workers), "address": config.ray_address or "local", "steps_per_epoch": steps,
               "global_batch_size": config.mf_batch_size, "seconds": round(result.seconds, 1),
               "seconds_per_epoch": [round(w["seconds_per_epoch"], 2) for w in result.workers],
               "same_final_weights": len(digests) == 1}
    if len(digests) != 1:
        log.warning("the %d Ray workers ended with different weights (%d digests)", len(result.workers), len(digests))
    log.info("MF on %d Ray workers: %d epochs x %d steps in %.1f s, loss %s", len(result.workers), config.mf_epochs,
             steps, result.seconds, [round(v, 4) for v in result.history["loss"]])
    return model, result.history, summary


def _zero_unknown_rows(model: Any) -> None:
    """Index 0 (ids never seen in training) predicts mu + the known side's bias: zero its rows."""
    for name in ("user_factors", "item_factors", "user_bias", "item_bias"):
        layer = model.get_layer(name)
        weights = np.asarray(layer.get_weights()[0]).copy()
        weights[0] = 0.0
        layer.set_weights([weights])


class _Trained:
    """A trained Keras MF (the Ray chief's) where the rest of this path expects an ``MFRegressor``."""

    def __init__(self, model: Any) -> None:
        self.model = model


class _ErrorSums:
    def __init__(self) -> None:
        self.n, self.se, self.ae = 0, 0.0, 0.0

    def add(self, y: np.ndarray, p: np.ndarray) -> None:
        d = np.asarray(p, np.float64) - np.asarray(y, np.float64)
        self.n += d.size
        self.se += float((d * d).sum())
        self.ae += float(np.abs(d).sum())

    def metrics(self) -> dict[str, float]:
        if not self.n:
            raise UserError("no held-out rows to evaluate; check the split (--split-column / --hash-split)")
        return {"rmse": float(np.sqrt(self.se / self.n)), "mae": self.ae / self.n}


def evaluate_streaming(config: Any, stats: Any, models: dict[str, Any], *, bias: tuple[float, np.ndarray, np.ndarray]
                       ) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """One pass over the held-out rows in file order: RMSE/MAE of every Keras model and of both baselines."""
    from shared.streaming import streaming_dataset

    uc, ic, vc = _columns(config)
    ds = _rename(streaming_dataset(config.path, stats, features=(uc, ic), target=vc, part="test", shuffle_buffer=0,
                                   batch_size=8192, chunk_rows=config.chunk_rows), uc, ic)
    mu, bu, bi = bias
    low, high = config.rating_range
    sums = {name: _ErrorSums() for name in [*models, "global_mean", "bias_baseline"]}
    counts = {"test_rows": 0, "test_rows_unseen_item": 0, "test_rows_unseen_user": 0}
    for x, y in ds:
        u, i, y = x["user"].numpy().astype(np.int64), x["item"].numpy().astype(np.int64), y.numpy()
        counts["test_rows"] += len(y)
        counts["test_rows_unseen_item"] += int((i == 0).sum())
        counts["test_rows_unseen_user"] += int((u == 0).sum())
        for name, model in models.items():
            sums[name].add(y, np.clip(np.asarray(model.predict_on_batch(x)).ravel(), low, high))
        sums["global_mean"].add(y, np.full(len(y), mu))
        sums["bias_baseline"].add(y, mu + bu[u] + bi[i])
    return {name: s.metrics() for name, s in sums.items()}, counts


def run_protocol_a_streaming(config: Any, run: Any, *, verbose: int = 0) -> CaseStudyResult:
    """Protocol A on a Parquet directory: statistics, training and evaluation all streamed."""
    from shared.artifacts import write_json
    from shared.streaming import fingerprint_source, streaming_dataset
    from shared.training import fit_keras, set_seed

    from . import plots
    from .models import MFRegressor, mf_settings

    started = time.perf_counter()
    uc, ic, vc = _columns(config)
    stats = scan(config)
    dataset = {**fingerprint_source(config.path), "streaming_stats": stats.to_dict()}
    run.write_data_info(dataset)
    log.info("parquet %s: %d training rows, %d held out, %d users, %d items known (%.1f s)", config.path,
             stats.rows_train, stats.rows_held_out, len(stats.indexes[uc]), len(stats.indexes[ic]), stats.seconds)
    timings: dict[str, float] = {"statistics_pass_s": round(stats.seconds, 2)}
    t0 = time.perf_counter()
    bias = fit_streaming_biases(config, stats)
    timings["bias_baseline_s"] = round(time.perf_counter() - t0, 2)

    settings = mf_settings(config)
    seeds = [config.seed + j for j in range(config.seeds)]
    per_seed, first = [], None
    t0 = time.perf_counter()
    ray_runs = []
    for seed in seeds:
        set_seed(seed)
        if config.distribute == "ray":
            trained, history, summary = fit_mf_on_ray(config, stats, settings, seed=seed,
                                                      out_dir=run.path / "ray" / f"seed{seed}")
            model = _Trained(trained)
            ray_runs.append({"seed": seed, **summary})
        else:
            model = MFRegressor(n_users=stats.indexes[uc].size, n_items=stats.indexes[ic].size,
                                global_mean=stats.moments[vc].mean, settings=settings)
            ds = _rename(streaming_dataset(config.path, stats, features=(uc, ic), target=vc,
                                           batch_size=config.mf_batch_size, chunk_rows=config.chunk_rows,
                                           shuffle_buffer=config.shuffle_buffer, seed=seed), uc, ic)
            history = fit_keras(model.model, ds, epochs=config.mf_epochs, verbose=verbose,
                                shuffle=False)  # the stream shuffles in its bounded buffer
        _zero_unknown_rows(model.model)
        per_seed.append((model, history))
        if first is None:
            first = (model, history)
    timings["mf_training_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    models = {f"mf_biased@{seed}": m.model for seed, (m, _) in zip(seeds, per_seed)}
    metrics, counts = evaluate_streaming(config, stats, models, bias=bias)
    timings["evaluation_pass_s"] = round(time.perf_counter() - t0, 2)

    result = CaseStudyResult(app="recommender", protocol=f"A streamed from Parquet: {stats.split.describe()}",
                             dataset={k: v for k, v in dataset.items() if k != "streaming_stats"})
    result.add("global_mean", "baseline", metrics["global_mean"], note="training mean from the streaming pass")
    result.add("bias_baseline", "baseline", metrics["bias_baseline"],
               note="user + item biases, ALS (reg_u 15, reg_i 10, 10 epochs), two streaming passes per epoch")
    mean, std = mean_and_std([metrics[name] for name in models])
    trainer = (f"{config.workers} Ray Train workers (own Parquet files each), Keras Adam" if config.distribute == "ray"
               else settings.optimizer)
    result.add("mf_biased", "deep", mean, seeds=seeds, std=std,
               note=f"{config.mf_factors} factors, {config.mf_epochs} epochs from the stream (no early stopping on "
                    f"this path), {trainer} lr {settings.learning_rate:g}; test rows with unseen items use "
                    "mu + b_u")
    result.extra.update({
        "source": "parquet", "path": str(config.path),
        "split": stats.split.to_dict(), "train_rows": stats.rows_train, **counts,
        "statistics": "id maps and the rating mean from one Dask DataFrame pass over the training rows only",
        "dask_scheduler": config.dask_scheduler or "local (threads)",
        "stream": {"chunk_rows": config.chunk_rows, "shuffle_buffer": config.shuffle_buffer,
                   "batch_size": config.mf_batch_size},
        "mf_optimizer": {"name": "adam (Keras, all-reduced)" if config.distribute == "ray" else settings.optimizer,
                         "learning_rate": settings.learning_rate, "l2": settings.l2},
        "distribute": {"mode": config.distribute, "ray": ray_runs} if config.distribute == "ray" else {"mode": "none"},
        "per_seed": [metrics[name] for name in models], "skipped_on_parquet_path": SKIPPED,
        "timings": {**timings, "total_s": round(time.perf_counter() - started, 2)}})

    model, history = first
    run.save_model(model.model, "mf_biased_parquet")
    run.write_history(history, "history_mf_parquet")
    write_json(run.path / "id_maps.json", {"user": stats.indexes[uc].to_dict(), "item": stats.indexes[ic].to_dict(),
                                           "columns": {"user": uc, "item": ic, "rating": vc},
                                           "global_mean": stats.moments[vc].mean})
    plots.learning_curves(run, history, name="learning_curves_mf_parquet",
                          title="MF trained from the Parquet stream: training loss")
    return result
