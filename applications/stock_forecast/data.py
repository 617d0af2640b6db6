"""Daily prices for the stock forecaster: bundled sample, yfinance (cached on disk) or a CSV file.

Every loader returns the same typed frame, ``PRICE_COLUMNS``: ``date`` (datetime64, sorted,
unique), ``close`` (float, positive; the adjusted close where the source has one) and, when the
source has them, ``open``, ``high``, ``low`` (float, positive) and ``volume`` (float, >= 0).

    load_prices(source="sample")                                  # S&P 500 1999-2018, offline
    load_prices(source="yfinance", ticker="AAPL", start="2010-01-01")
    load_prices(source="csv", path="prices.csv", date_column="Date", close_column="Close")

yfinance returns an empty frame, rather than failing, when it cannot reach Yahoo or the ticker
does not exist; ``load_yfinance`` detects that and raises :class:`DataUnavailableError` naming
the ticker, saying whether a cached copy exists and suggesting ``--source sample``/``csv``.
No TensorFlow here.
"""

from __future__ import annotations

import datetime as _dt
import importlib.util
import logging
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shared.artifacts import atomic_path
from shared.data import parse_dates, read_table, require_columns, require_non_empty, require_positive
from shared.errors import UserError

log = logging.getLogger(__name__)

SOURCES = ("sample", "yfinance", "csv", "parquet")
PRICE_COLUMNS = ("date", "close")
OPTIONAL_COLUMNS = ("open", "high", "low", "volume")
SAMPLE_NAME = "sp500-arch-1999-2018"
#: the sample as PROTOCOLS.md §Finance fixes it (checked by ``load_sample``)
SAMPLE_ROWS = 5031
SAMPLE_RANGE = ("1999-01-04", "2018-12-31")


class DataUnavailableError(UserError):
    """The live source gave no data (offline, unknown ticker, rate limit) and nothing usable is cached."""


# --------------------------------------------------------------------------------------------
# validation: one typed frame out of every source


def validate_prices(frame: pd.DataFrame, *, what: str = "price data") -> pd.DataFrame:
    """Check a frame already in the ``date, close [, open, high, low, volume]`` shape.

    Dates must parse, be unique and in increasing order; prices positive and finite; volume
    finite and non-negative. Returns a clean copy with a fresh 0..n-1 index.
    """
    require_columns(frame, PRICE_COLUMNS, what=what)
    out = pd.DataFrame({"date": parse_dates(frame, "date", what=what)})
    present = [c for c in OPTIONAL_COLUMNS if c in frame.columns]
    require_positive(frame, ["close", *[c for c in present if c != "volume"]], what=what)
    if "volume" in present:
        require_positive(frame, ["volume"], what=what, allow_zero=True)
    for column in ("close", *present):
        out[column] = pd.to_numeric(frame[column]).astype(float).to_numpy()
    out = out.reset_index(drop=True)
    dup = out["date"].duplicated()
    if dup.any():
        raise UserError(f"{what}: {int(dup.sum())} duplicated date(s) (first {out['date'][dup].iloc[0].date()}); "
                         "keep one row per trading day")
    if not out["date"].is_monotonic_increasing:
        bad = int(np.argmax(out["date"].diff().dt.total_seconds().to_numpy()[1:] < 0)) + 1
        raise UserError(f"{what}: dates are not in increasing order (row {bad}: {out['date'][bad].date()} comes "
                         f"after {out['date'][bad - 1].date()}); sort the file by date, oldest first")
    return out


def parse_bounds(start: str | None, end: str | None) -> dict[str, pd.Timestamp]:
    """--start/--end as timestamps (either may be None), checked to be dates in order."""
    bounds = {}
    for name, value in (("start", start), ("end", end)):
        if value is None:
            continue
        try:
            bounds[name] = pd.Timestamp(value)
        except (ValueError, TypeError) as err:
            raise UserError(f"--{name} {value!r} is not a date; use ISO format such as 2015-01-31") from err
    if "start" in bounds and "end" in bounds and bounds["start"] >= bounds["end"]:
        raise UserError(f"--start {start} is not before --end {end}; swap them")
    return bounds


def slice_dates(frame: pd.DataFrame, *, start: str | None = None, end: str | None = None,
                what: str = "price data") -> pd.DataFrame:
    """Rows with ``start <= date <= end`` (ISO dates; either may be None)."""
    bounds = parse_bounds(start, end)
    keep = pd.Series(True, index=frame.index)
    if "start" in bounds:
        keep &= frame["date"] >= bounds["start"]
    if "end" in bounds:
        keep &= frame["date"] <= bounds["end"]
    out = frame[keep].reset_index(drop=True)
    if out.empty:
        span = f"{frame['date'].min().date()} … {frame['date'].max().date()}" if len(frame) else "no rows"
        raise UserError(f"{what} has no rows between --start {start} and --end {end} (the data cover {span}); "
                         "widen the date range")
    return out


