"""``deepcases reproduce``: run every case study under its protocol, publish ``results/``, check drift.

    deepcases reproduce                      # full protocols -> results/<app>.json + results/README.md
    deepcases reproduce --quick              # small slices, tiny settings -> results/quick/
    deepcases reproduce --quick --check      # rerun and compare with the committed results/quick/
    deepcases reproduce --only survival      # one application

Each application's ``main`` runs with its ``FULL_ARGS`` (or ``QUICK_ARGS``), a deterministic
``--run-id`` (``reproduce-full``/``reproduce-quick``, ``check-...`` for ``--check``) and
``--results-file results[/quick]/<app>.json``. A failing application is recorded and the others
still run. Resumable: an application whose results file for this mode is already complete, made
with the same arguments and the same resolved settings (a hash of the frozen config its
``parse_args`` returns, defaults included, so a changed default reruns it), is skipped
(``--no-resume`` reruns everything); inside an application,
training resumes from Keras ``BackupAndRestore`` in the reused run directory.

Tolerances of ``--check`` (committed value ``old``, rerun value ``new``):

* baselines (``kind == "baseline"``, deterministic): ``|new - old| <= 1e-9 * max(|old|, |new|)``;
* deep models: ``|new - old| <= max(3 * std, 0.02 * |old|)``, with ``std`` the larger of the
  committed and rerun standard deviations across seeds for that metric (0 when only one seed ran).

A model, metric or result present on one side only is drift too (the committed results are out of
date and must be regenerated with ``deepcases reproduce``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import registry
from .artifacts import environment, write_json, write_text
from .verdict import RULE as VERDICT_RULE

log = logging.getLogger(__name__)

BASELINE_RTOL = 1e-9
DEEP_STD_FACTOR = 3.0
DEEP_RTOL = 0.02
TOLERANCE_TEXT = (f"`deepcases reproduce --check` accepts a rerun when every baseline number is equal within "
                  f"a relative {BASELINE_RTOL:g} (baselines are deterministic) and every deep-model number is "
                  f"within max({DEEP_STD_FACTOR:g} × std across seeds, {DEEP_RTOL:.0%} of the value), std being "
                  f"the larger of the committed and rerun spreads (0 with one seed).")
STATE_FILE = "reproduce-state.json"
REFERENCE_HEADING = "Reference (PROTOCOLS.md, measured by reference implementations)"


@dataclasses.dataclass
class AppOutcome:
    app: str
    status: str  # "done", "skipped", "failed"
    results_file: Path
    wall_time_s: float = 0.0
    error: str | None = None
    run_dir: Path | None = None


@dataclasses.dataclass(frozen=True)
class Drift:
    app: str
    protocol: str
    dataset: str
    model: str
    metric: str
    old: Any
    new: Any
    tolerance: float | None = None
    reason: str = ""

    def line(self) -> str:
        where = f"{self.app} | protocol {self.protocol} | {self.dataset} | {self.model} | {self.metric}"
        if self.reason:
            return f"DRIFT {where}: {self.reason}"
        delta = abs(float(self.new) - float(self.old))
        return (f"DRIFT {where}: committed {self.old!r} -> now {self.new!r} "
                f"(|Δ| = {delta:.4g} > tolerance {self.tolerance:.4g})")


def mode_dir(results_dir: str | Path, *, quick: bool) -> Path:
    """Published results: ``results/`` for the full protocols, ``results/quick/`` for quick mode."""
    return Path(results_dir) / "quick" if quick else Path(results_dir)


def run_id_for(*, quick: bool, check: bool) -> str:
    return f"{'check' if check else 'reproduce'}-{'quick' if quick else 'full'}"


def app_args(module: Any, *, quick: bool) -> list[str]:
    name = "QUICK_ARGS" if quick else "FULL_ARGS"
    args = getattr(module, name, None)
    if args is None:
        raise ValueError(f"{module.__name__} has no {name}; every application defines QUICK_ARGS and FULL_ARGS")
    return [str(a) for a in args]


def settings_fingerprint(module: Any, args: Sequence[str]) -> str | None:
    """A hash of the config ``module.parse_args(args)`` resolves to, every default included.

    The arguments alone miss a default changed in the code; this does not. ``None`` when the module
    has no ``parse_args`` or the config is not a dataclass (then only the arguments are compared)."""
    parse = getattr(module, "parse_args", None)
    if parse is None:
        return None
    try:
        config = parse(list(args))
    except (SystemExit, Exception) as err:  # noqa: BLE001 - the run itself will report the bad arguments
        log.warning("%s: cannot resolve its settings (%s); judging resume by the arguments only",
                    getattr(module, "__name__", module), err)
        return None
    if not dataclasses.is_dataclass(config):
        return None
    from .resume import config_fingerprint  # the hash a run directory's resume units are keyed by

    return config_fingerprint(config)


def load_results(path: str | Path) -> list[dict[str, Any]]:
    from .results import read_results

    return read_results(path)


def is_complete(path: str | Path) -> bool:
    """A results file that reads and has at least one model with metrics in every result."""
    try:
        items = load_results(path)
    except (FileNotFoundError, ValueError, OSError):
        return False
    return bool(items) and all(
        isinstance(item.get("models"), list) and item["models"]
        and all(isinstance(m, dict) and m.get("name") and isinstance(m.get("metrics"), dict) for m in item["models"])
        for item in items)


def recorded_wall_time(path: str | Path) -> float:
    """The application's own wall time stored in a complete results file (0.0 if it has none)."""
    try:
        times = [float(item["wall_time_s"]) for item in load_results(path) if item.get("wall_time_s") is not None]
    except (FileNotFoundError, ValueError, OSError, TypeError):
        return 0.0
    return max(times, default=0.0)


