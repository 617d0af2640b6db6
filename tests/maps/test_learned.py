"""shared.maps.learned: a learned map beside the raw-input maps, its quality rows and its files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from shared.artifacts import RunDir
from shared.errors import UserError
from shared.maps.learned import compare_maps, learned_map


@pytest.fixture
def points():
    """Three classes the 'learned' space separates (plus a dead unit) and the 'raw' space barely does."""
    rng = np.random.default_rng(0)
    y = np.arange(240) % 3
    raw = rng.normal(size=(240, 10))
    raw[:, 0] += 0.5 * y
    learned = np.c_[rng.normal(size=(240, 4)) + 4.0 * y[:, None], np.zeros(240)]
    return learned, raw, np.array(["a", "b", "c"])[y]


def test_pca_rows_measure_each_space_on_the_same_points(points):
    learned, raw, labels = points
    result = compare_maps(learned, raw, labels, seed=0, methods="pca", max_points=200)
    assert [(r["space"], r["method"]) for r in result.rows] == [("learned", "pca"), ("raw", "pca")]
    assert result.rows[0]["n_features"] == 4                     # the constant (dead) unit is left out
    assert len(result.points) == 200 == len(result.labels) and result.n_total == 240
    learned_row, raw_row = result.rows
    assert learned_row["knn_accuracy"] > 0.95 > raw_row["knn_accuracy"]
    assert learned_row["trustworthiness"] > raw_row["trustworthiness"]
    again = compare_maps(learned, raw, labels, seed=0, methods="pca", max_points=200)
    np.testing.assert_array_equal(result.points, again.points)


def test_learned_map_writes_figure_page_and_quality_table(points, tmp_path):
    learned, raw, labels = points
    run = RunDir.create("app", root=tmp_path, run_id="r")
    out = learned_map(run, name="things_map", learned=learned, raw=pd.DataFrame(raw), labels=labels,
                      title="Things", label_name="class", methods="pca", hover_text=[f"#{i}" for i in range(240)],
                      extra_labels={"error": np.where(labels == "a", "wrong", "right")})
    assert out["figure"] == run.figures / "things_map.png" and out["figure"].read_bytes()[:4] == b"\x89PNG"
    page = out["page"].read_text(encoding="utf-8")
    assert "#17" in page and "class" in page
    record = json.loads((run.path / "maps" / "things_map.json").read_text(encoding="utf-8"))
    assert record["figure"] == "figures/things_map.png" and record["classes"] == {"a": 80, "b": 80, "c": 80}
    assert [r["map"] for r in record["rows"]] == ["learned · PCA", "raw · PCA"]
    assert all(0 <= r["trustworthiness"] <= 1 and 0 <= r["knn_accuracy"] <= 1 for r in record["rows"])
    table = pd.read_csv(run.path / "maps" / "things_map.csv")
    assert list(table["space"]) == ["learned", "raw"]
    leftovers = [p.name for p in run.path.rglob(".*")]
    assert leftovers == []                                      # atomic writes leave no temporary files


def test_a_failed_figure_leaves_no_quality_table(points, tmp_path, monkeypatch):
    """The table is written last: the report never shows quality numbers for a map whose figure is missing."""
    learned, raw, labels = points
    run = RunDir.create("app", root=tmp_path, run_id="r")

    def broken(fig, name):
        raise OSError("disk full")

    monkeypatch.setattr(run, "save_figure", broken)
    with pytest.raises(OSError, match="disk full"):
        learned_map(run, name="m", learned=learned, raw=raw, labels=labels, title="T", label_name="c", methods="pca")
    assert not (run.path / "maps").exists()


def test_off_maps_nothing_and_optional_maps_skip_bad_points(points, tmp_path, caplog):
    learned, raw, labels = points
    run = RunDir.create("app", root=tmp_path, run_id="r")
    assert learned_map(run, name="m", learned=learned, raw=raw, labels=labels, title="T", label_name="c",
                       methods="off") == {}
    assert learned_map(run, name="m", learned=learned, raw=raw, labels=["a"] * 240, title="T", label_name="c",
                       methods="pca", required=False) == {}
    assert "learned map m skipped" in caplog.text and "single class" in caplog.text
    assert not (run.path / "maps").exists()


@pytest.mark.parametrize("change, match", [
    (lambda l, r, y: (l, r, ["a"] * len(y)), "single class"),
    (lambda l, r, y: (l[:20], r[:20], y[:20]), "at least 30 points"),
    (lambda l, r, y: (l, r[:-1], y), "raw has 239 rows but the learned vectors have 240"),
    (lambda l, r, y: (np.where(np.arange(len(l))[:, None] == 3, np.nan, l), r, y), "NaN or infinite"),
    (lambda l, r, y: (np.ones_like(l), r, y), "0 non-constant column"),
    (lambda l, r, y: (l, r, y[:-1]), "one label per point"),
])
def test_bad_points_raise_a_user_error_naming_the_fix(points, change, match):
    learned, raw, labels = change(*points)
    with pytest.raises(UserError, match=match):
        compare_maps(learned, raw, labels, methods="pca")


def test_unknown_methods_are_refused(points):
    with pytest.raises(UserError, match="methods must be one of"):
        compare_maps(*points, methods="tsne")


@pytest.mark.slow
def test_umap_rows_beside_pca_rows(points):
    """Slow: umap-learn compiles with numba on first use (minutes on a cold cache)."""
    result = compare_maps(*points, seed=0, methods="umap")
    assert [(r["space"], r["method"]) for r in result.rows] == [("learned", "umap"), ("learned", "pca"),
                                                               ("raw", "pca"), ("raw", "umap")]
    assert result.rows[0]["knn_accuracy"] > result.rows[3]["knn_accuracy"]


def test_head_input_is_the_last_hidden_layer_and_layer_output_any_layer():
    from shared.maps.layers import head_input, layer_output
    from shared.models import build_mlp

    model = build_mlp(n_features=3, hidden_units=(5, 4), name="net")
    x = np.random.default_rng(0).normal(size=(7, 3)).astype("float32")
    vectors = layer_output(model, x, layer="hidden_act_1")
    assert vectors.shape == (7, 4) and (vectors >= 0).all()       # after the ReLU
    np.testing.assert_allclose(head_input(model, x), vectors)     # no dropout: the head reads the last ReLU
    with pytest.raises(ValueError, match="no layer 'nope'"):
        layer_output(model, x, layer="nope")
    with pytest.raises(ValueError, match="no layer 'out'"):
        head_input(model, x, head="out")
