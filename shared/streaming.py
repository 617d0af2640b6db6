"""Out-of-core preprocessing of a Parquet directory: the split rule, the fitted maps, the training stream.

Data ten or a hundred times larger than memory is never loaded whole. The statistics pass runs on
Dask DataFrame (:func:`shared.dask_prep.scan_training`); this module holds what no library does
for us and what the stream needs:

    split = SplitRule("split", train_values=("train",))         # or SplitRule("row_id", test_fraction=0.2)
    stats = scan_training("data/recommender_x100", split=split, id_columns=("user", "item"),
                          numeric_columns=("rating",))           # shared.dask_prep
    ds = streaming_dataset("data/recommender_x100", stats, features=("user", "item"), target="rating",
                           batch_size=512)                      # ids mapped, shuffled in a bounded buffer
    model = build_matrix_factorization(n_users=stats.indexes["user"].size, ...,
                                       global_mean=stats.moments["rating"].mean)

* :class:`SplitRule` decides, row by row from one column, which rows are training rows (a split
  column, or a stable hash of a row/user id), so every partition is split without seeing the
  others and test rows never reach the statistics.
* :class:`StreamingIndex` — id-to-index map of the ids seen in training; index 0 is reserved for
  ids never seen (test-only users/items), so lookups never fail.
* :class:`ColumnMoments` — count, mean and variance of a numeric column (computed by Dask), for
  standard scalers and a rating model's global mean.
* :class:`TrainingStats` — all of it, plus the label counts and the Keras-adapted vocabulary
  (:class:`shared.keras_vocabulary.Vocabulary`).
* :func:`streaming_dataset` — the ``tf.data`` stream of one part with those maps applied.

TensorFlow and Keras are imported inside functions only.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shared.data.pipelines import iter_parquet_batches, parquet_dataset
from .errors import UserError

from .options import option

STREAM_GROUP = "streaming (--source parquet)"

PARTS = ("train", "test")
_HASH_BUCKETS = 1_000_000


# --------------------------------------------------------------------------------------------- split
@dataclasses.dataclass(frozen=True)
class SplitRule:
    """Which rows are training rows, decided from one column of each row alone.

    * ``train_values`` given: the column is a split label; rows whose value is in
      ``train_values`` are training rows, every other row is held out ("test").
    * otherwise: a stable hash of the column's value (a row id for a random row split, a user
      id for a split by user) puts a ``test_fraction`` of the values in the test part. The hash
      (pandas' ``hash_array``) does not depend on the process, the chunk size or the file order;
      ``salt`` draws a different split.
    """

    column: str
    test_fraction: float = 0.2
    train_values: tuple[Any, ...] | None = None
    salt: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.column, str) or not self.column:
            raise UserError(f"SplitRule.column must be a column name, got {self.column!r}")
        if self.train_values is not None:
            values = tuple(self.train_values) if not isinstance(self.train_values, str) else (self.train_values,)
            if not values:
                raise UserError("train_values must name at least one value, e.g. ('train',)")
            object.__setattr__(self, "train_values", values)
        elif not 0.0 <= float(self.test_fraction) < 1.0:
            raise UserError(f"test_fraction must be in [0, 1), got {self.test_fraction}; e.g. 0.2 holds out 20 %")

    def is_train(self, frame: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the training rows of ``frame``."""
        if self.column not in frame.columns:
            raise UserError(f"split column {self.column!r} is missing; found {list(frame.columns)}; "
                             "pass the column that decides the split (a split label or a row/user id)")
        values = frame[self.column]
        if self.train_values is not None:
            return values.isin(self.train_values).to_numpy()
        return hash_bucket(values.to_numpy(), salt=self.salt) >= self.test_fraction

    def mask(self, frame: pd.DataFrame, part: str) -> np.ndarray:
        """Mask of the rows of ``part`` ("train" or "test") in ``frame``."""
        if part not in PARTS:
            raise UserError(f"part must be one of {list(PARTS)}, got {part!r}")
        train = self.is_train(frame)
        return train if part == "train" else ~train

    def describe(self) -> str:
        """One line for a results table: which rows train."""
        if self.train_values is not None:
            values = ", ".join(map(repr, self.train_values))
            return f"rows with {self.column} in ({values}) train, the rest test"
        return f"hash of {self.column}: {self.test_fraction:.0%} test" + (f" (salt {self.salt})" if self.salt else "")

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "test_fraction": self.test_fraction, "salt": self.salt,
                "train_values": list(self.train_values) if self.train_values is not None else None}


