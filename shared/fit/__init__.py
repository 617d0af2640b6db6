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

from importlib import import_module
from typing import Any

from .config import TASKS, FitConfig

#: name -> module, imported on first use so that `deepcases --help` (which builds this command's
#: parser from .config) does not pay for pandas, scikit-learn or TensorFlow
_LAZY = {"run_fit": ".run", "predict_frame": ".predict", "predict_file": ".predict",
         "TabularPreprocessor": ".preprocess", "Schema": ".schema", "infer_kind": ".schema",
         "infer_schema": ".schema", "train_keras": ".models"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["TASKS", "FitConfig", *_LAZY]
