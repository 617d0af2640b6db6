"""One runner per task: its folds, its models (the deep one first, then the baselines), its metrics,
its figures, and what the final model saves for ``deepcases predict``.

All runners have the same shape, so :func:`shared.fit.run.cross_validate_models` is one loop:
for each fold, for each model, ``fit`` on the training rows, ``predict`` the test rows, ``score``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from .checks import Prepared, minimum_train_length
from .config import FitConfig
from .preprocess import category_strings
from .schema import Schema
from ..errors import UserError

log = logging.getLogger(__name__)


class Runner:
    task = ""
    metrics: tuple[str, ...] = ()
    headline = ""              # the metric of the comparison bar chart
    higher_is_better = True

    def __init__(self, prepared: Prepared, schema: Schema, config: FitConfig, *, verbose: int = 0) -> None:
        self.prepared, self.schema, self.config, self.verbose = prepared, schema, config, verbose
        self.frame = prepared.frame.reset_index(drop=True)
        self.oof: dict[str, Any] = {}
        self.fold_of = np.full(len(self.frame), -1)

    # the loop's interface -------------------------------------------------------------------
    def splits(self) -> list[tuple[np.ndarray, np.ndarray]]:
        raise NotImplementedError

    def candidates(self, seed: int) -> list[Any]:
        raise NotImplementedError

    def fit(self, model: Any, train: np.ndarray, *, epochs: int | None = None) -> None:
        raise NotImplementedError

    def predict(self, model: Any, train: np.ndarray, test: np.ndarray) -> Any:
        raise NotImplementedError

    def score(self, train: np.ndarray, test: np.ndarray, prediction: Any) -> dict[str, float]:
        raise NotImplementedError

    def collect(self, name: str, fold: int, test: np.ndarray, prediction: Any) -> None:
        self.fold_of[test] = fold

    def protocol(self) -> str:
        return f"{self.config.folds}-fold CV (shuffled, seed {self.config.seed})"

    # after the loop -------------------------------------------------------------------------
    def oof_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"row": np.arange(len(self.frame)), "fold": self.fold_of})

    def figures(self, run: Any) -> None:
        """Task-specific figures from the out-of-fold predictions."""

    def final_model(self, epochs: int, seed: int) -> Any:
        model = self.candidates(seed)[0]
        self.fit(model, np.arange(len(self.frame)), epochs=epochs)
        return model

    def saved_state(self, model: Any) -> dict[str, Any]:
        return {}


# --------------------------------------------------------------------------- tabular base
class TabularRunner(Runner):
    def __init__(self, prepared: Prepared, schema: Schema, config: FitConfig, *, verbose: int = 0) -> None:
        super().__init__(prepared, schema, config, verbose=verbose)
        self.features = self.frame[schema.feature_columns]
        self.kinds = {c: schema.kind_of(c) for c in schema.feature_columns}
        if not self.kinds:
            raise UserError("no usable feature columns: every column other than the target is an id, text, empty or "
                             "constant; add feature columns or set kinds with column_types (e.g. {code: categorical})")

    def saved_state(self, model: Any) -> dict[str, Any]:
        return {"features": model.prep.to_dict()}


# ------------------------------------------------------------------------- classification
class ClassificationRunner(TabularRunner):
    task = "classification"
    metrics = ("accuracy", "macro_f1", "roc_auc")
    headline = "accuracy"

    def __init__(self, prepared: Prepared, schema: Schema, config: FitConfig, *, verbose: int = 0) -> None:
        super().__init__(prepared, schema, config, verbose=verbose)
        self.classes = list(prepared.classes or [])
        index = {c: i for i, c in enumerate(self.classes)}
        self.y = category_strings(self.frame[schema.target]).map(index).to_numpy(dtype=int)

    def take(self, idx: np.ndarray) -> Any:
        return self.features.iloc[idx]

    def splits(self) -> list[tuple[np.ndarray, np.ndarray]]:
        from sklearn.model_selection import StratifiedKFold

        splitter = StratifiedKFold(self.config.folds, shuffle=True, random_state=self.config.seed)
        return list(splitter.split(np.zeros(len(self.y)), self.y))

    def protocol(self) -> str:
        return f"stratified {self.config.folds}-fold CV (shuffled, seed {self.config.seed})"

    def candidates(self, seed: int) -> list[Any]:
        from .models import MLPClassifier, SklearnClassifier, logistic_regression, majority_classifier

        k, rare = len(self.classes), self.config.rare_category_fraction
        return [MLPClassifier(self.config, k, self.kinds, seed=seed, verbose=self.verbose),
                SklearnClassifier("majority", majority_classifier, k, self.kinds, rare_fraction=rare),
                SklearnClassifier("logistic_regression", lambda: logistic_regression(seed), k, self.kinds,
                                  rare_fraction=rare)]

    def fit(self, model: Any, train: np.ndarray, *, epochs: int | None = None) -> None:
        kwargs = {} if model.kind == "baseline" else {"epochs": epochs}
        model.fit(self.take(train), self.y[train], **kwargs)

    def predict(self, model: Any, train: np.ndarray, test: np.ndarray) -> np.ndarray:
        return model.predict_proba(self.take(test))

    def score(self, train: np.ndarray, test: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
        from shared.evaluation import classification_metrics

        values = classification_metrics(self.y[test], prediction, labels=list(range(len(self.classes))))
        return {m: values[m] for m in self.metrics}

    def collect(self, name: str, fold: int, test: np.ndarray, prediction: np.ndarray) -> None:
        super().collect(name, fold, test, prediction)
        self.oof.setdefault(name, np.full((len(self.y), len(self.classes)), np.nan))[test] = prediction

    def oof_frame(self) -> pd.DataFrame:
        out = super().oof_frame()
        out["target"] = np.asarray(self.classes, dtype=object)[self.y]
        for name, proba in self.oof.items():
            out[f"{name}_prediction"] = np.asarray(self.classes, dtype=object)[np.nan_to_num(proba).argmax(axis=1)]
            if len(self.classes) == 2:
                out[f"{name}_probability_{self.classes[1]}"] = proba[:, 1]
        return out

    def figures(self, run: Any) -> None:
        from shared.viz import plot_confusion_matrix, plot_roc_curves

        deep = next(iter(self.oof))
        names = np.asarray(self.classes, dtype=object)
        run.save_figure(plot_confusion_matrix((names[self.y], names[self.oof[deep].argmax(axis=1)]),
                                              labels=self.classes,
                                              title=f"{deep}: confusion matrix (out-of-fold)"), "confusion_matrix")
        if len(self.classes) == 2:
            curves = {name: (self.y, proba[:, 1]) for name, proba in self.oof.items() if name != "majority"}
            run.save_figure(plot_roc_curves(curves, title=f"ROC (out-of-fold), positive class {self.classes[1]!r}"),
                            "roc_curves")

    def saved_state(self, model: Any) -> dict[str, Any]:
        return {**super().saved_state(model), "classes": self.classes}


# ----------------------------------------------------------------------------------- text
class TextRunner(ClassificationRunner):
    task = "text"

    def __init__(self, prepared: Prepared, schema: Schema, config: FitConfig, *, verbose: int = 0) -> None:
        Runner.__init__(self, prepared, schema, config, verbose=verbose)
        self.classes = list(prepared.classes or [])
        index = {c: i for i, c in enumerate(self.classes)}
        self.y = category_strings(self.frame[schema.target]).map(index).to_numpy(dtype=int)
        self.texts = self.frame[schema.text_column].fillna("").astype(str).to_numpy(dtype=object)

    def take(self, idx: np.ndarray) -> Any:
        return self.texts[idx]

    def candidates(self, seed: int) -> list[Any]:
        from .models import MajorityText, TextClassifier, TfidfLogistic

        k = len(self.classes)
        return [TextClassifier(self.config, k, seed=seed, verbose=self.verbose), MajorityText(k),
                TfidfLogistic(k, seed=seed)]

    def saved_state(self, model: Any) -> dict[str, Any]:
        return {"classes": self.classes}   # the vectorizer is inside the saved model


# ----------------------------------------------------------------------------- regression
class RegressionRunner(TabularRunner):
    task = "regression"
    metrics = ("rmse", "mae", "r2")
    headline = "rmse"
    higher_is_better = False

    def __init__(self, prepared: Prepared, schema: Schema, config: FitConfig, *, verbose: int = 0) -> None:
        super().__init__(prepared, schema, config, verbose=verbose)
        self.y = self.frame[schema.target].to_numpy(dtype=float)

    def splits(self) -> list[tuple[np.ndarray, np.ndarray]]:
        from sklearn.model_selection import KFold

        return list(KFold(self.config.folds, shuffle=True, random_state=self.config.seed).split(self.y))

    def candidates(self, seed: int) -> list[Any]:
        from .models import MLPRegressor, SklearnRegressor, mean_regressor, ridge_regressor

        rare = self.config.rare_category_fraction
        return [MLPRegressor(self.config, self.kinds, seed=seed, verbose=self.verbose),
                SklearnRegressor("mean", mean_regressor, self.kinds, rare_fraction=rare),
                SklearnRegressor("ridge", ridge_regressor, self.kinds, rare_fraction=rare)]

    def fit(self, model: Any, train: np.ndarray, *, epochs: int | None = None) -> None:
        kwargs = {} if model.kind == "baseline" else {"epochs": epochs}
        model.fit(self.features.iloc[train], self.y[train], **kwargs)

    def predict(self, model: Any, train: np.ndarray, test: np.ndarray) -> np.ndarray:
        return model.predict(self.features.iloc[test])

    def score(self, train: np.ndarray, test: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
        from sklearn.metrics import r2_score

        from shared.evaluation import mae, rmse

        y = self.y[test]
        return {"rmse": rmse(y, prediction), "mae": mae(y, prediction), "r2": float(r2_score(y, prediction))}

    def collect(self, name: str, fold: int, test: np.ndarray, prediction: np.ndarray) -> None:
        super().collect(name, fold, test, prediction)
        self.oof.setdefault(name, np.full(len(self.y), np.nan))[test] = prediction

    def oof_frame(self) -> pd.DataFrame:
        out = super().oof_frame()
        out["target"] = self.y
        for name, values in self.oof.items():
            out[f"{name}_prediction"] = values
        return out

    def figures(self, run: Any) -> None:
        from shared.viz import plot_residuals

        deep = next(iter(self.oof))
        run.save_figure(plot_residuals(self.y - self.oof[deep], title=f"{deep}: residuals (out-of-fold)"),
                        "residuals")

    def saved_state(self, model: Any) -> dict[str, Any]:
        return {**super().saved_state(model), "target_mean": model.y_mean, "target_std": model.y_std}


# ------------------------------------------------------------------------------- survival
class SurvivalRunner(TabularRunner):
    task = "survival"
    metrics = ("harrell_c", "uno_c", "ibs")
    headline = "harrell_c"

    def __init__(self, prepared: Prepared, schema: Schema, config: FitConfig, *, verbose: int = 0) -> None:
        super().__init__(prepared, schema, config, verbose=verbose)
        self.time = self.frame[schema.target].to_numpy(dtype=float)
        self.event = self.frame[schema.event_column].to_numpy(dtype=int)

    def splits(self) -> list[tuple[np.ndarray, np.ndarray]]:
        from sklearn.model_selection import KFold, StratifiedKFold

        if self.event.min() == self.event.max():   # no censoring: nothing to stratify on
            return list(KFold(self.config.folds, shuffle=True, random_state=self.config.seed).split(self.time))
        splitter = StratifiedKFold(self.config.folds, shuffle=True, random_state=self.config.seed)
        return list(splitter.split(np.zeros(len(self.event)), self.event))

    def protocol(self) -> str:
        return f"{self.config.folds}-fold CV stratified on the event (shuffled, seed {self.config.seed})"

    def candidates(self, seed: int) -> list[Any]:
        from .models import CoxBaseline, DeepSurv, KaplanMeierBaseline

        return [DeepSurv(self.config, self.kinds, seed=seed, verbose=self.verbose), KaplanMeierBaseline(),
                CoxBaseline(self.kinds, rare_fraction=self.config.rare_category_fraction)]

    def fit(self, model: Any, train: np.ndarray, *, epochs: int | None = None) -> None:
        kwargs = {} if model.kind == "baseline" else {"epochs": epochs}
        model.fit(self.features.iloc[train], self.time[train], self.event[train], **kwargs)

    def _inside(self, train: np.ndarray, test: np.ndarray) -> np.ndarray:
        """Test subjects followed no longer than the longest training time: the inverse-probability-of-
        censoring weights of Uno's C and the Brier score are defined only there."""
        return self.time[test] <= self.time[train].max()

    def predict(self, model: Any, train: np.ndarray, test: np.ndarray) -> dict[str, np.ndarray]:
        from shared.evaluation import brier_time_grid

        x = self.features.iloc[test]
        out = {"risk": model.risk(x)}
        inside = self._inside(train, test)
        try:
            out["grid"] = brier_time_grid(self.event[train], self.time[train], self.time[test][inside])
            out["surv"] = model.survival(x[inside], out["grid"])
        except ValueError as err:   # a tiny fold whose follow-up does not overlap the training event times
            log.warning("integrated Brier score undefined on this fold: %s", err)
        return out

    def score(self, train: np.ndarray, test: np.ndarray, prediction: dict[str, np.ndarray]) -> dict[str, float]:
        from shared.evaluation import harrell_c, integrated_brier, uno_c

        e_tr, t_tr, e_te, t_te = self.event[train], self.time[train], self.event[test], self.time[test]
        out = {name: float("nan") for name in self.metrics}
        if not e_te.any():
            log.warning("a test fold has no events; its concordance is undefined (NaN)")
            return out
        out["harrell_c"] = harrell_c(e_te, t_te, prediction["risk"])
        inside = self._inside(train, test)
        if not inside.all():
            log.info("%d test subject(s) followed beyond the longest training time are left out of Uno's C and "
                     "the IBS (their censoring weights are undefined)", int((~inside).sum()))
        try:
            out["uno_c"] = uno_c(e_tr, t_tr, e_te[inside], t_te[inside], prediction["risk"][inside],
                                 tau=float(np.percentile(t_tr, 80)))
        except ValueError as err:
            log.warning("Uno's C undefined on this fold: %s", err)
        if "surv" in prediction:
            out["ibs"] = integrated_brier(e_tr, t_tr, e_te[inside], t_te[inside], np.clip(prediction["surv"], 0, 1),
                                          prediction["grid"])
        return out

    def collect(self, name: str, fold: int, test: np.ndarray, prediction: dict[str, np.ndarray]) -> None:
        super().collect(name, fold, test, prediction)
        self.oof.setdefault(name, np.full(len(self.time), np.nan))[test] = prediction["risk"]
        if name == "deepsurv":
            groups = self.oof.setdefault("_group", np.full(len(self.time), "", dtype=object))
            labels = ["1 low risk", "2 medium risk", "3 high risk"]
            ranks = pd.Series(prediction["risk"]).rank(method="first")  # tertiles within the fold
            groups[test] = pd.qcut(ranks, 3, labels=labels).astype(str).to_numpy()

    def oof_frame(self) -> pd.DataFrame:
        out = super().oof_frame()
        out["time"], out["event"] = self.time, self.event
        for name, values in self.oof.items():
            if not name.startswith("_"):
                out[f"{name}_risk"] = values
        return out

    def figures(self, run: Any) -> None:
        from shared.viz import plot_km_by_group

        groups = self.oof.get("_group")
        if groups is not None and len(set(groups)) >= 2:
            run.save_figure(plot_km_by_group(self.time, self.event, groups,
                                             title="Kaplan–Meier by DeepSurv risk tertile (out-of-fold)"),
                            "km_by_risk_group")

    def saved_state(self, model: Any) -> dict[str, Any]:
        times = self.time[self.event == 1]
        return {**super().saved_state(model), "baseline": model.baseline.to_dict(),
                "report_times": [float(t) for t in np.percentile(times, [25, 50, 75])]}


