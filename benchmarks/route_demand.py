"""Benchmark of the global route-demand forecaster: training time per epoch and forecasting
throughput (series forecasts per second) on the 50 busiest routes and on all 224 routes.

    python benchmarks/route_demand.py [--epochs 4] [--routes 50,0] [--models rnn,cnn1d]

Same data, features, networks and protocol origins as ``deepcases run route_demand`` (window 28,
horizon 14, 12 origins from 2013-10-01). Each model is trained for exactly ``--epochs`` epochs
(no early stopping); the first epoch includes graph tracing and is reported apart, "per epoch"
is the median of the later ones. Throughput is ``forecast_many`` over the 12 origins × all routes
(one batch, quantiles included), after a warm-up call, repeated ``--repeats`` times. The
seasonal-naive baseline's throughput is given for scale. The conformal step (CQR per lead day on
the early-stopping span: its forecasts, the fit, and applying it to the 12 origins) is timed too,
as one-off seconds and seconds per test origin. Writes
``benchmarks/results/route_demand.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs per model (the first is reported apart)")
    parser.add_argument("--routes", default="50,0", help="comma-separated route counts (0 = all 224)")
    parser.add_argument("--models", default="rnn,cnn1d", help="comma-separated model families")
    parser.add_argument("--window", type=int, default=28, help="input window in days")
    parser.add_argument("--batch-size", type=int, default=128, help="training batch size")
    parser.add_argument("--repeats", type=int, default=5, help="timed forecast repeats")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "route_demand.json"))
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be >= 2 (the first epoch is tracing)")

    from applications.route_demand.baselines import SeasonalNaive
    from applications.route_demand.data import load_flights
    from applications.route_demand.features import calendar_features, extended_calendar
    from applications.route_demand.models import GlobalForecaster, NetworkSpec, TrainSettings
    from applications.route_demand.protocol import FIRST_ORIGIN, HORIZON, forecast_origins, rolling_forecasts
    from shared.artifacts import environment, write_json

    runs = []
    for n_routes in [int(r) for r in args.routes.split(",")]:
        panel = load_flights(top_routes=n_routes)
        origins = forecast_origins(panel.n_days, first=FIRST_ORIGIN)
        calendar, _ = calendar_features(extended_calendar(panel.dates, HORIZON))
        forecasts = len(origins) * panel.n_series
        started = time.perf_counter()
        for _ in range(args.repeats):
            rolling_forecasts(SeasonalNaive().forecast, panel.values, origins)
        naive_s = (time.perf_counter() - started) / args.repeats
        for family in args.models.split(","):
            forecaster = GlobalForecaster(NetworkSpec(family=family), window=args.window, horizon=HORIZON,
                                          quantiles=(0.1, 0.5, 0.9), calendar=calendar, n_series=panel.n_series)
            settings = TrainSettings(epochs=args.epochs, batch_size=args.batch_size, patience=args.epochs)
            forecaster.fit(panel.values, end=int(origins[0]), settings=settings, seed=args.seed)
            forecaster.forecast_many(panel.values, origins)  # warm-up (tracing)
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                forecaster.forecast_many(panel.values, origins)
                times.append(time.perf_counter() - started)
            predict_s = statistics.median(times)
            from applications.route_demand.calibrate import apply_calibration, calibrate

            first = int(origins[0])
            q = forecaster.forecast_many(panel.values, origins)
            cal_times, apply_times = [], []
            for _ in range(args.repeats):
                cal = calibrate(forecaster, panel.values, end=first, val_days=settings.val_days)
                cal_times.append(cal.seconds)
                started = time.perf_counter()
                apply_calibration(cal.calibrator, q, level=forecaster.scaler.level, first=first)
                apply_times.append(time.perf_counter() - started)
            row = {"routes": panel.n_series, "model": family, "train_windows": forecaster.train_samples,
                   "params": int(forecaster.model.count_params()),
                   "first_epoch_s": round(forecaster.epoch_seconds[0], 3),
                   "seconds_per_epoch": round(statistics.median(forecaster.epoch_seconds[1:]), 3),
                   "forecasts": forecasts, "forecast_s": round(predict_s, 4),
                   "series_per_second": round(forecasts / predict_s, 1),
                   "seasonal_naive_series_per_second": round(forecasts / naive_s, 1),
                   "conformal_fit_s": round(statistics.median(cal_times), 4),
                   "conformal_apply_s_per_origin": round(statistics.median(apply_times) / len(origins), 6)}
            print(row, flush=True)
            runs.append(row)
    write_json(args.output, {"benchmark": "route_demand", "epochs": args.epochs, "window": args.window,
                             "batch_size": args.batch_size, "horizon": HORIZON, "origins": 12, "runs": runs,
                             "note": "series_per_second = (origins x routes) 14-day quantile forecasts per second; "
                                     "seconds_per_epoch = median of epochs 2..N (epoch 1 includes tracing); "
                                     "conformal_fit_s = calibration-span forecasts + CQR fit (once per model), "
                                     "conformal_apply_s_per_origin = applying the shifts; the "
                                     "machine is shared, so times vary with its load",
                             "environment": environment()})
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
