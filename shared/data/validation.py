"""Schema checks for loaders: each error names the column or file and says what to do."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import codecs

import numpy as np
import pandas as pd

from ..errors import InputFileNotFound, UserError

#: encodings worth naming when a CSV is not UTF-8 (legacy Western files, in order of how often they occur)
LEGACY_ENCODINGS = ("latin-1", "cp1252", "mac_roman")


def check_encoding(encoding: str) -> str:
    """``encoding`` if Python knows it, else a UserError naming --encoding and common choices."""
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError) as err:
        raise UserError(f"unknown text encoding {encoding!r}; pass --encoding with a Python codec name such as "
                        f"utf-8, {', '.join(LEGACY_ENCODINGS)}") from err
    return encoding


def decoding_error(err: UnicodeDecodeError, path: Path, *, what: str, encoding: str) -> UserError:
    """The clear error for a CSV that is not in ``encoding``: the byte, where, and the option that fixes it."""
    byte = err.object[err.start:err.start + 1].hex() if isinstance(err.object, bytes) else "?"
    return UserError(f"{what} {path} is not {encoding} text (byte 0x{byte} at position {err.start}); pass its "
                     f"encoding with --encoding, e.g. --encoding {LEGACY_ENCODINGS[0]} "
                     f"(or {', '.join(LEGACY_ENCODINGS[1:])} for Windows and old Mac files)")


def read_table(path: str | Path, *, what: str = "data file", encoding: str = "utf-8") -> pd.DataFrame:
    """Read a CSV (optionally compressed; text in ``encoding``) or Parquet file/directory with clear errors."""
    path = Path(path)
    check_encoding(encoding)
    if not path.exists():
        raise InputFileNotFound(f"{what} not found: {path}; check the --path argument")
    try:
        if path.is_dir() or path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, encoding=encoding)
    except pd.errors.EmptyDataError as err:
        raise UserError(f"{what} {path} is empty; pass a file with a header row and data rows") from err
    except UnicodeDecodeError as err:
        raise decoding_error(err, path, what=what, encoding=encoding) from err
    except pd.errors.ParserError as err:
        raise UserError(f"{what} {path} could not be parsed as CSV ({err}); check the delimiter and encoding") \
            from err
    return require_non_empty(frame, what=f"{what} {path}")


def require_non_empty(frame: pd.DataFrame, *, what: str = "data") -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}")
    if frame.empty:
        raise UserError(f"{what} has no rows; pass a file or frame with data")
    return frame


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, what: str = "data",
                    hint: str = "") -> pd.DataFrame:
    require_non_empty(frame, what=what)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UserError(f"{what} is missing column(s) {missing}; found {list(frame.columns)}"
                         + (f"; {hint}" if hint else "; rename the columns or pass the right column names"))
    return frame


def require_finite(frame: pd.DataFrame, columns: Iterable[str], *, what: str = "data") -> pd.DataFrame:
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = ~np.isfinite(values.to_numpy(dtype=float))
        if bad.any():
            first = frame.index[bad][0]
            raise UserError(f"{what}: column {column!r} has {int(bad.sum())} missing or non-numeric value(s) "
                             f"(first at row {first}); clean or drop those rows")
    return frame


def require_positive(frame: pd.DataFrame, columns: Iterable[str], *, what: str = "data",
                     allow_zero: bool = False) -> pd.DataFrame:
    require_finite(frame, columns, what=what)
    for column in columns:
        values = pd.to_numeric(frame[column])
        bad = values < 0 if allow_zero else values <= 0
        if bad.any():
            sign = "negative" if allow_zero else "zero or negative"
            raise UserError(f"{what}: column {column!r} has {int(bad.sum())} {sign} value(s) "
                             f"(first at row {frame.index[bad.to_numpy()][0]}); these must be "
                             f"{'non-negative' if allow_zero else 'positive'}")
    return frame


def parse_dates(frame: pd.DataFrame, column: str, *, what: str = "data") -> pd.Series:
    """Parse ``column`` as dates; unparseable values raise an error that names the first one."""
    require_columns(frame, [column], what=what)
    parsed = pd.to_datetime(frame[column], errors="coerce")
    bad = parsed.isna()
    if bad.any():
        example = frame.loc[bad, column].iloc[0]
        raise UserError(f"{what}: column {column!r} has {int(bad.sum())} value(s) that are not dates "
                         f"(e.g. {example!r}); use ISO dates such as 2013-01-31")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed
