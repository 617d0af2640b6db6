"""stock_forecast --tune: the search sees only the rows before the test span, logs its trials, and the
retrained best config is added beside the default row."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from applications.stock_forecast import main as app

TINY = ["--learned-maps", "pca", "--source", "sample", "--start", "2017-01-01", "--window", "8", "--units", "4", "--epochs", "1",
        "--seeds", "1", "--batch-size", "128", "--models", "cnn1d", "--log-level", "WARNING"]


@pytest.mark.slow  # ~25 s of CPU (a whole tiny case study plus 2 trials); the objective is tested fast below
def test_tune_never_sees_the_test_span_and_adds_the_tuned_row(runs_dir, monkeypatch):
    seen = {}
    original = app.tuning_objective

    def spy(config, frame, **kwargs):
        objective, span = original(config, frame, **kwargs)
        seen["last_date"] = pd.Timestamp(frame["date"].max())
        seen["rows"] = len(frame)

        def wrapped(hp):
            seen.setdefault("calls", []).append(dict(hp))
            return objective(hp)

        return wrapped, span

    monkeypatch.setattr(app, "tuning_objective", spy)
    assert app.main([*TINY, "--tune", "random", "--trials", "2", "--runs-dir", str(runs_dir), "--run-id", "t"]) == 0
    run = runs_dir / "stock_forecast" / "t"
    metrics = json.loads((run / "metrics.json").read_text())
    extra = metrics["extra"]
    test_first = pd.Timestamp(extra["split"]["test"]["first"])
    # the search got exactly the training + validation rows, none on or after the first test day
    assert seen["last_date"] < test_first
    assert seen["last_date"] == pd.Timestamp(extra["split"]["validation"]["last"])
    assert seen["rows"] == extra["split"]["train"]["rows"] + extra["split"]["validation"]["rows"]
    assert len(seen["calls"]) == 2
    trials = pd.read_csv(run / "tuning" / "trials.csv")
    assert len(trials) == 2 and (trials["status"] == "COMPLETED").all() and np.isfinite(trials["score"]).all()
    assert {p.name for p in app.SEARCH_SPACE} <= set(trials.columns)
    tuning = extra["tuning"]
    assert tuning["method"] == "random" and tuning["trials"] == 2 and tuning["model"] == "cnn1d"
    assert tuning["best_val_score"] == pytest.approx(trials["score"].min())
    assert tuning["validation_span"]["last"] < extra["split"]["test"]["first"]
    models = {m["name"]: m for m in metrics["models"]}
    assert models["cnn1d_tuned"]["kind"] == "deep" and "cnn1d" in models
    tuned = models["cnn1d_tuned"]["metrics"]
    assert tuned["mae_ratio_to_persistence"] == pytest.approx(tuned["mae"] / models["persistence"]["metrics"]["mae"])
    assert (run / "figures" / "tuning_scores.png").stat().st_size > 1000


def test_tune_arguments_parse_and_default_is_off():
    config = app.parse_args(["--tune", "bayes", "--trials", "3"])
    assert config.tune == "bayes" and config.trials == 3
    assert app.parse_args([]).tune is None
    with pytest.raises(SystemExit):
        app.parse_args(["--tune", "random", "--trials", "0"])


def test_objective_trains_on_the_training_span_and_scores_every_validation_day(monkeypatch):
    """No TensorFlow: recording stand-ins for training and prediction show which windows do what."""
    from applications.stock_forecast import models

    n, train_end, horizon = 200, 140, 2
    close = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, n)))
    frame = pd.DataFrame({"date": pd.bdate_range("2020-01-01", periods=n), "close": close})
    seen = {}

    def fake_train(kind, *, x_train, y_train, x_val, y_val, horizon, quantiles, settings, seed, **kwargs):
        seen.update(kind=kind, x_train=x_train.shape, x_val=x_val.shape, units=settings.units, l2=settings.l2)
        return "model", {}

    def fake_predict(model, x):
        seen["scored"] = x.shape
        return np.zeros((len(x), horizon, 3))

    monkeypatch.setattr(models, "train_forecaster", fake_train)
    monkeypatch.setattr(models, "predict_quantiles", fake_predict)
    config = app.parse_args(["--models", "cnn1d,lstm", "--horizon", str(horizon)])
    objective, span = app.tuning_objective(config, frame, train_end=train_end)
    score = objective({"learning_rate": 1e-3, "batch_size": 32, "units": 16, "window": 10, "dropout": 0.1,
                       "l2": 1e-4})
    assert np.isfinite(score) and score > 0
    assert (seen["kind"], seen["units"], seen["l2"]) == ("cnn1d", 16, 1e-4)
    assert seen["x_train"][1] == 10 and seen["x_train"][0] <= train_end - 10 - horizon + 1
    assert seen["x_val"][0] == n - train_end - horizon + 1  # validation windows whose targets stay inside
    assert seen["scored"][0] == span["days"] == n - train_end  # every validation day is scored
    assert span["first"] == str(frame["date"][train_end].date())
    with pytest.raises(ValueError, match="train_end must lie inside"):
        app.tuning_objective(config, frame, train_end=n)
