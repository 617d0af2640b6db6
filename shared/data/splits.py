"""Leakage-free splits: stratified, chronological, walk-forward with a gap, leave-last-out per user.

Splitters return integer positions (or frames for leave-last-out); fit preprocessing on the
training positions only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
from ..errors import UserError


def stratified_split(labels: Sequence | np.ndarray, *, test_size: float = 0.2, seed: int = 42
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Train/test positions with class proportions kept (scikit-learn's ``train_test_split``)."""
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise UserError(f"labels must be a non-empty 1-D array, got shape {labels.shape}")
    if not 0.0 < test_size < 1.0:
        raise UserError(f"test_size must be in (0, 1), got {test_size}")
    counts = pd.Series(labels).value_counts()
    if len(counts) < 2:
        raise UserError(f"labels hold a single class ({_plain(counts.index[0])!r}); a classifier needs two at least")
    if counts.min() < 2:
        raise UserError(f"label {_plain(counts.idxmin())!r} has only {counts.min()} example; every class needs at "
                         "least 2 to be stratified: add examples or drop that class")
    positions = np.arange(len(labels))
    train, test = train_test_split(positions, test_size=test_size, random_state=seed, stratify=labels)
    return np.asarray(train), np.asarray(test)


def chronological_split(n: int, *, fractions: Sequence[float] = (0.70, 0.15, 0.15), min_sizes: Sequence[int] = ()
                        ) -> list[np.ndarray]:
    """Consecutive positions in time order: first int(f0·n) rows, next int(f1·n) rows, ..., the last
    part takes the rest (the PROTOCOLS.md finance split). ``min_sizes`` give per-part minimums."""
    if n < 1:
        raise UserError(f"n must be >= 1, got {n}")
    if not fractions or any(f <= 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-9:
        raise UserError(f"fractions must be positive and sum to 1, got {tuple(fractions)}")
    sizes = [int(f * n) for f in fractions[:-1]]
    sizes.append(n - sum(sizes))
    for i, (size, need) in enumerate(zip(sizes, min_sizes)):
        if size < need:
            raise UserError(f"part {i} of the time split has {size} rows but needs at least {need}; "
                             f"use a longer series (have {n} rows) or a shorter window")
    bounds = np.cumsum([0, *sizes])
    return [np.arange(bounds[i], bounds[i + 1]) for i in range(len(sizes))]


def walk_forward_splits(n: int, *, n_splits: int, test_size: int, gap: int = 0, min_train: int = 1,
                        step: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Expanding-window splits in time order: train on [0, t - gap), test on [t, t + test_size).

    The last test block ends at ``n``; origins are ``step`` apart (default ``test_size``). ``gap``
    drops the rows between train and test that a window or horizon would otherwise leak.
    """
    for name, value in (("n_splits", n_splits), ("test_size", test_size), ("min_train", min_train)):
        if value < 1:
            raise UserError(f"{name} must be >= 1, got {value}")
    if gap < 0:
        raise UserError(f"gap must be >= 0, got {gap}")
    step = test_size if step is None else step
    if step < 1:
        raise UserError(f"step must be >= 1, got {step}")
    first_origin = n - test_size - (n_splits - 1) * step
    if first_origin - gap < min_train:
        raise UserError(f"{n} rows are too few for {n_splits} splits of {test_size} test rows with gap {gap} and "
                         f"at least {min_train} training rows; use fewer splits or a longer series")
    for i in range(n_splits):
        origin = first_origin + i * step
        yield np.arange(0, origin - gap), np.arange(origin, origin + test_size)


def leave_last_out(frame: pd.DataFrame, *, user: str = "user", item: str = "item", time: str = "timestamp",
                   min_interactions: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out each user's most recent interaction (ties: larger item id) as test; the rest is train.

    Users with fewer than ``min_interactions`` rows stay entirely in train. Returns (train, test)
    with the original index kept.
    """
    missing = [c for c in (user, item, time) if c not in frame.columns]
    if missing:
        raise UserError(f"interactions lack column(s) {missing}; found {list(frame.columns)}")
    if frame.empty:
        raise UserError("interactions are empty; pass at least one user with two interactions")
    ordered = frame.sort_values([user, time, item], kind="mergesort")
    counts = ordered.groupby(user)[item].transform("size")
    is_last = ~ordered.duplicated(subset=[user], keep="last")
    held_out = is_last & (counts >= min_interactions)
    test = ordered[held_out]
    train = ordered[~held_out]
    return train.sort_index(), test.sort_index()


def _plain(value: object) -> object:
    """A NumPy scalar as its Python value, so messages read ``label 2`` not ``np.int64(2)``."""
    return value.item() if isinstance(value, np.generic) else value
