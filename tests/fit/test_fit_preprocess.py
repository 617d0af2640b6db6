"""Preprocessing is fitted on training rows only; unseen categories go to the unknown bucket."""

import numpy as np
import pandas as pd
import pytest

from shared.fit.checks import prepare
from shared.fit.config import FitConfig
from shared.fit.preprocess import MISSING, UNKNOWN, TabularPreprocessor, category_strings
from shared.fit.run import cross_validate_models
from shared.fit.schema import infer_schema
from shared.fit.tasks import ClassificationRunner


def test_statistics_come_from_the_rows_it_was_fitted_on():
    train = pd.DataFrame({"x": [1.0, 2.0, np.nan, 3.0], "c": ["a", "a", "b", None]})
    test = pd.DataFrame({"x": [100.0, np.nan], "c": ["zzz", "b"]})
    prep = TabularPreprocessor({"x": "numeric", "c": "categorical"}).fit(train)
    assert prep.numeric_["x"]["median"] == 2.0                      # not influenced by the test row 100
    z = prep.transform(test)
    filled = np.array([1.0, 2.0, 2.0, 3.0])
    assert z[0, 0] == pytest.approx((100.0 - filled.mean()) / filled.std())
    assert z[1, 0] == pytest.approx(0.0)                             # imputed with the training median
    assert prep.feature_names_ == ["x", "c=a", f"c={MISSING}", "c=b", f"c={UNKNOWN}"]   # most frequent first
    assert z[0, 1:].tolist() == [0, 0, 0, 1]                         # unseen "zzz" -> unknown bucket
    assert z[1, 1:].tolist() == [0, 0, 1, 0]
    assert prep.unseen_ == {"c": 1}
    assert prep.unseen_examples(test) == {"c": ["zzz"]}


def test_rare_levels_share_the_unknown_bucket_and_the_state_round_trips():
    train = pd.DataFrame({"c": ["a"] * 30 + ["b"] * 10 + ["rare"], "d": pd.date_range("2020-01-01", periods=41)})
    prep = TabularPreprocessor({"c": "categorical", "d": "datetime"}, rare_fraction=0.05).fit(train)
    assert prep.levels_["c"] == ["a", "b"]
    assert "rare" in prep.seen_["c"]                                 # seen, so not reported as unseen
    z = prep.transform(train.tail(1))
    assert z[0, -1] == 1.0 and prep.unseen_ == {}
    copy = TabularPreprocessor.from_dict(prep.to_dict())
    np.testing.assert_array_equal(copy.transform(train), prep.transform(train))


def test_category_strings_read_the_same_with_or_without_missing_values():
    assert category_strings(pd.Series([1, 2])).tolist() == ["1", "2"]
    assert category_strings(pd.Series([1.0, np.nan, 2.0])).tolist() == ["1", MISSING, "2"]


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="no usable feature columns"):
        TabularPreprocessor().fit(pd.DataFrame({"id": [f"r{i}" for i in range(30)]}))
    with pytest.raises(ValueError, match="not fitted"):
        TabularPreprocessor({"x": "numeric"}).transform(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(ValueError, match=r"lacks feature column\(s\) \['x'\]"):
        TabularPreprocessor({"x": "numeric"}).fit(pd.DataFrame({"x": [1.0, 2.0]})).transform(pd.DataFrame({"y": [1]}))


class BaselinesOnly(ClassificationRunner):
    """The classification runner without its deep model (no training needed for this check)."""

    def candidates(self, seed):
        return super().candidates(seed)[1:]


def test_each_fold_fits_preprocessing_on_its_training_rows_only(monkeypatch, tables):
    """Leakage check: every fitted preprocessor saw exactly the training rows of one fold."""
    frame = tables.tabular()
    config = FitConfig(target="label", task="classification", folds=3)
    prepared = prepare(frame, config)
    schema = infer_schema(prepared.frame, task="classification", target="label", classes=prepared.classes)
    runner = BaselinesOnly(prepared, schema, config)
    seen = []
    original = TabularPreprocessor.fit

    def spy(self, X, y=None):
        seen.append(frozenset(X.index))
        return original(self, X, y)

    monkeypatch.setattr(TabularPreprocessor, "fit", spy)
    folds, _ = cross_validate_models(runner, seed=config.seed)
    splits = runner.splits()
    assert len(seen) == 2 * len(splits)                              # two baselines per fold
    for i, (train, test) in enumerate(splits):
        for fitted in seen[2 * i: 2 * i + 2]:
            assert fitted == frozenset(train)
            assert not fitted & frozenset(test)
    assert set(folds["model"]) == {"majority", "logistic_regression"}
    assert (folds.loc[folds["model"] == "logistic_regression", "accuracy"] > 0.6).all()
