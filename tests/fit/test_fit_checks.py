"""Bad input to `deepcases fit`: a clear error naming the problem, raised before any training or file."""

import numpy as np
import pandas as pd
import pytest

from shared import cli
from shared.fit import FitConfig, run_fit
from shared.fit.checks import prepare


def _fit(frame, runs_dir, **options):
    """run_fit on an in-memory frame; the runs folder must stay empty (nothing started)."""
    try:
        run_fit(FitConfig(runs_dir=str(runs_dir), folds=2, epochs=1, **options), frame=frame)
    finally:
        assert not any(runs_dir.iterdir()), "a run directory was created before the input was checked"


@pytest.mark.parametrize("content, message", [("", "is empty"), ("a,b,label\n", "has no rows")])
def test_an_empty_file_is_a_clear_error(tmp_path, runs_dir, capsys, content, message):
    path = tmp_path / "empty.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        run_fit(FitConfig(data=str(path), target="label", runs_dir=str(runs_dir)))
    assert cli.main(["fit", "--data", str(path), "--target", "label", "--runs-dir", str(runs_dir)]) == 2
    assert message in capsys.readouterr().err                      # one line, no traceback
    assert not any(runs_dir.iterdir())


def test_a_missing_data_file_or_target_option_is_a_clear_error(tmp_path, runs_dir, tables):
    with pytest.raises(FileNotFoundError, match="not found"):
        run_fit(FitConfig(data=str(tmp_path / "nope.csv"), target="label", runs_dir=str(runs_dir)))
    with pytest.raises(ValueError, match="--target COLUMN"):
        _fit(tables.tabular(), runs_dir)
    with pytest.raises(ValueError, match="--data FILE"):
        run_fit(FitConfig(target="label", runs_dir=str(runs_dir)))


def test_a_missing_target_column_is_a_clear_error(runs_dir, tables):
    with pytest.raises(ValueError, match=r"target column 'nope' is not in the data; found \['customer_id'"):
        _fit(tables.tabular(), runs_dir, target="nope", task="classification")


def test_a_constant_target_is_a_clear_error(runs_dir, tables):
    frame = tables.tabular().assign(amount=5.0)
    with pytest.raises(ValueError, match=r"target column 'amount' is constant \(always 5.0\)"):
        _fit(frame, runs_dir, target="amount", task="regression")


def test_a_classification_target_with_one_class_is_a_clear_error(runs_dir, tables):
    frame = tables.tabular().assign(label="yes")
    with pytest.raises(ValueError, match="holds a single class \\('yes'\\)"):
        _fit(frame, runs_dir, target="label", task="classification")


def test_a_non_numeric_regression_target_is_a_clear_error(runs_dir, tables):
    with pytest.raises(ValueError, match="regression target 'label' must be numeric.*such as '(yes|no)'"):
        _fit(tables.tabular(), runs_dir, target="label", task="regression")


def test_an_all_empty_text_column_is_a_clear_error(runs_dir, tables):
    frame = tables.text().assign(review=np.nan)
    with pytest.raises(ValueError, match="text column 'review' is empty in every row"):
        _fit(frame, runs_dir, target="sentiment", task="text", text_column="review")
    frame = tables.text().assign(review="   ")
    with pytest.raises(ValueError, match="text column 'review' is empty in every row"):
        _fit(frame, runs_dir, target="sentiment", task="text", text_column="review")


def test_more_classes_than_rows_is_a_clear_error(runs_dir, tables):
    frame = tables.tabular()
    frame["label"] = [f"class {i}" for i in range(len(frame))]
    with pytest.raises(ValueError, match="48 classes for 48 rows: more classes than the rows can support"):
        _fit(frame, runs_dir, target="label", task="classification")


def test_classes_smaller_than_the_folds_are_a_clear_error(runs_dir, tables):
    frame = tables.tabular()
    frame.loc[0, "label"] = "maybe"
    with pytest.raises(ValueError, match=r"class\(es\) \['maybe'\] have fewer rows \(1\) than the 2 folds"):
        _fit(frame, runs_dir, target="label", task="classification")


def test_a_table_without_usable_features_is_a_clear_error(runs_dir, tables):
    frame = tables.tabular()[["customer_id", "constant", "label"]]
    with pytest.raises(ValueError, match="no usable feature columns"):
        _fit(frame, runs_dir, target="label", task="classification")


def test_survival_input_errors(runs_dir, tables):
    frame = tables.survival()
    with pytest.raises(ValueError, match="pass --event-column COLUMN"):
        _fit(frame, runs_dir, target="days", task="survival")
    with pytest.raises(ValueError, match="event column 'died' must hold 0/1"):
        _fit(frame.assign(died=frame["died"] * 2), runs_dir, target="days", task="survival", event_column="died")
    with pytest.raises(ValueError, match="durations in 'days' must be positive"):
        _fit(frame.assign(days=frame["days"] - 50), runs_dir, target="days", task="survival", event_column="died")
    with pytest.raises(ValueError, match="has 0 event"):
        _fit(frame.assign(died=0), runs_dir, target="days", task="survival", event_column="died")


def test_forecast_input_errors(runs_dir, tables):
    frame = tables.series()
    options = dict(target="sales", task="forecast", time_column="date", window=7)
    with pytest.raises(ValueError, match=r"repeats 1 date\(s\), such as 2021-01-01; .*aggregate first"):
        _fit(pd.concat([frame.head(1), frame]), runs_dir, **options)
    with pytest.raises(ValueError, match="the series has 12 rows, too short for window 7.*need at least 17"):
        _fit(frame.head(12), runs_dir, **options)
    with pytest.raises(ValueError, match="'date' has 1 value\\(s\\) that are not dates"):
        _fit(frame.assign(date=frame["date"].where(frame.index != 5, "soon")), runs_dir, **options)


def test_the_task_is_inferred_when_not_given_and_said(tables):
    config = FitConfig(target="amount")
    prepared = prepare(tables.tabular(), config)
    assert prepared.task == "regression"
    assert any("task not given: using regression" in note for note in prepared.notes)
    assert prepare(tables.tabular(), FitConfig(target="label")).task == "classification"
    assert prepare(tables.survival(), FitConfig(target="days", event_column="died")).task == "survival"