def hash_bucket(values: np.ndarray, *, salt: int = 0) -> np.ndarray:
    """A stable pseudo-uniform number in [0, 1) per value (same value ⇒ same number, in any process)."""
    values = np.asarray(values)
    if values.dtype.kind in "OUS":
        values = values.astype(object)
    hashed = pd.util.hash_array(values, categorize=False)
    if salt:
        hashed = pd.util.hash_array(hashed ^ np.uint64(pd.util.hash_array(np.array([salt], np.int64))[0]))
    return (hashed % np.uint64(_HASH_BUCKETS)).astype(np.float64) / _HASH_BUCKETS


# ------------------------------------------------------------------------------------------ id index
class StreamingIndex:
    """Id-to-index map of the ids seen in the training rows; index 0 is reserved for unknown ids.

    Built from the training occurrences of each id (:meth:`from_counts`, e.g. a Dask
    ``value_counts``). Known ids get 1..n in sorted order (so the map does not depend on the
    partitioning or the order of the files); ``size`` is n + 1, the ``input_dim`` of an
    embedding over this index. ``min_count`` > 1 sends rare ids to the unknown index too.
    """

    def __init__(self, name: str = "id", *, min_count: int = 1) -> None:
        if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
            raise UserError(f"min_count must be an int >= 1, got {min_count!r}")
        self.name = name
        self.min_count = min_count
        self._counts: pd.Series = pd.Series(dtype=np.int64)
        self._index: pd.Index | None = None

    @classmethod
    def from_counts(cls, name: str, counts: pd.Series, *, min_count: int = 1) -> "StreamingIndex":
        """The index of ids with their training counts (a Series: id -> occurrences; no missing ids)."""
        index = cls(name, min_count=min_count)
        index._counts = counts.astype(np.int64)
        return index

    @property
    def ids(self) -> pd.Index:
        """The known ids in index order (id ``ids[k]`` has index ``k + 1``)."""
        if self._index is None:
            kept = self._counts[self._counts >= self.min_count].index
            try:
                kept = kept.sort_values()
            except TypeError:  # mixed types: order by their text
                kept = pd.Index(sorted(kept, key=str))
            self._index = pd.Index(kept)
        return self._index

    @property
    def size(self) -> int:
        """Number of indices including the reserved unknown index 0."""
        return len(self.ids) + 1

    def counts(self) -> pd.Series:
        """Training occurrences of each known id, in index order."""
        return self._counts.reindex(self.ids).astype(np.int64)

    def lookup(self, values: Any) -> np.ndarray:
        """Indices (int32) of ``values``; ids not seen in training (or rarer than min_count) give 0."""
        return (self.ids.get_indexer(pd.Index(np.asarray(values))) + 1).astype(np.int32)

    def to_dict(self) -> dict[str, Any]:
        ids = self.ids
        return {"name": self.name, "min_count": self.min_count, "unknown_index": 0,
                "ids": [v.item() if hasattr(v, "item") else v for v in ids]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "StreamingIndex":
        index = cls(data.get("name", "id"), min_count=1)
        index._counts = pd.Series(np.ones(len(data["ids"]), np.int64), index=pd.Index(data["ids"]))
        return index

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"StreamingIndex({self.name!r}, known={len(self)}, size={self.size})"


# ------------------------------------------------------------------------------------------ moments
@dataclasses.dataclass(frozen=True)
class ColumnMoments:
    """Count, mean and (population, ddof=0 like scikit-learn's ``StandardScaler``) variance of a column.

    ``missing`` counts the training values that were missing or not finite (skipped).
    """

    name: str
    count: int = 0
    mean: float = float("nan")
    variance: float = float("nan")
    minimum: float = float("nan")
    maximum: float = float("nan")
    missing: int = 0

    @property
    def std(self) -> float:
        return float(np.sqrt(self.variance))

    def transform(self, values: Any) -> np.ndarray:
        """Standardized values (float32); a constant column is only centred."""
        if not self.count:
            raise UserError(f"{self.name}: no training values were seen; run scan_training first")
        scale = self.std if self.std > 0 else 1.0
        return ((np.asarray(values, dtype=np.float64) - self.mean) / scale).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "count": self.count, "mean": self.mean, "variance": self.variance,
                "std": self.std, "min": self.minimum, "max": self.maximum, "missing": self.missing}


