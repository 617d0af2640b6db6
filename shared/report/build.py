"""Build the static HTML report: ``index.html`` plus one page per application run.

    from shared.report import build_report
    index = build_report(["runs"])                       # latest run of each app -> runs/report/
    index = build_report(["runs/recommender/20250101-..."], out_dir="/tmp/report")

The report opens from the file system with no network: figures and interactive charts are copied
into ``<out>/assets/<page>/`` and linked relatively, the CSS is inlined, no fonts or scripts are
fetched. Every file is written atomically. A run directory with missing or older files yields a
logged message shown on its page, and the report is still built for everything else.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .. import registry
from ..artifacts import DEFAULT_RUNS_ROOT, atomic_path, write_text
from . import html as H
from .runs import RunInfo, find_runs, is_run_dir, load_run, relative
from .tables import (Headline, Table, environment_summary, find_reference, format_number, headlines,
                     reference_table, result_title, results_table, same_protocol, text_notes, valid_models)
from ..verdict import RULE
from .tuning import number as _number

log = logging.getLogger(__name__)

_EXTERNAL_SCRIPT = re.compile(r"<script[^>]+src\s*=\s*[\"']\s*(https?:)?//", re.IGNORECASE)


def _descriptions() -> dict[str, str]:
    return {**registry.APPLICATIONS, **registry.EXAMPLES}


def _known_apps() -> list[str]:
    return list(registry.APPLICATIONS)


def default_out_dir(paths: Sequence[str | Path]) -> Path:
    """``<root>/report`` for the first path: a root as is, ``runs/APP`` -> ``runs``, a run dir -> ``runs``."""
    if not paths:
        return DEFAULT_RUNS_ROOT / "report"
    first = Path(paths[0])
    if first.is_file():
        first = first.parent
    if is_run_dir(first):
        return first.parent.parent / "report"
    if first.is_dir() and any(is_run_dir(c) for c in first.iterdir() if c.is_dir()):
        return first.parent / "report"
    return first / "report"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "run"


def _copy(src: Path, dest: Path) -> None:
    """Copy atomically, skipping files already up to date (same size, not older)."""
    try:
        if dest.is_file() and dest.stat().st_size == src.stat().st_size and \
                dest.stat().st_mtime >= src.stat().st_mtime:
            return
    except OSError:
        pass
    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)
    shutil.copystat(src, dest)


#: the committed full-protocol results the headlines compare quick runs with (``deepcases reproduce``)
DEFAULT_RESULTS_DIR = Path(__file__).resolve().parents[2] / "results"


def _committed_results(results_dir: Path | None) -> dict[str, list[dict[str, Any]]]:
    """``results/<app>.json`` of every application, read leniently (a missing or broken file is skipped)."""
    import json

    found: dict[str, list[dict[str, Any]]] = {}
    if results_dir is None or not results_dir.is_dir():
        return found
    for path in sorted(results_dir.glob("*.json")):
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("cannot read %s; headlines will not compare with it", path)
            continue
        items = [i for i in (payload if isinstance(payload, list) else [payload]) if isinstance(i, dict)]
        found[path.stem] = items
    return found


class _Page:
    def __init__(self, run: RunInfo, slug: str, out_dir: Path,
                 committed: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.run = run
        self.slug = slug
        self.out_dir = out_dir
        self.file = f"{slug}.html"
        self.tuning_file = f"{slug}-tuning.html" if run.tuning is not None else None
        self.assets = out_dir / "assets" / slug
        self.figures: list[tuple[str, str]] = []  # (href relative to out_dir, file name)
        self.charts: list[tuple[str, str]] = []
        full = (committed or {}).get(run.app, [])
        self.headlines: list[Headline] = [h for r in run.results for h in headlines(r, same_protocol(r, full))]

    def copy_assets(self) -> None:
        keep: set[str] = set()
        for kind, sources in (("figures", self.run.figures), ("charts", self.run.charts)):
            for src in sources:
                dest = self.assets / src.name
                try:
                    _copy(src, dest)
                except OSError as err:
                    self.run.problem(f"cannot copy {src.name} into the report ({err}); skipped")
                    continue
                keep.add(src.name)
                href = relative(dest, self.out_dir)
                getattr(self, kind).append((href, src.name))
                if kind == "charts":
                    self._check_offline(src)
        if self.assets.is_dir():  # files of an earlier build that the run no longer has
            for old in self.assets.iterdir():
                if old.is_file() and old.name not in keep:
                    old.unlink()

    def _check_offline(self, chart: Path) -> None:
        try:
            text = chart.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return
        if _EXTERNAL_SCRIPT.search(text):
            self.run.problem(f"interactive chart {chart.name} loads JavaScript from the network and will not "
                             f"work offline; save it with the library inlined (plotly: include_plotlyjs=True)")


def _caption(name: str) -> str:
    stem = Path(name).stem.replace("_", " ").replace("-", " ")
    return stem[:1].upper() + stem[1:]


def _nav(pages: list[_Page], current: _Page | None) -> list[tuple[str, str, bool]]:
    counts: dict[str, int] = {}
    for p in pages:
        counts[p.run.app] = counts.get(p.run.app, 0) + 1
    return [(p.run.app if counts[p.run.app] == 1 else f"{p.run.app} ({p.run.run_id})", p.file, p is current)
            for p in pages]


def _dataset_line(result: dict[str, Any]) -> str:
    dataset = result.get("dataset")
    if not isinstance(dataset, dict):
        return H.e(dataset) if dataset else ""
    bits = []
    for key in ("name", "rows", "date_range", "fingerprint"):
        if key in dataset:
            value = dataset[key]
            if key == "date_range" and isinstance(value, list):
                value = " … ".join(map(str, value))
            if key == "fingerprint":
                value = str(value)[:19] + "…"
            bits.append(f"{key}: <code>{H.e(format_number(value))}</code>")
    return "Data — " + ", ".join(bits) if bits else ""


def _results_section(run: RunInfo) -> str:
    parts = ["<h2 id=\"results\">Results</h2>"]
    if run.legacy_metrics is not None:
        parts.append("<p class=\"muted\">Older metrics.json format: values only.</p>")
        parts.append(H.key_values({k: format_number(v) for k, v in run.legacy_metrics.items()}))
    if not run.results and run.legacy_metrics is None:
        parts.append("<p class=\"muted\">No results for this run (see the problems above).</p>")
    for result in run.results:
        parts.append(f"<h3>{H.e(result_title(result))}</h3>")
        line = _dataset_line(result)
        if line:
            parts.append(f"<p class=\"muted\">{line}</p>")
        notes = [(str(m["name"]), str(m["note"])) for m in valid_models(result) if m.get("note")]
        inline = all(len(n) <= 60 for _, n in notes)
        table = results_table(result, notes=inline)
        if table.rows:
            parts.append(H.table(table, caption="Deep models (tinted) and baselines on the same split; the best value "
                                                "of each metric in bold. Deep models: mean ± std over seeds."))
        if notes and not inline:
            parts.append("<ul class=\"model-notes\">" + "".join(f"<li><strong>{H.e(n)}</strong>: {H.e(t)}</li>"
                                                                for n, t in notes) + "</ul>")
        extra = result.get("extra") if isinstance(result.get("extra"), dict) else {}
        found = find_reference(extra)
        if found is not None:
            ref = reference_table(found[1])
            parts.append("<h3>Reference (PROTOCOLS.md, measured by reference implementations)</h3>")
            if ref is not None:
                parts.append(H.table(ref, caption=f"Source: {ref.source}" if ref.source else None, kinds_column=None))
            else:
                parts.append(H.any_json(found[1]))
        notes = text_notes(extra)
        for key, sentences in notes:
            parts.append(f"<p><strong>{H.e(key.capitalize())}</strong></p><ul>"
                         + "".join(f"<li>{H.e(t)}</li>" for t in sentences) + "</ul>")
        shown = {k for k, _ in notes} | ({found[0]} if found is not None else set())
        if run.tuning is not None:
            shown.add("tuning")  # it has its own page
        others = {k: v for k, v in extra.items() if k not in shown}
        if others:
            parts.append("<details><summary>More results (extra)</summary>" + H.any_json(others) + "</details>")
        meta = []
        if result.get("wall_time_s") is not None:
            meta.append(f"wall time {format_number(float(result['wall_time_s']), 1)} s")
        if result.get("environment"):
            meta.append(environment_summary(result.get("environment")))
        if meta:
            parts.append(f"<p class=\"muted\">{H.e('; '.join(meta))}</p>")
    return "\n".join(parts)


def _run_page(page: _Page, pages: list[_Page], generated: str, description: str) -> str:
    run = page.run
    out = page.out_dir
    parts = [f"<h1>{H.e(run.app)}</h1>"]
    if description:
        parts.append(f"<p class=\"sub\">{H.e(description)}</p>")
    parts.append(f"<p class=\"muted\">Run <code>{H.e(run.run_id)}</code> in <code>{H.e(run.path)}</code></p>")
    parts.append(H.problems(run.problems))
    if run.notes:
        parts.append(H.problems(run.notes, title="Notes"))
    if page.headlines:
        items = "".join(f"<li>{_headline_html(h)}</li>" for h in page.headlines)
        parts.append(f"<ul>{items}</ul><p class=\"rule\">{H.e(RULE)}</p>")
    if run.results or run.legacy_metrics is not None or not _table_maps_only(run):
        parts.append(_results_section(run))
    if page.tuning_file:
        parts.append(_tuning_link(page))

    mapped = _maps_section(page, parts)
    figures = [(href, name) for href, name in page.figures if name not in mapped]
    charts = [(href, name) for href, name in page.charts if name not in mapped]
    parts.append("<h2 id=\"figures\">Figures</h2>")
    if figures:
        figs = "".join(f"<figure><a href=\"{H.e(href)}\"><img src=\"{H.e(href)}\" alt=\"{H.e(_caption(name))}\" "
                       f"loading=\"eager\"></a><figcaption>{H.e(_caption(name))}</figcaption></figure>"
                       for href, name in figures)
        parts.append(f"<div class=\"figures\">{figs}</div>")
    else:
        parts.append("<p class=\"muted\">No figures in this run.</p>")
    if charts:
        parts.append("<h2 id=\"interactive\">Interactive charts</h2><p class=\"muted\">Hover for details; each "
                     "chart is self-contained (its JavaScript is inlined) and also opens on its own page.</p>")
        for href, name in charts:
            parts.append(f"<h3>{H.e(_caption(name))} — <a href=\"{H.e(href)}\">open full page</a></h3>"
                         f"<iframe class=\"chart\" src=\"{H.e(href)}\" title=\"{H.e(_caption(name))}\"></iframe>")

    parts.append("<h2 id=\"data\">Data fingerprint</h2>")
    parts.append(H.any_json(run.data) if run.data is not None else "<p class=\"muted\">Not recorded.</p>")
    parts.append("<h2 id=\"config\">Configuration</h2>")
    parts.append(H.any_json(run.config) if run.config is not None else "<p class=\"muted\">Not recorded.</p>")
    parts.append("<h2 id=\"environment\">Environment</h2>")
    parts.append(H.any_json(run.environment) if run.environment is not None
                 else "<p class=\"muted\">Not recorded.</p>")

    parts.append("<h2 id=\"files\">Files of the run</h2>")
    links = []
    for f in run.files:
        if f.is_file():
            size = f.stat().st_size
            links.append(f"<li><a href=\"{H.e(relative(f, out))}\">{H.e(f.name)}</a> "
                         f"<span class=\"muted\">({_size(size)})</span></li>")
        elif f.is_dir():
            links.append(f"<li><code>{H.e(f.name)}/</code></li>")
    parts.append(f"<ul>{''.join(links)}</ul>" if links else "<p class=\"muted\">None.</p>")
    if run.has_logs:
        parts.append(f"<p>TensorBoard: <code>tensorboard --logdir {H.e(run.path / 'logs')}</code></p>")
    return H.page(f"deepcases — {run.app}", "\n".join(p for p in parts if p), nav=_nav(pages, page),
                  generated=generated)


_MAP_COLUMNS = (("map", "map"), ("of", "of"), ("n_points", "points"), ("n_features", "dimensions"),
                ("trustworthiness", "trustworthiness"), ("continuity", "continuity"),
                ("knn_accuracy", "5-NN accuracy"), ("fit_seconds", "fit s"))


def _map_table(record: dict[str, Any]) -> Table:
    """One row per map of a learned-map record; the best trustworthiness and 5-NN accuracy in bold."""
    rows = [m for m in record["rows"] if isinstance(m, dict)]
    cells = [[format_number(m.get(key), 3) if key not in ("map", "of") else str(m.get(key, ""))
              for key, _ in _MAP_COLUMNS] for m in rows]
    emphasis = set()
    for c, (key, _) in enumerate(_MAP_COLUMNS):
        if key in ("trustworthiness", "knn_accuracy"):
            values = [m.get(key) for m in rows]
            numbers = [v for v in values if isinstance(v, (int, float))]
            emphasis |= {(r, c) for r, v in enumerate(values) if numbers and v == max(numbers)}
    return Table([label for _, label in _MAP_COLUMNS], cells, emphasis)


def _table_maps_only(run: RunInfo) -> bool:
    """A ``deepcases map`` run: every map record is a map of a user's table, not of a model's representation."""
    return bool(run.maps) and all(record.get("kind") == "table" for record in run.maps)


def _maps_section(page: _Page, parts: list[str]) -> set[str]:
    """The run's learned maps (figure, quality table, interactive page); returns the file names shown."""
    if not page.run.maps:
        return set()
    hrefs = dict((name, href) for href, name in page.figures + page.charts)
    if _table_maps_only(page.run):
        parts.append("<h2 id=\"maps\">Map of the table</h2><p class=\"muted\">The map is fitted on the training "
                     "rows and places the held-out rows with its transform. Trustworthiness and continuity (k = 10) "
                     "say how well it keeps the neighbours of the prepared table; 5-NN accuracy says how well the "
                     "label separates on the map.</p>")
    else:
        parts.append("<h2 id=\"maps\">Maps of what the model learned</h2><p class=\"muted\">Each map puts the "
                     "same points on a plane twice: from the model's learned representation and from the raw inputs "
                     "it was fed. Trustworthiness and continuity (k = 10) say how well a map keeps neighbours of the "
                     "space it maps; 5-NN accuracy says how well the label separates on the map (fitted on 70 % of "
                     "the points, scored on the rest).</p>")
    shown = set()
    for record in page.run.maps:
        figure = Path(str(record["figure"])).name
        chart = Path(str(record.get("page") or "")).name
        parts.append(f"<h3>{H.e(record['title'])}</h3>")
        n_total = record.get("n_total")
        sample = f"{record.get('n_points', '?'):,} points" if isinstance(record.get("n_points"), int) else ""
        if isinstance(n_total, int) and isinstance(record.get("n_points"), int) and n_total > record["n_points"]:
            sample += f" (a fixed random sample of {n_total:,})"
        parts.append(f"<p class=\"muted\">Coloured by {H.e(record.get('label', 'label'))}; {H.e(sample)}.</p>")
        if figure in hrefs:
            href = hrefs[figure]
            parts.append(f"<figure class=\"map\"><a href=\"{H.e(href)}\"><img src=\"{H.e(href)}\" "
                         f"alt=\"{H.e(record['title'])}\" loading=\"eager\"></a></figure>")
            shown.add(figure)
        else:
            log.warning("%s: map %s has no figure %s in figures/", page.run.app, record["name"], figure)
            parts.append(f"<p class=\"problems\">The figure {H.e(figure)} of this map is missing from the run's "
                         "figures/ folder (the run stopped while writing it); rerun the case study.</p>")
        parts.append(H.table(_map_table(record), kinds_column=None))
        if chart and chart in hrefs:
            parts.append(f"<p><a href=\"{H.e(hrefs[chart])}\">Interactive map (hover for each point)</a></p>")
            shown.add(chart)
    return shown


