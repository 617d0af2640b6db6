"""route_demand --tune: the search sees only the days before the first test origin, logs its trials,
and the retrained best config is added beside the default row."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from applications.route_demand import main as app

TINY = ["--learned-maps", "pca", "--top-routes", "3", "--origins", "2", "--epochs", "1", "--seeds", "1", "--window", "14", "--val-days", "21",
        "--units", "8", "--batch-size", "256", "--models", "rnn", "--skip-autoets"]


def test_tune_uses_only_days_before_the_first_origin_and_logs_trials(runs_dir, monkeypatch):
    seen = {}
    original = app.tuning_objective

    def spy(config, history, calendar, **kwargs):
        objective, val_origins = original(config, history, calendar, **kwargs)
        seen["days"] = history.shape[1]
        seen["last_target"] = int(val_origins.max()) + config.horizon

        def wrapped(hp):
            seen.setdefault("calls", []).append(dict(hp))
            return objective(hp)

        return wrapped, val_origins

    monkeypatch.setattr(app, "tuning_objective", spy)
    assert app.main([*TINY, "--tune", "random", "--trials", "2", "--runs-dir", str(runs_dir), "--run-id", "t"]) == 0
    run = runs_dir / "route_demand" / "t"
    metrics = json.loads((run / "metrics.json").read_text())
    text = json.dumps(metrics)
    extra = metrics["results"][0]["extra"] if "results" in metrics else metrics.get("extra", {})
    test_origins = pd.to_datetime(extra["origins"])
    first_origin_day = (test_origins[0] - pd.Timestamp("2013-01-01")).days
    # the search never received a day at or after the first test origin, nor scored past it
    assert seen["days"] == first_origin_day
    assert seen["last_target"] <= first_origin_day
    assert len(seen["calls"]) == 2
    trials = pd.read_csv(run / "tuning" / "trials.csv")
    assert len(trials) == 2 and (trials["status"] == "COMPLETED").all() and np.isfinite(trials["score"]).all()
    assert {p.name for p in app.SEARCH_SPACE} <= set(trials.columns)
    tuning = extra["tuning"]
    assert tuning["method"] == "random" and tuning["trials"] == 2
    assert tuning["best_val_score"] == pytest.approx(trials["score"].min())
    assert all(d < extra["origins"][0] for d in tuning["validation_origins"])
    assert '"rnn_tuned"' in text and '"rnn"' in text and '"rnn_tuned_cqr"' in text
    assert (run / "figures" / "tuning_scores.png").exists()


def test_tune_arguments_parse():
    config = app.parse_args(["--tune", "bayes", "--trials", "3"])
    assert config.tune == "bayes" and config.trials == 3
    assert app.parse_args([]).tune is None
