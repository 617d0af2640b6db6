"""TensorBoard files for a run: training curves as scalars, embeddings in the projector's format.

Every run keeps its logs under ``<run>/logs/``:

* ``logs/<history>/train`` and ``logs/<history>/validation``: one scalar per metric and epoch,
  the layout Keras' own TensorBoard callback uses, so train and validation curves overlay;
* ``logs/projector/``: ``<name>.tsv`` (one vector per row), ``<name>_metadata.tsv`` (a header
  row, then one row of labels per vector) and ``projector_config.pbtxt`` listing them.

``tensorboard --logdir runs/`` shows the curves of every run; the projector tab lists the exported
embeddings (``tensorboard --logdir runs/<app>/<run-id>/logs/projector`` opens only them). The
projector directory also gets a one-line text summary, which makes it a TensorBoard "run" so that
it is found from any parent ``--logdir``.

TensorFlow and TensorBoard are imported on first use only.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shared.artifacts import write_text

log = logging.getLogger(__name__)

PROJECTOR_DIR = "projector"
PROJECTOR_CONFIG = "projector_config.pbtxt"
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def write_scalars(logdir: str | Path, history: Mapping[str, Sequence[float]]) -> Path:
    """Write a Keras-style history (``{"loss": [...], "val_loss": [...]}``) as TensorBoard scalars.

    ``val_*`` series go to ``logdir/validation`` and the rest to ``logdir/train``, each as
    ``epoch_<metric>`` at steps 0, 1, ... (what Keras' callback writes). An existing ``logdir``
    is replaced, so writing the same history twice does not duplicate points.
    """
    import tensorflow as tf

    logdir = Path(logdir)
    series: dict[str, dict[str, list[float]]] = {"train": {}, "validation": {}}
    for key, values in history.items():
        values = [float(v) for v in values]
        if not values:
            continue
        part, metric = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
        series[part][f"epoch_{metric}"] = values
    if logdir.exists():
        shutil.rmtree(logdir)
    for part, metrics in series.items():
        if not metrics:
            continue
        writer = tf.summary.create_file_writer(str(logdir / part))
        with writer.as_default():
            for tag, values in metrics.items():
                for step, value in enumerate(values):
                    tf.summary.scalar(tag, value, step=step)
        writer.close()
    return logdir


def _tsv_cell(value: Any) -> str:
    # The projector splits on tabs and lines; keep each label on one cell.
    return " ".join(str(value).split()) or "(empty)"


def export_projector(logdir: str | Path, name: str, vectors: Any, metadata: Mapping[str, Sequence[Any]]) -> Path:
    """Export ``vectors`` (n × d) with per-row ``metadata`` columns for TensorBoard's projector.

    Writes ``<logdir>/<name>.tsv`` and ``<logdir>/<name>_metadata.tsv`` and adds (or replaces)
    the entry ``name`` in ``<logdir>/projector_config.pbtxt``; other entries are kept. Returns
    the config path. All files are written atomically.
    """
    from google.protobuf import text_format

    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    if not _NAME.match(name):
        raise ValueError(f"projector name {name!r} must use letters, digits, '_', '.' or '-' only")
    matrix = np.asarray(vectors, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] == 0 or matrix.shape[1] == 0:
        raise ValueError(f"vectors must be a non-empty 2-D array (rows x dimensions), got shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError(f"vectors for {name!r} contain NaN or infinite values; the projector cannot show them")
    if not metadata:
        raise ValueError("metadata needs at least one column (e.g. {'label': [...]}) to label the points")
    for column, values in metadata.items():
        if len(values) != matrix.shape[0]:
            raise ValueError(f"metadata column {column!r} has {len(values)} values for {matrix.shape[0]} vectors")
    logdir = Path(logdir)
    tensor_file, metadata_file = f"{name}.tsv", f"{name}_metadata.tsv"
    write_text(logdir / tensor_file, "".join("\t".join(f"{v:.6g}" for v in row) + "\n" for row in matrix))
    columns = list(metadata)
    lines = ["\t".join(_tsv_cell(c) for c in columns)] if len(columns) > 1 else []
    # One column: the projector reads the file without a header; several: the first line is the header.
    lines += ["\t".join(_tsv_cell(metadata[c][i]) for c in columns) for i in range(matrix.shape[0])]
    write_text(logdir / metadata_file, "\n".join(lines) + "\n")

    config = ProjectorConfig()
    config_path = logdir / PROJECTOR_CONFIG
    if config_path.is_file():
        try:
            text_format.Parse(config_path.read_text(encoding="utf-8"), config)
        except text_format.ParseError as err:
            log.warning("replacing unreadable %s: %s", config_path, err)
            config = ProjectorConfig()
    kept = [e for e in config.embeddings if e.tensor_name != name]
    del config.embeddings[:]
    config.embeddings.extend(kept)
    entry = config.embeddings.add()
    entry.tensor_name = name
    entry.tensor_path = tensor_file
    entry.metadata_path = metadata_file
    entry.tensor_shape.extend(list(matrix.shape))
    write_text(config_path, text_format.MessageToString(config))
    _mark_as_run(logdir, [e.tensor_name for e in config.embeddings])
    log.info("projector: %s (%d x %d) -> %s", name, matrix.shape[0], matrix.shape[1], logdir)
    return config_path


def _mark_as_run(logdir: Path, names: Sequence[str]) -> None:
    """One text summary in ``logdir`` so TensorBoard treats it as a run (and finds the projector files)."""
    import tensorflow as tf

    for old in logdir.glob("events.out.tfevents.*"):
        old.unlink()
    writer = tf.summary.create_file_writer(str(logdir))
    with writer.as_default():
        tf.summary.text("projector", "embeddings: " + ", ".join(names), step=0)
    writer.close()


def projector_entries(logdir: str | Path) -> list[dict[str, Any]]:
    """The embeddings listed in ``logdir/projector_config.pbtxt`` (name, files, shape); [] if none."""
    from google.protobuf import text_format

    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    path = Path(logdir) / PROJECTOR_CONFIG
    if not path.is_file():
        return []
    config = text_format.Parse(path.read_text(encoding="utf-8"), ProjectorConfig())
    return [{"name": e.tensor_name, "tensor_path": e.tensor_path, "metadata_path": e.metadata_path,
             "shape": list(e.tensor_shape)} for e in config.embeddings]