# ----------------------------------------------------------------------------------- the one pass
@dataclasses.dataclass
class TrainingStats:
    """Everything the statistics pass learned from the training rows (``chunks``: the partitions read)."""

    split: SplitRule
    rows_train: int = 0
    rows_held_out: int = 0
    chunks: int = 0
    seconds: float = 0.0
    indexes: dict[str, StreamingIndex] = dataclasses.field(default_factory=dict)
    moments: dict[str, ColumnMoments] = dataclasses.field(default_factory=dict)
    vocabulary: Any = None                  # shared.keras_vocabulary.Vocabulary of text_column
    text_column: str | None = None
    label_counts: dict[Any, int] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Aggregates for a run's data.json (id maps summarized by their sizes)."""
        return {"split": self.split.to_dict(), "rows_train": self.rows_train, "rows_held_out": self.rows_held_out,
                "chunks": self.chunks, "seconds": round(self.seconds, 3),
                "indexes": {k: {"known": len(v), "size": v.size} for k, v in self.indexes.items()},
                "moments": {k: v.to_dict() for k, v in self.moments.items()},
                "tokens": self.vocabulary.to_dict() if self.vocabulary is not None else None,
                "text_column": self.text_column,
                "label_counts": {str(k): v for k, v in sorted(self.label_counts.items(), key=lambda kv: str(kv[0]))}}

    def write_json(self, path: str | Path) -> Path:
        from shared.artifacts import write_json

        return write_json(Path(path), self.to_dict())


