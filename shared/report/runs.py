"""Find run directories and read what they hold, tolerating missing or older files.

A runs root looks like ``runs/<app>/<run-id>/`` (see ``shared.artifacts.RunDir``). ``find_runs``
accepts run directories, application directories (``runs/<app>``) and roots (``runs/``): for an
application directory or a root it keeps the latest finished run of each application; a run
directory named explicitly is always kept. ``load_run`` never raises on a bad run directory: each
problem becomes a message in ``RunInfo.problems`` (also logged), and the report shows what it can.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Any

from ..artifacts import read_status, run_is_done
from .tables import as_results, is_number
from .tuning import load_tuning

log = logging.getLogger(__name__)

#: files or folders whose presence marks a run directory
RUN_MARKERS = ("status.json", "metrics.json", "config.json", "environment.json", "data.json", "results.md", "figures")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
#: folder names under a runs root that are never applications
SKIP_DIRS = {"report", "reports", "__pycache__"}

_MISSING = {
    "metrics.json": "metrics.json is missing: the run did not finish (it crashed, was interrupted or is still "
                    "running); no results table. Rerun the case study to complete it",
    "config.json": "config.json is missing (written by an older version, or the run never started); "
                   "the configuration cannot be shown",
    "environment.json": "environment.json is missing (older version); package versions unknown",
    "data.json": "data.json is missing (older version, or the run stopped before loading data); "
                 "no data fingerprint",
}


@dataclasses.dataclass
class RunInfo:
    """Everything the report shows about one run directory."""

    path: Path
    app: str
    run_id: str
    results: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    legacy_metrics: dict[str, Any] | None = None
    config: Any = None
    environment: Any = None
    data: Any = None
    figures: list[Path] = dataclasses.field(default_factory=list)
    charts: list[Path] = dataclasses.field(default_factory=list)
    files: list[Path] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    has_logs: bool = False
    tuning: Any = None  # shared.report.tuning.TuningInfo when the run holds hyperparameter-search results
    maps: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # maps/<name>.json (shared.maps.learned)

    def problem(self, message: str) -> None:
        self.problems.append(message)
        log.warning("%s (%s): %s", self.app, self.path, message)


def is_run_dir(path: Path) -> bool:
    return path.is_dir() and any((path / marker).exists() for marker in RUN_MARKERS)


def _subdirs(path: Path) -> list[Path]:
    try:
        return sorted(p for p in path.iterdir()
                      if p.is_dir() and not p.name.startswith(".") and p.name not in SKIP_DIRS)
    except OSError as err:
        log.warning("cannot list %s: %s", path, err)
        return []


def _finished(run: Path) -> bool:
    return run_is_done(run)


def _stamp(run: Path) -> float:
    marker = run / "metrics.json"
    try:
        return (marker if marker.is_file() else run).stat().st_mtime
    except OSError:
        return 0.0


def latest_run(app_dir: Path) -> tuple[Path | None, list[Path]]:
    """The latest finished run of an application (or the latest run if none finished), and any
    newer unfinished runs skipped for it."""
    runs = [p for p in _subdirs(app_dir) if is_run_dir(p)]
    if not runs:
        return None, []
    runs.sort(key=lambda p: (_stamp(p), p.name))
    finished = [p for p in runs if _finished(p)]
    chosen = finished[-1] if finished else runs[-1]
    newer = [p for p in runs if not _finished(p) and _stamp(p) > _stamp(chosen)]
    return chosen, newer


def find_runs(paths: list[str | Path] | tuple[str | Path, ...]) -> tuple[list[tuple[Path, list[Path]]], list[str]]:
    """Resolve run directories, application directories and runs roots to run directories.

    Returns ``([(run_dir, newer_unfinished_runs), ...], problems)``; a path that holds no run is
    reported in ``problems`` (and logged) instead of raising.
    """
    found: list[tuple[Path, list[Path]]] = []
    problems: list[str] = []

    def note(message: str) -> None:
        problems.append(message)
        log.warning(message)

    for raw in paths:
        path = Path(raw)
        if not path.exists():
            note(f"{path} does not exist; pass a run directory (runs/APP/RUN_ID), an application directory "
                 f"(runs/APP) or a runs root (runs/)")
            continue
        if path.is_file():
            if path.name == "metrics.json":
                found.append((path.parent, []))
            else:
                note(f"{path} is a file; pass a run directory or a runs root")
            continue
        if is_run_dir(path):
            found.append((path, []))
            continue
        children = _subdirs(path)
        if any(is_run_dir(c) for c in children):  # an application directory
            chosen, newer = latest_run(path)
            if chosen is not None:
                found.append((chosen, newer))
            continue
        before = len(found)
        for app_dir in children:
            chosen, newer = latest_run(app_dir)
            if chosen is not None:
                found.append((chosen, newer))
        if len(found) == before:
            note(f"no run directories under {path} (expected {path}/APP/RUN_ID/ with metrics.json); "
                 f"run `deepcases demo` or `deepcases run APP` first")
    unique: dict[Path, tuple[Path, list[Path]]] = {}
    for run, newer in found:
        unique.setdefault(run.resolve(), (run, newer))
    return list(unique.values()), problems


def _read_json(run: RunInfo, name: str) -> Any:
    path = run.path / name
    if not path.is_file():
        run.problem(_MISSING.get(name, f"{name} is missing"))
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        run.problem(f"{name} cannot be read ({err}); it may be truncated or from an older version: rerun the "
                    f"case study")
        return None


def _check_results(run: RunInfo, payload: Any) -> None:
    if payload is None:
        return
    items = as_results(payload)
    if isinstance(payload, dict) and "models" not in payload:
        flat = {k: v for k, v in payload.items() if is_number(v)}
        if flat:
            run.legacy_metrics = flat
            run.problem("metrics.json is in an older format (plain metric values, no list of models); shown as "
                        "a plain table without the baselines. Rerun the case study for the full comparison")
        else:
            run.problem("metrics.json has no 'models' list (unknown or older format); no results table. "
                        "Rerun the case study")
        return
    for i, item in enumerate(items, 1):
        models = item.get("models")
        if not isinstance(models, list) or not models:
            run.problem(f"metrics.json result #{i} has no models; skipped")
            continue
        bad = [m for m in models if not (isinstance(m, dict) and m.get("name") and isinstance(m.get("metrics"), dict))]
        if bad:
            run.problem(f"metrics.json result #{i}: {len(bad)} model entr{'y' if len(bad) == 1 else 'ies'} without "
                        f"a name or metrics; skipped")
        missing = [k for k in ("app", "protocol", "dataset") if k not in item]
        if missing:
            run.problem(f"metrics.json result #{i} lacks {missing} (older version); shown without them")
        run.results.append(item)


_MAP_KEYS = ("name", "title", "rows", "figure")


def _load_maps(run: RunInfo) -> list[dict[str, Any]]:
    """The learned maps' records (``maps/*.json``), each with the quality rows of its maps."""
    folder = run.path / "maps"
    if not folder.is_dir():
        return []
    records = []
    for file in sorted(folder.glob("*.json")):
        record = _read_json(run, f"maps/{file.name}")
        if record is None:
            continue
        if not isinstance(record, dict) or any(key not in record for key in _MAP_KEYS) \
                or not isinstance(record["rows"], list):
            run.problem(f"maps/{file.name} is not a learned-map record (needs {', '.join(_MAP_KEYS)}); skipped")
            continue
        records.append(record)
    return records


