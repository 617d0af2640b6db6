"""Parametric maps: a dense Keras encoder x -> 2-D trained with the UMAP loss, or as an autoencoder.

Parametric UMAP (Sainburg, McInnes & Gentner 2021) keeps UMAP's objective, a cross-entropy between
a fuzzy k-nearest-neighbour graph of the data and the same graph drawn from the 2-D points, but
lets a neural network produce the points, so new rows are embedded in one forward pass.

Written here instead of using umap-learn's ``ParametricUMAP`` because (1) that class materialises
every graph edge repeated by its epochs-per-sample (200-500 copies) as one tf.data tensor, so its
memory grows with n x epochs, while this trainer draws each batch's edges with probability
proportional to their weight from the graph itself; (2) building the graph here needs no numba /
pynndescent compilation (two to three minutes on a cold cache on this machine): scikit-learn's
exact k-NN, then UMAP's smooth-kNN distances and fuzzy union in numpy; (3) its ``save`` fails on
Keras 3, while this encoder is the project's dense MLP (``shared.models.build_mlp``) behind a fixed
standardization layer, saved as one ``.keras`` file.

Big n: the neighbour graph (and the training) uses a fixed random subsample of at most
``max_graph_points`` rows (seeded); every row is then embedded by the trained encoder in batches.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_EPS = 1e-4                 # probabilities are clipped to [EPS, 1 - EPS] in the cross-entropy (as umap-learn)
_BANDWIDTH_ITERATIONS = 64


# ------------------------------------------------------------------------------- the fuzzy graph


def find_ab_params(spread: float = 1.0, min_dist: float = 0.1) -> tuple[float, float]:
    """UMAP's ``a, b`` of the 2-D similarity 1 / (1 + a d^(2b)), fitted to its target curve (as umap-learn)."""
    from scipy.optimize import curve_fit

    if not 0 <= min_dist < spread:
        raise ValueError(f"min_dist must be in [0, spread={spread}), got {min_dist}")
    xv = np.linspace(0, spread * 3, 300)
    yv = np.where(xv < min_dist, 1.0, np.exp(-(xv - min_dist) / spread))
    (a, b), _ = curve_fit(lambda x, a, b: 1.0 / (1.0 + a * x ** (2 * b)), xv, yv)
    return float(a), float(b)