# --------------------------------------------------------------------------------------------
# bundled sample


def sample_file() -> Path:
    """``arch/data/sp500/sp500.csv.gz`` inside the installed arch package, found without importing
    arch (its import pulls in the whole volatility-model stack and takes seconds)."""
    spec = importlib.util.find_spec("arch")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in locations:
        path = Path(folder) / "data" / "sp500" / "sp500.csv.gz"
        if path.is_file():
            return path
    raise UserError("the bundled sample ships with the `arch` package, which is not installed or lacks "
                    "data/sp500/sp500.csv.gz: pip install 'arch>=7' (or use --source csv)")


def _read_arch_sp500() -> pd.DataFrame:
    """What ``arch.data.sp500.load()`` returns (same parsing), without importing arch."""
    raw = pd.read_csv(sample_file())
    raw["Date"] = pd.to_datetime(raw["Date"], format="%m/%d/%Y")
    raw = raw.set_index("Date")
    for column in raw:
        raw[column] = pd.to_numeric(raw[column], errors="coerce")
    return raw


def load_sample(*, start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """S&P 500 daily OHLCV 1999-01-04 … 2018-12-31 (5,031 rows) shipped with the ``arch`` package.

    ``close`` is the Adj Close column (PROTOCOLS.md §Finance; for this index it equals Close).
    """
    raw = _read_arch_sp500()
    if len(raw) != SAMPLE_ROWS or str(raw.index[0].date()) != SAMPLE_RANGE[0] or \
            str(raw.index[-1].date()) != SAMPLE_RANGE[1] or "Adj Close" not in raw.columns:
        raise UserError(f"arch's sp500 file is not the expected sample ({SAMPLE_ROWS} rows {SAMPLE_RANGE[0]} … "
                        f"{SAMPLE_RANGE[1]} with 'Adj Close'); got {len(raw)} rows and {list(raw.columns)}. "
                        "Reinstall arch (pip install --force-reinstall 'arch>=7')")
    frame = pd.DataFrame({"date": raw.index.to_numpy(), "close": raw["Adj Close"].to_numpy(),
                          "open": raw["Open"].to_numpy(), "high": raw["High"].to_numpy(),
                          "low": raw["Low"].to_numpy(), "volume": raw["Volume"].to_numpy(dtype=float)})
    frame = validate_prices(frame, what="bundled S&P 500 sample")
    return slice_dates(frame, start=start, end=end, what="bundled S&P 500 sample")


# --------------------------------------------------------------------------------------------
# CSV


def load_csv(path: str | Path, *, date_column: str = "Date", close_column: str = "Close",
             start: str | None = None, end: str | None = None, encoding: str = "utf-8") -> pd.DataFrame:
    """A user's CSV with a date column and a close column (names configurable) plus optional
    Open/High/Low/Volume columns (matched case-insensitively)."""
    raw = read_table(path, what="price file", encoding=encoding)
    what = f"price file {path}"
    hint = ("pass --date-column and --close-column with the names in your file")
    require_columns(raw, [date_column, close_column], what=what, hint=hint)
    return _prices_from_raw(raw, date_column=date_column, close_column=close_column, start=start, end=end, what=what)


def load_parquet(path: str | Path, *, date_column: str = "Date", close_column: str = "Close",
                 start: str | None = None, end: str | None = None, chunk_rows: int = 65536) -> pd.DataFrame:
    """The same price table as :func:`load_csv`, from a directory of Parquet files (or a large CSV).

    Read chunk by chunk through the shared reader (:func:`shared.data.pipelines.read_table_chunked`):
    only the date, close and optional Open/High/Low/Volume columns are read, and a missing date or
    close column is reported from the schema before any row is read. Part files may hold the days
    in any order (e.g. one file per year written in parallel): rows are sorted by date before the
    usual validation (unique dates, positive prices).
    """
    from shared.data.pipelines import read_table_chunked, table_columns

    hint = "pass --date-column and --close-column with the names in your table's schema"
    found = table_columns(path, what="price Parquet")
    optional = [c for c in found if str(c).lower() in OPTIONAL_COLUMNS and c not in (date_column, close_column)]
    raw = read_table_chunked(path, columns=[date_column, close_column, *optional], chunk_rows=chunk_rows,
                             what="price Parquet", hint=hint)
    order = pd.to_datetime(raw[date_column], errors="coerce").argsort(kind="stable")  # unparsable (NaT) last
    raw = raw.iloc[np.asarray(order)].reset_index(drop=True)
    return _prices_from_raw(raw, date_column=date_column, close_column=close_column, start=start, end=end,
                            what=f"price Parquet {path}")


def _prices_from_raw(raw: pd.DataFrame, *, date_column: str, close_column: str, start: str | None,
                     end: str | None, what: str) -> pd.DataFrame:
    frame = pd.DataFrame({"date": raw[date_column], "close": raw[close_column]})
    lower = {str(c).lower(): c for c in raw.columns}
    for column in OPTIONAL_COLUMNS:
        source = lower.get(column)
        if source is not None and source not in (date_column, close_column):
            frame[column] = raw[source]
    frame = validate_prices(frame, what=what)
    return slice_dates(frame, start=start, end=end, what=what)


# --------------------------------------------------------------------------------------------
# yfinance with an on-disk cache


def default_cache_dir() -> Path:
    """``$DEEPCASES_CACHE/yfinance`` if DEEPCASES_CACHE is set, else ``~/.cache/deepcases/yfinance``."""
    root = os.environ.get("DEEPCASES_CACHE")
    return Path(root) / "yfinance" if root else Path.home() / ".cache" / "deepcases" / "yfinance"


_TICKER = re.compile(r"^[A-Za-z0-9^=.\-]{1,20}$")


def check_ticker(ticker: str | None) -> str:
    if not ticker or not isinstance(ticker, str) or not _TICKER.match(ticker.strip()):
        raise UserError(f"ticker {ticker!r} is not a valid symbol; pass e.g. --ticker AAPL or --ticker ^GSPC")
    return ticker.strip().upper()


def cache_path(ticker: str, *, start: str | None, end: str | None, cache_dir: str | Path) -> Path:
    """One CSV per (ticker, start, end). An open end is keyed by today's date, so a second run the
    same day needs no network and a run the next day asks for the new days."""
    end_key = end or f"open{_dt.date.today().isoformat()}"
    safe = re.sub(r"[^A-Za-z0-9.\-]", "_", ticker)
    return Path(cache_dir) / f"{safe}_{start or 'max'}_{end_key}.csv"


def cached_copies(ticker: str, cache_dir: str | Path) -> list[Path]:
    safe = re.sub(r"[^A-Za-z0-9.\-]", "_", ticker)
    folder = Path(cache_dir)
    return sorted(folder.glob(f"{safe}_*.csv")) if folder.is_dir() else []


def _flatten_yfinance(raw: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """yfinance >= 0.2.48 returns (Price, Ticker) MultiIndex columns; older versions flat ones."""
    frame = raw.copy()
    if isinstance(frame.columns, pd.MultiIndex):
        level = [i for i in range(frame.columns.nlevels)
                 if {"Close", "Adj Close"} & set(frame.columns.get_level_values(i))]
        if not level:
            raise DataUnavailableError(f"yfinance returned columns {list(frame.columns)} for {ticker} without a "
                                       "Close column; use --source csv with a file you downloaded")
        frame.columns = frame.columns.get_level_values(level[0])
        frame = frame.loc[:, ~frame.columns.duplicated()]
    return frame


def _unavailable(ticker: str, cache_dir: Path, reason: str) -> DataUnavailableError:
    copies = cached_copies(ticker, cache_dir)
    if copies:
        cached = (f"cached copies of {ticker} exist ({', '.join(p.name for p in copies[-3:])} in {cache_dir}) but "
                  f"not for this --start/--end; rerun with --source csv --path {copies[-1]}")
    else:
        cached = f"no cached copy of {ticker} exists in {cache_dir}"
    return DataUnavailableError(
        f"yfinance returned no data for ticker {ticker} ({reason}: no network, an unknown ticker or a rate "
        f"limit); {cached}. Use --source sample for the bundled S&P 500, or --source csv --path FILE for your "
        "own prices")


def load_yfinance(ticker: str, *, start: str | None = None, end: str | None = None,
                  cache_dir: str | Path | None = None, refresh: bool = False) -> pd.DataFrame:
    """Daily OHLCV for ``ticker`` from Yahoo Finance via yfinance (auto-adjusted close), cached as CSV.

    The cache is read first (no network at all on a hit) unless ``refresh``; a fresh download is
    validated, then written atomically. Raises :class:`DataUnavailableError` on an empty result.
    """
    ticker = check_ticker(ticker)
    parse_bounds(start, end)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache_path(ticker, start=start, end=end, cache_dir=cache_dir)
    if path.is_file() and not refresh:
        log.info("yfinance cache hit for %s: %s", ticker, path)
        return load_csv(path, date_column="date", close_column="close")
    try:
        import yfinance as yf
    except ImportError as err:  # pragma: no cover - yfinance is a hard dependency
        raise UserError("--source yfinance needs the yfinance package: pip install yfinance") from err
    kwargs: dict[str, Any] = {"auto_adjust": True, "progress": False, "actions": False, "threads": False}
    if start is None and end is None:
        kwargs["period"] = "max"
    else:
        kwargs.update(start=start, end=end)
    log.info("downloading %s from Yahoo Finance (%s … %s)", ticker, start or "first day", end or "today")
    try:
        raw = yf.download(ticker, **kwargs)
    except Exception as err:  # yfinance raises assorted network/rate-limit errors in some versions
        raise _unavailable(ticker, cache_dir, f"{type(err).__name__}: {err}") from err
    if raw is None or not isinstance(raw, pd.DataFrame) or raw.empty:
        raise _unavailable(ticker, cache_dir, "an empty frame")
    raw = _flatten_yfinance(raw, ticker).dropna(how="all")
    close = "Adj Close" if "Adj Close" in raw.columns else "Close"
    if close not in raw.columns or raw[close].dropna().empty:
        raise _unavailable(ticker, cache_dir, "a frame without prices")
    raw = raw[raw[close].notna()]
    frame = pd.DataFrame({"date": pd.to_datetime(raw.index).tz_localize(None) if getattr(raw.index, "tz", None)
                          else pd.to_datetime(raw.index), "close": raw[close].to_numpy()})
    for column in OPTIONAL_COLUMNS:
        if column.capitalize() in raw.columns:
            frame[column] = raw[column.capitalize()].to_numpy()
    frame = validate_prices(frame, what=f"yfinance data for {ticker}")
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, date_format="%Y-%m-%d")
    log.info("cached %d rows of %s in %s", len(frame), ticker, path)
    return frame


# --------------------------------------------------------------------------------------------
# one entry point


def load_prices(*, source: str = "sample", ticker: str | None = None, path: str | Path | None = None,
                date_column: str = "Date", close_column: str = "Close", start: str | None = None,
                end: str | None = None, cache_dir: str | Path | None = None,
                encoding: str = "utf-8") -> tuple[pd.DataFrame, str]:
    """Load prices from the chosen source; returns (frame, dataset name)."""
    if source not in SOURCES:
        raise UserError(f"source must be one of {list(SOURCES)}, got {source!r}")
    if source == "sample":
        return load_sample(start=start, end=end), SAMPLE_NAME
    if source == "csv":
        if path is None:
            raise UserError("--source csv needs --path FILE (a CSV with a date column and a close column)")
        return load_csv(path, date_column=date_column, close_column=close_column, start=start, end=end,
                        encoding=encoding), \
            f"csv:{Path(path).name}"
    if source == "parquet":
        if path is None:
            raise UserError("--source parquet needs --path DIR (Parquet files with a date column and a close column)")
        return load_parquet(path, date_column=date_column, close_column=close_column, start=start, end=end), \
            f"parquet:{Path(path).name}"
    if ticker is None:
        raise UserError("--source yfinance needs --ticker SYMBOL, e.g. --ticker AAPL")
    ticker = check_ticker(ticker)
    return load_yfinance(ticker, start=start, end=end, cache_dir=cache_dir), f"yfinance:{ticker}"


def require_length(frame: pd.DataFrame, *, window: int, horizon: int, fractions: tuple[float, ...],
                   min_windows: int = 20, what: str = "price data") -> None:
    """Enough rows for ``min_windows`` training windows and ``horizon``+``min_windows`` days in
    validation and test under the chronological split."""
    require_non_empty(frame, what=what)
    n = len(frame)
    need_train = window + horizon + min_windows
    need_other = horizon + min_windows
    needed = max(int(np.ceil(need_train / fractions[0])), int(np.ceil(need_other / min(fractions[1:])))) + 1
    if n < needed:
        raise UserError(f"{what} has {n} rows; window {window} and horizon {horizon} under a "
                         f"{'/'.join(str(round(f * 100)) for f in fractions)} time split need at least {needed}. "
                         "Use a longer date range (--start earlier), or a smaller --window/--horizon")
