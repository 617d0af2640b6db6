"""Tests of shared.viz's static figures: figure structure, saving, and every input check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shared import viz

REPO = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module", autouse=True)
def _mpl_config_dir(tmp_path_factory):
    """Keep matplotlib's cache out of $HOME (the global conftest may already have done this)."""
    with pytest.MonkeyPatch.context() as mp:
        if "MPLCONFIGDIR" not in os.environ:
            mp.setenv("MPLCONFIGDIR", str(tmp_path_factory.mktemp("mplconfig")))
        yield


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def assert_png(path) -> None:
    path = Path(path)
    assert path.is_file() and path.stat().st_size > 1000
    assert path.read_bytes()[:8] == PNG_MAGIC


def is_figure(obj) -> bool:
    from matplotlib.figure import Figure

    return isinstance(obj, Figure)


def line_labels(ax) -> list[str]:
    return [line.get_label() for line in ax.get_lines()]


def test_importing_shared_viz_is_light_and_plotting_selects_agg(tmp_path):
    """Run in a fresh interpreter: other tests have already imported pyplot in this one."""
    code = ("import sys, shared.viz\n"
            "heavy = [m for m in ('matplotlib.pyplot', 'tensorflow', 'keras', 'plotly', 'lifelines')"
            " if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "fig = shared.viz.plot_bar({'a': 1.0})\n"      # MPLBACKEND=svg must be overridden
            "import matplotlib\n"
            "assert matplotlib.get_backend().lower() == 'agg', matplotlib.get_backend()\n")
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path), "MPLBACKEND": "svg"}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- learning curves

HISTORY = {"loss": [1.0, 0.7, 0.5, 0.4], "val_loss": [1.1, 0.8, 0.9, 1.0],
           "auc": [0.6, 0.7, 0.8, 0.9], "val_auc": [0.55, 0.6, 0.72, 0.7], "learning_rate": [1e-3] * 4}


def test_learning_curves_one_panel_per_metric_and_best_val_epoch_marked():
    fig = viz.plot_learning_curves(HISTORY, title="MLP")
    assert is_figure(fig)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "auc"]        # learning rate left out, loss first
    loss_ax, auc_ax = fig.axes
    assert line_labels(loss_ax)[:2] == ["train", "validation"]
    assert len(loss_ax.get_lines()) == 3                                  # train, val, best-epoch line
    assert loss_ax.get_lines()[2].get_xdata()[0] == 2                     # min val_loss at epoch 2
    assert auc_ax.get_lines()[2].get_xdata()[0] == 3                      # max val_auc at epoch 3
    assert fig.get_suptitle() == "MLP"


def test_learning_curves_accepts_a_dataframe_with_epoch_column_and_metric_subset():
    frame = pd.DataFrame(HISTORY).assign(epoch=[0, 1, 2, 3])
    fig = viz.plot_learning_curves(frame, metrics="auc")
    assert len(fig.axes) == 1
    np.testing.assert_array_equal(fig.axes[0].get_lines()[0].get_xdata(), [0, 1, 2, 3])


def test_learning_curves_without_validation_and_with_nan_epochs():
    fig = viz.plot_learning_curves({"loss": [1.0, np.nan, 0.5], "mae": [2.0, 1.5, 1.0]})
    assert len(fig.axes) == 2
    assert all(len(ax.get_lines()) == 1 for ax in fig.axes)


def test_learning_curves_saves_png(tmp_path):
    out = viz.plot_learning_curves(HISTORY, path=tmp_path / "figures" / "curves.png")
    assert out == tmp_path / "figures" / "curves.png"
    assert_png(out)


@pytest.mark.parametrize("history, kwargs, error, match", [
    ({}, {}, ValueError, "history is empty"),
    ({"loss": [1.0, 0.5], "val_loss": [1.0]}, {}, ValueError, "one value per epoch"),
    ({"loss": [1.0]}, {"metrics": ["mae"]}, ValueError, "metric 'mae' is not in history"),
    ({"loss": [1.0]}, {"metrics": []}, ValueError, "metrics is empty"),
    ([1.0, 0.5], {}, TypeError, "history must be a dict"),
    ({"loss": ["a", "b"]}, {}, TypeError, "no numeric values"),
    (pd.DataFrame({"loss": []}), {}, ValueError, "no epochs"),
    ({"loss": [1.0]}, {"path": 3}, TypeError, "path must be a str"),
    ({"loss": [1.0]}, {"path": "curves.xyz"}, ValueError, "unsupported extension"),
])
def test_learning_curves_rejects_bad_input(history, kwargs, error, match):
    with pytest.raises(error, match=match):
        viz.plot_learning_curves(history, **kwargs)


