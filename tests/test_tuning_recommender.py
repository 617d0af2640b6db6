"""recommender --tune: the search sees only Protocol A's training ratings, logs its trials, and the
retrained best MF is added beside the default row (mf_biased_tuned)."""

from __future__ import annotations

import json
import types

import numpy as np
import pandas as pd
import pytest

from applications.recommender import main as app
from applications.recommender.data import Interactions
from applications.recommender.models import mf_settings
from shared.tuning import TuningResult

TINY = ["--learned-maps", "pca", "--dataset", "movielens", "--max-users", "30", "--protocol", "A", "--seeds", "1", "--mf-epochs", "2",
        "--patience", "1", "--mf-factors", "8", "--log-level", "WARNING"]
POINT = {"learning_rate": 4e-3, "batch_size": 256, "factors": 16, "l2": 3e-5}


def _ratings(n_users: int = 20, n_items: int = 25, seed: int = 0) -> Interactions:
    """Synthetic explicit ratings, one row per (user, item)."""
    rng = np.random.default_rng(seed)
    pairs = [(u, i) for u in range(n_users) for i in range(n_items) if rng.random() < 0.6]
    frame = pd.DataFrame(pairs, columns=["user", "item"])
    frame["value"] = rng.integers(1, 11, len(frame)) / 2.0
    frame["timestamp"] = np.arange(len(frame), dtype=np.int64) + 1_500_000_000
    items = pd.DataFrame({"label": [f"movie {i}" for i in range(n_items)], "group": ["Drama"] * n_items},
                         index=pd.Index(range(n_items), name="item"))
    return Interactions(name="movielens-synthetic", frame=frame, items=items, explicit=True, rating_range=(0.5, 5.0))


class _FakeLayer:
    def __init__(self, weights: np.ndarray) -> None:
        self.weights = weights

    def get_weights(self) -> list[np.ndarray]:
        return [self.weights]


class _FakeMF:
    """Stands in for a trained MFRegressor: predicts a constant, has factor tables, saves a file."""

    def __init__(self, n_users: int, n_items: int, level: float) -> None:
        rng = np.random.default_rng(0)
        self.level = level
        layers = {"user_factors": rng.normal(size=(n_users, 4)), "item_factors": rng.normal(size=(n_items, 4)),
                  "user_bias": np.zeros((n_users, 1)), "item_bias": np.zeros((n_items, 1))}
        self.model = types.SimpleNamespace(get_layer=lambda name: _FakeLayer(layers[name]),
                                           save=lambda path: open(path, "wb").close())

    def item_factors(self) -> np.ndarray:
        return self.model.get_layer("item_factors").get_weights()[0]

    def predict(self, users, items, *, rating_range=None) -> np.ndarray:
        return np.full(len(users), self.level)


def test_tune_arguments_parse_and_default_is_off(capsys):
    config = app.parse_args(["--tune", "bayes", "--trials", "3"])
    assert config.tune == "bayes" and config.trials == 3
    assert app.parse_args([]).tune is None
    for argv, message in ((["--tune", "random", "--trials", "0"], "--trials must be >= 1"),
                          (["--tune", "random", "--source", "parquet", "--path", "x"], "--tune needs --source sample"),
                          (["--tune", "random", "--protocol", "B"], "use --protocol A or both"),
                          (["--tune", "grid", "--mf-optimizer", "sparse-sgd"], "drop --mf-optimizer sparse-sgd"),
                          (["--tune", "grid", "--mf-optimizer", "dense-adam"], "drop --mf-optimizer dense-adam")):
        with pytest.raises(SystemExit):
            app.parse_args(argv)
        assert message in capsys.readouterr().err
    settings = app._with_hp(mf_settings(app.parse_args(["--mf-epochs", "7"])), POINT)
    assert (settings.n_factors, settings.batch_size, settings.learning_rate, settings.l2) == (16, 256, 4e-3, 3e-5)
    assert settings.epochs == 7 and settings.optimizer == "adam"  # what the space does not name stays as configured


def test_grid_search_space_is_discrete_and_holds_the_default_config():
    params = {p.name: p for p in app.SEARCH_SPACE}
    assert all(p.kind == "choice" or p.step for p in params.values())  # grid search needs every one discrete
    lr = params["learning_rate"]
    rates = [lr.low * lr.step ** j for j in range(8) if lr.low * lr.step ** j <= lr.high * (1 + 1e-9)]
    default = mf_settings(app.parse_args([]))
    assert any(r == pytest.approx(default.learning_rate) for r in rates)
    assert default.batch_size in params["batch_size"].values and default.n_factors in params["factors"].values
    assert default.l2 in params["l2"].values


