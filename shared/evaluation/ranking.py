"""Top-N ranking metrics for leave-one-out evaluation (PROTOCOLS.md Recommender, Protocol B).

Each user has exactly one held-out item. ``ranked_items`` is an ``(users, >= k)`` integer array
of item ids, best first. All functions are vectorized over users.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from scipy import sparse

log = logging.getLogger(__name__)

__all__ = ["hit_rate_at_k", "ndcg_at_k", "top_k_from_scores", "catalog_coverage"]

_CHUNK_CELLS = 4_000_000  # users x items handled at once by top_k_from_scores (bounds memory)


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    return int(k)


def _ranked(ranked_items: Any, k: int) -> np.ndarray:
    arr = np.asarray(ranked_items)
    if arr.ndim != 2:
        raise ValueError(f"ranked_items must be 2-D (users, items best first), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"ranked_items must hold integer item ids, got dtype {arr.dtype}")
    if arr.shape[0] == 0:
        raise ValueError("ranked_items has no users; pass at least one row")
    if arr.shape[1] < k:
        raise ValueError(f"ranked_items has {arr.shape[1]} columns but k={k}; rank at least k items per user")
    top = arr[:, :k]
    if k > 1:
        ordered = np.sort(top, axis=1)
        dup_rows = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
        if dup_rows.size:
            raise ValueError(f"ranked_items repeats an item within the top {k} for {dup_rows.size} user(s) "
                             f"(first: row {dup_rows[0]}); each item may appear once per user")
    return top


def _positions(ranked_items: Any, held_out: Any, k: int) -> np.ndarray:
    """0-based position of each user's held-out item within the top k, or -1 if absent."""
    k = _check_k(k)
    top = _ranked(ranked_items, k)
    held = np.asarray(held_out)
    if held.ndim != 1 or held.shape[0] != top.shape[0]:
        raise ValueError(f"held_out must be 1-D with one item per user ({top.shape[0]}), got shape {held.shape}")
    if not np.issubdtype(held.dtype, np.integer):
        raise TypeError(f"held_out must hold integer item ids, got dtype {held.dtype}")
    match = top == held[:, None]
    return np.where(match.any(axis=1), match.argmax(axis=1), -1)


def hit_rate_at_k(ranked_items: Any, held_out: Any, *, k: int = 10) -> float:
    """Share of users whose held-out item is among their top ``k`` (HR@K)."""
    return float(np.mean(_positions(ranked_items, held_out, k) >= 0))


def ndcg_at_k(ranked_items: Any, held_out: Any, *, k: int = 10) -> float:
    """Mean NDCG@K with one relevant item: ``1 / log2(rank + 1)`` (rank 1-based), 0 outside the top k."""
    pos = _positions(ranked_items, held_out, k)
    gains = np.zeros(pos.shape, dtype=float)
    found = pos >= 0
    gains[found] = 1.0 / np.log2(pos[found] + 2.0)
    return float(np.mean(gains))


def _exclusion_rows(exclude: Any, shape: tuple[int, int]) -> Any:
    if exclude is None:
        return None
    if sparse.issparse(exclude):
        if exclude.shape != shape:
            raise ValueError(f"exclude has shape {exclude.shape} but scores has {shape}; use one row per user "
                             "and one column per item")
        return sparse.csr_matrix(exclude)
    mask = np.asarray(exclude)
    if mask.dtype != bool:
        raise TypeError(f"exclude must be a boolean mask or a scipy.sparse matrix, got dtype {mask.dtype}")
    if mask.shape != shape:
        raise ValueError(f"exclude has shape {mask.shape} but scores has {shape}; use one row per user "
                         "and one column per item")
    return mask


def _top_k_block(scores: np.ndarray, excluded: np.ndarray, k: int) -> np.ndarray:
    s = np.where(excluded, -np.inf, scores)
    allowed = ~excluded
    # k-th largest value per row; argpartition finds it without a full sort
    kth_idx = np.argpartition(-s, k - 1, axis=1)[:, k - 1]
    kth = s[np.arange(s.shape[0]), kth_idx][:, None]
    above = (s > kth) & allowed
    tied = (s == kth) & allowed
    # among items tied at the k-th value, keep the lowest indices until the row has k items
    need = k - above.sum(axis=1, keepdims=True)
    chosen = above | (tied & (np.cumsum(tied, axis=1, dtype=np.int32) <= need))
    idx = np.nonzero(chosen)[1].reshape(s.shape[0], k)  # ascending item index within each row
    order = np.argsort(-np.take_along_axis(s, idx, axis=1), axis=1, kind="stable")
    return np.take_along_axis(idx, order, axis=1)


def top_k_from_scores(scores: Any, *, k: int, exclude: Any = None) -> np.ndarray:
    """``(users, k)`` item indices with the highest scores, best first; ties go to the lower index.

    ``exclude`` marks items never to recommend (typically each user's training items): a boolean
    ``(users, items)`` mask or a scipy.sparse matrix whose non-zero entries are excluded. Every
    user needs at least ``k`` items left. Scores may be ``-inf`` (e.g. "rank last"), not NaN.
    """
    k = _check_k(k)
    s = np.asarray(scores)
    if s.ndim != 2:
        raise ValueError(f"scores must be 2-D (users, items), got shape {s.shape}")
    if s.dtype == bool or not np.issubdtype(s.dtype, np.number):
        raise TypeError(f"scores must be numeric, got dtype {s.dtype}")
    s = s.astype(float, copy=False)
    if np.isnan(s).any():
        raise ValueError("scores hold NaN; give unscorable items -inf so they rank last")
    if k > s.shape[1]:
        raise ValueError(f"k={k} exceeds the number of items ({s.shape[1]}); lower k")
    excl = _exclusion_rows(exclude, s.shape)
    chunk = max(1, _CHUNK_CELLS // max(1, s.shape[1]))
    out = np.empty((s.shape[0], k), dtype=np.intp)
    for start in range(0, s.shape[0], chunk):  # blocks of users bound memory; each block is vectorized
        stop = min(start + chunk, s.shape[0])
        if excl is None:
            block_excl = np.zeros((stop - start, s.shape[1]), dtype=bool)
        elif isinstance(excl, np.ndarray):
            block_excl = excl[start:stop]
        else:
            block_excl = excl[start:stop].toarray() != 0
        short = np.flatnonzero((~block_excl).sum(axis=1) < k)
        if short.size:
            raise ValueError(f"user {start + short[0]} has fewer than k={k} items left after exclude "
                             f"({short.size} such user(s) in rows {start}..{stop - 1}); lower k or exclude less")
        out[start:stop] = _top_k_block(s[start:stop], block_excl, k)
    return out


def catalog_coverage(ranked_items: Any, n_items: int, *, k: int | None = None) -> float:
    """Share of the ``n_items`` catalogue that appears in anyone's list (first ``k`` columns if given)."""
    if isinstance(n_items, bool) or not isinstance(n_items, (int, np.integer)) or n_items < 1:
        raise ValueError(f"n_items must be an int >= 1 (catalogue size), got {n_items!r}")
    arr = np.asarray(ranked_items)
    if arr.ndim != 2:
        raise ValueError(f"ranked_items must be 2-D (users, items best first), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"ranked_items must hold integer item ids, got dtype {arr.dtype}")
    if k is not None:
        arr = arr[:, :_check_k(k)]
    if arr.size and (arr.min() < 0 or arr.max() >= n_items):
        raise ValueError(f"ranked_items holds ids outside [0, {n_items}); check n_items or the id mapping")
    return float(np.unique(arr).size / n_items)