# --------------------------------------------------------------------------- ROC


def test_roc_curves_one_line_per_model_plus_chance(rng):
    y = rng.integers(0, 2, 100)
    fig = viz.plot_roc_curves({"perfect": (y, y * 2.0), "noise": (y, rng.random(100)),
                               "deep": (y, y + rng.random(100))})
    ax = fig.axes[0]
    labels = line_labels(ax)
    assert len(ax.get_lines()) == 4
    assert labels[0] == "perfect (AUC = 1.000)"
    assert labels[-1].startswith("chance")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == labels


def test_roc_curves_save(tmp_path, rng):
    y = np.array([0, 1] * 20)
    assert_png(viz.plot_roc_curves({"m": (y, rng.random(40))}, path=tmp_path / "roc.png"))


@pytest.mark.parametrize("curves, error, match", [
    ({}, ValueError, "curves is empty"),
    (([0, 1], [0.2, 0.8]), TypeError, "curves must be a dict"),
    ({"m": ([0, 1], [0.1, 0.9], [1])}, TypeError, r"curves\['m'\] must be a \(y_true, y_score\) pair"),
    ({"m": ([0, 1, 2], [0.1, 0.9, 0.5])}, ValueError, "binary labels 0/1"),
    ({"m": ([1, 1, 1], [0.1, 0.9, 0.5])}, ValueError, "needs both"),
    ({"m": ([0, 1, 1], [0.1, 0.9])}, ValueError, "must have the same length"),
    ({"m": ([0, 1], [0.1, np.nan])}, ValueError, "NaN or infinite"),
    ({"m": ([0, 1], ["low", "high"])}, TypeError, "must be numeric"),
])
def test_roc_curves_rejects_bad_input(curves, error, match):
    with pytest.raises(error, match=match):
        viz.plot_roc_curves(curves)


# --------------------------------------------------------------------------- confusion matrix


def test_confusion_matrix_from_labels_counts_and_annotates():
    y_true = ["cat", "cat", "dog", "dog", "dog", "bird"]
    y_pred = ["cat", "dog", "dog", "dog", "cat", "bird"]
    fig = viz.plot_confusion_matrix((y_true, y_pred))
    ax = fig.axes[0]
    assert len(fig.axes) == 2                                              # heatmap + colour bar
    np.testing.assert_array_equal(ax.images[0].get_array(), [[1, 0, 0], [0, 1, 1], [0, 1, 2]])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["bird", "cat", "dog"]
    assert sorted(t.get_text() for t in ax.texts) == sorted(["1", "0", "0", "0", "1", "1", "0", "1", "2"])


def test_confusion_matrix_normalized_rows_sum_to_one_and_zero_rows_stay_zero():
    fig = viz.plot_confusion_matrix(np.array([[8, 2, 0], [1, 3, 0], [0, 0, 0]]), labels=["a", "b", "c"],
                                    normalize=True)
    shown = np.asarray(fig.axes[0].images[0].get_array())
    np.testing.assert_allclose(shown.sum(axis=1), [1, 1, 0])
    assert fig.axes[0].texts[0].get_text() == "0.80"


def test_confusion_matrix_class_order_and_dataframe_input(tmp_path):
    fig = viz.plot_confusion_matrix(([0, 1, 1, 2], [0, 1, 2, 2]), labels=[2, 1, 0])
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["2", "1", "0"]
    frame = pd.DataFrame([[5, 1], [2, 7]], index=["rotten", "fresh"], columns=["rotten", "fresh"])
    assert_png(viz.plot_confusion_matrix(frame, normalize="all", path=tmp_path / "cm.png"))


