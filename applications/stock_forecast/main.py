"""Finance: next-day stock price with LSTM/GRU and a 1-D CNN against the random-walk baselines.

    deepcases run stock_forecast                     # bundled S&P 500 1999-2018 (offline)
    deepcases run stock_forecast --ticker AAPL       # Yahoo Finance via yfinance, cached on disk
    deepcases run stock_forecast --source csv --path prices.csv --date-column Date --close-column Close
    deepcases run stock_forecast --source parquet --path prices_parts/ --date-column Date --close-column Close
    deepcases run stock_forecast --target volatility # next-day variance vs EWMA / GARCH / GJR-GARCH / HAR

Protocol (PROTOCOLS.md §Finance): chronological 70/15/15 split by row; a one-step-ahead forecast
of every test day's close from all true history before it; RMSE, MAE, MAPE, MASE, directional
accuracy and MAE ratio to persistence, beside persistence, drift, ARIMA(1,1,1)+drift and always-up.
Inputs are windows of past log returns (optionally volume and high/low range) scaled with
training-span statistics; the networks output quantiles of the cumulative log return for each
of the next ``--horizon`` days (median = forecast, outer quantiles = interval). Each deep model's
interval is reported raw, calibrated by CQR on the validation span (``_cqr``) and by ACI updated
daily through the test span (``_aci``); the median is never moved.

``--target volatility`` (PROTOCOLS.md §Finance — volatility target): the next day's variance of
% log returns from windows of past returns and High/Low ranges, against the constant, EWMA,
GARCH(1,1) and GJR-GARCH references of ``arch`` and HAR on the Parkinson proxy, scored by QLIKE
and MSE against the Parkinson and squared-return proxies and by 1 %/5 % VaR backtests.
``--target both`` writes the two protocols as two result objects.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from shared.app import CaseStudyRun, RunOptions, cli_main, finish_run, start_run
from shared.options import comma_list, option, parse_config, require_at_least
from shared.tuning import Choice, Float
from shared.errors import UserError

from .calibrate import ACI_GAMMA
from .features import FEATURES
from .models import MODELS

log = logging.getLogger(__name__)

APP = "stock_forecast"
FRACTIONS = (0.70, 0.15, 0.15)
DISCLAIMER = ("Not investment advice: a statistical forecast for teaching; stock prices are close to a random "
              "walk and these intervals can fail.")
#: PROTOCOLS.md §Finance reference numbers on the S&P 500 sample (display only, not measured here)
REFERENCE = {
    "persistence": {"rmse": 20.076, "mae": 13.110, "mape": 0.542, "mase": 1.235, "directional_accuracy": 0.537},
    "drift": {"rmse": 20.074, "mae": 13.105, "mape": 0.542, "mase": 1.235, "directional_accuracy": 0.537},
    "arima_111_drift": {"rmse": 20.097, "mae": 13.102, "mape": 0.542, "mase": 1.234,
                        "directional_accuracy": 0.534},
    "auto_arima_012": {"rmse": 20.103, "mae": 13.161, "mape": 0.544, "mase": 1.240, "directional_accuracy": 0.523},
    "always_up": {"directional_accuracy": 0.537},
}

QUICK_ARGS = ["--source", "sample", "--seeds", "1", "--epochs", "6", "--patience", "3", "--window", "20",
              "--units", "16", "--batch-size", "128", "--horizon", "5", "--forecast-next", "5"]
FULL_ARGS = ["--source", "sample", "--seeds", "3", "--epochs", "60", "--patience", "8", "--window", "30",
             "--units", "32", "--horizon", "5", "--forecast-next", "10", "--target", "both"]

# The hyperparameter search space (``--tune``), declared once. Trials train the first of --models on the
# training span (early stopping on the validation span, as the default run) and are scored by the one-step
# MAE ratio to persistence over the validation span; the rows of the test span are cut off before the search.
SEARCH_SPACE = [
    Float("learning_rate", 3e-4, 1e-2, log=True),
    Choice("batch_size", [32, 64, 128]),
    Choice("units", [16, 32, 64]),
    Choice("window", [10, 20, 30, 60]),
    Float("dropout", 0.0, 0.4, step=0.1),
    Choice("l2", [0.0, 1e-5, 1e-4, 1e-3]),
]


@dataclasses.dataclass(frozen=True)
class StockConfig(RunOptions):
    # --source: None on the command line, resolved by _validate (yfinance with --ticker, else sample)
    source: str = option("sample", cli_default=None, choices=["sample", "yfinance", "csv", "parquet"], group="data",
                         help="where prices come from (default: yfinance when --ticker is given, else the bundled "
                              "sample)")
    ticker: str | None = option(None, group="data", help="ticker symbol for --source yfinance, e.g. AAPL or ^GSPC")
    path: str | None = option(None, group="data", help="CSV file for --source csv (a date column and a close column, "
                              "optional Open/High/Low/Volume), or a directory of Parquet files for --source parquet")
    date_column: str = option("Date", group="data", help="date column of the CSV (default: Date)")
    close_column: str = option("Close", group="data",
                               help="close column of the CSV, ideally split/dividend-adjusted (default: Close)")
    start: str | None = option(None, group="data", help="first date to use, ISO format (default: all data)")
    end: str | None = option(None, group="data", help="last date to use, ISO format (default: all data)")
    cache_dir: str | None = option(None, group="data", help="yfinance download cache (default: "
                                   "$DEEPCASES_CACHE/yfinance or ~/.cache/deepcases/yfinance)")
    models: tuple[str, ...] = option(("lstm", "gru", "cnn1d"), type=comma_list, group="model",
                                     help=f"comma-separated deep models among {','.join(MODELS)} (default: all)")
    features: tuple[str, ...] = option(("ret",), type=comma_list, group="model",
                                       help=f"comma-separated inputs per day among {','.join(FEATURES)}; 'ret' (log "
                                            "return) first (default: ret)")
    window: int = option(30, group="model", help="days of history per input window (default: 30)")
    horizon: int = option(1, group="model", help="forecast the next N days from each origin; step 1 is the protocol's "
                          "one-step table, all steps are scored in the multi-step table (default: 1)")
    interval: float = option(0.9, group="model",
                             help="central prediction-interval level from quantile outputs (default: 0.9)")
    units: int = option(32, group="model", help="recurrent units / CNN filters (default: 32)")
    dropout: float = option(0.1, group="model", help="dropout rate (default: 0.1)")
    learning_rate: float = option(1e-3, group="model", help="Adam learning rate")
    batch_size: int = option(64, group="model", help="training batch size (default: 64)")
    epochs: int = option(60, group="model", help="maximum epochs; early stopping on validation")
    patience: int = option(8, group="model", help="early-stopping patience in epochs")
    seeds: int = option(3, group="model",
                        help="train each model with seeds SEED, SEED+1, ... and report mean ± std (default: 3)")
    target: str = option("price", choices=["price", "volatility", "both"], group="target",
                         help="price: next-day close (PROTOCOLS.md §Finance); volatility: next-day variance of "
                              "returns against GARCH-type references (§Finance — volatility target); both: the two "
                              "protocols, one result object each (default: price)")
    vol_loss: str = option("both", choices=["parkinson", "r2", "both"], group="target",
                           help="volatility target: the proxy the networks' QLIKE loss is taken against; both = the "
                                "sum of the two QLIKEs (default: both)")
    forecast_next: int = option(0, metavar="N", group="model",
                                help="after evaluation, refit the best model (by validation loss) on all data and "
                                     "forecast the next N trading days with intervals (default: 0 = off)")


def _validate(c: StockConfig, error: Callable[[str], NoReturn]) -> StockConfig:
    """The checks across options; resolves --source and drops repeated --models/--features."""
    require_at_least(c, error, 1, "trials")
    source = c.source or ("yfinance" if c.ticker else "sample")
    if source == "yfinance" and not c.ticker:
        error("--source yfinance needs --ticker SYMBOL, e.g. --ticker AAPL")
    if c.ticker and source != "yfinance":
        error(f"--ticker applies to --source yfinance only, not --source {source}; drop one of them")
    if source in ("csv", "parquet") and not c.path:
        error(f"--source {source} needs --path {'FILE' if source == 'csv' else 'DIR'}")
    if c.path and source not in ("csv", "parquet"):
        error(f"--path applies to --source csv or parquet only, not --source {source}")
    bad_models = [m for m in c.models if m not in MODELS]
    if bad_models or not c.models:
        error(f"--models must be a comma-separated subset of {','.join(MODELS)}, got {','.join(c.models)}")
    bad = [f for f in c.features if f not in FEATURES]
    if bad or not c.features or c.features[0] != "ret":
        error(f"--features must start with 'ret' and use only {','.join(FEATURES)}, got {','.join(c.features)}")
    require_at_least(c, error, 1, "window", "horizon", "units", "batch_size", "epochs", "seeds")
    require_at_least(c, error, 0, "patience", "forecast_next")
    if not 0.0 < c.interval < 1.0:
        error(f"--interval must be in (0, 1), got {c.interval}; e.g. 0.9")
    if not 0.0 <= c.dropout < 1.0:
        error(f"--dropout must be in [0, 1), got {c.dropout}")
    if c.learning_rate <= 0:
        error(f"--learning-rate must be > 0, got {c.learning_rate}")
    return dataclasses.replace(c, source=source, models=tuple(dict.fromkeys(c.models)),
                               features=tuple(dict.fromkeys(c.features)))


def parse_args(argv: Sequence[str] | None = None) -> StockConfig:
    return parse_config(StockConfig, argv, prog="deepcases run stock_forecast", description=__doc__.split("\n\n")[0],
                        epilog="\n\n".join(__doc__.split("\n\n")[1:]), validate=_validate)


# --------------------------------------------------------------------------------------------


def _is_protocol_sample(config: StockConfig, frame: pd.DataFrame) -> bool:
    from applications.stock_forecast.data import SAMPLE_ROWS

    return config.source == "sample" and len(frame) == SAMPLE_ROWS


def _verdicts(result: Any, tests: dict[str, list[dict[str, Any]]], level: float) -> list[str]:
    """Plain-language lines: does each deep model beat the random walk (MAE ratio with a paired
    Diebold–Mariano test per seed), and is its direction better than always-up (binomial test)?"""
    lines = []
    median = next((m for m in result.models if m.name == "median_drift"), None)
    for m in result.models:
        ratio = m.metrics.get("mae_ratio_to_persistence")
        runs = tests.get(m.name, [])
        if m.kind != "deep" or ratio is None or not runs:
            continue
        std = (m.std or {}).get("mae_ratio_to_persistence", 0.0)
        dm_p = ", ".join(f"{t['p_better']:.3g}" for t in runs)
        if ratio < 1.0 and all(t["p_better"] < 0.05 for t in runs):
            verdict = "BEATS the random walk (significant in every seed)"
        elif ratio > 1.0 and all(t["p_worse"] < 0.05 for t in runs):
            verdict = "LOSES to the random walk (significantly worse in every seed)"
        else:
            side = "below" if ratio < 1.0 else "above"
            verdict = f"no significant difference from the random walk ({side} 1 within noise)"
        wins = sum(t["p_value_vs_always_up"] < 0.05 for t in runs)
        ps = ", ".join(f"{t['p_value_vs_always_up']:.3g}" for t in runs)
        direction = (f"directional accuracy {m.metrics['directional_accuracy']:.3f} vs always-up "
                     f"{runs[0]['always_up_rate']:.3f} (one-sided binomial p = {ps}): "
                     + (f"direction predicted better than always-up in {wins} of {len(runs)} seed(s)" if wins
                        else "direction NOT predicted better than always-up"))
        coverage = m.metrics.get("interval_coverage")
        cov = f"; {round(level * 100)} % interval covers {coverage:.3f} of test days" if coverage is not None else ""
        if median is not None:
            better = "below" if m.metrics["mae"] < median.metrics["mae"] else "not below"
            cov += (f"; its MAE {m.metrics['mae']:.3f} is {better} that of median_drift, the training median move "
                    f"({median.metrics['mae']:.3f})")
        spread = f" ± {std:.4f} over {len(runs)} seeds" if len(runs) > 1 else " (1 seed)"
        lines.append(f"{m.name}: MAE ratio to persistence {ratio:.4f}{spread}, "
                     f"paired test p(better) = {dm_p} — {verdict}; {direction}{cov}.")
    return lines


def _coverage_lines(result: Any, level: float) -> list[str]:
    """Raw vs calibrated interval coverage of each deep model on the test span."""
    rows = {m.name: m.metrics for m in result.models}
    lines = []
    for name in [m.name for m in result.models if m.kind == "deep" and f"{m.name}_cqr" in rows]:
        cov = {v: rows[k].get("interval_coverage") for v, k in (("raw", name), ("CQR", f"{name}_cqr"),
                                                                   ("ACI", f"{name}_aci"))}
        score = {v: rows[k].get("interval_score") for v, k in (("raw", name), ("CQR", f"{name}_cqr"),
                                                                  ("ACI", f"{name}_aci"))}
        lines.append(f"{name}: {round(100 * level)} % interval coverage on test " +
                     ", ".join(f"{v} {c:.3f}" for v, c in cov.items() if c is not None) +
                     " (interval score " + ", ".join(f"{v} {c:.1f}" for v, c in score.items() if c is not None) + ").")
    return lines


def tuning_objective(config: StockConfig, frame: pd.DataFrame, *, train_end: int, verbose: int = 0
                     ) -> tuple[Any, dict[str, Any]]:
    """The ``--tune`` objective: hyperparameters -> one-step MAE ratio to persistence on the validation span.

    ``frame`` holds the rows BEFORE the test span only (the caller cuts the test rows off, so no
    trial can read them): rows ``< train_end`` train (scaler fitted there, as in the default run),
    the rest is the validation span, used for early stopping and for the score. Each trial trains
    the first of ``--models`` with seed ``--seed``. Returns the objective and the validation span.
    """
    from applications.stock_forecast.features import make_supervised
    from applications.stock_forecast.models import NetSettings, predict_quantiles, quantile_levels, train_forecaster
    from applications.stock_forecast.scoring import price_metrics

    n = len(frame)
    if not 0 < train_end < n:
        raise UserError(f"train_end must lie inside the {n} rows before the test span, got {train_end}")
    train, val = np.arange(train_end), np.arange(train_end, n)
    close = frame["close"].to_numpy(dtype=float)
    quantiles = quantile_levels(config.interval)
    mid = quantiles.index(0.5)
    actual, previous = close[val], close[val - 1]

    def objective(hp: dict[str, Any]) -> float:
        data = make_supervised(frame, features=config.features, window=int(hp["window"]), horizon=config.horizon,
                               train=train, val=val, test=val)  # "test" windows = every validation day
        settings = NetSettings(units=int(hp["units"]), dropout=float(hp["dropout"]),
                               learning_rate=float(hp["learning_rate"]), batch_size=int(hp["batch_size"]),
                               epochs=config.epochs, patience=config.patience, l2=float(hp["l2"]))
        model, _ = train_forecaster(config.models[0], x_train=data.x_train, y_train=data.y_train, x_val=data.x_val,
                                    y_val=data.y_val, horizon=config.horizon, quantiles=quantiles, settings=settings,
                                    seed=config.seed, verbose=verbose)
        q = data.scaler.inverse_y(predict_quantiles(model, data.x_test))
        point = previous * np.exp(q[:, 0, mid])
        return price_metrics(actual, point, previous=previous, train_close=close[:train_end],
                             persistence=previous)["mae_ratio_to_persistence"]

    dates = frame["date"]
    return objective, {"first": str(dates.iloc[train_end].date()), "last": str(dates.iloc[-1].date()),
                       "days": int(len(val))}


def run_case_study(config: StockConfig, *, verbose: int = 0) -> CaseStudyRun:
    """Load, split, then the price target, the volatility target, or both (one result object each)."""
    from shared.artifacts import fingerprint_frame
    from shared.data import chronological_split

    from applications.stock_forecast.data import load_prices, require_length

    started = time.perf_counter()
    frame, dataset_name = load_prices(source=config.source, ticker=config.ticker, path=config.path,
                                      date_column=config.date_column, close_column=config.close_column,
                                      start=config.start, end=config.end, cache_dir=config.cache_dir,
                                      encoding=config.encoding)
    require_length(frame, window=config.window, horizon=config.horizon, fractions=FRACTIONS,
                   what=f"{dataset_name} ({frame['date'].min().date()} … {frame['date'].max().date()})")
    train, val, test = chronological_split(len(frame), fractions=FRACTIONS)
    train_end, val_end = int(train[-1]) + 1, int(val[-1]) + 1
    # inputs are built (and checked) before the run directory exists, so bad data leaves nothing half-written
    supervised = vol_data = None
    if config.target in ("price", "both"):
        from applications.stock_forecast.features import make_supervised

        supervised = make_supervised(frame, features=config.features, window=config.window, horizon=config.horizon,
                                     train=train, val=val, test=test)
    if config.target in ("volatility", "both"):
        from applications.stock_forecast.volatility import volatility_data

        vol_data = volatility_data(frame, train_end=train_end, val_end=val_end)
    run = start_run(APP, config, runs_dir=config.runs_dir, run_id=config.run_id, seed=config.seed)
    fingerprint = fingerprint_frame(frame, name=dataset_name, time_column="date")
    run.write_data_info(fingerprint)
    results = []
    if supervised is not None:
        results.append(_price_study(config, frame, dataset_name, fingerprint, run, supervised, train=train, val=val,
                                    test=test, verbose=verbose))
    if vol_data is not None:
        from applications.stock_forecast.vol_study import volatility_study

        results.append(volatility_study(config, frame, vol_data, fingerprint=fingerprint, run=run,
                                        protocol_sample=_is_protocol_sample(config, frame), app=APP, verbose=verbose))
    return finish_run(APP, run, results, started=started, results_file=config.results_file)


def _price_study(config: StockConfig, frame: pd.DataFrame, dataset_name: str, fingerprint: dict[str, Any], run: Any,
                 data: Any, *, train: np.ndarray, val: np.ndarray, test: np.ndarray, verbose: int = 0) -> Any:
    """The price target (PROTOCOLS.md §Finance): deep quantile forecasters beside the random-walk baselines."""
    from shared.artifacts import write_csv, write_json, write_text
    from shared.results import CaseStudyResult, mean_and_std

    from applications.stock_forecast import plots
    from applications.stock_forecast.baselines import (ArimaDrift, Drift, MedianDrift, Persistence,
                                                       always_up_accuracy, direction_tests)
    from applications.stock_forecast.features import make_supervised
    from applications.stock_forecast.models import (NetSettings, best_epoch, predict_quantiles, quantile_levels,
                                                    train_forecaster)
    from applications.stock_forecast.scoring import (diebold_mariano, horizon_targets, multi_step_table,
                                                     price_metrics)

    close = frame["close"].to_numpy(dtype=float)
    dates = frame["date"]
    train_end, val_end = int(train[-1]) + 1, int(val[-1]) + 1
    quantiles = quantile_levels(config.interval)
    H = config.horizon
    write_json(run.path / "scaler.json", {  # what turns the saved models' outputs back into prices
        "features": list(config.features), "window": config.window, "horizon": config.horizon,
        "quantiles": list(quantiles), "fitted_on": "training span", **dataclasses.asdict(data.scaler),
        "inverse": "log return to day t+k = output * y_std[k] + y_mean[k]; price = close[t-1] * exp(...)"})

    origins = data.test_origins
    actual_h, previous = horizon_targets(close, origins, H)
    actual = actual_h[:, 0]
    train_close = close[:train_end]
    split_info = {name: {"rows": int(len(idx)), "first": str(dates[idx[0]].date()), "last": str(dates[idx[-1]].date())}
                  for name, idx in (("train", train), ("validation", val), ("test", test))}
    log.info("split: %s", split_info)

    result = CaseStudyResult(app=APP, protocol="finance: 70/15/15 by row, one-step-ahead over the test span",
                             dataset=fingerprint)
    # ---- baselines (fit on the training span; ARIMA parameters on train + validation) ----------
    forecasters = [Persistence(), Drift(), ArimaDrift(level=config.interval), MedianDrift(level=config.interval)]
    base_fc = {}
    for f in forecasters:
        f.fit(close, train_end=train_end, fit_end=val_end, horizon=H)
        base_fc[f.name] = f.predict(close, origins, H)
    persistence = base_fc["persistence"].point
    tables = []
    tests: dict[str, list[dict[str, Any]]] = {}
    baseline_rows = {}
    for name, fc in base_fc.items():
        lower = None if fc.lower is None else fc.lower[:, 0]
        upper = None if fc.upper is None else fc.upper[:, 0]
        baseline_rows[name] = price_metrics(actual, fc.point[:, 0], previous=previous, train_close=train_close,
                                            persistence=persistence[:, 0], lower=lower, upper=upper,
                                            level=config.interval)
        tests[name] = [{**direction_tests(actual, fc.point[:, 0], previous),
                        **diebold_mariano(actual, fc.point[:, 0], persistence[:, 0])}]
        tables.append(multi_step_table(name, actual_h, previous, fc.point, persistence, train_close=train_close,
                                       lower=fc.lower, upper=fc.upper, level=config.interval))

    # ---- deep models, several seeds ------------------------------------------------------------
    settings = NetSettings(units=config.units, dropout=config.dropout, learning_rate=config.learning_rate,
                           batch_size=config.batch_size, epochs=config.epochs, patience=config.patience)
    seeds = [config.seed + i for i in range(config.seeds)]
    mid = quantiles.index(0.5)
    deep: dict[str, dict[str, Any]] = {}
    calibration_timing: dict[str, list[dict[str, float]]] = {}
    predictions = pd.DataFrame({"date": dates[origins].dt.strftime("%Y-%m-%d").to_numpy(), "actual": actual,
                                "previous_close": previous,
                                **{f"{k}": v.point[:, 0] for k, v in base_fc.items()}})
    from applications.stock_forecast.calibrate import calibrate_log_quantiles
    from applications.stock_forecast.features import cumulative_targets

    y_val_log = cumulative_targets(close, data.val_origins, H)  # every validation target lies before val_end
    y_test_log = cumulative_targets(close, origins, H)
    for kind in config.models:
        per_seed, seed_tables, val_losses, epochs_used = [], [], [], []
        per_seed_cal: dict[str, list[dict[str, float]]] = {"cqr": [], "aci": []}
        cal_tables: dict[str, list[pd.DataFrame]] = {"cqr": [], "aci": []}
        for s in seeds:
            log.info("training %s (seed %d) on %d windows", kind, s, len(data.x_train))
            tick = time.perf_counter()
            model, history = train_forecaster(kind, x_train=data.x_train, y_train=data.y_train, x_val=data.x_val,
                                              y_val=data.y_val, horizon=H, quantiles=quantiles, settings=settings,
                                              seed=s, run_dir=run.path, verbose=verbose)
            seconds = time.perf_counter() - tick
            q = data.scaler.inverse_y(predict_quantiles(model, data.x_test))  # (n, H, Q) log returns
            prices = previous[:, None, None] * np.exp(q)
            point, lower, upper = prices[:, :, mid], prices[:, :, 0], prices[:, :, -1]
            metrics = price_metrics(actual, point[:, 0], previous=previous, train_close=train_close,
                                    persistence=persistence[:, 0], lower=lower[:, 0], upper=upper[:, 0],
                                    level=config.interval)
            per_seed.append(metrics)
            seed_tables.append(multi_step_table(kind, actual_h, previous, point, persistence,
                                                train_close=train_close, lower=lower, upper=upper,
                                                level=config.interval))
            # calibrated intervals: CQR on the validation span, ACI through the test span (median unchanged)
            q_val = data.scaler.inverse_y(predict_quantiles(model, data.x_val))
            calibrated = calibrate_log_quantiles(q_val, y_val_log, q, y_test_log, quantiles, val_end=val_end,
                                                 test_start=int(origins[0]))
            cal_prices = {}
            for method in ("cqr", "aci"):
                p_cal = previous[:, None, None] * np.exp(getattr(calibrated, method))
                cal_prices[method] = p_cal
                per_seed_cal[method].append(price_metrics(
                    actual, point[:, 0], previous=previous, train_close=train_close, persistence=persistence[:, 0],
                    lower=p_cal[:, 0, 0], upper=p_cal[:, 0, -1], level=config.interval))
                cal_tables[method].append(multi_step_table(f"{kind}_{method}", actual_h, previous, point, persistence,
                                                           train_close=train_close, lower=p_cal[:, :, 0],
                                                           upper=p_cal[:, :, -1], level=config.interval))
            calibration_timing.setdefault(kind, []).append(
                {"cqr_s": round(calibrated.seconds_cqr, 4), "aci_s": round(calibrated.seconds_aci, 4),
                 "aci_s_per_origin": calibrated.seconds_aci / len(origins)})
            tests.setdefault(kind, []).append({**direction_tests(actual, point[:, 0], previous), "seed": s,
                                               **diebold_mariano(actual, point[:, 0], persistence[:, 0])})
            val_losses.append(float(min(history["val_loss"])))
            epochs_used.append(best_epoch(history))
            run.write_history(history, f"history_{kind}_seed{s}")
            log.info("%s seed %d: %d epochs in %.1f s, MAE ratio to persistence %.4f", kind, s,
                     len(history["loss"]), seconds, metrics["mae_ratio_to_persistence"])
            if s == seeds[0]:
                run.save_model(model, f"model_{kind}")  # load with keras.models.load_model(path, compile=False)
                deep[kind] = {"point": point, "lower": lower, "upper": upper, "history": history}
                predictions[f"{kind}"] = point[:, 0]
                predictions[f"{kind}_lower"] = lower[:, 0]
                predictions[f"{kind}_upper"] = upper[:, 0]
                for method, p_cal in cal_prices.items():
                    predictions[f"{kind}_{method}_lower"] = p_cal[:, 0, 0]
                    predictions[f"{kind}_{method}_upper"] = p_cal[:, 0, -1]
                deep[kind]["calibrated"] = cal_prices
                deep[kind]["cqr_shifts"] = calibrated.shifts
                run.save_figure(plots.learning_curve_figure(history, model=kind, seed=s), f"learning_curves_{kind}")
                if kind == _mapped_kind(config.models):
                    _market_day_map(run, config, model, kind, data.x_test, actual, previous,
                                    dates[origins].dt.strftime("%Y-%m-%d").to_numpy())
        mean, std = mean_and_std(per_seed)
        deep[kind].update(per_seed=per_seed, val_loss=float(np.mean(val_losses)), best_epochs=epochs_used,
                          mean=mean, std=std)
        result.add(kind, "deep", mean, seeds=seeds, std=std if len(seeds) > 1 else None,
                   note=f"best epochs {epochs_used}; mean val loss {np.mean(val_losses):.4f}; raw quantile interval")
        notes = {"cqr": "the same forecasts, interval calibrated by CQR per step on the validation span",
                 "aci": f"the same forecasts, interval by ACI (gamma {ACI_GAMMA}) from the CQR scores, updated daily "
                        "through the test span with the misses already known"}
        for method in ("cqr", "aci"):
            mean_c, std_c = mean_and_std(per_seed_cal[method])
            result.add(f"{kind}_{method}", "deep", mean_c, seeds=seeds, std=std_c if len(seeds) > 1 else None,
                       note=notes[method])
        for frames in (seed_tables, *cal_tables.values()):
            step_frame = pd.concat(frames)
            grouped = step_frame.groupby(["model", "step"], as_index=False)
            averaged = grouped.mean(numeric_only=True)
            averaged["dm_p_better_than_persistence"] = grouped["dm_p_better_than_persistence"].max()[
                "dm_p_better_than_persistence"].to_numpy()  # conservative: the largest p over seeds
            tables.append(averaged)

    # ---- --tune: search on the rows before the test span, retrain the best config, test once ----
    if config.tune:
        from shared.tuning import tune
        from shared.viz import plot_tuning_scores

        kind = config.models[0]
        objective, val_span = tuning_objective(config, frame.iloc[:val_end].reset_index(drop=True),
                                               train_end=train_end, verbose=verbose)
        search = tune(objective, SEARCH_SPACE, method=config.tune, trials=config.trials,
                      directory=run.path / "tuning", direction="min", seed=config.seed)
        best = search.best
        tuned_settings = NetSettings(units=int(best["units"]), dropout=float(best["dropout"]),
                                     learning_rate=float(best["learning_rate"]), batch_size=int(best["batch_size"]),
                                     epochs=config.epochs, patience=config.patience, l2=float(best["l2"]))
        tuned_data = make_supervised(frame, features=config.features, window=int(best["window"]), horizon=H,
                                     train=train, val=val, test=test)
        tuned_runs = []
        for s in seeds:
            model, _ = train_forecaster(kind, x_train=tuned_data.x_train, y_train=tuned_data.y_train,
                                        x_val=tuned_data.x_val, y_val=tuned_data.y_val, horizon=H,
                                        quantiles=quantiles, settings=tuned_settings, seed=s, verbose=verbose)
            prices = previous[:, None, None] * np.exp(tuned_data.scaler.inverse_y(
                predict_quantiles(model, tuned_data.x_test)))
            tuned_runs.append(price_metrics(actual, prices[:, 0, mid], previous=previous, train_close=train_close,
                                            persistence=persistence[:, 0], lower=prices[:, 0, 0],
                                            upper=prices[:, 0, -1], level=config.interval))
        mean, std = mean_and_std(tuned_runs)
        result.add(f"{kind}_tuned", "deep", mean, seeds=seeds, std=std if len(seeds) > 1 else None,
                   note=f"best of {config.trials} {config.tune}-search trials on validation MAE ratio to "
                        f"persistence ({val_span['first']} … {val_span['last']}), retrained on the training span "
                        "and evaluated once on test")
        result.extra["tuning"] = {
            "method": config.tune, "trials": config.trials, "model": kind,
            "completed_trials": int((search.trials["status"] == "COMPLETED").sum()), "best": best,
            "best_val_score": search.best_score, "score": "validation one-step MAE ratio to persistence",
            "validation_span": val_span, "per_seed": tuned_runs,
            "search_space": [p.name for p in SEARCH_SPACE], "directory": "tuning/"}
        run.save_figure(plot_tuning_scores(search.trials, [p.name for p in SEARCH_SPACE],
                                           score_name="validation MAE ratio to persistence",
                                           log_params=("learning_rate", "l2")), "tuning_scores")

    for name, metrics in baseline_rows.items():
        result.add(name, "baseline", metrics)
    result.add("always_up", "baseline", {"directional_accuracy": always_up_accuracy(actual, previous)})

    multi = pd.concat(tables, ignore_index=True)
    write_csv(run.path / "multi_step.csv", multi)
    write_csv(run.path / "predictions.csv", predictions)
    featured = min(deep, key=lambda k: deep[k]["val_loss"])
    result.extra.update({
        "split": split_info,
        "interval_level": config.interval,
        "quantiles": list(quantiles),
        "horizon": H,
        "featured_model": featured,
        "direction_tests": tests,
        "per_seed": {k: v["per_seed"] for k, v in deep.items()},
        "multi_step": multi.round(6).to_dict(orient="records"),
        "calibration": {
            "method": ("CQR (Romano et al. 2019), one shift per horizon step and quantile level in log-return "
                       f"units, on the validation span ({split_info['validation']['first']} … "
                       f"{split_info['validation']['last']}: before the test span); ACI (Gibbs & Candès 2021, "
                       f"gamma {ACI_GAMMA}) from those scores through the test span, step k known after k days"),
            "nominal_coverage": config.interval,
            "cqr_shifts_log_return": {k: np.round(v["cqr_shifts"], 6).tolist() for k, v in deep.items()},
            "timing": calibration_timing,
        },
        "notes": ["mae_ratio_to_persistence below 1.00 beats the random walk on the same test days",
                  "interval_coverage/interval_width_pct: central interval at interval_level, one-step; "
                  "median_drift (not in PROTOCOLS.md) forecasts the training span's median k-day move and "
                  "takes its interval from the empirical quantiles of those moves",
                  "deep models: mean over seeds, std = population std; ARIMA fitted once on train+validation",
                  "multi_step: metrics per forecast step (deep: mean over seeds); dm_p_better_than_persistence is "
                  "the Diebold-Mariano p-value (Newey-West, lag step-1) that the step's MAE is below "
                  "persistence's (deep: the largest over seeds)"],
    })
    if _is_protocol_sample(config, frame):
        result.extra["reference_protocols_md"] = REFERENCE
        ref = REFERENCE["persistence"]
        ours = baseline_rows["persistence"]
        result.extra["persistence_vs_reference"] = {k: {"ours": round(ours[k], 4), "reference": v}
                                                    for k, v in ref.items()}
    verdicts = _verdicts(result, tests, config.interval) + _coverage_lines(result, config.interval)
    result.extra["verdicts"] = verdicts

    # ---- figures --------------------------------------------------------------------------------
    f = deep[featured]
    test_dates = dates[origins].reset_index(drop=True)
    run.save_figure(plots.span_figure(test_dates, actual, f["point"][:, 0], f["lower"][:, 0], f["upper"][:, 0],
                                      model=featured, level=config.interval,
                                      title=f"{dataset_name}: one-step forecast over the test span ({featured})"),
                    "forecast_test_span")
    run.save_figure(plots.span_figure(test_dates, actual, f["point"][:, 0], f["lower"][:, 0], f["upper"][:, 0],
                                      model=featured, level=config.interval, last=60, persistence=persistence[:, 0],
                                      title=f"{dataset_name}: last 60 test days ({featured} vs persistence)"),
                    "forecast_last_60_days")
    run.save_figure(plots.residual_figure(actual, f["point"][:, 0], model=featured), "residuals")
    if H > 1:
        run.save_figure(plots.horizon_figure(multi), "mae_ratio_by_step")

    # ---- optional: refit on all data and forecast the next N days ------------------------------
    if config.forecast_next:
        future = _forecast_next(config, frame, featured, deep[featured]["best_epochs"], settings, quantiles,
                                verbose=verbose)
        write_csv(run.path / "forecast_next.csv", future)
        write_text(run.path / "forecast_next.md", f"{DISCLAIMER}\n\n" + _markdown(future) + "\n")
        last = min(len(frame), 120)
        run.save_figure(plots.future_figure(dates.iloc[-last:], close[-last:], pd.to_datetime(future["date"]),
                                            future["forecast"].to_numpy(), future["lower"].to_numpy(),
                                            future["upper"].to_numpy(), model=featured, level=config.interval,
                                            title=f"{dataset_name}: next {config.forecast_next} trading days "
                                                  f"({featured}, refit on all data)"), "forecast_next")
        result.extra["forecast_next"] = {"model": featured, "disclaimer": DISCLAIMER,
                                         "days": future.round(4).to_dict(orient="records")}
    write_json(run.path / "verdicts.json", {"verdicts": verdicts, "disclaimer": DISCLAIMER})
    return result


def _mapped_kind(models: Sequence[str]) -> str:
    """The model whose state the market-day map shows: the first recurrent one, else the first."""
    return next((m for m in models if m in ("lstm", "gru")), models[0])


def _market_day_map(run: Any, config: StockConfig, model: Any, kind: str, x_test: np.ndarray, actual: np.ndarray,
                    previous: np.ndarray, dates: np.ndarray) -> None:
    """Test days in what the network feeds its output layer (the recurrent state; the CNN's pooled
    features), coloured by the next day's move, beside maps of the scaled input windows."""
    from shared.maps.layers import head_input
    from shared.maps.learned import learned_map

    state = head_input(model, x_test)
    change = np.asarray(actual, dtype=float) / np.asarray(previous, dtype=float) - 1.0
    move = np.where(change > 0, "up", "down or flat")
    hover = [f"{d}: next close {100 * c:+.2f} %" for d, c in zip(dates, change)]
    learned_map(run, name="market_day_map", learned=state, raw=np.asarray(x_test).reshape(len(x_test), -1),
                labels=move, title=f"Test days in the {kind}'s last hidden state", label_name="next-day close",
                learned_name=f"{kind} state", raw_name="scaled input windows", seed=config.seed,
                max_points=config.map_points, methods=config.learned_maps, hover_text=hover, required=False)


