"""Medical case study: DeepSurv patient risk and a "dies within H days" classifier vs Cox, random
survival forest, Kaplan–Meier and logistic regression (PROTOCOLS.md §Survival).

    deepcases run survival                                   # SUPPORT, the full protocol
    deepcases run survival --dataset support whas500 gbsg2   # the three datasets, one results table each
    deepcases run survival --source csv --path cohort.csv --duration-column days --event-column died
    deepcases run survival --source parquet --path cohort_parts/ --duration-column days --event-column died
    deepcases run survival --predict new.csv --model-dir runs/survival/<run-id> --days 30 90 180

5-fold cross-validation stratified on the event (random_state 42); preprocessing fitted on each
training fold; Harrell's C, Uno's C, integrated Brier score, and ROC-AUC / accuracy of P(event by
H) on test patients whose status at H is known. Artifacts and logs hold aggregates only (metrics,
curves, bins, fitted scalers); the only per-patient output is the file ``--predict`` writes.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal, NoReturn

import numpy as np

from shared.app import CaseStudyRun, RunOptions, cli_main, finish_run, start_run
from shared.artifacts import fingerprint_frame
from shared.errors import UserError
from shared.options import option, parse_config, require_at_least
from shared.tuning import Choice, Float

from .data import DATASETS, SurvivalData, load_csv, load_dataset, median_event_time

log = logging.getLogger(__name__)

APP = "survival"
QUICK_ARGS = ["--dataset", "support", "--folds", "2", "--seeds", "1", "--epochs", "40", "--patience", "6",
              "--rsf-trees", "20", "--importance-repeats", "1", "--models", "deepsurv", "horizon_mlp",
              "logistic_hazard"]
FULL_ARGS = ["--dataset", "support", "whas500", "gbsg2", "--seeds", "3", "--rsf-trees", "200"]

# The hyperparameter search space of DeepSurv (``--tune``), declared once. Nested: in each outer fold, trials
# train on an inner stratified TUNE_VALIDATION share of that fold's training patients and are scored by Harrell's
# C on the rest of them; the best config is retrained on the whole training fold and scored once on its test fold.
# Hidden layers taper: ``layers`` layers of units, units/2, ... (units 128, layers 2 = the default (128, 64)).
SEARCH_SPACE = [
    Float("learning_rate", 3e-4, 1e-2, log=True),
    Choice("batch_size", [256, 512, 1024]),
    Choice("units", [32, 64, 128]),
    Choice("layers", [1, 2, 3]),
    Float("dropout", 0.0, 0.5, step=0.1),
    Choice("l2", [0.0, 1e-5, 1e-4, 1e-3]),
]
TUNE_VALIDATION = 0.2
# The discrete-time networks (``--tune-model logistic_hazard|deephit``) search the same network options plus
# their grid (and DeepHit's ranking loss), scored by the inner-validation integrated Brier score (their point is
# the survival curve, which Harrell's C does not see).
SEARCH_SPACES = {
    "deepsurv": SEARCH_SPACE,
    "logistic_hazard": [*SEARCH_SPACE, Choice("time_bins", [10, 20, 30])],
    "deephit": [*SEARCH_SPACE, Choice("time_bins", [10, 20, 30]), Float("deephit_alpha", 0.05, 2.0, log=True),
                Choice("deephit_sigma", [0.05, 0.1, 0.3, 1.0])],
}

#: Reference numbers quoted from PROTOCOLS.md §Survival for display beside our own measurements
#: (harrell_c, uno_c, ibs, auc_h, accuracy_h). Never used as results.
REFERENCE = {
    "support": {"kaplan_meier": (0.5, 0.5, 0.2364, 0.5, 0.6579),
                "cox_ph": (0.7707, 0.7678, 0.1496, 0.8663, 0.8143),
                "random_survival_forest": (0.7739, 0.7716, 0.1420, 0.8827, 0.8377),
                "logistic_regression_h": (0.7528, 0.7481, None, 0.8781, 0.8301)},
    "whas500": {"cox_ph": (0.7753, 0.7792, 0.1439, 0.7966, 0.8060),
                "random_survival_forest": (0.7699, 0.7760, 0.1500, 0.7828, 0.7820)},
    "gbsg2": {"cox_ph": (0.6823, 0.6725, 0.1568, 0.7324, 0.7603),
              "random_survival_forest": (0.6921, 0.6800, 0.1524, 0.7384, 0.7619)},
}
_REF_KEYS = ("harrell_c", "uno_c", "ibs", "auc_h", "accuracy_h")
#: The deep models ``--models`` chooses from; logistic_hazard and deephit are the discrete-time networks.
DEEP_MODELS = ("deepsurv", "horizon_mlp", "logistic_hazard", "deephit")
DISCRETE = ("logistic_hazard", "deephit")
MODELS, PREDICTION = "models and protocol", "prediction for new patients (instead of the case study)"


@dataclasses.dataclass(frozen=True)
class SurvivalConfig(RunOptions):
    # --dataset: None on the command line, resolved by _validate (with --predict it picks the saved model)
    dataset: tuple[str, ...] = option(("support",), cli_default=None, nargs="+", choices=DATASETS, group="data",
                                      help="bundled dataset(s): support (SurvSet support2, default), whas500, gbsg2 "
                                           "(scikit-survival); with --predict, which saved model of the run to use")
    source: Literal["sample", "csv", "parquet"] = option(
        "sample", choices=["sample", "csv", "parquet"], group="data",
        help="sample = the bundled datasets (offline); csv = your own cohort (--path); parquet = "
             "your cohort as a directory of Parquet files (or a large CSV), read in chunks")
    path: str | None = option(None, group="data", help="CSV of your cohort: one row per patient (with --source csv), "
                                                       "or a directory of Parquet files (with --source parquet)")
    duration_column: str | None = option(None, group="data",
                                         help="column of follow-up times (positive, e.g. days) in --path")
    event_column: str | None = option(None, group="data",
                                      help="column of event indicators in --path (1 = event, 0 = censored)")
    horizon_days: float | None = option(None, group="data",
                                        help="horizon H of the classifier (default: the median observed event time)")
    max_rows: int | None = option(None, group="data",
                                  help="use a random event-stratified subsample of this many patients (quick checks)")
    folds: int = option(5, group=MODELS, help="run the first N of the protocol's 5 stratified folds (5 = full protocol)")
    seeds: int = option(3, group=MODELS, help="training seeds per fold for the deep models (--seed, --seed+1, ...)")
    hidden_units: tuple[int, ...] = option((128, 64), group=MODELS, help="widths of the hidden layers of both networks")
    dropout: float = option(0.3, group=MODELS, help="dropout after each layer")
    l2: float = option(1e-4, group=MODELS, help="L2 weight penalty")
    normalization: str | None = "batch"
    learning_rate: float = option(1e-3, group=MODELS, help="Adam step size")
    batch_size: int = option(1024, group=MODELS, help="batch size; the Cox loss uses each batch's risk sets, so keep "
                                                      "it large (0 = full batch)")
    epochs: int = option(200, group=MODELS, help="maximum epochs (early stopping)")
    patience: int = option(15, group=MODELS, help="early-stopping patience")
    rsf_trees: int = option(200, group=MODELS,
                            help="trees of the random survival forest baseline (protocol: 200; 0 skips it)")
    importance_repeats: int = option(3, group=MODELS, help="shuffles per covariate for the permutation importance")
    models: tuple[str, ...] = option(DEEP_MODELS, choices=DEEP_MODELS, group=MODELS,
                                     help="deep models to fit (default: all); logistic_hazard and deephit are "
                                          "discrete-time networks on a grid of --time-bins intervals")
    time_bins: int = option(20, group=MODELS,
                            help="intervals of the discrete-time models' grid, cut at quantiles of the training "
                                 "fold's event times (>= 2, at most the number of distinct event times)")
    deephit_alpha: float = option(0.5, group=MODELS,
                                  help="weight of DeepHit's ranking loss (loss = likelihood + alpha * ranking)")
    deephit_sigma: float = option(0.1, group=MODELS,
                                  help="scale sigma of DeepHit's ranking loss exp(-(F_i - F_j) / sigma)")
    tune_model: str = option("deepsurv", choices=tuple(SEARCH_SPACES), group=MODELS,
                             help="the deep model --tune searches (deepsurv: by inner-validation Harrell's C; "
                                  "logistic_hazard, deephit: by inner-validation integrated Brier score)")
    predict: str | None = option(None, metavar="FILE", group=PREDICTION,
                                 help="CSV of new patients with the training covariates")
    predict_model: str | None = None  # the --dataset given with --predict
    model_dir: str | None = option(None, group=PREDICTION,
                                   help="run directory of an earlier case-study run (holds deepsurv_*.keras)")
    days: tuple[float, ...] = option((30.0, 90.0, 180.0), group=PREDICTION,
                                     help="days at which to report each patient's survival probability")
    output: str | None = option(None, group=PREDICTION,
                                help="where to write the predictions (default: FILE with .predictions.csv)")
    id_column: str | None = option(None, group=PREDICTION,
                                   help="a column of FILE to copy into the output to identify patients")

    @property
    def seed_list(self) -> list[int]:
        return [self.seed + i for i in range(self.seeds)]


def _validate(config: SurvivalConfig, error: Callable[[str], NoReturn]) -> SurvivalConfig:
    """The checks across options, and the datasets resolved from --dataset."""
    c = config
    require_at_least(c, error, 1, "trials")
    if c.predict is not None:
        if c.model_dir is None:
            error("--predict needs --model-dir (the run directory of an earlier case-study run)")
    elif c.source in ("csv", "parquet"):
        missing = [o for o, v in (("--path", c.path), ("--duration-column", c.duration_column),
                                  ("--event-column", c.event_column)) if v is None]
        if missing:
            error(f"--source {c.source} needs {', '.join(missing)}")
    require_at_least(c, error, 1, "epochs", "seeds", "importance_repeats")
    if not 2 <= c.folds <= 5:
        error(f"--folds must be between 2 and 5 (of the protocol's 5 folds), got {c.folds}")
    if c.time_bins < 2:
        error(f"--time-bins must be >= 2 (intervals of the discrete-time grid), got {c.time_bins}")
    if not c.deephit_alpha >= 0 or not c.deephit_sigma > 0:
        error(f"--deephit-alpha must be >= 0 and --deephit-sigma > 0, got {c.deephit_alpha}, {c.deephit_sigma}")
    if c.rsf_trees < 0 or c.batch_size < 0 or c.patience < 0:
        error("--rsf-trees, --batch-size and --patience must be >= 0")
    if c.horizon_days is not None and not c.horizon_days > 0:
        error(f"--horizon-days must be > 0, got {c.horizon_days}")
    if c.max_rows is not None and c.max_rows < 50:
        error(f"--max-rows must be >= 50 for 5-fold cross-validation, got {c.max_rows}")
    given = c.dataset  # None unless --dataset was given
    return dataclasses.replace(c, dataset=tuple(dict.fromkeys(given or SurvivalConfig.dataset)),
                               models=tuple(dict.fromkeys(c.models)),
                               predict_model=given[0] if c.predict is not None and given else None)


def parse_args(argv: Sequence[str] | None = None) -> SurvivalConfig:
    return parse_config(SurvivalConfig, argv, prog="deepcases run survival", description=__doc__.split("\n\n")[0],
                        validate=_validate)


# ------------------------------------------------------------------------------------ the study
def _load(config: SurvivalConfig) -> list[SurvivalData]:
    if config.source == "csv":
        datasets = [load_csv(config.path, duration_column=config.duration_column, event_column=config.event_column,
                             encoding=config.encoding)]
    elif config.source == "parquet":
        from .data import load_parquet

        datasets = [load_parquet(config.path, duration_column=config.duration_column,
                                 event_column=config.event_column)]
    else:
        datasets = [load_dataset(name) for name in config.dataset]
    if config.max_rows is not None:
        datasets = [_subsample(d, config.max_rows, config.seed) for d in datasets]
    return datasets


def _subsample(data: SurvivalData, rows: int, seed: int) -> SurvivalData:
    if rows >= data.n:
        return data
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(data.n), train_size=rows, random_state=seed, stratify=data.event)
    sliced = data.subset(np.sort(keep))
    return dataclasses.replace(sliced, name=f"{data.name}-slice{rows}")


def _settings(config: SurvivalConfig) -> Any:
    from .models import NetSettings

    return NetSettings(hidden_units=config.hidden_units, dropout=config.dropout, l2=config.l2,
                       normalization=config.normalization, learning_rate=config.learning_rate,
                       batch_size=config.batch_size, epochs=config.epochs, patience=config.patience)


def _tuned_settings(config: SurvivalConfig, hp: dict[str, Any]) -> Any:
    """The DeepSurv settings of one point of SEARCH_SPACE (epochs, patience, normalization from the config)."""
    units, layers = int(hp["units"]), int(hp["layers"])
    return dataclasses.replace(_settings(config), hidden_units=tuple(max(units // 2 ** i, 8) for i in range(layers)),
                               dropout=float(hp["dropout"]), l2=float(hp["l2"]),
                               learning_rate=float(hp["learning_rate"]), batch_size=int(hp["batch_size"]))


def _tuning_score(model: str) -> tuple[str, str]:
    """(score name, direction) of the --tune search of ``model``."""
    return ("inner-validation Harrell's C", "max") if model == "deepsurv" else ("inner-validation IBS", "min")


def _train_tuned(config: SurvivalConfig, hp: dict[str, Any], x: np.ndarray, time_: np.ndarray, event: np.ndarray,
                 *, seed: int, verbose: int) -> Any:
    """Train ``--tune-model`` at one point of its search space."""
    from .models import train_deepsurv, train_discrete

    settings = _tuned_settings(config, hp)
    if config.tune_model == "deepsurv":
        return train_deepsurv(x, time_, event, settings=settings, seed=seed, verbose=verbose)
    return train_discrete(x, time_, event, name=config.tune_model, time_bins=int(hp["time_bins"]), settings=settings,
                          seed=seed, alpha=float(hp.get("deephit_alpha", config.deephit_alpha)),
                          sigma=float(hp.get("deephit_sigma", config.deephit_sigma)), verbose=verbose)


def tuning_objective(config: SurvivalConfig, train_part: SurvivalData, *, verbose: int = 0
                     ) -> tuple[Any, dict[str, int]]:
    """The ``--tune`` objective: hyperparameters -> the score of ``--tune-model`` on an inner validation share
    (DeepSurv: Harrell's C; the discrete-time networks: the integrated Brier score on the protocol's kind of grid,
    10th-80th percentile of the inner training part's event times).

    ``train_part`` holds the TRAINING patients of one outer fold only (the caller subsets them, so no
    trial can see a test patient). They are split once, stratified on the event (seed ``--seed``):
    ``TUNE_VALIDATION`` of them score the trials, the rest train them (the preprocessor is fitted on
    that rest; DeepSurv carves its own early-stopping slice from it). Returns the objective and sizes.
    """
    from shared.evaluation.survival import brier_time_grid, harrell_c, integrated_brier

    from .features import SurvivalPreprocessor
    from .models import _inner_split, train_deepsurv

    fit, val = _inner_split(train_part.event, TUNE_VALIDATION, config.seed)
    pre = SurvivalPreprocessor(train_part.numeric, train_part.categorical).fit(train_part.covariates.iloc[fit])
    x_fit, x_val = pre.transform(train_part.covariates.iloc[fit]), pre.transform(train_part.covariates.iloc[val])

    t_fit, e_fit, t_val, e_val = train_part.time[fit], train_part.event[fit], train_part.time[val], train_part.event[val]
    if config.tune_model != "deepsurv":
        grid = brier_time_grid(e_fit, t_fit, t_val, n=50)

        def objective(hp: dict[str, Any]) -> float:
            net = _train_tuned(config, hp, x_fit, t_fit, e_fit, seed=config.seed, verbose=verbose)
            return float(integrated_brier(e_fit, t_fit, e_val, t_val, np.clip(net.survival(x_val, grid), 0, 1), grid))

        return objective, {"fit": int(len(fit)), "validation": int(len(val))}

    def objective(hp: dict[str, Any]) -> float:
        ds = train_deepsurv(x_fit, train_part.time[fit], train_part.event[fit], settings=_tuned_settings(config, hp),
                            seed=config.seed, verbose=verbose)
        return float(harrell_c(train_part.event[val], train_part.time[val], ds.risk(x_val)))

    return objective, {"fit": int(len(fit)), "validation": int(len(val))}


def evaluate_dataset(data: SurvivalData, config: SurvivalConfig, run: Any, *, verbose: int = 0) -> Any:
    """Cross-validate the deep models and every baseline on one dataset; save figures and the bundle."""
    import pandas as pd

    from shared.artifacts import write_csv
    from shared.results import CaseStudyResult
    from shared.viz import plot_tuning_scores

    from . import plots
    from .baselines import make_baselines
    from .features import SurvivalPreprocessor
    from .importance import permutation_importance
    from .models import rmst_grid, rmst_risk, train_deepsurv, train_discrete, train_horizon_mlp
    from .predict import save_bundle
    from .protocol import Prediction, iter_folds, score, summarize

    horizon = config.horizon_days or median_event_time(data)
    settings = _settings(config)
    seeds = config.seed_list
    models = [m for m in DEEP_MODELS if m in config.models]
    discrete = [m for m in models if m in DISCRETE]
    log.info("%s: %d patients, %d events, horizon H = %g days, %d fold(s) x %d seed(s), deep models %s", data.name,
             data.n, data.n_events, horizon, config.folds, len(seeds), ", ".join(models))
    base_scores: dict[str, list[dict]] = {}
    deep_scores: dict[str, list[list[dict]]] = {m: [[] for _ in seeds] for m in models}
    ensemble_scores: dict[str, list[dict]] = {m: [] for m in discrete} if len(seeds) > 1 else {}
    timing: dict[str, list[float]] = {}
    km_time, km_event, km_group = [], [], []
    cal_label, cal_probs = [], {}
    test_time, test_event = [], []
    surv_h: dict[str, list[np.ndarray]] = {}          # pooled test folds, seed 0: S(H | x) for the decile figure
    histories: dict[str, dict[str, list[float]]] = {}
    importance: dict[str, Any] = {}
    tuned_scores: list[list[dict]] = [[] for _ in seeds]
    tuning_folds: list[dict[str, Any]] = []
    trial_frames = []
    fold1_nets: dict[str, Any] = {}                   # seed 0's networks of fold 1, for the learned map

    for fold, train, test, ctx in iter_folds(data.time, data.event, horizon=horizon):
        if fold >= config.folds:
            break
        pre = SurvivalPreprocessor(data.numeric, data.categorical).fit(data.covariates.iloc[train])
        x_tr, x_te = pre.transform(data.covariates.iloc[train]), pre.transform(data.covariates.iloc[test])
        t_tr, e_tr = data.time[train], data.event[train]
        if discrete and horizon > t_tr[e_tr.astype(bool)].max():
            raise UserError(f"the horizon H = {horizon:g} lies beyond the last event time of training fold {fold + 1} "
                             f"({t_tr[e_tr.astype(bool)].max():g}), where the discrete-time models have no grid; "
                             "pass a smaller --horizon-days")
        test_time.append(ctx.test_time)
        test_event.append(ctx.test_event)
        known = ctx.test_known
        cal_label.append(ctx.test_label[known])
        fold_preds: dict[str, Prediction] = {}
        for baseline in make_baselines(horizon=horizon, rsf_trees=config.rsf_trees, seed=config.seed):
            started = time.perf_counter()
            baseline.fit(x_tr, t_tr, e_tr)
            pred = baseline.predict(x_te, ctx)
            timing.setdefault(baseline.name, []).append(time.perf_counter() - started)
            base_scores.setdefault(baseline.name, []).append(score(ctx, pred))
            fold_preds[baseline.name] = pred
        for name in ("cox_ph", "random_survival_forest"):
            if name in fold_preds:
                surv_h.setdefault(name, []).append(1.0 - fold_preds[name].p_horizon)
        cal_probs.setdefault("Cox 1 - S(H)", []).append(fold_preds["cox_ph"].p_horizon[known])
        curves: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {m: [] for m in discrete}
        for s, seed in enumerate(seeds):
            if "deepsurv" in models:
                started = time.perf_counter()
                ds = train_deepsurv(x_tr, t_tr, e_tr, settings=settings, seed=seed, verbose=verbose)
                risk = ds.risk(x_te)
                surv = ds.baseline.survival(risk, np.concatenate([ctx.grid, [horizon]]))
                own = np.exp(-ds.baseline.baseline_cumulative_hazard(ctx.test_time) * np.exp(risk - ds.baseline.shift))
                pred = Prediction(risk=risk, surv=surv[:, :-1], p_horizon=1.0 - surv[:, -1], surv_own=own)
                timing.setdefault("deepsurv", []).append(time.perf_counter() - started)
                deep_scores["deepsurv"][s].append(score(ctx, pred))
                if s == 0:
                    km_time.append(ctx.test_time)
                    km_event.append(ctx.test_event)
                    km_group.append(plots.risk_terciles(ds.risk(x_tr), risk))
                    cal_probs.setdefault("DeepSurv 1 - S(H)", []).append(pred.p_horizon[known])
                    surv_h.setdefault("deepsurv", []).append(surv[:, -1])
                if s == 0 and fold == 0:
                    histories["deepsurv"] = ds.history
                    fold1_nets["deepsurv"] = ds.model
                    drops, errs, base_c = permutation_importance(
                        data.covariates.iloc[test].reset_index(drop=True), ctx.test_time, ctx.test_event,
                        transform=pre.transform, predict=ds.risk, columns=list(data.numeric + data.categorical),
                        repeats=config.importance_repeats, seed=config.seed)
                    ranked = sorted(drops, key=drops.get, reverse=True)
                    importance = {"fold": 1, "harrell_c": base_c, "repeats": config.importance_repeats,
                                  "drop_in_harrell_c": {c: round(drops[c], 5) for c in ranked},
                                  "std": {c: round(errs[c], 5) for c in ranked}}
                    run.save_figure(plots.importance(drops, errs, dataset=data.name),
                                    f"{data.name}_permutation_importance")
                    save_bundle(run, data.name, model=ds.model, preprocessor=pre, baseline=ds.baseline,
                                meta={"dataset": data.name, "horizon": horizon, "fold": 1, "seed": seed,
                                      "numeric": list(data.numeric), "categorical": list(data.categorical),
                                      "trained_on": "training part of protocol fold 1 (80 % of the patients)"})
            if "horizon_mlp" in models:
                started = time.perf_counter()
                hz = train_horizon_mlp(x_tr, t_tr, e_tr, horizon=horizon, settings=settings, seed=seed,
                                       verbose=verbose)
                p_h = hz.predict(x_te)
                timing.setdefault("horizon_mlp", []).append(time.perf_counter() - started)
                deep_scores["horizon_mlp"][s].append(score(ctx, Prediction(risk=p_h, p_horizon=p_h)))
                if s == 0:
                    cal_probs.setdefault("horizon MLP", []).append(p_h[known])
                if s == 0 and fold == 0:
                    histories["horizon_mlp"] = hz.history
                    fold1_nets["horizon_mlp"] = hz.model
            for name in discrete:
                started = time.perf_counter()
                net = train_discrete(x_tr, t_tr, e_tr, name=name, time_bins=config.time_bins, settings=settings,
                                     seed=seed, alpha=config.deephit_alpha, sigma=config.deephit_sigma,
                                     verbose=verbose)
                at = np.concatenate([ctx.grid, [horizon], rmst_grid(net.grid)])
                surv, own = net.curves(x_te, at, ctx.test_time)
                timing.setdefault(name, []).append(time.perf_counter() - started)
                curves[name].append((surv, own))
                deep_scores[name][s].append(score(ctx, _discrete_prediction(surv, own, len(ctx.grid), net.grid)))
                if s == 0:
                    surv_h.setdefault(name, []).append(surv[:, len(ctx.grid)])
                if s == 0 and fold == 0:
                    histories[name] = net.history
                    fold1_nets[name] = net.model
        for name, per_seed in curves.items():  # seed ensemble: the mean of S(t | x) over the seeds (one grid per fold)
            if name in ensemble_scores:
                surv = np.mean([c[0] for c in per_seed], axis=0)
                own = np.mean([c[1] for c in per_seed], axis=0)
                ensemble_scores[name].append(score(ctx, _discrete_prediction(surv, own, len(ctx.grid), net.grid)))
        if config.tune:  # nested: search inside this training fold, retrain the best on all of it, test once
            from shared.tuning import tune

            objective, sizes = tuning_objective(config, data.subset(train), verbose=verbose)
            search = tune(objective, SEARCH_SPACES[config.tune_model], method=config.tune, trials=config.trials,
                          directory=run.path / "tuning" / f"{data.name}_fold{fold + 1}",
                          direction=_tuning_score(config.tune_model)[1], seed=config.seed)
            tuned = _tuned_settings(config, search.best)
            for s, seed in enumerate(seeds):
                fitted = _train_tuned(config, search.best, x_tr, t_tr, e_tr, seed=seed, verbose=verbose)
                if config.tune_model == "deepsurv":
                    risk = fitted.risk(x_te)
                    surv = fitted.baseline.survival(risk, np.concatenate([ctx.grid, [horizon]]))
                    pred = Prediction(risk=risk, surv=surv[:, :-1], p_horizon=1.0 - surv[:, -1])
                else:
                    surv, own = fitted.curves(x_te, np.concatenate([ctx.grid, [horizon], rmst_grid(fitted.grid)]),
                                              ctx.test_time)
                    pred = _discrete_prediction(surv, own, len(ctx.grid), fitted.grid)
                tuned_scores[s].append(score(ctx, pred))
            tuning_folds.append({"fold": fold + 1, "best": search.best, "best_val_score": search.best_score,
                                 "completed_trials": int((search.trials["status"] == "COMPLETED").sum()),
                                 "inner_sizes": sizes, "hidden_units": list(tuned.hidden_units)})
            trial_frames.append(search.trials.assign(dataset=data.name, fold=fold + 1))
        if fold == 0 and fold1_nets:
            _patient_map(run, data.name, config, fold1_nets, x_te, ctx, horizon)
        log.info("%s fold %d/%d: Cox C = %.4f; %s", data.name, fold + 1, config.folds,
                 base_scores["cox_ph"][-1]["harrell_c"],
                 ", ".join(f"{m} C = {deep_scores[m][0][-1]['harrell_c']:.4f}" for m in models))

    result = CaseStudyResult(app=APP, protocol=_protocol_name(config),
                             dataset={**fingerprint_frame(data.frame(), name=data.name), "events": data.n_events,
                                      "horizon_days": horizon})
    for name, per_seed in deep_scores.items():
        per_fold = [{k: _mean_or_none([seed_scores[f][k] for seed_scores in per_seed]) for k in per_seed[0][f]}
                    for f in range(len(per_seed[0]))]
        mean, std = summarize(per_fold)
        seed_means = [summarize(scores)[0] for scores in per_seed]
        result.add(name, "deep", mean, seeds=seeds, std=std,
                   note=_deep_note(name, config) + f"; std over folds, mean of {len(seeds)} seeds")
        result.extra.setdefault("seed_std", {})[name] = (
            {k: float(np.std([m[k] for m in seed_means])) for k in mean} if len(seeds) > 1 else None)
    for name, per_fold in ensemble_scores.items():
        mean, std = summarize(per_fold)
        result.add(f"{name}_ensemble", "deep", mean, seeds=seeds, std=std,
                   note=f"mean of S(t | x) over the {len(seeds)} seeds' {name} networks; risk from the mean curve; "
                        "std over folds")
    if config.tune:
        per_fold = [{k: _mean_or_none([seed_scores[f][k] for seed_scores in tuned_scores]) for k in tuned_scores[0][f]}
                    for f in range(len(tuned_scores[0]))]
        mean, std = summarize(per_fold)
        score_name, direction = _tuning_score(config.tune_model)
        space = [p.name for p in SEARCH_SPACES[config.tune_model]]
        result.add(f"{config.tune_model}_tuned", "deep", mean, seeds=seeds, std=std,
                   note=f"nested search: best of {config.trials} {config.tune}-search trials per outer fold on "
                        f"{score_name} (training patients only), retrained on the training fold, "
                        f"tested once; std over folds, mean of {len(seeds)} seeds")
        trials = pd.concat(trial_frames, ignore_index=True)
        write_csv(run.path / "tuning" / f"{data.name}_trials.csv", trials)
        result.extra["tuning"] = {
            "method": config.tune, "trials": config.trials, "model": config.tune_model,
            "scheme": f"nested: per outer fold, {1 - TUNE_VALIDATION:.0%} of its training patients train the "
                      f"trials and {TUNE_VALIDATION:.0%} (stratified on the event) score them",
            "score": score_name, "per_fold": tuning_folds,
            "best_val_score": float(np.mean([f["best_val_score"] for f in tuning_folds])),
            "search_space": space, "directory": "tuning/"}
        single = config.source != "sample" or len(config.dataset) == 1
        run.save_figure(plot_tuning_scores(trials.assign(fold=[f"fold {f}" for f in trials["fold"]]),
                                           space, score_name=score_name, direction=direction, group="fold",
                                           log_params=tuple(p for p in ("learning_rate", "l2", "deephit_alpha")
                                                            if p in space),
                                           title=f"{data.name}: {config.tune_model} search per outer fold "
                                                 "(star = fold's best)"),
                        "tuning_scores" if single else f"{data.name}_tuning_scores")
    for name, per_fold in base_scores.items():
        mean, std = summarize(per_fold)
        result.add(name, "baseline", mean, std=std, note=_baseline_note(name, config))
    result.extra.update({
        "horizon_days": horizon, "folds_run": config.folds,
        "known_status_at_h": int(sum(len(x) for x in cal_label)),
        "train_seconds_per_fold": {k: round(float(np.mean(v)), 2) for k, v in timing.items()},
        "permutation_importance": importance,
        "reference_protocols_md": {k: dict(zip(_REF_KEYS, v)) for k, v in REFERENCE.get(data.name, {}).items()},
        "batching": f"Cox loss over risk sets within batches of {config.batch_size or 'all'} training rows "
                    "(shuffled each epoch); early stopping on a 15 % stratified slice scored as one batch",
    })
    if discrete:
        result.extra["discrete_time"] = {
            "time_bins": config.time_bins, "deephit_alpha": config.deephit_alpha,
            "deephit_sigma": config.deephit_sigma,
            "grid": "edges at quantiles k / time_bins of the training fold's event times, plus 0",
            "interpolation": "constant hazard inside a bin (log S linear)",
            "risk_score": "minus the restricted mean survival time to the grid's last edge"}
    if km_time:
        fig, p_value = plots.km_by_terciles(np.concatenate(km_time), np.concatenate(km_event),
                                            np.concatenate(km_group), dataset=data.name, horizon=horizon)
        run.save_figure(fig, f"{data.name}_km_risk_terciles")
        result.extra["logrank_p_risk_terciles"] = p_value
    run.save_figure(plots.calibration(np.concatenate(cal_label), {k: np.concatenate(v) for k, v in cal_probs.items()},
                                      dataset=data.name, horizon=horizon), f"{data.name}_calibration_horizon")
    _calibration_at_horizon(result, run, data.name, config, horizon, np.concatenate(test_time),
                            np.concatenate(test_event), {k: np.concatenate(v) for k, v in surv_h.items()})
    for name, history in histories.items():
        run.write_history(history, f"history_{data.name}_{name}_fold1")
        run.save_figure(plots.learning_curves(history, title=f"{data.name}: {name} learning curves (fold 1)"),
                        f"{data.name}_learning_curves_{name}")
    return result


def _patient_map(run: Any, dataset: str, config: SurvivalConfig, nets: dict[str, Any], x_test: np.ndarray,
                 ctx: Any, horizon: float) -> None:
    """Fold 1's test patients in the last hidden layer of the best-placed deep model (logistic hazard
    first), coloured by what was observed by the horizon, beside maps of the prepared covariates."""
    from shared.maps.layers import head_input
    from shared.maps.learned import learned_map

    name = next(m for m in ("logistic_hazard", "deephit", "deepsurv", "horizon_mlp") if m in nets)
    hidden = head_input(nets[name], x_test)
    outcome = np.where(~ctx.test_known, "censored before H", np.where(ctx.test_label == 1, "event by H",
                                                                      "event-free at H"))
    hover = [f"time {t:g} d · {'event' if e else 'censored'}" for t, e in zip(ctx.test_time, ctx.test_event)]
    learned_map(run, name=f"{dataset}_patient_map", learned=hidden, raw=x_test, labels=outcome,
                title=f"{dataset}: test patients of fold 1 in {name}'s last hidden layer",
                label_name=f"observed by H = {horizon:g} d", learned_name=f"{name} last hidden layer",
                raw_name="prepared covariates", seed=config.seed, max_points=config.map_points,
                methods=config.learned_maps, hover_text=hover, required=False)


def _discrete_prediction(surv: np.ndarray, own: np.ndarray, n_grid: int, grid: Any) -> Any:
    """A discrete-time model's Prediction from S on [protocol grid, H, RMST grid] and S at own times."""
    from .models import rmst_grid, rmst_risk
    from .protocol import Prediction

    return Prediction(risk=rmst_risk(surv[:, n_grid + 1:], rmst_grid(grid)), surv=surv[:, :n_grid],
                      p_horizon=1.0 - surv[:, n_grid], surv_own=own)


