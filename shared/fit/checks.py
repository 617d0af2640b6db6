"""Checks of the table against the chosen task, all before any training starts.

Each problem is a ``ValueError`` that names the column and the fix: an empty table, a missing or
constant target, a classification target with one class or more classes than rows, classes too
small for the folds, a non-numeric regression target, an all-empty text column, bad survival
durations or events, a forecast series with repeated dates or too short for its windows.
"""

from __future__ import annotations

import dataclasses
import logging
import numpy as np
import pandas as pd

from .config import FitConfig
from .schema import parse_datetimes
from ..errors import UserError

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Prepared:
    """The cleaned table and what the checks found, ready for the task runner."""

    frame: pd.DataFrame
    task: str
    notes: list[str]
    classes: list[str] | None = None
    seasonality: int | None = None
    frequency: str | None = None


def infer_task(frame: pd.DataFrame, config: FitConfig) -> tuple[str, str]:
    """The task when ``--task`` is not given, and why."""
    if config.event_column:
        return "survival", "--event-column is set"
    if config.text_column:
        return "text", "--text-column is set"
    if config.time_column:
        return "forecast", "--time-column is set"
    values = frame[config.target].dropna()
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all() and values.nunique() > max(10, 0.05 * len(values)):
        return "regression", f"numeric target with {values.nunique()} distinct values"
    return "classification", f"target with {values.nunique()} distinct labels"


def class_order(labels: pd.Series) -> list[str]:
    """Class names as strings, in numeric order when every label is a number."""
    unique = pd.unique(labels)
    numbers = pd.to_numeric(pd.Series(unique), errors="coerce")
    from .preprocess import category_strings

    names = category_strings(pd.Series(unique)).tolist()
    if numbers.notna().all():
        order = np.argsort(numbers.to_numpy(float), kind="stable")
        return [names[i] for i in order]
    return sorted(names)


def _require(frame: pd.DataFrame, column: str | None, option: str) -> str:
    if not column:
        raise UserError(f"the {option.split()[0]} option is required for this task; pass {option}")
    if column not in frame.columns:
        raise UserError(f"column {column!r} ({option.split()[0]}) is not in the data; found {list(frame.columns)}")
    return column


def _drop_missing(frame: pd.DataFrame, column: str, what: str, notes: list[str]) -> pd.DataFrame:
    missing = frame[column].isna()
    if missing.all():
        raise UserError(f"{what} column {column!r} is empty in every row; pick the column that holds the {what}")
    if missing.any():
        notes.append(f"dropped {int(missing.sum())} row(s) with a missing {what} ({column!r})")
        frame = frame.loc[~missing]
    return frame


def _check_classes(labels: pd.Series, column: str, folds: int) -> list[str]:
    counts = labels.map(str).value_counts()
    if len(counts) < 2:
        raise UserError(f"target {column!r} holds a single class ({counts.index[0]!r}) in all {len(labels)} rows; "
                         "a classifier needs at least two classes: pick another target or add rows of other classes")
    if 2 * len(counts) > len(labels):
        raise UserError(f"target {column!r} has {len(counts)} classes for {len(labels)} rows: more classes than the "
                         "rows can support (every class needs several rows); it looks like an id or a continuous "
                         "value: use --task regression for numbers, or pick the label column")
    small = counts[counts < folds]
    if len(small):
        raise UserError(f"target {column!r}: class(es) {list(small.index[:5])} have fewer rows ({int(small.min())}) "
                         f"than the {folds} folds of stratified cross-validation need; lower --folds (at least 2) "
                         "or merge or drop the rare classes")
    return class_order(labels)


