"""survival --tune: a nested search that sees only each outer fold's training patients, logs its trials,
and adds the retrained best DeepSurv beside the default row."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from applications.survival import main as app
from applications.survival.protocol import folds

TINY = ["--learned-maps", "pca", "--dataset", "whas500", "--max-rows", "200", "--folds", "2", "--seeds", "1", "--epochs", "2",
        "--patience", "1", "--rsf-trees", "0", "--importance-repeats", "1", "--hidden-units", "8"]


@pytest.mark.slow  # ~30 s of CPU (a whole tiny case study plus 4 trials); the objective is tested fast below
def test_nested_tune_sees_only_training_patients_and_adds_the_tuned_row(runs_dir, monkeypatch):
    passed, calls = [], []
    original = app.tuning_objective

    def spy(config, train_part, **kwargs):
        passed.append(train_part)
        objective, sizes = original(config, train_part, **kwargs)

        def wrapped(hp):
            calls.append(dict(hp))
            return objective(hp)

        return wrapped, sizes

    monkeypatch.setattr(app, "tuning_objective", spy)
    argv = [*TINY, "--tune", "random", "--trials", "2", "--runs-dir", str(runs_dir), "--run-id", "t"]
    assert app.main(argv) == 0
    # each outer fold's search got exactly that fold's training patients, never one of its test patients
    data = app._load(app.parse_args(argv))[0]
    splits = folds(data.event)[:2]
    assert len(passed) == 2 and len(calls) == 4
    for part, (train, test) in zip(passed, splits):
        assert part.n == len(train) and part.n + len(test) == data.n
        np.testing.assert_array_equal(part.time, data.time[train])
        pd.testing.assert_frame_equal(part.covariates, data.covariates.iloc[train].reset_index(drop=True))
    run = runs_dir / "survival" / "t"
    metrics = json.loads((run / "metrics.json").read_text())
    models = {m["name"]: m for m in metrics["models"]}
    assert models["deepsurv_tuned"]["kind"] == "deep" and "deepsurv" in models
    assert 0.0 <= models["deepsurv_tuned"]["metrics"]["harrell_c"] <= 1.0
    trials = pd.read_csv(run / "tuning" / "trials.csv")
    assert len(trials) == 4 and sorted(trials["fold"].unique()) == [1, 2]
    assert (trials["status"] == "COMPLETED").all() and np.isfinite(trials["score"]).all()
    assert {p.name for p in app.SEARCH_SPACE} <= set(trials.columns)
    tuning = metrics["extra"]["tuning"]
    assert tuning["method"] == "random" and [f["fold"] for f in tuning["per_fold"]] == [1, 2]
    for fold in tuning["per_fold"]:  # each fold's best is its highest inner-validation C
        assert fold["best_val_score"] == pytest.approx(trials.loc[trials["fold"] == fold["fold"], "score"].max())
    assert (run / "figures" / "tuning_scores.png").stat().st_size > 1000


def test_tuned_settings_taper_the_hidden_layers():
    config = app.parse_args(["--tune", "grid", "--trials", "3"])
    assert config.tune == "grid" and config.trials == 3 and app.parse_args([]).tune is None
    hp = {"units": 128, "layers": 2, "dropout": 0.1, "l2": 0.0, "learning_rate": 1e-3, "batch_size": 256}
    assert app._tuned_settings(config, hp).hidden_units == (128, 64)
    assert app._tuned_settings(config, {**hp, "units": 32, "layers": 3}).hidden_units == (32, 16, 8)


def _cohort(n: int = 120) -> app.SurvivalData:
    rng = np.random.default_rng(0)
    covariates = pd.DataFrame({"num_age": rng.normal(60, 10, n), "fac_sex": rng.choice(["f", "m"], n)})
    time = rng.exponential(100, n) + 1
    event = (rng.random(n) < 0.6).astype(int)
    return app.SurvivalData(name="toy", covariates=covariates, time=time, event=event, numeric=("num_age",),
                            categorical=("fac_sex",))


def test_objective_trains_on_an_inner_part_and_scores_the_rest(monkeypatch):
    """No TensorFlow: a recording stand-in for DeepSurv shows which patients train and which score."""
    from applications.survival import models

    part, trained, scored = _cohort(), [], []

    class Fake:
        def risk(self, x):
            scored.append(len(x))
            return x[:, 0]

    def fake_train(x, time, event, *, settings, seed, verbose=0):
        trained.append((len(x), settings.hidden_units, seed))
        return Fake()

    monkeypatch.setattr(models, "train_deepsurv", fake_train)
    config = app.parse_args(["--seed", "7"])
    objective, sizes = app.tuning_objective(config, part)
    hp = {"units": 64, "layers": 2, "dropout": 0.1, "l2": 0.0, "learning_rate": 1e-3, "batch_size": 256}
    score = objective(hp)
    assert 0.0 <= score <= 1.0
    assert trained == [(sizes["fit"], (64, 32), 7)] and scored == [sizes["validation"]]
    assert sizes["fit"] + sizes["validation"] == part.n
    assert sizes["validation"] == pytest.approx(app.TUNE_VALIDATION * part.n, abs=1)


def test_discrete_objective_scores_the_inner_validation_ibs_with_the_trial_grid(monkeypatch):
    """No TensorFlow: a stand-in logistic-hazard network records its options; the score is an IBS."""
    from applications.survival import models

    part, trained = _cohort(), []

    class Fake:
        def survival(self, x, times):
            return np.tile(np.exp(-np.asarray(times) / 100.0), (len(x), 1))

    def fake_train(x, time, event, *, name, time_bins, settings, seed, alpha, sigma, verbose=0):
        trained.append((len(x), name, time_bins, alpha))
        return Fake()

    monkeypatch.setattr(models, "train_discrete", fake_train)
    config = app.parse_args(["--tune-model", "deephit", "--seed", "7"])
    objective, sizes = app.tuning_objective(config, part)
    hp = {"units": 64, "layers": 2, "dropout": 0.1, "l2": 0.0, "learning_rate": 1e-3, "batch_size": 256,
          "time_bins": 10, "deephit_alpha": 0.3, "deephit_sigma": 0.1}
    ibs = objective(hp)
    assert 0.0 < ibs < 0.5
    assert trained == [(sizes["fit"], "deephit", 10, 0.3)]
    assert app._tuning_score("deephit") == ("inner-validation IBS", "min")
    assert {"time_bins", "deephit_alpha", "deephit_sigma"} <= {p.name for p in app.SEARCH_SPACES["deephit"]}
    with pytest.raises(SystemExit):
        app.parse_args(["--tune-model", "horizon_mlp"])


@pytest.mark.slow  # a tiny case study plus 4 logistic-hazard trials
def test_nested_tune_of_logistic_hazard_adds_its_tuned_row(runs_dir):
    argv = [*TINY, "--models", "logistic_hazard", "--tune", "random", "--trials", "2", "--tune-model",
            "logistic_hazard", "--runs-dir", str(runs_dir), "--run-id", "lh"]
    assert app.main(argv) == 0
    metrics = json.loads((runs_dir / "survival" / "lh" / "metrics.json").read_text())
    models = {m["name"]: m for m in metrics["models"]}
    assert 0.0 < models["logistic_hazard_tuned"]["metrics"]["ibs"] < 0.5
    tuning = metrics["extra"]["tuning"]
    assert tuning["model"] == "logistic_hazard" and tuning["score"] == "inner-validation IBS"
    trials = pd.read_csv(runs_dir / "survival" / "lh" / "tuning" / "trials.csv")
    for fold in tuning["per_fold"]:  # minimised: each fold's best is its lowest inner-validation IBS
        assert fold["best_val_score"] == pytest.approx(trials.loc[trials["fold"] == fold["fold"], "score"].min())
