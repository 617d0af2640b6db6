"""`deepcases fit --tune`: a search nested in the folds that never hands a fold's test rows to its objective."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import shared.tuning
from shared import cli
from shared.fit import FitConfig
from shared.fit.tasks import ClassificationRunner
from shared.fit.tuning import SEARCH_SPACE, apply, inner_split, space_for
from shared.report import build_report

TINY = ["--folds", "2", "--epochs", "1", "--hidden-units", "8", "--batch-size", "64", "--patience", "1"]


@pytest.fixture
def cancer_csv(tmp_path):
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame = frame[["mean radius", "mean texture", "mean smoothness", "worst area", "target"]]
    path = tmp_path / "cancer.csv"
    frame.sample(90, random_state=0).to_csv(path, index=False)
    return path


def test_nested_search_scores_each_fold_on_its_training_rows_only(cancer_csv, runs_dir, monkeypatch):
    searching: list[str] = []                      # the search whose objective is running (a stack of one)
    seen: dict[str, set[int]] = {}                 # search -> every row index its objective touched
    splits: list = []
    real_tune, real_splits = shared.tuning.tune, ClassificationRunner.splits
    real_fit, real_predict, real_score = (ClassificationRunner.fit, ClassificationRunner.predict,
                                          ClassificationRunner.score)

    def spy_tune(objective, space, *, directory, **kwargs):
        label = directory.name

        def watched(values):
            searching.append(label)
            try:
                return objective(values)
            finally:
                searching.pop()
        return real_tune(watched, space, directory=directory, **kwargs)

    def record(*row_sets):
        if searching:
            seen.setdefault(searching[-1], set()).update(int(i) for rows in row_sets for i in rows)

    def spy_splits(self):
        out = real_splits(self)
        splits[:] = out
        return out

    def fit(self, model, train, *, epochs=None):
        record(train)
        return real_fit(self, model, train, epochs=epochs)

    def predict(self, model, train, test):
        record(train, test)
        return real_predict(self, model, train, test)

    def score(self, train, test, prediction):
        record(train, test)
        return real_score(self, train, test, prediction)

    monkeypatch.setattr(shared.tuning, "tune", spy_tune)
    for name, fn in (("splits", spy_splits), ("fit", fit), ("predict", predict), ("score", score)):
        monkeypatch.setattr(ClassificationRunner, name, fn)

    assert cli.main(["fit", "--data", str(cancer_csv), "--target", "target", "--task", "classification", *TINY,
                     "--tune", "random", "--trials", "2", "--runs-dir", str(runs_dir), "--run-id", "t"]) == 0

    assert len(splits) == 2 and set(seen) == {"fold1", "fold2", "final"}
    for k, (train, test) in enumerate(splits):
        touched = seen[f"fold{k + 1}"]
        assert not touched & set(test.tolist()), f"fold {k + 1}: the objective saw test rows"
        assert touched <= set(train.tolist())
    # the inner split: part of the training rows fit the trial, the rest score it
    fit_rows, val_rows = inner_split(type("R", (), {"task": "regression"})(), np.arange(40), seed=1)
    assert not set(fit_rows) & set(val_rows) and len(fit_rows) + len(val_rows) == 40

    run = runs_dir / "fit_cancer" / "t"
    metrics = json.loads((run / "metrics.json").read_text())
    names = {m["name"]: m for m in metrics["models"]}
    assert names["mlp_tuned"]["kind"] == "deep" and set(names["mlp_tuned"]["metrics"]) == set(names["mlp"]["metrics"])
    tuning = metrics["extra"]["tuning"]
    assert tuning["method"] == "random" and tuning["direction"] == "max" and len(tuning["per_fold"]) == 2
    assert set(tuning["best"]) == {p.name for p in SEARCH_SPACE}
    trials = pd.read_csv(run / "tuning" / "trials.csv")
    assert sorted(trials["search"].unique()) == ["final", "fold 1", "fold 2"] and len(trials) == 6
    assert (run / "figures" / "tuning_scores.png").stat().st_size > 0
    folds = pd.read_csv(run / "folds.csv")
    assert (folds["model"] == "mlp_tuned").sum() == 2
    page = build_report([run], out_dir=runs_dir / "report").parent / "fit_cancer-tuning.html"
    assert "mlp_tuned" in page.read_text() and "★" in page.read_text()


def test_space_per_task_and_apply():
    config = FitConfig(text_encoder="cnn")
    assert [p.name for p in space_for("classification", config)] == [p.name for p in SEARCH_SPACE]
    assert "batch_size" not in {p.name for p in space_for("survival", config)}
    assert {p.name for p in space_for("text", config)} == {"learning_rate", "batch_size", "dropout"}
    assert "units" in {p.name for p in space_for("text", FitConfig(text_encoder="lstm"))}
    tuned = apply(config, {"units": 16, "layers": 3, "dropout": 0.2, "l2": 0.0, "learning_rate": 3e-3,
                           "batch_size": 32})
    assert tuned.hidden_units == (16, 16, 16) and tuned.rnn_units == (16, 16, 16)
    assert (tuned.dropout, tuned.l2, tuned.learning_rate, tuned.batch_size) == (0.2, 0.0, 3e-3, 32)


def test_bad_tune_options_are_named():
    with pytest.raises(ValueError, match="tune must be one of"):
        FitConfig(tune="exhaustive")
    with pytest.raises(ValueError, match="trials must be a positive integer"):
        FitConfig(tune="random", trials=0)
    runner = type("R", (), {"task": "regression"})()
    with pytest.raises(ValueError, match="fewer --folds"):
        inner_split(runner, np.arange(3), seed=0)
    forecast = type("R", (), {"task": "forecast", "config": FitConfig(window=10, horizon=1)})()
    with pytest.raises(ValueError, match="shorter --window"):
        inner_split(forecast, np.arange(14), seed=0)
    fit_rows, val_rows = inner_split(forecast, np.arange(40), seed=0)
    assert fit_rows.max() < val_rows.min(), "a forecast validates on the latest block, after every fit row"
    assert FitConfig().tune is None, "no search unless asked"
