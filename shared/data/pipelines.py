"""``tf.data`` input pipelines from NumPy/pandas and from Parquet files read in chunks.

TensorFlow is imported inside the functions so ``import shared.data`` stays light.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def array_dataset(x: Any, y: Any = None, *, batch_size: int = 64, shuffle: bool = False, seed: int = 0,
                  shuffle_buffer: int | None = None) -> Any:
    """Batched, prefetched dataset from arrays or a dict of arrays (``x``) and targets ``y``."""
    import tensorflow as tf

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    n = len(next(iter(x.values()))) if isinstance(x, Mapping) else len(x)
    if y is not None and len(y) != n:
        raise ValueError(f"x has {n} rows but y has {len(y)}; they must match")
    if isinstance(x, pd.DataFrame):
        x = x.to_numpy()
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, np.asarray(y)))
    if shuffle:
        ds = ds.shuffle(shuffle_buffer or n, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def parquet_files(source: str | Path) -> list[Path]:
    """The Parquet files of a file or directory, sorted, with a clear error when there are none."""
    source = Path(source)
    if source.is_file():
        return [source]
    files = sorted(source.glob("**/*.parquet")) if source.is_dir() else []
    if not files:
        raise FileNotFoundError(f"no .parquet files under {source}; pass a Parquet file or a directory of them")
    return files


def iter_parquet_batches(source: str | Path, *, columns: Sequence[str] | None = None, chunk_rows: int = 65536
                         ) -> Iterator[pd.DataFrame]:
    """Yield frames of at most ``chunk_rows`` rows, reading one Parquet row batch at a time."""
    import pyarrow.parquet as pq

    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    for path in parquet_files(source):
        handle = pq.ParquetFile(path)
        if columns is not None:
            missing = [c for c in columns if c not in handle.schema_arrow.names]
            if missing:
                raise ValueError(f"{path} lacks column(s) {missing}; found {handle.schema_arrow.names}")
        for batch in handle.iter_batches(batch_size=chunk_rows, columns=list(columns) if columns else None):
            yield batch.to_pandas()


def parquet_dataset(source: str | Path, *, features: Sequence[str], target: str | None = None,
                    batch_size: int = 256, chunk_rows: int = 65536, shuffle_buffer: int = 10000, seed: int = 0,
                    transform: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
                    dtypes: Mapping[str, Any] | None = None) -> Any:
    """Streaming dataset of ({feature: column}, target) batches from Parquet, in bounded memory.

    Chunks are read lazily, rows shuffled within a buffer of ``shuffle_buffer`` rows (0 = no
    shuffle), batched and prefetched. ``transform`` (fitted on the training part beforehand)
    is applied to each chunk. Peak memory depends on chunk and buffer size, not on file size.
    """
    import tensorflow as tf

    columns = list(features) + ([target] if target else [])
    dtypes = dict(dtypes or {})
    first = next(iter_parquet_batches(source, columns=columns, chunk_rows=1))
    if transform is not None:
        first = transform(first)
    spec_x = {c: tf.TensorSpec((None,), dtypes.get(c, _tf_dtype(first[c]))) for c in features}
    spec: Any = spec_x if target is None else (spec_x, tf.TensorSpec((None,), dtypes.get(target, _tf_dtype(first[target]))))

    def chunks() -> Iterator[Any]:
        for frame in iter_parquet_batches(source, columns=columns, chunk_rows=chunk_rows):
            if transform is not None:
                frame = transform(frame)
            x = {c: frame[c].to_numpy() for c in features}
            yield x if target is None else (x, frame[target].to_numpy())

    ds = tf.data.Dataset.from_generator(chunks, output_signature=spec).unbatch()
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _tf_dtype(series: pd.Series) -> Any:
    import tensorflow as tf

    if pd.api.types.is_integer_dtype(series):
        return tf.int64
    if pd.api.types.is_float_dtype(series):
        return tf.float32
    if pd.api.types.is_bool_dtype(series):
        return tf.bool
    return tf.string