def load_run(path: str | Path, *, newer_unfinished: list[Path] | None = None) -> RunInfo:
    """Read one run directory; problems are collected, never raised."""
    path = Path(path)
    app = path.parent.name or "run"
    run = RunInfo(path=path, app=app, run_id=path.name)
    if not path.is_dir():
        run.problem(f"{path} is not a directory")
        return run
    status = read_status(path)
    # a finished `deepcases map` run holds maps/ and no metrics.json: a map, not a case study's results
    map_only = (not (path / "metrics.json").exists() and status is not None and status["status"] == "done"
                and (path / "maps").is_dir())
    if not map_only:
        _check_results(run, _read_json(run, "metrics.json"))
    apps = {str(r["app"]) for r in run.results if r.get("app")}
    if len(apps) == 1 and apps != {app}:
        run.notes.append(f"metrics.json names the application {apps.pop()!r}; the folder is {app!r}")
    run.config = _read_json(run, "config.json")
    run.environment = _read_json(run, "environment.json")
    run.data = _read_json(run, "data.json")
    figures_dir = path / "figures"
    if figures_dir.is_dir():
        entries = sorted(p for p in figures_dir.iterdir() if p.is_file() and not p.name.startswith("."))
        run.figures = [p for p in entries if p.suffix.lower() in IMAGE_SUFFIXES]
        run.charts = [p for p in entries if p.suffix.lower() in (".html", ".htm")]
        empty = [p.name for p in run.figures + run.charts if p.stat().st_size == 0]
        if empty:
            run.problem(f"empty figure file(s) {', '.join(empty)} (the run stopped while writing them); skipped")
            run.figures = [p for p in run.figures if p.name not in empty]
            run.charts = [p for p in run.charts if p.name not in empty]
    elif run.results:
        run.problem("no figures/ folder (older version); no figures to show")
    try:
        run.files = sorted(p for p in path.iterdir() if not p.name.startswith(".") and p.name != "figures")
    except OSError:
        run.files = []
    run.has_logs = (path / "logs").is_dir()
    run.maps = _load_maps(run)
    run.tuning = load_tuning(path, run.results, run.figures, run.problem)
    if status is not None and status["status"] != "done":
        run.problem(f"this run is {status['status']}" + (f" ({status['error']})" if status.get("error") else "")
                    + "; its numbers, if any, are not results")
    for newer in newer_unfinished or []:
        state = read_status(newer)
        if state is not None and state["status"] in ("failed", "interrupted"):
            run.notes.append(f"a newer run {newer.name} {state['status']}"
                             + (f": {state['error']}" if state.get("error") else "")
                             + "; showing the latest finished run instead")
        else:
            run.notes.append(f"a newer run {newer.name} has no metrics.json (unfinished); showing the latest "
                             f"finished run instead")
    return run


def relative(target: Path, start: Path) -> str:
    """A relative URL from the folder ``start`` to ``target`` (forward slashes, spaces escaped)."""
    from urllib.parse import quote

    try:
        rel = os.path.relpath(os.path.abspath(target), os.path.abspath(start))
    except ValueError:  # another drive (Windows): no relative path exists
        return Path(os.path.abspath(target)).as_uri()
    return quote(rel.replace(os.sep, "/"))
