"""Command-line parts of ``deepcases fit`` and ``deepcases predict`` (wired into ``shared.cli``)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from .config import COLUMN_KINDS, FIELDS, TASKS, FitConfig
from ..errors import UserError

FIT_DESCRIPTION = """\
Fit the shared deep models to your own table, with no code: read the file, infer the column
types (numeric, categorical, text, datetime, id) and say what was inferred, pick the model family
(dense MLP for tables, the NLP family for a text column, an RNN over windows for a forecast, an
MLP with the Cox loss for survival), run cross-validation (stratified k-fold; time-ordered
walk-forward for forecasts) with the task's baselines beside the deep model, write the run
artifacts and results table like the applications, then retrain on all rows and save the model,
its preprocessing and the training schema for `deepcases predict`.

Baselines: classification and text -> majority class, logistic regression (TF-IDF for text);
regression -> mean, ridge; survival -> Kaplan-Meier, Cox (scikit-survival); forecast -> naive,
seasonal naive. Options can also come from --config FILE.yaml (command-line options win)."""

FIT_EPILOG = """\
examples:
  deepcases fit --data cancer.csv --target target --task classification
  deepcases fit --data visits.csv --target days --event-column died --task survival
  deepcases fit --data sales.csv --target units --time-column date --task forecast --window 28 --horizon 7
  deepcases fit --data cancer.csv --target target --tune random --trials 10   # nested hyperparameter search
  deepcases fit --print-config > fit.yaml    # edit, then: deepcases fit --config fit.yaml"""


