"""Loaders and validation for time-to-event data: SUPPORT (SurvSet), WHAS500 and GBSG2
(scikit-survival), or a user's CSV. No TensorFlow here.

Every loader returns a :class:`SurvivalData`: covariates (one row per patient), positive finite
durations, 0/1 events and the numeric/categorical column split. Columns that identify patients
(``pid``) or leak the outcome (SUPPORT's ``fac_sfdm2``) are dropped and recorded in ``dropped``.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shared.data import read_table, require_columns
from shared.errors import InputFileNotFound, UserError

log = logging.getLogger(__name__)

DATASETS = ("support", "whas500", "gbsg2")
#: why columns are dropped before modelling (identifiers, outcome leaks)
DROPPED = {
    "support": {"pid": "patient identifier, not a covariate",
                "fac_sfdm2": "functional disability at 2 months; its level '<2 mo. follow-up' is derived from "
                             "the outcome and leaks it (PROTOCOLS.md)"},
}
DESCRIPTIONS = {
    "support": "SUPPORT study, seriously ill hospitalized adults (SurvSet 'support2'); time in days",
    "whas500": "Worcester Heart Attack Study, 500 patients (scikit-survival); time in days",
    "gbsg2": "German Breast Cancer Study Group 2, 686 patients (scikit-survival); recurrence-free time in days",
}
MIN_ROWS = 20
MIN_EVENTS = 5


@dataclasses.dataclass(frozen=True)
class SurvivalData:
    """One cohort: covariates, observed times and event indicators, aligned by row."""

    name: str
    covariates: pd.DataFrame
    time: np.ndarray
    event: np.ndarray
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    dropped: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(len(self.time))

    @property
    def n_events(self) -> int:
        return int(self.event.sum())

    def frame(self) -> pd.DataFrame:
        """Covariates plus ``time`` and ``event`` (for fingerprints; never written out)."""
        out = self.covariates.copy()
        out["time"] = self.time
        out["event"] = self.event
        return out

    def subset(self, rows: Any) -> "SurvivalData":
        rows = np.asarray(rows)
        return dataclasses.replace(self, covariates=self.covariates.iloc[rows].reset_index(drop=True),
                                   time=self.time[rows], event=self.event[rows])

    def summary(self) -> dict[str, Any]:
        """Aggregates only: sizes, event rate, follow-up quantiles, column names."""
        return {"name": self.name, "rows": self.n, "events": self.n_events,
                "event_rate": round(self.n_events / self.n, 4),
                "median_event_time": float(np.median(self.time[self.event == 1])),
                "follow_up_quantiles": {q: float(np.percentile(self.time, q)) for q in (10, 50, 90)},
                "numeric": list(self.numeric), "categorical": list(self.categorical),
                "dropped_columns": dict(self.dropped)}


def median_event_time(data: SurvivalData) -> float:
    """The protocol's horizon H: the median observed event time of the whole dataset."""
    return float(np.median(data.time[data.event == 1]))


# ------------------------------------------------------------------------------------ validation
def validate_survival_frame(frame: pd.DataFrame, *, duration: str, event: str, what: str = "data",
                            name: str = "csv", categorical: list[str] | None = None) -> SurvivalData:
    """Check a frame of duration, event and covariates and split it into a :class:`SurvivalData`.

    Durations must be numeric, positive and finite; events 0/1 (or True/False) with at least
    ``MIN_EVENTS`` events; there must be covariates, none of them entirely missing. Numeric-dtype
    columns are numeric covariates, everything else (text, category, bool) categorical.
    """
    hint = "pass --duration-column and --event-column with the names in your file's header"
    require_columns(frame, [duration, event], what=what, hint=hint)
    if duration == event:
        raise UserError(f"{what}: the duration and event columns are both {duration!r}; pass two different columns")
    times = pd.to_numeric(frame[duration], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(times) & (times > 0))
    if bad.any():
        example = frame[duration].iloc[int(np.flatnonzero(bad)[0])]
        raise UserError(f"{what}: duration column {duration!r} has {int(bad.sum())} value(s) that are missing, "
                         f"non-numeric, infinite, zero or negative (e.g. {example!r} at row "
                         f"{int(np.flatnonzero(bad)[0])}); durations must be positive and finite: drop or fix those "
                         "rows (a same-day event can be recorded as 0.5 days)")
    if len(frame) < MIN_ROWS:
        raise UserError(f"{what}: only {len(frame)} rows; at least {MIN_ROWS} patients are needed for "
                         "5-fold cross-validation")
    events = _event_values(frame[event], column=event, what=what)
    if events.sum() < MIN_EVENTS:
        raise UserError(f"{what}: event column {event!r} has {int(events.sum())} event(s) (value 1); at least "
                         f"{MIN_EVENTS} observed events are needed to fit and evaluate a survival model "
                         "(check that 1 means 'event observed' and 0 'censored')")
    covariates = frame.drop(columns=[duration, event]).reset_index(drop=True)
    if covariates.shape[1] == 0:
        raise UserError(f"{what}: no covariate columns besides {duration!r} and {event!r}; add at least one")
    empty = [c for c in covariates.columns if covariates[c].isna().all()]
    if empty:
        raise UserError(f"{what}: covariate column(s) {empty} are entirely missing; drop them from the file")
    categorical = list(categorical or [])
    numeric = [c for c in covariates.columns if c not in categorical and _is_numeric(covariates[c])]
    categorical = [c for c in covariates.columns if c not in numeric]
    for column in categorical:
        covariates[column] = _as_category_strings(covariates[column])
    for column in numeric:
        covariates[column] = covariates[column].astype(float)
    return SurvivalData(name=name, covariates=covariates, time=times, event=events,
                        numeric=tuple(numeric), categorical=tuple(categorical))


