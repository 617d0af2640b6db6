import json

import numpy as np
import pandas as pd
import pytest

from shared.artifacts import RunDir, atomic_path, fingerprint_frame, write_json
from shared.results import CaseStudyResult, mean_and_std, read_results, write_results


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"a": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash while writing")
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temp file left behind


def test_fingerprint_is_content_based_and_holds_no_rows():
    frame = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=3), "x": [1.0, 2.0, 3.0]})
    info = fingerprint_frame(frame, name="toy", time_column="date")
    assert info["rows"] == 3 and info["date_range"] == ["2020-01-01", "2020-01-03"]
    assert info["fingerprint"] == fingerprint_frame(frame.copy(), name="toy")["fingerprint"]
    changed = frame.assign(x=[1.0, 2.0, 3.5])
    assert fingerprint_frame(changed, name="toy")["fingerprint"] != info["fingerprint"]
    assert "1.0" not in json.dumps(info)


def test_results_round_trip_in_protocol_shape(tmp_path):
    result = CaseStudyResult(app="demo", protocol="A", dataset={"name": "toy", "rows": 3})
    result.add("deep", "deep", {"rmse": 0.9, "mae": np.float32(0.7)}, seeds=[1, 2], std={"rmse": 0.01})
    result.add("mean", "baseline", {"rmse": 1.1, "mae": float("nan")})
    path = write_results(tmp_path / "demo.json", result)
    [item] = read_results(path)
    assert item["models"][0] == {"name": "deep", "kind": "deep", "metrics": {"rmse": 0.9, "mae": pytest.approx(0.7)},
                                 "seeds": [1, 2], "std": {"rmse": 0.01}}
    assert item["models"][1]["metrics"]["mae"] is None  # NaN is written as null, not as invalid JSON
    assert "python" in item["environment"]
    with pytest.raises(ValueError, match="already in the results"):
        result.add("deep", "deep", {"rmse": 1})
    with pytest.raises(ValueError, match="kind must be one of"):
        result.add("x", "oracle", {"rmse": 1})
    with pytest.raises(ValueError, match="lower-case"):
        result.add("y", "deep", {"RMSE": 1})


def test_read_results_rejects_old_or_broken_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_results(bad)
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"app": "x"}))
    with pytest.raises(ValueError, match="older version"):
        read_results(old)


def test_mean_and_std_over_seeds():
    mean, std = mean_and_std([{"rmse": 1.0, "mae": 2.0}, {"rmse": 3.0, "mae": 2.0}])
    assert mean == {"rmse": 2.0, "mae": 2.0} and std == {"rmse": 1.0, "mae": 0.0}


def test_run_dir_layout(tmp_path):
    run = RunDir.create("demo", root=tmp_path, run_id="r1")
    run.write_config({"seed": 1, "path": tmp_path})
    run.write_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
    assert (tmp_path / "demo" / "r1" / "figures").is_dir()
    assert pd.read_csv(run.path / "history.csv")["epoch"].tolist() == [1, 2]
    with pytest.raises(ValueError, match="plain name"):
        RunDir.create("a/b", root=tmp_path)


def test_atomic_files_get_normal_permissions(tmp_path):
    import os
    import stat

    path = write_json(tmp_path / "x.json", {})
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_json_writes_nan_as_null_also_inside_numpy_values(tmp_path):
    path = write_json(tmp_path / "x.json", {"a": np.float64("nan"), "b": np.array([1.0, np.nan])})
    assert json.loads(path.read_text()) == {"a": None, "b": [1.0, None]}
