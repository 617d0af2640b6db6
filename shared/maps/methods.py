"""``map_2d``: one entry point for the 2-D maps of an (n, d) array, each with its quality record."""

from __future__ import annotations

import dataclasses
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .checks import as_labels, as_points, positive_int
from .quality import MAX_QUALITY_POINTS, map_quality, measure

log = logging.getLogger(__name__)

METHODS = ("pca", "umap", "tsne", "parametric_umap", "autoencoder")
PARAMETRIC = ("parametric_umap", "autoencoder")
MAX_GRAPH_POINTS = 100_000


class Mapper:
    """A fitted map: ``transform`` embeds new rows (with the columns it was fitted on)."""

    method = ""
    n_features = 0

    def transform(self, x: Any) -> np.ndarray:
        """2-D coordinates of new rows (any number of them; constant columns are fine here)."""
        x = np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"this {self.method} map was fitted on {self.n_features} columns, got an array of shape "
                             f"{x.shape}; prepare the new rows exactly as the training rows")
        if not np.isfinite(x).all():
            raise ValueError(f"x has {int((~np.isfinite(x)).sum())} NaN or infinite value(s); impute them as the "
                             "training rows were (e.g. with the training median) first")
        return self._transform(x)

    def _transform(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def save(self, path: str | Path) -> Path:
        raise ValueError(f"a {self.method} map has no saved form; map with method='parametric_umap' or "
                         "'autoencoder' to keep an encoder for new rows")


class _Library(Mapper):
    def __init__(self, method: str, model: Any, n_features: int) -> None:
        self.method, self.model, self.n_features = method, model, n_features

    def _transform(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.transform(x.astype(np.float64) if self.method == "tsne" else x),
                          dtype=np.float32)


class EncoderMapper(Mapper):
    """A Keras encoder (standardization + dense MLP) x -> 2-D, saved as one ``.keras`` file."""

    def __init__(self, method: str, encoder: Any) -> None:
        self.method, self.encoder = method, encoder
        self.n_features = int(encoder.input_shape[-1])

    def _transform(self, x: np.ndarray) -> np.ndarray:
        from .parametric import embed

        return embed(self.encoder, x)

    def save(self, path: str | Path) -> Path:
        from shared.artifacts import save_model

        return save_model(self.encoder, path)


def load_encoder(path: str | Path, *, method: str = "parametric_umap") -> EncoderMapper:
    """The encoder saved by :meth:`MapResult.save` (``.keras``), ready to ``transform`` new rows."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved encoder at {path}; map the data first (deepcases map --data ...)")
    from shared.models._keras import keras

    return EncoderMapper(method, keras().models.load_model(path, compile=False))


@dataclasses.dataclass
class MapResult:
    """2-D coordinates of every row, the quality record, the parameters and the fitted map."""

    coords: np.ndarray
    method: str
    quality: dict[str, float]
    params: dict[str, Any]
    mapper: Mapper = dataclasses.field(repr=False)

    def transform(self, x: Any) -> np.ndarray:
        return self.mapper.transform(x)

    def save(self, path: str | Path) -> Path:
        return self.mapper.save(path)


def _subsample(n: int, limit: int, seed: int) -> np.ndarray:
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed + 1).choice(n, size=limit, replace=False))


def default_epochs(train_rows: int) -> int:
    """Parametric UMAP's default epochs: 1,000,000 / rows, clipped to [10, 100] (digits: 100 epochs
    reach trustworthiness 0.982 against 0.972 after 30)."""
    return int(np.clip(round(1_000_000 / max(train_rows, 1)), 10, 100))


#: how each method is named in figures and tables
METHOD_TITLES = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE", "parametric_umap": "parametric UMAP",
                 "autoencoder": "autoencoder"}


def method_title(method: str) -> str:
    return METHOD_TITLES.get(method, method)


def map_2d(x: Any, *, method: str, seed: int, labels: Any = None, n_neighbors: int = 15, min_dist: float = 0.1,
           perplexity: float = 30.0, hidden_units: tuple[int, ...] = (256, 256), epochs: int | None = None,
           batch_size: int | None = None, max_graph_points: int = MAX_GRAPH_POINTS, quality: bool = True,
           max_quality_points: int = MAX_QUALITY_POINTS) -> MapResult:
    """Map the rows of ``x`` (n, d floats) to 2-D with ``method`` and measure the map.

    Methods: ``pca`` (scikit-learn), ``umap`` (umap-learn), ``tsne`` (openTSNE, FFT-accelerated),
    ``parametric_umap`` (a dense Keras encoder trained with the UMAP loss, see
    :mod:`shared.maps.parametric`) and ``autoencoder`` (the same encoder trained to reconstruct the
    rows through a 2-D bottleneck). The two parametric methods train on a fixed random subsample of
    at most ``max_graph_points`` rows (the neighbour graph is built on it) and then embed every row
    in batches; their ``MapResult.save(path.keras)`` keeps the encoder and ``transform`` embeds new
    rows. ``epochs`` defaults, for parametric UMAP, to 1,000,000 / training rows clipped to [10, 100]
    (100 up to 10,000 rows, 10 from 100,000: the number of training steps stays about the same, as
    umap-learn lowers its epochs for big data), and to 100 with early stopping for the autoencoder.

    ``quality`` (default on): trustworthiness and continuity (k = 10) on a fixed random subsample of
    at most ``max_quality_points`` rows and, with ``labels``, the 5-NN accuracy in 2-D (fitted on
    70 %, scored on 30 %); plus the wall time and peak resident memory of fitting and embedding.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    positive_int("seed", seed, minimum=0)
    positive_int("n_neighbors", n_neighbors, minimum=2)
    positive_int("max_graph_points", max_graph_points, minimum=10)
    neighbours = n_neighbors if method in ("umap", "parametric_umap") else None
    points = as_points(x, n_neighbors=neighbours)
    n = len(points)
    if method == "tsne" and not 0 < perplexity < (n - 1) / 3:
        raise ValueError(f"perplexity must be in (0, (n - 1) / 3 = {(n - 1) / 3:.1f}) for {n} points, got "
                         f"{perplexity}; lower it (e.g. perplexity={max(1.0, (n - 1) / 4):.0f}) or map more points")
    y = as_labels(labels, n) if labels is not None else None
    params: dict[str, Any] = {"method": method, "seed": seed, "n_points": n, "n_features": int(points.shape[1])}
    with measure() as usage:
        coords, mapper, info = _fit(points, method=method, seed=seed, n_neighbors=n_neighbors, min_dist=min_dist,
                                    perplexity=perplexity, hidden_units=hidden_units, epochs=epochs,
                                    batch_size=batch_size, max_graph_points=max_graph_points)
    params.update(info)
    record: dict[str, float] = {"fit_seconds": usage.seconds, "peak_rss_mb": usage.peak_rss_mb,
                                "added_rss_mb": usage.added_rss_mb}
    if quality:
        record = {**map_quality(points, coords, y, max_points=max_quality_points, seed=seed), **record}
    log.info("%s map of %d x %d in %.1f s: %s", method, n, points.shape[1], usage.seconds,
             ", ".join(f"{k} {v:.3f}" for k, v in record.items() if k in ("trustworthiness", "continuity",
                                                                            "knn_accuracy")))
    return MapResult(coords=coords, method=method, quality=record, params=params, mapper=mapper)


