"""Benchmark of the survival case study on SUPPORT: training time per fold (DeepSurv, the horizon
MLP, the discrete-time logistic-hazard and DeepHit networks and the Cox / random-survival-forest
baselines), the peak memory each fit adds, and prediction throughput (patients per second for a
risk score plus a full survival curve).

    python benchmarks/survival.py [--folds 2] [--rsf-trees 200] [--epochs 200]

Same data, protocol folds, preprocessing and networks as ``deepcases run survival`` (defaults of
``SurvivalConfig``, one seed). Training time includes early stopping, so it is the wall time a
fold really costs. Memory: ``<model>_peak_mb`` is the peak resident memory of the process during
that fit above its resident memory when the fit started (sampled every 10 ms from /proc; Linux); the
first fit (DeepSurv) also pays for TensorFlow's own start-up.
Throughput scores the test fold (repeated to ~100k patients) with the eager
chunked call the application uses, then the Breslow curve on 50 times. Writes
``benchmarks/results/survival.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@contextlib.contextmanager
def peak_memory(row: dict, key: str) -> Iterator[None]:
    """Record in ``row[key]`` the peak RSS (MB) above the RSS at entry, sampled every 10 ms."""
    start, peak, done = _rss_mb(), [0.0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb())
            done.wait(0.01)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        row[key] = round(max(peak[0], _rss_mb()) - start, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=2, help="protocol folds to time (of 5)")
    parser.add_argument("--rsf-trees", type=int, default=200, help="trees of the random survival forest (0 skips)")
    parser.add_argument("--epochs", type=int, default=200, help="maximum epochs (early stopping as in the app)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--time-bins", type=int, default=20, help="bins of the discrete-time networks")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "survival.json"))
    args = parser.parse_args(argv)
    if not 1 <= args.folds <= 5:
        parser.error("--folds must be in 1..5")

    import dataclasses

    from applications.survival.baselines import CoxPH, RandomSurvivalForest
    from applications.survival.data import load_support, median_event_time
    from applications.survival.features import SurvivalPreprocessor
    from applications.survival.main import SurvivalConfig, _settings
    from applications.survival.models import predict_risk, train_deepsurv, train_discrete, train_horizon_mlp
    from applications.survival.protocol import iter_folds
    from shared.artifacts import environment, write_json

    data = load_support()
    horizon = median_event_time(data)
    settings = dataclasses.replace(_settings(SurvivalConfig()), epochs=args.epochs)
    rows: list[dict] = []
    throughput = None
    for fold, train, test, ctx in iter_folds(data.time, data.event, horizon=horizon):
        if fold >= args.folds:
            break
        pre = SurvivalPreprocessor(data.numeric, data.categorical).fit(data.covariates.iloc[train])
        x_tr, x_te = pre.transform(data.covariates.iloc[train]), pre.transform(data.covariates.iloc[test])
        t_tr, e_tr = data.time[train], data.event[train]
        row: dict = {"fold": fold + 1, "train_rows": len(train)}
        start = time.perf_counter()
        with peak_memory(row, "deepsurv_peak_mb"):
            ds = train_deepsurv(x_tr, t_tr, e_tr, settings=settings, seed=args.seed)
        row["deepsurv_s"] = time.perf_counter() - start
        row["deepsurv_epochs"] = len(ds.history["loss"])
        start = time.perf_counter()
        with peak_memory(row, "horizon_mlp_peak_mb"):
            hz = train_horizon_mlp(x_tr, t_tr, e_tr, horizon=horizon, settings=settings, seed=args.seed)
        row["horizon_mlp_s"] = time.perf_counter() - start
        row["horizon_mlp_epochs"] = len(hz.history["loss"])
        for name in ("logistic_hazard", "deephit"):
            start = time.perf_counter()
            with peak_memory(row, f"{name}_peak_mb"):
                net = train_discrete(x_tr, t_tr, e_tr, name=name, time_bins=args.time_bins, settings=settings,
                                     seed=args.seed)
                net.survival(x_te, ctx.grid)
            row[f"{name}_s"] = time.perf_counter() - start
            row[f"{name}_epochs"] = len(net.history["loss"])
        start = time.perf_counter()
        with peak_memory(row, "cox_ph_peak_mb"):
            CoxPH().fit(x_tr, t_tr, e_tr)
        row["cox_ph_s"] = time.perf_counter() - start
        if args.rsf_trees:
            with peak_memory(row, "random_survival_forest_peak_mb"):
                rsf = RandomSurvivalForest(n_estimators=args.rsf_trees, seed=args.seed).fit(x_tr, t_tr, e_tr)
            row["random_survival_forest_s"] = rsf.fit_seconds
            start = time.perf_counter()
            rsf.predict(x_te, ctx)
            row["random_survival_forest_predict_patients_per_s"] = len(test) / (time.perf_counter() - start)
        rows.append({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()})
        if throughput is None:
            big = np.tile(x_te, (max(1, 100_000 // len(x_te)), 1))
            predict_risk(ds.model, x_te[:10])          # warm-up
            start = time.perf_counter()
            risk = predict_risk(ds.model, big)
            mid = time.perf_counter()
            ds.baseline.survival(risk, ctx.grid)
            end = time.perf_counter()
            throughput = {"patients": len(big), "risk_patients_per_s": round(len(big) / (mid - start)),
                          "risk_and_curve_patients_per_s": round(len(big) / (end - start))}
        print(rows[-1], flush=True)
    summary = {k: round(float(np.mean([r[k] for r in rows])), 2) for k in rows[0] if k.endswith("_s")}
    memory = {k: round(float(np.max([r[k] for r in rows])), 1) for k in rows[0] if k.endswith("_peak_mb")}
    payload = {"benchmark": "survival", "dataset": "support", "folds_timed": len(rows),
               "settings": dataclasses.asdict(settings), "rsf_trees": args.rsf_trees, "per_fold": rows,
               "mean_seconds_per_fold": summary, "max_peak_mb_per_fit": memory, "time_bins": args.time_bins,
               "deepsurv_prediction": throughput, "environment": environment()}
    write_json(args.output, payload)
    print(f"mean seconds per fold: {summary}\npeak MB per fit: {memory}\nDeepSurv prediction: {throughput}\n"
          f"written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
