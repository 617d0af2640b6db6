import subprocess
import sys

import numpy as np
import pytest
from sklearn import metrics as skm

from shared.evaluation import classification_metrics, confusion

Y = np.array([0, 1, 1, 0, 1, 0, 1, 1])
P = np.array([0.1, 0.8, 0.4, 0.6, 0.9, 0.2, 0.7, 0.55])


def test_importing_evaluation_does_not_import_tensorflow():
    code = "import sys, shared.evaluation; sys.exit(int('tensorflow' in sys.modules or 'keras' in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_binary_probabilities_match_sklearn():
    out = classification_metrics(Y, P)
    pred = (P >= 0.5).astype(int)
    assert set(out) == {"accuracy", "precision", "recall", "f1", "macro_f1", "roc_auc"}
    assert out["accuracy"] == pytest.approx(skm.accuracy_score(Y, pred))
    assert out["precision"] == pytest.approx(skm.precision_score(Y, pred))
    assert out["recall"] == pytest.approx(skm.recall_score(Y, pred))
    assert out["f1"] == pytest.approx(skm.f1_score(Y, pred))
    assert out["macro_f1"] == pytest.approx(skm.f1_score(Y, pred, average="macro"))
    assert out["roc_auc"] == pytest.approx(skm.roc_auc_score(Y, P))


def test_hand_computed_binary_case():
    # predictions at 0.5: [0,1,0,1,1,0,1,1] -> TP=4, FP=1, FN=1, TN=2
    out = classification_metrics(Y, P)
    assert out["accuracy"] == pytest.approx(6 / 8)
    assert out["precision"] == pytest.approx(4 / 5)
    assert out["recall"] == pytest.approx(4 / 5)


def test_threshold_moves_the_decision():
    out = classification_metrics(Y, P, threshold=0.65)
    pred = (P >= 0.65).astype(int)
    assert out["accuracy"] == pytest.approx(skm.accuracy_score(Y, pred))
    assert out["roc_auc"] == pytest.approx(skm.roc_auc_score(Y, P))  # AUC ignores the threshold


def test_two_column_matrix_equals_positive_column():
    two = classification_metrics(Y, np.column_stack([1 - P, P]))
    one = classification_metrics(Y, P)
    assert two == pytest.approx(one)


def test_hard_labels_give_nan_auc():
    out = classification_metrics(Y, (P >= 0.5).astype(int))
    assert out["accuracy"] == pytest.approx(0.75)
    assert np.isnan(out["roc_auc"])


def test_string_labels_and_positive_class_from_labels():
    y = np.where(Y == 1, "fresh", "rotten")
    out = classification_metrics(y, P, labels=["rotten", "fresh"])
    assert out == pytest.approx(classification_metrics(Y, P))


def test_multiclass_matrix_matches_sklearn_ovr():
    rng = np.random.default_rng(0)
    y = np.array([0, 1, 2, 2, 1, 0, 2, 1, 0, 2])
    proba = rng.dirichlet(np.ones(3), size=y.size)
    out = classification_metrics(y, proba)
    pred = proba.argmax(axis=1)
    assert out["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert out["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert out["f1"] == pytest.approx(out["macro_f1"])
    assert out["precision"] == pytest.approx(skm.precision_score(y, pred, average="macro", zero_division=0))
    assert out["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"))


def test_multiclass_matrix_with_float32_softmax_output():
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]], dtype=np.float32)
    out = classification_metrics(np.array([0, 1, 2]), proba)
    assert out["accuracy"] == 1.0 and out["roc_auc"] == pytest.approx(1.0)


def test_single_class_fold_gives_nan_auc():
    out = classification_metrics(np.ones(4, dtype=int), np.array([0.9, 0.8, 0.3, 0.7]), labels=[0, 1])
    assert np.isnan(out["roc_auc"])
    assert out["accuracy"] == pytest.approx(0.75)


def test_confusion_matches_sklearn_and_label_order():
    y_pred = (P >= 0.5).astype(int)
    np.testing.assert_array_equal(confusion(Y, y_pred), skm.confusion_matrix(Y, y_pred))
    np.testing.assert_array_equal(confusion(Y, y_pred, labels=[1, 0]), [[4, 1], [1, 2]])


@pytest.mark.parametrize(
    ("y_true", "scores", "kwargs", "error", "match"),
    [
        (Y, P[:-1], {}, ValueError, "y_true has 8 samples"),
        (Y.reshape(2, 4), P, {}, ValueError, "y_true must be 1-D"),
        (np.array([]), np.array([]), {}, ValueError, "y_true is empty"),
        (Y, P[None, None], {}, ValueError, "y_pred_or_proba must be 1-D"),
        (Y, P * 3, {}, ValueError, "apply a sigmoid"),
        (Y, np.where(P > 0.5, np.nan, P), {}, ValueError, "NaN"),
        (Y, P, {"threshold": 1.5}, ValueError, "threshold must be a number in"),
        (Y, np.column_stack([P, P]), {}, ValueError, "must sum to 1"),
        (Y, np.full((8, 3), 1 / 3), {}, ValueError, "pass labels="),
        (Y, np.full((8, 3), 1 / 3), {"labels": [0, 1]}, ValueError, "one label per column"),
        (np.array([0, 1, 2]), np.array([0.2, 0.5, 0.9]), {}, ValueError, "needs a binary problem"),
        (Y, P, {"labels": [0]}, ValueError, "at least two distinct classes"),
        (Y, P, {"labels": [1, 2]}, ValueError, "not in labels"),
        (Y, (P > 0.5).astype(int) + 5, {"labels": [0, 1]}, ValueError, "y_pred_or_proba holds classes"),
        (Y, np.full((8, 2), "a"), {}, TypeError, "numeric probabilities"),
    ],
)
def test_classification_metrics_errors(y_true, scores, kwargs, error, match):
    with pytest.raises(error, match=match):
        classification_metrics(y_true, scores, **kwargs)


def test_confusion_errors():
    with pytest.raises(ValueError, match="y_true has 3 samples but y_pred has 2"):
        confusion([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="labels is empty"):
        confusion([0, 1], [0, 1], labels=[])