def _read_state(directory: Path) -> dict[str, Any]:
    path = directory / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        return state if isinstance(state, dict) and isinstance(state.get("apps"), dict) else {"apps": {}}
    except (OSError, ValueError):
        return {"apps": {}}


def _run_app(name: str, module: Any, argv: list[str], results_file: Path, run_dir: Path) -> AppOutcome:
    started_wall = time.time()
    started = time.perf_counter()
    error = None
    try:
        code = module.main(argv)
        code = int(code or 0)
        if code:
            error = f"exited with code {code} (see the messages above)"
    except SystemExit as err:  # argparse errors and explicit exits
        code = err.code if isinstance(err.code, int) else 1
        if code:
            error = f"exited with code {err.code}"
    except Exception as err:  # noqa: BLE001 - one failed case study must not stop the others
        log.exception("%s failed", name)
        error = f"{type(err).__name__}: {err}"
    wall = time.perf_counter() - started
    if error is None:
        error = _ensure_results_file(results_file, run_dir, since=started_wall)
    status = "failed" if error else "done"
    return AppOutcome(name, status, results_file, wall, error, run_dir)


def _fresh(path: Path, since: float) -> bool:
    try:
        return path.is_file() and path.stat().st_mtime >= since - 1.0
    except OSError:
        return False


def _ensure_results_file(results_file: Path, run_dir: Path, *, since: float) -> str | None:
    """The application must have written the results file; else take its run's metrics.json."""
    if _fresh(results_file, since) and is_complete(results_file):
        return None
    metrics = run_dir / "metrics.json"
    if _fresh(metrics, since) and is_complete(metrics):
        log.info("%s did not write %s; using %s", run_dir.parent.name, results_file, metrics)
        payload = load_results(metrics)
        write_json(results_file, payload[0] if len(payload) == 1 else payload)
        return None
    return (f"finished without writing complete results to {results_file} (nor {metrics}); the application must "
            f"honour --results-file")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(float(value)) else None


def _key(item: Mapping[str, Any]) -> tuple[str, str]:
    dataset = item.get("dataset")
    name = dataset.get("name", "") if isinstance(dataset, Mapping) else str(dataset or "")
    return str(item.get("protocol", "")), str(name)


