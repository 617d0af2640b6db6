"""survival --source parquet: a cohort read from Parquet parts through the shared chunked reader."""

from __future__ import annotations

import json

import numpy as np
import pytest

from applications.survival import main as app
from applications.survival.data import load_gbsg2, load_parquet
from shared.results import read_results

TINY = ["--learned-maps", "pca", "--max-rows", "120", "--folds", "2", "--seeds", "1", "--epochs", "2", "--patience", "1", "--rsf-trees", "3",
        "--importance-repeats", "1", "--hidden-units", "8", "--log-level", "WARNING"]


@pytest.fixture(scope="module")
def cohort_dir(tmp_path_factory):
    data = load_gbsg2()
    frame = data.frame().rename(columns={"time": "days", "event": "died"})
    folder = tmp_path_factory.mktemp("cohort")
    for k, part in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[part].to_parquet(folder / f"part-{k}.parquet", index=False)
    return data, folder


def test_parquet_cohort_equals_the_in_memory_one(cohort_dir):
    # same rows, columns and types as the bundled loader: the protocol's fold-wise preprocessing
    # (fitted on each training fold only, tested in test_survival_features.py) then applies unchanged
    data, folder = cohort_dir
    loaded = load_parquet(folder, duration_column="days", event_column="died", chunk_rows=100,
                          categorical=list(data.categorical))
    assert loaded.n == data.n and loaded.numeric == data.numeric and loaded.categorical == data.categorical
    np.testing.assert_array_equal(loaded.time, data.time)
    np.testing.assert_array_equal(loaded.event, data.event)
    assert loaded.covariates.equals(data.covariates)


def test_parquet_run_end_to_end(cohort_dir, runs_dir):
    _, folder = cohort_dir
    code = app.main([*TINY, "--source", "parquet", "--path", str(folder), "--duration-column", "days",
                     "--event-column", "died", "--runs-dir", str(runs_dir), "--run-id", "p"])
    assert code == 0
    run = runs_dir / "survival" / "p"
    [result] = read_results(run / "metrics.json")
    names = {m["name"] for m in result["models"]}
    assert {"deepsurv", "cox_ph", "kaplan_meier"} <= names
    assert result["dataset"]["rows"] == 120
    assert json.loads((run / "config.json").read_text())["source"] == "parquet"


def test_clear_errors_for_bad_sources(cohort_dir, tmp_path):
    _, folder = cohort_dir
    with pytest.raises(FileNotFoundError, match="not found.*check the --path"):
        load_parquet(tmp_path / "nowhere", duration_column="days", event_column="died")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .parquet files.*empty directory"):
        load_parquet(tmp_path / "empty", duration_column="days", event_column="died")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['time'\].*--duration-column"):
        load_parquet(folder, duration_column="time", event_column="died")
    with pytest.raises(SystemExit):
        app.parse_args(["--source", "parquet", "--path", str(folder)])   # no duration/event columns