def nearest_neighbors(x: np.ndarray, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours of every row (the row itself first, at distance 0)."""
    from sklearn.neighbors import NearestNeighbors

    dist, ind = NearestNeighbors(n_neighbors=n_neighbors).fit(x).kneighbors(x)
    return ind, dist.astype(np.float64)


def smooth_knn_distances(dist: np.ndarray, *, local_connectivity: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Per point ``rho`` (distance to the nearest other point) and ``sigma`` such that
    sum_j exp(-(d_ij - rho_i) / sigma_i) = log2(k) over its k - 1 other neighbours (UMAP's
    ``smooth_knn_dist``, vectorised: a bisection on every point at once)."""
    n, k = dist.shape
    target = math.log2(k)
    others = dist[:, 1:]
    rho = np.where(others > 0, others, np.inf).min(axis=1)
    rho = np.where(np.isfinite(rho), rho, 0.0) if local_connectivity >= 1 else np.zeros(n)
    lo, hi, mid = np.zeros(n), np.full(n, np.inf), np.ones(n)
    excess = np.maximum(others - rho[:, None], 0.0)
    for _ in range(_BANDWIDTH_ITERATIONS):
        total = np.exp(-excess / mid[:, None]).sum(axis=1)
        above = total > target
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
        mid = np.where(np.isinf(hi), mid * 2, (lo + hi) / 2)
    floor = np.where(rho > 0, 1e-3 * dist.mean(axis=1), 1e-3 * dist.mean())
    return rho, np.maximum(mid, floor)


def fuzzy_graph(x: np.ndarray, *, n_neighbors: int = 15) -> Any:
    """UMAP's fuzzy simplicial set of ``x``: a symmetric sparse (n, n) matrix of edge weights in (0, 1]."""
    from scipy import sparse

    n = len(x)
    ind, dist = nearest_neighbors(x, n_neighbors)
    rho, sigma = smooth_knn_distances(dist)
    weights = np.exp(-np.maximum(dist - rho[:, None], 0.0) / sigma[:, None])
    weights[ind == np.arange(n)[:, None]] = 0.0                 # no self loops
    directed = sparse.csr_matrix((weights.ravel(), (np.repeat(np.arange(n), n_neighbors), ind.ravel())),
                                 shape=(n, n))
    directed.eliminate_zeros()
    product = directed.multiply(directed.T)
    return (directed + directed.T - product).tocoo()           # fuzzy union: a + b - ab


# ------------------------------------------------------------------------------- the encoders


def build_encoder(*, mean: np.ndarray, variance: np.ndarray, hidden_units: Sequence[int], name: str) -> Any:
    """Fixed standardization (training mean / variance) then the dense family's MLP with 2 linear outputs."""
    from shared.models import build_mlp
    from shared.models._keras import keras

    k = keras()
    d = len(mean)
    inputs = k.Input((d,), name="features")
    scaled = k.layers.Normalization(mean=mean.tolist(), variance=variance.tolist(), name="standardize")(inputs)
    mlp = build_mlp(n_features=d, hidden_units=tuple(hidden_units), outputs=2, name=f"{name}_mlp")
    return k.Model(inputs, mlp(scaled), name=name)


def _stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x.mean(axis=0).astype(np.float64), np.maximum(x.var(axis=0), 1e-12).astype(np.float64)


def train_parametric_umap(x: np.ndarray, *, seed: int, n_neighbors: int = 15, min_dist: float = 0.1,
                          hidden_units: Sequence[int] = (256, 256), epochs: int = 100, batch_size: int = 1024,
                          negative_rate: int = 5, learning_rate: float = 1e-3) -> tuple[Any, dict[str, Any]]:
    """Train the encoder on ``x`` (already the subsample) with the UMAP cross-entropy; returns (encoder, info).

    One epoch is as many batches as the graph has edges / batch_size; each batch draws ``batch_size``
    edges with probability proportional to their weight (positives) and pairs each edge's head with
    ``negative_rate`` tails of other edges of the same batch (negatives), as umap-learn's
    ``ParametricUMAP`` loss does: negatives then cost no extra pass through the encoder (two
    passes of ``batch_size`` rows per step instead of ``2 + negative_rate``), and are drawn as
    UMAP's are, in proportion to a point's edge weight.
    """
    import tensorflow as tf

    from shared.models._keras import keras
    from shared.training import set_seed

    set_seed(seed)
    rng = np.random.default_rng(seed)
    graph = fuzzy_graph(x, n_neighbors=n_neighbors)
    keep = graph.data >= graph.data.max() / 200.0              # umap-learn drops edges too weak to be sampled
    head, tail, weight = graph.row[keep], graph.col[keep], graph.data[keep]
    cdf = np.cumsum(weight / weight.sum())
    a, b = find_ab_params(1.0, min_dist)
    mean, variance = _stats(x)
    encoder = build_encoder(mean=mean, variance=variance, hidden_units=hidden_units, name="parametric_umap_encoder")
    optimizer = keras().optimizers.Adam(learning_rate)
    points = tf.constant(x, dtype=tf.float32)
    n = len(x)

    @tf.function(reduce_retracing=True)
    def step(i: Any, j: Any, negatives: Any) -> Any:
        with tf.GradientTape() as tape:
            zi = encoder(tf.gather(points, i), training=True)
            zj = encoder(tf.gather(points, j), training=True)
            zn = tf.gather(zj, negatives)  # other edges' tails from this batch
            d_pos = tf.reduce_sum(tf.square(zi - zj), axis=1)
            d_neg = tf.reduce_sum(tf.square(tf.repeat(zi, negative_rate, axis=0) - zn), axis=1)
            q_pos = 1.0 / (1.0 + a * tf.pow(d_pos + 1e-12, b))
            q_neg = 1.0 / (1.0 + a * tf.pow(d_neg + 1e-12, b))
            attraction = -tf.math.log(tf.clip_by_value(q_pos, _EPS, 1.0 - _EPS))
            repulsion = -tf.math.log(tf.clip_by_value(1.0 - q_neg, _EPS, 1.0 - _EPS))
            loss = (tf.reduce_sum(attraction) + tf.reduce_sum(repulsion)) / tf.cast(
                tf.size(attraction) + tf.size(repulsion), tf.float32)
            loss += tf.add_n(encoder.losses) if encoder.losses else 0.0
        grads = tape.gradient(loss, encoder.trainable_variables)
        optimizer.apply_gradients(zip(grads, encoder.trainable_variables))
        return loss

    batch = min(batch_size, len(head))
    steps = max(1, math.ceil(len(head) / batch))
    losses = []
    for epoch in range(epochs):
        total = 0.0
        for _ in range(steps):
            edges = np.minimum(np.searchsorted(cdf, rng.random(batch)), len(cdf) - 1)
            negatives = np.repeat(np.arange(batch), negative_rate)[rng.permutation(batch * negative_rate)]
            total += float(step(head[edges].astype(np.int32), tail[edges].astype(np.int32),
                                negatives.astype(np.int32)))
        losses.append(total / steps)
        log.debug("parametric UMAP epoch %d/%d: loss %.4f", epoch + 1, epochs, losses[-1])
    info = {"graph_points": n, "graph_edges": int(len(head)), "a": a, "b": b, "epochs": epochs,
            "steps_per_epoch": steps, "batch_size": batch, "loss": losses}
    return encoder, info


def train_autoencoder(x: np.ndarray, *, seed: int, hidden_units: Sequence[int] = (256, 256), epochs: int = 100,
                      batch_size: int = 256, learning_rate: float = 1e-3, patience: int = 8) -> tuple[Any, dict]:
    """Encoder x -> 2-D and a mirrored decoder 2-D -> x, trained to reconstruct the standardized rows
    (mean squared error, early stopping on a 10 % validation part); returns (encoder, info)."""
    from shared.models import build_mlp
    from shared.models._keras import keras
    from shared.training import set_seed

    set_seed(seed)
    k = keras()
    mean, variance = _stats(x)
    encoder = build_encoder(mean=mean, variance=variance, hidden_units=hidden_units, name="autoencoder_encoder")
    decoder = build_mlp(n_features=2, hidden_units=tuple(reversed(tuple(hidden_units))), outputs=x.shape[1],
                        name="autoencoder_decoder")
    inputs = k.Input((x.shape[1],), name="features")
    model = k.Model(inputs, decoder(encoder(inputs)), name="autoencoder")
    model.compile(optimizer=k.optimizers.Adam(learning_rate), loss="mse")
    target = ((x - mean) / np.sqrt(variance)).astype(np.float32)
    order = np.random.default_rng(seed).permutation(len(x))   # the validation part is a random 10 %, not the tail
    stop = k.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    history = model.fit(x[order], target[order], batch_size=min(batch_size, len(x)), epochs=epochs,
                        validation_split=0.1, callbacks=[stop], shuffle=True, verbose=0)
    info = {"train_points": len(x), "epochs_run": len(history.history["loss"]),
            "val_loss": [float(v) for v in history.history["val_loss"]]}
    return encoder, info


def embed(encoder: Any, x: np.ndarray, *, batch_size: int = 65_536) -> np.ndarray:
    """Every row of ``x`` through the encoder, in batches (memory stays at one batch of activations)."""
    out = np.empty((len(x), 2), dtype=np.float32)
    for start in range(0, len(x), batch_size):
        out[start:start + batch_size] = np.asarray(encoder(x[start:start + batch_size], training=False))
    return out