@pytest.mark.parametrize("data, kwargs, error, match", [
    (np.ones((2, 3)), {}, ValueError, "square matrix"),
    (np.array([[1, -1], [0, 2]]), {}, ValueError, "non-negative"),
    (np.eye(2), {"labels": ["a", "b", "c"]}, ValueError, "labels has 3 names but the matrix has 2"),
    (np.eye(2), {"normalize": "rows"}, ValueError, "normalize must be"),
    (np.eye(2), {"labels": ["a", "a"]}, ValueError, "must not repeat"),
    (([0, 1], [0, 1], [1, 1]), {}, TypeError, r"must be \(y_true, y_pred\)"),
    (([0, 1, 1], [0, 1]), {}, ValueError, "same length"),
    (([0, 1], [0, 1]), {"labels": ["neg", "pos"]}, ValueError, "none of labels"),
    ((["a", None], ["a", "b"]), {}, ValueError, "missing values"),
    ([["a", "b"], ["c", "d"]], {}, TypeError, "square numeric matrix"),
])
def test_confusion_matrix_rejects_bad_input(data, kwargs, error, match):
    with pytest.raises(error, match=match):
        viz.plot_confusion_matrix(data, **kwargs)


# --------------------------------------------------------------------------- forecast

DATES = pd.date_range("2021-03-01", periods=10, freq="D")


def test_forecast_with_history_interval_and_dates():
    pred = np.linspace(1, 2, 10)
    fig = viz.plot_forecast(DATES, pred + 0.1, pred, lower=pred - 0.3, upper=pred + 0.3,
                            history_index=pd.date_range("2021-02-01", periods=28, freq="D"),
                            history=np.ones(28), ylabel="price", label="LSTM", interval_label="90% interval")
    ax = fig.axes[0]
    assert line_labels(ax) == ["history", "forecast start", "actual", "LSTM"]
    assert len(ax.collections) == 1                                       # one shaded band
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "LSTM 90% interval" in legend
    assert ax.get_ylabel() == "price"


def test_forecast_several_models_numeric_index_and_unknown_future():
    x = np.arange(5)
    fig = viz.plot_forecast(x, None, {"lstm": np.ones(5), "naive": np.zeros(5)},
                            lower={"lstm": np.zeros(5)}, upper={"lstm": np.full(5, 2.0)})
    assert line_labels(fig.axes[0]) == ["lstm", "naive"]
    assert len(fig.axes[0].collections) == 1


def test_forecast_accepts_timezone_aware_dates_and_missing_actuals(tmp_path):
    idx = pd.date_range("2021-01-01", periods=4, freq="h", tz="America/New_York")
    out = viz.plot_forecast(idx, [1.0, np.nan, 3.0, 4.0], np.ones(4), path=tmp_path / "fc.png")
    assert_png(out)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(index=DATES, actual=np.ones(9), predicted=np.ones(10)), ValueError,
     "index and actual and predicted must have the same length"),
    (dict(index=DATES, actual=None, predicted=np.ones(10), lower=np.ones(10)), ValueError, "both lower and upper"),
    (dict(index=DATES, actual=None, predicted=np.ones(10), lower=np.ones(10), upper=np.zeros(10)), ValueError,
     "lower is above upper"),
    (dict(index=DATES, actual=None, predicted={"a": np.ones(10), "b": np.ones(10)}, lower=np.zeros(10),
          upper=np.ones(10) * 2), ValueError, "lower and upper must be dicts"),
    (dict(index=DATES, actual=None, predicted={"a": np.ones(10)}, lower={"b": np.zeros(10)},
          upper={"b": np.ones(10)}), ValueError, "interval for 'b' has no forecast"),
    (dict(index=DATES, actual=None, predicted={}), ValueError, "predicted is an empty dict"),
    (dict(index=DATES, actual=None, predicted=np.ones(10), history=np.ones(3)), ValueError,
     "both history_index and history"),
    (dict(index=DATES, actual=None, predicted=np.ones(10), history_index=[1, 2, 3], history=np.ones(3)),
     TypeError, "both be datetimes or both be numbers"),
    (dict(index=["2021-01-01", "2021-01-02"], actual=None, predicted=np.ones(2)), TypeError, "pd.to_datetime"),
    (dict(index=[], actual=None, predicted=[]), ValueError, "index is empty"),
    (dict(index=DATES, actual=None, predicted=np.full(10, np.inf)), ValueError, "infinite"),
    (dict(index=DATES, actual=None, predicted=np.ones((10, 2))), ValueError, "must be 1-D"),
])
def test_forecast_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        viz.plot_forecast(**kwargs)


