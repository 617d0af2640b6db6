"""Splits and windows: the tests that would fail if the future or the test set leaked into training."""

import numpy as np
import pandas as pd
import pytest

from shared.data import chronological_split, leave_last_out, sliding_windows, stratified_split, walk_forward_splits


def test_chronological_split_follows_protocol_sizes_and_order():
    train, val, test = chronological_split(5031)
    assert (len(train), len(val), len(test)) == (3521, 754, 756)  # PROTOCOLS.md finance split
    assert train.max() < val.min() and val.max() < test.min()
    assert np.array_equal(np.concatenate([train, val, test]), np.arange(5031))


def test_chronological_split_errors():
    with pytest.raises(ValueError, match="sum to 1"):
        chronological_split(10, fractions=(0.5, 0.4))
    with pytest.raises(ValueError, match="needs at least 30; use a longer series"):
        chronological_split(40, min_sizes=(30, 10, 10))


def test_walk_forward_never_trains_on_or_after_the_test_block():
    splits = list(walk_forward_splits(100, n_splits=4, test_size=10, gap=3))
    assert len(splits) == 4
    for train, test in splits:
        assert train.max() < test.min() - 3  # the gap is respected
        assert len(test) == 10
    assert splits[-1][1][-1] == 99
    assert [s[1][0] for s in splits] == [60, 70, 80, 90]


def test_walk_forward_too_short():
    with pytest.raises(ValueError, match="too few for 5 splits"):
        list(walk_forward_splits(20, n_splits=5, test_size=5))


def test_stratified_split_keeps_classes_and_validates():
    labels = np.array([0] * 60 + [1] * 40)
    train, test = stratified_split(labels, test_size=0.2, seed=1)
    assert not set(train) & set(test) and len(test) == 20
    assert labels[test].mean() == pytest.approx(0.4)
    with pytest.raises(ValueError, match="single class"):
        stratified_split(np.zeros(10))
    with pytest.raises(ValueError, match="label 2 has only 1 example"):
        stratified_split(np.array([0, 0, 1, 1, 2]))


def test_leave_last_out_holds_out_latest_item_absent_from_train():
    frame = pd.DataFrame({"user": [1, 1, 1, 2, 2, 3], "item": [10, 11, 12, 10, 13, 10],
                          "timestamp": [1, 3, 3, 5, 2, 9]})
    train, test = leave_last_out(frame)
    # user 1: items 11 and 12 tie at t=3 -> larger id 12 held out; user 2: item 10 (t=5); user 3 has 1 row
    assert dict(zip(test["user"], test["item"])) == {1: 12, 2: 10}
    assert len(train) + len(test) == len(frame)
    merged = train.merge(test, on=["user", "item"])
    assert merged.empty
    for user, row in test.set_index("user").iterrows():
        assert row["timestamp"] >= train.loc[train["user"] == user, "timestamp"].max()


def test_sliding_windows_stop_before_end():
    series = np.arange(20, dtype=float)
    X, y = sliding_windows(series, window=5, horizon=2, end=12)
    assert X.shape == (6, 5, 1) and y.shape == (6, 2)
    assert y.max() <= 11  # no target at or after `end`
    np.testing.assert_array_equal(X[0, :, 0], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(y[0], [5, 6])
    with pytest.raises(ValueError, match="too short for window 30"):
        sliding_windows(series, window=30)
