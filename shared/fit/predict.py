"""``deepcases predict``: apply the final model of a ``deepcases fit`` run to new rows.

The new rows are checked against the run's schema.json first: a missing input column or a value of
the wrong type is an error; columns the model does not use are ignored with a warning (an error
with ``strict``); a category never seen in training goes to the unknown bucket with a warning (an
error with ``strict``). Id columns seen in training are copied into the output.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .models import predict_outputs, probabilities
from .preprocess import TabularPreprocessor
from .schema import Schema, check_new_rows
from ..errors import InputFileNotFound, UserError

log = logging.getLogger(__name__)

RUN_FILES = ("schema.json", "preprocessing.json", "model.keras")


def load_run(run_dir: str | Path) -> tuple[Path, Schema, dict[str, Any]]:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputFileNotFound(f"run directory not found: {run_dir}; pass a folder written by `deepcases fit`, "
                                "e.g. runs/fit_mydata/<run-id>")
    missing = [name for name in RUN_FILES if not (run_dir / name).is_file()]
    if missing:
        raise InputFileNotFound(f"{run_dir} lacks {missing}: it is not a finished `deepcases fit` run (an "
                                "application run, or a fit that stopped early); refit the data")
    schema = Schema.from_dict(json.loads((run_dir / "schema.json").read_text(encoding="utf-8")))
    state = json.loads((run_dir / "preprocessing.json").read_text(encoding="utf-8"))
    return run_dir, schema, state


def predict_frame(run_dir: str | Path, frame: pd.DataFrame, *, strict: bool = False
                  ) -> tuple[pd.DataFrame, list[str]]:
    """Predictions for ``frame`` from the run in ``run_dir``; returns (predictions, warnings)."""
    run_dir, schema, state = load_run(run_dir)
    rows, notes = check_new_rows(frame, schema, strict=strict)
    out = rows[schema.id_columns].reset_index(drop=True).copy()     # ids first (an empty frame if none)
    prep = None
    if "features" in state:
        prep = TabularPreprocessor.from_dict(state["features"])
        unseen = prep.unseen_examples(rows)
        if unseen:
            message = "; ".join(f"{column}: {values}" for column, values in unseen.items())
            if strict:
                raise UserError(f"categories never seen in training: {message}; fix them, or run without --strict "
                                 "to send them to the unknown bucket")
            notes.append(f"categories never seen in training went to the unknown bucket: {message}")
            log.warning(notes[-1])
    from shared.models._keras import keras

    if schema.task == "text":   # a MiniLM model's keras-hub layers must be registered before loading
        from shared.models.pretrained_text import import_keras_hub

        try:
            import_keras_hub()
        except ImportError:   # keras-hub missing: only a MiniLM model needs it, load_model says so
            pass
    model = keras().models.load_model(run_dir / "model.keras", compile=False)
    task = schema.task
    if task in ("classification", "text"):

        if task == "text":
            from shared.models import text_batch

            raw = predict_outputs(model, text_batch(rows[schema.text_column].to_numpy(dtype=object)))
        else:
            raw = predict_outputs(model, prep.transform(rows))
        classes = state["classes"]
        proba = probabilities(raw, len(classes))
        out["prediction"] = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
        for i, name in enumerate(classes):
            out[f"probability_{name}"] = proba[:, i]
    elif task == "regression":
        raw = predict_outputs(model, prep.transform(rows)).reshape(-1)
        out["prediction"] = raw * state["target_std"] + state["target_mean"]
    elif task == "survival":
        from shared.survival import BreslowBaseline

        risk = predict_outputs(model, prep.transform(rows)).astype(float).reshape(-1)
        out["risk"] = risk
        times = state["report_times"]
        surv = BreslowBaseline.from_dict(state["baseline"]).survival(risk, times)
        for j, t in enumerate(times):
            out[f"survival_at_{t:g}"] = surv[:, j]
    elif task == "forecast":
        out = _forecast(model, rows, schema, state)
    else:  # pragma: no cover - schema.json written by another version
        raise UserError(f"unknown task {task!r} in {run_dir / 'schema.json'}; refit the data")
    return out, notes


def _forecast(model: Any, rows: pd.DataFrame, schema: Schema, state: dict[str, Any]) -> pd.DataFrame:
    window, horizon = int(state["window"]), int(state["horizon"])
    rows = rows.sort_values(schema.time_column, kind="mergesort")
    series = rows[schema.target].to_numpy(dtype=float)
    if np.isnan(series).any():
        raise UserError(f"the history in {schema.target!r} has {int(np.isnan(series).sum())} missing value(s); "
                         "fill them so the last window is complete")
    if len(series) < window:
        raise UserError(f"the new data holds {len(series)} rows but the model reads the last {window}; pass at "
                         f"least {window} rows of history ({schema.time_column}, {schema.target})")
    last, scale = series[-1], state["scale"]           # windows relative to their last value (see RNNForecaster)
    x = ((series[-window:] - last) / scale).astype("float32")[None, :, None]
    values = last + predict_outputs(model, x).reshape(-1)[:horizon] * scale
    last = pd.Timestamp(rows[schema.time_column].iloc[-1])
    if state.get("frequency"):
        dates = pd.date_range(last, periods=horizon + 1, freq=state["frequency"])[1:]
    else:
        dates = pd.DatetimeIndex([last + pd.Timedelta(days=state["step_days"] * (k + 1)) for k in range(horizon)])
    return pd.DataFrame({schema.time_column: dates, "step": np.arange(1, horizon + 1), "prediction": values})


def predict_file(run_dir: str | Path, data: str | Path, *, out: str | Path | None = None,
                 strict: bool = False) -> tuple[Path, pd.DataFrame, list[str]]:
    """Read ``data``, predict, write the predictions CSV (default ``RUN_DIR/predictions.csv``)."""
    from shared.artifacts import write_csv
    from shared.data import read_table

    frame = read_table(data, what="--data file")
    predictions, notes = predict_frame(run_dir, frame, strict=strict)
    target = Path(out) if out is not None else Path(run_dir) / "predictions.csv"
    write_csv(target, predictions)
    return target, predictions, notes
