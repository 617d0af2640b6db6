import math

import numpy as np
import pandas as pd
import pytest

from shared.evaluation import ResultsTable


def _table():
    table = ResultsTable()
    table.add("mf_biased", "deep", {"rmse": 0.87, "mae": 0.67}, std={"rmse": 0.002})
    table.add("bias_baseline", "baseline", {"rmse": 0.9015, "mae": 0.6984}, note="Surprise | defaults")
    table.add("global_mean", kind="baseline", metrics={"rmse": 1.0665})
    return table


def test_to_frame_one_row_per_model_one_column_per_metric():
    frame = _table().to_frame()
    assert list(frame.columns) == ["model", "kind", "rmse", "mae", "rmse_std", "note"]
    assert frame["model"].tolist() == ["mf_biased", "bias_baseline", "global_mean"]
    assert frame.loc[0, "rmse_std"] == pytest.approx(0.002)
    assert math.isnan(frame.loc[2, "mae"]) and math.isnan(frame.loc[1, "rmse_std"])


def test_to_markdown_pipe_table_with_std_and_missing_values():
    expected = (
        "| model | kind | rmse | mae | note |\n"
        "|---|---|---:|---:|---|\n"
        "| mf_biased | deep | 0.8700 ± 0.0020 | 0.6700 |  |\n"
        "| bias_baseline | baseline | 0.9015 | 0.6984 | Surprise \\| defaults |\n"
        "| global_mean | baseline | 1.0665 | – |  |\n"
    )
    assert _table().to_markdown() == expected


def test_to_markdown_title_digits_and_no_note_column():
    table = ResultsTable(title="recommender — protocol A")
    table.add("m", "deep", {"hr@10": 0.07456, "ndcg@10": np.float32(0.04)})
    assert table.to_markdown(digits=2) == (
        "### recommender — protocol A\n\n"
        "| model | kind | hr@10 | ndcg@10 |\n"
        "|---|---|---:|---:|\n"
        "| m | deep | 0.07 | 0.04 |\n"
    )


def test_none_and_nan_metrics_show_as_missing():
    table = ResultsTable()
    table.add("km", "baseline", {"harrell_c": 0.5, "ibs": None, "uno_c": float("nan")}, std={"harrell_c": None})
    assert "| km | baseline | 0.5000 | – | – |" in table.to_markdown()
    assert table.to_records() == [{"name": "km", "kind": "baseline",
                                   "metrics": {"harrell_c": 0.5, "ibs": None, "uno_c": None}}]


def test_to_csv_round_trips_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "out" / "results.csv"
    returned = _table().to_csv(path)
    assert returned == path
    back = pd.read_csv(path)
    assert back["model"].tolist() == ["mf_biased", "bias_baseline", "global_mean"]
    assert back.loc[1, "rmse"] == pytest.approx(0.9015)
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.csv"]


def test_to_csv_replaces_an_existing_file_atomically(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("old")
    _table().to_csv(path)
    assert path.read_text().startswith("model,kind,rmse")


def test_best_respects_direction_and_skips_missing():
    table = _table()
    assert table.best("rmse", higher_is_better=False) == "mf_biased"
    assert table.best("rmse", True) == "global_mean"
    assert table.best("mae", higher_is_better=True) == "bias_baseline"


def test_best_tie_goes_to_the_first_added():
    table = ResultsTable()
    table.add("a", "deep", {"accuracy": 0.8})
    table.add("b", "baseline", {"accuracy": 0.8})
    assert table.best("accuracy", higher_is_better=True) == "a"


def test_to_records_in_results_file_shape():
    records = _table().to_records()
    assert records[0] == {"name": "mf_biased", "kind": "deep", "metrics": {"rmse": 0.87, "mae": 0.67},
                          "std": {"rmse": 0.002}}
    assert records[1]["note"] == "Surprise | defaults"
    assert len(_table()) == 3


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda t: t.add("", "deep", {"a": 1}), ValueError, "name must be a non-empty model name"),
        (lambda t: t.add("mf_biased", "deep", {"a": 1}), ValueError, "already in the table"),
        (lambda t: t.add("x", "neural", {"a": 1}), ValueError, r"kind must be one of \['deep', 'baseline'\]"),
        (lambda t: t.add("x", "deep", {}), ValueError, "metrics is empty"),
        (lambda t: t.add("x", "deep", [0.1]), TypeError, "metrics must be a dict"),
        (lambda t: t.add("x", "deep", {"a": "high"}), TypeError, r"metrics\['a'\] must be a number"),
        (lambda t: t.add("x", "deep", {"a": True}), TypeError, "must be a number"),
        (lambda t: t.add("x", "deep", {1: 0.5}), ValueError, "keys must be non-empty metric names"),
        (lambda t: t.add("x", "deep", {"a": 1}, std={"b": 0.1}), ValueError, r"std has metrics \['b'\]"),
        (lambda t: t.add("x", "deep", {"a": 1}, note=3), TypeError, "note must be a string"),
        (lambda t: t.best("auc", higher_is_better=True), ValueError, "no model has a value for metric 'auc'"),
        (lambda t: t.best("rmse", higher_is_better="yes"), TypeError, "higher_is_better must be True or False"),
        (lambda t: t.to_markdown(digits=-1), ValueError, "digits must be an int >= 0"),
    ],
)
def test_results_table_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(_table())


def test_empty_table_errors(tmp_path):
    table = ResultsTable()
    with pytest.raises(ValueError, match="the table is empty"):
        table.to_markdown()
    with pytest.raises(ValueError, match="the table is empty"):
        table.to_csv(tmp_path / "x.csv")
    with pytest.raises(ValueError, match="the table is empty"):
        table.best("rmse", higher_is_better=False)
    with pytest.raises(TypeError, match="title must be a string"):
        ResultsTable(title=3)