def _tuning_blurb(info: Any) -> str:
    method = info.summary.get("method")
    bits = [f"{method} search" if method else "search"]
    if info.rows:
        bits.append(f"{info.completed} of {len(info.rows)} trials completed")
    elif info.summary.get("completed_trials") is not None:
        bits.append(f"{info.summary['completed_trials']} trials completed")
    score = _number(info.summary.get("best_val_score"))
    if score is not None:
        bits.append(f"best {info.summary.get('score') or 'validation score'} {format_number(score)}")
    return ", ".join(bits)


def _tuning_link(page: _Page) -> str:
    info = page.run.tuning
    best = info.best
    config = ", ".join(f"{k} = {_cell(v)}" for k, v in best.items()) if best else "not recorded"
    return (f"<h2 id=\"tuning\">Hyperparameter search</h2><p>{H.e(_tuning_blurb(info))}; best configuration: "
            f"<code>{H.e(config)}</code>. <a href=\"{H.e(page.tuning_file)}\">Trial table, score against each "
            f"hyperparameter and the tuned result →</a></p>")


def _cell(value: Any) -> str:
    """A hyperparameter value or score for display: floats to 6 significant digits, the rest as is."""
    if isinstance(value, bool) or value is None:
        return "–" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    text = str(value).strip()
    number = _number(text)
    if number is None or (isinstance(value, str) and text.lstrip("-").isdigit()):
        return text or "–"
    return format(number, ".6g")