def tolerance(kind: str, old: float, new: float, std: float = 0.0) -> float:
    """The largest accepted |new - old| (see the module docstring)."""
    if kind == "baseline":
        return BASELINE_RTOL * max(abs(old), abs(new))
    return max(DEEP_STD_FACTOR * std, DEEP_RTOL * abs(old))


def compare_results(app: str, committed: Sequence[Mapping[str, Any]],
                    rerun: Sequence[Mapping[str, Any]]) -> list[Drift]:
    """Every number that moved beyond its tolerance, and every result/model/metric on one side only."""
    drifts: list[Drift] = []
    old_items = {_key(i): i for i in committed}
    new_items = {_key(i): i for i in rerun}
    for key in [*old_items, *(k for k in new_items if k not in old_items)]:
        protocol, dataset = key
        if key not in new_items:
            drifts.append(Drift(app, protocol, dataset, "*", "*", None, None, reason="result missing in the rerun"))
            continue
        if key not in old_items:
            drifts.append(Drift(app, protocol, dataset, "*", "*", None, None,
                                reason="new result not in the committed results; regenerate them"))
            continue
        old_models = {m["name"]: m for m in old_items[key].get("models", []) if isinstance(m, Mapping)}
        new_models = {m["name"]: m for m in new_items[key].get("models", []) if isinstance(m, Mapping)}
        for name in [*old_models, *(n for n in new_models if n not in old_models)]:
            if name not in new_models or name not in old_models:
                side = "rerun" if name not in new_models else "committed results"
                drifts.append(Drift(app, protocol, dataset, name, "*", None, None,
                                    reason=f"model missing in the {side}"))
                continue
            old_m, new_m = old_models[name], new_models[name]
            kind = str(old_m.get("kind", "deep"))
            if new_m.get("kind") != old_m.get("kind"):
                drifts.append(Drift(app, protocol, dataset, name, "kind", old_m.get("kind"), new_m.get("kind"),
                                    reason=f"kind changed from {old_m.get('kind')!r} to {new_m.get('kind')!r}"))
            old_metrics, new_metrics = old_m.get("metrics") or {}, new_m.get("metrics") or {}
            old_std = old_m.get("std") or {}
            new_std = new_m.get("std") or {}
            for metric in [*old_metrics, *(k for k in new_metrics if k not in old_metrics)]:
                old_v, new_v = _number(old_metrics.get(metric)), _number(new_metrics.get(metric))
                if metric not in new_metrics or metric not in old_metrics:
                    side = "rerun" if metric not in new_metrics else "committed results"
                    drifts.append(Drift(app, protocol, dataset, name, metric, old_metrics.get(metric),
                                        new_metrics.get(metric), reason=f"metric missing in the {side}"))
                    continue
                if old_v is None or new_v is None:
                    if (old_v is None) != (new_v is None):
                        drifts.append(Drift(app, protocol, dataset, name, metric, old_metrics.get(metric),
                                            new_metrics.get(metric), reason=f"committed {old_metrics.get(metric)!r} "
                                                                            f"-> now {new_metrics.get(metric)!r}"))
                    continue
                std = max(_number(old_std.get(metric)) or 0.0, _number(new_std.get(metric)) or 0.0)
                tol = tolerance(kind, old_v, new_v, std)
                if abs(new_v - old_v) > tol:
                    drifts.append(Drift(app, protocol, dataset, name, metric, old_v, new_v, tolerance=tol))
    return drifts


# --------------------------------------------------------------------------- README


