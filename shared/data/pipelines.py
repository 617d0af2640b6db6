"""``tf.data`` input pipelines from NumPy/pandas and from Parquet files read in chunks.

TensorFlow is imported inside the functions so ``import shared.data`` stays light.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputFileNotFound, UserError
from .validation import check_encoding, decoding_error


def array_dataset(x: Any, y: Any = None, *, batch_size: int = 64, shuffle: bool = False, seed: int = 0,
                  shuffle_buffer: int | None = None) -> Any:
    """Batched, prefetched dataset from arrays or a dict of arrays (``x``) and targets ``y``."""
    import tensorflow as tf

    if batch_size < 1:
        raise UserError(f"batch_size must be >= 1, got {batch_size}")
    n = len(next(iter(x.values()))) if isinstance(x, Mapping) else len(x)
    if y is not None and len(y) != n:
        raise UserError(f"x has {n} rows but y has {len(y)}; they must match")
    if isinstance(x, pd.DataFrame):
        x = x.to_numpy()
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, np.asarray(y)))
    if shuffle:
        ds = ds.shuffle(shuffle_buffer or n, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def parquet_files(source: str | Path | Sequence[str | Path]) -> list[Path]:
    """The Parquet files of a file or directory (or a list of files: one worker's shard), sorted, with a
    clear error when there are none."""
    if isinstance(source, (list, tuple)):
        if not source:
            raise InputFileNotFound("an empty list of Parquet files; pass at least one file")
        return sorted(Path(p) for p in source)
    source = Path(source)
    if source.is_file():
        return [source]
    files = sorted(source.glob("**/*.parquet")) if source.is_dir() else []
    if not files:
        raise InputFileNotFound(f"no .parquet files under {source}; pass a Parquet file or a directory of them")
    return files


def iter_parquet_batches(source: str | Path | Sequence[str | Path], *, columns: Sequence[str] | None = None, chunk_rows: int = 65536
                         ) -> Iterator[pd.DataFrame]:
    """Yield frames of at most ``chunk_rows`` rows, reading one Parquet row batch at a time."""
    import pyarrow.parquet as pq

    if chunk_rows < 1:
        raise UserError(f"chunk_rows must be >= 1, got {chunk_rows}")
    for path in parquet_files(source):
        handle = pq.ParquetFile(path)
        if columns is not None:
            missing = [c for c in columns if c not in handle.schema_arrow.names]
            if missing:
                raise UserError(f"{path} lacks column(s) {missing}; found {handle.schema_arrow.names}")
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


# ------------------------------------------------------------------------ any table, read in chunks
_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip", ".tsv")


def table_columns(source: str | Path, *, what: str = "data", encoding: str = "utf-8") -> list[str]:
    """Column names of a Parquet file/directory or a CSV file, read from its schema/header only.

    Errors name the problem and the fix: a path that does not exist, a directory without
    ``.parquet`` files (an empty directory), a CSV without a header.
    """
    path = _existing(source, what=what)
    if _is_csv(path):
        try:
            return [str(c) for c in pd.read_csv(path, nrows=0, encoding=check_encoding(encoding)).columns]
        except pd.errors.EmptyDataError as err:
            raise UserError(f"{what} {path} is empty; pass a file with a header row and data rows") from err
        except UnicodeDecodeError as err:
            raise decoding_error(err, path, what=what, encoding=encoding) from err
    import pyarrow.parquet as pq

    return list(pq.read_schema(_parquet_files(path, what=what)[0]).names)


def iter_table_chunks(source: str | Path, *, columns: Sequence[str] | None = None, chunk_rows: int = 65536,
                      what: str = "data", hint: str = "", require: Sequence[str] = (),
                      encoding: str = "utf-8") -> Iterator[pd.DataFrame]:
    """Frames of at most ``chunk_rows`` rows from a Parquet file/directory or a (large) CSV file.

    Only ``columns`` are read (all when None); they are checked against the schema/header before
    any row is read, and a missing one raises ``ValueError`` naming it, the columns found and
    ``hint`` (the option that fixes it); ``require`` names columns that must exist when all
    columns are read. Memory is one chunk, whatever the size of the table.
    Validation happens when this is called, before the first chunk is asked for.
    """
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise UserError(f"chunk_rows must be an int >= 1, got {chunk_rows!r}")
    path = _existing(source, what=what)
    found = table_columns(path, what=what, encoding=encoding)
    needed = list(dict.fromkeys([*(columns or []), *require]))
    if needed:
        missing = [c for c in needed if c not in found]
        if missing:
            raise UserError(f"{what} {path} is missing column(s) {missing}; found {found}"
                             + (f"; {hint}" if hint else "; rename the columns or pass the right column names"))
    if _is_csv(path):
        return _csv_chunks(path, columns, chunk_rows, what=what, encoding=encoding)
    return iter_parquet_batches(path, columns=columns, chunk_rows=chunk_rows)


def _csv_chunks(path: Path, columns: Sequence[str] | None, chunk_rows: int, *, what: str,
                encoding: str) -> Iterator[pd.DataFrame]:
    try:
        with pd.read_csv(path, usecols=list(columns) if columns is not None else None, chunksize=chunk_rows,
                         encoding=encoding) as reader:
            for frame in reader:
                yield frame if columns is None else frame[list(columns)]
    except UnicodeDecodeError as err:  # a bad byte far into the file shows up only at its chunk
        raise decoding_error(err, path, what=what, encoding=encoding) from err


def read_table_chunked(source: str | Path, *, columns: Sequence[str] | None = None, chunk_rows: int = 65536,
                       what: str = "data", hint: str = "", require: Sequence[str] = (),
                       encoding: str = "utf-8") -> pd.DataFrame:
    """The whole table of :func:`iter_table_chunks` in one frame (for data that fits in memory).

    For small tables that an application then handles in memory: the same validation and the
    same reader as the streaming path, so ``--source parquet`` and ``--source csv`` agree.
    """
    frames = [f for f in iter_table_chunks(source, columns=columns, chunk_rows=chunk_rows, what=what, hint=hint,
                                           require=require, encoding=encoding) if len(f)]
    if not frames:
        raise UserError(f"{what} {source} has no rows; pass a file or directory with data rows")
    return pd.concat(frames, ignore_index=True)


def _existing(source: str | Path, *, what: str) -> Path:
    path = Path(source)
    if not path.exists():
        raise InputFileNotFound(f"{what} not found: {path}; check the --path argument (a Parquet file, a "
                                "directory of Parquet files, or a CSV file)")
    return path


def _is_csv(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(_CSV_SUFFIXES)


def _parquet_files(path: Path, *, what: str) -> list[Path]:
    try:
        return parquet_files(path)
    except FileNotFoundError as err:
        raise InputFileNotFound(f"{what}: no .parquet files under {path} (an empty directory?); write the table "
                                "as part-*.parquet files there, or pass a CSV file") from err