def _trial_table(info: Any) -> Table:
    group = [info.group] if info.group else []
    columns = ["best", *group, "trial", "status", "score", *info.params]
    rows, emphasis, kinds = [], set(), []
    score_col = columns.index("score")
    for i, record in enumerate(info.rows):
        best = i in info.best_rows
        rows.append(["★" if best else "", *(record.get(c, "") for c in group), record.get("trial", str(i)),
                     record.get("status", ""), _cell(record.get("score", "")),
                     *(_cell(record.get(p, "")) for p in info.params)])
        kinds.append("best" if best else "")
        if best:
            emphasis.add((i, score_col))
    return Table(columns, rows, emphasis, kinds)


def _tuning_page(page: _Page, pages: list[_Page], generated: str) -> str:
    run, info = page.run, page.run.tuning
    parts = [f"<h1>{H.e(run.app)} — hyperparameter search</h1>",
             f"<p class=\"sub\">Run <code>{H.e(run.run_id)}</code>. The search scored each trial on validation "
             f"data carved out of the training part only; the best configuration was then retrained and evaluated "
             f"once on test. <a href=\"{H.e(page.file)}\">← back to the {H.e(run.app)} page</a></p>"]
    parts.append(H.problems([p for p in run.problems if "tuning" in p or "trials" in p]))
    better = {"min": "lower is better", "max": "higher is better"}.get(info.direction or "", "direction unknown")
    summary = {k: v for k, v in info.summary.items() if k != "best"}
    summary.setdefault("score", "validation score")
    summary["direction"] = better
    if info.rows:
        summary["trials in trials.csv"] = f"{len(info.rows)} ({info.completed} completed)"
    parts.append("<h2 id=\"best\">Best configuration</h2>")
    best = info.best
    parts.append(H.key_values({k: _cell(v) for k, v in best.items()}) if best
                 else "<p class=\"muted\">Not recorded (no extra['tuning']['best'] in metrics.json and no single "
                      "best trial).</p>")
    parts.append("<h3>Search</h3>" + H.key_values(summary))
    for result in run.results:
        deep = [m for m in valid_models(result) if m.get("kind") == "deep"]
        if any(str(m["name"]).endswith("_tuned") for m in deep):
            table = results_table({**result, "models": deep}, notes=False)
            parts.append(f"<h2 id=\"tuned\">Tuned against default on test — {H.e(result_title(result))}</h2>")
            parts.append(H.table(table, caption="The *_tuned row is the best configuration retrained and evaluated "
                                                "once on test; the other rows use the default settings. Baselines "
                                                "are on the application page."))
    parts.append("<h2 id=\"scores\">Validation score against each hyperparameter</h2>")
    hrefs = {name: href for href, name in page.figures}
    shown = [f for f in info.figures if f.name in hrefs]
    if shown:
        parts.append("<div class=\"figures wide\">" + "".join(
            f"<figure><a href=\"{H.e(hrefs[f.name])}\"><img src=\"{H.e(hrefs[f.name])}\" "
            f"alt=\"{H.e(_caption(f.name))}\" loading=\"eager\"></a><figcaption>{H.e(_caption(f.name))}"
            f"</figcaption></figure>" for f in shown) + "</div>")
    else:
        parts.append("<p class=\"muted\">No figure (figures/tuning_scores.png is not in the run).</p>")
    parts.append("<h2 id=\"trials\">Trials</h2>")
    if info.rows:
        link = (f" (<a href=\"{H.e(relative(info.trials_path, page.out_dir))}\">trials.csv</a>)"
                if info.trials_path is not None else "")
        star = ("★ and bold: the best completed trial" + (f" of each {info.group}" if info.group else "")
                + f" ({better})") if info.best_rows else "no best trial marked (the score direction is unknown)"
        parts.append(f"<p class=\"muted\">Every trial with its hyperparameters and validation score{link}; "
                     f"{H.e(star)}.</p>")
        parts.append(H.table(_trial_table(info), kinds_column=None))
    else:
        parts.append("<p class=\"muted\">No trial table (see the problems above).</p>")
    return H.page(f"deepcases — {run.app} tuning", "\n".join(p for p in parts if p), nav=_nav(pages, page),
                  generated=generated)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def _headline_html(h: Headline) -> str:
    def side(pair: tuple[str, float] | None) -> str:
        return "–" if pair is None else f"<strong>{H.e(format_number(pair[1]))}</strong> ({H.e(pair[0])})"

    arrow = {True: "↑ higher is better", False: "↓ lower is better", None: ""}[h.higher_is_better]
    cls = h.css
    return (f"<em>{H.e(h.title)}</em> · <code>{H.e(h.metric)}</code> <span class=\"muted\">{arrow}</span>: "
            f"best deep {side(h.deep)} vs best baseline {side(h.baseline)} — "
            f"<span class=\"verdict {cls}\">{H.e(h.verdict)}</span>")