def test_objective_trains_on_part_of_the_training_ratings_and_scores_the_rest(monkeypatch):
    """No TensorFlow: a recording stand-in for the MF training shows which ratings do what."""
    calls = []

    def fake_fit_mf(settings, users, items, ratings, *, fit_pos, val_pos, seed, n_users, n_items, refit, patience,
                    verbose=0):
        calls.append(dict(settings=settings, ratings=ratings, fit=fit_pos, val=val_pos, seed=seed, refit=refit,
                          shape=(n_users, n_items), patience=patience))
        return None, {"val_rmse": [1.2, 0.95, 1.0]}, 2

    monkeypatch.setattr(app, "_fit_mf", fake_fit_mf)
    n = 200
    users, items = np.arange(n) % 11, np.arange(n) % 17
    ratings = np.linspace(0.5, 5.0, n)
    config = app.parse_args(["--seed", "5", "--patience", "2"])
    objective, sizes = app.tuning_objective(config, users, items, ratings, n_users=11, n_items=17)
    assert objective(POINT) == pytest.approx(0.95)  # the best validation RMSE of the trial
    (call,) = calls
    assert call["seed"] == 5 and call["refit"] is False and call["patience"] == 2 and call["shape"] == (11, 17)
    assert call["settings"].n_factors == 16 and call["settings"].learning_rate == 4e-3
    np.testing.assert_array_equal(call["ratings"], ratings)
    assert not set(call["fit"]) & set(call["val"]) and sorted([*call["fit"], *call["val"]]) == list(range(n))
    assert len(call["val"]) == sizes["validation"] == int(app.TUNE_VALIDATION * n)
    # the same early-stopping share as the default run, so the tuned and default rows are trained alike
    from applications.recommender.splits import random_validation

    np.testing.assert_array_equal(call["val"], random_validation(n, fraction=app.TUNE_VALIDATION, seed=5)[1])
    with pytest.raises(ValueError, match="same length"):
        app.tuning_objective(config, users, items[:-1], ratings, n_users=11, n_items=17)


def test_search_never_receives_a_test_rating_and_the_tuned_row_is_added(monkeypatch, runs_dir):
    """Protocol A with stand-ins for the MF and the tuner (nothing trains): the spy on the objective
    gets exactly the training ratings; the tuned config is retrained and tested once."""
    from applications.recommender.indexing import IdIndex
    from applications.recommender.splits import protocol_a_split
    from shared.artifacts import RunDir

    ds = _ratings()
    seen, fits = {}, []

    def fake_fit_mf(settings, users, items, ratings, *, fit_pos, val_pos, seed, n_users, n_items, refit, patience,
                    implicit=False, implicit_l2=None, verbose=0):
        if implicit:  # Protocol A's SVD++ row: not the tuner's business
            return _FakeMF(n_users, n_items, level=3.0), {"val_rmse": [1.0]}, 1
        fits.append((settings.n_factors, len(ratings)))
        history = {"loss": [1.0, 0.9], "val_rmse": [1.0, 1.0 / settings.n_factors]}
        return _FakeMF(n_users, n_items, level=3.0 + settings.n_factors / 100), history, 2

    def fake_tune(objective, space, *, method, trials, directory, direction, seed):
        points = [POINT, {**POINT, "factors": 64}][:trials]
        scores = [objective(p) for p in points]
        frame = pd.DataFrame([{"trial": str(j), "status": "COMPLETED", "score": s, **p}
                              for j, (p, s) in enumerate(zip(points, scores))])
        best = int(np.argmin(scores))
        return TuningResult(best=points[best], best_score=scores[best], trials=frame, directory=directory)

    original = app.tuning_objective

    def spy(config, users, items, ratings, **kwargs):
        seen.update(users=np.asarray(users), items=np.asarray(items), ratings=np.asarray(ratings))
        return original(config, users, items, ratings, **kwargs)

    monkeypatch.setattr(app, "_fit_mf", fake_fit_mf)
    monkeypatch.setattr(app, "tune", fake_tune)
    monkeypatch.setattr(app, "tuning_objective", spy)
    # TensorBoard scalars and the item maps' projector files would import TensorFlow; not under test here
    monkeypatch.setattr("shared.tensorboard_logs.write_scalars", lambda *a, **k: None)
    monkeypatch.setattr(app, "_item_maps", lambda *a, **k: None)
    config = app.parse_args(["--seeds", "1", "--tune", "random", "--trials", "2", "--log-level", "WARNING"])
    run = RunDir.create("recommender", root=runs_dir, run_id="fake")
    result, _ = app.run_protocol_a(ds, config, run)

    train_pos, test_pos = protocol_a_split(len(ds.frame))
    train, test = ds.frame.iloc[train_pos], ds.frame.iloc[test_pos]
    users, items = IdIndex(train["user"], name="user"), IdIndex(train["item"], name="item")
    passed = set(zip(users.ids[seen["users"]], items.ids[seen["items"]]))
    assert passed == set(zip(train["user"], train["item"]))  # every training rating, in the objective's hands
    assert not passed & set(zip(test["user"], test["item"]))  # and no test rating
    np.testing.assert_array_equal(seen["ratings"], train["value"].to_numpy())
    assert all(n_rows == len(train) for _, n_rows in fits)  # every MF fit (default, trials, tuned) got training rows
    # default row, 2 trials, then the best config (64 factors: lowest fake validation RMSE) retrained for test
    assert [f for f, _ in fits] == [config.mf_factors, 16, 64, 64]
    models = {m.name: m.to_dict() for m in result.models}
    assert models["mf_biased_tuned"]["kind"] == "deep" and models["mf_biased_tuned"]["seeds"] == [config.seed]
    expected = np.sqrt(np.mean((test["value"].to_numpy() - 3.64) ** 2))
    assert models["mf_biased_tuned"]["metrics"]["rmse"] == pytest.approx(expected)
    tuning = result.extra["tuning"]
    assert tuning["best"]["factors"] == 64 and tuning["best_val_score"] == pytest.approx(1 / 64)
    assert tuning["sizes"]["fit"] + tuning["sizes"]["validation"] == len(train)
    assert tuning["search_space"] == [p.name for p in app.SEARCH_SPACE]
    assert (run.path / "figures" / "tuning_scores.png").stat().st_size > 1000


