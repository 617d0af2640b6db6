"""stock_forecast end to end on a short slice of the sample with tiny settings; CLI errors; determinism."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from applications.stock_forecast import main as app

TINY = ["--learned-maps", "pca", "--source", "sample", "--start", "2015-01-01", "--window", "8", "--units", "4", "--epochs", "1",
        "--seeds", "1", "--batch-size", "128", "--horizon", "2", "--features", "ret,volume,range",
        "--log-level", "WARNING"]
BASELINES = {"persistence", "drift", "arima_111_drift", "median_drift", "always_up"}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    code = app.main([*TINY, "--models", "gru,cnn1d", "--forecast-next", "2", "--runs-dir", str(runs),
                     "--run-id", "a", "--results-file", str(runs / "published.json")])
    assert code == 0
    return runs, runs / "stock_forecast" / "a"


def test_run_writes_every_artifact(tiny_run):
    runs, path = tiny_run
    for name in ("config.json", "environment.json", "data.json", "metrics.json", "results.md", "results.csv",
                 "model_gru.keras", "model_cnn1d.keras", "history_gru_seed42.csv", "predictions.csv",
                 "multi_step.csv", "forecast_next.csv", "forecast_next.md", "verdicts.json", "scaler.json"):
        assert (path / name).is_file(), name
    for fig in ("forecast_test_span", "forecast_last_60_days", "residuals", "learning_curves_gru",
                "learning_curves_cnn1d", "mae_ratio_by_step", "forecast_next"):
        assert (path / "figures" / f"{fig}.png").stat().st_size > 1000, fig
    assert json.loads((runs / "published.json").read_text()) == json.loads((path / "metrics.json").read_text())
    data = json.loads((path / "data.json").read_text())
    assert data["date_range"][0] >= "2015-01-01" and data["rows"] > 900


def test_metrics_hold_deep_models_and_every_baseline(tiny_run):
    _, path = tiny_run
    metrics = json.loads((path / "metrics.json").read_text())
    models = {m["name"]: m for m in metrics["models"]}
    calibrated = {f"{k}_{m}" for k in ("gru", "cnn1d") for m in ("cqr", "aci")}
    assert set(models) == {"gru", "cnn1d"} | calibrated | BASELINES
    assert models["gru"]["kind"] == "deep" and models["persistence"]["kind"] == "baseline"
    for name in ("gru", "cnn1d", "persistence", "drift", "arima_111_drift", "median_drift"):
        m = models[name]["metrics"]
        for key in ("rmse", "mae", "mape", "mase", "directional_accuracy", "mae_ratio_to_persistence"):
            assert np.isfinite(m[key]), (name, key)
        assert m["mae_ratio_to_persistence"] == pytest.approx(m["mae"] / models["persistence"]["metrics"]["mae"])
    assert models["persistence"]["metrics"]["mae_ratio_to_persistence"] == 1.0
    assert set(models["always_up"]["metrics"]) == {"directional_accuracy"}
    assert 0.0 <= models["gru"]["metrics"]["interval_coverage"] <= 1.0
    assert models["gru"]["seeds"] == [42]
    extra = metrics["extra"]
    assert "reference_protocols_md" not in extra  # a slice is not the protocol series
    tests = extra["direction_tests"]["gru"][0]
    assert 0.0 <= tests["p_value_vs_always_up"] <= 1.0 and tests["days"] == len(pd.read_csv(path / "predictions.csv"))
    assert {r["step"] for r in extra["multi_step"]} == {1, 2}
    assert all(0 <= r["dm_p_better_than_persistence"] <= 1 for r in extra["multi_step"])
    scaler = json.loads((path / "scaler.json").read_text())
    assert scaler["fitted_on"] == "training span" and len(scaler["y_std"]) == 2
    assert scaler["features"] == ["ret", "volume", "range"] and len(scaler["x_mean"]) == 3
    assert sum("always-up" in v for v in extra["verdicts"]) == 2
    assert sum("interval coverage on test" in v for v in extra["verdicts"]) == 2
    # calibration moves the interval, never the point forecast
    for name in calibrated:
        base = models[name.rsplit("_", 1)[0]]["metrics"]
        for key in ("rmse", "mae", "mape", "mase", "directional_accuracy", "mae_ratio_to_persistence"):
            assert models[name]["metrics"][key] == base[key], (name, key)
        assert {"interval_coverage", "interval_score", "pinball_loss"} <= set(models[name]["metrics"])
    assert {"cqr", "aci"} <= {r["model"].rsplit("_", 1)[-1] for r in extra["multi_step"]}
    assert len(extra["calibration"]["cqr_shifts_log_return"]["gru"]) == 2  # one row of shifts per step
    preds_cols = set(pd.read_csv(path / "predictions.csv").columns)
    assert {"gru_cqr_lower", "gru_cqr_upper", "gru_aci_lower", "gru_aci_upper"} <= preds_cols
    fc = extra["forecast_next"]
    assert len(fc["days"]) == 2 and "Not investment advice" in fc["disclaimer"]
    assert all(d["lower"] <= d["forecast"] <= d["upper"] for d in fc["days"])
    preds = pd.read_csv(path / "predictions.csv")
    first_test_day = extra["split"]["test"]["first"]
    assert preds["date"].iloc[0] == first_test_day
    assert np.allclose(preds["persistence"], preds["previous_close"])


def test_same_seed_gives_same_metrics(tiny_run, tmp_path):
    _, first = tiny_run
    assert app.main([*TINY, "--models", "cnn1d", "--runs-dir", str(tmp_path), "--run-id", "b"]) == 0
    a = {m["name"]: m["metrics"] for m in json.loads((first / "metrics.json").read_text())["models"]}
    b = {m["name"]: m["metrics"] for m in json.loads((tmp_path / "stock_forecast" / "b" / "metrics.json")
                                                     .read_text())["models"]}
    # cnn1d was trained second in run a and alone in run b: the seed alone fixes its result
    assert a["cnn1d"] == b["cnn1d"]
    for name in BASELINES:
        assert a[name] == b[name]


def test_cli_reports_bad_input_without_traceback(tmp_path, capsys):
    bad = tmp_path / "prices.csv"
    pd.DataFrame({"Day": ["2020-01-02", "2020-01-03"], "Close": [1.0, 2.0]}).to_csv(bad, index=False)
    assert app.main(["--source", "csv", "--path", str(bad), "--runs-dir", str(tmp_path)]) == 2
    assert "missing column(s) ['Date']" in capsys.readouterr().err
    pd.DataFrame({"Date": pd.bdate_range("2020-01-01", periods=40).strftime("%Y-%m-%d"),
                  "Close": np.linspace(10, 20, 40)}).to_csv(bad, index=False)
    assert app.main(["--source", "csv", "--path", str(bad), "--runs-dir", str(tmp_path)]) == 2
    assert "need at least" in capsys.readouterr().err
    pd.DataFrame({"Date": pd.bdate_range("2020-01-01", periods=300).strftime("%Y-%m-%d"),
                  "Close": np.linspace(10, 20, 300)}).to_csv(bad, index=False)
    assert app.main(["--source", "csv", "--path", str(bad), "--features", "ret,volume", "--runs-dir",
                     str(tmp_path)]) == 2
    assert "feature 'volume' needs a volume column" in capsys.readouterr().err
    assert not (tmp_path / "stock_forecast").exists()  # nothing half-written


def test_cli_yfinance_offline_is_one_clear_line(monkeypatch, tmp_path, capsys):
    yfinance = pytest.importorskip("yfinance")
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pd.DataFrame())
    code = app.main(["--ticker", "AAPL", "--cache-dir", str(tmp_path), "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "AAPL" in err and "--source sample" in err and "Traceback" not in err


@pytest.mark.parametrize("argv, match", [
    (["--source", "yfinance"], "needs --ticker"),
    (["--source", "sample", "--ticker", "AAPL"], "--ticker applies to --source yfinance only"),
    (["--source", "csv"], "needs --path"),
    (["--models", "lstm,transformer"], "--models must be"),
    (["--features", "volume"], "--features must start with 'ret'"),
    (["--interval", "1.5"], "--interval must be in"),
    (["--window", "0"], "--window must be >= 1"),
])
def test_parse_args_rejects_bad_options(argv, match, capsys):
    with pytest.raises(SystemExit):
        app.parse_args(argv)
    assert match in capsys.readouterr().err


def test_parse_args_defaults_and_source_choice():
    assert app.parse_args([]).source == "sample"
    config = app.parse_args(["--ticker", "AAPL", "--start", "2015-01-01"])
    assert config.source == "yfinance" and config.ticker == "AAPL"
    full = app.parse_args(app.FULL_ARGS)
    assert full.seeds == 3 and full.source == "sample" and set(full.models) == {"lstm", "gru", "cnn1d"}
    assert app.parse_args(app.QUICK_ARGS).source == "sample"


def test_volatility_target_end_to_end(tmp_path):
    """--target both: the price protocol and the volatility protocol, one result object each."""
    code = app.main([*TINY, "--models", "gru", "--target", "both", "--runs-dir", str(tmp_path), "--run-id", "v",
                     "--results-file", str(tmp_path / "published.json")])
    assert code == 0
    published = json.loads((tmp_path / "published.json").read_text())
    assert isinstance(published, list) and len(published) == 2
    price, vol = published
    assert price["protocol"].startswith("finance: 70/15/15") and vol["protocol"].startswith("finance volatility")
    models = {m["name"]: m for m in vol["models"]}
    assert set(models) == {"vol_gru", "constant", "ewma", "garch", "gjr_garch", "har_parkinson"}
    assert models["vol_gru"]["kind"] == "deep" and models["garch"]["kind"] == "baseline"
    for m in models.values():
        for key in ("qlike_parkinson", "qlike_r2", "mse_parkinson", "mse_r2", "var1_violation_rate",
                    "var5_kupiec_p", "var5_christoffersen_p"):
            assert m["metrics"][key] is not None and np.isfinite(m["metrics"][key]), (m["name"], key)
    dm = vol["extra"]["diebold_mariano"]["gru"]
    for side in ("reference", "baseline"):
        assert set(dm[side]) == {"qlike_parkinson", "qlike_r2", "mse_parkinson", "mse_r2"}
        assert all(0.0 <= t["p_better_max_over_seeds"] <= 1.0 for t in dm[side].values())
    assert {t["against"] for t in dm["reference"].values()} <= {"constant", "ewma", "garch", "gjr_garch"}
    assert "reference_protocols_md" not in vol["extra"]  # a slice is not the protocol series
    run = tmp_path / "stock_forecast" / "v"
    table = pd.read_csv(run / "volatility_forecasts.csv")
    assert len(table) == vol["extra"]["split"]["test_days"] and (table["gru"] > 0).all()
    assert (run / "figures" / "volatility_test_span.png").is_file() and (run / "model_vol_gru.keras").is_file()


def test_the_market_day_map_shows_the_gru_state_beside_the_input_windows(tiny_run):
    _, path = tiny_run
    record = json.loads((path / "maps" / "market_day_map.json").read_text())
    learned, raw = record["rows"]
    assert (learned["space"], learned["method"], raw["space"]) == ("learned", "pca", "raw")
    assert learned["n_features"] <= 4 and raw["n_features"] == 8 * 3       # 4 GRU units; 8-day windows x 3 features
    predictions = pd.read_csv(path / "predictions.csv")
    assert record["n_total"] == len(predictions) and set(record["classes"]) == {"up", "down or flat"}
    assert sum(record["classes"].values()) == record["n_points"]
    assert (path / "figures" / "market_day_map.png").stat().st_size > 1000
    assert "next close" in (path / "figures" / "market_day_map.html").read_text(encoding="utf-8")
