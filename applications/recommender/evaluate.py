"""Protocol evaluation: rating errors (A) and full-ranking top-N metrics (B), vectorized over users."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import sparse

from shared.evaluation import catalog_coverage, hit_rate_at_k, mae, ndcg_at_k, rmse, top_k_from_scores

log = logging.getLogger(__name__)

K = 10
_USERS_PER_BLOCK = 1024


def rating_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """Protocol A metrics: RMSE and MAE."""
    return {"rmse": rmse(y_true, y_pred), "mae": mae(y_true, y_pred)}


@dataclasses.dataclass
class RankingOutcome:
    """Top-k lists for the evaluated users and the Protocol B metrics."""

    metrics: dict[str, float]
    top: np.ndarray  # (users, k) item positions, best first


def rank_top_k(score_fn: Callable[[np.ndarray], np.ndarray], train_x: sparse.csr_matrix, rows: np.ndarray, *,
               k: int = K) -> np.ndarray:
    """Full ranking: every item of the training catalogue not in the user's training set, best first.

    Items never seen in training are outside the catalogue, so they rank last by construction.
    ``score_fn(rows) -> (len(rows), n_items)`` scores; blocks of users bound memory.
    """
    rows = np.asarray(rows, dtype=np.int64)
    out = np.empty((rows.size, k), dtype=np.int64)
    for start in range(0, rows.size, _USERS_PER_BLOCK):
        block = rows[start:start + _USERS_PER_BLOCK]
        scores = np.asarray(score_fn(block), dtype=np.float64)
        if scores.shape != (block.size, train_x.shape[1]):
            raise ValueError(f"scorer returned shape {scores.shape}, expected {(block.size, train_x.shape[1])}")
        out[start:start + block.size] = top_k_from_scores(scores, k=k, exclude=train_x[block])
    return out


def ranking_metrics(top: np.ndarray, held_out: np.ndarray, *, k: int = K) -> dict[str, float]:
    """HR@k and NDCG@k; a held-out item unknown to training (-1) is a miss."""
    held = np.asarray(held_out, dtype=np.int64)
    return {f"hr@{k}": hit_rate_at_k(top, held, k=k), f"ndcg@{k}": ndcg_at_k(top, held, k=k)}


def evaluate_ranker(score_fn: Callable[[np.ndarray], np.ndarray], train_x: sparse.csr_matrix, rows: np.ndarray,
                    held_out: np.ndarray, *, k: int = K) -> RankingOutcome:
    top = rank_top_k(score_fn, train_x, rows, k=k)
    return RankingOutcome(ranking_metrics(top, held_out, k=k), top)


def list_statistics(top: np.ndarray, popularity: np.ndarray) -> dict[str, float]:
    """Catalogue coverage and popularity of recommended items (mean training count, share from the top 1 %)."""
    n_items = popularity.size
    head = np.argsort(-popularity, kind="stable")[:max(1, n_items // 100)]
    return {"coverage": catalog_coverage(top, n_items),
            "mean_popularity": float(popularity[top].mean()),
            "share_top1pct": float(np.isin(top, head).mean())}
