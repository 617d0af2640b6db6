"""Serving a trained model: top-k unseen items for a user, nearest items in embedding space.

An unknown user or item never crashes: it falls back to the most popular items with a logged
warning. Everything here is NumPy on the learned embedding tables (no TensorFlow).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from .indexing import IdIndex
from shared.errors import UserError

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Recommender:
    """Learned vectors plus the training-only id maps and interactions.

    ``user_vectors`` (n_users, d) and ``item_vectors`` (n_items, d) score by dot product;
    ``item_bias`` (optional) is added to every score (biased MF); ``train_x`` marks items each user
    already has (never recommended); ``items`` gives labels (titles / descriptions).
    """

    user_index: IdIndex
    item_index: IdIndex
    user_vectors: np.ndarray
    item_vectors: np.ndarray
    train_x: sparse.csr_matrix
    items: pd.DataFrame
    item_bias: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.user_vectors.shape[0] != len(self.user_index):
            raise UserError(f"user_vectors has {self.user_vectors.shape[0]} rows for {len(self.user_index)} users")
        if self.item_vectors.shape[0] != len(self.item_index):
            raise UserError(f"item_vectors has {self.item_vectors.shape[0]} rows for {len(self.item_index)} items")
        self.popularity = np.asarray(self.train_x.sum(axis=0)).ravel()

    def _label(self, positions: np.ndarray) -> list[str]:
        ids = self.item_index.inverse(positions)
        if "label" not in self.items:
            return [str(i) for i in ids]
        labels = self.items["label"].reindex(ids)
        return [str(lab) if isinstance(lab, str) else str(i) for i, lab in zip(ids, labels)]

    def _table(self, positions: np.ndarray, scores: np.ndarray, source: str) -> pd.DataFrame:
        return pd.DataFrame({"rank": np.arange(1, len(positions) + 1), "item": self.item_index.inverse(positions),
                             "label": self._label(positions), "score": np.round(scores.astype(float), 4),
                             "source": source})

    def popular(self, k: int, *, exclude: np.ndarray | None = None) -> pd.DataFrame:
        pop = self.popularity.astype(float).copy()
        if exclude is not None and exclude.size:
            pop[exclude] = -np.inf
        top = np.argsort(-pop, kind="stable")[:k]
        return self._table(top, self.popularity[top], "popularity fallback")

    def recommend(self, user: Any, *, k: int = 10) -> pd.DataFrame:
        """Top-k items the user has not interacted with in training, best first (rank, item, label, score)."""
        if k < 1:
            raise UserError(f"k must be >= 1, got {k}")
        row = int(self.user_index.transform([user])[0])
        if row < 0:
            log.warning("user %r is not in the training data; recommending the most popular items instead", user)
            return self.popular(k)
        scores = self.item_vectors @ self.user_vectors[row]
        if self.item_bias is not None:
            scores = scores + self.item_bias
        seen = self.train_x[row].indices
        scores = scores.astype(float)
        scores[seen] = -np.inf
        k = min(k, int(np.isfinite(scores).sum()))
        top = np.argsort(-scores, kind="stable")[:k]
        return self._table(top, scores[top], "model")

    def similar(self, item: Any, *, k: int = 10) -> pd.DataFrame:
        """The k nearest items by cosine similarity of the item embeddings (the item itself excluded)."""
        if k < 1:
            raise UserError(f"k must be >= 1, got {k}")
        col = int(self.item_index.transform([item])[0])
        if col < 0:
            log.warning("item %r is not in the training data; showing the most popular items instead", item)
            return self.popular(k)
        vectors = self.item_vectors / np.maximum(np.linalg.norm(self.item_vectors, axis=1, keepdims=True), 1e-12)
        sims = (vectors @ vectors[col]).astype(float)
        sims[col] = -np.inf
        top = np.argsort(-sims, kind="stable")[:k]
        return self._table(top, sims[top], "model")

    def describe_item(self, item: Any) -> str:
        col = int(self.item_index.transform([item])[0])
        return self._label(np.array([col]))[0] if col >= 0 else f"{item} (unknown)"