# ------------------------------------------------------------------------------- forecast
class ForecastRunner(Runner):
    task = "forecast"
    metrics = ("rmse", "mae", "mase", "smape", "wape")
    headline = "mae"
    higher_is_better = False

    def __init__(self, prepared: Prepared, schema: Schema, config: FitConfig, *, verbose: int = 0) -> None:
        super().__init__(prepared, schema, config, verbose=verbose)
        self.series = self.frame[schema.target].to_numpy(dtype=float)
        self.dates = pd.to_datetime(self.frame[schema.time_column])
        self.season = int(prepared.seasonality or 1)
        self.forecast = np.full(0, np.nan)

    def test_size(self) -> int:
        h = self.config.horizon
        size = (len(self.series) - minimum_train_length(self.config, self.season)) // self.config.folds
        return max(h, size // h * h)

    def splits(self) -> list[tuple[np.ndarray, np.ndarray]]:
        from shared.data import walk_forward_splits

        return list(walk_forward_splits(len(self.series), n_splits=self.config.folds, test_size=self.test_size(),
                                        min_train=minimum_train_length(self.config, self.season)))

    def protocol(self) -> str:
        return (f"walk-forward, {self.config.folds} time-ordered folds of {self.test_size()} steps, "
                f"window {self.config.window}, horizon {self.config.horizon}, season {self.season}")

    def candidates(self, seed: int) -> list[Any]:
        from .models import NaiveForecaster, RNNForecaster, SeasonalNaiveForecaster

        out = [RNNForecaster(self.config, seed=seed, verbose=self.verbose), NaiveForecaster(self.config.horizon)]
        if self.season > 1:
            out.append(SeasonalNaiveForecaster(self.config.horizon, self.season))
        return out

    def fit(self, model: Any, train: np.ndarray, *, epochs: int | None = None) -> None:
        kwargs = {} if model.kind == "baseline" else {"epochs": epochs}
        model.fit(self.series[train], **kwargs)

    def predict(self, model: Any, train: np.ndarray, test: np.ndarray) -> np.ndarray:
        origins = test[:: self.config.horizon]
        return model.forecast(self.series, origins).reshape(-1)[: len(test)]

    def score(self, train: np.ndarray, test: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
        from shared.evaluation import forecast_metrics

        values = forecast_metrics(self.series[test], prediction, y_train=self.series[train], seasonality=self.season)
        return {m: values.get(m, float("nan")) for m in self.metrics}

    def collect(self, name: str, fold: int, test: np.ndarray, prediction: np.ndarray) -> None:
        super().collect(name, fold, test, prediction)
        self.oof.setdefault(name, np.full(len(self.series), np.nan))[test] = prediction
        self.last_test = test

    def oof_frame(self) -> pd.DataFrame:
        out = super().oof_frame()
        out["date"], out["target"] = self.dates.to_numpy(), self.series
        for name, values in self.oof.items():
            out[f"{name}_prediction"] = values
        return out[out["fold"] >= 0]

    def figures(self, run: Any) -> None:
        from shared.viz import plot_forecast

        test = self.last_test
        start = max(0, test[0] - 3 * len(test))
        run.save_figure(plot_forecast(self.dates.iloc[test].to_numpy(), self.series[test],
                                      {name: values[test] for name, values in self.oof.items()},
                                      history_index=self.dates.iloc[start:test[0]].to_numpy(),
                                      history=self.series[start:test[0]], ylabel=self.schema.target,
                                      title="Forecasts on the last fold"), "forecast_last_fold")

    def saved_state(self, model: Any) -> dict[str, Any]:
        return {"scale": model.scale, "window": self.config.window, "horizon": self.config.horizon,
                "seasonality": self.season, "frequency": self.prepared.frequency,
                "step_days": float(self.dates.diff().dt.total_seconds().median() / 86400.0)}


RUNNERS: dict[str, type[Runner]] = {"classification": ClassificationRunner, "regression": RegressionRunner,
                                    "survival": SurvivalRunner, "forecast": ForecastRunner, "text": TextRunner}
