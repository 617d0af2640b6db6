"""Column-type inference and the checks of new rows against the training schema."""

import numpy as np
import pandas as pd
import pytest

from shared.fit.schema import Schema, check_new_rows, infer_kind, infer_schema


def _kind(values, name="col"):
    return infer_kind(pd.Series(values, name=name))[0]


def test_infer_kind_tells_the_column_kinds_apart():
    n = 40
    assert _kind(np.linspace(0, 1, n)) == "numeric"
    assert _kind([True, False] * (n // 2)) == "numeric"
    assert _kind(["1.5", "2", " 3 "] * 10) == "numeric"                        # numbers stored as text
    assert _kind(np.arange(1, n + 1), name="row") == "id"                      # consecutive unique integers
    assert _kind(np.random.default_rng(0).permutation(10_000)[:n] + 7, name="patient_id") == "id"
    assert _kind([f"A{i:04d}" for i in range(n)], name="code") == "id"          # distinct short strings
    assert _kind(pd.date_range("2020-01-01", periods=n).strftime("%Y-%m-%d")) == "datetime"
    assert _kind(pd.date_range("2020-01-01", periods=n)) == "datetime"
    assert _kind([f"this is review number {i} of the film" for i in range(n)]) == "text"
    assert _kind(["red", "green", "blue", None] * 10) == "categorical"
    assert _kind(pd.Series(["a", "b"] * 20, dtype="category")) == "categorical"
    assert _kind([None] * n) == "ignore"
    assert _kind([3] * n) == "ignore"
    assert _kind(np.tile([1, 2, 3, 4], 10), name="row") == "numeric"          # repeated integers are not ids


def test_infer_schema_gives_roles_and_honours_column_types(tabular_csv):
    frame = pd.read_csv(tabular_csv)
    schema = infer_schema(frame, task="classification", target="label", column_types={"x2": "categorical"})
    kinds = {c.name: (c.kind, c.role) for c in schema.columns}
    assert kinds["customer_id"] == ("id", "id")
    assert kinds["x1"] == ("numeric", "feature")
    assert kinds["x2"] == ("categorical", "feature")                           # the override wins
    assert kinds["color"] == ("categorical", "feature")
    assert kinds["signup"] == ("datetime", "feature")
    assert kinds["comment"] == ("text", "ignored")                             # use --task text for it
    assert kinds["constant"] == ("ignore", "ignored")
    assert kinds["label"][1] == "target"
    assert schema.feature_columns == ["x1", "x2", "color", "signup", "amount"]
    assert Schema.from_dict(schema.to_dict()) == schema
    assert "| signup | datetime | feature |" in schema.table()
    with pytest.raises(ValueError, match=r"column_types names column\(s\) \['nope'\]"):
        infer_schema(frame, task="classification", target="label", column_types={"nope": "id"})


@pytest.fixture
def schema(tabular_csv):
    return infer_schema(pd.read_csv(tabular_csv), task="classification", target="label")


def test_new_rows_with_a_missing_column_are_rejected(schema, tabular_csv):
    rows = pd.read_csv(tabular_csv).drop(columns=["x1", "color"])
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['x1', 'color'\]"):
        check_new_rows(rows, schema)


def test_new_rows_of_the_wrong_type_are_rejected(schema, tabular_csv):
    rows = pd.read_csv(tabular_csv)
    rows["x1"] = rows["x1"].astype(object)
    rows.loc[2, "x1"] = "abc"
    with pytest.raises(ValueError, match="'x1' was numeric in training but holds 1 non-numeric value.*'abc'"):
        check_new_rows(rows, schema)
    rows = pd.read_csv(tabular_csv)
    rows.loc[0, "signup"] = "yesterday"
    with pytest.raises(ValueError, match="'signup' held dates in training"):
        check_new_rows(rows, schema)


def test_extra_columns_are_ignored_with_a_warning_or_rejected_when_strict(schema, tabular_csv):
    rows = pd.read_csv(tabular_csv).assign(surprise=1)
    checked, notes = check_new_rows(rows, schema)
    assert any("surprise" in note for note in notes)
    assert list(checked.columns) == ["customer_id", *schema.feature_columns]   # ids first, then the inputs
    assert not any("comment" in note for note in notes)                         # seen in training: no warning
    with pytest.raises(ValueError, match=r"column\(s\) the model does not use: \['comment', 'constant', 'surprise'\]"):
        check_new_rows(rows, schema, strict=True)
    with pytest.raises(ValueError, match="no rows"):
        check_new_rows(rows.iloc[:0], schema)


def test_blank_numeric_values_are_allowed_and_imputed_later(schema, tabular_csv):
    rows = pd.read_csv(tabular_csv)
    rows["x2"] = rows["x2"].astype(object)
    rows.loc[0, "x2"] = "  "
    checked, _ = check_new_rows(rows, schema)
    assert np.isnan(checked.loc[0, "x2"]) and checked["x2"].dtype == float
