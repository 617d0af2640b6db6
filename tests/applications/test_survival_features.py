"""Fold preprocessing is fitted on the training part only; rare and unseen levels share one pool."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from applications.survival.features import SurvivalPreprocessor


def _frame(n=200, seed=0):
    rng = np.random.default_rng(seed)
    levels = np.array(["a"] * 120 + ["b"] * 78 + ["rare"] * 2)
    return pd.DataFrame({"x": rng.normal(5, 2, n), "y": rng.normal(0, 1, n), "g": rng.permutation(levels)})


def test_statistics_come_from_the_training_rows_only():
    frame = _frame()
    train, test = frame.iloc[:150].copy(), frame.iloc[150:].copy()
    test["x"] = 1e6                      # a wildly different test part must not move anything
    test.loc[test.index[:5], "y"] = np.nan
    pre = SurvivalPreprocessor(["x", "y"], ["g"]).fit(train)
    stats = pre.numeric_statistics
    assert stats["x"]["mean"] == pytest.approx(train["x"].mean())
    assert stats["x"]["median"] == pytest.approx(train["x"].median())
    x_test = pre.transform(test)
    # the missing test values were filled with the *training* median, then scaled with training statistics
    y_col = pre.feature_names.index("y")
    expected = (train["y"].median() - train["y"].mean()) / train["y"].std(ddof=0)
    np.testing.assert_allclose(x_test[:5, y_col], expected, rtol=1e-5)
    refit = SurvivalPreprocessor(["x", "y"], ["g"]).fit(pd.concat([train, test]))
    assert refit.numeric_statistics["x"]["mean"] != pytest.approx(stats["x"]["mean"])  # the leak we avoid


def test_rare_and_unseen_levels_go_to_the_infrequent_pool():
    frame = _frame()
    pre = SurvivalPreprocessor(["x"], ["g"], min_frequency=0.02).fit(frame)   # 'rare' is 1 % -> pooled
    names = pre.feature_names
    assert "g_a" in names and "g_b" in names and "g_infrequent_sklearn" in names and "g_rare" not in names
    new = pd.DataFrame({"x": [5.0, 5.0], "g": ["never-seen", "rare"]})
    out = pre.transform(new)
    pool = names.index("g_infrequent_sklearn")
    assert out[:, pool].tolist() == [1.0, 1.0]
    assert out[:, [names.index("g_a"), names.index("g_b")]].sum() == 0


def test_transform_errors_name_the_problem():
    pre = SurvivalPreprocessor(["x"], ["g"]).fit(_frame())
    with pytest.raises(ValueError, match=r"column\(s\) \['g'\] are missing"):
        pre.transform(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(ValueError, match="'x' has 1 non-numeric"):
        pre.transform(pd.DataFrame({"x": ["old"], "g": ["a"]}))
    with pytest.raises(ValueError, match="not fitted"):
        SurvivalPreprocessor(["x"], []).transform(_frame())
