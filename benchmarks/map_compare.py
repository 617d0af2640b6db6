"""PCA, UMAP, openTSNE and a trained parametric encoder on the same rows: the side-by-side table of
the big-map benchmarks (``maps_flights.py``, ``maps_reviews.py``)."""

from __future__ import annotations

import numpy as np


def compare(x: np.ndarray, labels: np.ndarray, encoder, *, points: int, n_total: int, seed: int) -> list[dict]:
    """Every method on the same random ``points`` rows of ``x``, quality measured the same way.

    Each library is warmed up on 2,000 of those rows first, so umap-learn's numba compilation is not
    in its time. The UMAP and t-SNE times at ``n_total`` rows are extrapolated linearly (both grow
    faster than linearly, so a lower bound), labelled as such, not measured."""
    from shared.maps import map_2d, map_quality, measure
    from shared.maps.checks import varying_columns

    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(x), size=min(points, len(x)), replace=False))
    sub, sub_labels = x[rows], labels[rows]
    varying, keep = varying_columns(sub, name="compared rows")  # e.g. a rare category no sampled row has
    warm, _ = varying_columns(varying[rng.choice(len(varying), size=min(2000, len(varying)), replace=False)],
                              name="warm-up rows")
    out = []
    for method in ("pca", "umap", "tsne"):
        map_2d(warm, method=method, seed=seed, quality=False)
        q = map_2d(varying, method=method, seed=seed, labels=sub_labels).quality
        out.append({"method": method, "rows": len(rows), "columns": int(keep.sum()), **q,
                    "extrapolated_seconds_all_rows": round(q["fit_seconds"] * n_total / len(rows), 1)
                    if method != "pca" else None})
        print(f"  {method} on {len(rows):,} rows: T {q['trustworthiness']:.3f} 5-NN {q['knn_accuracy']:.3f} "
              f"{q['fit_seconds']:.0f} s", flush=True)
    with measure() as placed:
        coords = encoder.transform(sub)
    q = map_quality(varying, coords, sub_labels, seed=seed)  # the same distances the other rows are judged on
    out.append({"method": "parametric_umap (trained encoder, transform)", "rows": len(rows),
                "columns": int(keep.sum()), **q, "fit_seconds": placed.seconds, "peak_rss_mb": placed.peak_rss_mb,
                "extrapolated_seconds_all_rows": None})
    return out
