"""Id-to-index maps, built on training data only, and the sparse user-item matrix.

An id never seen in training maps to -1; callers treat -1 as "unknown" (fallback), never as a
valid row of an embedding table.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from shared.errors import UserError

log = logging.getLogger(__name__)

UNKNOWN = -1


class IdIndex:
    """Sorted distinct ids of the training data -> 0..n-1; anything else -> ``UNKNOWN`` (-1)."""

    def __init__(self, ids: Iterable[Any], *, name: str = "id") -> None:
        values = pd.unique(pd.Series(list(ids) if not isinstance(ids, (pd.Series, np.ndarray)) else ids))
        if len(values) == 0:
            raise UserError(f"cannot build a {name} index from no ids; the training data is empty")
        self.name = name
        self.ids = np.sort(np.asarray(values, dtype=object if values.dtype == object else values.dtype))
        self._lookup = pd.Index(self.ids)

    @classmethod
    def fit(cls, ids: Iterable[Any], *, name: str = "id") -> "IdIndex":
        return cls(ids, name=name)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, value: Any) -> bool:
        return self.transform([value])[0] != UNKNOWN

    def transform(self, ids: Iterable[Any]) -> np.ndarray:
        """Positions of ``ids`` (int64), -1 where the id was not in the training data."""
        values = ids if isinstance(ids, (pd.Series, np.ndarray, pd.Index)) else list(ids)
        return self._lookup.get_indexer(pd.Index(values)).astype(np.int64)

    def inverse(self, positions: Iterable[int]) -> np.ndarray:
        pos = np.asarray(list(positions) if not isinstance(positions, np.ndarray) else positions, dtype=np.int64)
        if pos.size and (pos.min() < 0 or pos.max() >= len(self)):
            raise UserError(f"{self.name} positions must lie in [0, {len(self)}), got {pos.min()}..{pos.max()}")
        return self.ids[pos]

    def parse(self, text: str) -> Any:
        """Turn a command-line id ("42", "85123A") into the id type of this index; unknown ids pass through."""
        if np.issubdtype(self.ids.dtype, np.integer):
            try:
                return int(text)
            except ValueError:
                return text
        return str(text).strip().upper() if all(str(i) == str(i).upper() for i in self.ids[:50]) else str(text)


def interaction_matrix(users: np.ndarray, items: np.ndarray, *, n_users: int, n_items: int,
                       values: np.ndarray | None = None) -> sparse.csr_matrix:
    """CSR (n_users, n_items) with ones (or ``values``) at the known (user, item) positions."""
    users = np.asarray(users, dtype=np.int64)
    items = np.asarray(items, dtype=np.int64)
    if users.shape != items.shape:
        raise UserError(f"users and items must have the same length, got {users.shape} and {items.shape}")
    if users.size and (users.min() < 0 or items.min() < 0):
        raise UserError("interaction_matrix got unknown (-1) positions; map ids with an index built on "
                         "the same training data")
    data = np.ones(users.size, dtype=np.float32) if values is None else np.asarray(values, dtype=np.float32)
    matrix = sparse.csr_matrix((data, (users, items)), shape=(n_users, n_items), dtype=np.float32)
    matrix.sum_duplicates()
    return matrix
