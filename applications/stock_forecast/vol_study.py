"""``--target volatility``: the deep variance forecasters beside the PROTOCOLS.md references, one result object.

Same split as the price target (70/15/15 by row). References: :mod:`.volatility`; deep models:
:mod:`.vol_model` (trained on the training span, early stopping on validation, one row per family
with mean ± std over seeds). Each deep model gets a one-step Diebold–Mariano test per loss column
against the best baseline of that column (lowest value; HAR included, it is usually the best),
per seed; the largest p over seeds is reported (conservative).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from .volatility import (LOSS_COLUMNS, REFERENCE, VolatilityData, daily_losses, diebold_mariano_losses,
                         reference_forecasts, volatility_metrics)

log = logging.getLogger(__name__)

PROTOCOL = "finance volatility: next-day variance of % log returns, 70/15/15 by row (PROTOCOLS.md)"


def volatility_study(config: Any, frame: pd.DataFrame, data: VolatilityData, *, fingerprint: dict[str, Any],
                     run: Any, protocol_sample: bool, app: str, verbose: int = 0) -> Any:
    from shared.artifacts import write_csv
    from shared.results import CaseStudyResult, mean_and_std

    from . import plots
    from .vol_model import predict_variance, train_vol_model, vol_windows

    result = CaseStudyResult(app=app, protocol=PROTOCOL, dataset=fingerprint)
    tick = time.perf_counter()
    refs = reference_forecasts(data)
    ref_seconds = time.perf_counter() - tick
    baseline_metrics = {name: volatility_metrics(data, f) for name, (f, _) in refs.items()}
    # the best PROTOCOLS.md reference of each loss column, and the best baseline of all (HAR included)
    best = {"reference": {col: min(REFERENCE, key=lambda n: baseline_metrics[n][col]) for col in LOSS_COLUMNS},
            "baseline": {col: min(baseline_metrics, key=lambda n: baseline_metrics[n][col]) for col in LOSS_COLUMNS}}
    best_losses = {side: {col: daily_losses(data, refs[name][0])[col] for col, name in picks.items()}
                   for side, picks in best.items()}

    windows = vol_windows(data, window=config.window)
    test_dates = pd.to_datetime(frame["date"].iloc[data.test]).reset_index(drop=True)
    table = pd.DataFrame({"date": test_dates.dt.strftime("%Y-%m-%d"), "return": data.returns[data.test],
                          "parkinson": data.parkinson[data.test], "r2": data.r2[data.test],
                          **{name: f for name, (f, _) in refs.items()}})
    seeds = [config.seed + i for i in range(config.seeds)]
    dm: dict[str, dict[str, Any]] = {}
    timing: dict[str, Any] = {"references_s": round(ref_seconds, 2)}
    featured, featured_loss = None, np.inf
    for kind in config.models:
        per_seed, tests, val_losses, epochs = [], [], [], []
        for s in seeds:
            started = time.perf_counter()
            model, history = train_vol_model(kind, windows, units=config.units, dropout=config.dropout,
                                             learning_rate=config.learning_rate, batch_size=config.batch_size,
                                             epochs=config.epochs, patience=config.patience, seed=s,
                                             proxy=config.vol_loss, verbose=verbose)
            fit_s = time.perf_counter() - started
            started = time.perf_counter()
            f = predict_variance(model, windows.x_test, windows.offset)
            predict_s = time.perf_counter() - started
            per_seed.append(volatility_metrics(data, f))
            losses = daily_losses(data, f)
            tests.append({side: {col: diebold_mariano_losses(losses[col], against[col]) for col in LOSS_COLUMNS}
                          for side, against in best_losses.items()})
            val_losses.append(float(min(history["val_loss"])))
            epochs.append(int(np.argmin(history["val_loss"])) + 1)
            timing.setdefault(kind, []).append({"fit_s": round(fit_s, 2), "forecast_s": round(predict_s, 4)})
            run.write_history(history, f"history_vol_{kind}_seed{s}")
            if s == seeds[0]:
                run.save_model(model, f"model_vol_{kind}")
                table[kind] = f
                if val_losses[-1] < featured_loss:
                    featured, featured_loss = kind, val_losses[-1]
        mean, std = mean_and_std(per_seed)
        dm[kind] = {side: {col: {"against": best[side][col],
                                 "p_better_max_over_seeds": max(t[side][col]["p_better"] for t in tests),
                                 "p_two_sided_max_over_seeds": max(t[side][col]["p_two_sided"] for t in tests),
                                 "dm_stat_mean": float(np.mean([t[side][col]["dm_stat"] for t in tests]))}
                           for col in LOSS_COLUMNS}
                    for side in best}
        result.add(f"vol_{kind}", "deep", mean, seeds=seeds, std=std if len(seeds) > 1 else None,
                   note=f"{kind} on {config.window}-day windows of r, |r|, ln P; QLIKE loss on {config.vol_loss}; "
                        f"best epochs {epochs}; mean val loss {np.mean(val_losses):.4f}")
    for name, (_, label) in refs.items():
        result.add(name, "baseline", baseline_metrics[name], note=label)

    write_csv(run.path / "volatility_forecasts.csv", table)
    result.extra.update({
        "target": "volatility",
        "split": {"train_end_row": data.train_end, "val_end_row": data.val_end, "test_days": int(data.test.size),
                  "first_test_day": str(test_dates.iloc[0].date()), "last_test_day": str(test_dates.iloc[-1].date())},
        "returns": "r_t = 100 ln(AdjClose_t / AdjClose_{t-1}) (%)",
        "proxies": "parkinson = (100 ln(High/Low))^2 / (4 ln 2); r2 = r_t^2",
        "var": f"normal VaR mean + z * sqrt(f), mean = train+validation mean return {data.mean_return:.5f}",
        "best_per_column": best,
        "diebold_mariano": dm,
        "timing": timing,
        "notes": ["QLIKE/MSE lower is better; var*_violation_rate should be near 0.01 / 0.05; kupiec_p < 0.05 "
                  "rejects the violation rate, christoffersen_p < 0.05 rejects independent violations",
                  "deep rows: mean over seeds; diebold_mariano (one-step, HLN-corrected) per loss column against the "
                  "best PROTOCOLS.md reference ('reference') and the best baseline incl. HAR ('baseline'); p_better < "
                  "0.05 means a significantly lower loss, reported as the largest p over seeds"],
    })
    if protocol_sample:
        result.extra["reference_protocols_md"] = REFERENCE
        result.extra["references_vs_protocols_md"] = {
            name: {col: {"ours": round(baseline_metrics[name][col], 4), "reference": ref[col]} for col in ref}
            for name, ref in REFERENCE.items()}
    result.extra["verdicts"] = _verdicts(result, dm)
    if featured is not None:
        run.save_figure(plots.variance_figure(test_dates, data.parkinson[data.test],
                                              {featured: table[featured].to_numpy(),
                                               "garch": table["garch"].to_numpy(), "ewma": table["ewma"].to_numpy(),
                                               "har_parkinson": table["har_parkinson"].to_numpy()},
                                              title=f"Next-day variance over the test span ({featured} vs references)"),
                        "volatility_test_span")
    return result


def _verdicts(result: Any, dm: dict[str, dict[str, Any]]) -> list[str]:
    rows = {m.name: m for m in result.models}
    lines = []
    for kind, sides in dm.items():
        m = rows[f"vol_{kind}"].metrics
        parts = []
        for col in LOSS_COLUMNS:
            for side in ("reference", "baseline"):
                t = sides[side][col]
                if side == "baseline" and t["against"] == sides["reference"][col]["against"]:
                    continue  # the best baseline is the best reference: said once
                ref = rows[t["against"]].metrics[col]
                verdict = "below" if m[col] < ref else "NOT below"
                sig = "significant" if t["p_better_max_over_seeds"] < 0.05 else "not significant"
                parts.append(f"{col} {m[col]:.4f} {verdict} {t['against']} {ref:.4f} (DM p(better) "
                             f"{t['p_better_max_over_seeds']:.3g}, {sig})")
        var = "; ".join(f"VaR {lvl} % violations {m[f'var{lvl}_violation_rate']:.4f} (Kupiec p "
                        f"{m[f'var{lvl}_kupiec_p']:.3g}, Christoffersen p {m[f'var{lvl}_christoffersen_p']:.3g})"
                        for lvl in (1, 5))
        lines.append(f"vol_{kind}: " + "; ".join(parts) + f"; {var}.")
    return lines
