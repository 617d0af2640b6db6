"""Case-study results in the one shape of PROTOCOLS.md (``results/<app>.json`` and ``metrics.json``).

    result = CaseStudyResult(app="recommender", protocol="A", dataset={...})
    result.add("mf_biased", "deep", {"rmse": 0.87}, seeds=[1, 2, 3], std={"rmse": 0.002})
    result.add("bias_baseline", "baseline", {"rmse": 0.90})
    write_results(path, [result])   # atomic; a file may hold several protocols/datasets
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .artifacts import environment, write_json
from .errors import InputFileNotFound

KINDS = ("deep", "baseline")


@dataclasses.dataclass
class ModelResult:
    name: str
    kind: str
    metrics: dict[str, float]
    seeds: list[int] | None = None
    std: dict[str, float] | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if not self.name:
            raise ValueError("a model result needs a name")
        self.metrics = {_metric_key(k): _number(v) for k, v in self.metrics.items()}
        if self.std is not None:
            self.std = {_metric_key(k): _number(v) for k, v in self.std.items()}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "metrics": self.metrics}
        for key in ("seeds", "std", "note"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


def _metric_key(key: str) -> str:
    if key != key.lower():
        raise ValueError(f"metric names are lower-case as in PROTOCOLS.md, got {key!r}; use {key.lower()!r}")
    return key


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


@dataclasses.dataclass
class CaseStudyResult:
    app: str
    protocol: str
    dataset: dict[str, Any]
    models: list[ModelResult] = dataclasses.field(default_factory=list)
    environment: dict[str, Any] = dataclasses.field(default_factory=environment)
    wall_time_s: float | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def add(self, name: str, kind: str, metrics: Mapping[str, float], **kwargs: Any) -> ModelResult:
        if any(m.name == name for m in self.models):
            raise ValueError(f"model {name!r} is already in the results of {self.app}/{self.protocol}")
        model = ModelResult(name, kind, dict(metrics), **kwargs)
        self.models.append(model)
        return model

    def to_dict(self) -> dict[str, Any]:
        out = {"app": self.app, "protocol": self.protocol, "dataset": self.dataset,
               "models": [m.to_dict() for m in self.models], "environment": self.environment,
               "wall_time_s": None if self.wall_time_s is None else round(float(self.wall_time_s), 1)}
        if self.extra:
            out["extra"] = self.extra
        return out

    def table(self) -> "Any":
        """The deep models and baselines side by side (a ``shared.evaluation.ResultsTable``)."""
        from .evaluation.tables import ResultsTable

        table = ResultsTable(title=f"{self.app} — protocol {self.protocol} — {self.dataset.get('name', '')}")
        for m in self.models:
            table.add(m.name, m.kind, m.metrics, std=m.std, note=m.note)
        return table


def write_results(path: str | Path, results: CaseStudyResult | Sequence[CaseStudyResult]) -> Path:
    """Write one result object, or a list of them, atomically."""
    items = [results] if isinstance(results, CaseStudyResult) else list(results)
    if not items:
        raise ValueError("nothing to write: pass at least one CaseStudyResult")
    payload: Any = items[0].to_dict() if len(items) == 1 else [r.to_dict() for r in items]
    return write_json(path, payload)


def read_results(path: str | Path) -> list[dict[str, Any]]:
    """Read a results file as a list of result dicts, checking the PROTOCOLS.md shape."""
    path = Path(path)
    if not path.is_file():
        raise InputFileNotFound(f"no results file at {path}; run the case study first")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}); delete it and rerun the case study") from err
    items = payload if isinstance(payload, list) else [payload]
    for item in items:
        missing = [k for k in ("app", "protocol", "dataset", "models") if k not in item]
        if missing:
            raise ValueError(f"{path} lacks {missing}; it was written by an older version, rerun the case study")
    return items


def validate_results(obj: Any) -> list[dict[str, Any]]:
    """Check a results object (one result dict or a list of them) against the PROTOCOLS.md shape:
    app, protocol, dataset, models (each with a name, a kind in ``KINDS`` and lower-case metrics
    holding numbers or null), environment and wall_time_s. Returns the list; raises ``ValueError``
    naming the first broken field."""
    items = obj if isinstance(obj, list) else [obj]
    if not items:
        raise ValueError("a results file holds one result object or a non-empty list of them, got []")
    for i, item in enumerate(items):
        where = f"result {i}" if isinstance(obj, list) else "result"
        if not isinstance(item, Mapping):
            raise ValueError(f"{where} must be an object, got {type(item).__name__}")
        missing = [k for k in ("app", "protocol", "dataset", "models", "environment", "wall_time_s") if k not in item]
        if missing:
            raise ValueError(f"{where} lacks {missing} (PROTOCOLS.md results shape)")
        for key in ("app", "protocol"):
            if not isinstance(item[key], str) or not item[key]:
                raise ValueError(f"{where}: {key!r} must be a non-empty string, got {item[key]!r}")
        for key in ("dataset", "environment"):
            if not isinstance(item[key], Mapping):
                raise ValueError(f"{where}: {key!r} must be an object, got {type(item[key]).__name__}")
        wall = item["wall_time_s"]
        if wall is not None and (isinstance(wall, bool) or not isinstance(wall, (int, float))):
            raise ValueError(f"{where}: 'wall_time_s' must be a number of seconds or null, got {wall!r}")
        if not isinstance(item["models"], list) or not item["models"]:
            raise ValueError(f"{where}: 'models' must be a non-empty list")
        for model in item["models"]:
            _validate_model(model, where)
    return list(items)


def _validate_model(model: Any, where: str) -> None:
    if not isinstance(model, Mapping) or not isinstance(model.get("name"), str) or not model["name"]:
        raise ValueError(f"{where}: every model needs a non-empty 'name', got {model!r}")
    name = model["name"]
    if model.get("kind") not in KINDS:
        raise ValueError(f"{where}: model {name!r} has kind {model.get('kind')!r}; it must be one of {KINDS}")
    metrics = model.get("metrics")
    if not isinstance(metrics, Mapping):
        raise ValueError(f"{where}: model {name!r} needs a 'metrics' object")
    for key, value in metrics.items():
        if not isinstance(key, str) or key != key.lower():
            raise ValueError(f"{where}: model {name!r} has metric {key!r}; metric names are lower-case")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"{where}: model {name!r} metric {key!r} must be a number or null, got {value!r}")


def iter_models(items: Iterable[Mapping[str, Any]]) -> Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    for item in items:
        for model in item["models"]:
            yield item, model


def mean_and_std(per_seed: Sequence[Mapping[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and (population) standard deviation of each metric over seeds or folds."""
    if not per_seed:
        raise ValueError("no metrics to aggregate: pass one dict per seed or fold")
    keys = [k for k in per_seed[0] if all(k in m and m[k] is not None for m in per_seed)]
    values = {k: np.array([float(m[k]) for m in per_seed]) for k in keys}
    return ({k: float(v.mean()) for k, v in values.items()}, {k: float(v.std()) for k, v in values.items()})
