"""Hyperparameter search shared by every application (KerasTuner oracles: random, grid, Bayesian).

An application declares its search space once and gives an objective that trains on the
training part and returns the validation score; the test split is never seen here:

    SPACE = [Float("learning_rate", 1e-4, 1e-2, log=True), Choice("batch_size", [32, 64, 128]),
             Int("units", 16, 128, step=16), Float("dropout", 0.0, 0.5), Float("l2", 1e-6, 1e-3, log=True)]
    result = tune(lambda hp: train_and_validate(**hp), SPACE, method="random", trials=10,
                  directory=run_dir / "tuning", direction="min", seed=42)
    result.best            # {"learning_rate": ..., ...}: retrain with it, evaluate once on test

The search is resumable (rerun the same call: finished trials are kept), logs every trial to
``trials.csv`` and to TensorBoard's HParams dashboard (``tensorboard --logdir DIR/hparams``).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .artifacts import write_csv

log = logging.getLogger(__name__)

METHODS = ("random", "grid", "bayes")


@dataclasses.dataclass(frozen=True)
class Param:
    """One hyperparameter: ``kind`` is "float", "int" or "choice"."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    values: tuple[Any, ...] = ()
    log: bool = False
    step: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("float", "int", "choice"):
            raise ValueError(f"parameter kind must be float, int or choice, got {self.kind!r}")
        if self.kind == "choice":
            if not self.values:
                raise ValueError(f"choice {self.name!r} needs at least one value")
        elif self.low is None or self.high is None or not self.low < self.high:
            raise ValueError(f"{self.name!r} needs low < high, got low={self.low}, high={self.high}")
        elif self.log and self.low <= 0:
            raise ValueError(f"{self.name!r} is log-scaled, so low must be > 0, got {self.low}")


def Float(name: str, low: float, high: float, *, log: bool = False, step: float | None = None) -> Param:  # noqa: N802
    return Param(name, "float", low, high, log=log, step=step)


def Int(name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> Param:  # noqa: N802
    return Param(name, "int", low, high, log=log, step=step)


def Choice(name: str, values: Sequence[Any]) -> Param:  # noqa: N802
    return Param(name, "choice", values=tuple(values))


@dataclasses.dataclass
class TuningResult:
    best: dict[str, Any]
    best_score: float
    trials: pd.DataFrame
    directory: Path

    @property
    def trials_csv(self) -> Path:
        return self.directory / "trials.csv"


def _hyperparameters(space: Sequence[Param], *, grid: bool) -> Any:
    import keras_tuner as kt

    hps = kt.HyperParameters()
    for p in space:
        if p.kind == "choice":
            hps.Choice(p.name, list(p.values))
        elif p.kind == "int":
            hps.Int(p.name, int(p.low), int(p.high), step=int(p.step or 1),
                    sampling="log" if p.log else "linear")
        else:
            step = p.step
            if grid and step is None:
                raise ValueError(f"grid search needs a step for float {p.name!r}, or declare it as a Choice")
            hps.Float(p.name, float(p.low), float(p.high), step=step, sampling="log" if p.log else "linear")
    return hps


def tune(objective: Callable[[dict[str, Any]], float], space: Sequence[Param], *, method: str = "random",
         trials: int = 10, directory: str | Path, direction: str = "min", seed: int = 42,
         project: str = "search", overwrite: bool = False) -> TuningResult:
    """Search ``space`` with ``trials`` evaluations of ``objective(hparams) -> validation score``.

    ``direction`` says whether a lower ("min", e.g. validation loss) or higher ("max", e.g.
    validation AUC) score is better. A failed trial (objective raises) is logged and skipped.
    """
    import keras_tuner as kt

    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    if direction not in ("min", "max"):
        raise ValueError(f"direction must be 'min' or 'max', got {direction!r}")
    if trials < 1:
        raise ValueError(f"trials must be >= 1, got {trials}")
    if not space:
        raise ValueError("the search space is empty; declare at least one Float, Int or Choice")
    names = [p.name for p in space]
    if len(set(names)) != len(names):
        raise ValueError(f"parameter names must be unique, got {names}")
    hps = _hyperparameters(space, grid=method == "grid")  # validates before anything is written
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    goal = kt.Objective("score", direction=direction)
    oracle_cls = {"random": kt.oracles.RandomSearchOracle, "grid": kt.oracles.GridSearchOracle,
                  "bayes": kt.oracles.BayesianOptimizationOracle}[method]
    oracle = oracle_cls(objective=goal, max_trials=trials, seed=seed, hyperparameters=hps,
                        max_consecutive_failed_trials=trials)
    hparams_dir = directory / "hparams"

    class FunctionTuner(kt.engine.base_tuner.BaseTuner):
        """Runs the application's objective; no model is stored by the tuner itself."""

        def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
            values = dict(trial.hyperparameters.values)
            log.info("trial %s: %s", trial.trial_id, values)
            score = float(objective(values))
            if not math.isfinite(score):
                raise ValueError(f"objective returned {score} for {values}")
            _log_hparams(hparams_dir / f"trial_{trial.trial_id}", values, score)
            return {"score": score}

        def save_model(self, trial_id: str, model: Any, step: int = 0) -> None:
            return None

        def load_model(self, trial: Any) -> None:
            return None

    tuner = FunctionTuner(oracle=oracle, directory=str(directory), project_name=project, overwrite=overwrite)
    tuner.search(verbose=0)  # library code stays quiet; trials are logged
    frame = trials_frame(tuner.oracle, names)
    write_csv(directory / "trials.csv", frame)
    done = frame[frame["status"] == "COMPLETED"]
    if done.empty:
        raise RuntimeError(f"every tuning trial failed; see the log and {directory}")
    best_row = done.sort_values("score", ascending=direction == "min").iloc[0]
    best = {name: _plain(best_row[name]) for name in names}
    log.info("best of %d trials: score %.5f with %s", len(done), best_row["score"], best)
    return TuningResult(best=best, best_score=float(best_row["score"]), trials=frame, directory=directory)


def trials_frame(oracle: Any, names: Sequence[str]) -> pd.DataFrame:
    rows = []
    for trial_id, trial in sorted(oracle.trials.items()):
        values = trial.hyperparameters.values
        row = {"trial": trial_id, "status": str(trial.status), "score": trial.score}
        row.update({name: values.get(name) for name in names})
        rows.append(row)
    return pd.DataFrame(rows, columns=["trial", "status", "score", *names])


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _log_hparams(logdir: Path, values: Mapping[str, Any], score: float) -> None:
    """One TensorBoard run per trial with its hyperparameters and score (HParams dashboard)."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp_api

    writer = tf.summary.create_file_writer(str(logdir))
    with writer.as_default():
        hp_api.hparams({k: (v if isinstance(v, (bool, int, float, str)) else str(v)) for k, v in values.items()})
        tf.summary.scalar("score", score, step=1)
    writer.close()
