"""`deepcases fit` then `deepcases predict`, end to end on tiny tables, one test per task."""

import json

import numpy as np
import pandas as pd
import pytest

from shared import cli

RUN_FILES = ("config.json", "environment.json", "data.json", "metrics.json", "results.md", "results.csv",
             "schema.json", "preprocessing.json", "inferred_columns.md", "model.keras", "history.csv",
             "history_fold0.csv", "folds.csv", "oof_predictions.csv", "figures/learning_curves.png",
             "figures/comparison.png")


def _fit(args, runs_dir, run_id="t"):
    assert cli.main(["fit", *args, "--runs-dir", str(runs_dir), "--run-id", run_id]) == 0
    runs = list(runs_dir.glob(f"*/{run_id}"))
    assert len(runs) == 1
    run = runs[0]
    for name in RUN_FILES:
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    return run, metrics, {m["name"]: m["kind"] for m in metrics["models"]}


def _predict(run, frame, tmp_path, *extra):
    data, out = tmp_path / "new.csv", tmp_path / "predictions.csv"
    frame.to_csv(data, index=False)
    code = cli.main(["predict", "--run", str(run), "--data", str(data), "--out", str(out), *extra])
    return code, (pd.read_csv(out) if code == 0 else None)


def test_classification_fit_then_predict_with_schema_checks(tabular_csv, tables, runs_dir, tmp_path, capsys):
    run, metrics, kinds = _fit(["--data", str(tabular_csv), "--target", "label", "--task", "classification",
                                *tables.tiny], runs_dir)
    assert kinds == {"mlp": "deep", "majority": "baseline", "logistic_regression": "baseline"}
    assert run.parent.name == "fit_customers" and metrics["app"] == "fit_customers"
    assert (run / "figures/confusion_matrix.png").is_file() and (run / "figures/roc_curves.png").is_file()
    for model in metrics["models"]:
        assert set(model["metrics"]) == {"accuracy", "macro_f1", "roc_auc"} and "accuracy" in model["std"]
    majority = next(m for m in metrics["models"] if m["name"] == "majority")["metrics"]
    assert majority["roc_auc"] == pytest.approx(0.5)
    out = capsys.readouterr().out
    assert "Inferred columns" in out and "| signup | datetime | feature |" in out and "deepcases predict" in out
    schema = json.loads((run / "schema.json").read_text())
    assert schema["classes"] == ["no", "yes"]
    folds = pd.read_csv(run / "folds.csv")
    assert len(folds) == 2 * 3 and set(folds["fold"]) == {0, 1}

    new = tables.tabular(n=6, seed=9).drop(columns=["label"]).assign(extra=1)
    new.loc[0, "color"] = "purple"                                         # never seen in training
    code, predictions = _predict(run, new, tmp_path)
    assert code == 0
    assert list(predictions.columns) == ["customer_id", "prediction", "probability_no", "probability_yes"]
    assert predictions["customer_id"].tolist() == new["customer_id"].tolist()
    assert set(predictions["prediction"]) <= {"no", "yes"}
    np.testing.assert_allclose(predictions[["probability_no", "probability_yes"]].sum(axis=1), 1.0, atol=1e-6)
    out = capsys.readouterr().out
    assert "unknown bucket: color: ['purple']" in out and "not seen in training: ['extra']" in out

    assert _predict(run, new, tmp_path, "--strict")[0] == 2
    assert "does not use: ['comment', 'constant', 'extra']" in capsys.readouterr().err
    assert _predict(run, new.drop(columns=["extra", "comment", "constant"]), tmp_path, "--strict")[0] == 2
    assert "categories never seen in training: color: ['purple']" in capsys.readouterr().err
    assert _predict(run, new.drop(columns=["x1"]), tmp_path)[0] == 2
    assert "lacks column(s) ['x1']" in capsys.readouterr().err
    bad = new.astype({"x2": object})
    bad.loc[1, "x2"] = "twelve"
    assert _predict(run, bad, tmp_path)[0] == 2
    assert "'x2' was numeric in training" in capsys.readouterr().err
    assert cli.main(["predict", "--run", str(tmp_path), "--data", str(tabular_csv)]) == 2
    assert "not a finished `deepcases fit` run" in capsys.readouterr().err


def test_regression_same_seed_gives_the_same_numbers(tables, runs_dir, tmp_path):
    path = tmp_path / "amounts.csv"
    tables.tabular().drop(columns=["label"]).to_csv(path, index=False)
    args = ["--data", str(path), "--target", "amount", "--task", "regression", *tables.tiny]
    run, first, kinds = _fit(args, runs_dir, "a")
    assert kinds == {"mlp": "deep", "mean": "baseline", "ridge": "baseline"}
    _, second, _ = _fit(args, runs_dir, "b")
    assert [m["metrics"] for m in first["models"]] == [m["metrics"] for m in second["models"]]
    ridge = next(m for m in first["models"] if m["name"] == "ridge")["metrics"]
    mean = next(m for m in first["models"] if m["name"] == "mean")["metrics"]
    assert ridge["rmse"] < 0.5 * mean["rmse"]                                 # the target is nearly linear
    assert (run / "figures/residuals.png").is_file()
    code, predictions = _predict(run, tables.tabular(n=5, seed=4), tmp_path)  # target present: ignored
    assert code == 0 and np.isfinite(predictions["prediction"]).all() and len(predictions) == 5


