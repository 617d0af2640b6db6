"""Save a fitted DeepSurv bundle in a run directory and score a CSV of new patients with it.

A bundle is three files beside each other: ``deepsurv_<dataset>.keras`` (the network),
``deepsurv_<dataset>.preprocessor.pkl`` (the imputer/scaler/one-hot encoder fitted on its training
fold: medians, means, scales and category levels, no patient rows) and ``deepsurv_<dataset>.json``
(the Breslow baseline hazard, the horizon and the covariate names).

    deepcases run survival --predict new_patients.csv --model-dir runs/survival/<run-id> --days 30 90 180

writes one row per input patient: ``risk_score`` (log partial hazard, higher = worse),
``survival_<d>d`` = S(d | x) for each requested day and ``p_event_within_<H>d``. This output file is
the only per-patient artifact the application writes, and only when asked.
"""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shared.artifacts import RunDir, write_csv, write_json
from shared.data import read_table
from shared.survival import BreslowBaseline
from shared.errors import InputFileNotFound, UserError

log = logging.getLogger(__name__)


def save_bundle(run: RunDir, name: str, *, model: Any, preprocessor: Any, baseline: BreslowBaseline,
                meta: dict[str, Any]) -> Path:
    stem = f"deepsurv_{name}"
    run.save_model(model, stem)
    run.write(f"{stem}.preprocessor.pkl", lambda tmp: tmp.write_bytes(pickle.dumps(preprocessor)))
    return write_json(run.path / f"{stem}.json", {**meta, "baseline_hazard": baseline.to_dict()})


def _find_bundle(model_dir: Path, dataset: str | None) -> Path:
    if not model_dir.is_dir():
        raise InputFileNotFound(f"model directory not found: {model_dir}; pass --model-dir with a run directory "
                                "written by `deepcases run survival`")
    metas = sorted(p for p in model_dir.glob("deepsurv_*.json"))
    if dataset is not None:
        metas = [p for p in metas if p.stem == f"deepsurv_{dataset}"]
    if not metas:
        raise InputFileNotFound(f"no saved DeepSurv model (deepsurv_*.json) in {model_dir}"
                                + (f" for dataset {dataset!r}" if dataset else "")
                                + "; run the case study first and pass its run directory as --model-dir")
    if len(metas) > 1:
        names = [p.stem.removeprefix("deepsurv_") for p in metas]
        raise UserError(f"{model_dir} holds models for {names}; choose one with --dataset")
    return metas[0]


def load_bundle(model_dir: str | Path, *, dataset: str | None = None) -> tuple[Any, Any, BreslowBaseline, dict]:
    meta_path = _find_bundle(Path(model_dir), dataset)
    stem = meta_path.with_suffix("")
    for suffix in (".keras", ".preprocessor.pkl"):
        if not Path(f"{stem}{suffix}").is_file():
            raise InputFileNotFound(f"{stem}{suffix} is missing; the run directory is incomplete, rerun the case study")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    baseline = BreslowBaseline.from_dict(meta["baseline_hazard"])
    with open(f"{stem}.preprocessor.pkl", "rb") as fh:
        preprocessor = pickle.load(fh)  # our own artifact, written by save_bundle
    from shared.models._keras import keras

    model = keras().models.load_model(f"{stem}.keras", compile=False)
    return model, preprocessor, baseline, meta


def predict_frame(frame: pd.DataFrame, *, model: Any, preprocessor: Any, baseline: BreslowBaseline,
                  days: Sequence[float], horizon: float) -> pd.DataFrame:
    days = [float(d) for d in days]
    if not days or any(not np.isfinite(d) or d <= 0 for d in days):
        raise UserError(f"--days must be positive numbers of days, got {days}")
    x = preprocessor.transform(frame)
    from .models import predict_risk

    risk = predict_risk(model, x)
    surv = baseline.survival(risk, days)
    out = pd.DataFrame({"row": np.arange(len(frame)), "risk_score": risk})
    for j, d in enumerate(days):
        out[f"survival_{d:g}d"] = surv[:, j]
    out[f"p_event_within_{horizon:g}d"] = 1.0 - baseline.survival(risk, [horizon])[:, 0]
    return out


def predict_file(path: str | Path, *, model_dir: str | Path, days: Sequence[float], output: str | Path | None = None,
                 dataset: str | None = None, id_column: str | None = None) -> Path:
    """Score the patients in ``path`` with a saved run; returns the written CSV's path."""
    frame = read_table(path, what="patients CSV")
    if id_column is not None and id_column not in frame.columns:
        raise UserError(f"--id-column {id_column!r} is not in {path}; found {list(frame.columns)}")
    model, preprocessor, baseline, meta = load_bundle(model_dir, dataset=dataset)
    last = float(baseline.times[-1])
    if max(days) > last:
        log.warning("days beyond %g (the last event time seen in training) extrapolate a flat survival curve", last)
    out = predict_frame(frame, model=model, preprocessor=preprocessor, baseline=baseline, days=days,
                        horizon=float(meta["horizon"]))
    if id_column is not None:
        out.insert(0, id_column, frame[id_column].to_numpy())
    target = Path(output) if output else Path(path).with_suffix(".predictions.csv")
    write_csv(target, out)
    log.info("wrote predictions for %d patients to %s", len(out), target)
    return target
