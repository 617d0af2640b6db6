"""The two PROTOCOLS.md splits: A (fixed random 80/20 of ratings) and B (leave-last-out per user)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shared.data import leave_last_out
from shared.errors import UserError

#: PROTOCOLS.md §Recommender fixes the Protocol A permutation seed; model seeds vary separately.
PROTOCOL_A_SEED = 42
PROTOCOL_A_TRAIN_FRACTION = 0.8


def protocol_a_split(n: int, *, seed: int = PROTOCOL_A_SEED, train_fraction: float = PROTOCOL_A_TRAIN_FRACTION
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``default_rng(seed).permutation(n)``; the first ``int(train_fraction·n)`` positions train, the rest test."""
    if n < 2:
        raise UserError(f"Protocol A needs at least 2 ratings, got {n}")
    if not 0.0 < train_fraction < 1.0:
        raise UserError(f"train_fraction must be in (0, 1), got {train_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    cut = int(train_fraction * n)
    return order[:cut], order[cut:]


def protocol_b_split(frame: pd.DataFrame, *, min_interactions: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leave-last-out per user: each user's most recent interaction (ties -> larger item id) is the test item.

    Users with fewer than ``min_interactions`` interactions stay entirely in train (they are not
    evaluated). ``frame`` needs columns user, item, timestamp.
    """
    if min_interactions < 2:
        raise UserError(f"min_interactions must be >= 2 (a user needs a training item), got {min_interactions}")
    train, test = leave_last_out(frame, user="user", item="item", time="timestamp",
                                 min_interactions=min_interactions)
    if test.empty:
        raise UserError(f"no user has {min_interactions} or more interactions; nothing to hold out "
                         "(lower --min-interactions or pass more data)")
    return train, test


def validation_split(train: pd.DataFrame, *, min_interactions: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same leave-last-out applied to the training part: (fit, validation) for tuning only."""
    return protocol_b_split(train, min_interactions=min_interactions)


def random_validation(n: int, *, fraction: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random (fit, validation) positions inside Protocol A's training part (early stopping, tuning)."""
    order = np.random.default_rng(seed).permutation(n)
    cut = n - max(1, int(fraction * n))
    return np.sort(order[:cut]), np.sort(order[cut:])
