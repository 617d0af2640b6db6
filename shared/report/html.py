"""Small HTML building blocks for the static report: page shell, inlined CSS, tables, key/value lists.

No external resource anywhere: the CSS is inlined, fonts are the system's, and the only script is
a few inlined lines that mark the page when every image has loaded (and flag broken ones), which
the browser test reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from .tables import Table

CSS = """
:root { --fg:#1d232b; --muted:#5d6875; --line:#dfe3e8; --bg:#ffffff; --panel:#f6f8fa; --accent:#1f6feb;
        --deep:#e8f1fe; --good:#1a7f37; --bad:#b42318; --warn-bg:#fff8e6; --warn-line:#f0c36d; }
* { box-sizing: border-box; }
body { margin:0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color:var(--fg); background:var(--bg); line-height:1.45; font-size:15px; }
header.top { background:#14213d; color:#fff; padding:10px 24px; display:flex; gap:18px; align-items:baseline;
             flex-wrap:wrap; }
header.top a { color:#dbe7ff; text-decoration:none; font-size:14px; }
header.top a.home { color:#fff; font-weight:700; font-size:17px; margin-right:8px; }
header.top a.current { color:#fff; border-bottom:2px solid #fff; }
main { max-width:1320px; margin:0 auto; padding:18px 24px 48px; }
h1 { font-size:26px; margin:8px 0 4px; } h2 { font-size:20px; margin:30px 0 8px; border-bottom:1px solid var(--line);
     padding-bottom:4px; } h3 { font-size:16px; margin:20px 0 6px; }
p.sub, .muted { color:var(--muted); } code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
     font-size:13px; } pre { background:var(--panel); border:1px solid var(--line); padding:10px; overflow:auto;
     max-height:420px; border-radius:6px; }
table { border-collapse:collapse; margin:6px 0 14px; font-size:14px; }
th, td { border:1px solid var(--line); padding:5px 9px; text-align:left; vertical-align:top; }
th { background:var(--panel); font-weight:600; }
td.num { text-align:right; font-variant-numeric: tabular-nums; white-space:nowrap; }
td.best { font-weight:700; color:var(--good); }
td.note { min-width:240px; font-size:13px; color:var(--muted); }
div.scroll { overflow-x:auto; max-width:100%; }
p.caption { font-size:13px; margin:-8px 0 12px; }
ul.model-notes { font-size:13px; color:var(--muted); margin-top:0; }
tr.deep td { background:var(--deep); }
tr.best td { background:#e6f4ea; }
.figures.wide { grid-template-columns:1fr; }
.kind { display:inline-block; font-size:11px; padding:1px 7px; border-radius:10px; background:#e4e7eb; color:#333; }
.kind.deep { background:#1f6feb; color:#fff; }
table.kv td:first-child { color:var(--muted); white-space:nowrap; }
.problems { background:var(--warn-bg); border:1px solid var(--warn-line); border-radius:6px; padding:8px 14px;
            margin:12px 0; } .problems li { margin:3px 0; }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(330px, 1fr)); gap:16px; margin:12px 0; }
.card { border:1px solid var(--line); border-radius:8px; padding:12px 14px; background:#fff; }
.card h3 { margin:0 0 4px; } .card img { width:100%; height:170px; object-fit:contain; background:var(--panel);
           border-radius:4px; margin-top:6px; }
.verdict.deep { color:var(--good); font-weight:600; } .verdict.baseline { color:var(--bad); font-weight:600; }
.verdict.tie { color:var(--muted, #666); font-weight:600; } .rule { font-size:0.9em; color:#555; max-width:60em; }
.figures { display:grid; grid-template-columns:repeat(auto-fill, minmax(470px, 1fr)); gap:18px; }
figure { margin:0; border:1px solid var(--line); border-radius:8px; padding:10px; background:#fff; }
figure img { max-width:100%; height:auto; display:block; margin:0 auto; }
figcaption { color:var(--muted); font-size:13px; margin-top:6px; text-align:center; }
iframe.chart { width:100%; height:760px; border:1px solid var(--line); border-radius:8px; background:#fff; }
details { margin:8px 0; } summary { cursor:pointer; color:var(--accent); }
a { color:var(--accent); }
footer { color:var(--muted); font-size:12px; margin-top:40px; border-top:1px solid var(--line); padding-top:8px; }
img.broken { outline:3px solid var(--bad); }
"""

#: marks <body data-images="N/M loaded"> and data-images-ok="true|false" once the page has loaded
IMAGE_CHECK_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images), ok = 0;
  imgs.forEach(function (img) {
    if (img.complete && img.naturalWidth > 0) { ok += 1; } else { img.classList.add('broken'); }
  });
  document.body.setAttribute('data-images', ok + '/' + imgs.length + ' loaded');
  document.body.setAttribute('data-images-ok', ok === imgs.length ? 'true' : 'false');
});
"""


def e(value: Any) -> str:
    return escape(str(value), quote=True)


def page(title: str, body: str, *, nav: Iterable[tuple[str, str, bool]] = (), generated: str = "") -> str:
    """A complete HTML document. ``nav``: (label, relative href, is_current)."""
    current_attr = ' class="current"'
    links = "".join(f'<a href="{e(href)}"{current_attr if current else ""}>{e(label)}</a>'
                    for label, href, current in nav)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header class=\"top\"><a class=\"home\" href=\"index.html\">deepcases report</a>{links}</header>\n"
        f"<main>\n{body}\n<footer>{e(generated)}</footer>\n</main>\n"
        f"<script>{IMAGE_CHECK_SCRIPT}</script>\n</body>\n</html>\n"
    )


def _is_numeric_text(text: str) -> bool:
    head = text.strip()[:1]
    return bool(head) and (head.isdigit() or (head in "-–+." and len(text.strip()) > 0))


def table(t: Table, *, caption: str | None = None, kinds_column: int | None = 1) -> str:
    """A results or reference table; deep rows tinted, best values bold, kind shown as a badge."""
    out = ['<div class="scroll"><table>']
    out.append("<thead><tr>" + "".join(f"<th>{e(c)}</th>" for c in t.columns) + "</tr></thead><tbody>")
    for r, row in enumerate(t.rows):
        kind = t.row_kinds[r] if r < len(t.row_kinds) else ""
        cells = []
        for c, value in enumerate(row):
            classes = []
            if c >= 1 and _is_numeric_text(value) and c != kinds_column:
                classes.append("num")
            if (r, c) in t.emphasis:
                classes.append("best")
            if t.columns[c] == "note":
                classes.append("note")
            attr = f' class="{" ".join(classes)}"' if classes else ""
            if kinds_column is not None and c == kinds_column and t.row_kinds:
                cells.append(f'<td><span class="kind {e(value)}">{e(value)}</span></td>')
            else:
                cells.append(f"<td{attr}>{e(value)}</td>")
        out.append(f'<tr class="{e(kind)}">' + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    if caption:
        out.append(f'<p class="muted caption">{e(caption)}</p>')
    return "\n".join(out)


def _value(value: Any) -> str:
    if isinstance(value, (dict, list)):
        text = json.dumps(value, indent=1, default=str)
        if len(text) <= 120 and "\n" not in json.dumps(value, default=str):
            return f"<code>{e(json.dumps(value, default=str))}</code>"
        return f"<details><summary>{e(type(value).__name__)} of {len(value)}</summary><pre>{e(text)}</pre></details>"
    if isinstance(value, float):
        return e(format(value, ".6g"))
    return e(value)


def key_values(mapping: Mapping[str, Any]) -> str:
    rows = "".join(f"<tr><td>{e(k)}</td><td>{_value(v)}</td></tr>" for k, v in mapping.items())
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


def any_json(value: Any) -> str:
    """A dict as a key/value table, a list of dicts as one table each, anything else as JSON."""
    if isinstance(value, Mapping):
        return key_values(value)
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        return "\n".join(key_values(v) for v in value)
    return f"<pre>{e(json.dumps(value, indent=2, default=str))}</pre>"


def problems(messages: Iterable[str], title: str = "Problems found") -> str:
    items = "".join(f"<li>{e(m)}</li>" for m in messages)
    return f'<div class="problems"><strong>{e(title)}</strong><ul>{items}</ul></div>' if items else ""
