"""Run directories and atomic artifact writing.

A run lives in ``runs/<app>/<run-id>/`` and holds: ``config.json`` (resolved config, seed),
``environment.json`` (package versions, machine), ``data.json`` (fingerprint of the data),
``metrics.json`` (the results in the PROTOCOLS.md format), ``history*.csv``, ``model*.keras``
and ``figures/*.png``. Every file is written to a temporary name and renamed, so a crash never
leaves a half-written artifact.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import logging
import os
import platform
import tempfile
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

DEFAULT_RUNS_ROOT = Path(os.environ.get("DEEPCASES_RUNS", "runs"))
_PACKAGES = ("deepcases", "tensorflow", "keras", "numpy", "pandas", "scikit-learn", "scikit-survival",
             "statsmodels", "statsforecast", "nltk", "matplotlib", "yfinance", "lifelines", "keras-tuner")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + "".join(path.suffixes[-1:]),
                               dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.is_file():  # mkstemp makes 0600 files; artifacts are shared like any output
            umask = os.umask(0)
            os.umask(umask)
            tmp_path.chmod(0o666 & ~umask)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (pd.Timestamp, _dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_json(path: str | Path, obj: Any) -> Path:
    return write_text(path, json.dumps(_jsonable(obj), indent=2, sort_keys=False) + "\n")


def write_csv(path: str | Path, frame: pd.DataFrame, *, index: bool = False) -> Path:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=index)
    return Path(path)


def save_figure(fig: Any, path: str | Path, *, dpi: int = 120) -> Path:
    """Save a matplotlib figure atomically and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
    return path


def save_model(model: Any, path: str | Path) -> Path:
    """Save a Keras model as ``.keras`` atomically."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"model path must end in .keras, got {path.name!r}")
    with atomic_path(path) as tmp:
        model.save(tmp)
    return path


def package_versions(packages: Iterable[str] = _PACKAGES) -> dict[str, str]:
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def environment() -> dict[str, Any]:
    """Python, package versions and the machine, for results and run directories."""
    return {"python": platform.python_version(), **package_versions(),
            "machine": f"{os.cpu_count()} cores, {platform.machine()}, {platform.system()}"}


def fingerprint_frame(frame: pd.DataFrame, *, name: str, time_column: str | None = None) -> dict[str, Any]:
    """Rows, columns, optional date range and a SHA-256 of the content (not the rows themselves).

    The hash lets two runs prove they saw the same data without storing any of it.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest = hashlib.sha256(hashed.tobytes() + "|".join(map(str, frame.columns)).encode()).hexdigest()
    info: dict[str, Any] = {"name": name, "rows": int(len(frame)), "columns": [str(c) for c in frame.columns],
                            "fingerprint": f"sha256:{digest}"}
    if time_column is not None and time_column in frame and len(frame):
        times = pd.to_datetime(frame[time_column]).dropna()
        if len(times):  # a file without times (e.g. ratings for Protocol A) has no date range
            info["date_range"] = [times.min().date().isoformat(), times.max().date().isoformat()]
    return info


STATUS_FILE = "status.json"
RUN_STATES = ("running", "failed", "interrupted", "done")


def read_status(run_dir: str | Path) -> dict[str, Any] | None:
    """The run's ``status.json`` as a dict, or None if absent or unreadable (runs of older versions)."""
    try:
        status = json.loads((Path(run_dir) / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return status if isinstance(status, dict) and status.get("status") in RUN_STATES else None


def run_is_done(run_dir: str | Path) -> bool:
    """A run that finished: ``status.json`` says done, or (older runs without it) ``metrics.json`` exists."""
    status = read_status(run_dir)
    if status is not None:
        return status["status"] == "done"
    return (Path(run_dir) / "metrics.json").is_file()


def new_run_id(seed: int | None = None) -> str:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return f"{stamp}" + (f"-seed{seed}" if seed is not None else "")


@dataclasses.dataclass
class RunDir:
    """The folder of one run and the writers for its artifacts."""

    path: Path

    @classmethod
    def create(cls, app: str, *, root: str | Path | None = None, run_id: str | None = None,
               seed: int | None = None) -> "RunDir":
        if not app or "/" in app:
            raise ValueError(f"app must be a plain name such as 'recommender', got {app!r}")
        base = Path(root) if root is not None else DEFAULT_RUNS_ROOT
        path = base / app / (run_id or new_run_id(seed))
        (path / "figures").mkdir(parents=True, exist_ok=True)
        log.info("run directory: %s", path)
        return cls(path)

    @property
    def figures(self) -> Path:
        return self.path / "figures"

    def figure_path(self, name: str) -> Path:
        return self.figures / (name if name.endswith(".png") else f"{name}.png")

    def write_config(self, config: Any) -> Path:
        return write_json(self.path / "config.json", config)

    def write_environment(self) -> Path:
        return write_json(self.path / "environment.json", environment())

    def write_data_info(self, info: dict[str, Any] | list[dict[str, Any]]) -> Path:
        return write_json(self.path / "data.json", info)

    def write_status(self, status: str, **info: Any) -> Path:
        """``status.json``: ``running`` (written first), ``failed`` (with the error) or ``done`` (written
        last). The report and ``deepcases reproduce`` show only runs whose status is done (or, for runs
        of older versions without the file, that have ``metrics.json``)."""
        if status not in RUN_STATES:
            raise ValueError(f"status must be one of {RUN_STATES}, got {status!r}")
        stamp = _dt.datetime.now().isoformat(timespec="seconds")
        return write_json(self.path / STATUS_FILE, {"status": status, "updated": stamp, **info})

    def read_status(self) -> dict[str, Any] | None:
        return read_status(self.path)

    def write_metrics(self, results: Any) -> Path:
        return write_json(self.path / "metrics.json", results)

    @property
    def logs(self) -> Path:
        """TensorBoard logs of this run (``tensorboard --logdir <run>/logs``)."""
        return self.path / "logs"

    def write_history(self, history: dict[str, list[float]], name: str = "history") -> Path:
        """``<name>.csv`` plus the same curves as TensorBoard scalars under ``logs/<name>/``."""
        from shared.tensorboard_logs import write_scalars

        frame = pd.DataFrame(history)
        frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
        path = write_csv(self.path / f"{name}.csv", frame)
        if len(frame):
            write_scalars(self.logs / (name.removeprefix("history_") or name), history)
        return path

    def export_embeddings(self, name: str, vectors: Any, metadata: dict[str, Any]) -> Path:
        """Embeddings for TensorBoard's projector, under ``logs/projector/`` (see shared.tensorboard_logs)."""
        from shared.tensorboard_logs import PROJECTOR_DIR, export_projector

        return export_projector(self.logs / PROJECTOR_DIR, name, vectors, metadata)

    def save_model(self, model: Any, name: str = "model") -> Path:
        return save_model(model, self.path / f"{name}.keras")

    def save_figure(self, fig: Any, name: str) -> Path:
        return save_figure(fig, self.figure_path(name))

    def write(self, name: str, writer: Callable[[Path], Any]) -> Path:
        """Write any other artifact atomically: ``writer(tmp_path)`` fills the file."""
        target = self.path / name
        with atomic_path(target) as tmp:
            writer(tmp)
        return target
