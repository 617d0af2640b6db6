"""review_sentiment --tune: the search sees only the training texts, logs its trials, and the retrained
best config is added beside the default row."""

from __future__ import annotations

import json
import types

import numpy as np
import pandas as pd
import pytest

from applications.review_sentiment import main as app

TINY = ["--learned-maps", "pca", "--max-rows", "160", "--epochs", "1", "--seeds", "1", "--cv-folds", "0", "--baseline-cv", "2",
        "--models", "cnn", "--kernel-sizes", "2,3", "--sequence-length", "24", "--max-tokens", "500",
        "--n-explain", "0", "--log-level", "WARNING"]


@pytest.mark.slow  # ~25 s of CPU (a whole tiny case study plus 2 trials); the objective is tested fast below
def test_tune_sees_only_training_texts_and_adds_the_tuned_row(runs_dir, monkeypatch):
    from shared.data import stratified_split

    seen = {}
    original = app.tuning_objective

    def spy(config, texts, labels, k, **kwargs):
        seen["texts"], seen["labels"] = list(texts), np.asarray(labels)
        objective, sizes = original(config, texts, labels, k, **kwargs)

        def wrapped(hp):
            seen.setdefault("calls", []).append(dict(hp))
            return objective(hp)

        return wrapped, sizes

    monkeypatch.setattr(app, "tuning_objective", spy)
    argv = [*TINY, "--tune", "random", "--trials", "2", "--runs-dir", str(runs_dir), "--run-id", "t"]
    assert app.main(argv) == 0
    # the search received exactly the processed training texts, in order; no test text
    config = app.parse_args(argv)
    corpus = app.load_corpus(config)
    processed = np.asarray(config.pipeline().process(corpus.texts), dtype=object)
    train, test = stratified_split(corpus.labels, test_size=config.test_size, seed=config.seed)
    assert seen["texts"] == list(processed[train])
    np.testing.assert_array_equal(seen["labels"], corpus.labels[train])
    assert len(seen["calls"]) == 2 and len(set(train) & set(test)) == 0
    run = runs_dir / "review_sentiment" / "t"
    metrics = json.loads((run / "metrics.json").read_text())
    models = {m["name"]: m for m in metrics["models"]}
    assert models["text_cnn_tuned"]["kind"] == "deep" and "text_cnn" in models
    assert 0.0 <= models["text_cnn_tuned"]["metrics"]["accuracy"] <= 1.0
    trials = pd.read_csv(run / "tuning" / "trials.csv")
    assert len(trials) == 2 and (trials["status"] == "COMPLETED").all() and np.isfinite(trials["score"]).all()
    assert {p.name for p in app.SEARCH_SPACE} <= set(trials.columns)
    tuning = metrics["extra"]["tuning"]
    assert tuning["method"] == "random" and tuning["model"] == "text_cnn"
    assert tuning["best_val_score"] == pytest.approx(trials["score"].max())
    assert tuning["sizes"]["fit"] + tuning["sizes"]["validation"] == len(train)
    assert (run / "figures" / "tuning_scores.png").stat().st_size > 1000


def test_tune_arguments_and_search_point():
    config = app.parse_args(["--tune", "bayes", "--trials", "3"])
    assert config.tune == "bayes" and config.trials == 3 and app.parse_args([]).tune is None
    params = app._with_hp(config.deep, {"learning_rate": 3e-3, "batch_size": 32, "units": 16, "embedding_dim": 32,
                                        "dropout": 0.2, "l2": 1e-4})
    assert (params.lstm_units, params.filters, params.embedding_dim, params.batch_size) == (16, 16, 32, 32)
    assert params.max_tokens == config.deep.max_tokens  # what the space does not name stays as configured
    with pytest.raises(SystemExit):
        app.parse_args(["--tune", "random", "--trials", "0"])


def test_objective_trains_on_part_of_what_it_gets_and_scores_the_rest(monkeypatch):
    """No TensorFlow: recording stand-ins for training and prediction show which texts do what."""
    from applications.review_sentiment import models

    texts = np.array([f"text {i}" for i in range(50)], dtype=object)
    labels = np.array([0, 1] * 25)
    trained, scored = [], []

    def fake_train(kind, x, y, *, params, n_classes, seed, verbose=0):
        trained.append((kind, list(x), params.filters, seed))
        return types.SimpleNamespace(model="model")

    def fake_proba(model, x):
        scored.append(list(x))
        return np.full(len(x), 0.9)

    monkeypatch.setattr(models, "train", fake_train)
    monkeypatch.setattr(models, "predict_proba", fake_proba)
    config = app.parse_args(["--models", "cnn,bilstm", "--seed", "3"])
    objective, sizes = app.tuning_objective(config, texts, labels, 2)
    score = objective({"learning_rate": 1e-3, "batch_size": 32, "units": 16, "embedding_dim": 32, "dropout": 0.1,
                       "l2": 0.0})
    (kind, fit, filters, seed), = trained
    assert (kind, filters, seed) == ("cnn", 16, 3)
    assert not set(fit) & set(scored[0]) and sorted(fit + scored[0]) == sorted(texts)
    assert len(scored[0]) == sizes["validation"] == 10
    assert score == pytest.approx(0.5)  # everything called positive; the validation share is stratified 50/50