# --------------------------------------------------------------------------- residuals


def test_residuals_histogram_and_qq_panels(rng, tmp_path):
    fig = viz.plot_residuals(rng.normal(size=300), title="LSTM residuals")
    hist_ax, qq_ax = fig.axes
    assert len(hist_ax.patches) > 5
    assert line_labels(hist_ax)[0].startswith("normal")
    assert line_labels(qq_ax) == ["normal reference"]
    assert len(qq_ax.collections[0].get_offsets()) == 300
    assert_png(viz.plot_residuals(rng.normal(size=(50, 1)), path=tmp_path / "res.png"))   # (n, 1) accepted


def test_residuals_large_input_uses_at_most_2000_quantiles(rng):
    fig = viz.plot_residuals(rng.normal(size=20_000))
    assert len(fig.axes[1].collections[0].get_offsets()) == 2000


@pytest.mark.parametrize("residuals, kwargs, error, match", [
    ([], {}, ValueError, "residuals is empty"),
    ([1.0], {}, ValueError, "at least 2 values"),
    ([1.0, np.nan, 2.0], {}, ValueError, "NaN or infinite"),
    ("abc", {}, TypeError, "1-D array-like"),
    ([1.0, 2.0], {"bins": 0}, ValueError, "bins must be >= 1"),
    ([1.0, 2.0], {"bins": 2.5}, TypeError, "bins must be an int"),
])
def test_residuals_rejects_bad_input(residuals, kwargs, error, match):
    with pytest.raises(error, match=match):
        viz.plot_residuals(residuals, **kwargs)


# --------------------------------------------------------------------------- embeddings