def _index_page(pages: list[_Page], problems: list[str], generated: str, roots: Iterable[str],
                descriptions: dict[str, str]) -> str:
    parts = ["<h1>deepcases — case-study report</h1>",
             f"<p class=\"sub\">Each application's deep models against the simple baselines on the same split. "
             f"Built from {H.e(', '.join(roots))}.</p>"]
    run_problems = [f"{p.run.app}: {len(p.run.problems)} problem(s), see its page" for p in pages if p.run.problems]
    parts.append(H.problems([*problems, *run_problems]))
    if not pages:
        parts.append("<p>No runs found. Run <code>deepcases demo</code> (all case studies, quick settings) or "
                     "<code>deepcases run APP</code>, then <code>deepcases report</code>.</p>")
    else:
        rows = []
        for p in pages:
            link = f"<a href=\"{H.e(p.file)}\">{H.e(p.run.app)}</a>"
            if not p.headlines:
                rows.append(f"<tr><td>{link}</td><td colspan=\"5\" class=\"muted\">no results "
                            f"({H.e(p.run.problems[0] if p.run.problems else 'empty')})</td>"
                            f"<td><code>{H.e(p.run.run_id)}</code></td></tr>")
            for h in p.headlines:
                cls = h.css
                deep, base = (
                    "–" if pair is None else f"{format_number(pair[1])} <span class=\"muted\">({H.e(pair[0])})</span>"
                    for pair in (h.deep, h.baseline))
                arrow = {True: " ↑", False: " ↓", None: ""}[h.higher_is_better]
                rows.append(f"<tr><td>{link}</td><td>{H.e(h.title)}</td><td><code>{H.e(h.metric)}</code>{arrow}</td>"
                            f"<td class=\"num\">{deep}</td><td class=\"num\">{base}</td>"
                            f"<td class=\"verdict {cls}\">{H.e(h.verdict)}</td>"
                            f"<td><code>{H.e(p.run.run_id)}</code></td></tr>")
        parts.append("<h2>Headline numbers</h2><table><thead><tr><th>application</th><th>protocol — data</th>"
                     "<th>metric</th><th>best deep model</th><th>best baseline</th><th>verdict</th><th>run</th>"
                     "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
                     "<p class=\"muted\">The primary metric of each protocol (PROTOCOLS.md), best deep model against "
                     "the strongest baseline; ↑ higher is better, ↓ lower is better.</p>"
                     f"<p class=\"rule\">{H.e(RULE)}</p>")
        cards = []
        for p in pages:
            thumb = ""
            if p.figures:
                href, name = p.figures[0]
                thumb = f"<a href=\"{H.e(p.file)}\"><img src=\"{H.e(href)}\" alt=\"{H.e(_caption(name))}\"></a>"
            desc = descriptions.get(p.run.app, "")
            counts = f"{len(p.figures)} figure(s), {len(p.charts)} interactive chart(s)"
            tuned = (f"<div><a href=\"{H.e(p.tuning_file)}\">hyperparameter search</a> "
                     f"<span class=\"muted\">({H.e(_tuning_blurb(p.run.tuning))})</span></div>"
                     if p.tuning_file else "")
            cards.append(f"<div class=\"card\"><h3><a href=\"{H.e(p.file)}\">{H.e(p.run.app)}</a></h3>"
                         f"<div class=\"muted\">{H.e(desc)}</div><div class=\"muted\">{H.e(counts)}</div>{tuned}"
                         f"{thumb}</div>")
        parts.append("<h2>Applications</h2><div class=\"cards\">" + "".join(cards) + "</div>")
    seen = {p.run.app for p in pages}
    missing = [a for a in _known_apps() if a not in seen]
    if missing:
        parts.append("<p class=\"muted\">No run found for: " + ", ".join(f"<code>{H.e(a)}</code>" for a in missing)
                     + " (run <code>deepcases run APP</code>).</p>")
    return H.page("deepcases report", "\n".join(p for p in parts if p), nav=_nav(pages, None), generated=generated)