def _calibration_at_horizon(result: Any, run: Any, dataset: str, config: SurvivalConfig, horizon: float,
                            time_: np.ndarray, event: np.ndarray, surv_h: dict[str, np.ndarray]) -> None:
    """Deciles of predicted S(H) against Kaplan–Meier within each decile, for the best deep model (lowest mean
    test IBS among those with a curve: a choice for display only) and Cox / RSF; figure + table in extra."""
    from . import plots

    deep = [r for r in result.models if r.kind == "deep" and r.name in surv_h and "ibs" in r.metrics]
    shown = {}
    if deep:
        best = min(deep, key=lambda r: r.metrics["ibs"]).name
        shown[best] = surv_h[best]
    for name in ("cox_ph", "random_survival_forest"):
        if name in surv_h:
            shown[name] = surv_h[name]
    fig, table = plots.calibration_at_horizon(time_, event, shown, horizon=horizon, dataset=dataset)
    single = config.source != "sample" or len(config.dataset) == 1
    run.save_figure(fig, "calibration_h" if single else f"{dataset}_calibration_h")
    result.extra["calibration_h"] = {"models": table, "bins": "deciles of predicted S(H) on the pooled test folds "
                                                               "(seed 0); observed = Kaplan–Meier S(H) in the decile"}


def _deep_note(name: str, config: SurvivalConfig) -> str:
    return {"deepsurv": "Cox-loss MLP, Breslow baseline; auc_h/accuracy_h from 1 - S(H)",
            "horizon_mlp": "sigmoid MLP on patients with known status at H; its probability is the risk score",
            "logistic_hazard": f"logistic-hazard MLP on {config.time_bins} training-quantile bins; risk = -RMST; "
                               "auc_h/accuracy_h from 1 - S(H)",
            "deephit": f"DeepHit MLP (PMF likelihood + {config.deephit_alpha:g} x ranking, sigma "
                       f"{config.deephit_sigma:g}) on {config.time_bins} bins; risk = -RMST",
            }[name]


