"""Hyperparameter-search results of a run, for the report's tuning page.

A run that was started with ``--tune`` holds ``extra["tuning"]`` in its metrics.json (method,
trials, best configuration, best validation score, score name, ...) and the trial table
``<run>/tuning/trials.csv`` (columns ``trial, status, score`` and one per hyperparameter; a nested
search adds a group column such as ``fold`` or ``search``). ``load_tuning`` reads both and never
raises: a missing, empty or corrupt trials.csv becomes a message (the page still shows the summary
and the best configuration from metrics.json).
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .tables import higher_is_better

#: columns of trials.csv that are not hyperparameters
TRIAL_COLUMNS = ("trial", "status", "score")
#: columns that group the trials of several searches (e.g. one per outer fold of a nested search)
GROUP_COLUMNS = ("search", "fold", "group")
#: largest trials.csv read (bytes); a bigger file is reported, not read
MAX_BYTES = 20_000_000


@dataclasses.dataclass
class TuningInfo:
    """What the tuning page shows for one run."""

    summary: dict[str, Any]                       # extra["tuning"] from metrics.json ({} if absent)
    trials_path: Path | None = None               # the trials.csv that was read (None if absent/unreadable)
    columns: list[str] = dataclasses.field(default_factory=list)
    rows: list[dict[str, str]] = dataclasses.field(default_factory=list)
    params: list[str] = dataclasses.field(default_factory=list)
    group: str | None = None
    direction: str | None = None                  # "min", "max" or None (unknown: nothing highlighted)
    best_rows: set[int] = dataclasses.field(default_factory=set)
    figures: list[Path] = dataclasses.field(default_factory=list)

    @property
    def best(self) -> dict[str, Any] | None:
        """The best configuration: from metrics.json, else the best row of the (ungrouped) trial table."""
        best = self.summary.get("best")
        if isinstance(best, Mapping) and best:
            return dict(best)
        if len(self.best_rows) == 1:
            row = self.rows[next(iter(self.best_rows))]
            return {p: row.get(p, "") for p in self.params}
        return None

    @property
    def completed(self) -> int:
        return sum(1 for r in self.rows if r.get("status", "").upper() == "COMPLETED")


def number(text: Any) -> float | None:
    """``text`` as a finite float, or None."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    for result in results:
        extra = result.get("extra")
        if isinstance(extra, Mapping) and isinstance(extra.get("tuning"), Mapping):
            return dict(extra["tuning"])
    return {}


def _direction(summary: Mapping[str, Any]) -> str | None:
    direction = summary.get("direction")
    if direction in ("min", "max"):
        return str(direction)
    score = summary.get("score")
    if isinstance(score, str) and score.strip():
        name = score.lower().replace("validation", "").strip(" _-") or score.lower()
        better = higher_is_better(name)
        if better is not None:
            return "max" if better else "min"
    return None


def _trials_path(run_path: Path, summary: Mapping[str, Any]) -> Path:
    directory = summary.get("directory")
    if isinstance(directory, str) and directory.strip():
        candidate = (run_path / directory.strip()).resolve()
        if run_path.resolve() in (candidate, *candidate.parents):   # never read outside the run directory
            if candidate.suffix.lower() == ".csv":
                return candidate
            return candidate / "trials.csv"
    return run_path / "tuning" / "trials.csv"


def _read_trials(info: TuningInfo, path: Path, problem: Callable[[str], None]) -> None:
    rerun = "rerun the case study with --tune to rewrite it"
    try:
        if path.stat().st_size > MAX_BYTES:
            problem(f"tuning/{path.name} is larger than {MAX_BYTES // 1_000_000} MB; the trial table is not shown")
            return
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip() for c in (reader.fieldnames or [])]
            raw = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        problem(f"tuning/{path.name} cannot be read ({err}); no trial table: {rerun}")
        return
    if not columns:
        problem(f"tuning/{path.name} is empty (the search stopped before writing it); no trial table: {rerun}")
        return
    missing = [c for c in ("status", "score") if c not in columns]
    if missing:
        problem(f"tuning/{path.name} lacks the column(s) {missing} (columns found: {columns}); it is not a trial "
                f"table written by shared.tuning: {rerun}")
        return
    rows, bad = [], 0
    for record in raw:
        if None in record or any(v is None for v in record.values()):   # too many / too few fields
            bad += 1
            continue
        rows.append({k.strip(): (v or "").strip() for k, v in record.items()})
    if bad:
        problem(f"tuning/{path.name}: {bad} malformed row(s) (wrong number of fields) skipped; the file may be "
                f"truncated")
    info.trials_path, info.columns, info.rows = path, columns, rows
    info.group = next((c for c in GROUP_COLUMNS if c in columns), None)
    space = info.summary.get("search_space")
    declared = [str(p) for p in space] if isinstance(space, list) else []
    others = [c for c in columns if c not in TRIAL_COLUMNS and c != info.group]
    info.params = [p for p in declared if p in columns] + [c for c in others if c not in declared]
    if not rows:
        problem(f"tuning/{path.name} has a header but no trials; no trial table: {rerun}")


def _mark_best(info: TuningInfo) -> None:
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(info.rows):
        if row.get("status", "").upper() == "COMPLETED" and number(row.get("score")) is not None:
            groups.setdefault(row.get(info.group, "") if info.group else "", []).append(i)
    if info.direction is not None:
        pick = min if info.direction == "min" else max
        info.best_rows = {pick(idx, key=lambda i: number(info.rows[i]["score"])) for idx in groups.values()}
        return
    target = number(info.summary.get("best_val_score"))
    if target is not None:   # direction unknown, but metrics.json says which score won
        info.best_rows = {i for idx in groups.values() for i in idx
                          if math.isclose(number(info.rows[i]["score"]), target, rel_tol=1e-6, abs_tol=1e-9)}


def _shown(path: Path, run_path: Path) -> str:
    try:
        return path.resolve().relative_to(run_path.resolve()).as_posix()
    except ValueError:
        return str(path)


def load_tuning(run_path: Path, results: list[dict[str, Any]], figures: list[Path],
                problem: Callable[[str], None]) -> TuningInfo | None:
    """The run's search results, or None when the run was not tuned (no extra["tuning"], no trials.csv)."""
    summary = _summary(results)
    path = _trials_path(run_path, summary)
    if not summary and not path.is_file():
        return None
    info = TuningInfo(summary=summary, direction=_direction(summary),
                      figures=[f for f in figures if f.stem.lower().startswith("tuning")])
    if path.is_file():
        _read_trials(info, path, problem)
    else:
        problem(f"metrics.json has tuning results but {_shown(path, run_path)} is missing (deleted, or the "
                f"search was run elsewhere); the trial table cannot be shown, only the best configuration")
    if not summary:
        problem("tuning/trials.csv exists but metrics.json has no extra['tuning'] (the run did not finish, or an "
                "older version wrote it); the trial table is shown without the tuned result")
    _mark_best(info)
    return info
