"""Benchmark of the survival case study on SUPPORT: training time per fold (DeepSurv, the horizon
MLP and the Cox / random-survival-forest baselines) and prediction throughput (patients per second
for a risk score plus a full survival curve).

    python benchmarks/survival.py [--folds 2] [--rsf-trees 200] [--epochs 200]

Same data, protocol folds, preprocessing and networks as ``deepcases run survival`` (defaults of
``SurvivalConfig``, one seed). Training time includes early stopping, so it is the wall time a
fold really costs. Throughput scores the test fold (repeated to ~100k patients) with the eager
chunked call the application uses, then the Breslow curve on 50 times. Writes
``benchmarks/results/survival.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=2, help="protocol folds to time (of 5)")
    parser.add_argument("--rsf-trees", type=int, default=200, help="trees of the random survival forest (0 skips)")
    parser.add_argument("--epochs", type=int, default=200, help="maximum epochs (early stopping as in the app)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "survival.json"))
    args = parser.parse_args(argv)
    if not 1 <= args.folds <= 5:
        parser.error("--folds must be in 1..5")

    import dataclasses

    from applications.survival.baselines import CoxPH, RandomSurvivalForest
    from applications.survival.data import load_support, median_event_time
    from applications.survival.features import SurvivalPreprocessor
    from applications.survival.main import SurvivalConfig, _settings
    from applications.survival.models import predict_risk, train_deepsurv, train_horizon_mlp
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
        ds = train_deepsurv(x_tr, t_tr, e_tr, settings=settings, seed=args.seed)
        row["deepsurv_s"] = time.perf_counter() - start
        row["deepsurv_epochs"] = len(ds.history["loss"])
        start = time.perf_counter()
        hz = train_horizon_mlp(x_tr, t_tr, e_tr, horizon=horizon, settings=settings, seed=args.seed)
        row["horizon_mlp_s"] = time.perf_counter() - start
        row["horizon_mlp_epochs"] = len(hz.history["loss"])
        start = time.perf_counter()
        CoxPH().fit(x_tr, t_tr, e_tr)
        row["cox_ph_s"] = time.perf_counter() - start
        if args.rsf_trees:
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
    payload = {"benchmark": "survival", "dataset": "support", "folds_timed": len(rows),
               "settings": dataclasses.asdict(settings), "rsf_trees": args.rsf_trees, "per_fold": rows,
               "mean_seconds_per_fold": summary, "deepsurv_prediction": throughput, "environment": environment()}
    write_json(args.output, payload)
    print(f"mean seconds per fold: {summary}\nDeepSurv prediction: {throughput}\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