def clustered_vectors(rng, n=60, d=8):
    vectors = rng.normal(size=(n, d))
    vectors[: n // 2] += 4.0
    return vectors


def test_project_2d_pca_subsamples_reproducibly_and_keeps_requested_points(rng):
    vectors = clustered_vectors(rng, n=500)
    coords, kept = viz.project_2d(vectors, max_points=100, seed=3, keep=[7, 499])
    assert coords.shape == (100, 2) and kept.shape == (100,)
    assert {7, 499} <= set(kept.tolist()) and np.all(np.diff(kept) > 0)
    again, kept_again = viz.project_2d(vectors, max_points=100, seed=3, keep=[7, 499])
    np.testing.assert_array_equal(kept, kept_again)
    np.testing.assert_allclose(coords, again)
    full, all_rows = viz.project_2d(vectors)
    assert full.shape == (500, 2) and np.array_equal(all_rows, np.arange(500))


def test_project_2d_tsne_separates_two_clusters(rng):
    vectors = clustered_vectors(rng, n=40)
    coords, kept = viz.project_2d(vectors, method="tsne", seed=0)
    assert coords.shape == (40, 2) and np.isfinite(coords).all()
    a, b = coords[:20].mean(axis=0), coords[20:].mean(axis=0)
    spread = max(coords[:20].std(axis=0).max(), coords[20:].std(axis=0).max())
    assert np.linalg.norm(a - b) > 2 * spread


@pytest.mark.parametrize("vectors, kwargs, error, match", [
    (np.ones(10), {}, ValueError, "must be 2-D"),
    (np.ones((10, 1)), {}, ValueError, "needs at least 2"),
    (np.ones((2, 4)), {}, ValueError, "needs at least 3"),
    (np.ones((10, 4)), {}, ValueError, "all vectors are identical"),
    (np.full((10, 4), np.nan), {}, ValueError, "NaN or infinite"),
    (np.eye(5), {"method": "umap"}, ValueError, "method must be 'pca' or 'tsne'"),
    (np.eye(5), {"max_points": 2}, ValueError, "max_points must be >= 3"),
    (np.eye(5), {"seed": 1.5}, TypeError, "seed must be an int"),
    (np.eye(10), {"max_points": 3, "keep": [0, 1, 2, 3]}, ValueError, "4 points must be kept"),
    (np.eye(5), {"keep": [9]}, ValueError, "keep holds indices outside"),
    (np.eye(5), {"method": "tsne", "perplexity": 10}, ValueError, "perplexity must be"),
    ([["a", "b"], ["c", "d"]], {}, TypeError, "numeric 2-D array"),
])
def test_project_2d_rejects_bad_input(vectors, kwargs, error, match):
    with pytest.raises(error, match=match):
        viz.project_2d(vectors, **kwargs)


def test_embedding_map_categorical_labels_get_a_legend_and_annotations(rng):
    vectors = clustered_vectors(rng)
    labels = np.array(["drama"] * 30 + ["comedy"] * 30)
    fig = viz.plot_embedding_map(vectors, labels=labels, annotate={0: "Toy Story", 59: "Heat"},
                                 label_name="genre")
    ax = fig.axes[0]
    assert len(fig.axes) == 1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["comedy (30)", "drama (30)"]
    assert sorted(t.get_text() for t in ax.texts) == ["Heat", "Toy Story"]
    assert ax.get_xlabel() == "PC 1"


def test_embedding_map_numeric_labels_get_a_colour_bar_and_tsne(rng, tmp_path):
    vectors = clustered_vectors(rng, n=50)
    fig = viz.plot_embedding_map(vectors, labels=rng.random(50), method="tsne", label_name="popularity")
    assert len(fig.axes) == 2                                             # map + colour bar
    assert fig.axes[1].get_ylabel() == "popularity"
    assert fig.axes[0].get_xlabel() == "t-SNE 1"
    assert_png(viz.plot_embedding_map(vectors, path=tmp_path / "map.png"))


def test_embedding_map_subsample_keeps_annotated_points_and_lumps_rare_categories(rng):
    vectors = rng.normal(size=(300, 5))
    labels = [f"c{i % 30}" for i in range(300)]
    annotate = [None] * 300
    annotate[123] = "special"
    fig = viz.plot_embedding_map(vectors, labels=labels, annotate=annotate, max_points=50, seed=1)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["special"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(legend) == 20 and legend[-1].startswith("other")
    assert sum(len(c.get_offsets()) for c in ax.collections) == 50
    assert "50 of 300 points" in ax.get_title()


@pytest.mark.parametrize("kwargs, error, match", [
    ({"labels": ["a"] * 5}, ValueError, "vectors and labels must have the same length"),
    ({"annotate": ["x"] * 5}, ValueError, "vectors and annotate must have the same length"),
    ({"annotate": "Toy Story"}, TypeError, "annotate must be a list"),
    ({"labels": ["a"] * 60, "label_kind": "ordinal"}, ValueError, "label_kind must be"),
    ({"labels": ["a"] * 60, "label_kind": "continuous"}, TypeError, "labels must be numeric"),
    ({"method": "umap"}, ValueError, "method must be"),
])
def test_embedding_map_rejects_bad_input(rng, kwargs, error, match):
    with pytest.raises(error, match=match):
        viz.plot_embedding_map(clustered_vectors(rng), **kwargs)


# --------------------------------------------------------------------------- survival


@pytest.fixture
def survival_data(rng):
    n = 150
    groups = np.repeat(["low", "medium", "high"], n // 3)
    scale = np.select([groups == "low", groups == "medium"], [20.0, 10.0], 3.0)
    time = rng.exponential(scale)
    event = (rng.random(n) < 0.8).astype(int)
    return time, event, groups


def test_km_by_group_one_curve_per_group_with_logrank_p(survival_data):
    from lifelines.statistics import multivariate_logrank_test

    time, event, groups = survival_data
    fig = viz.plot_km_by_group(time, event, groups, order=["low", "medium", "high"], xlabel="days")
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 3
    assert [label.split(" ")[0] for label in line_labels(ax)] == ["low", "medium", "high"]
    expected = multivariate_logrank_test(time, groups, event).p_value
    assert fig.logrank_p == pytest.approx(expected)
    assert viz.logrank_p_value(time, event, groups) == pytest.approx(expected)
    assert fig.logrank_p < 1e-3 and "log-rank p" in ax.get_title()
    assert ax.get_xlabel() == "days"


def test_km_by_group_horizon_and_categorical_order(survival_data, tmp_path):
    time, event, groups = survival_data
    cats = pd.Series(pd.Categorical(groups, categories=["high", "medium", "low"]))
    fig = viz.plot_km_by_group(time, event, cats, horizon=12)
    ax = fig.axes[0]
    assert ax.get_xlim() == (0.0, 12.0)
    assert line_labels(ax)[0].startswith("high") and "S(12)=" in line_labels(ax)[0]
    assert_png(viz.plot_km_by_group(time, event, groups, path=tmp_path / "km.png", ci=False))


def test_logrank_p_value_is_large_for_identical_groups():
    time = np.tile(np.arange(1.0, 21.0), 2)
    event = np.ones(40, dtype=int)
    assert viz.logrank_p_value(time, event, np.repeat(["a", "b"], 20)) == pytest.approx(1.0)


@pytest.mark.parametrize("time, event, groups, kwargs, error, match", [
    ([1.0, 2.0, 3.0], [1, 0, 1], ["a", "a", "a"], {}, ValueError, "at least 2 distinct groups"),
    ([1.0, -2.0, 3.0], [1, 0, 1], ["a", "b", "a"], {}, ValueError, "time must be >= 0"),
    ([1.0, 2.0, 3.0], [1, 2, 1], ["a", "b", "a"], {}, ValueError, "event must hold binary"),
    ([1.0, 2.0, 3.0], [1, 0], ["a", "b", "a"], {}, ValueError, "same length"),
    ([1.0, 2.0, 3.0], [1, 0, 1], ["a", None, "b"], {}, ValueError, "groups has missing values"),
    ([1.0, 2.0, 3.0], [1, 0, 1], ["a", "b", "a"], {"horizon": 0}, ValueError, "horizon must be > 0"),
    ([1.0, 2.0, 3.0], [1, 0, 1], ["a", "b", "a"], {"horizon": "1y"}, TypeError, "horizon must be a number"),
    ([1.0, 2.0, 3.0], [1, 0, 1], ["a", "b", "c"], {"order": ["a", "b"]}, ValueError, "order does not list"),
])
def test_km_by_group_rejects_bad_input(time, event, groups, kwargs, error, match):
    with pytest.raises(error, match=match):
        viz.plot_km_by_group(time, event, groups, **kwargs)


# --------------------------------------------------------------------------- calibration


def test_calibration_diagonal_plus_one_line_per_model(rng, tmp_path):
    prob = rng.random(400)
    y = (rng.random(400) < prob).astype(int)
    fig = viz.plot_calibration(y, {"calibrated": prob, "overconfident": prob ** 3}, n_bins=8)
    top, bottom = fig.axes
    labels = line_labels(top)
    assert len(labels) == 3 and labels[0] == "perfectly calibrated"
    assert labels[1].startswith("calibrated (Brier = ")
    assert len(bottom.patches) == 2                                       # one step histogram per model
    assert_png(viz.plot_calibration(y, prob, strategy="quantile", path=tmp_path / "cal.png"))


@pytest.mark.parametrize("y_true, y_prob, kwargs, error, match", [
    ([0, 1, 1], [0.1, 0.9, 1.2], {}, ValueError, r"y_prob must be probabilities in \[0, 1\]"),
    ([0, 1, 1], {"m": [0.1, 0.9]}, {}, ValueError, "same length"),
    ([0, 1, 3], [0.1, 0.9, 0.5], {}, ValueError, "binary labels"),
    ([0, 1, 1], [0.1, 0.9, 0.5], {"n_bins": 1}, ValueError, "n_bins must be >= 2"),
    ([0, 1, 1], [0.1, 0.9, 0.5], {"strategy": "kmeans"}, ValueError, "strategy must be"),
    ([0, 1, 1], {}, {}, ValueError, "y_prob is empty"),
])
def test_calibration_rejects_bad_input(y_true, y_prob, kwargs, error, match):
    with pytest.raises(error, match=match):
        viz.plot_calibration(y_true, y_prob, **kwargs)


# --------------------------------------------------------------------------- bars, heatmaps, sweeps


def test_bar_sorted_largest_on_top_with_highlight_and_errors(tmp_path):
    from matplotlib.colors import to_hex

    fig = viz.plot_bar({"naive": 0.5, "deep": 0.8, "tfidf": 0.7}, errors={"naive": 0.0, "deep": 0.02, "tfidf": 0.03},
                       highlight="deep", xlabel="accuracy")
    ax = fig.axes[0]
    bars = [p for p in ax.patches]
    assert len(bars) == 3
    assert [t.get_text() for t in ax.get_yticklabels()] == ["naive", "tfidf", "deep"]   # bottom to top
    colors = [to_hex(b.get_facecolor()) for b in bars]
    assert colors[2] != colors[0] == colors[1]
    assert ax.get_xlabel() == "accuracy"
    assert_png(viz.plot_bar(pd.Series({"a": -1.0, "b": 2.0}), sort=False, path=tmp_path / "bar.png"))


def test_bar_top_keeps_largest_absolute_values():
    values = {f"f{i}": float(i) * (-1) ** i for i in range(50)}
    fig = viz.plot_bar(values, top=5, errors=[0.1] * 50)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["f49", "f47", "f45", "f46", "f48"]


@pytest.mark.parametrize("values, kwargs, error, match", [
    ({}, {}, ValueError, "values is empty"),
    ([1.0, 2.0], {}, TypeError, "values must be a dict"),
    ({"a": np.nan}, {}, ValueError, "NaN or infinite"),
    ({"a": "high"}, {}, TypeError, "values must be numeric"),
    ({"a": 1.0, "b": 2.0}, {"errors": {"a": 0.1}}, ValueError, r"errors has no value for \['b'\]"),
    ({"a": 1.0, "b": 2.0}, {"errors": [0.1]}, ValueError, "same length"),
    ({"a": 1.0}, {"errors": [-0.1]}, ValueError, "errors must be >= 0"),
    ({"a": 1.0}, {"highlight": "z"}, ValueError, r"highlight names \['z'\] are not in values"),
    ({"a": 1.0}, {"top": 0}, ValueError, "top must be >= 1"),
])
def test_bar_rejects_bad_input(values, kwargs, error, match):
    with pytest.raises(error, match=match):
        viz.plot_bar(values, **kwargs)


def test_heatmap_wide_date_columns_get_sparse_ticks_and_no_cell_text(rng, tmp_path):
    frame = pd.DataFrame(rng.poisson(10, size=(25, 200)).astype(float),
                         index=[f"JFK-{i}" for i in range(25)],
                         columns=pd.date_range("2013-01-01", periods=200, freq="D"))
    frame.iloc[0, 0] = np.nan
    fig = viz.plot_heatmap(frame, title="Daily flights", xlabel="date", ylabel="route", colorbar_label="flights")
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert 2 <= len(ticks) <= 12 and ticks[0] == "2013-01-01" and ticks[-1] == "2013-07-19"
    assert len(ax.get_yticklabels()) == 25
    assert not ax.texts
    assert fig.axes[1].get_ylabel() == "flights"
    assert_png(viz.plot_heatmap(frame, path=tmp_path / "heat.png"))


def test_heatmap_small_table_is_annotated():
    frame = pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], index=["r1", "r2"], columns=["c1", "c2"])
    fig = viz.plot_heatmap(frame, cmap="cividis")
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["1", "2", "3", "4"]
    assert not viz.plot_heatmap(frame, annotate=False).axes[0].texts


@pytest.mark.parametrize("frame, kwargs, error, match", [
    ([[1, 2]], {}, TypeError, "frame must be a pandas DataFrame"),
    (pd.DataFrame(), {}, ValueError, "frame is empty"),
    (pd.DataFrame({"route": ["a"], "x": [1.0]}), {}, TypeError, r"non-numeric columns \['route'\].*set_index"),
    (pd.DataFrame({"x": [np.nan]}), {}, ValueError, "no finite values"),
    (pd.DataFrame({"x": [1.0]}), {"cmap": "not-a-map"}, ValueError, "cmap must be a matplotlib colormap"),
    (pd.DataFrame({"x": [1.0]}), {"annotate": "yes"}, TypeError, "annotate must be True, False or None"),
])
def test_heatmap_rejects_bad_input(frame, kwargs, error, match):
    with pytest.raises(error, match=match):
        viz.plot_heatmap(frame, **kwargs)


def test_metric_vs_param_one_line_per_metric_log_axis_and_seed_averaging(tmp_path):
    frame = pd.DataFrame({"l2": [1e-4, 1e-3, 1e-2, 1e-1] * 2, "val_auc": [0.7, 0.75, 0.8, 0.6, 0.72, 0.77, 0.78, 0.62],
                          "train_auc": [0.99, 0.95, 0.85, 0.65] * 2})
    fig = viz.plot_metric_vs_param(frame, param="l2", metrics=["val_auc", "train_auc"], logx=True)
    ax = fig.axes[0]
    assert line_labels(ax) == ["val_auc", "train_auc"]
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [1e-4, 1e-3, 1e-2, 1e-1])
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [0.71, 0.76, 0.79, 0.61])
    assert ax.get_xscale() == "log" and len(ax.collections) == 2          # ±1 sd bands
    assert_png(viz.plot_metric_vs_param(frame, param="l2", metrics="val_auc", path=tmp_path / "sweep.png"))