def _is_numeric(series: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
            and not isinstance(series.dtype, pd.CategoricalDtype))


def _as_category_strings(series: pd.Series) -> pd.Series:
    """Categorical covariate as strings, missing values as their own level 'missing'."""
    values = series.astype(object).where(series.notna(), "missing")
    return values.map(str)


def _event_values(series: pd.Series, *, column: str, what: str) -> np.ndarray:
    values = series
    if values.dtype == object:
        lowered = values.astype(str).str.strip().str.lower()
        mapping = {"0": 0, "1": 1, "0.0": 0, "1.0": 1, "true": 1, "false": 0}
        mapped = lowered.map(mapping)
        bad = mapped.isna()
        if bad.any():
            raise UserError(f"{what}: event column {column!r} must hold 0/1 (1 = event observed, 0 = censored); "
                             f"found {sorted(set(values[bad].astype(str)))[:5]}; recode it")
        return mapped.to_numpy(dtype=int)
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    ok = np.isin(numbers, (0.0, 1.0))
    if not ok.all():
        found = sorted({str(v) for v in values[~ok]})[:5]
        raise UserError(f"{what}: event column {column!r} must hold 0/1 (1 = event observed, 0 = censored); "
                         f"found {found} in {int((~ok).sum())} row(s); recode it or drop those rows")
    return numbers.astype(int)


# --------------------------------------------------------------------------------------- loaders
def load_support(*, keep_leaky: bool = False) -> SurvivalData:
    """SUPPORT (SurvSet ``support2``): 9,105 patients, 6,201 deaths; ``pid`` and ``fac_sfdm2`` dropped.

    ``keep_leaky=True`` keeps ``fac_sfdm2`` (only for the leakage test that shows why it goes).
    """
    try:
        from SurvSet.data import SurvLoader
    except ImportError as err:  # pragma: no cover - installed with the project
        raise InputFileNotFound("SUPPORT comes from the SurvSet package; run `pip install SurvSet`") from err
    import warnings

    with warnings.catch_warnings():  # SurvSet's pickle names numpy.core (deprecated in NumPy 2): harmless
        warnings.simplefilter("ignore", DeprecationWarning)
        frame = SurvLoader().load_dataset("support2")["df"]
    dropped = dict(DROPPED["support"])
    if keep_leaky:
        dropped.pop("fac_sfdm2")
    frame = frame.drop(columns=list(dropped))
    categorical = [c for c in frame.columns if c.startswith("fac_")]
    data = validate_survival_frame(frame, duration="time", event="event", what="SUPPORT (SurvSet support2)",
                                   name="support" if not keep_leaky else "support-with-sfdm2",
                                   categorical=categorical)
    return dataclasses.replace(data, dropped=dropped)


def _load_sksurv(loader_name: str, name: str) -> SurvivalData:
    import sksurv.datasets as datasets

    covariates, y = getattr(datasets, loader_name)()
    event_field, time_field = y.dtype.names
    frame = covariates.copy()
    frame["time"] = y[time_field].astype(float)
    frame["event"] = y[event_field].astype(int)
    categorical = [c for c in covariates.columns if not _is_numeric(covariates[c])]
    return validate_survival_frame(frame, duration="time", event="event", what=f"{name} (scikit-survival)",
                                   name=name, categorical=categorical)


def load_whas500() -> SurvivalData:
    """WHAS500 (``sksurv.datasets.load_whas500``): 500 patients, 215 deaths, 14 covariates."""
    return _load_sksurv("load_whas500", "whas500")


def load_gbsg2() -> SurvivalData:
    """GBSG2 (``sksurv.datasets.load_gbsg2``): 686 patients, 299 recurrences or deaths, 8 covariates."""
    return _load_sksurv("load_gbsg2", "gbsg2")


def load_dataset(name: str) -> SurvivalData:
    loaders = {"support": load_support, "whas500": load_whas500, "gbsg2": load_gbsg2}
    if name not in loaders:
        raise UserError(f"unknown dataset {name!r}; choose one of {list(loaders)} or use --source csv")
    data = loaders[name]()
    log.info("%s: %d patients, %d events, %d numeric + %d categorical covariates", name, data.n, data.n_events,
             len(data.numeric), len(data.categorical))
    return data


def load_csv(path: str | Path, *, duration_column: str, event_column: str,
             categorical: list[str] | None = None, encoding: str = "utf-8") -> SurvivalData:
    """A user's cohort: one row per patient, a duration column, a 0/1 event column, covariates."""
    frame = read_table(path, what="survival CSV", encoding=encoding)
    return validate_survival_frame(frame, duration=duration_column, event=event_column,
                                   what=f"survival CSV {path}", name=Path(path).stem, categorical=categorical)


def load_parquet(path: str | Path, *, duration_column: str, event_column: str,
                 categorical: list[str] | None = None, chunk_rows: int = 65536) -> SurvivalData:
    """A cohort stored as a directory of Parquet files (or one large CSV), read chunk by chunk.

    The same table as :func:`load_csv` (one row per patient, a duration, a 0/1 event, covariates)
    through the shared chunked reader (:func:`shared.data.pipelines.read_table_chunked`): the
    duration and event columns are checked in the schema before any row is read. The cohort then
    goes through the in-memory protocol (5-fold CV with preprocessing fitted per training fold).
    """
    from shared.data.pipelines import read_table_chunked

    hint = "pass --duration-column and --event-column with the names in your table's schema"
    what = f"survival Parquet {path}"
    frame = read_table_chunked(path, require=[duration_column, event_column], chunk_rows=chunk_rows,
                               what="survival Parquet", hint=hint)
    return validate_survival_frame(frame, duration=duration_column, event=event_column, what=what,
                                   name=Path(path).stem, categorical=categorical)
