"""review_sentiment's Transformer and MiniLM rows: options, leakage, the frozen head, an end-to-end run.

The MiniLM tests need the weights (data_scripts/fetch_pretrained_text.py); they skip without them,
except under CI, where `make test` installs them first.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from applications.review_sentiment import main as app
from applications.review_sentiment import models
from shared.models import pretrained_text as pt

TINY = ["--learned-maps", "pca", "--max-rows", "160", "--epochs", "1", "--seeds", "1", "--cv-folds", "0", "--baseline-cv", "2",
        "--embedding-dim", "8", "--sequence-length", "24", "--max-tokens", "500", "--n-explain", "1",
        "--max-seq-len", "24", "--log-level", "WARNING"]


def _need_weights():
    if not all((pt.pretrained_dir() / f).is_file() for f in pt.REQUIRED_FILES):
        if os.environ.get("CI"):
            pytest.fail("pretrained weights missing under CI; `make venv` runs data_scripts/fetch_pretrained_text.py")
        pytest.skip("pretrained weights not installed; run data_scripts/fetch_pretrained_text.py")


def test_model_options_and_protocol_settings():
    quick, full = app.parse_args(app.QUICK_ARGS), app.parse_args(app.FULL_ARGS)
    assert "minilm_frozen" in quick.models and "minilm_finetuned" not in quick.models  # no fine-tuning in the demo
    assert {"transformer", "minilm_frozen", "minilm_finetuned"} <= set(full.models)
    config = app.parse_args(["--models", "minilm_finetuned", "--finetune-epochs", "2", "--max-seq-len", "40"])
    assert config.deep.finetune_epochs == 2 and config.deep.max_seq_len == 40 and config.deep.max_seq_len is not None
    assert app.parse_args([]).deep.max_seq_len is None  # default: the fitting texts' 99th percentile
    for bad in (["--models", "minilm_frozen", "--tune", "random"], ["--max-seq-len", "1"],
                ["--models", "transformer", "--embedding-dim", "9"], ["--finetune-epochs", "0"]):
        with pytest.raises(SystemExit):
            app.parse_args(bad)


def test_sequence_cap_is_the_fitting_texts_99th_percentile():
    lengths = np.arange(1, 201)
    assert models._sequence_cap(lengths, models.DeepParams()) == int(np.ceil(np.percentile(lengths, 99)))
    assert models._sequence_cap(lengths, models.DeepParams(max_seq_len=30)) == 30


def test_scaler_folded_into_the_head_reproduces_logistic_regression():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(60, 5))
    for y in ((x[:, 0] + rng.normal(size=60) > 3).astype(int), rng.integers(0, 3, size=60)):
        scaler = StandardScaler().fit(x)
        lr = LogisticRegression(max_iter=1000).fit(scaler.transform(x), y)
        kernel, bias = models.fold_scaler_into_head(lr, scaler)
        logits = x @ kernel + bias
        expected = lr.decision_function(scaler.transform(x))
        np.testing.assert_allclose(logits[:, 0] if kernel.shape[1] == 1 else logits, expected, rtol=1e-4, atol=1e-4)


def test_transformer_vocabulary_comes_from_the_fitting_texts_only():
    good = ["a great film", "great acting", "wonderful and moving", "a wonderful cast", "great fun", "truly wonderful"]
    bad = ["a dull film", "dull acting", "awful and boring", "a boring cast", "dull mess", "truly awful"]
    texts, labels = good + bad, np.array([1] * 6 + [0] * 6)
    params = models.DeepParams(max_tokens=100, sequence_length=8, embedding_dim=8, epochs=1, batch_size=4,
                               val_fraction=0.25)
    trained = models.train("transformer", texts, labels, params=params, n_classes=2, seed=3)
    vocabulary = set(trained.model.get_layer("vectorizer").get_vocabulary())
    fit_idx = np.setdiff1d(np.arange(len(texts)), trained.val_idx)
    fit_tokens = {t for i in fit_idx for t in texts[i].split()}
    val_only = {t for i in trained.val_idx for t in texts[i].split()} - fit_tokens
    assert fit_tokens <= vocabulary and not (val_only & vocabulary)
    assert trained.model.name == "transformer_scratch"
    assert models.predict_proba(trained.model, texts).shape == (12,)


@pytest.mark.slow   # loads MiniLM three times (build, embed, --model-dir): about a minute on an idle 2-core machine
def test_end_to_end_with_the_transformer_and_the_frozen_encoder(tmp_path, capsys):
    _need_weights()
    root = tmp_path / "runs"
    assert app.main([*TINY, "--models", "transformer,minilm_frozen", "--runs-dir", str(root), "--run-id", "t",
                     "--predict", "A joyous, moving film.", "--explain", "Not funny, never boring."]) == 0
    run = root / "review_sentiment" / "t"
    metrics = json.loads((run / "metrics.json").read_text())
    deep = {m["name"]: m["metrics"] for m in metrics["models"] if m["kind"] == "deep"}
    assert set(deep) == {"transformer_scratch", "minilm_frozen"}
    for name in ("model_transformer_scratch.keras", "model_minilm_frozen.keras", "explanations_test.txt"):
        assert (run / name).is_file(), name
    assert (run / "figures" / "sentence_map.png").stat().st_size > 1000
    settings = metrics["extra"]["model_settings"]["minilm_frozen"]
    assert settings["sequence_length"] == 24 and settings["C"] > 0   # --max-seq-len; C chosen by CV
    spec = json.loads((run / "pipeline.json").read_text())
    explained = (run / "explanations.txt").read_text()
    assert "funny" in explained
    if spec["model_name"] == "minilm_frozen":   # the raw-text model explains raw tokens (capital N kept)
        assert spec["input"] == "raw" and "Not" in explained
    # the saved best model predicts the same through --model-dir
    capsys.readouterr()
    assert app.main(["--model-dir", str(run), "--predict", "A joyous, moving film."]) == 0
    p_saved = float(capsys.readouterr().out.split("p = ")[1].split()[0])
    import pandas as pd

    assert p_saved == pytest.approx(pd.read_csv(run / "predictions.csv")["probability"].iloc[0], abs=1e-3)


@pytest.mark.slow   # fine-tunes MiniLM for one epoch on 128 snippets (a minute or more on 2 busy cores)
def test_end_to_end_fine_tuning_runs_and_maps_the_fine_tuned_encoder(tmp_path):
    _need_weights()
    root = tmp_path / "runs"
    assert app.main([*TINY, "--models", "minilm_finetuned", "--finetune-epochs", "1", "--runs-dir", str(root),
                     "--run-id", "f", "--explain", "Never boring."]) == 0
    run = root / "review_sentiment" / "f"
    assert json.loads((run / "pipeline.json").read_text())["input"] == "raw"
    assert (run / "figures" / "learning_curves_minilm_finetuned.png").is_file()
    assert (run / "figures" / "sentence_map.png").is_file()
