"""Fit the shared deep models to a new table with no code: ``deepcases fit`` and ``deepcases predict``.

    config = FitConfig(data="cancer.csv", target="target", task="classification", folds=5)
    outcome = run_fit(config)                       # cross-validation vs baselines, final model saved
    predictions, warnings = predict_frame(outcome.run_dir.path, new_rows)

Modules, one job each: ``config`` (options, YAML), ``schema`` (column-type inference, checks of new
rows), ``checks`` (bad input, before any training), ``preprocess`` (impute/scale/one-hot fitted on
training rows), ``models`` (deep models and baselines), ``tasks`` (folds, metrics, figures per
task), ``run`` (the cross-validation loop and the run directory), ``predict``, ``command`` (CLI).
Importing this package does not import TensorFlow.
"""

from .config import TASKS, FitConfig
from .predict import predict_file, predict_frame
from .models import train_keras
from .preprocess import TabularPreprocessor
from .run import run_fit
from .schema import Schema, infer_kind, infer_schema

__all__ = ["TASKS", "FitConfig", "Schema", "TabularPreprocessor", "infer_kind", "infer_schema", "predict_file",
           "predict_frame", "run_fit", "train_keras"]