def _forecast_next(config: StockConfig, frame: pd.DataFrame, kind: str, best_epochs: list[int],
                   settings: Any, quantiles: tuple[float, ...], *, verbose: int) -> pd.DataFrame:
    """Refit ``kind`` on every day (scaler included) for the median best epoch, forecast N days."""
    from applications.stock_forecast.features import (TrainScaler, cumulative_targets, feature_matrix,
                                                      first_valid_day, windows_at)
    from applications.stock_forecast.models import predict_quantiles, train_forecaster

    N = config.forecast_next
    raw = feature_matrix(frame, config.features)
    close = frame["close"].to_numpy(dtype=float)
    first = first_valid_day(raw)
    origins = np.arange(first + config.window, len(frame) - N + 1)
    if len(origins) < 2:
        raise UserError(f"--forecast-next {N} leaves no training windows; use a smaller N or a longer series")
    targets = cumulative_targets(close, origins, N)
    scaler = TrainScaler.fit(raw, targets, train_end=len(frame), first_day=first)
    scaled = scaler.transform_x(np.nan_to_num(raw, nan=0.0))
    epochs = max(1, int(np.median(best_epochs)))
    log.info("refitting %s on all %d days for %d epochs to forecast %d days", kind, len(frame), epochs, N)
    model, _ = train_forecaster(kind, x_train=windows_at(scaled, origins, config.window),
                                y_train=scaler.transform_y(targets), x_val=None, y_val=None, horizon=N,
                                quantiles=quantiles, settings=settings, seed=config.seed, epochs=epochs,
                                verbose=verbose)
    x_last = windows_at(scaled, np.array([len(frame)]), config.window)
    q = scaler.inverse_y(predict_quantiles(model, x_last))[0]  # (N, Q)
    prices = close[-1] * np.exp(q)
    last_day = pd.Timestamp(frame["date"].iloc[-1])
    days = pd.bdate_range(last_day + pd.Timedelta(days=1), periods=N)
    mid = quantiles.index(0.5)
    return pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "step": np.arange(1, N + 1),
                         "forecast": prices[:, mid], "lower": prices[:, 0], "upper": prices[:, -1]})


def _markdown(frame: pd.DataFrame) -> str:
    """A pipe table without the optional ``tabulate`` dependency."""
    def cell(v: Any) -> str:
        return f"{v:.2f}" if isinstance(v, (float, np.floating)) else str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def _present(outcome: CaseStudyRun) -> str:
    """The verdicts against the random walk, and the next days' forecast with its disclaimer."""
    lines = []
    for result in outcome.results:
        extra = result.extra
        lines += list(extra.get("verdicts", []))
        if "forecast_next" in extra:
            fc = extra["forecast_next"]
            lines += [f"\nNext {len(fc['days'])} trading days ({fc['model']}, refit on all data; weekdays, exchange "
                      "holidays not skipped):", pd.DataFrame(fc["days"]).to_string(index=False), DISCLAIMER]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    return cli_main(APP, argv, parse_args=parse_args, run_case_study=run_case_study, present=_present)


if __name__ == "__main__":  # pragma: no cover
    from shared.console import console_entry

    raise SystemExit(console_entry(main))