def build_report(run_dirs_or_roots: Sequence[str | Path] | str | Path | None = None, *,
                 out_dir: str | Path | None = None, results_dir: str | Path | None = DEFAULT_RESULTS_DIR) -> Path:
    """Build the report and return the path of its ``index.html``.

    ``run_dirs_or_roots``: run directories (each gets a page), application directories or runs
    roots (the latest finished run of each application gets a page); default ``runs/``.
    ``out_dir``: default ``<root>/report`` (``runs/report``). ``results_dir``: the committed full-protocol
    results (default: the repository's ``results/``) whose strongest baselines the headlines name where a
    run skipped them; None compares each run with itself only.
    """
    if run_dirs_or_roots is None:
        paths: list[str | Path] = [DEFAULT_RUNS_ROOT]
    elif isinstance(run_dirs_or_roots, (str, Path)):
        paths = [run_dirs_or_roots]
    else:
        paths = list(run_dirs_or_roots) or [DEFAULT_RUNS_ROOT]
    out = Path(out_dir) if out_dir is not None else default_out_dir(paths)
    out.mkdir(parents=True, exist_ok=True)
    found, problems = find_runs(paths)
    runs = [load_run(path, newer_unfinished=newer) for path, newer in found
            if path.resolve() != out.resolve() and out.resolve() not in path.resolve().parents]
    per_app: dict[str, int] = {}
    for run in runs:
        per_app[run.app] = per_app.get(run.app, 0) + 1
    committed = _committed_results(Path(results_dir) if results_dir is not None else None)
    pages, used = [], set()
    for run in sorted(runs, key=lambda r: (_order(r.app), r.app, r.run_id)):
        slug = _slug(run.app if per_app[run.app] == 1 else f"{run.app}--{run.run_id}")
        while slug in used or f"{slug}-tuning" in used or slug == "index":
            slug += "-x"
        used.update((slug, f"{slug}-tuning"))
        pages.append(_Page(run, slug, out, committed))
    generated = f"Generated {_dt.datetime.now().isoformat(timespec='seconds')} by `deepcases report`; " \
                f"static files, no network needed."
    descriptions = _descriptions()
    for page in pages:
        page.copy_assets()
        write_text(out / page.file, _run_page(page, pages, generated, descriptions.get(page.run.app, "")))
        if page.tuning_file:
            write_text(out / page.tuning_file, _tuning_page(page, pages, generated))
        elif (out / f"{page.slug}-tuning.html").is_file():  # an earlier build's page for a run no longer tuned
            (out / f"{page.slug}-tuning.html").unlink()
    index = write_text(out / "index.html", _index_page(pages, problems, generated, [str(p) for p in paths],
                                                       descriptions))
    log.info("report: %s (%d run(s), %d problem(s))", index, len(pages),
             len(problems) + sum(len(p.run.problems) for p in pages))
    return index


def _order(app: str) -> int:
    known = _known_apps()
    return known.index(app) if app in known else len(known)