def _mean_or_none(values: list[Any]) -> float | None:
    return None if any(v is None for v in values) else float(np.mean(values))


def _protocol_name(config: SurvivalConfig) -> str:
    name = "survival 5-fold stratified CV (PROTOCOLS.md)"
    if config.folds < 5:
        name += f", first {config.folds} of 5 folds (quick)"
    return name


def _baseline_note(name: str, config: SurvivalConfig) -> str:
    return {"kaplan_meier": "sksurv kaplan_meier_estimator, same curve for everyone",
            "cox_ph": "sksurv CoxPHSurvivalAnalysis(alpha=0.01)",
            "random_survival_forest": f"sksurv RandomSurvivalForest({config.rsf_trees} trees, min_samples_leaf=15)",
            "logistic_regression_h": "sklearn LogisticRegression at H; probability used as risk, no survival curve",
            }.get(name, "")


def run_case_study(config: SurvivalConfig, *, verbose: int = 0) -> CaseStudyRun:
    started = time.perf_counter()
    run = start_run(APP, config, runs_dir=config.runs_dir, run_id=config.run_id, seed=config.seed)
    datasets = _load(config)
    run.write_data_info([{**fingerprint_frame(d.frame(), name=d.name), **d.summary()} for d in datasets])
    results = [evaluate_dataset(d, config, run, verbose=verbose) for d in datasets]
    if config.tune:  # one table of every trial: dataset, outer fold, hyperparameters, inner-validation C
        import pandas as pd

        from shared.artifacts import write_csv

        write_csv(run.path / "tuning" / "trials.csv",
                  pd.concat([pd.read_csv(run.path / "tuning" / f"{d.name}_trials.csv") for d in datasets],
                            ignore_index=True))
    return finish_run(APP, run, results, started=started, results_file=config.results_file)


def _predict_mode(config: SurvivalConfig) -> str | None:
    """``--predict FILE``: score new patients with a saved model instead of running the case study."""
    if config.predict is None:
        return None
    from .predict import predict_file

    target = predict_file(config.predict, model_dir=config.model_dir, days=config.days, output=config.output,
                          dataset=config.predict_model, id_column=config.id_column)
    return f"predictions written to {target}"


def main(argv: Sequence[str] | None = None) -> int:
    return cli_main(APP, argv, parse_args=parse_args, run_case_study=run_case_study, shortcut=_predict_mode)


if __name__ == "__main__":  # pragma: no cover
    from shared.console import console_entry

    raise SystemExit(console_entry(main))
