"""Column-type inference and the training schema that ``deepcases predict`` checks new rows against.

Each column gets one kind: ``numeric``, ``categorical``, ``text``, ``datetime``, ``id`` (kept out of
the model, carried into predictions) or ``ignore`` (empty or constant). Inference looks only at the
column's type and shape (dtype, distinct values, words per value), never at the target, so doing
it once on the whole table leaks nothing; the fitted preprocessing (medians, scales, category
levels) is learnt per training fold in :mod:`shared.fit.preprocess`.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from ..errors import UserError

log = logging.getLogger(__name__)

KINDS = ("numeric", "categorical", "text", "datetime", "id", "ignore")
FEATURE_KINDS = ("numeric", "categorical", "datetime")
_ID_NAME = re.compile(r"(^|[_\W])(id|ids|idx|index|key|uuid|rownames?)$|^(id|idx|index|key|uuid|rownames?)($|[_\W])",
                      re.IGNORECASE)


@dataclasses.dataclass
class ColumnInfo:
    name: str
    kind: str
    dtype: str
    reason: str
    role: str = "feature"           # feature, target, event, time, text, id, ignored
    n_unique: int = 0
    n_missing: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Schema:
    """What a run was trained on: the task, the special columns and every column's kind."""

    task: str
    target: str
    columns: list[ColumnInfo]
    event_column: str | None = None
    time_column: str | None = None
    text_column: str | None = None
    classes: list[str] | None = None        # classification/text: the label of each output column

    def kind_of(self, name: str) -> str:
        return next(c.kind for c in self.columns if c.name == name)

    def names(self, *kinds: str, role: str = "feature") -> list[str]:
        return [c.name for c in self.columns if c.role == role and (not kinds or c.kind in kinds)]

    @property
    def feature_columns(self) -> list[str]:
        return self.names(*FEATURE_KINDS)

    @property
    def id_columns(self) -> list[str]:
        return self.names("id", role="id")

    @property
    def input_columns(self) -> list[str]:
        """Columns a prediction needs: the features, or the text, or the date + series for forecasts."""
        if self.task == "text":
            return [self.text_column]
        if self.task == "forecast":
            return [self.time_column, self.target]
        return self.feature_columns

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "target": self.target, "event_column": self.event_column,
                "time_column": self.time_column, "text_column": self.text_column, "classes": self.classes,
                "columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Schema":
        try:
            columns = [ColumnInfo(**c) for c in data["columns"]]
            return cls(task=data["task"], target=data["target"], columns=columns,
                       event_column=data.get("event_column"), time_column=data.get("time_column"),
                       text_column=data.get("text_column"), classes=data.get("classes"))
        except (KeyError, TypeError) as err:
            raise UserError(f"schema.json is incomplete ({err}); it was not written by `deepcases fit`, "
                             "or by an older version: refit the data") from err

    def table(self) -> str:
        """The inferred columns as a Markdown table (log, run directory, docs)."""
        lines = ["| column | kind | role | dtype | distinct | missing | why |", "|---|---|---|---|---|---|---|"]
        for c in self.columns:
            lines.append(f"| {c.name} | {c.kind} | {c.role} | {c.dtype} | {c.n_unique} | {c.n_missing} | {c.reason} |")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------- inference
def _words_per_value(values: pd.Series) -> float:
    return float(values.astype(str).str.split().str.len().mean())


