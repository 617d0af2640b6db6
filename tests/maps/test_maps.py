"""map_2d on tiny data (n = 300): every method, the parametric encoder's .keras round trip, bad input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from shared.maps import load_encoder, map_2d
from shared.maps.methods import default_epochs
from shared.maps.parametric import find_ab_params, fuzzy_graph, smooth_knn_distances

TINY = {"hidden_units": (32, 32), "epochs": 4, "batch_size": 256}


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=5.0, size=(3, 12))
    labels = np.arange(300) % 3
    return (centres[labels] + rng.normal(size=(300, 12))).astype("float32"), labels


def test_importing_shared_maps_is_light():
    code = ("import sys, shared.maps; heavy = [m for m in ('tensorflow', 'keras', 'umap', 'numba', 'openTSNE') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ab_params_match_umap_learns_for_the_default_min_dist():
    a, b = find_ab_params(1.0, 0.1)          # umap-learn 0.5.12 gives a = 1.5769, b = 0.8951
    assert a == pytest.approx(1.5769, abs=2e-3) and b == pytest.approx(0.8951, abs=2e-3)


def test_smooth_knn_distances_hit_log2_k_by_hand():
    dist = np.array([[0.0, 1.0, 2.0, 3.0], [0.0, 0.5, 0.5, 4.0]])
    rho, sigma = smooth_knn_distances(dist)
    assert rho.tolist() == [1.0, 0.5]
    totals = np.exp(-np.maximum(dist[:, 1:] - rho[:, None], 0) / sigma[:, None]).sum(axis=1)
    assert totals == pytest.approx([2.0, 2.0], abs=1e-4)        # log2(4) = 2


def test_default_epochs_keep_the_training_steps_about_constant():
    assert [default_epochs(n) for n in (300, 1_797, 10_000, 20_000, 100_000, 1_000_000)] == [100, 100, 100, 50, 10, 10]


def test_fuzzy_graph_is_a_symmetric_union_without_self_loops(blobs):
    x, _ = blobs
    graph = fuzzy_graph(x[:60], n_neighbors=5).tocsr()
    assert abs(graph - graph.T).max() < 1e-6
    assert graph.diagonal().max() == 0.0
    assert 0 < graph.data.min() and graph.data.max() <= 1.0 + 1e-6
    assert (graph.getnnz(axis=1) >= 4).all()                     # every point keeps its k - 1 neighbours


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_library_methods_separate_the_blobs(blobs, method):
    x, labels = blobs
    result = map_2d(x, method=method, seed=0, labels=labels)
    assert result.coords.shape == (300, 2) and np.isfinite(result.coords).all()
    q = result.quality
    assert q["trustworthiness"] > 0.85 and q["knn_accuracy"] > 0.9
    assert q["fit_seconds"] > 0 and q["peak_rss_mb"] > 0
    assert result.transform(x[:5]).shape == (5, 2)


def test_parametric_umap_trains_saves_and_embeds_new_rows(blobs, tmp_path):
    x, labels = blobs
    result = map_2d(x[:240], method="parametric_umap", seed=1, labels=labels[:240], n_neighbors=10, **TINY)
    assert result.coords.shape == (240, 2)
    assert result.quality["knn_accuracy"] > 0.9 and result.quality["trustworthiness"] > 0.85
    assert result.params["graph_points"] == 240 and result.params["loss"][-1] < result.params["loss"][0]
    path = result.save(tmp_path / "encoder.keras")
    loaded = load_encoder(path)
    new = x[240:]
    assert np.allclose(loaded.transform(new), result.transform(new), atol=1e-5)
    with pytest.raises(ValueError, match="fitted on 12 columns"):
        loaded.transform(new[:, :5])


def test_parametric_graph_uses_a_fixed_subsample(blobs):
    x, _ = blobs
    first = map_2d(x, method="parametric_umap", seed=2, max_graph_points=100, quality=False, **TINY)
    second = map_2d(x, method="parametric_umap", seed=2, max_graph_points=100, quality=False, **TINY)
    assert first.params["graph_points"] == first.params["train_points"] == 100
    assert first.coords.shape == (300, 2)                        # every row embedded by the encoder
    assert np.allclose(first.coords, second.coords, atol=1e-5)   # same seed, same subsample, same map


def test_autoencoder_map(blobs, tmp_path):
    x, labels = blobs
    result = map_2d(x, method="autoencoder", seed=0, labels=labels, hidden_units=(32,), epochs=15, batch_size=128)
    assert result.quality["knn_accuracy"] > 0.9
    loaded = load_encoder(result.save(tmp_path / "ae.keras"), method="autoencoder")
    assert np.allclose(loaded.transform(x[:7]), result.coords[:7], atol=1e-5)


def test_non_parametric_maps_have_no_saved_form(blobs, tmp_path):
    x, _ = blobs
    with pytest.raises(ValueError, match="parametric_umap"):
        map_2d(x, method="pca", seed=0, quality=False).save(tmp_path / "pca.keras")


def test_bad_input_names_the_fix(blobs):
    x, labels = blobs
    with pytest.raises(ValueError, match="method must be one of"):
        map_2d(x, method="mds", seed=0)
    nan = x.copy()
    nan[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite.*impute"):
        map_2d(nan, method="pca", seed=0)
    constant = x.copy()
    constant[:, 4] = 1.0
    with pytest.raises(ValueError, match=r"constant column.*\[4\].*drop them"):
        map_2d(constant, method="pca", seed=0)
    with pytest.raises(ValueError, match="10 points but n_neighbors is 15"):
        map_2d(x[:10], method="parametric_umap", seed=0)
    with pytest.raises(ValueError, match="single class"):
        map_2d(x, method="pca", seed=0, labels=np.ones(300))
    with pytest.raises(ValueError, match="perplexity"):
        map_2d(x[:40], method="tsne", seed=0)
    with pytest.raises(ValueError, match="at least 2"):
        map_2d(x[:, :1], method="pca", seed=0)


def test_varying_columns_drops_what_is_constant_over_these_rows_only(blobs):
    from shared.maps.checks import varying_columns

    x, _ = blobs
    sub = x.copy()
    sub[:, [1, 4]] = 2.5  # e.g. a one-hot column of a destination no sampled row flies to
    kept, keep = varying_columns(sub, name="sample")
    assert keep.tolist() == [c not in (1, 4) for c in range(x.shape[1])]
    assert np.array_equal(kept, sub[:, keep].astype(np.float32))
    with pytest.raises(ValueError, match=r"sample has 1 non-constant column"):
        varying_columns(np.c_[sub[:, [1, 4]], x[:, 0]], name="sample")
    nan = x.copy()
    nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):  # the rest is checked as as_points does
        varying_columns(nan)


@pytest.mark.slow
def test_umap_learn_map(blobs):
    """umap-learn compiles with numba on first use (minutes on a cold cache), hence slow."""
    x, labels = blobs
    result = map_2d(x, method="umap", seed=0, labels=labels)
    assert result.quality["trustworthiness"] > 0.85 and result.quality["knn_accuracy"] > 0.9
    assert result.transform(x[:4]).shape == (4, 2)
