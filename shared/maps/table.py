"""``deepcases map``: a 2-D map of a user's own table, and new rows placed on a saved map.

The table is prepared as ``deepcases fit`` prepares it (``shared.fit``): column kinds inferred from
type and shape (ids, free text and constant columns left out), then ``TabularPreprocessor`` fitted
on the *training part* only (medians, means, scales, category levels), one-hot columns that are
constant on the training part dropped. The map is fitted on the training rows; every row is then
placed with the fitted map's ``transform``, and the quality is reported twice: on the training rows
and on the held-out rows (neighbourhoods kept by ``transform``; 5-NN fitted on the training rows'
coordinates and scored on the held-out rows').

The run directory holds config.json, environment.json, data.json (fingerprint), map.json (columns,
preprocessing, kept features, method), encoder.keras (parametric methods), coordinates.csv,
quality.csv / quality.md, figures/map.html (interactive page of at most 50,000 points) and
figures/map.png (datashader, every point, above 200,000 rows; a scatter below), maps/map.json (the
record the HTML report shows) and status.json (``done`` last).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .methods import MAX_GRAPH_POINTS, METHODS, PARAMETRIC, load_encoder, map_2d
from .quality import map_quality

log = logging.getLogger(__name__)

MAP_FILE = "map.json"
ENCODER_FILE = "encoder.keras"
CONTINUOUS_ABOVE = 20         # a numeric label with more distinct values colours continuously (no k-NN accuracy)


@dataclasses.dataclass
class MapConfig:
    data: str
    label: str | None = None
    method: str = "parametric_umap"
    seed: int = 0
    test_fraction: float = 0.2
    epochs: int | None = None
    max_graph_points: int = MAX_GRAPH_POINTS
    runs_dir: str = "runs"
    run_id: str | None = None
    name: str | None = None


def _user_error(message: str) -> Exception:
    from shared.app import UserError

    return UserError(message)


def _label(frame: pd.DataFrame, column: str | None) -> tuple[np.ndarray | None, str | None]:
    """The label values and their kind ('categorical' or 'continuous'), or (None, None)."""
    if column is None:
        return None, None
    if column not in frame.columns:
        raise _user_error(f"--label {column!r} is not a column of the data; found {list(frame.columns)}")
    from shared.fit.preprocess import category_strings

    values = frame[column]
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and values.nunique() > CONTINUOUS_ABOVE:
        if values.isna().any():
            raise _user_error(f"--label {column!r} has {int(values.isna().sum())} missing value(s); a continuous "
                              "colour needs a number in every row: fill or drop those rows")
        return values.to_numpy(dtype=float), "continuous"
    strings = category_strings(values).to_numpy(dtype=object)
    if len(pd.unique(strings)) < 2:
        raise _user_error(f"--label {column!r} has a single class ({strings[0]!r}); colour by a column with at least "
                          "2 classes, or leave --label out")
    return strings, "categorical"


def map_table(config: MapConfig, frame: pd.DataFrame | None = None) -> dict[str, Any]:
    """Map the table of ``config.data``; returns a summary with the run directory and the quality table."""
    from shared.artifacts import RunDir, fingerprint_frame, write_csv, write_json, write_text
    from shared.data import read_table
    from shared.fit.preprocess import TabularPreprocessor
    from shared.fit.schema import feature_kinds

    from .render import render_map

    started = time.perf_counter()
    if config.method not in METHODS:
        raise _user_error(f"--method must be one of {list(METHODS)}, got {config.method!r}")
    if not 0.0 < config.test_fraction < 0.9:
        raise _user_error(f"--test-fraction must be in (0, 0.9), got {config.test_fraction}")
    if frame is None:
        frame = read_table(config.data, what="--data file")
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    labels, label_kind = _label(frame, config.label)
    features = frame.drop(columns=[config.label]) if config.label else frame
    kinds = feature_kinds(features)
    if not kinds:
        raise _user_error(f"no usable feature columns among {list(features.columns)} (empty, constant, ids or free "
                          "text); a map needs numeric, categorical or date columns")
    n = len(frame)
    order = np.random.default_rng(config.seed).permutation(n)
    n_test = int(round(config.test_fraction * n))
    train, test = np.sort(order[n_test:]), np.sort(order[:n_test])
    prep = TabularPreprocessor(kinds).fit(features.iloc[train])
    matrix = prep.transform(features)
    keep = np.ptp(matrix[train], axis=0) > 0            # e.g. an unknown bucket no training row falls into
    if not keep.any():
        raise _user_error("every prepared feature is constant on the training rows; there is nothing to map")
    x = matrix[:, keep]
    names = [name for name, kept in zip(prep.feature_names_, keep) if kept]
    categorical = label_kind == "categorical"
    result = map_2d(x[train], method=config.method, seed=config.seed,
                    labels=labels[train] if categorical else None, epochs=config.epochs,
                    max_graph_points=config.max_graph_points)
    coords = np.empty((n, 2), dtype=np.float32)
    coords[train] = result.coords
    if len(test):
        coords[test] = result.transform(x[test])
    rows = [{"part": "training rows (fitted)", "points": len(train), **result.quality}]
    if len(test) > 20:
        held = map_quality(x[test], coords[test], labels[test] if categorical else None, seed=config.seed,
                           train_low=coords[train] if categorical else None,
                           train_labels=labels[train] if categorical else None)
        rows.append({"part": "held-out rows (transform)", "points": len(test), **held})
    else:
        log.warning("only %d held-out rows: no held-out quality row (needs more than 20)", len(test))
    quality = pd.DataFrame(rows)

    name = config.name or f"map_{Path(config.data).stem.split('.')[0] or 'table'}"
    run = RunDir.create(name, root=config.runs_dir, run_id=config.run_id, seed=config.seed)
    run.write_status("running", app=name)  # "done" is written last: until then the report skips the run
    run.write_config(config)
    run.write_environment()
    run.write_data_info(fingerprint_frame(frame, name=Path(config.data).name))
    state = {"method": config.method, "columns": list(frame.columns), "label": config.label,
             "label_kind": label_kind, "kinds": kinds, "preprocessing": prep.to_dict(), "features": names,
             "keep": keep.tolist(), "params": result.params}
    write_json(run.path / MAP_FILE, state)
    if config.method in PARAMETRIC:
        result.save(run.path / ENCODER_FILE)
    part = np.where(np.isin(np.arange(n), test), "held-out", "training")
    table = pd.DataFrame({"row": np.arange(n), "x": coords[:, 0], "y": coords[:, 1], "part": part})
    if labels is not None:
        table[config.label] = labels
    write_csv(run.path / "coordinates.csv", table)
    write_csv(run.path / "quality.csv", quality.round(4))
    shown = ["part", "points", "trustworthiness", "continuity", "knn_accuracy", "fit_seconds", "peak_rss_mb"]
    write_text(run.path / "quality.md", f"# Map quality ({config.method}, seed {config.seed})\n\n"
               + _markdown(quality[[c for c in shown if c in quality]]) + "\n")
    title = f"{config.method} map of {Path(config.data).name}"
    colour = {"labels": labels} if categorical else {"values": labels}
    hover = [f"row {i}" + (f"<br>{config.label}: {labels[i]}" if labels is not None else "") for i in range(n)]
    drawn = render_map(coords, run.figures, name="map", hover_text=hover, title=title, label_name=config.label,
                       seed=config.seed, **colour)
    _write_record(run, quality, title=title, label=config.label, n_features=len(names), n_rows=n, drawn=drawn)
    run.write_status("done", app=name, wall_time_s=round(time.perf_counter() - started, 1))
    return {"run": run.path, "quality": quality, "method": config.method, **drawn}


def _write_record(run: Any, quality: pd.DataFrame, *, title: str, label: str | None, n_features: int, n_rows: int,
                  drawn: dict[str, Path]) -> Path:
    """``maps/map.json`` in the learned-map record format (``shared.maps.learned``), so the report shows the
    map run: its image, quality table and interactive page."""
    from shared.artifacts import write_json

    from .learned import MAPS_DIR

    rows = [{"map": str(row["part"]), "of": f"prepared table ({n_features} features)", "n_points": int(row["points"]),
             "n_features": n_features, **{k: row.get(k) for k in ("trustworthiness", "continuity", "knn_accuracy",
                                                                  "fit_seconds", "peak_rss_mb")}}
            for row in quality.to_dict(orient="records")]
    record = {"name": "map", "kind": "table", "title": title, "label": label or "no label", "n_points": n_rows,
              "n_total": n_rows, "figure": f"figures/{drawn['image'].name}", "page": f"figures/{drawn['page'].name}",
              "rows": rows}
    return write_json(run.path / MAPS_DIR / "map.json", record)


def _markdown(frame: pd.DataFrame) -> str:
    def cell(value: Any) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * frame.shape[1]]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def _cast_like_training(rows: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    rows = rows.copy()
    for column, kind in kinds.items():
        if kind != "numeric" or pd.api.types.is_numeric_dtype(rows[column]):
            continue
        values = pd.to_numeric(rows[column], errors="coerce")
        bad = values.isna() & rows[column].notna()
        if bad.any():
            raise _user_error(f"column {column!r} was numeric in the mapped table but holds {int(bad.sum())} "
                              f"non-numeric value(s) such as {rows[column][bad].iloc[0]!r}; fix or blank them")
        rows[column] = values
    return rows


def embed_table(run_dir: str | Path, data: str | Path, *, out: str | Path | None = None,
                frame: pd.DataFrame | None = None) -> tuple[Path, pd.DataFrame]:
    """Place the rows of ``data`` on the map saved in ``run_dir``; writes ``out`` (default RUN/new_coordinates.csv)."""
    from shared.artifacts import write_csv
    from shared.data import read_table
    from shared.fit.preprocess import TabularPreprocessor

    run_dir = Path(run_dir)
    if not (run_dir / MAP_FILE).is_file():
        raise _user_error(f"{run_dir} holds no {MAP_FILE}: pass a run directory written by `deepcases map --data ...`")
    state = json.loads((run_dir / MAP_FILE).read_text(encoding="utf-8"))
    if state["method"] not in PARAMETRIC:
        raise _user_error(f"{run_dir} was mapped with {state['method']!r}, which keeps no encoder for new rows; map "
                          f"the table again with --method parametric_umap (or autoencoder)")
    if frame is None:
        frame = read_table(data, what="--data file")
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    kinds = state["kinds"]
    missing = [c for c in kinds if c not in frame.columns]
    extra = [c for c in frame.columns if c not in state["columns"]]
    if missing or extra:
        raise _user_error(f"the new rows' columns differ from the mapped table's: missing {missing}, not in the mapped "
                          f"table {extra}; pass rows with the columns {list(kinds)} (the label and id columns may "
                          "be there too)")
    rows = _cast_like_training(frame, kinds)
    prep = TabularPreprocessor.from_dict(state["preprocessing"])
    x = prep.transform(rows[list(kinds)])[:, np.asarray(state["keep"], dtype=bool)]
    encoder = load_encoder(run_dir / ENCODER_FILE, method=state["method"])
    coords = encoder.transform(x)
    table = pd.DataFrame({"row": np.arange(len(frame)), "x": coords[:, 0], "y": coords[:, 1]})
    if state.get("label") and state["label"] in frame.columns:
        table[state["label"]] = frame[state["label"]].to_numpy()
    target = Path(out) if out is not None else run_dir / "new_coordinates.csv"
    write_csv(target, table)
    return target, table