def test_metric_vs_param_categorical_param_and_std_columns():
    frame = pd.DataFrame({"optimizer": ["sgd", "adam", "rmsprop"], "mae": [1.2, 0.9, 1.0], "mae_std": [0.1, 0.05, 0.1]})
    fig = viz.plot_metric_vs_param(frame, param="optimizer", metrics="mae")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["sgd", "adam", "rmsprop"]
    assert len(ax.collections) == 1


@pytest.mark.parametrize("frame, kwargs, error, match", [
    ([1, 2], {"param": "l2", "metrics": "auc"}, TypeError, "frame must be a pandas DataFrame"),
    (pd.DataFrame({"l2": [], "auc": []}), {"param": "l2", "metrics": "auc"}, ValueError, "frame is empty"),
    (pd.DataFrame({"l2": [0.1], "auc": [0.5]}), {"param": "alpha", "metrics": "auc"}, ValueError,
     "param 'alpha' is not a column"),
    (pd.DataFrame({"l2": [0.1], "auc": [0.5]}), {"param": "l2", "metrics": ["auc", "f1"]}, ValueError,
     "metric 'f1' is not a column"),
    (pd.DataFrame({"l2": [0.1], "auc": [0.5]}), {"param": "l2", "metrics": []}, ValueError, "metrics is empty"),
    (pd.DataFrame({"l2": [0.0, 0.1], "auc": [0.5, 0.6]}), {"param": "l2", "metrics": "auc", "logx": True},
     ValueError, "logx needs 'l2' > 0"),
    (pd.DataFrame({"l2": [0.1], "auc": ["good"]}), {"param": "l2", "metrics": "auc"}, TypeError, "must be numeric"),
    (pd.DataFrame({"l2": [np.nan], "auc": [0.5]}), {"param": "l2", "metrics": "auc"}, ValueError, "missing values"),
])
def test_metric_vs_param_rejects_bad_input(frame, kwargs, error, match):
    with pytest.raises(error, match=match):
        viz.plot_metric_vs_param(frame, **kwargs)


# --------------------------------------------------------------------------- saving


def test_path_option_saves_atomically_and_closes_the_figure(tmp_path):
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    out = viz.plot_bar({"a": 1.0}, path=tmp_path / "bar.png")
    assert isinstance(out, Path) and set(plt.get_fignums()) == before
    assert [p.name for p in tmp_path.iterdir()] == ["bar.png"]            # no temporary file left behind
    assert_png(out)
    svg = viz.plot_bar({"a": 1.0}, path=str(tmp_path / "bar.svg"))
    assert svg.read_text().lstrip().startswith("<?xml")


def test_a_failing_plot_does_not_leak_open_figures(monkeypatch):
    import matplotlib.pyplot as plt

    from shared.viz import tables

    def boom(*args, **kwargs):
        raise RuntimeError("drawing failed")

    before = set(plt.get_fignums())
    monkeypatch.setattr(tables, "_tick_positions", boom)
    with pytest.raises(RuntimeError, match="drawing failed"):
        viz.plot_heatmap(pd.DataFrame({"x": [1.0]}))
    assert set(plt.get_fignums()) == before
