"""stock_forecast --source parquet: prices read from Parquet parts (any file order) through the shared reader."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from applications.stock_forecast import main as app
from applications.stock_forecast.data import load_csv, load_parquet, load_sample
from shared.results import read_results

TINY = ["--learned-maps", "pca", "--window", "8", "--units", "4", "--epochs", "1", "--seeds", "1", "--batch-size", "128",
        "--models", "cnn1d", "--log-level", "WARNING"]


@pytest.fixture(scope="module")
def prices(tmp_path_factory):
    sample = load_sample(start="2015-01-01")
    raw = pd.DataFrame({"Date": sample["date"].dt.strftime("%Y-%m-%d"), "Close": sample["close"],
                        "Volume": sample["volume"]})
    folder = tmp_path_factory.mktemp("prices")
    parts = np.array_split(np.arange(len(raw)), 3)
    for k, part in zip((2, 0, 1), parts):        # file names out of date order: the reader sorts by date
        raw.iloc[part].to_parquet(folder / f"part-{k}.parquet", index=False)
    raw.to_csv(folder.parent / "prices.csv", index=False)
    return raw, folder


def test_parquet_prices_equal_the_csv_ones(prices):
    # the same typed frame as --source csv, so the protocol's train-span scaling applies unchanged
    raw, folder = prices
    from_parquet = load_parquet(folder, chunk_rows=100)
    from_csv = load_csv(folder.parent / "prices.csv")
    pd.testing.assert_frame_equal(from_parquet, from_csv)
    assert list(from_parquet.columns) == ["date", "close", "volume"]


def test_parquet_run_end_to_end(prices, runs_dir):
    _, folder = prices
    assert app.main([*TINY, "--source", "parquet", "--path", str(folder), "--runs-dir", str(runs_dir),
                     "--run-id", "p"]) == 0
    run = runs_dir / "stock_forecast" / "p"
    results = read_results(run / "metrics.json")
    names = {m["name"] for r in results for m in r["models"]}
    assert "cnn1d" in names and "persistence" in names
    assert results[0]["dataset"]["name"].startswith("parquet:")
    assert json.loads((run / "config.json").read_text())["source"] == "parquet"


def test_clear_errors_for_bad_sources(prices, tmp_path):
    _, folder = prices
    with pytest.raises(FileNotFoundError, match="not found.*check the --path"):
        load_parquet(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .parquet files.*empty directory"):
        load_parquet(tmp_path / "empty")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['Adj Close'\].*--close-column"):
        load_parquet(folder, close_column="Adj Close")
    with pytest.raises(SystemExit):
        app.parse_args(["--source", "parquet"])        # no --path