def _app_section(name: str, description: str, directory: Path, entry: Mapping[str, Any] | None,
                 available: bool, full_dir: Path | None = None) -> list[str]:
    from .report.tables import (environment_summary, find_reference, format_number, headlines, markdown,
                                reference_table, result_title, results_table, same_protocol, text_notes)

    lines = [f"## {name}", "", f"{description}", ""] if description else [f"## {name}", ""]
    path = directory / f"{name}.json"
    status = (entry or {}).get("status")
    if status == "failed":
        lines += [f"**FAILED** in the last reproduce ({entry.get('finished', '?')}): {entry.get('error')}", ""]
    if not path.is_file():
        if not available:
            lines += ["Not built yet: no application module.", ""]
        elif status != "failed":
            lines += [f"No results yet: run `deepcases reproduce --only {name}`.", ""]
        return lines
    if status == "failed":
        lines += ["The numbers below are from the previous successful run.", ""]
    try:
        items = load_results(path)
    except (ValueError, OSError) as err:
        return lines + [f"Cannot read `{path.name}`: {err}", ""]
    full: list[dict[str, Any]] = []
    if full_dir is not None and (full_dir / f"{name}.json").is_file():
        try:
            full = load_results(full_dir / f"{name}.json")
        except (ValueError, OSError):
            full = []
    for item in items:
        lines += [f"### {result_title(item)}", ""]
        for h in headlines(item, same_protocol(item, full)):
            if h.deep is not None and h.baseline is not None:
                lines.append(f"- Headline, `{h.metric}`: best deep {h.deep[0]} {format_number(h.deep[1])} vs "
                             f"strongest baseline {h.baseline[0]} {format_number(h.baseline[1])}: **{h.verdict}**")
        if lines[-1] != "":
            lines += ["", f"_{VERDICT_RULE}_", ""]
        dataset = item.get("dataset")
        if isinstance(dataset, Mapping):
            bits = [f"{k}: {dataset[k]}" for k in ("name", "rows") if k in dataset]
            if isinstance(dataset.get("date_range"), list):
                bits.append("dates: " + " … ".join(map(str, dataset["date_range"])))
            if dataset.get("fingerprint"):
                bits.append(f"fingerprint: `{str(dataset['fingerprint'])[:23]}…`")
            lines += ["Data: " + "; ".join(bits), ""]
        table = results_table(item)
        if table.rows:
            lines += [markdown(table), ""]
        extra = item.get("extra") if isinstance(item.get("extra"), Mapping) else {}
        for key, sentences in text_notes(extra):
            lines += [f"{key.capitalize()}:", "", *(f"- {t}" for t in sentences), ""]
        found = find_reference(extra)
        if found is not None:
            ref = reference_table(found[1])
            lines += [f"**{REFERENCE_HEADING}**", ""]
            if ref is not None:
                lines += [markdown(ref), ""]
                if ref.source:
                    lines += [f"Source: {ref.source}", ""]
            else:
                lines += ["```json", json.dumps(found[1], indent=2, default=str), "```", ""]
        wall = item.get("wall_time_s")
        lines += [f"Machine and versions: {environment_summary(item.get('environment'))}. "
                  f"Wall time: {'?' if wall is None else f'{float(wall):.0f} s'}.", ""]
    return lines


