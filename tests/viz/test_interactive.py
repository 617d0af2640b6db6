"""Tests of shared.viz.interactive: a self-contained, atomically written HTML embedding map."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from shared.viz import embedding_map_html

CDN_SCRIPT = re.compile(r"<script[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", re.IGNORECASE)


def plotly_traces(page: str) -> list[dict]:
    """The trace list passed to Plotly.newPlot in the page."""
    start = page.index("Plotly.newPlot(")
    first_bracket = page.index("[", start)
    decoder = json.JSONDecoder()
    traces, _ = decoder.raw_decode(page[first_bracket:])
    return traces


@pytest.fixture
def coords():
    return np.random.default_rng(0).normal(size=(30, 2))


def test_writes_a_self_contained_page_with_the_hover_texts(tmp_path, coords):
    titles = [f"Movie number {i}" for i in range(30)]
    out = embedding_map_html(coords, labels=["drama"] * 15 + ["comedy"] * 15, hover_text=titles,
                             title="Item embeddings", path=tmp_path / "maps" / "items.html")
    assert out == tmp_path / "maps" / "items.html"
    page = out.read_text(encoding="utf-8")
    assert not CDN_SCRIPT.search(page), "plotly.js must be inlined, not loaded from a CDN"
    assert "<script src=" not in page
    assert len(page) > 1_000_000                                           # the plotly.js bundle is inside
    for title in titles:
        assert title in page
    traces = plotly_traces(page)
    assert [t["name"] for t in traces] == ["comedy (15)", "drama (15)"]
    assert "Item embeddings" in page
    assert [p.name for p in out.parent.iterdir()] == ["items.html"]        # no temporary file left behind


def test_numeric_labels_use_one_trace_with_a_colour_scale(tmp_path, coords):
    out = embedding_map_html(coords, labels=np.linspace(0, 1, 30), label_name="popularity", path=tmp_path / "m.html")
    traces = plotly_traces(out.read_text(encoding="utf-8"))
    assert len(traces) == 1 and traces[0]["marker"]["showscale"] is True
    assert traces[0]["hovertext"][:2] == ["#0", "#1"]                      # row numbers when no hover text


def test_many_categories_are_capped_and_rewriting_replaces_the_file(tmp_path, coords):
    path = tmp_path / "m.html"
    path.write_text("old", encoding="utf-8")
    embedding_map_html(coords, labels=[f"c{i}" for i in range(30)], path=path)
    names = [t["name"] for t in plotly_traces(path.read_text(encoding="utf-8"))]
    assert len(names) == 20 and names[-1] == "other (11)"


def test_hover_text_is_shown_literally_unless_html_is_requested(tmp_path, coords):
    texts = ["<b>Heat</b> & Dust"] + [""] * 29
    page = embedding_map_html(coords, hover_text=texts, path=tmp_path / "a.html").read_text(encoding="utf-8")
    assert plotly_traces(page)[0]["hovertext"][0] == "&lt;b&gt;Heat&lt;/b&gt; &amp; Dust"
    page = embedding_map_html(coords, hover_text=texts, hover_html=True, path=tmp_path / "b.html").read_text(
        encoding="utf-8")
    assert plotly_traces(page)[0]["hovertext"][0] == "<b>Heat</b> & Dust"


@pytest.mark.parametrize("coords_in, kwargs, error, match", [
    (np.ones((5, 3)), {}, ValueError, r"shape \(n_points, 2\)"),
    (np.ones((0, 2)), {}, ValueError, "coords is empty"),
    (np.array([[0.0, np.nan]]), {}, ValueError, "NaN or infinite"),
    (np.ones((3, 2)), {"hover_text": ["a"]}, ValueError, "coords and hover_text must have the same length"),
    (np.ones((3, 2)), {"hover_text": "a"}, TypeError, "hover_text must be a list"),
    (np.ones((3, 2)), {"labels": [1, 2]}, ValueError, "coords and labels must have the same length"),
    (np.ones((3, 2)), {"path_name": "map.png"}, ValueError, r"path must end in \.html"),
    (np.ones((3, 2)), {"path_name": None}, TypeError, "path must be a str"),
    ([["a", "b"]], {}, TypeError, "numeric array"),
])
def test_rejects_bad_input(tmp_path, coords_in, kwargs, error, match):
    name = kwargs.pop("path_name", "map.html")
    path = None if name is None else tmp_path / name
    with pytest.raises(error, match=match):
        embedding_map_html(coords_in, path=path, **kwargs)
    assert not list(tmp_path.iterdir())