def add_fit_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options default to SUPPRESS so that only those given override the config file and defaults."""
    S = argparse.SUPPRESS
    d = FitConfig()
    what = parser.add_argument_group("data and task")
    what.add_argument("--data", default=S, metavar="FILE", help="the table: .csv (optionally compressed) or .parquet")
    what.add_argument("--target", default=S, metavar="COLUMN",
                      help="column to predict (survival: the duration; forecast: the series)")
    what.add_argument("--task", default=S, choices=TASKS, help="what to fit (default: inferred from the options "
                      "and the target column, and logged)")
    what.add_argument("--event-column", default=S, metavar="COLUMN",
                      help="survival: the event indicator (1 = event observed, 0 = censored)")
    what.add_argument("--time-column", default=S, metavar="COLUMN",
                      help="forecast: the date column that orders the series (one row per date)")
    what.add_argument("--text-column", default=S, metavar="COLUMN", help="text: the column holding the raw text")
    what.add_argument("--column-type", default=S, action="append", metavar="COLUMN=KIND", dest="column_type",
                      help=f"override the inferred kind of a column; KIND is one of {', '.join(COLUMN_KINDS)} "
                           "(repeat the option for several columns)")
    cv = parser.add_argument_group("cross-validation and model")
    cv.add_argument("--folds", type=int, default=S, help=f"number of folds (default {d.folds})")
    cv.add_argument("--epochs", type=int, default=S,
                    help=f"maximum epochs per fold, early stopping on a validation part (default {d.epochs})")
    cv.add_argument("--batch-size", type=int, default=S, help=f"batch size (default {d.batch_size})")
    cv.add_argument("--hidden-units", default=S, metavar="N,N",
                    help=f"MLP hidden layer sizes (default {','.join(map(str, d.hidden_units))})")
    cv.add_argument("--dropout", type=float, default=S, help=f"dropout rate (default {d.dropout})")
    cv.add_argument("--learning-rate", type=float, default=S, help=f"Adam learning rate (default {d.learning_rate})")
    cv.add_argument("--patience", type=int, default=S, help=f"early-stopping patience in epochs (default {d.patience})")
    cv.add_argument("--window", type=int, default=S, help=f"forecast: past steps the RNN reads (default {d.window})")
    cv.add_argument("--horizon", type=int, default=S, help=f"forecast: steps predicted at once (default {d.horizon})")
    cv.add_argument("--seasonality", type=int, default=S,
                    help="forecast: season length for the seasonal-naive baseline and MASE (default: from the "
                         "date spacing, e.g. daily 7, monthly 12)")
    cv.add_argument("--text-encoder", default=S, choices=("cnn", "lstm", "gru", "minilm"),
                    help=f"text: encoder of the NLP family (default {d.text_encoder}); minilm: the pretrained "
                         "all-MiniLM-L6-v2, frozen, mean-pooled, with a dense head trained on your texts (installed "
                         "by data_scripts/fetch_pretrained_text.py)")
    search = parser.add_argument_group("hyperparameter search (nested in the cross-validation)")
    search.add_argument("--tune", default=S, choices=("random", "grid", "bayes"),
                        help="search learning rate, batch size, units, layers, dropout and L2 (shared/fit/tuning.py) "
                             "inside each fold's training rows (inner validation split), retrain the best on the "
                             "fold and score it once on the fold's test rows: a <model>_tuned row beside the "
                             "default one; the final model uses the best of a last search on all rows")
    search.add_argument("--trials", type=int, default=S, help=f"trials per search (default {d.trials}); the cost is "
                        "(folds + 1) x trials trainings")
    run = parser.add_argument_group("run")
    run.add_argument("--name", default=S, help="run folder name under --runs-dir (default fit_<data file stem>)")
    run.add_argument("--seed", type=int, default=S,
                     help=f"one seed for splits, models and TensorFlow (default {d.seed})")
    run.add_argument("--runs-dir", default=S, help=f"where run directories are written (default {d.runs_dir})")
    run.add_argument("--run-id", default=S, help="name of the run directory (default: a timestamp)")
    run.add_argument("--log-level", default=S, choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                     help=f"logging verbosity (default {d.log_level})")
    run.add_argument("--results-file", default=S, help="also write the results (PROTOCOLS.md format) to this file")
    conf = parser.add_argument_group("configuration file")
    conf.add_argument("--config", default=None, metavar="FILE.yaml",
                      help="read options from YAML (keys as in --print-config); command-line options win")
    conf.add_argument("--print-config", action="store_true",
                      help="print the resolved configuration as YAML and exit (a file to start from)")
    return parser


def _column_types(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        column, sep, kind = item.partition("=")
        if not sep or not column or kind not in COLUMN_KINDS:
            raise UserError(f"--column-type expects COLUMN=KIND with KIND one of {list(COLUMN_KINDS)}, got {item!r}")
        out[column] = kind
    return out


def config_from_args(args: argparse.Namespace) -> FitConfig:
    from .config import from_mapping, load_yaml

    values: dict[str, Any] = {k: v for k, v in vars(args).items() if k in FIELDS}
    base = FitConfig()
    if args.config:
        base = from_mapping(load_yaml(args.config), base=base, source=f"config file {args.config}")
    if "column_type" in vars(args):
        values["column_types"] = {**base.column_types, **_column_types(args.column_type)}
    return from_mapping(values, base=base, source="command line")


def fit_command(args: argparse.Namespace) -> int:
    from shared.app import configure_logging, run_cli

    def body() -> int:
        config = config_from_args(args)
        if args.print_config:
            from .config import to_yaml

            print(to_yaml(config), end="")
            return 0
        configure_logging(config.log_level)
        from .run import run_fit

        outcome = run_fit(config, verbose=2 if config.log_level == "DEBUG" else 0)
        print(outcome.summary_table())
        print((outcome.run_dir.path / "inferred_columns.md").read_text(encoding="utf-8"))
        print(f"predict new rows: deepcases predict --run {outcome.run_dir.path} --data NEW.csv")
        return 0

    return run_cli("fit", body)


def add_predict_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--run", required=True, metavar="RUN_DIR", help="a run directory written by `deepcases fit`")
    parser.add_argument("--data", required=True, metavar="FILE",
                        help="new rows (.csv or .parquet) with the training columns; for a forecast, the recent "
                             "history (date and series, at least --window rows)")
    parser.add_argument("--out", default=None, metavar="FILE.csv",
                        help="where to write the predictions (default RUN_DIR/predictions.csv)")
    parser.add_argument("--strict", action="store_true",
                        help="treat extra columns and categories never seen in training as errors instead of "
                             "warnings (default: ignore them / use the unknown bucket)")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="logging verbosity (default WARNING)")
    return parser


def predict_command(args: argparse.Namespace) -> int:
    from shared.app import configure_logging, run_cli

    def body() -> int:
        configure_logging(args.log_level)
        logging.getLogger("shared.fit").setLevel(logging.ERROR)   # the warnings are printed below instead
        from .predict import predict_file

        path, predictions, notes = predict_file(args.run, args.data, out=args.out, strict=args.strict)
        for note in notes:
            print(f"warning: {note}")
        print(predictions.head(10).to_string(index=False))
        print(f"{len(predictions)} prediction(s) written to {path}")
        return 0

    return run_cli("predict", body)
