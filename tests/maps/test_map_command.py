"""`deepcases map` end to end on a small mixed table: run directory, quality table, new rows, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from shared import cli
from shared.maps.table import MapConfig, map_table


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(0)
    group = np.arange(300) % 3
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 6.0, 0.0], [0.0, 6.0, 6.0]])
    numbers = centres[group] + rng.normal(size=(300, 3))
    frame = pd.DataFrame({"a": numbers[:, 0], "b": numbers[:, 1], "c": numbers[:, 2],
                          "colour": np.array(["red", "green", "blue"])[group], "group": np.array(["g0", "g1", "g2"])[group],
                          "row_id": np.arange(300), "constant": 1.0})
    frame.loc[5, "a"] = np.nan                          # imputed with the training median, as deepcases fit does
    path = tmp_path_factory.mktemp("data") / "mixed.csv"
    frame.to_csv(path, index=False)
    return path, frame


@pytest.mark.slow
def test_map_writes_a_run_and_places_new_rows(table, tmp_path, capsys):
    """Slow: TensorFlow and a short encoder training (about 2 min on a busy 2-core machine); the pca tests
    below keep the command and its page in the default suite."""
    path, frame = table
    runs = tmp_path / "runs"
    code = cli.main(["map", "--data", str(path), "--label", "group", "--runs-dir", str(runs), "--run-id", "t",
                     "--epochs", "4", "--log-level", "WARNING"])
    assert code == 0, capsys.readouterr().err
    run = runs / "map_mixed" / "t"
    for name in ("map.json", "encoder.keras", "coordinates.csv", "quality.csv", "quality.md", "figures/map.html",
                 "config.json", "data.json"):
        assert (run / name).is_file(), name
    state = json.loads((run / "map.json").read_text())
    assert set(state["kinds"]) == {"a", "b", "c", "colour"}          # no id, no constant, not the label
    assert "colour=__unknown__" not in state["features"]                 # constant on the training rows: dropped
    quality = pd.read_csv(run / "quality.csv")
    assert list(quality["part"]) == ["training rows (fitted)", "held-out rows (transform)"]
    assert (quality["knn_accuracy"] > 0.9).all() and (quality["trustworthiness"] > 0.8).all()
    coords = pd.read_csv(run / "coordinates.csv")
    assert len(coords) == 300 and (coords["part"] == "held-out").sum() == 60
    out = capsys.readouterr().out
    assert "held-out rows" in out and "deepcases map --run" in out

    new = frame.drop(columns=["group"]).head(12)
    assert cli.main(["map", "--run", str(run), "--data", str(_write(new, tmp_path / "new.csv"))]) == 0
    placed = pd.read_csv(run / "new_coordinates.csv")
    assert np.allclose(placed[["x", "y"]], coords[["x", "y"]].head(12), atol=1e-4)   # same rows, same places

    bad = frame.drop(columns=["b"]).assign(extra=1)
    assert cli.main(["map", "--run", str(run), "--data", str(_write(bad, tmp_path / "bad.csv"))]) == 2
    err = capsys.readouterr().err
    assert "missing ['b']" in err and "['extra']" in err


def _write(frame, path):
    frame.to_csv(path, index=False)
    return path


def test_map_table_bad_input(table, tmp_path):
    path, frame = table
    with pytest.raises(Exception, match="single class"):
        map_table(MapConfig(data=str(path), label="constant", method="pca", runs_dir=str(tmp_path)), frame)
    with pytest.raises(Exception, match="not a column"):
        map_table(MapConfig(data=str(path), label="nope", method="pca", runs_dir=str(tmp_path)), frame)
    with pytest.raises(Exception, match="no usable feature columns"):
        map_table(MapConfig(data=str(path), method="pca", runs_dir=str(tmp_path)), frame[["row_id", "constant"]])


def test_a_non_parametric_run_keeps_no_encoder(table, tmp_path, capsys):
    path, _ = table
    runs = tmp_path / "runs"
    assert cli.main(["map", "--data", str(path), "--method", "pca", "--runs-dir", str(runs), "--run-id", "p",
                     "--log-level", "WARNING"]) == 0
    assert cli.main(["map", "--run", str(runs / "map_mixed" / "p"), "--data", str(path)]) == 2
    assert "keeps no encoder" in capsys.readouterr().err


def test_map_reads_a_parquet_directory(table, tmp_path):
    _, frame = table
    folder = tmp_path / "mixed.parquet"
    folder.mkdir()
    frame.iloc[:150].to_parquet(folder / "part-0.parquet")
    frame.iloc[150:].to_parquet(folder / "part-1.parquet")
    outcome = map_table(MapConfig(data=str(folder), label="group", method="pca", runs_dir=str(tmp_path / "runs"),
                                  run_id="pq"))
    assert outcome["run"] == tmp_path / "runs" / "map_mixed" / "pq"
    assert len(pd.read_csv(outcome["run"] / "coordinates.csv")) == 300
    assert outcome["quality"]["knn_accuracy"].min() > 0.9


def test_a_map_run_is_done_and_its_report_page_shows_the_map(table, tmp_path):
    from shared.report.build import build_report
    from shared.report.runs import load_run

    path, _ = table
    runs = tmp_path / "runs"
    outcome = map_table(MapConfig(data=str(path), label="group", method="pca", runs_dir=str(runs), run_id="r"))
    run = outcome["run"]
    assert json.loads((run / "status.json").read_text())["status"] == "done"
    record = json.loads((run / "maps" / "map.json").read_text())
    assert record["kind"] == "table" and record["figure"] == "figures/map.png"
    assert [row["map"] for row in record["rows"]] == ["training rows (fitted)", "held-out rows (transform)"]
    assert (run / "figures" / "map.png").read_bytes()[:4] == b"\x89PNG"       # a scatter below 200,000 rows
    info = load_run(run)
    assert info.problems == [] and len(info.maps) == 1                        # no "metrics.json is missing"
    index = build_report(runs, out_dir=tmp_path / "report", results_dir=None)
    pages = [p.read_text() for p in index.parent.glob("*.html") if p.name != "index.html"]
    page = next(p for p in pages if "Map of the table" in p)
    assert "map.png" in page and "held-out rows (transform)" in page and "No results for this run" not in page

    (run / "status.json").write_text(json.dumps({"status": "running"}))       # an unfinished map run stays one
    assert any("running" in p for p in load_run(run).problems)