def parse_datetimes(values: pd.Series) -> pd.Series:
    """Parse strings as dates without pandas' format warnings; unparseable values become NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = pd.to_datetime(values, errors="coerce", format="mixed")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out


def _looks_like_dates(values: pd.Series) -> bool:
    sample = values.astype(str).head(500)
    if not sample.str.contains(r"\d", regex=True).all() or not sample.str.contains(r"[-/:.]", regex=True).all():
        return False
    return bool(parse_datetimes(sample).notna().all())


def infer_kind(series: pd.Series) -> tuple[str, str]:
    """``(kind, reason)`` for one column, from its dtype and shape only."""
    values = series.dropna()
    n = len(series)
    if values.empty:
        return "ignore", "empty in every row"
    n_unique = int(values.nunique())
    if n_unique == 1:
        return "ignore", f"constant (always {values.iloc[0]!r})"
    name = str(series.name)
    if pd.api.types.is_bool_dtype(series):
        return "numeric", "boolean (as 0/1)"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime", "datetime dtype"
    if pd.api.types.is_numeric_dtype(series):
        integer = pd.api.types.is_integer_dtype(series) or bool(np.all(np.mod(values.to_numpy(float), 1) == 0))
        if integer and n_unique == n == len(values):
            if _ID_NAME.search(name):
                return "id", "unique integers named like an identifier"
            if bool(np.all(np.diff(np.sort(values.to_numpy(float))) == 1)):
                return "id", "unique consecutive integers (a row number)"
        return "numeric", f"numeric dtype {series.dtype}"
    if isinstance(series.dtype, pd.CategoricalDtype):
        return "categorical", "categorical dtype"
    as_text = values.astype(str).str.strip()
    numbers = pd.to_numeric(as_text, errors="coerce")
    if numbers.notna().all():
        return "numeric", "numbers stored as text"
    if _looks_like_dates(as_text):
        return "datetime", "every value parses as a date"
    words = _words_per_value(as_text)
    if words >= 4 and n_unique >= 0.5 * len(values):
        return "text", f"free text ({words:.1f} words per value, {n_unique} distinct)"
    if n_unique == len(values) == n and words <= 1.5 and (_ID_NAME.search(name) or n >= 20):
        return "id", "a distinct short string in every row"
    return "categorical", f"{n_unique} distinct labels"


def infer_schema(frame: pd.DataFrame, *, task: str, target: str, event_column: str | None = None,
                 time_column: str | None = None, text_column: str | None = None,
                 column_types: Mapping[str, str] | None = None, classes: list[str] | None = None) -> Schema:
    """Kinds and roles of every column; logs what it inferred and why."""
    column_types = dict(column_types or {})
    unknown = sorted(set(column_types) - set(map(str, frame.columns)))
    if unknown:
        raise UserError(f"column_types names column(s) {unknown} that are not in the data; found "
                         f"{list(map(str, frame.columns))}")
    special = {target: "target", event_column: "event", time_column: "time", text_column: "text"}
    columns: list[ColumnInfo] = []
    for name in frame.columns:
        series = frame[name]
        name = str(name)
        n_missing = int(series.isna().sum())
        n_unique = int(series.nunique(dropna=True))
        dtype = str(series.dtype)
        role = special.get(name)
        if role is not None:
            kind = {"target": "categorical" if task in ("classification", "text") else "numeric", "event": "numeric",
                    "time": "datetime", "text": "text"}[role]
            reason = {"target": "--target", "event": "--event-column", "time": "--time-column",
                      "text": "--text-column"}[role]
            if task == "forecast" and role not in ("target", "time"):
                role = "ignored"
            columns.append(ColumnInfo(name, kind, dtype, reason, role, n_unique, n_missing))
            continue
        if name in column_types:
            kind, reason = column_types[name], "set in column_types"
        else:
            kind, reason = infer_kind(series)
        if kind == "id":
            role = "id"
        elif kind == "ignore":
            role = "ignored"
        elif task == "forecast":
            role, reason = "ignored", f"{kind}; forecasts use the target series only"
        elif task == "text":
            role, reason = "ignored", f"{kind}; the text task uses the text column only"
        elif kind == "text":
            role, reason = "ignored", f"{reason}; fit it with --task text --text-column {name}"
        else:
            role = "feature"
        columns.append(ColumnInfo(name, kind, dtype, reason, role, n_unique, n_missing))
    schema = Schema(task=task, target=target, columns=columns, event_column=event_column, time_column=time_column,
                    text_column=text_column, classes=classes)
    counts: dict[str, int] = {}
    for c in columns:
        if c.role == "feature":
            counts[c.kind] = counts.get(c.kind, 0) + 1
    uses = {"text": f"the text in {text_column!r}", "forecast": f"the series {target!r} over {time_column!r}"}
    log.info("inferred columns (%s): %s", uses.get(task) or ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
             or "no usable features",
             "; ".join(f"{c.name}={c.kind}" + ("" if c.role == "feature" else f" ({c.role})") for c in columns))
    for c in columns:
        log.debug("column %s: %s, %s (%s)", c.name, c.kind, c.role, c.reason)
    return schema


def feature_kinds(frame: pd.DataFrame, column_types: Mapping[str, str] | None = None) -> dict[str, str]:
    """Kinds of the model features of a plain feature frame (no target), for ``TabularPreprocessor``."""
    column_types = dict(column_types or {})
    out = {}
    for name in frame.columns:
        kind = column_types.get(str(name)) or infer_kind(frame[name])[0]
        if kind in FEATURE_KINDS:
            out[str(name)] = kind
    return out


# ------------------------------------------------------------------------ checking new rows
def check_new_rows(frame: pd.DataFrame, schema: Schema, *, strict: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """Validate rows for prediction against the training schema.

    Missing input columns and values of the wrong type are errors. Columns the model did not use
    (including the target, if present) are ignored with a warning, or rejected with ``strict``.
    Returns the frame reduced to the id and input columns, with each column cast as in training,
    and the warnings.
    """
    if frame.empty:
        raise UserError("the new data has no rows; pass a file with a header row and data rows")
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    needed = schema.input_columns
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise UserError(f"the new data lacks column(s) {missing} that the model was trained on; found "
                         f"{list(frame.columns)}; add them (values may be empty for numeric and categorical "
                         "columns, they are imputed)")
    notes: list[str] = []
    known = set(needed) | set(schema.id_columns)
    harmless = {schema.target, schema.event_column}
    extra = [c for c in frame.columns if c not in known]
    unexpected = [c for c in extra if c not in harmless]
    if unexpected:
        trained = {c.name for c in schema.columns}
        unused = [c for c in unexpected if c in trained]
        new = [c for c in unexpected if c not in trained]
        if strict:
            raise UserError(f"the new data has column(s) the model does not use: {unexpected}; drop them "
                             "(or run without --strict to ignore them)")
        if new:
            notes.append(f"ignored column(s) not seen in training: {new}")
        if unused:
            log.info("ignored column(s) the model does not use (as in training): %s", unused)
    for name in needed:
        frame[name] = _cast(frame[name], name, schema.kind_of(name))
    for note in notes:
        log.warning(note)
    keep = [c for c in schema.id_columns if c in frame.columns] + needed
    return frame[keep], notes


def _cast(series: pd.Series, name: str, kind: str) -> pd.Series:
    if kind == "numeric":
        if pd.api.types.is_bool_dtype(series):
            return series.astype(float)
        cleaned = series
        if not pd.api.types.is_numeric_dtype(series):
            cleaned = series.where(series.isna(), series.astype(str).str.strip()).replace("", np.nan)
        values = pd.to_numeric(cleaned, errors="coerce")
        bad = values.isna() & cleaned.notna()
        if bad.any():
            first = cleaned[bad].iloc[0]
            raise UserError(f"column {name!r} was numeric in training but holds {int(bad.sum())} non-numeric "
                             f"value(s) such as {first!r} (row {series.index[bad][0]}); fix or blank them")
        return values.astype(float)
    if kind == "datetime":
        values = parse_datetimes(series)
        bad = values.isna() & series.notna()
        if bad.any():
            raise UserError(f"column {name!r} held dates in training but {int(bad.sum())} value(s) are not dates, "
                             f"such as {series[bad].iloc[0]!r}; use ISO dates such as 2013-01-31")
        return values
    if kind == "text":
        return series.fillna("").astype(str)
    return series  # categorical: unseen levels are handled (and reported) by the preprocessor
