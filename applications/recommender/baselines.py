"""The PROTOCOLS.md baselines, implemented here with NumPy/SciPy (no Python loop over items).

Rating prediction (Protocol A), ``fit(users, items, ratings, n_users=, n_items=)`` /
``predict(users, items)`` on index positions (-1 = unknown):
:class:`GlobalMean`, :class:`BiasBaseline` (user + item biases by alternating least squares,
Surprise's BaselineOnly defaults), :class:`KNNBaseline` (Surprise's own, the strongest
PROTOCOLS.md reference, run on the same split instead of quoted).

Top-N (Protocol B), ``fit(X)`` on the CSR training matrix / ``score(rows)`` -> dense
(len(rows), n_items) scores: :class:`MostPopular`, :class:`ItemKNN` (cosine; all neighbours or
the k nearest), :class:`EASE` (closed form), :class:`ImplicitALS` (the ``implicit`` library).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from scipy import sparse

log = logging.getLogger(__name__)


def _checked(users: Any, items: Any, ratings: Any | None = None) -> tuple[np.ndarray, ...]:
    u = np.asarray(users, dtype=np.int64)
    i = np.asarray(items, dtype=np.int64)
    if u.ndim != 1 or u.shape != i.shape:
        raise ValueError(f"users and items must be 1-D of equal length, got {u.shape} and {i.shape}")
    if ratings is None:
        return u, i
    r = np.asarray(ratings, dtype=np.float64)
    if r.shape != u.shape:
        raise ValueError(f"ratings must have one value per (user, item), got {r.shape} for {u.shape}")
    if not np.isfinite(r).all():
        raise ValueError("ratings hold NaN or inf; validate the data first")
    return u, i, r


def _checked_training(users: Any, items: Any, ratings: Any, *, n_users: int, n_items: int
                      ) -> tuple[np.ndarray, ...]:
    """The training triples of a rating model: non-empty, every position a known user and item."""
    u, i, r = _checked(users, items, ratings)
    if r.size == 0:
        raise ValueError("no training ratings")
    if u.min() < 0 or i.min() < 0 or u.max() >= n_users or i.max() >= n_items:
        raise ValueError("training positions must lie in [0, n_users) x [0, n_items); map ids first")
    return u, i, r


# --------------------------------------------------------------------------------------------- Protocol A
class GlobalMean:
    """Predicts the training mean for every pair."""

    name = "global_mean"

    def fit(self, users: Any, items: Any, ratings: Any, *, n_users: int, n_items: int) -> "GlobalMean":
        _, _, r = _checked(users, items, ratings)
        if r.size == 0:
            raise ValueError("no training ratings")
        self.mu = float(r.mean())
        return self

    def predict(self, users: Any, items: Any) -> np.ndarray:
        u, _ = _checked(users, items)
        return np.full(u.shape, self.mu)


class BiasBaseline:
    """r(u, i) = mu + b_u + b_i, regularized biases fitted by alternating least squares.

    Each epoch: b_i = sum(r - mu - b_u) / (reg_i + n_i), then b_u = sum(r - mu - b_i) / (reg_u + n_u)
    (Surprise's BaselineOnly ALS, defaults reg_i=10, reg_u=15, 10 epochs). Unknown users/items get
    a zero bias, so an unseen item is predicted as mu + b_u: the Protocol A fallback.
    """

    name = "bias_baseline"

    def __init__(self, *, reg_user: float = 15.0, reg_item: float = 10.0, epochs: int = 10) -> None:
        if reg_user < 0 or reg_item < 0:
            raise ValueError(f"regularization must be >= 0, got reg_user={reg_user}, reg_item={reg_item}")
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        self.reg_user, self.reg_item, self.epochs = reg_user, reg_item, epochs

    def fit(self, users: Any, items: Any, ratings: Any, *, n_users: int, n_items: int) -> "BiasBaseline":
        u, i, r = _checked_training(users, items, ratings, n_users=n_users, n_items=n_items)
        self.mu = float(r.mean())
        n_u = np.bincount(u, minlength=n_users)
        n_i = np.bincount(i, minlength=n_items)
        self.user_bias = np.zeros(n_users)
        self.item_bias = np.zeros(n_items)
        for _ in range(self.epochs):  # Surprise order: users first, then items
            self.user_bias = np.bincount(u, r - self.mu - self.item_bias[i], minlength=n_users) / (self.reg_user + n_u)
            self.item_bias = np.bincount(i, r - self.mu - self.user_bias[u], minlength=n_items) / (self.reg_item + n_i)
        return self

    def predict(self, users: Any, items: Any) -> np.ndarray:
        u, i = _checked(users, items)
        bu = np.where(u >= 0, self.user_bias[np.clip(u, 0, None)], 0.0)
        bi = np.where(i >= 0, self.item_bias[np.clip(i, 0, None)], 0.0)
        return self.mu + bu + bi


class KNNBaseline:
    """Item-based kNN on baseline residuals, through scikit-surprise's ``KNNBaseline`` (Koren 2010).

    r(u, i) = b_ui + sum_j s_ij (r_uj - b_uj) / sum_j s_ij over the ``k`` items j the user rated
    that are most similar to i, with b_ui the BaselineOnly ALS biases and s the shrunk
    ``pearson_baseline`` similarity: PROTOCOLS.md's strongest Protocol A reference with Surprise's
    defaults. An unknown item (or user) is predicted as mu + b_u (+ b_i), the Protocol A fallback;
    predictions are clipped to ``rating_range``. The item-item similarity matrix is dense:
    8 * n_items**2 bytes (0.66 GB for MovieLens' 9k movies).
    """

    name = "knn_baseline"

    def __init__(self, *, k: int = 40, rating_range: tuple[float, float] = (0.5, 5.0)) -> None:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        low, high = rating_range
        if not low < high:
            raise ValueError(f"rating_range must be (low, high) with low < high, got {rating_range}")
        self.k, self.rating_range = int(k), (float(low), float(high))

    def fit(self, users: Any, items: Any, ratings: Any, *, n_users: int, n_items: int) -> "KNNBaseline":
        u, i, r = _checked_training(users, items, ratings, n_users=n_users, n_items=n_items)
        try:
            import surprise
        except ImportError as err:  # pragma: no cover - a declared dependency
            raise ImportError("the scikit-surprise package is missing; run `pip install scikit-surprise==1.1.5`"
                              ) from err
        import pandas as pd

        frame = pd.DataFrame({"user": u, "item": i, "rating": r})
        trainset = surprise.Dataset.load_from_df(frame, surprise.Reader(rating_scale=self.rating_range)
                                                 ).build_full_trainset()
        self.algorithm = surprise.KNNBaseline(k=self.k, sim_options={"name": "pearson_baseline", "user_based": False},
                                              verbose=False).fit(trainset)
        return self

    def predict(self, users: Any, items: Any) -> np.ndarray:
        u, i = _checked(users, items)  # -1 is never a training id, so Surprise treats it as unknown
        return np.array([self.algorithm.predict(a, b).est for a, b in zip(u.tolist(), i.tolist())])


# --------------------------------------------------------------------------------------------- Protocol B
def _csr(matrix: Any) -> sparse.csr_matrix:
    if not sparse.issparse(matrix):
        raise TypeError(f"pass the training interactions as a scipy.sparse matrix, got {type(matrix).__name__}")
    x = sparse.csr_matrix(matrix, dtype=np.float32)
    if x.shape[0] == 0 or x.shape[1] == 0 or x.nnz == 0:
        raise ValueError(f"the training matrix is empty (shape {x.shape}, {x.nnz} interactions)")
    x.data[:] = 1.0  # implicit feedback: presence only
    return x


class MostPopular:
    """Score = number of training users of the item (the same list for everyone, minus their own items)."""

    name = "most_popular"

    def fit(self, x: Any) -> "MostPopular":
        self.x = _csr(x)
        self.popularity = np.asarray(self.x.sum(axis=0)).ravel()
        return self

    def score(self, rows: Any) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        return np.broadcast_to(self.popularity, (rows.size, self.popularity.size)).astype(np.float32)


class ItemKNN:
    """Item-based kNN with cosine similarity on binary interactions.

    S = cosine(X columns) with a zero diagonal. With ``neighbours`` = k, each candidate item j keeps
    only its k most similar items: score(u, j) = sum of sim(i, j) over the user's items i that are
    among j's k nearest neighbours (column-wise pruning; it reproduces the PROTOCOLS.md reference
    0.0671 / 0.0343 exactly, row-wise pruning gives 0.0611 / 0.0300). score(u) = x_u · S.
    """

    def __init__(self, *, neighbours: int | None = None) -> None:
        if neighbours is not None and neighbours < 1:
            raise ValueError(f"neighbours must be >= 1 or None (all), got {neighbours}")
        self.neighbours = neighbours
        self.name = "item_knn_all" if neighbours is None else f"item_knn_{neighbours}"

    def fit(self, x: Any) -> "ItemKNN":
        self.x = _csr(x)
        norms = np.sqrt(np.asarray(self.x.multiply(self.x).sum(axis=0)).ravel())
        inv = np.where(norms > 0, 1.0 / np.maximum(norms, 1e-12), 0.0).astype(np.float32)
        xn = sparse.csr_matrix(self.x.multiply(inv[None, :]))
        sim = (xn.T @ xn).toarray().astype(np.float32)
        np.fill_diagonal(sim, 0.0)
        k = self.neighbours
        if k is not None and k < sim.shape[1]:
            drop = np.argpartition(-sim, k - 1, axis=1)[:, k:]  # all but the k most similar per row
            np.put_along_axis(sim, drop, 0.0, axis=1)
            sim = np.ascontiguousarray(sim.T)  # column j now holds only j's k nearest neighbours
        self.similarity = sim
        return self

    def score(self, rows: Any) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        return np.asarray(self.x[rows] @ self.similarity, dtype=np.float32)


class EASE:
    """Embarrassingly Shallow Autoencoder (Steck 2019): B = I - P / diag(P), P = (XᵀX + λI)⁻¹, diag(B) = 0."""

    def __init__(self, *, l2: float = 300.0) -> None:
        if l2 <= 0:
            raise ValueError(f"l2 (lambda) must be > 0, got {l2}")
        self.l2 = l2
        self.name = "ease"

    def fit(self, x: Any, *, gram: np.ndarray | None = None) -> "EASE":
        self.x = _csr(x)
        g = (self.x.T @ self.x).toarray().astype(np.float32) if gram is None else gram.astype(np.float32, copy=True)
        g[np.diag_indices_from(g)] += self.l2
        p = _spd_inverse(g)
        b = p / (-np.diag(p))
        np.fill_diagonal(b, 0.0)
        self.weights = b.astype(np.float32)
        return self

    def score(self, rows: Any) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        return np.asarray(self.x[rows] @ self.weights, dtype=np.float32)


class ImplicitALS:
    """Implicit-feedback ALS (Hu, Koren & Volinsky 2008) through the ``implicit`` library (CPU solver).

    Confidence 1 + alpha * x on the binary training matrix, ``factors`` latent dimensions, L2
    ``regularization``; score(u) = user_factors[u] · item_factors^T. OpenBLAS runs single-threaded
    during the fit, as ``implicit`` asks (its own threads parallelize the solve).
    """

    def __init__(self, *, factors: int = 128, regularization: float = 0.1, alpha: float = 1.0,
                 iterations: int = 15, seed: int = 0) -> None:
        if factors < 1 or iterations < 1:
            raise ValueError(f"factors and iterations must be >= 1, got factors={factors}, iterations={iterations}")
        if regularization < 0 or alpha <= 0:
            raise ValueError(f"regularization must be >= 0 and alpha > 0, got {regularization}, {alpha}")
        self.factors, self.regularization, self.alpha = int(factors), float(regularization), float(alpha)
        self.iterations, self.seed = int(iterations), int(seed)
        self.name = "implicit_als"

    def fit(self, x: Any) -> "ImplicitALS":
        try:
            from implicit.cpu.als import AlternatingLeastSquares
        except ImportError as err:  # pragma: no cover - a declared dependency
            raise ImportError("the implicit package is missing; run `pip install implicit==0.7.3`") from err
        from threadpoolctl import threadpool_limits

        self.x = _csr(x)
        with threadpool_limits(1, "blas"):  # implicit checks (and warns about) BLAS threads when it is built
            model = AlternatingLeastSquares(factors=self.factors, regularization=self.regularization,
                                            alpha=self.alpha, iterations=self.iterations, random_state=self.seed,
                                            num_threads=0)
            model.fit(self.x, show_progress=False)
        self.user_factors = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float32)
        return self

    def score(self, rows: Any) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        return self.user_factors[rows] @ self.item_factors.T


def _spd_inverse(g: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix by Cholesky (LAPACK potrf/potri): half the cost of inv."""
    from scipy.linalg import lapack

    potrf, potri = (lapack.spotrf, lapack.spotri) if g.dtype == np.float32 else (lapack.dpotrf, lapack.dpotri)
    c, info = potrf(g, lower=True, overwrite_a=True, clean=False)
    if info != 0:
        raise ValueError(f"EASE: the regularized Gram matrix is not positive definite (info={info}); raise l2")
    inv, info = potri(c, lower=True, overwrite_c=True)
    if info != 0:
        raise ValueError(f"EASE: inversion failed (info={info}); raise l2")
    lower = np.tril(inv)
    return lower + np.tril(lower, -1).T