# --------------------------------------------------------------------------------- tf.data stream
def make_transform(stats: TrainingStats, *, part: str = "train", id_columns: Sequence[str] | None = None,
                   scale_columns: Sequence[str] = (), placeholder: str | None = None,
                   preprocess: Callable[[pd.DataFrame], pd.DataFrame] | None = None
                   ) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Per-chunk transform: keep the rows of ``part``, map ids to indices, standardize columns.

    ``id_columns`` defaults to every column indexed by ``stats``; ``scale_columns`` must have
    moments in ``stats``. ``placeholder`` names a column (the split column when the model does
    not take it) replaced by a cheap boolean so it costs nothing downstream. ``preprocess`` runs
    on the kept rows first (the same stateless function given to :func:`scan_training`).
    """
    split = stats.split
    id_columns = list(stats.indexes) if id_columns is None else list(id_columns)
    missing = [c for c in id_columns if c not in stats.indexes] + [c for c in scale_columns if c not in stats.moments]
    if missing:
        raise UserError(f"no statistics for column(s) {missing}; pass them to scan_training "
                         "(id_columns= / numeric_columns=) first")
    if part not in PARTS:
        raise UserError(f"part must be one of {list(PARTS)}, got {part!r}")

    def transform(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame[split.mask(frame, part)].copy()
        if preprocess is not None and len(frame):
            frame = preprocess(frame)
        for column in id_columns:
            if column in frame.columns:
                frame[column] = stats.indexes[column].lookup(frame[column].to_numpy())
        for column in scale_columns:
            if column in frame.columns:
                frame[column] = stats.moments[column].transform(frame[column].to_numpy())
        if placeholder is not None and placeholder in frame.columns:
            frame[placeholder] = np.ones(len(frame), dtype=bool)
        return frame

    return transform


ENGINES = ("numpy", "tf.data")


def streaming_dataset(source: str | Path, stats: TrainingStats, *, features: Sequence[str], target: str | None = None,
                      part: str = "train", scale_columns: Sequence[str] = (), batch_size: int = 256,
                      chunk_rows: int = 65536, shuffle_buffer: int = 50000, seed: int = 0,
                      single_input: bool = False, target_dtype: str = "float32", engine: str = "numpy",
                      preprocess: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
                      files: Sequence[str | Path] | None = None) -> Any:
    """Streaming ``tf.data`` dataset of one part of a Parquet directory, in bounded memory.

    Chunks are read lazily, the fitted maps and scalers of ``stats`` applied per chunk (ids →
    int32 indices, unknown → 0; ``scale_columns`` standardized), rows shuffled within a bounded
    buffer of ``shuffle_buffer`` rows (0 = file order; use 0 for evaluation), batched and
    prefetched. Memory depends on ``chunk_rows``, ``shuffle_buffer`` and the model, never on the
    number of rows. Every row of ``part`` appears exactly once per pass (epoch); the dataset's
    cardinality is asserted from ``stats``, so Keras knows the epoch length and a file changed
    since the scan fails loudly. Each epoch reshuffles (deterministically from ``seed``).

    ``engine``: "numpy" (default) shuffles and batches whole NumPy blocks in a generator (about
    5× less CPU per row than element-wise ``tf.data`` shuffling, measured in docs/big_data.md);
    "tf.data" uses :func:`shared.data.pipelines.parquet_dataset` (unbatch, ``Dataset.shuffle``,
    batch) with the same per-chunk transform.

    ``single_input=True`` (one feature) yields the feature as an (n, 1) tensor, the shape
    ``build_text_classifier`` takes raw texts in; otherwise ``x`` is a dict of (n,) tensors.
    ``preprocess``: a stateless per-chunk function run on the part's rows before the maps (e.g. the
    tokenizer also given to :func:`scan_training`); it must keep the columns and their dtypes
    (the dataset's dtypes come from the Parquet schema, or set ``target_dtype``).
    ``files``: read only these Parquet files of ``source`` (one worker's shard, ``shared.ray_train.shard``;
    numpy engine). A shard's row count is not in ``stats``, so its cardinality is not asserted: the
    multi-worker loop fixes the steps of an epoch instead.
    """
    import tensorflow as tf

    features = list(features)
    if not features:
        raise UserError("features must name at least one column")
    if single_input and len(features) != 1:
        raise UserError(f"single_input needs exactly one feature, got {features}")
    if engine not in ENGINES:
        raise UserError(f"engine must be one of {list(ENGINES)}, got {engine!r}")
    for name, value in (("batch_size", batch_size), ("chunk_rows", chunk_rows)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UserError(f"{name} must be an int >= 1, got {value!r}")
    if isinstance(shuffle_buffer, bool) or not isinstance(shuffle_buffer, int) or shuffle_buffer < 0:
        raise UserError(f"shuffle_buffer must be an int >= 0 (0 = no shuffling), got {shuffle_buffer!r}")
    if files is not None and engine != "numpy":
        raise UserError("files (a worker's shard) needs engine='numpy'")
    read_from = source if files is None else list(files)
    split_col = stats.split.column
    carried = split_col not in features and split_col != target
    transform = make_transform(stats, part=part, id_columns=[c for c in features if c in stats.indexes],
                               scale_columns=scale_columns, placeholder=split_col if carried else None,
                               preprocess=preprocess)
    dtypes = _column_dtypes(source, [*features, *([target] if target else [])])
    dtypes.update({c: tf.int32 for c in features if c in stats.indexes})
    dtypes.update({c: tf.float32 for c in scale_columns})
    if target is not None:
        dtypes[target] = tf.dtypes.as_dtype(target_dtype)
    rows = stats.rows_train if part == "train" else stats.rows_held_out
    if engine == "tf.data":
        read = features + ([split_col] if carried else [])
        if carried:
            dtypes[split_col] = tf.bool
        ds = parquet_dataset(source, features=read, target=target, batch_size=batch_size, chunk_rows=chunk_rows,
                             shuffle_buffer=shuffle_buffer, seed=seed, transform=transform, dtypes=dtypes)
        if carried or single_input:
            def select(x: Any, *y: Any) -> Any:
                out = tf.reshape(x[features[0]], (-1, 1)) if single_input else {c: x[c] for c in features}
                return (out, *y) if y else out

            ds = ds.map(select, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        read = list(dict.fromkeys([*features, *([target] if target else []), split_col]))
        np_dtypes = {c: dtypes[c].as_numpy_dtype if dtypes[c] != tf.string else object for c in dtypes}
        epochs = iter(range(1 << 62))

        def batches() -> Any:
            rng = np.random.default_rng([seed, next(epochs)])
            frames = (transform(f) for f in iter_parquet_batches(read_from, columns=read, chunk_rows=chunk_rows))
            for block in _shuffled_blocks(frames, [*features, *([target] if target else [])], np_dtypes,
                                          batch_size=batch_size, buffer=shuffle_buffer, rng=rng):
                x = block[features[0]].reshape(-1, 1) if single_input else {c: block[c] for c in features}
                yield x if target is None else (x, block[target])

        spec_x: Any = (tf.TensorSpec((None, 1), dtypes[features[0]]) if single_input
                       else {c: tf.TensorSpec((None,), dtypes[c]) for c in features})
        spec = spec_x if target is None else (spec_x, tf.TensorSpec((None,), dtypes[target]))
        ds = tf.data.Dataset.from_generator(batches, output_signature=spec)
    if files is None:
        ds = ds.apply(tf.data.experimental.assert_cardinality(-(-rows // batch_size)))
    return ds.prefetch(tf.data.AUTOTUNE)


def _column_dtypes(source: str | Path, columns: Sequence[str]) -> dict[str, Any]:
    """TensorFlow dtypes of Parquet columns (int → int64, float → float32, bool, else string)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import tensorflow as tf

    from shared.data.pipelines import parquet_files

    schema = pq.read_schema(parquet_files(source)[0])
    missing = [c for c in columns if c not in schema.names]
    if missing:
        raise UserError(f"{source} lacks column(s) {missing}; found {schema.names}")
    out = {}
    for c in columns:
        kind = schema.field(c).type
        out[c] = (tf.int64 if pa.types.is_integer(kind) else tf.float32 if pa.types.is_floating(kind)
                  else tf.bool if pa.types.is_boolean(kind) else tf.string)
    return out


def _shuffled_blocks(frames: Iterable[pd.DataFrame], columns: Sequence[str], dtypes: Mapping[str, Any], *,
                     batch_size: int, buffer: int, rng: np.random.Generator) -> Iterable[dict[str, np.ndarray]]:
    """Batches of ``batch_size`` rows (the last may be smaller) from a stream of frames.

    With ``buffer`` > 0, at least ``buffer`` rows are held back: each time the pool reaches
    ``buffer + batch_size`` rows it is permuted and the rows beyond ``buffer`` go out as whole
    batches, so a row can travel far from its file position while memory stays bounded by
    ``buffer`` + one chunk. ``buffer == 0`` keeps the file order.
    """
    pool: dict[str, np.ndarray] | None = None
    for frame in frames:
        arrays = {c: frame[c].to_numpy(dtype=dtypes[c]) for c in columns}
        pool = arrays if pool is None else {c: np.concatenate([pool[c], arrays[c]]) for c in columns}
        n = len(pool[columns[0]])
        if n < buffer + batch_size:
            continue
        if buffer:
            order = rng.permutation(n)
            pool = {c: v[order] for c, v in pool.items()}
        ready = (n - buffer) // batch_size * batch_size
        for start in range(0, ready, batch_size):
            yield {c: v[start:start + batch_size] for c, v in pool.items()}
        pool = {c: v[ready:] for c, v in pool.items()}
    if pool is not None and len(pool[columns[0]]):
        n = len(pool[columns[0]])
        if buffer:
            order = rng.permutation(n)
            pool = {c: v[order] for c, v in pool.items()}
        for start in range(0, n, batch_size):
            yield {c: v[start:start + batch_size] for c, v in pool.items()}


def read_manifest(source: str | Path) -> dict[str, Any]:
    """The ``_manifest.json`` a generator wrote beside its part files, or {} when there is none."""
    path = Path(source) / "_manifest.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def fingerprint_source(source: str | Path, *, name: str | None = None) -> dict[str, Any]:
    """Aggregates that identify a Parquet file/directory without loading it: files, rows, columns, SHA-256.

    The hash covers the bytes of every part file in sorted order (read 1 MB at a time), so two runs
    prove they read the same data; ``rows`` comes from the Parquet footers.
    """
    import hashlib

    import pyarrow.parquet as pq

    from shared.data.pipelines import parquet_files

    files = parquet_files(source)
    digest = hashlib.sha256()
    rows = 0
    for path in files:
        rows += pq.ParquetFile(path).metadata.num_rows
        digest.update(path.name.encode())
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return {"name": name or Path(source).name, "rows": int(rows), "files": len(files),
            "columns": list(pq.read_schema(files[0]).names), "bytes": int(sum(p.stat().st_size for p in files)),
            "fingerprint": f"sha256:{digest.hexdigest()}"}


# ------------------------------------------------------------------------- command-line options
@dataclasses.dataclass(frozen=True, kw_only=True)
class StreamOptions:
    """The options of an application's ``--source parquet`` path (split rule, chunk, shuffle buffer).

    Application configs inherit them (``class Config(RunOptions, StreamOptions)``); read them back
    with :func:`split_rule_from` and the ``chunk_rows`` / ``shuffle_buffer`` fields, check them with
    :func:`check_stream_arguments`. Defaults fit the output of ``data_scripts/generate_scale_data.py``
    (a ``split`` column holding "train"/"test").
    """

    split_column: str = option("split", group=STREAM_GROUP,
                               help="with --source parquet: column that labels each row's part; rows whose value is "
                                    "--train-value train, every other row is held out for testing")
    train_value: str = option("train", group=STREAM_GROUP, help="with --source parquet: the training label")
    hash_split: str | None = option(None, metavar="COLUMN", group=STREAM_GROUP,
                                    help="with --source parquet: split by a stable hash of this column instead (a "
                                         "row id for a random split, a user id for a split by user); see "
                                         "--test-fraction")
    test_fraction: float = option(0.2, group=STREAM_GROUP,
                                  help="with --hash-split: share of the hashed values held out for testing")
    chunk_rows: int = option(65536, group=STREAM_GROUP,
                             help="with --source parquet: rows read per chunk (memory is one chunk + the buffer)")
    shuffle_buffer: int = option(50000, group=STREAM_GROUP,
                                 help="with --source parquet: rows in the bounded shuffle buffer of the training "
                                      "stream")
    dask_scheduler: str | None = option(None, metavar="ADDRESS", group=STREAM_GROUP,
                                        help="with --source parquet: address of a running Dask scheduler (e.g. "
                                             "tcp://HOST:8786) for the statistics pass; its workers must see "
                                             "--path. Default: a local cluster of threads in this process")


DISTRIBUTE_GROUP = "distributed training (--source parquet)"
DISTRIBUTE_CHOICES = ("none", "ray")


@dataclasses.dataclass(frozen=True, kw_only=True)
class DistributeOptions:
    """``--distribute ray --workers N [--ray-address ADDRESS]``: train the deep model of the
    ``--source parquet`` path on Ray Train workers (:func:`shared.ray_train.ray_fit`), each reading
    its own share of the Parquet files. Check them with :func:`check_distribute_arguments`."""

    distribute: str = option("none", choices=list(DISTRIBUTE_CHOICES), group=DISTRIBUTE_GROUP,
                             help="with --source parquet: ray trains the deep model on --workers Ray Train workers "
                                  "(synchronous data parallelism, each worker reading its own Parquet files; needs "
                                  "pip install 'deepcases[cluster]'); none (default) trains in this process")
    workers: int = option(2, group=DISTRIBUTE_GROUP,
                          help="with --distribute ray: how many workers (the directory needs at least this many "
                               "Parquet files)")
    ray_address: str | None = option(None, metavar="ADDRESS", group=DISTRIBUTE_GROUP,
                                     help="with --distribute ray: join this Ray cluster (auto on a cluster node, or "
                                          "ray://HEAD:10001); default: start Ray on this machine with --workers CPUs")


def check_distribute_arguments(args: Any) -> str | None:
    """The first problem with the ``--distribute`` options of a config (None when fine)."""
    if args.distribute == "none":
        return None
    if args.source != "parquet":
        return (f"--distribute {args.distribute} trains from a Parquet directory, each worker reading its own files: "
                "add --source parquet --path DIR")
    if isinstance(args.workers, bool) or args.workers < 1:
        return f"--workers must be >= 1, got {args.workers}"
    return None


def check_stream_arguments(args: Any) -> str | None:
    """The first problem with the ``--source parquet`` options of a config (None when fine)."""
    if args.chunk_rows < 1:
        return f"--chunk-rows must be >= 1, got {args.chunk_rows}"
    if args.shuffle_buffer < 0:
        return f"--shuffle-buffer must be >= 0 (0 = file order), got {args.shuffle_buffer}"
    if not 0.0 < args.test_fraction < 1.0:
        return f"--test-fraction must be in (0, 1), got {args.test_fraction}"
    return None


def split_rule_from(*, split_column: str, train_value: Any, hash_split: str | None, test_fraction: float,
                    salt: int = 0) -> SplitRule:
    """The :class:`SplitRule` the ``--split-column``/``--train-value``/``--hash-split`` options describe."""
    if hash_split:
        return SplitRule(hash_split, test_fraction=test_fraction, salt=salt)
    return SplitRule(split_column, train_values=(train_value,))


def require_source_columns(source: str | Path, columns: Sequence[str], *, what: str, hint: str) -> list[str]:
    """Check a Parquet source exists, holds part files and has ``columns``; returns the columns found."""
    from shared.data.pipelines import table_columns

    found = table_columns(source, what=what)
    missing = [c for c in dict.fromkeys(columns) if c not in found]
    if missing:
        raise UserError(f"{what} {source} is missing column(s) {missing}; found {found}; {hint}")
    return found
