"""benchmarks/scale.py keeps the earlier rows of the models a run did not include."""

import importlib.util
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _scale_module():
    spec = importlib.util.spec_from_file_location("scale_benchmark", ROOT / "benchmarks" / "scale.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_rerun_model_replaces_its_rows_and_the_others_are_kept_in_order(tmp_path):
    scale = _scale_module()
    earlier = pd.DataFrame({"app": ["review_sentiment", "review_sentiment", "recommender", "recommender"],
                            "model": ["text_cnn", "text_cnn", "mf_biased", "mf_biased"],
                            "scale": [1.0, 100.0, 1.0, 100.0], "examples_per_s": [1.0, 2.0, 3.0, 4.0],
                            "old_column": ["a", "b", "c", "d"]})
    csv = tmp_path / "scale.csv"
    earlier.to_csv(csv, index=False)
    rerun = pd.DataFrame({"app": ["review_sentiment"], "model": ["text_cnn"], "scale": [1.0],
                          "examples_per_s": [9.0]})

    merged = scale.with_earlier_rows(rerun, csv)

    assert list(merged["model"]) == ["mf_biased", "mf_biased", "text_cnn"]  # MODELS order: recommender first
    assert list(merged["examples_per_s"]) == [3.0, 4.0, 9.0]  # text_cnn's 100x row of the earlier run is gone
    assert list(merged.columns[:4]) == list(rerun.columns)
    assert scale.with_earlier_rows(rerun, tmp_path / "absent.csv") is rerun
