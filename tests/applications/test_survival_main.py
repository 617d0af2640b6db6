"""End to end: a tiny run on a slice of WHAS500 writes every artifact, holds the deep models and
every baseline, fits preprocessing on training folds only, is reproducible, keeps patient rows out
of the artifacts, and its saved model scores new patients with --predict."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from applications.survival import main as app
from applications.survival.data import load_dataset
from applications.survival.protocol import folds

TINY = ["--learned-maps", "pca", "--dataset", "whas500", "--max-rows", "200", "--folds", "2", "--seeds", "1", "--epochs", "2",
        "--patience", "1", "--rsf-trees", "3", "--importance-repeats", "1", "--hidden-units", "8"]
NAME = "whas500-slice200"
MODELS = {"deepsurv": "deep", "horizon_mlp": "deep", "logistic_hazard": "deep", "deephit": "deep",
          "kaplan_meier": "baseline", "cox_ph": "baseline",
          "random_survival_forest": "baseline", "logistic_regression_h": "baseline"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """One tiny run that records the rows every fold preprocessor was fitted on."""
    from applications.survival.features import SurvivalPreprocessor

    root = tmp_path_factory.mktemp("runs")
    fitted: list[set[int]] = []
    original = SurvivalPreprocessor.fit

    def recording_fit(self, frame):
        fitted.append(set(frame.index.tolist()))
        return original(self, frame)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SurvivalPreprocessor, "fit", recording_fit)
        assert app.main([*TINY, "--runs-dir", str(root), "--run-id", "a"]) == 0
    return {"a": root / "survival" / "a", "fitted": fitted, "root": root}


def test_run_writes_every_artifact(tiny):
    run = tiny["a"]
    for name in ("config.json", "environment.json", "data.json", "metrics.json", "results.md", "results.csv",
                 f"deepsurv_{NAME}.keras", f"deepsurv_{NAME}.json", f"deepsurv_{NAME}.preprocessor.pkl",
                 f"history_{NAME}_deepsurv_fold1.csv", f"history_{NAME}_horizon_mlp_fold1.csv"):
        assert (run / name).is_file(), name
    for fig in ("km_risk_terciles", "calibration_horizon", "permutation_importance", "learning_curves_deepsurv",
                "learning_curves_horizon_mlp", "learning_curves_logistic_hazard", "learning_curves_deephit"):
        assert (run / "figures" / f"{NAME}_{fig}.png").stat().st_size > 1000, fig
    assert (run / "figures" / "calibration_h.png").stat().st_size > 1000


def test_metrics_hold_the_deep_models_and_every_baseline(tiny):
    metrics = json.loads((tiny["a"] / "metrics.json").read_text())
    assert metrics["app"] == "survival" and metrics["dataset"]["name"] == NAME
    kinds = {m["name"]: m["kind"] for m in metrics["models"]}
    assert kinds == MODELS
    by_name = {m["name"]: m["metrics"] for m in metrics["models"]}
    for name in ("deepsurv", "logistic_hazard", "deephit", "kaplan_meier", "cox_ph", "random_survival_forest"):
        assert set(by_name[name]) == {"harrell_c", "uno_c", "ibs", "auc_h", "accuracy_h", "d_calibration_error"}, name
        assert 0 < by_name[name]["ibs"] < 0.5 and 0 <= by_name[name]["d_calibration_error"] < 1, name
    calibration = metrics["extra"]["calibration_h"]["models"]
    assert {"cox_ph", "random_survival_forest"} < set(calibration) and len(calibration) == 3
    for rows in calibration.values():
        # the pooled test patients of the 2 folds run (2 x 200 / 5)
        assert sum(rows["patients"]) == 80 and all(0 <= p <= 1 for p in rows["predicted"] + rows["observed"])
    assert "ibs" not in by_name["logistic_regression_h"] and "ibs" not in by_name["horizon_mlp"]
    assert by_name["kaplan_meier"]["harrell_c"] == 0.5
    assert metrics["extra"]["logrank_p_risk_terciles"] >= 0
    assert metrics["extra"]["permutation_importance"]["drop_in_harrell_c"]


def test_same_seed_gives_the_same_deepsurv_and_survival_curves():
    from applications.survival.models import NetSettings, train_deepsurv, train_horizon_mlp

    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4)).astype("float32")
    time = rng.integers(1, 100, 120).astype(float)
    event = (rng.random(120) < 0.6).astype(int)
    settings = NetSettings(hidden_units=(8,), epochs=3, patience=1)
    runs = [train_deepsurv(x, time, event, settings=settings, seed=7) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].risk(x), runs[1].risk(x))
    np.testing.assert_array_equal(runs[0].survival(x, [10, 50]), runs[1].survival(x, [10, 50]))
    hz = [train_horizon_mlp(x, time, event, horizon=40.0, settings=settings, seed=7).predict(x) for _ in range(2)]
    np.testing.assert_array_equal(hz[0], hz[1])


@pytest.mark.slow
def test_same_seed_gives_the_same_metrics_end_to_end(tiny):
    root = tiny["root"]
    assert app.main([*TINY, "--runs-dir", str(root), "--run-id", "b"]) == 0
    a = json.loads((tiny["a"] / "metrics.json").read_text())["models"]
    b = json.loads((root / "survival" / "b" / "metrics.json").read_text())["models"]
    assert [m["metrics"] for m in a] == [m["metrics"] for m in b]


def test_fold_preprocessing_was_fitted_on_training_rows_only(tiny):
    data = app._subsample(load_dataset("whas500"), 200, 42)
    expected = [set(train.tolist()) for train, _ in folds(data.event)[:2]]
    assert tiny["fitted"] == expected
    for (_, test), rows in zip(folds(data.event), tiny["fitted"]):
        assert not rows & set(test.tolist())


def test_artifacts_hold_no_patient_rows(tiny):
    data = app._subsample(load_dataset("whas500"), 200, 42)
    for path in tiny["a"].rglob("*.csv"):
        frame = pd.read_csv(path)
        assert len(frame) < 50 and not set(frame.columns) & set(data.covariates.columns), path
    info = json.loads((tiny["a"] / "data.json").read_text())[0]
    assert info["rows"] == 200 and "fingerprint" in info


def test_predict_scores_new_patients_with_the_saved_run(tiny, tmp_path):
    data = load_dataset("whas500")
    new = data.covariates.head(5).assign(patient=[f"p{i}" for i in range(5)])
    path = tmp_path / "new.csv"
    new.to_csv(path, index=False)
    out = tmp_path / "scores.csv"
    assert app.main(["--predict", str(path), "--model-dir", str(tiny["a"]), "--days", "30", "90", "180",
                     "--output", str(out), "--id-column", "patient"]) == 0
    scores = pd.read_csv(out)
    assert scores["patient"].tolist() == [f"p{i}" for i in range(5)]
    surv = scores[["survival_30d", "survival_90d", "survival_180d"]].to_numpy()
    assert np.all((surv >= 0) & (surv <= 1)) and np.all(np.diff(surv, axis=1) <= 0)
    assert np.isfinite(scores["risk_score"]).all()


def test_predict_errors_are_one_clear_line(tiny, tmp_path, capsys):
    path = tmp_path / "new.csv"
    load_dataset("whas500").covariates.head(3).drop(columns=["age"]).to_csv(path, index=False)
    assert app.main(["--predict", str(path), "--model-dir", str(tiny["a"])]) == 2
    assert "['age'] are missing" in capsys.readouterr().err
    assert app.main(["--predict", str(path), "--model-dir", str(tmp_path / "nowhere")]) == 2
    assert "model directory not found" in capsys.readouterr().err


def test_bad_csv_on_the_command_line_exits_2_with_the_fix(tmp_path, capsys, runs_dir):
    path = tmp_path / "cohort.csv"
    pd.DataFrame({"d": [-1.0] + [5.0] * 29, "e": [1, 0] * 15, "x": range(30)}).to_csv(path, index=False)
    argv = ["--source", "csv", "--path", str(path), "--duration-column", "d", "--event-column", "e",
            "--runs-dir", str(runs_dir)]
    assert app.main(argv) == 2
    assert "positive and finite" in capsys.readouterr().err


def test_discrete_time_options_and_bad_grids_are_clear_errors(tmp_path, capsys, runs_dir):
    with pytest.raises(SystemExit):
        app.parse_args(["--time-bins", "1"])
    with pytest.raises(SystemExit):
        app.parse_args(["--deephit-sigma", "0"])
    config = app.parse_args(["--models", "logistic_hazard", "--time-bins", "5", "--deephit-alpha", "0.2"])
    assert config.models == ("logistic_hazard",) and config.time_bins == 5 and config.deephit_alpha == 0.2
    base = ["--dataset", "whas500", "--max-rows", "100", "--folds", "2", "--seeds", "1", "--epochs", "1",
            "--rsf-trees", "0", "--models", "logistic_hazard", "--runs-dir", str(runs_dir)]
    assert app.main([*base, "--time-bins", "500"]) == 2
    assert "distinct event times" in capsys.readouterr().err
    assert app.main([*base, "--horizon-days", "100000"]) == 2
    assert "beyond the last event time" in capsys.readouterr().err
    path = tmp_path / "tied.csv"   # 22 of 30 events on day 30: both quantile edges are day 30, one bin
    pd.DataFrame({"d": [10.0] * 8 + [30.0] * 22 + [5.0 + 2 * i for i in range(30)], "e": [1] * 30 + [0] * 30,
                  "x": range(60)}).to_csv(path, index=False)
    assert app.main(["--source", "csv", "--path", str(path), "--duration-column", "d", "--event-column", "e",
                     "--folds", "2", "--seeds", "1", "--epochs", "1", "--rsf-trees", "0", "--horizon-days", "30",
                     "--models", "logistic_hazard", "--time-bins", "2", "--runs-dir", str(runs_dir)]) == 2
    assert "fall in one bin" in capsys.readouterr().err


def test_parse_args_checks_options():
    with pytest.raises(SystemExit):
        app.parse_args(["--source", "csv", "--path", "x.csv"])
    with pytest.raises(SystemExit):
        app.parse_args(["--predict", "x.csv"])
    config = app.parse_args(["--dataset", "gbsg2", "whas500", "--days", "7", "--horizon-days", "100"])
    assert config.dataset == ("gbsg2", "whas500") and config.days == (7.0,) and config.horizon_days == 100
    assert app.parse_args(app.QUICK_ARGS).folds == 2 and app.parse_args(app.FULL_ARGS).folds == 5


def test_the_patient_map_shows_the_logistic_hazard_hidden_layer_by_observed_outcome(tiny):
    run = tiny["a"]
    record = json.loads((run / "maps" / f"{NAME}_patient_map.json").read_text())
    learned, raw = record["rows"]
    assert "logistic_hazard" in record["learned"] and learned["n_features"] <= 8      # --hidden-units 8
    assert raw["space"] == "raw" and raw["n_features"] >= 10           # WHAS500's prepared covariates
    assert set(record["classes"]) <= {"event by H", "event-free at H", "censored before H"}
    assert record["n_total"] == 40                     # fold 1's test part: a fifth of the 200 patients (5-fold protocol)
    assert (run / "figures" / f"{NAME}_patient_map.png").stat().st_size > 1000