def write_readme(directory: str | Path, *, quick: bool, state: Mapping[str, Any] | None = None,
                 total_wall_s: float | None = None) -> Path:
    """``results[/quick]/README.md`` from the results files present (atomic)."""
    directory = Path(directory)
    state = state if state is not None else _read_state(directory)
    entries = state.get("apps", {})
    mode = "quick (small slices, tiny settings; CI's drift check)" if quick else "full (PROTOCOLS.md protocols)"
    command = "deepcases reproduce --quick" if quick else "deepcases reproduce"
    env = environment()
    lines = [f"# Reproduced results — {mode}", "",
             f"Written by `{command}` on {_dt.date.today().isoformat()}; never edited by hand. Each table puts "
             f"the deep models (mean ± std over seeds where several ran) beside every baseline on the same split; "
             f"the best value of each metric is in bold.", "",
             f"Check: `{command} --check`. {TOLERANCE_TEXT}", "",
             f"Machine: {env.get('machine')}; {', '.join(f'{k} {v}' for k, v in env.items() if k != 'machine')}.", ""]
    names = list(registry.APPLICATIONS)
    names += [n for n in entries if n not in names]
    rows = ["| application | status | wall time | results |", "|---|---|---:|---|"]
    for name in names:
        entry = entries.get(name, {})
        path = directory / f"{name}.json"
        status = entry.get("status") or ("done" if path.is_file() else "not run")
        wall = entry.get("wall_time_s")
        rows.append(f"| {name} | {status} | {'' if wall is None else f'{float(wall):.0f} s'} | "
                    f"{f'[{path.name}]({path.name})' if path.is_file() else '–'} |")
    lines += ["## Summary", "", *rows, ""]
    if total_wall_s is not None:
        recorded = sum(float(e["wall_time_s"]) for e in entries.values() if e.get("wall_time_s") is not None)
        lines += [f"Wall time of the last `{command}`: {total_wall_s:.0f} s (skipped applications excluded); "
                  f"the runs that wrote these results took {recorded:.0f} s together (the table above).", ""]
    for name in names:
        description = registry.describe(name)
        lines += _app_section(name, description, directory, entries.get(name),
                              available=_safe_available(name), full_dir=directory.parent if quick else None)
    return write_text(directory / "README.md", "\n".join(lines).rstrip() + "\n")


def _safe_available(name: str) -> bool:
    try:
        return registry.available(name)
    except (SystemExit, Exception):  # noqa: BLE001 - a broken app module is "not available" here
        return False


# --------------------------------------------------------------------------- command


