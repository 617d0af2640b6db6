"""The static HTML report of case-study runs (``deepcases report``).

``build_report(paths, out_dir=None)`` writes ``index.html`` (every application's headline numbers)
and one page per run (results tables, figures, interactive charts, data fingerprint, config,
environment) and returns the index path; a run with hyperparameter-search results (``--tune``:
``extra["tuning"]`` and ``tuning/trials.csv``) also gets ``<app>-tuning.html`` (trial table with the
best trial marked, score against each hyperparameter, best configuration, tuned vs default on test),
linked from its page and the index. It opens from the file system with no network.
"""

from .build import build_report, default_out_dir
from .runs import RunInfo, find_runs, load_run
from .tables import headline, higher_is_better, reference_table, results_table

__all__ = ["build_report", "default_out_dir", "find_runs", "load_run", "RunInfo", "headline", "higher_is_better",
           "reference_table", "results_table"]
