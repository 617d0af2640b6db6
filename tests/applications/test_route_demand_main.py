"""route_demand end to end on a small slice: artifacts, every baseline in metrics.json, same seed ⇒ same metrics."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from applications.route_demand import main as app

TINY = ["--learned-maps", "pca", "--top-routes", "3", "--origins", "2", "--epochs", "1", "--seeds", "1", "--window", "14", "--val-days", "21",
        "--units", "8", "--batch-size", "256"]
BASELINES = ["naive", "weekday_mean_4", "seasonal_naive", "ets_statsmodels", "autoets_statsforecast"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    code = app.main([*TINY, "--plan", "--service-level", "0.8", "--runs-dir", str(runs), "--run-id", "a",
                     "--results-file", str(runs / "results.json")])
    assert code == 0
    return runs, runs / "route_demand" / "a"


def test_quick_and_full_args_parse():
    quick = app.parse_args(app.QUICK_ARGS)
    full = app.parse_args(app.FULL_ARGS)
    assert quick.skip_autoets and quick.seeds == 1 and quick.plan
    assert not full.skip_autoets and full.seeds == 3 and full.seed_list == [42, 43, 44]
    assert full.top_routes == 50 and full.horizon == 14 and full.n_origins == 12 and full.models == ("rnn", "cnn1d")


@pytest.mark.parametrize(("argv", "message"), [
    (["--models", "rnn,transformer"], "--models must list rnn and/or cnn1d"),
    (["--quantiles", "0.2,0.8"], "--quantiles must be increasing"),
    (["--plan", "--service-level", "0.95"], r"--service-level must lie within the forecast quantiles \[0.1, 0.9\]"),
    (["--source", "csv"], "--source csv needs --path"),
    (["--epochs", "0"], "--epochs must be >= 1"),
])
def test_bad_options_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit):
        app.parse_args(argv)
    assert re.search(message, capsys.readouterr().err)


def test_end_to_end_writes_every_artifact(tiny_run):
    runs, run = tiny_run
    for name in ("config.json", "environment.json", "data.json", "metrics.json", "results.md", "results.csv",
                 "model_rnn.keras", "model_cnn1d.keras", "history_rnn_seed42.csv", "history_cnn1d_seed42.csv",
                 "forecasts.csv", "per_pair_errors.csv", "per_route_wape.csv", "per_origin_wape.csv", "plan.csv",
                 "plan_summary.csv"):
        assert (run / name).is_file(), name
    figures = {p.name for p in (run / "figures").iterdir()}
    assert {"demand_heatmap.png", "error_by_route.png", "error_by_origin.png", "learning_curves_rnn.png",
            "learning_curves_cnn1d.png"} <= figures
    assert sum(name.startswith("forecast_") for name in figures) == 3
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics == json.loads((runs / "results.json").read_text())
    models = {m["name"]: m for m in metrics["models"]}
    assert [n for n in models if models[n]["kind"] == "deep"] == ["rnn", "rnn_cqr", "cnn1d", "cnn1d_cqr"]
    assert [n for n in models if models[n]["kind"] == "baseline"] == BASELINES
    for m in models.values():
        assert set(m["metrics"]) >= {"mase", "wape", "smape", "pooled_wape"}
        assert all(v is not None and np.isfinite(v) for v in m["metrics"].values())
    assert 0.0 <= models["rnn"]["metrics"]["interval_coverage"] <= 1.0
    for name in ("rnn", "rnn_cqr"):
        assert {"interval_coverage", "interval_width", "interval_score", "pinball_loss"} <= set(models[name]["metrics"])
    for point_metric in ("mase", "wape", "smape", "pooled_wape"):  # calibration never moves the median
        assert models["rnn_cqr"]["metrics"][point_metric] == models["rnn"]["metrics"][point_metric]
    calibration = metrics["extra"]["calibration"]
    assert len(calibration["shifts_per_lead"]["q90"]) == 14 and set(calibration["shifts_per_lead"]["q50"]) == {0.0}
    assert "[252, 273)" in calibration["span"]  # val-days 21 before the first origin 273
    assert set(calibration["coverage_by_route"]) == {"JFK-LAX", "LGA-ATL", "LGA-ORD"}
    assert {"coverage_by_lead.png", "coverage_by_route.png"} <= figures
    lead = pd.read_csv(run / "coverage_by_lead.csv")
    assert lead["lead_days"].tolist() == list(range(1, 15))
    forecasts = pd.read_csv(run / "forecasts.csv")
    assert {"rnn_q10", "rnn_q90", "rnn_cqr_q10", "rnn_cqr_q90"} <= set(forecasts.columns)
    assert metrics["dataset"]["rows"] == 3 * 365
    assert "not refitted" in metrics["extra"]["training"]
    assert set(metrics["extra"]["per_route_wape"]) == {"JFK-LAX", "LGA-ATL", "LGA-ORD"}
    plan = pd.read_csv(run / "plan.csv")
    assert len(plan) == 2 * 3 * 14
    # the plan uses the calibrated quantiles, and the 80 % level lies between the 50 % and 90 % ones
    np.testing.assert_allclose(plan["q90"].to_numpy(), forecasts["rnn_cqr_q90"].to_numpy())
    assert (plan["planned_departures"] >= np.floor(plan["q50"])).all()
    assert (plan["planned_departures"] <= np.ceil(plan["q90"] + 1e-9)).all()
    assert metrics["extra"]["plan"]["total"]["planned_departures"] == plan["planned_departures"].sum()


def test_same_seed_gives_the_same_metrics(tiny_run, runs_dir):
    _, run = tiny_run
    first = {m["name"]: m["metrics"] for m in json.loads((run / "metrics.json").read_text())["models"]}
    assert app.main([*TINY, "--models", "cnn1d", "--skip-autoets", "--runs-dir", str(runs_dir), "--run-id", "b"]) == 0
    second = {m["name"]: m["metrics"]
              for m in json.loads((runs_dir / "route_demand" / "b" / "metrics.json").read_text())["models"]}
    assert second["cnn1d"] == first["cnn1d"]
    assert second["seasonal_naive"] == first["seasonal_naive"]


def _csv(tmp_path, *, days=100, negative=False):
    dates = pd.date_range("2024-01-01", periods=days)
    rows = []
    for s, scale in (("north", 10), ("south", 20)):
        for i, d in enumerate(dates):
            rows.append({"day": d.date().isoformat(), "lane": s, "loads": scale + (i % 7) - (3 if i % 7 == 5 else 0)})
    frame = pd.DataFrame(rows)
    if negative:
        frame.loc[7, "loads"] = -1
    path = tmp_path / "loads.csv"
    frame.to_csv(path, index=False)
    return path


def test_bad_csv_exits_with_one_clear_line(tmp_path, runs_dir, capsys):
    path = _csv(tmp_path, negative=True)
    code = app.main(["--source", "csv", "--path", str(path), "--date-column", "day", "--series-column", "lane",
                     "--demand-column", "loads", "--runs-dir", str(runs_dir)])
    assert code == 2
    err = capsys.readouterr().err
    assert "deepcases route_demand: error:" in err and "negative" in err and "Traceback" not in err


def test_too_short_csv_says_how_long_it_must_be(tmp_path, runs_dir, capsys):
    path = _csv(tmp_path, days=40)
    code = app.main(["--source", "csv", "--path", str(path), "--date-column", "day", "--series-column", "lane",
                     "--demand-column", "loads", "--runs-dir", str(runs_dir)])
    assert code == 2
    assert "too short" in capsys.readouterr().err


@pytest.mark.slow
def test_csv_source_end_to_end(tmp_path, runs_dir):
    path = _csv(tmp_path, days=120)
    code = app.main(["--source", "csv", "--path", str(path), "--date-column", "day", "--series-column", "lane",
                     "--demand-column", "loads", "--origins", "3", "--models", "rnn", "--epochs", "1", "--seeds", "1",
                     "--window", "14", "--val-days", "21", "--skip-autoets", "--plan", "--runs-dir", str(runs_dir),
                     "--run-id", "csv"])
    assert code == 0
    metrics = json.loads((runs_dir / "route_demand" / "csv" / "metrics.json").read_text())
    assert metrics["dataset"]["name"] == "loads.csv" and metrics["dataset"]["series"] == 2
    assert metrics["extra"]["origins"] == ["2024-04-02", "2024-04-09", "2024-04-16"]
    assert metrics["extra"]["target"] is None and metrics["extra"]["reference_protocols_md"] is None


def test_forecast_figure_windows_do_not_overlap_and_end_with_the_last_origin():
    from applications.route_demand.plots import non_overlapping

    origins = list(range(273, 351, 7))
    keep = non_overlapping(origins, 14)
    assert keep[-1] == len(origins) - 1 and keep == [1, 3, 5, 7, 9, 11]
    assert all(origins[b] - origins[a] >= 14 for a, b in zip(keep, keep[1:]))


def test_the_route_map_colours_the_embedding_by_hub_and_skips_too_few_routes(tmp_path, tiny_run):
    import types

    from shared.artifacts import RunDir
    from shared.models._keras import keras

    _, path = tiny_run
    assert not (path / "maps").exists()           # 3 routes are too few for a measured map: skipped, not failed
    k = keras()
    route = k.Input((), dtype="int32")
    model = k.Model(route, k.layers.Embedding(40, 4, name="route_embedding")(route))
    rng = np.random.default_rng(0)
    names = tuple(f"{hub}-D{i:02d}" for i, hub in enumerate(["EWR", "JFK", "LGA", "JFK"] * 10))
    panel = types.SimpleNamespace(series=names, values=rng.poisson(5.0, size=(40, 120)).astype(float))
    run = RunDir.create("route_demand", root=tmp_path, run_id="m")
    app._route_map(run, app.parse_args(["--learned-maps", "pca"]), panel, model, end=100)
    record = json.loads((run.path / "maps" / "route_map.json").read_text())
    assert record["classes"] == {"EWR": 10, "JFK": 20, "LGA": 10} and record["label"] == "hub (origin)"
    assert [r["n_features"] for r in record["rows"]] == [4, 100]      # embedding width; 100 training days
    assert "EWR-D00" in (run.figures / "route_map.html").read_text(encoding="utf-8")


def test_two_seeds_give_the_ensemble_a_paired_verdict_per_route(tmp_path):
    argv = [*TINY, "--models", "rnn", "--runs-dir", str(tmp_path), "--run-id", "e"]
    argv[argv.index("--seeds") + 1] = "2"
    assert app.main(argv) == 0
    from shared.report.tables import _paired_p
    from shared.results import read_results

    [result] = read_results(tmp_path / "route_demand" / "e" / "metrics.json")
    names = {m["name"] for m in result["models"]}
    assert {"rnn_ensemble", "rnn_ensemble_cqr"} <= names
    tests = result["extra"]["paired_tests"]
    baselines = {m["name"] for m in result["models"] if m["kind"] == "baseline"}
    assert {(t["deep"], t["baseline"], t["metric"]) for t in tests} == {
        (d, b, m) for d in ("rnn_ensemble", "rnn_ensemble_cqr") for b in baselines for m in ("wape", "mase")}
    assert all(t["n"] == 3 and t["test"].startswith("per-route paired t-test") for t in tests)  # 3 routes
    assert _paired_p(result, "rnn_ensemble", "seasonal_naive", "wape") is not None  # what the headline reads