def test_survival_fit_uses_the_cox_loss_and_predicts_survival_curves(tables, runs_dir, tmp_path):
    path = tmp_path / "patients.csv"
    tables.survival().to_csv(path, index=False)
    run, metrics, kinds = _fit(["--data", str(path), "--target", "days", "--event-column", "died",
                                "--task", "survival", *tables.tiny], runs_dir)
    assert kinds == {"deepsurv": "deep", "kaplan_meier": "baseline", "cox_ph": "baseline"}
    scores = {m["name"]: m["metrics"] for m in metrics["models"]}
    assert scores["kaplan_meier"]["harrell_c"] == pytest.approx(0.5)
    assert scores["cox_ph"]["harrell_c"] > 0.6                                # risk depends on x1
    assert (run / "figures/km_by_risk_group.png").is_file()
    state = json.loads((run / "preprocessing.json").read_text())
    assert state["task"] == "survival" and len(state["baseline"]["times"]) > 0
    code, predictions = _predict(run, tables.survival(n=8, seed=5).drop(columns=["days", "died"]), tmp_path)
    assert code == 0
    surv = predictions.filter(like="survival_at_").to_numpy()
    assert surv.shape == (8, 3) and ((surv >= 0) & (surv <= 1)).all()
    assert (np.diff(surv, axis=1) <= 1e-12).all()                            # curves never rise


def test_forecast_folds_are_time_ordered_and_predict_continues_the_series(tables, runs_dir, tmp_path):
    path = tmp_path / "sales.csv"
    frame = tables.series()
    frame.to_csv(path, index=False)
    run, metrics, kinds = _fit(["--data", str(path), "--target", "sales", "--time-column", "date",
                                "--task", "forecast", "--window", "7", "--horizon", "2", *tables.tiny], runs_dir)
    assert kinds == {"rnn": "deep", "naive": "baseline", "seasonal_naive": "baseline"}
    assert "walk-forward" in metrics["protocol"] and "season 7" in metrics["protocol"]
    scores = {m["name"]: m["metrics"] for m in metrics["models"]}
    assert scores["seasonal_naive"]["mae"] < scores["naive"]["mae"]          # the series is weekly
    oof = pd.read_csv(run / "oof_predictions.csv", parse_dates=["date"])
    first, second = oof[oof["fold"] == 0], oof[oof["fold"] == 1]
    assert first["date"].max() < second["date"].min()
    assert (run / "figures/forecast_last_fold.png").is_file()
    code, predictions = _predict(run, frame.tail(10), tmp_path)
    assert code == 0
    assert pd.to_datetime(predictions["date"]).tolist() == list(pd.date_range("2021-05-01", periods=2, freq="D"))
    assert np.isfinite(predictions["prediction"]).all()
    assert _predict(run, frame.tail(3), tmp_path)[0] == 2                     # shorter than the window


def test_text_fit_from_parquet_uses_the_nlp_family_and_predicts_labels(tables, runs_dir, tmp_path):
    path = tmp_path / "reviews.parquet"
    tables.text().to_parquet(path, index=False)
    run, metrics, kinds = _fit(["--data", str(path), "--target", "sentiment", "--text-column", "review",
                                "--task", "text", *tables.tiny], runs_dir)
    assert kinds == {"text_classifier": "deep", "majority": "baseline", "tfidf_logistic_regression": "baseline"}
    assert run.parent.name == "fit_reviews"
    scores = {m["name"]: m["metrics"] for m in metrics["models"]}
    assert scores["tfidf_logistic_regression"]["accuracy"] > 0.9            # the words give the label away
    new = pd.DataFrame({"review": ["great superb fun film", "", "awful dull plot"]})
    code, predictions = _predict(run, new, tmp_path)
    assert code == 0 and set(predictions["prediction"]) <= {"neg", "pos"} and len(predictions) == 3


@pytest.mark.slow   # loads the pretrained encoder for every fold and the final model
def test_text_fit_with_the_pretrained_encoder_then_predict(tables, runs_dir, tmp_path):
    from shared.models import pretrained_text as pt

    if not all((pt.pretrained_dir() / f).is_file() for f in pt.REQUIRED_FILES):
        pytest.skip("pretrained weights not installed; run data_scripts/fetch_pretrained_text.py")
    path = tmp_path / "reviews.csv"
    tables.text().to_csv(path, index=False)
    run, metrics, kinds = _fit(["--data", str(path), "--target", "sentiment", "--text-column", "review",
                                "--task", "text", "--text-encoder", "minilm", *tables.tiny], runs_dir)
    assert kinds["minilm_frozen"] == "deep"
    new = pd.DataFrame({"review": ["great superb fun film", "awful dull plot"]})
    code, predictions = _predict(run, new, tmp_path)
    assert code == 0 and len(predictions) == 2
