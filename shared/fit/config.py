"""The options of ``deepcases fit`` as one frozen dataclass, read from the command line and/or YAML.

Precedence: the dataclass defaults, then ``--config FILE.yaml``, then options given on the command
line. ``deepcases fit --print-config`` prints the resolved result as YAML, a file to start from.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from ..errors import InputFileNotFound, UserError

TASKS = ("classification", "regression", "survival", "forecast", "text")
COLUMN_KINDS = ("numeric", "categorical", "text", "datetime", "id", "ignore")


@dataclasses.dataclass(frozen=True)
class FitConfig:
    """Everything ``deepcases fit`` needs; the YAML keys are these field names."""

    # what to fit
    data: str | None = None
    target: str | None = None
    task: str | None = None                 # None: inferred from the other options and the target column
    event_column: str | None = None         # survival: 1 = event observed, 0 = censored (target = duration)
    time_column: str | None = None          # forecast: the date column that orders the series
    text_column: str | None = None          # text: the column with the raw text
    column_types: dict[str, str] = dataclasses.field(default_factory=dict)  # override inference, e.g. zip: categorical
    # cross-validation
    folds: int = 5
    # deep model and training
    epochs: int = 100
    batch_size: int = 32
    hidden_units: tuple[int, ...] = (64, 32)
    dropout: float = 0.1
    l2: float = 1e-4
    learning_rate: float = 1e-3
    patience: int = 10
    validation_fraction: float = 0.15       # of each training fold, for early stopping
    rare_category_fraction: float = 0.01    # categories rarer than this in a training fold go to the unknown bucket
    # forecast (RNN over windows)
    window: int = 24
    horizon: int = 1
    seasonality: int | None = None          # None: from the date frequency (daily 7, monthly 12, ...)
    rnn_units: tuple[int, ...] = (32,)
    cell: str = "lstm"
    # text (NLP family)
    text_encoder: str = "cnn"
    max_tokens: int = 20000
    sequence_length: int = 100
    embedding_dim: int = 64
    # hyperparameter search (nested inside the cross-validation; see shared/fit/tuning.py)
    tune: str | None = None                 # None (no search), "random", "grid" or "bayes"
    trials: int = 10                        # trials per search
    # run
    name: str | None = None                 # run folder runs/<name>/<run-id>; default fit_<data file stem>
    seed: int = 42
    runs_dir: str = "runs"
    run_id: str | None = None
    log_level: str = "INFO"
    results_file: str | None = None

    def __post_init__(self) -> None:
        validate(self)

    @property
    def app_name(self) -> str:
        if self.name:
            return self.name
        stem = Path(self.data).name.split(".")[0] if self.data else "data"
        return "fit_" + (re.sub(r"[^0-9A-Za-z_]+", "_", stem).strip("_").lower() or "data")

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


FIELDS: dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(FitConfig)}
_INT_TUPLES = ("hidden_units", "rnn_units")
_POSITIVE_INTS = ("folds", "epochs", "batch_size", "window", "horizon", "max_tokens", "sequence_length",
                  "embedding_dim", "trials")
TUNE_METHODS = ("random", "grid", "bayes")


def validate(config: FitConfig) -> None:
    """Check option values (not the data); each error names the option and the fix."""
    if config.task is not None and config.task not in TASKS:
        raise UserError(f"task must be one of {list(TASKS)}, got {config.task!r}")
    for name in _POSITIVE_INTS:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UserError(f"{name} must be a positive integer, got {value!r}")
    if config.folds < 2:
        raise UserError(f"folds must be >= 2 for cross-validation, got {config.folds}")
    if isinstance(config.seed, bool) or not isinstance(config.seed, int) or config.seed < 0:
        raise UserError(f"seed must be a non-negative integer, got {config.seed!r}")
    if isinstance(config.patience, bool) or not isinstance(config.patience, int) or config.patience < 0:
        raise UserError(f"patience must be an integer >= 0, got {config.patience!r}")
    if config.seasonality is not None and (isinstance(config.seasonality, bool) or not isinstance(
            config.seasonality, int) or config.seasonality < 1):
        raise UserError(f"seasonality must be a positive integer or null (automatic), got {config.seasonality!r}")
    for name in _INT_TUPLES:
        units = getattr(config, name)
        if not units or any(isinstance(u, bool) or not isinstance(u, int) or u < 1 for u in units):
            raise UserError(f"{name} must be a non-empty list of positive integers, got {list(units)!r}")
    for name, low, high in (("dropout", 0.0, 0.95), ("validation_fraction", 0.05, 0.5),
                            ("rare_category_fraction", 0.0, 0.5)):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise UserError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    for name in ("l2", "learning_rate"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (
                name == "learning_rate" and value == 0):
            raise UserError(f"{name} must be a {'positive' if name == 'learning_rate' else 'non-negative'} "
                             f"number, got {value!r}")
    if config.cell not in ("lstm", "gru"):
        raise UserError(f"cell must be 'lstm' or 'gru', got {config.cell!r}")
    if config.tune is not None and config.tune not in TUNE_METHODS:
        raise UserError(f"tune must be one of {list(TUNE_METHODS)} (or null for no search), got {config.tune!r}")
    if config.text_encoder not in ("lstm", "gru", "cnn", "minilm"):
        raise UserError(f"text_encoder must be 'lstm', 'gru', 'cnn' or 'minilm', got {config.text_encoder!r}")
    if config.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise UserError(f"log_level must be DEBUG, INFO, WARNING or ERROR, got {config.log_level!r}")
    if config.name is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+", config.name):
        raise UserError(f"name must be a plain folder name (letters, digits, _ . -), got {config.name!r}")
    if not isinstance(config.column_types, Mapping):
        raise UserError("column_types must be a mapping column -> kind, e.g. {zip: categorical}")
    for column, kind in config.column_types.items():
        if kind not in COLUMN_KINDS:
            raise UserError(f"column_types[{column!r}] must be one of {list(COLUMN_KINDS)}, got {kind!r}")


def _coerce(name: str, value: Any) -> Any:
    """YAML/CLI values to the field's type (lists to tuples, numbers kept); validation comes after."""
    if name in _INT_TUPLES:
        if isinstance(value, str):
            value = [v for v in re.split(r"[,\s]+", value) if v]
        if not isinstance(value, (list, tuple)):
            value = [value]
        try:
            return tuple(int(v) for v in value)
        except (TypeError, ValueError) as err:
            raise UserError(f"{name} must be a list of positive integers such as [64, 32], got {value!r}") from err
    if name == "column_types":
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise UserError(f"column_types must be a mapping column -> kind, got {type(value).__name__}")
        return {str(k): str(v) for k, v in value.items()}
    if name in ("dropout", "l2", "learning_rate", "validation_fraction", "rare_category_fraction") \
            and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def from_mapping(values: Mapping[str, Any], *, base: FitConfig | None = None, source: str = "config") -> FitConfig:
    """A config from ``base`` (default: the defaults) with ``values`` replacing its fields."""
    unknown = sorted(k for k in (str(k).replace("-", "_") for k in values) if k not in FIELDS)
    if unknown:
        raise UserError(f"{source} has unknown option(s) {unknown}; valid options: {sorted(FIELDS)}")
    changes = {str(k).replace("-", "_"): _coerce(str(k).replace("-", "_"), v) for k, v in values.items()}
    return dataclasses.replace(base or FitConfig(), **changes)


def load_yaml(path: str | Path) -> dict[str, Any]:
    import yaml

    path = Path(path)
    if not path.is_file():
        raise InputFileNotFound(f"config file not found: {path}; write one with "
                                f"`deepcases fit --print-config > {path}`")
    try:
        payload = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise UserError(f"config file {path} is not valid YAML ({err})") from err
    if payload is None:
        return {}
    if not isinstance(payload, Mapping):
        raise UserError(f"config file {path} must hold a mapping of option: value, got {type(payload).__name__}")
    return dict(payload)


def resolve(cli_values: Mapping[str, Any], config_file: str | Path | None = None) -> FitConfig:
    """Defaults, then the YAML file, then the options given on the command line."""
    config = FitConfig()
    if config_file is not None:
        config = from_mapping(load_yaml(config_file), base=config, source=f"config file {config_file}")
    return from_mapping(cli_values, base=config, source="command line")


def to_yaml(config: FitConfig) -> str:
    import yaml

    header = ("# deepcases fit configuration: pass it with `deepcases fit --config FILE.yaml`;\n"
              "# options given on the command line override these values.\n")
    return header + yaml.safe_dump(config.to_dict(), sort_keys=False, default_flow_style=None)