def prepare(frame: pd.DataFrame, config: FitConfig) -> Prepared:
    """Validate ``frame`` for ``config``'s task and return the cleaned frame; raises before any training."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(frame).__name__}")
    if frame.empty or len(frame.columns) == 0:
        raise UserError("the data has no rows; pass a file with a header row and data rows")
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    if frame.columns.duplicated().any():
        repeated = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise UserError(f"the data has repeated column names {repeated}; "
                         "rename them")
    if not config.target:
        raise UserError("pass the column to predict with --target COLUMN (or target: in the config file)")
    if config.target not in frame.columns:
        raise UserError(f"target column {config.target!r} is not in the data; found {list(frame.columns)}; "
                         "pass --target with one of these")
    notes: list[str] = []
    task = config.task
    if task is None:
        task, why = infer_task(frame, config)
        notes.append(f"task not given: using {task} ({why}); pass --task to choose")
    frame = _drop_missing(frame, config.target, "target", notes)
    target = frame[config.target]
    if task in ("regression", "survival", "forecast"):
        numeric = pd.to_numeric(target, errors="coerce")
        bad = numeric.isna()
        if bad.any():
            raise UserError(f"{task} target {config.target!r} must be numeric, but {int(bad.sum())} value(s) are "
                             f"not numbers, such as {target[bad].iloc[0]!r}; use --task classification for labels, "
                             "or clean the column")
        frame[config.target] = numeric.astype(float)
        target = frame[config.target]
    if target.nunique() < 2 and task != "classification" and task != "text":
        value = target.iloc[0]
        value = value.item() if hasattr(value, "item") else value
        raise UserError(f"target column {config.target!r} is constant (always {value!r}); there is "
                         "nothing to learn: pick another target")
    if len(frame) < 2 * config.folds and task != "forecast":
        raise UserError(f"{len(frame)} rows are too few for {config.folds}-fold cross-validation (need at least "
                         f"{2 * config.folds}); add rows or lower --folds")
    prepared = Prepared(frame=frame, task=task, notes=notes)
    if task == "classification":
        prepared.classes = _check_classes(target, config.target, config.folds)
    elif task == "text":
        column = _require(frame, config.text_column, "--text-column COLUMN")
        texts = frame[column].fillna("").astype(str).str.strip()
        if (texts == "").all():
            raise UserError(f"text column {column!r} is empty in every row; pick the column that holds the text")
        if (texts == "").any():
            notes.append(f"{int((texts == '').sum())} row(s) have an empty text ({column!r}); kept as empty strings")
        prepared.classes = _check_classes(target, config.target, config.folds)
    elif task == "regression":
        pass
    elif task == "survival":
        _check_survival(frame, config, notes)
    elif task == "forecast":
        prepared = _check_forecast(prepared, config)
    for note in prepared.notes:
        log.warning(note)
    return prepared


def _check_survival(frame: pd.DataFrame, config: FitConfig, notes: list[str]) -> None:
    event = _require(frame, config.event_column, "--event-column COLUMN")
    if event == config.target:
        raise UserError("--event-column and --target name the same column; --target is the duration "
                         "(time to event or censoring) and --event-column the 0/1 event indicator")
    time = frame[config.target]
    if (time <= 0).any():
        raise UserError(f"survival durations in {config.target!r} must be positive; {int((time <= 0).sum())} are "
                         "zero or negative: drop those rows or shift zero times by a small amount (e.g. 0.5 days)")
    raw = frame[event]
    if raw.isna().any():
        raise UserError(f"event column {event!r} has {int(raw.isna().sum())} missing value(s); fill or drop them")
    mapping = {"1": 1, "0": 0, "true": 1, "false": 0, "1.0": 1, "0.0": 0, "yes": 1, "no": 0}
    codes = raw.astype(str).str.strip().str.lower().map(mapping)
    if codes.isna().any():
        raise UserError(f"event column {event!r} must hold 0/1 (1 = event observed, 0 = censored), got values "
                         f"{sorted(map(str, raw.unique()))[:5]}; recode it")
    frame[event] = codes.astype(int)
    n_events = int(codes.sum())
    if n_events < config.folds:
        raise UserError(f"event column {event!r} has {n_events} event(s), fewer than the {config.folds} folds; "
                         "survival models need events in every fold: lower --folds or add data")


def seasonality_from_dates(dates: pd.Series) -> tuple[int, str | None]:
    """(season length, pandas frequency) from the spacing of the dates."""
    freq = pd.infer_freq(pd.DatetimeIndex(dates)) if len(dates) >= 3 else None
    if freq:
        base = freq.split("-")[0].upper().rstrip("S").lstrip("0123456789")
        table = {"D": 7, "B": 5, "W": 52, "M": 12, "ME": 12, "BM": 12, "Q": 4, "QE": 4, "H": 24, "A": 1, "Y": 1,
                 "YE": 1, "AE": 1, "T": 60, "MIN": 60}
        if base in table:
            return table[base], freq
    step = pd.Series(dates).diff().dt.total_seconds().median() / 86400.0
    for days, season in ((1 / 24, 24), (1, 7), (7, 52), (30.5, 12), (91.5, 4), (365.25, 1)):
        if abs(step - days) <= 0.2 * days:
            return season, freq
    return 1, freq


def _check_forecast(prepared: Prepared, config: FitConfig) -> Prepared:
    frame = prepared.frame
    column = _require(frame, config.time_column, "--time-column COLUMN")
    dates = parse_datetimes(frame[column])
    bad = dates.isna()
    if bad.any():
        raise UserError(f"time column {column!r} has {int(bad.sum())} value(s) that are not dates, such as "
                         f"{frame.loc[bad, column].iloc[0]!r}; use ISO dates such as 2013-01-31")
    frame = frame.assign(**{column: dates}).sort_values(column, kind="mergesort").reset_index(drop=True)
    repeated = frame[column].duplicated()
    if repeated.any():
        raise UserError(f"time column {column!r} repeats {int(repeated.sum())} date(s), such as "
                         f"{frame.loc[repeated, column].iloc[0].date()}; a forecast needs one row per date: "
                         "aggregate first (e.g. the sum per day)")
    if prepared.notes and any("dropped" in n for n in prepared.notes):
        raise UserError(f"the series {config.target!r} has missing values; fill them (e.g. interpolate) so the "
                         "time steps stay evenly spaced")
    season, freq = seasonality_from_dates(frame[column])
    season = config.seasonality or season
    need = minimum_series_length(config, season)
    if len(frame) < need:
        raise UserError(f"the series has {len(frame)} rows, too short for window {config.window}, horizon "
                         f"{config.horizon}, seasonality {season} and {config.folds} time-ordered folds (need at least "
                         f"{need}); lower --window or --folds, or use a longer series")
    prepared.frame = frame
    prepared.seasonality = season
    prepared.frequency = freq
    return prepared


def minimum_train_length(config: FitConfig, season: int) -> int:
    return max(2 * config.window + config.horizon, 2 * season + 1, 10)


def minimum_series_length(config: FitConfig, season: int) -> int:
    return minimum_train_length(config, season) + config.folds * config.horizon
