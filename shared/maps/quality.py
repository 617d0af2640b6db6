"""How good a 2-D map is, measured the way the literature does (Venna & Kaski 2001; Sainburg et al. 2021).

- trustworthiness (k = 10): are the map's near neighbours also near in the original space?
  (``sklearn.manifold.trustworthiness``; 1.0 = no false neighbours in the map).
- continuity (k = 10): are the original near neighbours kept near in the map? It is trustworthiness
  with the roles of the two spaces swapped.
- k-NN accuracy (k = 5): a label predicted from its 5 nearest points in 2-D, fitted on a training
  part and scored on the rest: how well the map separates known classes.

Both neighbourhood scores need all pairwise distances (scikit-learn holds three n x n arrays, about
2.4 GB at 10,000 points), so they are computed on a fixed random subsample of at most
``max_points`` = 10,000 points, as in the parametric-UMAP paper.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from .checks import as_labels, positive_int

MAX_QUALITY_POINTS = 10_000


def trustworthiness_score(high: Any, low: Any, *, n_neighbors: int = 10) -> float:
    """Trustworthiness of the map ``low`` of ``high`` (both (n, d)); needs n > 2 * n_neighbors."""
    from sklearn.manifold import trustworthiness

    high, low = np.asarray(high, dtype=np.float64), np.asarray(low, dtype=np.float64)
    _check_pair(high, low, n_neighbors)
    return float(trustworthiness(high, low, n_neighbors=n_neighbors))


def continuity_score(high: Any, low: Any, *, n_neighbors: int = 10) -> float:
    """Continuity of the map ``low`` of ``high``: trustworthiness with the two spaces swapped."""
    return trustworthiness_score(low, high, n_neighbors=n_neighbors)


def _check_pair(high: np.ndarray, low: np.ndarray, k: int) -> None:
    positive_int("n_neighbors", k)
    if high.ndim != 2 or low.ndim != 2 or len(high) != len(low):
        raise ValueError(f"high and low must be 2-D with one row per point each, got shapes {high.shape} "
                         f"and {low.shape}")
    if len(high) <= 2 * k:
        raise ValueError(f"neighbourhood scores with n_neighbors={k} need more than {2 * k} points, got "
                         f"{len(high)}; map more points or lower n_neighbors")


def knn_accuracy_score(train_coords: Any, train_labels: Any, test_coords: Any, test_labels: Any, *,
                       n_neighbors: int = 5) -> float:
    """Accuracy of a k-NN classifier fitted on the training points' 2-D coordinates, on the test points."""
    from sklearn.neighbors import KNeighborsClassifier

    positive_int("n_neighbors", n_neighbors)
    train_coords, test_coords = np.asarray(train_coords, float), np.asarray(test_coords, float)
    y_train = as_labels(train_labels, len(train_coords), name="train_labels")
    y_test = np.asarray(test_labels)
    if len(y_test) != len(test_coords):
        raise ValueError(f"test_labels must hold one label per test point ({len(test_coords)}), got {len(y_test)}")
    if len(train_coords) < n_neighbors:
        raise ValueError(f"the training part has {len(train_coords)} points, fewer than n_neighbors={n_neighbors}")
    model = KNeighborsClassifier(n_neighbors=n_neighbors).fit(train_coords, y_train.astype(str))
    return float(np.mean(model.predict(test_coords) == y_test.astype(str)))


def quality_subsample(n: int, *, max_points: int = MAX_QUALITY_POINTS, seed: int = 0) -> np.ndarray:
    """Sorted row indices of the fixed random subsample the neighbourhood scores are computed on."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


def train_test_indices(labels: np.ndarray, *, test_fraction: float = 0.3,
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A stratified split of the points for the k-NN accuracy (plain random if a class has one point)."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(labels))
    _, counts = np.unique(labels.astype(str), return_counts=True)
    stratify = labels.astype(str) if counts.min() >= 2 else None
    train, test = train_test_split(index, test_size=test_fraction, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(test)


def map_quality(high: Any, low: Any, labels: Any = None, *, n_neighbors: int = 10, knn_neighbors: int = 5,
                max_points: int = MAX_QUALITY_POINTS, seed: int = 0, train_low: Any = None,
                train_labels: Any = None) -> dict[str, float]:
    """Trustworthiness, continuity (on at most ``max_points`` points) and, with labels, the 5-NN accuracy.

    The k-NN classifier is fitted on ``train_low``/``train_labels`` when given (e.g. the training rows
    of a parametric map, whose held-out rows are ``low``), else on a stratified 70 % of ``low`` and
    scored on the other 30 %.
    """
    high, low = np.asarray(high, dtype=np.float64), np.asarray(low, dtype=np.float64)
    rows = quality_subsample(len(high), max_points=max_points, seed=seed)
    out = {"trustworthiness": trustworthiness_score(high[rows], low[rows], n_neighbors=n_neighbors),
           "continuity": continuity_score(high[rows], low[rows], n_neighbors=n_neighbors),
           "quality_points": float(len(rows))}
    if labels is not None:
        y = as_labels(labels, len(low))
        if train_low is not None:
            out["knn_accuracy"] = knn_accuracy_score(train_low, train_labels, low, y, n_neighbors=knn_neighbors)
        else:
            train, test = train_test_indices(y, seed=seed)
            out["knn_accuracy"] = knn_accuracy_score(low[train], y[train], low[test], y[test],
                                                     n_neighbors=knn_neighbors)
    return out


@dataclasses.dataclass
class Usage:
    """Wall time and peak resident memory of a block (filled in when the block ends)."""

    seconds: float = float("nan")
    peak_rss_mb: float = float("nan")       # highest RSS seen during the block
    added_rss_mb: float = float("nan")      # that peak minus the RSS when the block started


@contextlib.contextmanager
def measure(interval: float = 0.02) -> Iterator[Usage]:
    """Time a block and sample the process's resident memory (psutil RSS) every ``interval`` seconds.

    RSS, not tracemalloc: TensorFlow, numba and openTSNE allocate outside Python's allocator, which
    tracemalloc does not see. The peak is sampled, so a spike shorter than ``interval`` can be missed.
    """
    import psutil

    process = psutil.Process()
    start_rss = process.memory_info().rss
    peak = [start_rss]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(interval):
            peak[0] = max(peak[0], process.memory_info().rss)

    thread = threading.Thread(target=sample, daemon=True)
    usage = Usage()
    started = time.perf_counter()
    thread.start()
    try:
        yield usage
    finally:
        done.set()
        thread.join()
        peak[0] = max(peak[0], process.memory_info().rss)
        usage.seconds = time.perf_counter() - started
        usage.peak_rss_mb = peak[0] / 2**20
        usage.added_rss_mb = (peak[0] - start_rss) / 2**20
