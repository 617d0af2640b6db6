"""``deepcases fit`` end to end: read, check, infer, cross-validate against baselines, retrain, save.

    from shared.fit import FitConfig, run_fit
    outcome = run_fit(FitConfig(data="cancer.csv", target="target", task="classification"))

The run directory holds what an application's does (config.json, environment.json, data.json,
metrics.json, results.md/csv, figures/, history*.csv, model.keras) plus what ``deepcases predict``
needs: schema.json (inferred column kinds), preprocessing.json (fitted on all rows) and
inferred_columns.md; folds.csv and oof_predictions.csv hold the per-fold and out-of-fold numbers.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .checks import Prepared, prepare
from .config import FitConfig
from .schema import Schema, infer_schema
from .tasks import RUNNERS, Runner
from ..errors import UserError

log = logging.getLogger(__name__)


def load_and_check(config: FitConfig, frame: pd.DataFrame | None = None) -> tuple[Prepared, Schema]:
    """Read the table, validate it for the task and infer the column kinds; no training, no files."""
    from shared.data import read_table

    if frame is None:
        if not config.data:
            raise UserError("pass the table to fit with --data FILE.csv|FILE.parquet (or data: in the config file)")
        frame = read_table(config.data, what="--data file")
    prepared = prepare(frame, config)
    schema = infer_schema(prepared.frame, task=prepared.task, target=config.target,
                          event_column=config.event_column if prepared.task == "survival" else None,
                          time_column=config.time_column if prepared.task == "forecast" else None,
                          text_column=config.text_column if prepared.task == "text" else None,
                          column_types=config.column_types, classes=prepared.classes)
    return prepared, schema


def cross_validate_models(runner: Runner, *, seed: int) -> tuple[pd.DataFrame, list[Any]]:
    """Every fold, every model: fit on the training rows, predict the test rows, score.

    Returns one row per (fold, model) and the deep model of each fold (for its history).
    Each fold's models are fresh (``runner.candidates(seed + fold)``), so nothing carries over.
    """
    rows, deep_models = [], []
    splits = runner.splits()
    for fold, (train, test) in enumerate(splits):
        overlap = np.intersect1d(train, test)
        if overlap.size:
            raise RuntimeError(f"fold {fold} has {overlap.size} rows in both train and test")  # pragma: no cover
        for model in runner.candidates(seed + fold):
            started = time.perf_counter()
            runner.fit(model, train)
            prediction = runner.predict(model, train, test)
            scores = runner.score(train, test, prediction)
            runner.collect(model.name, fold, test, prediction)
            rows.append({"fold": fold, "model": model.name, "kind": model.kind, "train_rows": len(train),
                         "test_rows": len(test), **scores, "seconds": round(time.perf_counter() - started, 2)})
            if model.kind == "deep":
                deep_models.append(model)
            log.info("fold %d/%d %-26s %s", fold + 1, len(splits), model.name,
                     "  ".join(f"{k}={v:.4f}" for k, v in scores.items() if np.isfinite(v))
                     + (f"  (epochs: best {model.best_epoch})" if model.kind == "deep" else ""))
    return pd.DataFrame(rows), deep_models


def summarize(folds: pd.DataFrame, metrics: tuple[str, ...]) -> list[dict[str, Any]]:
    """Mean and (population) std over folds per model, in the order the models ran."""
    out = []
    for name in dict.fromkeys(folds["model"]):
        part = folds[folds["model"] == name]
        values = part[list(metrics)].astype(float)
        out.append({"name": name, "kind": part["kind"].iloc[0], "metrics": values.mean(skipna=False).to_dict(),
                    "std": values.std(ddof=0, skipna=False).to_dict()})
    return out


def run_fit(config: FitConfig, *, frame: pd.DataFrame | None = None, verbose: int = 0) -> Any:
    """Fit ``config``: returns the ``CaseStudyRun`` (run directory, results) like an application."""
    from shared.app import finish_run, start_run
    from shared.artifacts import fingerprint_frame, write_csv, write_json, write_text
    from shared.results import CaseStudyResult

    started = time.perf_counter()
    prepared, schema = load_and_check(config, frame)      # every input error is raised here, before training
    runner = RUNNERS[prepared.task](prepared, schema, config, verbose=verbose)
    runner.splits()                                        # too-short series and similar fail before training too
    if config.tune:
        from .tuning import check_inner_splits

        check_inner_splits(runner, seed=config.seed)       # so does a fold too small for an inner validation split
    app = config.app_name
    run = start_run(app, config, runs_dir=config.runs_dir, run_id=config.run_id, seed=config.seed)
    dataset = fingerprint_frame(prepared.frame, name=Path(config.data).name if config.data else app,
                                time_column=schema.time_column)
    run.write_data_info(dataset)
    write_json(run.path / "schema.json", schema.to_dict())
    write_text(run.path / "inferred_columns.md", f"# Inferred columns ({prepared.task}, target {config.target})\n\n"
               + schema.table() + "\n" + "".join(f"\n- {note}" for note in prepared.notes) + "\n")
    log.info("task %s, %d rows; %s", prepared.task, len(prepared.frame), runner.protocol())

    folds, deep_models = cross_validate_models(runner, seed=config.seed)
    search = None
    if config.tune:   # nested inside the folds above: each fold's search sees only its training rows
        from .tuning import nested_search

        search = nested_search(runner, config, run.path / "tuning", splits=runner.splits(),
                               deep_name=deep_models[0].name)
        folds = pd.concat([folds, search.fold_rows], ignore_index=True)
    write_csv(run.path / "folds.csv", folds)
    write_csv(run.path / "oof_predictions.csv", runner.oof_frame())
    for i, model in enumerate(deep_models):
        if model.history:
            run.write_history(model.history, f"history_fold{i}")

    result = CaseStudyResult(app=app, protocol=runner.protocol(), dataset=dataset)
    note = f"mean ± std over {config.folds} folds"
    tuned_note = (f"{note}; per fold, the best of {config.trials} {config.tune}-search trials scored on an inner "
                  f"validation split of the fold's training rows, retrained on them, scored once on the test rows")
    for row in summarize(folds, runner.metrics):
        result.add(row["name"], row["kind"], row["metrics"], std=row["std"],
                   note=tuned_note if row["name"].endswith("_tuned") and search is not None else note,
                   seeds=[config.seed] if row["kind"] == "deep" else None)

    best = [m.best_epoch for m in (deep_models if search is None else search.fold_models)]
    epochs = max(1, int(round(float(np.median(best)))))
    log.info("final %s on all %d rows for %d epochs (median best epoch over the folds)%s", deep_models[0].name,
             len(prepared.frame), epochs, "" if search is None else f", tuned: {search.summary['best']}")
    final_runner = runner if search is None else search.runner(runner)
    final = final_runner.final_model(epochs, config.seed)
    run.save_model(final.model)
    run.write_history(final.history, "history")
    write_json(run.path / "preprocessing.json", {"task": prepared.task, **runner.saved_state(final)})
    result.extra.update({"task": prepared.task, "final_epochs": epochs, "fold_best_epochs": best,
                         "columns": {c.name: c.kind for c in schema.columns if c.role == "feature"},
                         "notes": prepared.notes})
    _figures(run, runner, deep_models, result)
    if search is not None:
        _tuning_figure(run, runner, search)
        result.extra["tuning"] = search.summary
    return finish_run(app, run, [result], started=started, results_file=config.results_file)


def _tuning_figure(run: Any, runner: Runner, search: Any) -> None:
    from shared.viz import plot_tuning_scores

    run.save_figure(plot_tuning_scores(search.trials, search.names, score_name=search.summary["score"],
                                       direction=search.summary["direction"], log_params=("learning_rate", "l2"),
                                       group="search"), "tuning_scores")


def _figures(run: Any, runner: Runner, deep_models: list[Any], result: Any) -> None:
    from shared.viz import plot_bar, plot_learning_curves

    history = deep_models[0].history
    if history and len(history.get("loss", [])) >= 1:
        run.save_figure(plot_learning_curves(history, metrics=["loss"],
                                             title=f"{deep_models[0].name}: learning curves (fold 1)"),
                        "learning_curves")
    values = {m.name: m.metrics.get(runner.headline) for m in result.models}
    errors = {m.name: (m.std or {}).get(runner.headline) or 0.0 for m in result.models}
    values = {k: v for k, v in values.items() if v is not None}
    if values:
        direction = "higher" if runner.higher_is_better else "lower"
        run.save_figure(plot_bar(values, errors={k: errors[k] for k in values}, highlight=deep_models[0].name,
                                 xlabel=f"{runner.headline} ({direction} is better; mean ± std over folds)",
                                 title="Deep model against the baselines"), "comparison")
    runner.figures(run)
