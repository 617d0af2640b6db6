"""Results in the PROTOCOLS.md shape turned into rows: directions, formatting, headlines, references.

Used by the HTML report and by ``deepcases reproduce`` (``results/README.md``) so both show the
same numbers the same way. Everything here works on plain dicts read from JSON and tolerates
missing pieces (a result without std, a model without a metric, no reference numbers).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from shared.verdict import higher_is_better

#: keys of a reference block that describe it rather than hold rows
_REFERENCE_META = ("source", "note", "notes", "citation", "caption", "title")
_NAME_KEYS = ("name", "model", "reference", "method", "baseline")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value))


def format_number(value: Any, digits: int = 4) -> str:
    """``0.1234``-style for scores, thousands separators for large values, ``–`` for missing."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        if abs(value) >= 10_000:
            return f"{value:,.1f}"
        return f"{value:.{digits}f}"
    return str(value)


def format_cell(value: Any, std: Any = None, digits: int = 4) -> str:
    """A value, with ``± std`` when a spread is known; strings (e.g. ``"0.77 ± 0.01"``) pass through."""
    if isinstance(value, Mapping):  # {"mean": .., "std": ..} or {"value": ..}
        inner = value.get("mean", value.get("value"))
        return format_cell(inner, value.get("std", std), digits)
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(is_number(v) for v in value):
        return format_cell(value[0], value[1], digits)
    text = format_number(value, digits)
    if is_number(std) and is_number(value):
        text += f" ± {format_number(float(std), digits)}"
    return text


def as_results(payload: Any) -> list[dict[str, Any]]:
    """A results/metrics payload (one object or a list of them) as a list of result dicts."""
    items = payload if isinstance(payload, list) else [payload]
    return [item for item in items if isinstance(item, dict)]


def metric_names(result: Mapping[str, Any]) -> list[str]:
    """Every metric of a result's models, in first-seen order."""
    names: dict[str, None] = {}
    for model in result.get("models") or []:
        if isinstance(model, Mapping) and isinstance(model.get("metrics"), Mapping):
            names.update(dict.fromkeys(model["metrics"]))
    return list(names)


