"""TensorBoard scalars from histories and the projector export (issue 9)."""

from __future__ import annotations

import numpy as np
import pytest

from shared.artifacts import RunDir
from shared.tensorboard_logs import export_projector, projector_entries, write_scalars


def _scalars(directory):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(directory), size_guidance={"tensors": 0})
    acc.Reload()
    import tensorflow as tf

    return {tag: [float(tf.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)] for tag in acc.Tags()["tensors"]}


def test_history_becomes_train_and_validation_scalars(tmp_path):
    logdir = write_scalars(tmp_path / "mf", {"loss": [1.0, 0.5, 0.25], "val_loss": [1.2, 0.9, 0.95], "rmse": [2.0, 1.0, 0.5]})
    train, val = _scalars(logdir / "train"), _scalars(logdir / "validation")
    assert train["epoch_loss"] == pytest.approx([1.0, 0.5, 0.25])
    assert train["epoch_rmse"] == pytest.approx([2.0, 1.0, 0.5])
    assert val == {"epoch_loss": pytest.approx([1.2, 0.9, 0.95])}
    # Writing again replaces, it does not append a second copy of every point.
    write_scalars(logdir, {"loss": [3.0]})
    assert _scalars(logdir / "train")["epoch_loss"] == pytest.approx([3.0])
    assert not (logdir / "validation").exists()


def test_run_dir_history_is_also_in_tensorboard(tmp_path):
    run = RunDir.create("demo", root=tmp_path, run_id="r1")
    run.write_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, "history_lstm_seed42")
    assert (run.path / "history_lstm_seed42.csv").is_file()
    assert _scalars(run.logs / "lstm_seed42" / "validation")["epoch_loss"] == pytest.approx([1.1, 0.7])


def test_projector_export_round_trips_and_keeps_other_entries(tmp_path):
    from tensorboard.plugins.projector.projector_plugin import _read_tensor_tsv_file

    rng = np.random.default_rng(0)
    items, words = rng.normal(size=(5, 3)), rng.normal(size=(4, 2))
    export_projector(tmp_path, "items", items, {"title": ["A\tB", "b", "c", "d\ne", "f"], "group": list("xxyyz")})
    export_projector(tmp_path, "words", words, {"word": ["good", "bad", "dull", "fun"]})
    export_projector(tmp_path, "items", items[:3], {"title": ["a", "b", "c"], "group": list("xyz")})  # replaced
    entries = {e["name"]: e for e in projector_entries(tmp_path)}
    assert set(entries) == {"items", "words"}
    assert entries["items"]["shape"] == [3, 3] and entries["words"]["shape"] == [4, 2]
    loaded = _read_tensor_tsv_file(str(tmp_path / entries["words"]["tensor_path"]))
    np.testing.assert_allclose(loaded, words, rtol=1e-5)
    # Several metadata columns: header row first; tabs and newlines inside labels are flattened.
    meta = (tmp_path / "items_metadata.tsv").read_text(encoding="utf-8").splitlines()
    assert meta[0] == "title\tgroup" and len(meta) == 4
    # One column: no header (the projector's convention).
    assert (tmp_path / "words_metadata.tsv").read_text(encoding="utf-8").splitlines() == ["good", "bad", "dull", "fun"]
    first = export_projector(tmp_path, "more", items, {"title": ["A\tB", "b", "c", "d\ne", "f"]})
    lines = (tmp_path / "more_metadata.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "A B" and lines[3] == "d e" and first.name == "projector_config.pbtxt"


def test_projector_directory_is_found_from_a_parent_logdir(tmp_path):
    from tensorboard.backend.event_processing.plugin_event_multiplexer import EventMultiplexer

    run = RunDir.create("demo", root=tmp_path, run_id="r1")
    run.export_embeddings("items", np.eye(3), {"title": ["a", "b", "c"]})
    mux = EventMultiplexer()
    mux.AddRunsFromDirectory(str(tmp_path))
    assert any(path.endswith("logs/projector") for path in mux.RunPaths().values())


@pytest.mark.parametrize("vectors, metadata, message", [
    (np.ones((3, 2)), {"label": ["a", "b"]}, "has 2 values for 3 vectors"),
    (np.ones(3), {"label": ["a", "b", "c"]}, "2-D array"),
    (np.array([[1.0, np.nan]]), {"label": ["a"]}, "NaN"),
    (np.ones((1, 2)), {}, "at least one column"),
])
def test_projector_rejects_bad_input(tmp_path, vectors, metadata, message):
    with pytest.raises(ValueError, match=message):
        export_projector(tmp_path, "x", vectors, metadata)
    with pytest.raises(ValueError, match="letters, digits"):
        export_projector(tmp_path, "a b/c", np.ones((1, 2)), {"label": ["a"]})
