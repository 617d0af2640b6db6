"""Results tables: deep models and baselines side by side, one row per model, one column per metric."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shared.artifacts import atomic_path

log = logging.getLogger(__name__)

__all__ = ["ResultsTable"]

KINDS = ("deep", "baseline")


def _numbers(name: str, values: Mapping[str, Any] | None) -> dict[str, float]:
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise TypeError(f"{name} must be a dict of metric name -> number, got {type(values).__name__}")
    out: dict[str, float] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"{name} keys must be non-empty metric names, got {key!r}")
        if value is None:  # a metric without a value (results files store NaN as null)
            out[key] = math.nan
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"{name}[{key!r}] must be a number or None, got {value!r}")
        out[key] = float(value)
    return out


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


@dataclass(frozen=True)
class _Row:
    model: str
    kind: str
    metrics: dict[str, float]
    std: dict[str, float] = field(default_factory=dict)
    note: str | None = None


class ResultsTable:
    """Collects one row per model and renders it as a DataFrame, a Markdown table or a CSV file.

    >>> table = ResultsTable(title="recommender, protocol A")
    >>> table.add("mf_biased", "deep", {"rmse": 0.87}, std={"rmse": 0.002})
    >>> table.add("bias_baseline", "baseline", {"rmse": 0.90})
    >>> table.best("rmse", higher_is_better=False)
    'mf_biased'
    """

    def __init__(self, title: str | None = None) -> None:
        if title is not None and not isinstance(title, str):
            raise TypeError(f"title must be a string or None, got {type(title).__name__}")
        self.title = title
        self._rows: list[_Row] = []

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, name: str, kind: str, metrics: Mapping[str, Any], *, std: Mapping[str, Any] | None = None,
            note: str | None = None) -> None:
        """Add a model's row (``kind`` is "deep" or "baseline"); ``std`` holds the spread of some metrics.

        A metric value of ``None`` or NaN means "not available" and shows as ``–``.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty model name, got {name!r}")
        if any(r.model == name for r in self._rows):
            raise ValueError(f"model {name!r} is already in the table; give each row a distinct name")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
        values = _numbers("metrics", metrics)
        if not values:
            raise ValueError("metrics is empty; pass at least one metric, e.g. {'rmse': 0.87}")
        spread = _numbers("std", std)
        extra = sorted(set(spread) - set(values))
        if extra:
            raise ValueError(f"std has metrics {extra} that are not in metrics; give a value for each")
        if note is not None and not isinstance(note, str):
            raise TypeError(f"note must be a string or None, got {type(note).__name__}")
        self._rows.append(_Row(name, kind, values, spread, note))

    def _metric_names(self) -> list[str]:
        names: dict[str, None] = {}
        for row in self._rows:
            names.update(dict.fromkeys(row.metrics))
        return list(names)

    def _require_rows(self) -> None:
        if not self._rows:
            raise ValueError("the table is empty; add rows with table.add(...) first")

    def to_frame(self) -> pd.DataFrame:
        """Columns: model, kind, each metric, ``<metric>_std`` where any std was given, and note."""
        names = self._metric_names()
        std_names = [m for m in names if any(m in r.std for r in self._rows)]
        records = []
        for row in self._rows:
            rec: dict[str, Any] = {"model": row.model, "kind": row.kind}
            rec.update({m: row.metrics.get(m, math.nan) for m in names})
            rec.update({f"{m}_std": row.std.get(m, math.nan) for m in std_names})
            rec["note"] = row.note
            records.append(rec)
        return pd.DataFrame(records, columns=["model", "kind", *names, *(f"{m}_std" for m in std_names), "note"])

    def to_markdown(self, digits: int = 4) -> str:
        """Pipe table (under a ``### title`` line if the table has a title).

        A metric with a std shows as ``0.8700 ± 0.0020``, a missing one as ``–``.
        """
        if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
            raise ValueError(f"digits must be an int >= 0, got {digits!r}")
        self._require_rows()
        names = self._metric_names()
        with_note = any(r.note for r in self._rows)
        header = ["model", "kind", *names] + (["note"] if with_note else [])
        lines = ["| " + " | ".join(_cell(h) for h in header) + " |",
                 "|" + "|".join(["---", "---"] + ["---:"] * len(names) + (["---"] if with_note else [])) + "|"]
        for row in self._rows:
            cells = [_cell(row.model), row.kind]
            for m in names:
                if math.isnan(row.metrics.get(m, math.nan)):
                    cells.append("–")
                elif not math.isnan(row.std.get(m, math.nan)):
                    cells.append(f"{row.metrics[m]:.{digits}f} ± {row.std[m]:.{digits}f}")
                else:
                    cells.append(f"{row.metrics[m]:.{digits}f}")
            if with_note:
                cells.append(_cell(row.note or ""))
            lines.append("| " + " | ".join(cells) + " |")
        title = f"### {_cell(self.title)}\n\n" if self.title else ""
        return title + "\n".join(lines) + "\n"

    def to_csv(self, path: str | Path) -> Path:
        """Write ``to_frame()`` as CSV atomically (temporary file beside ``path``, then rename)."""
        self._require_rows()
        frame = self.to_frame()
        with atomic_path(path) as tmp:
            frame.to_csv(tmp, index=False)
        log.debug("results table written to %s", path)
        return Path(path)

    def to_records(self) -> list[dict[str, Any]]:
        """Rows in the ``models`` shape of PROTOCOLS.md's results file (NaN metrics become ``None``)."""
        out = []
        for row in self._rows:
            rec: dict[str, Any] = {"name": row.model, "kind": row.kind,
                                   "metrics": {k: None if math.isnan(v) else v for k, v in row.metrics.items()}}
            std = {k: v for k, v in row.std.items() if not math.isnan(v)}
            if std:
                rec["std"] = std
            if row.note:
                rec["note"] = row.note
            out.append(rec)
        return out

    def best(self, metric: str, higher_is_better: bool) -> str:
        """Name of the model with the best ``metric`` (first added wins a tie; rows without it are skipped)."""
        if not isinstance(higher_is_better, bool):
            raise TypeError(f"higher_is_better must be True or False, got {higher_is_better!r}")
        self._require_rows()
        scored = [(r.metrics[metric], i) for i, r in enumerate(self._rows)
                  if metric in r.metrics and not math.isnan(r.metrics[metric])]
        if not scored:
            raise ValueError(f"no model has a value for metric {metric!r}; metrics in the table: "
                             f"{self._metric_names()}")
        sign = -1.0 if higher_is_better else 1.0
        _, index = min(scored, key=lambda pair: (sign * pair[0], pair[1]))
        return self._rows[index].model