def valid_models(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [m for m in result.get("models") or []
            if isinstance(m, Mapping) and m.get("name") and isinstance(m.get("metrics"), Mapping)]


def result_title(result: Mapping[str, Any]) -> str:
    dataset = result.get("dataset")
    name = dataset.get("name") if isinstance(dataset, Mapping) else dataset
    parts = [f"protocol {result.get('protocol')}" if result.get("protocol") not in (None, "") else None,
             str(name) if name else None]
    return " — ".join(p for p in parts if p) or "results"


def best_models(result: Mapping[str, Any]) -> dict[str, str]:
    """metric -> name of the best model on it (only for metrics with a direction)."""
    best: dict[str, str] = {}
    models = valid_models(result)
    for metric in metric_names(result):
        direction = higher_is_better(metric)
        scored = [(float(m["metrics"][metric]), i) for i, m in enumerate(models)
                  if is_number(m["metrics"].get(metric))]
        if direction is None or len(scored) < 2:
            continue
        sign = -1.0 if direction else 1.0
        best[metric] = str(models[min(scored, key=lambda p: (sign * p[0], p[1]))[1]]["name"])
    return best


@dataclasses.dataclass
class Headline:
    """The best deep model against the strongest baseline on one primary metric, with the verdict of
    ``shared.verdict.compare`` (ahead / tie within noise / behind / no verdict)."""

    title: str
    metric: str
    higher_is_better: bool | None
    deep: tuple[str, float] | None
    baseline: tuple[str, float] | None
    outcome: Any = None                                  # a shared.verdict.Verdict, or None
    missing_baseline: tuple[str, float] | None = None    # strongest full-protocol baseline this run skipped

    @property
    def verdict(self) -> str:
        if self.deep is None or self.baseline is None or self.higher_is_better is None:
            return "no comparison" if self.deep is None or self.baseline is None else "not ranked"
        if self.missing_baseline is not None and self.deep_wins is not False:
            name, value = self.missing_baseline
            return (f"not a verdict: the strongest baseline of the full protocol, {name} "
                    f"({format_number(value)} in the committed full results), was not run here")
        return self.outcome.text() if self.outcome is not None else "no comparison"

    @property
    def deep_wins(self) -> bool | None:
        """True when the deep model is ahead beyond the noise, False when behind, None otherwise."""
        if self.outcome is None:
            return None
        return {"ahead": True, "behind": False}.get(self.outcome.outcome)

    @property
    def css(self) -> str:
        """The verdict's class in the HTML report: deep, baseline, tie or nothing."""
        if self.deep_wins is not None and not (self.missing_baseline is not None and self.deep_wins):
            return "deep" if self.deep_wins else "baseline"
        return "tie" if self.outcome is not None and self.outcome.outcome == "tie" else ""


def _estimate(model: Mapping[str, Any], metric: str) -> Any:
    from ..verdict import Estimate

    std = model.get("std") if isinstance(model.get("std"), Mapping) else {}
    seeds = model.get("seeds")
    value = std.get(metric)
    # a std over folds is a spread even with one seed; a std over a single seed is none
    n = None if is_number(value) and value > 0 else (len(seeds) if isinstance(seeds, list) else None)
    return Estimate(float(model["metrics"][metric]), float(value) if is_number(value) else None, n)


def _paired_p(result: Mapping[str, Any], deep: str, baseline: str, metric: str) -> tuple[float, str] | None:
    """A paired test's p-value of ``deep`` vs ``baseline`` on ``metric`` from ``extra["paired_tests"]``:
    a list of ``{"deep", "baseline", "metric", "p_value", "test"}`` records the application computed."""
    extra = result.get("extra")
    tests = extra.get("paired_tests") if isinstance(extra, Mapping) else None
    for item in tests if isinstance(tests, list) else []:
        if isinstance(item, Mapping) and (item.get("deep"), item.get("baseline"), item.get("metric")) == \
                (deep, baseline, metric) and is_number(item.get("p_value")):
            return float(item["p_value"]), str(item.get("test") or "paired test")
    return None


def _best(models: Sequence[Mapping[str, Any]], kind: str, metric: str,
          direction: bool | None) -> Mapping[str, Any] | None:
    scored = [m for m in models if m.get("kind") == kind and is_number(m["metrics"].get(metric))]
    if not scored:
        return None
    if direction is None:
        return scored[0]
    return (max if direction else min)(scored, key=lambda m: float(m["metrics"][metric]))


def headlines(result: Mapping[str, Any], full: Mapping[str, Any] | None = None) -> list[Headline]:
    """One headline per primary metric of the result's protocol (``shared.protocols``), or on its first
    metric when none is declared.

    ``full`` is the committed full-protocol result of the same protocol and data (``results/<app>.json``):
    where this run (e.g. a quick slice) skipped the baseline that is strongest there, the headline
    names it with its committed number and gives no verdict rather than a win over weaker baselines.
    """
    from ..verdict import compare
    from ..protocols import primary_metrics

    models = valid_models(result)
    names = metric_names(result)
    if not models or not names:
        return []
    metrics = [m for m in primary_metrics(result) if m in names] or names[:1]
    out = []
    for metric in metrics:
        direction = higher_is_better(metric)
        deep, base = _best(models, "deep", metric, direction), _best(models, "baseline", metric, direction)
        outcome = missing = None
        if deep is not None and base is not None and direction is not None:
            paired = _paired_p(result, str(deep["name"]), str(base["name"]), metric)
            outcome = compare(_estimate(deep, metric), _estimate(base, metric), higher_is_better=direction,
                              p_value=paired[0] if paired else None, test=paired[1] if paired else None)
            strongest = _best(valid_models(full), "baseline", metric, direction) if full else None
            ran = {str(m["name"]) for m in models if m.get("kind") == "baseline"}
            if strongest is not None and str(strongest["name"]) not in ran:
                missing = (str(strongest["name"]), float(strongest["metrics"][metric]))
        pair = (lambda m: None if m is None else (str(m["name"]), float(m["metrics"][metric])))
        out.append(Headline(result_title(result), metric, direction, pair(deep), pair(base), outcome, missing))
    return out


def headline(result: Mapping[str, Any], full: Mapping[str, Any] | None = None) -> Headline | None:
    """The first of :func:`headlines` (None if the result has no models or metrics)."""
    found = headlines(result, full)
    return found[0] if found else None


def same_protocol(result: Mapping[str, Any], candidates: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The candidate result of the same app, protocol and dataset name (a quick run's full counterpart)."""
    def key(item: Mapping[str, Any]) -> tuple[str, str, str]:
        dataset = item.get("dataset")
        name = dataset.get("name") if isinstance(dataset, Mapping) else dataset
        protocol = str(item.get("protocol", "")).split(", first ")[0]  # quick slices add ", first 2 of 5 folds"
        return str(item.get("app", "")), protocol, str(name or "").split("-slice")[0]

    wanted = key(result)
    return next((c for c in candidates if key(c) == wanted), None)


@dataclasses.dataclass
class Table:
    """A rendered-agnostic table: header, rows of display strings, which cells to emphasise."""

    columns: list[str]
    rows: list[list[str]]
    emphasis: set[tuple[int, int]] = dataclasses.field(default_factory=set)  # (row, column)
    row_kinds: list[str] = dataclasses.field(default_factory=list)
    source: str | None = None


def results_table(result: Mapping[str, Any], digits: int = 4, *, notes: bool = True) -> Table:
    """Deep models and every baseline side by side; the best value of each metric emphasised.

    ``notes=False`` leaves the models' notes out (the HTML report lists long notes under the table)."""
    models = valid_models(result)
    names = metric_names(result)
    best = best_models(result)
    with_seeds = any(m.get("seeds") for m in models)
    with_note = notes and any(m.get("note") for m in models)
    columns = ["model", "kind", *names] + (["seeds"] if with_seeds else []) + (["note"] if with_note else [])
    rows, emphasis, kinds = [], set(), []
    for r, m in enumerate(models):
        std = m.get("std") if isinstance(m.get("std"), Mapping) else {}
        row = [str(m["name"]), str(m.get("kind", "?"))]
        single = isinstance(m.get("seeds"), list) and len(m["seeds"]) < 2
        for c, metric in enumerate(names, start=2):
            spread = std.get(metric)
            if single and is_number(spread) and spread == 0:
                spread = None  # "± 0.0000" over one seed is no spread at all
            row.append(format_cell(m["metrics"].get(metric), spread, digits))
            if best.get(metric) == m["name"]:
                emphasis.add((r, c))
        if with_seeds:
            seeds = m.get("seeds")
            row.append(", ".join(map(str, seeds)) if isinstance(seeds, list) else format_cell(seeds))
        if with_note:
            row.append(str(m.get("note") or ""))
        rows.append(row)
        kinds.append(str(m.get("kind", "")))
    return Table(columns, rows, emphasis, kinds)


def _is_scalar(value: Any) -> bool:
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, Mapping):
        return set(value) <= {"mean", "std", "value"} and bool(value)
    return isinstance(value, (list, tuple)) and len(value) == 2 and all(is_number(v) for v in value)


#: keys of ``result.extra`` whose text (a string or a list of strings) is shown as prose, not as data
TEXT_KEYS = ("verdict", "verdicts", "summary", "conclusion", "conclusions", "note", "notes")


def text_notes(extra: Any) -> list[tuple[str, list[str]]]:
    """``[(key, [sentences])]`` for the prose entries of a result's ``extra`` (verdicts, notes, ...)."""
    if not isinstance(extra, Mapping):
        return []
    out = []
    for key in TEXT_KEYS:
        value = extra.get(key)
        if isinstance(value, str) and value.strip():
            out.append((key, [value]))
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            out.append((key, list(value)))
    return out


#: keys of ``result.extra`` that hold reference numbers, in order of preference
REFERENCE_KEYS = ("reference", "references", "reference_protocols_md")


def find_reference(extra: Any) -> tuple[str, Any] | None:
    """The (key, value) of the reference numbers in a result's ``extra``: ``reference`` (the agreed key),
    ``references``, ``reference_protocols_md`` or any other key starting with ``reference``; None if absent."""
    if not isinstance(extra, Mapping):
        return None
    keys = [k for k in REFERENCE_KEYS if k in extra]
    keys += [k for k in extra if isinstance(k, str) and k.startswith("reference") and k not in keys]
    for key in keys:
        if extra[key] is not None and extra[key] != {} and extra[key] != []:
            return key, extra[key]
    return None


def reference_table(reference: Any, digits: int = 4) -> Table | None:
    """Reference numbers (``extra["reference"]``) in whatever reasonable shape an application used.

    Accepted: ``{name: {metric: value}}`` (nested dicts are flattened, ``"a / b"``), a list of
    records ``[{"name": .., metric: .., ...}]`` (or with a ``metrics`` dict), optionally wrapped as
    ``{"source": "...", "models"|"rows"|"table"|"values": ...}``. Values may be numbers, strings
    such as ``"0.7707 ± 0.0073"``, ``None`` or ``{"mean": .., "std": ..}``. Returns None if nothing
    tabular is found (the caller shows the raw JSON instead).
    """
    source = None
    if isinstance(reference, Mapping):
        meta = {k: v for k, v in reference.items() if k in _REFERENCE_META and isinstance(v, str)}
        source = "; ".join(meta.values()) or None
        body = {k: v for k, v in reference.items() if k not in meta}
        for key in ("models", "rows", "table", "values", "reference", "references"):
            if key in body and len(body) == 1:
                inner = reference_table(body[key], digits)
                if inner is not None:
                    inner.source = "; ".join(p for p in (source, inner.source) if p) or None
                return inner
        reference = body
    records: list[tuple[str, dict[str, Any]]] = []
    if isinstance(reference, list):
        for i, item in enumerate(reference):
            if not isinstance(item, Mapping):
                return None
            name_key = next((k for k in _NAME_KEYS if k in item), None)
            name = str(item[name_key]) if name_key else f"#{i + 1}"
            values = {k: v for k, v in item.items() if k != name_key and k not in ("metrics", "std")}
            if isinstance(item.get("metrics"), Mapping):
                values.update(item["metrics"])
            if isinstance(item.get("std"), Mapping):
                values = {k: ({"mean": v, "std": item["std"][k]} if k in item["std"] and is_number(v) else v)
                          for k, v in values.items()}
            records.append((name, values))
    elif isinstance(reference, Mapping):
        def walk(prefix: str, node: Mapping[str, Any]) -> None:
            scalars = {k: v for k, v in node.items() if _is_scalar(v)}
            nested = {k: v for k, v in node.items() if isinstance(v, Mapping) and not _is_scalar(v)}
            if scalars:
                records.append((prefix or "reference", scalars))
            for key, child in nested.items():
                walk(f"{prefix} / {key}" if prefix else str(key), child)

        walk("", reference)
    else:
        return None
    records = [(n, v) for n, v in records if v]
    if not records:
        return None
    columns: dict[str, None] = {}
    for _, values in records:
        columns.update(dict.fromkeys(values))
    rows = [[name, *(format_cell(values.get(c), digits=digits) if c in values else "–" for c in columns)]
            for name, values in records]
    return Table(["reference", *columns], rows, source=source)


def markdown(table: Table) -> str:
    """A pipe table; emphasised cells in bold."""
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    numeric = [i >= 2 and all(r[i][:1].isdigit() or r[i][:1] in "-–" for r in table.rows if i < len(r))
               for i in range(len(table.columns))]
    lines = ["| " + " | ".join(cell(c) for c in table.columns) + " |",
             "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    for r, row in enumerate(table.rows):
        cells = [f"**{cell(v)}**" if (r, c) in table.emphasis else cell(v) for c, v in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def environment_summary(environment: Any, keys: Sequence[str] = ("machine", "python", "tensorflow", "keras",
                                                                 "numpy", "pandas", "scikit-learn")) -> str:
    """``machine: 2 cores, x86_64, Linux; python 3.11.7; tensorflow 2.21.0; ...``"""
    if not isinstance(environment, Mapping):
        return "unknown"
    parts = [f"{k} {environment[k]}" for k in keys if environment.get(k)]
    return "; ".join(parts) or "unknown"
