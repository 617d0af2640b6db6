import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from shared.evaluation import cross_validate, mae, rmse, summarize_folds

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3))
Y = X @ np.array([1.0, -2.0, 0.5]) + RNG.normal(0, 0.1, 40)
METRICS = {"rmse": rmse, "mae": mae}


class RecordingScaler(BaseEstimator, TransformerMixin):
    """Remembers which rows (by the id in column 0) it was fitted on."""

    fitted_ids: list = []

    def fit(self, X, y=None):
        RecordingScaler.fitted_ids.append(set(X[:, 0].astype(int)))
        self.mean_ = X[:, 1:].mean(axis=0)
        return self

    def transform(self, X):
        return X[:, 1:] - self.mean_


def test_one_row_per_fold_with_metric_columns():
    frame = cross_validate(LinearRegression, X, Y, splitter=KFold(4), metrics=METRICS)
    assert list(frame.columns) == ["fold", "rmse", "mae"]
    assert frame["fold"].tolist() == [0, 1, 2, 3]
    assert (frame["rmse"] < 0.2).all()


def test_matches_a_manual_loop():
    frame = cross_validate(LinearRegression, X, Y, splitter=KFold(4), metrics=METRICS)
    for fold, (tr, te) in enumerate(KFold(4).split(X)):
        pred = LinearRegression().fit(X[tr], Y[tr]).predict(X[te])
        assert frame.loc[fold, "rmse"] == pytest.approx(rmse(Y[te], pred))


def test_preprocessor_is_fitted_on_the_training_fold_only():
    RecordingScaler.fitted_ids = []
    ids = np.arange(len(X), dtype=float)[:, None]
    data = np.hstack([ids, X])
    splitter = KFold(5, shuffle=True, random_state=0)
    cross_validate(LinearRegression, data, Y, splitter=splitter, preprocess=RecordingScaler, metrics=METRICS)
    assert len(RecordingScaler.fitted_ids) == 5
    for fitted, (train_idx, test_idx) in zip(RecordingScaler.fitted_ids, splitter.split(data), strict=True):
        assert fitted == set(train_idx)
        assert fitted.isdisjoint(test_idx)


def test_pandas_inputs_groups_and_fit_kwargs():
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    groups = np.repeat(np.arange(8), 5)
    weights_seen = []

    class Weighted(LinearRegression):
        def fit(self, X, y, sample_weight=None):
            weights_seen.append(sample_weight)
            return super().fit(X, y)

    out = cross_validate(Weighted, frame, pd.Series(Y), splitter=GroupKFold(4), groups=groups,
                         fit_kwargs={"sample_weight": None}, preprocess=StandardScaler, metrics={"mae": mae})
    assert len(out) == 4 and len(weights_seen) == 4


def test_classifier_with_lists_of_labels():
    y = (Y > 0).astype(int)
    out = cross_validate(lambda: LogisticRegression(), X.tolist(), y.tolist(),
                         splitter=StratifiedKFold(4, shuffle=True, random_state=42),
                         metrics={"accuracy": accuracy_score})
    assert out["accuracy"].mean() > 0.8


def test_seed_makes_global_randomness_reproducible():
    class Noisy(DummyRegressor):
        def predict(self, X):
            return super().predict(X) + np.random.normal(size=len(X))

    first = cross_validate(Noisy, X, Y, splitter=KFold(3), metrics=METRICS, seed=7)
    second = cross_validate(Noisy, X, Y, splitter=KFold(3), metrics=METRICS, seed=7)
    other = cross_validate(Noisy, X, Y, splitter=KFold(3), metrics=METRICS, seed=8)
    pd.testing.assert_frame_equal(first, second)
    assert not first.equals(other)


