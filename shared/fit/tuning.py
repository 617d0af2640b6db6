"""``deepcases fit --tune METHOD --trials N``: a hyperparameter search nested inside the cross-validation.

The search space is declared once, here (``SEARCH_SPACE``); ``space_for`` keeps the parameters the
task's deep model actually uses. For every outer fold:

1. the fold's TRAINING rows are split again (``inner_split``: stratified for classes and events,
   time-ordered for a forecast) into an inner fit part and an inner validation part;
2. ``shared.tuning.tune`` runs ``trials`` configurations: each trains on the inner fit part and is
   scored (the task's headline metric) on the inner validation part — the fold's test rows are
   never handed to the objective;
3. the best configuration is retrained on the fold's whole training part (as the default model is)
   and scored ONCE on the fold's test rows: the ``<model>_tuned`` row of the results table.

A last search over all rows (nothing is scored on test after it) picks the configuration of the
final saved model. All trials go to ``<run>/tuning/trials.csv`` (column ``search``: ``fold 1`` ...
``final``), each search's KerasTuner state and TensorBoard HParams logs to ``<run>/tuning/<search>/``.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shared.tuning import Choice, Float, Int, Param

from .config import FitConfig
from ..errors import UserError

log = logging.getLogger(__name__)

#: the search space of every task, declared once (grid search needs every float stepped or a choice)
SEARCH_SPACE: tuple[Param, ...] = (
    Choice("learning_rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]),
    Choice("batch_size", [16, 32, 64, 128]),
    Choice("units", [16, 32, 64, 128]),
    Int("layers", 1, 3),
    Float("dropout", 0.0, 0.5, step=0.1),
    Choice("l2", [0.0, 1e-5, 1e-4, 1e-3]),
)
#: share of a fold's training rows held out to score the trials
INNER_FRACTION = 0.2
#: hyperparameters each task's deep model uses (survival batches are whole risk sets, >= 1024 rows; the
#: text and forecast networks take no L2; a CNN text encoder has no units/layers)
_USED = {
    "classification": ("learning_rate", "batch_size", "units", "layers", "dropout", "l2"),
    "regression": ("learning_rate", "batch_size", "units", "layers", "dropout", "l2"),
    "survival": ("learning_rate", "units", "layers", "dropout", "l2"),
    "forecast": ("learning_rate", "batch_size", "units", "layers", "dropout"),
    "text": ("learning_rate", "batch_size", "dropout"),
}


def space_for(task: str, config: FitConfig) -> list[Param]:
    """The parameters of ``SEARCH_SPACE`` that change the deep model of ``task``."""
    used = set(_USED[task])
    if task == "text" and config.text_encoder in ("lstm", "gru"):
        used |= {"units", "layers"}
    return [p for p in SEARCH_SPACE if p.name in used]


def apply(config: FitConfig, values: dict[str, Any]) -> FitConfig:
    """``config`` with a trial's values: ``units`` x ``layers`` become the MLP's (or RNN's) layer sizes."""
    changes: dict[str, Any] = {}
    for name in ("learning_rate", "dropout", "l2"):
        if name in values:
            changes[name] = round(float(values[name]), 10)
    if "batch_size" in values:
        changes["batch_size"] = int(values["batch_size"])
    if "units" in values or "layers" in values:
        units = int(values.get("units", config.hidden_units[0]))
        layers = int(values.get("layers", len(config.hidden_units)))
        changes["hidden_units"] = (units,) * layers
        changes["rnn_units"] = (units,) * layers
    return dataclasses.replace(config, **changes)


def with_config(runner: Any, config: FitConfig) -> Any:
    """A shallow copy of ``runner`` whose models are built from ``config`` (same data, same folds)."""
    clone = copy.copy(runner)
    clone.config = config
    return clone


def inner_split(runner: Any, rows: np.ndarray, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` (one fold's training rows) -> (inner fit rows, inner validation rows), both inside ``rows``."""
    from .models import _validation_split

    rows = np.asarray(rows)
    n = len(rows)
    if runner.task == "forecast":
        h = runner.config.horizon
        n_val = max(h, int(round(INNER_FRACTION * n)) // h * h)
        need = runner.config.window + runner.config.horizon + 2   # a few training windows before the block
        if n - n_val < need:
            raise UserError(f"--tune needs at least {need + n_val} training steps in every fold for an inner "
                             f"validation block of {n_val}, but a fold has {n}; use fewer --folds, a shorter "
                             f"--window, or drop --tune")
        return rows[: n - n_val], rows[n - n_val:]
    stratify = {"classification": getattr(runner, "y", None), "text": getattr(runner, "y", None),
                "survival": getattr(runner, "event", None)}.get(runner.task)
    fit, val = _validation_split(n, INNER_FRACTION, seed, stratify=None if stratify is None else stratify[rows])
    if val is None:
        raise UserError(f"--tune needs an inner validation split of each fold's training rows, but a fold has only "
                         f"{n} rows; use more rows, fewer --folds, or drop --tune")
    return rows[fit], rows[val]


def check_inner_splits(runner: Any, *, seed: int) -> None:
    """Raise the ``inner_split`` error before any training if some fold (or all rows) is too small to tune."""
    for k, (train, _) in enumerate(runner.splits()):
        inner_split(runner, train, seed=seed + k)
    inner_split(runner, np.arange(len(runner.frame)), seed=seed)


def make_objective(runner: Any, rows: np.ndarray, *, seed: int) -> tuple[Any, np.ndarray, np.ndarray]:
    """The objective of one search: hyperparameters -> headline metric on an inner split of ``rows`` only."""
    fit_rows, val_rows = inner_split(runner, rows, seed=seed)

    def objective(values: dict[str, Any]) -> float:
        trial = with_config(runner, apply(runner.config, values))
        model = trial.candidates(seed)[0]
        trial.fit(model, fit_rows)
        prediction = trial.predict(model, fit_rows, val_rows)
        return float(trial.score(fit_rows, val_rows, prediction)[runner.headline])

    return objective, fit_rows, val_rows


@dataclasses.dataclass
class NestedSearch:
    fold_rows: pd.DataFrame          # one row per fold for the <model>_tuned entry (folds.csv layout)
    fold_models: list[Any]           # the tuned deep model of each fold (their best epochs)
    final_config: FitConfig          # the configuration of the final saved model
    trials: pd.DataFrame             # every trial of every search, column "search"
    summary: dict[str, Any]          # extra["tuning"] of metrics.json
    names: list[str]                 # the searched hyperparameters

    def runner(self, runner: Any) -> Any:
        """``runner`` building its deep model with the final configuration."""
        return with_config(runner, self.final_config)


def nested_search(runner: Any, config: FitConfig, directory: Path, *, splits: list[tuple[np.ndarray, np.ndarray]],
                  deep_name: str) -> NestedSearch:
    """Search inside every fold's training rows, score each fold's best once on its test rows, then search
    on all rows for the final model. Raises ``RuntimeError`` when every trial of a search failed."""
    from shared.artifacts import write_csv
    from shared.tuning import tune

    space = space_for(runner.task, config)
    names = [p.name for p in space]
    direction = "max" if runner.higher_is_better else "min"

    def search(label: str, rows: np.ndarray, seed: int) -> Any:
        objective, fit_rows, val_rows = make_objective(runner, rows, seed=seed)
        log.info("tuning (%s): %d %s trials, fit on %d rows, validate on %d (%s)", label, config.trials, config.tune,
                 len(fit_rows), len(val_rows), runner.headline)
        found = tune(objective, space, method=config.tune, trials=config.trials,
                     directory=directory / label.replace(" ", ""), direction=direction, seed=config.seed)
        frames.append(found.trials.assign(search=label))
        return found, {"fit": len(fit_rows), "validation": len(val_rows)}

    rows, models, frames, per_fold = [], [], [], []
    for k, (train, test) in enumerate(splits):
        label, seed = f"fold {k + 1}", config.seed + k     # the default deep model of this fold used seed + k
        found, inner = search(label, train, seed)
        started = time.perf_counter()
        tuned = with_config(runner, apply(config, found.best))
        model = tuned.candidates(seed)[0]
        tuned.fit(model, train)
        scores = tuned.score(train, test, tuned.predict(model, train, test))
        rows.append({"fold": k, "model": f"{deep_name}_tuned", "kind": "deep", "train_rows": len(train),
                     "test_rows": len(test), **scores, "seconds": round(time.perf_counter() - started, 2)})
        models.append(model)
        per_fold.append({"search": label, "best": found.best, "best_val_score": found.best_score,
                         "inner_rows": inner, "test": {m: float(v) for m, v in scores.items()}})
        log.info("tuning (%s): best %s = %.4f on validation -> %.4f on the fold's test rows", label, found.best,
                 found.best_score, scores[runner.headline])
    final, _ = search("final", np.arange(len(runner.frame)), config.seed)
    trials = pd.concat(frames, ignore_index=True)
    trials = trials[["search", *[c for c in trials.columns if c != "search"]]]
    write_csv(directory / "trials.csv", trials)
    completed = int((trials["status"] == "COMPLETED").sum())
    summary = {
        "method": config.tune, "trials": config.trials, "searches": len(splits) + 1, "completed_trials": completed,
        "best": final.best, "best_val_score": final.best_score,
        "score": f"validation {runner.headline}", "direction": direction, "search_space": names,
        "directory": "tuning/",
        "protocol": (f"nested: in each of the {len(splits)} folds, {config.trials} {config.tune}-search trials trained "
                     f"on {100 - round(100 * INNER_FRACTION)} % of the fold's training rows and scored on the other "
                     f"{round(100 * INNER_FRACTION)} %; the best retrained on the fold's training rows and scored "
                     f"once on its test rows (<model>_tuned); 'best' is the search on all rows, used by the final "
                     f"model"),
        "per_fold": per_fold,
    }
    return NestedSearch(pd.DataFrame(rows), models, apply(config, final.best), trials, summary, names)