def _fit(points: np.ndarray, *, method: str, seed: int, n_neighbors: int, min_dist: float, perplexity: float,
         hidden_units: tuple[int, ...], epochs: int | None, batch_size: int | None,
         max_graph_points: int) -> tuple[np.ndarray, Mapper, dict[str, Any]]:
    d = points.shape[1]
    if method == "pca":
        from sklearn.decomposition import PCA

        model = PCA(n_components=2, random_state=seed)
        coords = model.fit_transform(points).astype(np.float32)
        return coords, _Library(method, model, d), {"explained_variance": model.explained_variance_ratio_.tolist()}
    if method == "umap":
        import umap

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*n_jobs value.*")
            model = umap.UMAP(n_neighbors=n_neighbors, min_dist=min_dist, random_state=seed, n_jobs=1)
            coords = model.fit_transform(points).astype(np.float32)
        return coords, _Library(method, model, d), {"n_neighbors": n_neighbors, "min_dist": min_dist}
    if method == "tsne":
        from openTSNE import TSNE, affinity, nearest_neighbors

        data = points.astype(np.float64)
        # The neighbour index is chosen here because openTSNE's "auto" imports pynndescent just to see
        # whether it is installed, which compiles numba code for minutes on a cold cache; exact below
        # 1,000 points and Annoy above, which is what "auto" picks for the euclidean metric anyway.
        index_type = nearest_neighbors.Sklearn if len(data) < 1000 else nearest_neighbors.Annoy
        index = index_type(data, k=min(len(data) - 1, int(3 * perplexity)), metric="euclidean", n_jobs=1,
                           random_state=seed)
        affinities = affinity.PerplexityBasedNN(perplexity=perplexity, knn_index=index, n_jobs=1,
                                                random_state=seed)
        embedding = TSNE(perplexity=perplexity, random_state=seed, n_jobs=1).fit(data, affinities=affinities)
        return np.asarray(embedding, dtype=np.float32), _Library(method, embedding, d), {"perplexity": perplexity}
    from .parametric import embed, train_autoencoder, train_parametric_umap

    rows = _subsample(len(points), max_graph_points, seed)
    train = points[rows]
    if method == "parametric_umap":
        encoder, info = train_parametric_umap(train, seed=seed, n_neighbors=n_neighbors, min_dist=min_dist,
                                              hidden_units=hidden_units,
                                              epochs=epochs or default_epochs(len(rows)),
                                              batch_size=batch_size or 1024)
    else:
        encoder, info = train_autoencoder(train, seed=seed, hidden_units=hidden_units, epochs=epochs or 100,
                                          batch_size=batch_size or 256)
    info = {"train_points": len(rows), "hidden_units": list(hidden_units), **info}
    return embed(encoder, points), EncoderMapper(method, encoder), info
