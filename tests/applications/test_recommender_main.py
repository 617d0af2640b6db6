"""Recommender end to end on a small MovieLens slice: artifacts, every baseline, same seed => same metrics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from applications.recommender import main as app

TINY = ["--learned-maps", "pca", "--dataset", "movielens", "--max-users", "12", "--seeds", "1", "--mf-epochs", "2", "--tt-epochs", "2",
        "--patience", "1", "--mf-factors", "8", "--tt-dim", "8", "--tt-batch-size", "256", "--ease-grid", "50", "500",
        "--knn-neighbours", "20", "--als-factors", "4", "--als-regularization", "0.1", "1", "--als-alpha", "1",
        "--als-iterations", "2", "--seq-models", "gru4rec", "--max-len", "6", "--seq-epochs", "2", "--seq-patience", "1", "--seq-all-windows",
        "--seq-dim", "8", "--log-level", "WARNING"]


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("recommender-runs")
    # run a: both protocols (with refit); run b repeats Protocol A with the same seed (determinism, kept cheap)
    codes = [app.main([*TINY, "--runs-dir", str(root), "--run-id", run_id, "--recommend", "1", "--similar", "999999",
                       *extra])
             for run_id, extra in (("a", ["--protocol", "both", "--results-file", str(root / "results.json")]),
                                   ("b", ["--protocol", "A"]))]
    return root, codes


def _metrics(path) -> dict:
    items = json.loads(path.read_text())
    items = items if isinstance(items, list) else [items]
    return {(i["protocol"], m["name"]): m["metrics"] for i in items for m in i["models"]}


def test_end_to_end_writes_every_artifact_and_every_baseline(tiny_runs, capsys):
    root, codes = tiny_runs
    assert codes == [0, 0]
    run = root / "recommender" / "a"
    for name in ("config.json", "environment.json", "data.json", "metrics.json", "results.md", "results.csv",
                 "mf_biased_movielens.keras", "two_tower_movielens.keras", "history_mf_movielens.csv",
                 "history_two_tower_movielens.csv", "recommendations_movielens.csv", "similar_movielens.csv",
                 "gru4rec_movielens.keras", "history_gru4rec_movielens.csv"):
        assert (run / name).is_file(), name
    figures = {p.name for p in (run / "figures").iterdir()}
    for name in ("learning_curves_mf_movielens.png", "learning_curves_two_tower_movielens.png",
                 "item_map_two_tower_movielens.png", "item_map_two_tower_movielens.html",
                 "coverage_popularity_movielens.png", "recommended_popularity_movielens.png",
                 "learning_curves_gru4rec_movielens.png", "item_map_gru4rec_movielens.png"):
        assert name in figures, name
    # Embeddings also go to TensorBoard's projector, with titles as metadata.
    from shared.tensorboard_logs import projector_entries

    entries = {e["name"]: e for e in projector_entries(run / "logs" / "projector")}
    assert {"item_map_mf_movielens", "item_map_two_tower_movielens"} <= set(entries)
    rows = entries["item_map_two_tower_movielens"]["shape"][0]
    meta = (run / "logs" / "projector" / "item_map_two_tower_movielens_metadata.tsv").read_text().splitlines()
    assert meta[0] == "title\tgroup\tusers" and len(meta) == rows + 1
    assert (run / "logs" / "two_tower_movielens" / "validation").is_dir()  # curves as TensorBoard scalars
    metrics = _metrics(run / "metrics.json")
    assert set(metrics) == {("A", "global_mean"), ("A", "bias_baseline"), ("A", "knn_baseline"), ("A", "mf_biased"),
                            ("A", "svdpp"), ("B", "most_popular"), ("B", "item_knn_all"), ("B", "item_knn_20"),
                            ("B", "ease"), ("B", "two_tower"), ("B", "implicit_als"), ("B", "gru4rec")}
    assert all(set(m) == {"rmse", "mae"} for (p, _), m in metrics.items() if p == "A")
    assert all({"hr@10", "ndcg@10"} <= set(m) for (p, _), m in metrics.items() if p == "B")
    assert 0 < metrics[("A", "mf_biased")]["rmse"] < 2.5
    assert _metrics(root / "results.json") == metrics
    data = json.loads((run / "data.json").read_text())
    assert data[0]["users"] == 12 and data[0]["fingerprint"].startswith("sha256:")
    protocol_b = next(i for i in json.loads((run / "metrics.json").read_text()) if i["protocol"] == "B")
    seq = protocol_b["extra"]["sequential"]["gru4rec"]
    assert len(seq["best_epochs"]) == 1 and 1 <= seq["best_epochs"][0] <= 2 and seq["settings"]["max_len"] == 6
    assert len(protocol_b["extra"]["implicit_als"]["grid"]) == 2  # 1 factor x 2 regularizations x 1 alpha
    recs = pd.read_csv(run / "recommendations_movielens.csv")
    assert len(recs) == 10 and recs["source"].eq("model").all() and recs["label"].notna().all()
    similar = pd.read_csv(run / "similar_movielens.csv")  # unknown item 999999 -> popularity fallback
    assert similar["source"].eq("popularity fallback").all()


def test_same_seed_gives_same_metrics(tiny_runs):
    root, _ = tiny_runs
    first = _metrics(root / "recommender" / "a" / "metrics.json")
    again = _metrics(root / "recommender" / "b" / "metrics.json")
    assert set(again) == {("A", "global_mean"), ("A", "bias_baseline"), ("A", "knn_baseline"), ("A", "mf_biased"),
                          ("A", "svdpp")}
    assert all(again[key] == first[key] for key in again)


def test_protocol_a_on_implicit_csv_is_a_clear_error(tmp_path, runs_dir, capsys):
    path = tmp_path / "buys.csv"
    pd.DataFrame({"user": [1, 1, 2], "item": ["a", "b", "a"], "qty": [1, 2, 1],
                  "timestamp": ["2020-01-01", "2020-01-02", "2020-01-03"]}).to_csv(path, index=False)
    code = app.main(["--source", "csv", "--path", str(path), "--value-col", "qty", "--feedback", "implicit",
                     "--protocol", "A", "--runs-dir", str(runs_dir)])
    assert code == 2
    assert "Protocol A needs ratings" in capsys.readouterr().err
    code = app.main(["--source", "csv", "--path", str(tmp_path / "missing.csv"), "--runs-dir", str(runs_dir)])
    assert code == 2
    assert "not found" in capsys.readouterr().err


def test_parse_args_rejects_bad_options():
    with pytest.raises(SystemExit):
        app.parse_args(["--source", "csv"])
    with pytest.raises(SystemExit):
        app.parse_args(["--tt-batch-size", "1"])
    config = app.parse_args(app.QUICK_ARGS)
    assert config.dataset == "movielens" and config.seeds == 1
    assert app.parse_args(app.FULL_ARGS).seeds == 3


def _ratings_without_times(path):
    rng = np.random.default_rng(3)
    users, items = rng.integers(1, 30, 600), rng.integers(1, 60, 600)
    frame = pd.DataFrame({"user": users, "item": items, "rating": rng.integers(1, 11, 600) / 2.0})
    frame.drop_duplicates(["user", "item"]).to_csv(path, index=False)


def test_protocol_a_runs_on_a_ratings_file_without_timestamps(tmp_path, runs_dir):
    """Rating prediction needs no times: a user,item,rating file runs Protocol A end to end."""
    path = tmp_path / "ratings.csv"
    _ratings_without_times(path)
    code = app.main(["--source", "csv", "--path", str(path), "--protocol", "A", "--seeds", "1", "--mf-epochs", "2",
                     "--runs-dir", str(runs_dir), "--run-id", "no-times"])
    assert code == 0
    payload = json.loads((runs_dir / "recommender" / "no-times" / "metrics.json").read_text())
    (result,) = payload if isinstance(payload, list) else [payload]
    assert result["protocol"] == "A" and 0 < result["models"][0]["metrics"]["rmse"] < 5


def test_protocol_b_without_timestamps_names_the_fix(tmp_path, runs_dir, capsys):
    path = tmp_path / "ratings.csv"
    _ratings_without_times(path)
    assert app.main(["--source", "csv", "--path", str(path), "--protocol", "B", "--runs-dir", str(runs_dir)]) == 2
    err = capsys.readouterr().err
    assert "has no time column 'timestamp'" in err
    assert "Protocol B holds out each user's latest interaction, so it needs a time column" in err
    assert "--protocol A" in err
    from applications.recommender.data import load_csv

    assert load_csv(path, time_col="none", require_time=False).frame["timestamp"].isna().all()


def test_the_learned_item_map_is_skipped_when_few_items_have_trained_vectors(tiny_runs):
    root, _ = tiny_runs
    assert not (root / "recommender" / "a" / "maps").exists()   # 12 users: under 30 items with 5+ interactions


def test_the_learned_item_map_shows_embeddings_by_genre_beside_the_user_columns(tmp_path):
    import types

    import pandas as pd
    import scipy.sparse as sp

    from applications.recommender.indexing import IdIndex
    from shared.artifacts import RunDir

    rng = np.random.default_rng(0)
    genres = np.array(["Drama", "Comedy", "Action"])[np.arange(50) % 3]
    items = IdIndex(np.arange(100, 150))
    ds = types.SimpleNamespace(name="movielens-test", items=pd.DataFrame(
        {"label": [f"film {i}" for i in range(100, 150)], "group": genres}, index=np.arange(100, 150)))
    matrix = sp.csr_matrix(rng.random((40, 50)) < 0.3, dtype=np.float32)
    popularity = np.asarray(matrix.sum(axis=0)).ravel()
    popularity[:4] = 1                                                # rare items: left out as in the item map
    vectors = rng.normal(size=(50, 6)) + 2.0 * (np.arange(50) % 3)[:, None]
    run = RunDir.create("recommender", root=tmp_path, run_id="m")
    app._item_maps(run, ds, items, vectors, popularity, name="item_map_sasrec_movielens", title="SASRec items",
                   config=app.parse_args(["--learned-maps", "pca"]), matrix=matrix)
    record = json.loads((run.path / "maps" / "learned_item_map_sasrec_movielens.json").read_text())
    assert record["label"] == "main genre" and record["n_total"] == 46
    assert [r["n_features"] for r in record["rows"]] == [6, 40]        # embedding width; one column per user
    assert record["rows"][0]["knn_accuracy"] > record["rows"][1]["knn_accuracy"]  # genres separate in the vectors
    assert "film 104" in (run.figures / "learned_item_map_sasrec_movielens.html").read_text(encoding="utf-8")


def test_several_seeds_add_each_model_s_seed_ensemble(tmp_path):
    assert app.main([*TINY, "--seeds", "2", "--protocol", "A", "--runs-dir", str(tmp_path), "--run-id", "e"]) == 0
    result = json.loads((tmp_path / "recommender" / "e" / "metrics.json").read_text())
    result = result[0] if isinstance(result, list) else result
    rows = {m["name"]: m for m in result["models"]}
    assert {"mf_seed_ensemble", "svdpp_seed_ensemble"} <= set(rows)
    assert "std" in rows["svdpp"] and "std" not in rows["svdpp_seed_ensemble"]  # one averaged model: no spread
    # the averaged (and clipped) prediction is at most as far off as the worse seed (squared error is convex)
    worst = max(seed["rmse"] for seed in result["extra"]["per_seed"])
    assert rows["mf_seed_ensemble"]["metrics"]["rmse"] <= worst + 1e-12
    # no spread, so a paired test per user decides their verdict: every ensemble against every baseline
    tests = result["extra"]["paired_tests"]
    assert {(t["deep"], t["baseline"], t["metric"]) for t in tests} == {
        (d, b, m) for d in ("mf_seed_ensemble", "svdpp_seed_ensemble")
        for b in ("global_mean", "bias_baseline", "knn_baseline") for m in ("rmse", "mae")}
    assert all(0.0 <= t["p_value"] <= 1.0 and t["test"].startswith("per-user paired t-test") for t in tests)
    from shared.report.tables import _paired_p, headlines

    assert _paired_p(result, "mf_seed_ensemble", "bias_baseline", "rmse") is not None
    [line] = headlines(result)
    if line.deep[0].endswith("_ensemble"):  # the headline of an ensemble is a verdict, not "no spread"
        assert line.outcome.outcome != "no verdict" and line.outcome.p_value is not None


def test_a_catalogue_too_big_for_knn_similarities_leaves_the_knn_row_out_and_says_so(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(app, "KNN_MAX_ITEMS", 5)  # the tiny slice has more movies than that
    with caplog.at_level("WARNING", logger="applications.recommender.main"):
        assert app.main([*TINY, "--protocol", "A", "--no-svdpp", "--runs-dir", str(tmp_path), "--run-id", "k"]) == 0
    assert ("A", "knn_baseline") not in _metrics(tmp_path / "recommender" / "k" / "metrics.json")
    assert "knn_baseline left out" in caplog.text and "limit 5 items" in caplog.text