def test_tiny_keras_model_through_a_thin_wrapper_is_seeded():
    from shared.models._keras import keras as _keras

    keras = _keras()

    class KerasRegressor:
        def __init__(self):
            self.model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
            self.model.compile(optimizer="adam", loss="mse", run_eagerly=True)  # no tracing: fast on 12 rows

        def fit(self, X, y, **kwargs):
            self.model.fit(X, y, verbose=0, **kwargs)
            return self

        def predict(self, X):
            return np.asarray(self.model(X))[:, 0]

    def run():
        return cross_validate(KerasRegressor, X[:12].astype("float32"), Y[:12].astype("float32"),
                              splitter=KFold(2), fit_kwargs={"epochs": 1, "batch_size": 8}, metrics=METRICS, seed=1)

    frame = run()
    assert len(frame) == 2 and np.isfinite(frame[["rmse", "mae"]].to_numpy()).all()
    pd.testing.assert_frame_equal(frame, run())  # same seed, same initial weights


def test_summarize_folds_mean_std_and_text():
    frame = pd.DataFrame({"fold": [0, 1, 2], "accuracy": [0.7, 0.8, 0.9], "rmse": [1.0, 1.0, 1.0]})
    out = summarize_folds(frame)
    assert list(out.index) == ["accuracy", "rmse"]
    assert out.loc["accuracy", "mean"] == pytest.approx(0.8)
    assert out.loc["accuracy", "std"] == pytest.approx(np.std([0.7, 0.8, 0.9]))
    assert out.loc["accuracy", "mean ± std"] == "0.8000 ± 0.0816"
    assert summarize_folds(frame, ddof=1).loc["accuracy", "std"] == pytest.approx(0.1)


def test_summarize_folds_keeps_an_undefined_fold_visible():
    frame = pd.DataFrame({"fold": [0, 1], "roc_auc": [0.8, np.nan]})
    assert np.isnan(summarize_folds(frame).loc["roc_auc", "mean"])


def _same_model_every_time():
    model = LinearRegression()
    return lambda: model


def _same_scaler_every_time():
    scaler = StandardScaler()
    return lambda: scaler


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"make_model": LinearRegression()}, TypeError, "make_model must be a callable"),
        ({"splitter": 5}, TypeError, r"splitter must have a \.split"),
        ({"preprocess": StandardScaler()}, TypeError, "preprocess must be a callable"),
        ({"metrics": {}}, ValueError, "metrics must be a non-empty dict"),
        ({"metrics": {"fold": rmse}}, ValueError, "other than 'fold'"),
        ({"metrics": {"rmse": 1.0}}, TypeError, r"metrics\['rmse'\] must be callable"),
        ({"metrics": {"all": lambda t, p: {"rmse": 1.0}}}, TypeError, r"metrics\['all'\] returned dict"),
        ({"seed": -1}, ValueError, "seed must be a non-negative int"),
        ({"y": Y[:-1]}, ValueError, "X has 40 rows but y has 39"),
        ({"X": None}, ValueError, "X is None"),
        ({"groups": [0, 1]}, ValueError, "groups has 2 entries"),
        ({"make_model": _same_model_every_time()}, ValueError, "make_model returned the same object"),
        ({"preprocess": _same_scaler_every_time()}, ValueError, "preprocess returned the same object"),
    ],
)
def test_cross_validate_errors(kwargs, error, match):
    args = {"make_model": LinearRegression, "X": X, "y": Y, "splitter": KFold(2), "metrics": METRICS, **kwargs}
    with pytest.raises(error, match=match):
        cross_validate(args.pop("make_model"), args.pop("X"), args.pop("y"), **args)


def test_cross_validate_rejects_overlapping_folds():
    class Leaky:
        def split(self, X, y=None, groups=None):
            yield np.arange(30), np.arange(25, 40)

    with pytest.raises(ValueError, match="same rows in train and test"):
        cross_validate(LinearRegression, X, Y, splitter=Leaky(), metrics=METRICS)


def test_cross_validate_rejects_an_empty_splitter():
    class Empty:
        def split(self, X, y=None, groups=None):
            return iter(())

    with pytest.raises(ValueError, match="produced no folds"):
        cross_validate(LinearRegression, X, Y, splitter=Empty(), metrics=METRICS)


def test_summarize_folds_errors():
    with pytest.raises(TypeError, match="frame must be the DataFrame"):
        summarize_folds([1, 2])
    with pytest.raises(ValueError, match="no numeric metric columns"):
        summarize_folds(pd.DataFrame({"fold": [0, 1]}))
