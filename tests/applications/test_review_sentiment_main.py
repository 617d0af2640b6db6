"""End to end: applications/review_sentiment on a small slice of the bundled sample, and the CLI errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from applications.review_sentiment import main as app

TINY = ["--learned-maps", "pca", "--max-rows", "160", "--epochs", "1", "--seeds", "1", "--cv-folds", "0", "--baseline-cv", "2",
        "--embedding-dim", "8", "--lstm-units", "4", "--filters", "4", "--kernel-sizes", "2,3",
        "--sequence-length", "24", "--max-tokens", "500", "--n-explain", "1", "--log-level", "WARNING"]
BASELINES = {"majority", "vader", "tfidf_logreg", "nbsvm", "char_svm"}
DEEP = {"bilstm", "text_cnn", "bilstm_cnn_ensemble"}


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """Two runs with the same seed: both deep models, then the CNN alone (which also predicts and explains).

    Every model is seeded on its own (set_seed before each training), so the CNN and the baselines of
    the second run must reproduce the first run's numbers exactly; the BiLSTM is left out of the second
    run only to keep the test fast.
    """
    root = tmp_path_factory.mktemp("runs")
    assert app.main([*TINY, "--runs-dir", str(root), "--run-id", "first"]) == 0
    assert app.main([*TINY, "--models", "cnn", "--runs-dir", str(root), "--run-id", "second",
                     "--predict", "A joyous, moving film.", "--explain", "Not funny, never boring."]) == 0
    return root / "review_sentiment"


def test_run_writes_every_artifact(tiny_runs):
    run = tiny_runs / "first"
    for name in ("config.json", "environment.json", "data.json", "metrics.json", "results.md", "results.csv",
                 "pipeline.json", "model_bilstm.keras", "model_text_cnn.keras", "history_bilstm.csv",
                 "history_text_cnn.csv", "explanations_test.txt", "confusion.json"):
        assert (run / name).is_file(), name
    for name in ("roc_curves.png", "confusion_matrix.png", "learning_curves_bilstm.png",
                 "learning_curves_text_cnn.png", "sentence_map.png", "sentence_map.html", "explanations_test.png",
                 "model_comparison.png"):
        assert (run / "figures" / name).stat().st_size > 1000, name
    from shared.tensorboard_logs import projector_entries

    entries = {e["name"]: e["shape"] for e in projector_entries(run / "logs" / "projector")}
    assert set(entries) == {"sentence_map", "word_embeddings"} and entries["word_embeddings"][0] >= 3
    data = json.loads((run / "data.json").read_text())
    assert data["rows"] == 160 and data["fingerprint"].startswith("sha256:")
    assert "text" not in json.dumps(data.get("class_counts", {}))


def test_metrics_hold_deep_models_and_every_baseline(tiny_runs):
    metrics = json.loads((tiny_runs / "first" / "metrics.json").read_text())
    kinds = {m["name"]: m["kind"] for m in metrics["models"]}
    assert {n for n, k in kinds.items() if k == "deep"} == DEEP
    assert {n for n, k in kinds.items() if k == "baseline"} == BASELINES
    for model in metrics["models"]:
        assert set(model["metrics"]) == {"accuracy", "macro_f1", "roc_auc"}
        assert 0 <= model["metrics"]["accuracy"] <= 1
    assert metrics["extra"]["split"]["train"] == 128 and metrics["extra"]["split"]["test"] == 32
    assert metrics["extra"]["best_deep_model"] in DEEP


def test_same_seed_gives_the_same_metrics(tiny_runs):
    def metrics(run: str) -> dict:
        return {m["name"]: m["metrics"] for m in json.loads((tiny_runs / run / "metrics.json").read_text())["models"]}

    first, second = metrics("first"), metrics("second")
    assert set(second) == BASELINES | {"text_cnn"}
    assert {name: first[name] for name in second} == second
    a = json.loads((tiny_runs / "first" / "data.json").read_text())
    b = json.loads((tiny_runs / "second" / "data.json").read_text())
    assert a["fingerprint"] == b["fingerprint"]


def test_predict_and_explain_in_the_run_and_from_a_saved_model(tiny_runs, capsys):
    run = tiny_runs / "second"
    frame = pd.read_csv(run / "predictions.csv")
    assert frame["text"].tolist() == ["A joyous, moving film."]
    assert frame["label"].iloc[0] in ("fresh", "rotten")
    assert (run / "figures" / "explanations_user.png").is_file()
    assert "funny" in (run / "explanations.txt").read_text()
    texts = run / "texts.txt"
    texts.write_text("A joyous, moving film.\n\nutterly dull\n")
    capsys.readouterr()
    assert app.main(["--model-dir", str(run), "--predict-file", str(texts), "--explain", "utterly dull"]) == 0
    out = capsys.readouterr().out
    assert "utterly dull" in out and "p =" in out
    p_saved = float(out.split("p = ")[1].split()[0])
    p_run = frame["probability"].iloc[0]
    assert p_saved == pytest.approx(p_run, abs=1e-3)    # the saved run applies the training pipeline


def _csv(tmp_path, frame):
    path = tmp_path / "texts.csv"
    frame.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("frame, message", [
    (pd.DataFrame({"review": ["a", "b", "c", "d"], "y": [0, 1, 0, 1]}), "missing column"),
    (pd.DataFrame({"text": ["a", " ", "c", "d"], "label": [0, 1, 0, 1]}), "empty or missing text"),
    (pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [0, None, 0, 1]}), "missing label"),
    (pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [0, 0, 0, 1]}), "fewer than 2 examples"),
    (pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [1, 1, 1, 1]}), "single class"),
])
def test_bad_csv_is_one_clear_line_and_exit_code_2(tmp_path, capsys, frame, message, runs_dir):
    code = app.main(["--source", "csv", "--path", _csv(tmp_path, frame), "--runs-dir", str(runs_dir)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not any(runs_dir.iterdir()), "no run directory for rejected input"


def test_missing_nltk_resource_is_reported_before_any_work(capsys, runs_dir, monkeypatch, tmp_path):
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    code = app.main(["--tokenizer", "punkt", "--runs-dir", str(runs_dir)])
    err = capsys.readouterr().err
    assert code == 2 and "python -m nltk.downloader punkt_tab" in err


def test_parse_args_defaults_and_checks():
    config = app.parse_args([])
    assert config.source == "sample" and config.models == ("bilstm", "cnn") and config.seed == 42
    full = app.parse_args(app.FULL_ARGS)
    assert full.seeds == 3 and full.cv_folds == 5 and full.max_rows is None
    quick = app.parse_args(app.QUICK_ARGS)
    assert quick.max_rows is not None and quick.cv_folds == 0
    assert app.parse_args(["--kernel-sizes", "2,4", "--negation", "false"]).deep.kernel_sizes == (2, 4)
    for bad in (["--models", "gpt"], ["--seeds", "0"], ["--source", "csv"], ["--dropout", "1.5"]):
        with pytest.raises(SystemExit):
            app.parse_args(bad)


def test_model_dir_needs_a_task_and_a_run(tmp_path, capsys):
    assert app.main(["--model-dir", str(tmp_path)]) == 2
    assert "--predict" in capsys.readouterr().err
    assert app.main(["--model-dir", str(tmp_path), "--predict", "fine"]) == 2
    assert "pipeline.json" in capsys.readouterr().err


def test_importing_the_app_does_not_import_tensorflow():
    import subprocess
    import sys

    code = ("import sys, applications.review_sentiment.main, applications.review_sentiment.models, "
            "applications.review_sentiment.explain; print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cv_fine_tunes_for_its_own_epochs(monkeypatch):
    """--cv-finetune-epochs sets the fine-tuning epochs of every CV fold (and says so), not those of the split."""
    import numpy as np

    from applications.review_sentiment import models as deep

    seen = []

    class Recording:  # stands in for the fine-tuned encoder: records its params, predicts the training prior
        def __init__(self, kinds, *, params, n_classes, seed):
            seen.append((tuple(kinds), params.finetune_epochs))

        def fit(self, X, y):
            self.prior = np.bincount(y, minlength=2) / len(y)
            return self

        def predict(self, X):
            return np.tile(self.prior, (len(X), 1))

    monkeypatch.setattr(deep, "KerasTextClassifier", Recording)
    config = app.parse_args(["--cv-folds", "2", "--finetune-epochs", "2", "--cv-finetune-epochs", "1",
                             "--baseline-cv", "2"])
    texts = np.array([f"{w} film number {i}" for i, w in enumerate(["good", "bad"] * 10)])
    y = np.array([0, 1] * 10)
    cv = app._cross_validate(config, "minilm_finetuned", texts, texts, y, 2, {"name": "tiny"})
    assert seen == [(("minilm_finetuned",), 1)] * 2
    assert "1 fine-tuning epoch(s) per fold" in cv.models[0].note
    assert config.deep.finetune_epochs == 2
    with pytest.raises(SystemExit):
        app.parse_args(["--cv-finetune-epochs", "0"])


def test_the_sentence_map_is_measured_against_tf_idf_and_coloured_by_error(tiny_runs):
    run = tiny_runs / "first"
    record = json.loads((run / "maps" / "sentence_map.json").read_text())
    learned, raw = record["rows"]
    assert (learned["space"], raw["space"], raw["of"]) == ("learned", "raw", "TF-IDF words")
    test_texts = json.loads((run / "metrics.json").read_text())["extra"]["split"]["test"]
    assert record["n_total"] == test_texts and sum(record["classes"].values()) == record["n_points"]
    assert 1 <= raw["n_features"] <= 2000 and 0.0 <= learned["trustworthiness"] <= 1.0
    # the figure has a panel coloured by right / wrong beside the maps (its page shows the snippets)
    assert "predicted:" in (run / "figures" / "sentence_map.html").read_text(encoding="utf-8")
