"""CSV files in legacy encodings: a clear error naming --encoding, and --encoding reads them (issue 17)."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

from shared.data import read_table
from shared.data.pipelines import read_table_chunked
from shared.errors import UserError


def _latin1_cohort(path):
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame({"days": rng.integers(1, 400, n), "died": rng.integers(0, 2, n),
                          "age": rng.normal(60, 10, n).round(1),
                          "ward": rng.choice(["Médecine", "Chirurgie générale", "Réanimation"], n)})
    frame.to_csv(path, index=False, encoding="latin-1")
    return frame


def test_a_latin1_csv_is_refused_with_the_option_that_fixes_it(tmp_path):
    path = tmp_path / "cohort.csv"
    _latin1_cohort(path)
    with pytest.raises(UserError, match=r"is not utf-8 text \(byte 0xe9 at position \d+\); pass its encoding with "
                                        r"--encoding, e\.g\. --encoding latin-1"):
        read_table(path, what="survival CSV")
    with pytest.raises(UserError, match="--encoding latin-1"):
        read_table_chunked(path, what="flights table", chunk_rows=7)


def test_encoding_reads_it_and_an_unknown_codec_is_named(tmp_path):
    path = tmp_path / "cohort.csv"
    written = _latin1_cohort(path)
    read = read_table(path, encoding="latin-1")
    assert read["ward"].tolist() == written["ward"].tolist()
    assert read_table_chunked(path, encoding="cp1252", chunk_rows=7)["ward"].tolist() == written["ward"].tolist()
    with pytest.raises(UserError, match="unknown text encoding 'latin-9000'; pass --encoding"):
        read_table(path, encoding="latin-9000")


def test_the_survival_loader_takes_the_encoding(tmp_path):
    from applications.survival.data import load_csv

    path = tmp_path / "cohort.csv"
    _latin1_cohort(path)
    data = load_csv(path, duration_column="days", event_column="died", encoding="latin-1")
    assert data.n == 60 and "Réanimation" in set(data.covariates["ward"])


@pytest.mark.parametrize("app", ["stock_forecast", "recommender", "review_sentiment", "survival", "route_demand"])
def test_every_application_has_the_encoding_option(app):
    module = importlib.import_module(f"applications.{app}.main")
    assert module.parse_args([*module.QUICK_ARGS, "--encoding", "mac_roman"]).encoding == "mac_roman"
    assert module.parse_args(module.QUICK_ARGS).encoding == "utf-8"


def test_the_command_line_says_so_in_one_line(tmp_path, capsys):
    from applications.stock_forecast.main import main

    path = tmp_path / "prices.csv"
    pd.DataFrame({"Date": pd.date_range("2020-01-01", periods=40).strftime("%Y-%m-%d"),
                  "Close": np.linspace(10, 20, 40), "Note": ["Zürich"] * 40}).to_csv(path, index=False,
                                                                                     encoding="latin-1")
    code = main(["--source", "csv", "--path", str(path), "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and "--encoding latin-1" in err
