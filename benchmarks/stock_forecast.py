"""Benchmark of the stock forecaster on the bundled S&P 500 sample: training time per epoch and
batched forecast throughput (windows per second) for each deep model.

    python benchmarks/stock_forecast.py [--epochs 4] [--window 30] [--units 32] [--horizon 1]

Same data, split, scaling and networks as ``deepcases run stock_forecast``. The first epoch
includes graph tracing and is reported apart; "per epoch" is the median of the later ones, in
wall seconds and in CPU seconds of this process (steadier on a shared machine).
Throughput is ``model.predict`` over the 756 test windows (repeated to fill the timing) at the
given batch size, after a warm-up call. The conformal step is timed per model: the CQR fit on the
validation span and its application, and ACI through the 756 test days (seconds per origin). The
volatility target: each reference's fit + forecast seconds (constant, EWMA, GARCH, GJR-GARCH,
HAR) and the deep variance models' seconds per epoch and forecast seconds.
Writes ``benchmarks/results/stock_forecast.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs per model (first one reported apart)")
    parser.add_argument("--window", type=int, default=30, help="input window in days")
    parser.add_argument("--units", type=int, default=32, help="recurrent units / CNN filters")
    parser.add_argument("--horizon", type=int, default=1, help="forecast steps per window")
    parser.add_argument("--batch-size", type=int, default=64, help="training batch size")
    parser.add_argument("--predict-batch", type=int, default=256, help="batch size for the throughput test")
    parser.add_argument("--models", default="lstm,gru,cnn1d", help="comma-separated models")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "stock_forecast.json"))
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be >= 2 (the first epoch is tracing)")

    from applications.stock_forecast.data import load_sample
    from applications.stock_forecast.features import make_supervised
    from applications.stock_forecast.main import FRACTIONS
    from applications.stock_forecast.models import (NetSettings, build_forecaster, compile_forecaster,
                                                     quantile_levels)
    from shared.artifacts import environment, write_json
    from shared.data import chronological_split
    from shared.models._keras import keras
    from shared.training import set_seed

    frame = load_sample()
    train, val, test = chronological_split(len(frame), fractions=FRACTIONS)
    data = make_supervised(frame, features=("ret",), window=args.window, horizon=args.horizon,
                           train=train, val=val, test=test)
    quantiles = quantile_levels(0.9)
    settings = NetSettings(units=args.units, batch_size=args.batch_size)
    k = keras()

    class EpochTimer(k.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times, self.cpu = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self._t, self._c = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._t)
            self.cpu.append(time.process_time() - self._c)

    rows = []
    for kind in [m.strip() for m in args.models.split(",") if m.strip()]:
        set_seed(42)
        model = build_forecaster(kind, window=args.window, n_features=data.x_train.shape[2], horizon=args.horizon,
                                 quantiles=quantiles, settings=settings)
        compile_forecaster(model, quantiles=quantiles, learning_rate=settings.learning_rate)
        timer = EpochTimer()
        model.fit(data.x_train, data.y_train, validation_data=(data.x_val, data.y_val), epochs=args.epochs,
                  batch_size=args.batch_size, callbacks=[timer], verbose=0)
        x = np.concatenate([data.x_test] * 8)
        model.predict(x[: args.predict_batch], batch_size=args.predict_batch, verbose=0)  # warm-up / tracing
        tick, cpu = time.perf_counter(), time.process_time()
        model.predict(x, batch_size=args.predict_batch, verbose=0)
        seconds, cpu = time.perf_counter() - tick, time.process_time() - cpu
        from applications.stock_forecast.calibrate import calibrate_log_quantiles
        from applications.stock_forecast.features import cumulative_targets
        from applications.stock_forecast.models import predict_quantiles

        close = frame["close"].to_numpy(dtype=float)
        q_val = data.scaler.inverse_y(predict_quantiles(model, data.x_val))
        q_test = data.scaler.inverse_y(predict_quantiles(model, data.x_test))
        cal = calibrate_log_quantiles(q_val, cumulative_targets(close, data.val_origins, args.horizon), q_test,
                                      cumulative_targets(close, data.test_origins, args.horizon), quantiles,
                                      val_end=int(val[-1]) + 1, test_start=int(test[0]))
        rows.append({"model": kind, "params": int(model.count_params()),
                     "cqr_fit_and_apply_s": round(cal.seconds_cqr, 4),
                     "aci_s_per_origin": round(cal.seconds_aci / len(q_test), 6),
                     "train_windows": int(len(data.x_train)), "first_epoch_s": round(timer.times[0], 3),
                     "epoch_s_median": round(float(np.median(timer.times[1:])), 3),
                     "epoch_cpu_s_median": round(float(np.median(timer.cpu[1:])), 3),
                     "predict_windows_per_s": round(len(x) / seconds, 1),
                     "predict_windows_per_cpu_s": round(len(x) / cpu, 1), "predict_batch": args.predict_batch})
        print(json.dumps(rows[-1]), flush=True)
    volatility = _volatility_timings(frame, train, val, args)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    payload = {"benchmark": "stock_forecast", "dataset": "sp500-arch-1999-2018 (bundled sample)",
               "settings": {k_: v for k_, v in vars(args).items() if k_ != "output"}, "results": rows,
               "volatility": volatility,
               "load_average_1min_at_end": load, "machine": platform.machine(), "environment": environment(),
               "note": "wall seconds depend on the machine's load (see load_average_1min_at_end); the CPU "
                       "seconds are steadier; compare rows within one file, not across machines"}
    write_json(args.output, payload)
    print(f"wrote {args.output}")
    return 0


def _volatility_timings(frame, train, val, args) -> dict:
    """Fit + forecast seconds of each volatility reference, and of the deep variance models."""
    from applications.stock_forecast import volatility as V
    from applications.stock_forecast.vol_model import predict_variance, train_vol_model, vol_windows

    data = V.volatility_data(frame, train_end=int(train[-1]) + 1, val_end=int(val[-1]) + 1)
    refs = {"constant": lambda: V.constant_forecast(data), "ewma": lambda: V.ewma_forecast(data),
            "garch": lambda: V.garch_forecast(data), "gjr_garch": lambda: V.garch_forecast(data, gjr=True),
            "har_parkinson": lambda: V.har_forecast(data)}
    out = {"references_fit_and_forecast_s": {}, "deep": []}
    for name, run in refs.items():
        tick = time.perf_counter()
        run()
        out["references_fit_and_forecast_s"][name] = round(time.perf_counter() - tick, 4)
    windows = vol_windows(data, window=args.window)
    for kind in [m.strip() for m in args.models.split(",") if m.strip()]:
        tick = time.perf_counter()
        model, history = train_vol_model(kind, windows, units=args.units, dropout=0.1, learning_rate=1e-3,
                                          batch_size=args.batch_size, epochs=args.epochs, patience=args.epochs,
                                          seed=42)
        fit_s = time.perf_counter() - tick
        predict_variance(model, windows.x_test, windows.offset)  # warm-up
        tick = time.perf_counter()
        predict_variance(model, windows.x_test, windows.offset)
        out["deep"].append({"model": f"vol_{kind}", "epochs": len(history["loss"]),
                            "fit_s_per_epoch": round(fit_s / len(history["loss"]), 3),
                            "forecast_756_days_s": round(time.perf_counter() - tick, 4)})
    return out


if __name__ == "__main__":
    raise SystemExit(main())
