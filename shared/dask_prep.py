"""The statistics pass of ``--source parquet`` on Dask DataFrame: training rows only, one graph.

    split = SplitRule("split", train_values=("train",))
    stats = scan_training("data/recommender_x100", split=split, id_columns=("user", "item"),
                          numeric_columns=("rating",))                      # a LocalCluster here
    stats = scan_training(path, split=split, text_column="text", label_column="label",
                          scheduler="tcp://scheduler:8786")                 # a running Dask cluster

Dask reads the Parquet parts (only the needed columns, one partition per file or row-group
block), :class:`shared.streaming.SplitRule` drops the held-out rows partition by partition, and
Dask's own reductions give the id counts (``value_counts``), the moments (``count``/``mean``/
``var``, Chan's parallel form inside Dask, on values shifted by a constant near them so a large
offset such as a timestamp keeps its precision) and the label counts, all from one ``dask.compute`` (the read is shared). The text
vocabulary is Keras' own ``TextVectorization.adapt()`` over a stream of the training texts,
computed by Dask a few partitions ahead (:mod:`shared.keras_vocabulary`).

By default a ``distributed.LocalCluster`` with threads in this process (``processes=False``):
the Parquet reader, pandas hashing and the reductions release the GIL, and in-process threads
hand partitions to Keras without pickling them or starting worker processes (which would cost
their own TensorFlow-free interpreters and memory on a small machine). With a scheduler address
the workers must see the same ``source`` path (a shared file system or an object store URL), and
``preprocess`` is pickled to them.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import UserError
from .streaming import ColumnMoments, SplitRule, StreamingIndex, TrainingStats

log = logging.getLogger(__name__)

#: seconds to wait for a remote scheduler before giving up with a UserError
CONNECT_TIMEOUT_S = 10.0
#: training texts per batch handed to Keras' adapt()
TEXT_BATCH = 4096
#: text partitions Dask computes ahead of the one Keras is counting
PARTITIONS_AHEAD = 2
# keep object strings (not pyarrow strings): the id maps then hold the same ids, of the same dtype,
# as the pandas frames streaming_dataset later maps with them
_DASK_CONFIG = {"dataframe.convert-string": False}


@contextlib.contextmanager
def _quiet_distributed(level: int = logging.WARNING) -> Iterator[None]:
    """distributed logs every scheduler/worker start and stop at INFO to its own stderr handler: keep warnings."""
    logger = logging.getLogger("distributed")
    old = logger.level
    logger.setLevel(max(level, old))
    try:
        yield
    finally:
        logger.setLevel(old)


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, *, connect_timeout: float = CONNECT_TIMEOUT_S) -> Iterator[Any]:
    """A ``distributed.Client``: of a threaded in-process LocalCluster, or of ``scheduler``; closed on exit."""
    from distributed import Client, LocalCluster

    with _quiet_distributed():
        if not scheduler:
            # threads in this process: no worker processes to start, partitions reach Keras unpickled
            with LocalCluster(processes=False, dashboard_address=None) as cluster, \
                    Client(cluster, set_as_default=False) as client:
                yield client
            return
        with _remote_client(scheduler, connect_timeout) as client:
            yield client


def _recording_client_class(opened: list[Any]) -> type:
    """``distributed.Client`` that appends each instance to ``opened`` before it connects."""
    from distributed import Client

    class _RecordedClient(Client):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            opened.append(self)
            super().__init__(*args, **kwargs)

    return _RecordedClient


@contextlib.contextmanager
def _remote_client(scheduler: str, connect_timeout: float) -> Iterator[Any]:
    opened: list[Any] = []
    try:
        client = _recording_client_class(opened)(scheduler, timeout=connect_timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        # A Client whose address is refused can stay "connecting", its loop runner alive. Left to the
        # garbage collector, its __del__ -> close() takes distributed's class-wide LoopRunner lock;
        # a collection inside a later LocalCluster start, which holds that lock, then deadlocks
        # (CI: test_clear_errors hung for over an hour). So it is closed here, outside that lock.
        for failed in opened:
            with contextlib.suppress(Exception):
                failed.close()
        raise UserError(f"cannot reach the Dask scheduler at {scheduler!r} ({exc}); start one (`dask scheduler`, "
                        "plus `dask worker ADDRESS` on each machine) and pass its address, e.g. --dask-scheduler "
                        "tcp://HOST:8786, or leave --dask-scheduler out for a local cluster") from exc
    try:
        yield client
    finally:
        client.close()


def training_frame(source: str | Path, split: SplitRule, columns: Sequence[str]) -> tuple[Any, Any]:
    """(all rows, training rows) of ``columns`` of the Parquet ``source`` as lazy Dask DataFrames."""
    import dask
    import dask.dataframe as dd

    from shared.data.pipelines import parquet_files

    columns = list(dict.fromkeys([split.column, *columns]))
    with dask.config.set(_DASK_CONFIG):
        frame = dd.read_parquet([str(p) for p in parquet_files(source)], columns=columns)
        train = frame.map_partitions(lambda part: part[split.is_train(part)], meta=frame._meta)
    return frame, train


def iter_partitions(frame: Any, client: Any, *, ahead: int = PARTITIONS_AHEAD) -> Iterator[Any]:
    """The partitions of a Dask collection in order, each computed on the cluster, ``ahead`` in flight."""
    pending: collections.deque[Any] = collections.deque()
    for part in frame.to_delayed():
        pending.append(client.compute(part))
        if len(pending) > ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _finite(values: pd.Series) -> pd.Series:
    """float64 values with non-numbers and infinities as NaN (Dask's reductions then skip them)."""
    numbers = pd.to_numeric(values, errors="coerce").astype(np.float64)
    return numbers.where(np.isfinite(numbers))


def _shift(source: str | Path, column: str) -> float:
    """A constant near ``column``'s values (the first row group's minimum, from the Parquet footer).

    Dask's variance (Chan's merge) takes each partition's mean from its raw sum, so a large common
    offset (timestamps, 1e6 + ratings) costs digits in the between-partition term; the moments are
    computed on ``value - shift`` instead. The shift only moves rounding: the moments do not
    depend on it, so it may come from any row. 0 when the footer has no statistics.
    """
    import pyarrow.parquet as pq

    from shared.data.pipelines import parquet_files

    meta = pq.ParquetFile(parquet_files(source)[0]).metadata
    if meta.num_row_groups == 0 or column not in meta.schema.names:
        return 0.0
    stats = meta.row_group(0).column(meta.schema.names.index(column)).statistics
    try:
        shift = float(stats.min) if stats is not None and stats.has_min_max else 0.0
    except (TypeError, ValueError):        # a non-numeric column: _finite makes it all missing anyway
        return 0.0
    return shift if np.isfinite(shift) else 0.0


def _texts(values: pd.Series) -> np.ndarray:
    return np.asarray(["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values],
                      dtype=object)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def scan_training(source: str | Path, *, split: SplitRule, id_columns: Sequence[str] = (),
                  numeric_columns: Sequence[str] = (), text_column: str | None = None,
                  label_column: str | None = None, min_id_count: int = 1,
                  standardize: str | None = "lower_and_strip_punctuation", ngrams: int | None = None,
                  preprocess: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
                  scheduler: str | None = None, client: Any = None) -> TrainingStats:
    """The statistics of the training rows of ``source`` (held-out rows dropped before anything is counted).

    ``preprocess`` (stateless, row-preserving, e.g. a tokenizer) runs on each partition of the
    training ``text_column`` before Keras adapts the vocabulary; pass the same function to
    :func:`shared.streaming.streaming_dataset` so training sees what was counted. ``client`` reuses
    an open ``distributed.Client``; otherwise one is opened (``scheduler`` or a LocalCluster) and closed.
    """
    if not id_columns and not numeric_columns and text_column is None and label_column is None:
        raise UserError("scan_training needs something to compute: pass id_columns, numeric_columns, "
                         "text_column or label_column")
    if preprocess is not None and text_column is None:
        raise UserError("preprocess applies to the text column: pass text_column= with it")
    if isinstance(min_id_count, bool) or not isinstance(min_id_count, int) or min_id_count < 1:
        raise UserError(f"min_id_count must be an int >= 1, got {min_id_count!r}")
    if client is None:
        started = time.perf_counter()
        with dask_client(scheduler) as opened:
            stats = scan_training(source, split=split, id_columns=id_columns, numeric_columns=numeric_columns,
                                  text_column=text_column, label_column=label_column, min_id_count=min_id_count,
                                  standardize=standardize, ngrams=ngrams, preprocess=preprocess, client=opened)
        stats.seconds = time.perf_counter() - started      # the cluster's start and stop included
        return stats
    import dask

    started = time.perf_counter()
    frame, train = training_frame(source, split, [*id_columns, *numeric_columns,
                                                  *([label_column] if label_column else [])])
    wanted: dict[str, Any] = {"rows": frame[split.column].size, "train": train[split.column].size}
    for column in id_columns:
        wanted[f"ids:{column}"] = train[column].value_counts(sort=False)
        wanted[f"missing:{column}"] = train[column].isna().sum()
    shifts = {column: _shift(source, column) for column in numeric_columns}
    for column in numeric_columns:
        values = train[column].map_partitions(_finite, meta=(column, np.float64))
        shifted = values - shifts[column]
        wanted[f"moments:{column}"] = [values.count(), shifted.mean(), shifted.var(ddof=0), values.min(),
                                       values.max()]
    if label_column:
        wanted["labels"] = train[label_column].value_counts()
    [got] = dask.compute(wanted, scheduler=client)       # one graph: the parts are read once
    n_train, n_rows = int(got["train"]), int(got["rows"])
    if n_train == 0:
        raise UserError(f"no training rows in {source} under {split}; check the split column and its values")
    stats = TrainingStats(split=split, rows_train=n_train, rows_held_out=n_rows - n_train, chunks=frame.npartitions,
                          text_column=text_column)
    for column in id_columns:
        if got[f"missing:{column}"]:
            raise UserError(f"{column}: {int(got[f'missing:{column}'])} missing id(s) in the training rows; "
                             "drop or fill them before indexing")
        stats.indexes[column] = StreamingIndex.from_counts(column, got[f"ids:{column}"], min_count=min_id_count)
    for column in numeric_columns:
        count, mean, variance, low, high = got[f"moments:{column}"]
        stats.moments[column] = ColumnMoments(column, count=int(count), mean=shifts[column] + float(mean),
                                              variance=float(variance),
                                              minimum=float(low), maximum=float(high), missing=n_train - int(count))
    if label_column:
        stats.label_counts = {_plain(k): int(v) for k, v in got["labels"].items()}
    if text_column is not None:
        stats.vocabulary = _adapt_text(source, split, text_column, client=client, standardize=standardize,
                                       ngrams=ngrams, preprocess=preprocess)
    stats.seconds = time.perf_counter() - started
    log.info("Dask statistics pass over %s: %d training rows, %d held out, %d partitions, %.1f s", source,
             stats.rows_train, stats.rows_held_out, stats.chunks, stats.seconds)
    return stats


def _adapt_text(source: str | Path, split: SplitRule, column: str, *, client: Any, standardize: str | None,
                ngrams: int | None, preprocess: Callable[[pd.DataFrame], pd.DataFrame] | None) -> Any:
    """Keras adapt() over the training texts, streamed partition by partition from the cluster."""
    from .keras_vocabulary import adapt_vocabulary

    _, train = training_frame(source, split, [column])

    def texts(part: pd.DataFrame) -> pd.Series:
        if preprocess is not None and len(part):
            part = preprocess(part)
        return pd.Series(_texts(part[column]), index=part.index, dtype=object, name=column)

    partitions = train.map_partitions(texts, meta=(column, object))

    def batches() -> Iterator[np.ndarray]:
        for k, part in enumerate(iter_partitions(partitions, client)):
            log.debug("text partition %d: %d training texts", k, len(part))
            values = part.to_numpy(dtype=object)
            for start in range(0, len(values), TEXT_BATCH):
                yield values[start:start + TEXT_BATCH]

    return adapt_vocabulary(batches(), standardize=standardize, ngrams=ngrams)