def test_tune_on_implicit_feedback_only_is_a_clear_error(tmp_path, runs_dir, capsys):
    path = tmp_path / "buys.csv"
    pd.DataFrame({"user": [1, 1, 2, 2], "item": ["a", "b", "a", "c"], "qty": [1, 2, 1, 1],
                  "timestamp": ["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"]}).to_csv(path, index=False)
    code = app.main(["--source", "csv", "--path", str(path), "--value-col", "qty", "--feedback", "implicit",
                     "--tune", "random", "--runs-dir", str(runs_dir)])
    assert code == 2
    assert "--tune searches the rating model of Protocol A" in capsys.readouterr().err


@pytest.mark.slow  # ~20-25 s of CPU (a whole tiny Protocol A run plus 2 real trials)
def test_tune_end_to_end_logs_trials_and_adds_the_tuned_row(runs_dir, monkeypatch):
    seen = {}
    original = app.tuning_objective

    def spy(config, users, items, ratings, **kwargs):
        seen["rows"] = len(ratings)
        objective, sizes = original(config, users, items, ratings, **kwargs)

        def wrapped(hp):
            seen.setdefault("calls", []).append(dict(hp))
            return objective(hp)

        return wrapped, sizes

    monkeypatch.setattr(app, "tuning_objective", spy)
    assert app.main([*TINY, "--tune", "random", "--trials", "2", "--runs-dir", str(runs_dir), "--run-id", "t"]) == 0
    run = runs_dir / "recommender" / "t"
    metrics = json.loads((run / "metrics.json").read_text())
    extra = metrics["extra"]
    assert seen["rows"] == extra["train_rows"] and len(seen["calls"]) == 2
    trials = pd.read_csv(run / "tuning" / "trials.csv")
    assert len(trials) == 2 and (trials["status"] == "COMPLETED").all() and np.isfinite(trials["score"]).all()
    assert {p.name for p in app.SEARCH_SPACE} <= set(trials.columns)
    tuning = extra["tuning"]
    assert tuning["method"] == "random" and tuning["trials"] == 2 and tuning["model"] == "mf_biased"
    assert tuning["best_val_score"] == pytest.approx(trials["score"].min())
    models = {m["name"]: m for m in metrics["models"]}
    assert {"mf_biased", "mf_biased_tuned", "bias_baseline", "global_mean"} <= set(models)
    assert models["mf_biased_tuned"]["metrics"]["rmse"] >= models["mf_biased_tuned"]["metrics"]["mae"] > 0
    assert (run / "figures" / "tuning_scores.png").stat().st_size > 1000