def reproduce(*, quick: bool = False, check: bool = False, only: Iterable[str] | None = None,
              results_dir: str | Path = "results", runs_dir: str | Path = "runs", resume: bool | None = None,
              report: bool = True, echo: Callable[[str], None] | None = None) -> int:
    """Run the case studies; returns the exit code (0 = all ran, and with ``check`` nothing drifted)."""
    say = echo or (lambda message: log.info("%s", message))
    resume = (not check) if resume is None else resume
    committed_dir = mode_dir(results_dir, quick=quick)
    out_dir = Path(runs_dir) / "reproduce-check" / ("quick" if quick else "full") if check else committed_dir
    run_id = run_id_for(quick=quick, check=check)
    mode = "quick" if quick else "full"
    names = [n for n in registry.APPLICATIONS if _safe_available(n)]
    if only:
        wanted = list(dict.fromkeys(only))
        unknown = [n for n in wanted if n not in registry.APPLICATIONS]
        if unknown:
            say(f"unknown application(s) {unknown}; choose from {list(registry.APPLICATIONS)}")
            return 2
        missing = [n for n in wanted if n not in names]
        if missing:
            say(f"not built yet: {', '.join(missing)}")
        names = [n for n in names if n in wanted]
    if not names:
        say("no application to run (none is built yet, or --only selected none)")
        return 1
    state = _read_state(out_dir)
    outcomes: list[AppOutcome] = []
    drifts: list[Drift] = []
    started = time.perf_counter()
    say(f"reproduce ({mode}{', check' if check else ''}): {len(names)} application(s): {', '.join(names)}; "
        f"results -> {out_dir}/")
    for i, name in enumerate(names, 1):
        module = registry.load_app(name)
        results_file = out_dir / f"{name}.json"
        run_dir = Path(runs_dir) / name / run_id
        prefix = f"[{i}/{len(names)}] {name}"
        try:
            args = app_args(module, quick=quick)
            argv = [*args, "--runs-dir", str(runs_dir), "--run-id", run_id, "--results-file", str(results_file)]
            settings = settings_fingerprint(module, args)
        except ValueError as err:
            outcome = AppOutcome(name, "failed", results_file, error=str(err))
            say(f"{prefix}: FAILED: {err}")
        else:
            previous = state["apps"].get(name, {})
            # a state written before fingerprints existed has none: judged by its arguments alone
            same_args = previous.get("args") in (None, args) and previous.get("settings") in (None, settings)
            if resume and is_complete(results_file) and same_args and previous.get("status") != "failed":
                # the time the run that wrote the file took (from the state, else from the file itself)
                outcome = AppOutcome(name, "skipped", results_file,
                                     previous.get("wall_time_s") or recorded_wall_time(results_file), run_dir=run_dir)
                say(f"{prefix}: skipped, {results_file} is already complete (--no-resume reruns it)")
            else:
                if resume and is_complete(results_file) and not same_args:
                    say(f"{prefix}: settings changed since {results_file} was written "
                        f"({'arguments' if previous.get('args') not in (None, args) else 'a default'}); rerunning")
                say(f"{prefix}: running {mode} protocol: {' '.join(argv)}")
                try:
                    outcome = _run_app(name, module, argv, results_file, run_dir)
                except KeyboardInterrupt:
                    say(f"{prefix}: interrupted; run the same command again to continue from here "
                        f"(finished applications are skipped, training resumes from its last backup)")
                    if not check:
                        write_readme(out_dir, quick=quick, state=state)
                    return 130
                if outcome.status == "done":
                    say(f"{prefix}: done in {outcome.wall_time_s:.0f} s -> {results_file}")
                else:
                    say(f"{prefix}: FAILED after {outcome.wall_time_s:.0f} s: {outcome.error}")
            state["apps"][name] = {"status": outcome.status if outcome.status != "skipped" else "done",
                                   "args": args, "settings": settings if outcome.status != "skipped"
                                   else previous.get("settings"),  # a skip proves nothing new
                                   "wall_time_s": round(outcome.wall_time_s, 1),
                                   "error": outcome.error,
                                   "finished": _dt.datetime.now().isoformat(timespec="seconds")
                                   if outcome.status != "skipped" else previous.get("finished")}
            write_json(out_dir / STATE_FILE, state)
        outcomes.append(outcome)
        if check and outcome.status != "failed":
            committed = committed_dir / f"{name}.json"
            if not committed.is_file():
                drifts.append(Drift(name, "*", "*", "*", "*", None, None,
                                    reason=f"no committed results at {committed}; run `deepcases reproduce"
                                           f"{' --quick' if quick else ''}` and commit them"))
            else:
                try:
                    found = compare_results(name, load_results(committed), load_results(outcome.results_file))
                except (ValueError, OSError) as err:
                    found = [Drift(name, "*", "*", "*", "*", None, None, reason=f"cannot compare: {err}")]
                drifts.extend(found)
                say(f"{prefix}: check: {'OK, within tolerance' if not found else f'{len(found)} number(s) moved'}")
        if not check:
            write_readme(out_dir, quick=quick, state=state)
    total = time.perf_counter() - started
    if not check:
        write_readme(out_dir, quick=quick, state=state, total_wall_s=total)
    failed = [o for o in outcomes if o.status == "failed"]
    say(f"\nreproduce finished in {total:.0f} s: "
        f"{sum(o.status == 'done' for o in outcomes)} ran, {sum(o.status == 'skipped' for o in outcomes)} skipped, "
        f"{len(failed)} failed" + ("" if check else f"; {out_dir / 'README.md'}"))
    for o in failed:
        say(f"FAILED {o.app}: {o.error}")
    if check:
        for d in drifts:
            say(d.line())
        if not drifts and not failed:
            say(f"check passed: every number is within tolerance against {committed_dir}/")
        else:
            say(f"check FAILED: {len(drifts)} number(s) moved, {len(failed)} application(s) failed")
    if report:
        run_dirs = [o.run_dir for o in outcomes if o.run_dir is not None and o.run_dir.is_dir()]
        if run_dirs:
            try:
                from .report import build_report

                say(f"report: {build_report(run_dirs, out_dir=Path(runs_dir) / 'report')}")
            except Exception as err:  # noqa: BLE001 - the report must not hide the results
                log.exception("report failed")
                say(f"report could not be built: {err}")
    return 1 if failed or drifts else 0
