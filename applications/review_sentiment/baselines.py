"""The classic text baselines of PROTOCOLS.md §Sentiment, with one ``fit``/``predict``/``scores`` shape.

- ``MajorityBaseline``: always the most frequent training class.
- ``VaderBaseline``: VADER compound ≥ 0.05 → positive class, no training (binary only).
- ``TfidfLogReg``: TF-IDF word 1–2-grams + logistic regression, C chosen by stratified CV on the
  training texts only.
- ``NBSVM``: Wang & Manning (2012) NB-SVM on binarized word 1–2-grams (log-count-ratio scaled
  features with α = 1, L2 linear SVM with C = 1, weights interpolated with their mean magnitude,
  β = 0.25; ``beta=1`` switches the interpolation off); one-vs-rest for more than two classes.
- ``CharSVM``: TF-IDF character 2–5-grams + linear SVM; its decision function is the AUC score.

Vectorizers use scikit-learn's defaults (lower-casing, its word pattern) on the raw texts, like the
reference implementations, so the numbers compare with PROTOCOLS.md. ``scores`` returns a 1-D
positive-class score for two classes and an ``(n, k)`` matrix otherwise (probabilities, or a
softmax of SVM decision values, which only the multi-class ROC-AUC uses).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

#: PROTOCOLS.md §Sentiment reference numbers (stratified 80/20 split, seed 42), for display only;
#: never reported as this project's own measurements.
REFERENCE = {
    "majority": {"accuracy": 0.5778, "macro_f1": 0.3662, "roc_auc": 0.5000},
    "vader": {"accuracy": 0.6480, "macro_f1": 0.6397, "roc_auc": 0.7024},
    "tfidf_logreg": {"accuracy": 0.7868, "macro_f1": 0.7761, "roc_auc": 0.8717},
    "nbsvm": {"accuracy": 0.7836, "macro_f1": 0.7692, "roc_auc": 0.8734},
    "char_svm": {"accuracy": 0.7864, "macro_f1": 0.7790, "roc_auc": 0.8605},
}
#: PROTOCOLS.md §Sentiment: 5-fold CV accuracy of TF-IDF + logistic regression (mean, std), display only
REFERENCE_CV_TFIDF_LOGREG = (0.7877, 0.0063)
C_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0)


def _texts(texts: Sequence[str] | np.ndarray) -> list[str]:
    out = list(texts)
    if not out:
        raise ValueError("no texts given; pass at least one text")
    if not all(isinstance(t, str) for t in out):
        raise TypeError("texts must be strings; fill or drop missing texts first")
    return out


def _labels(y: Any, n: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"labels must be 1-D with one entry per text ({n}), got shape {y.shape}")
    if len(np.unique(y)) < 2:
        raise ValueError("training labels hold a single class; a classifier needs two at least")
    return y.astype(np.int64)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class TextBaseline:
    """Common shape: ``fit(texts, y)`` → self, ``predict(texts)`` → class ids, ``scores(texts)``."""

    name = "baseline"
    classes_: np.ndarray

    def fit(self, texts: Sequence[str], y: Any) -> "TextBaseline":
        raise NotImplementedError

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        """(n, k) raw scores per class (higher = more likely)."""
        raise NotImplementedError

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.classes_[self.decision(texts).argmax(axis=1)]

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        d = self.decision(texts)
        return d[:, 1] if d.shape[1] == 2 else _softmax(d)


class MajorityBaseline(TextBaseline):
    name = "majority"

    def fit(self, texts: Sequence[str], y: Any) -> "MajorityBaseline":
        y = _labels(y, len(_texts(texts)))
        self.classes_ = np.unique(y)
        counts = np.array([(y == c).sum() for c in self.classes_])
        self.prior_ = counts / counts.sum()
        return self

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        return np.tile(self.prior_, (len(_texts(texts)), 1))


class VaderBaseline(TextBaseline):
    """VADER's rule-based compound score; ``fit`` only records the classes (nothing is learned)."""

    name = "vader"

    def __init__(self, *, threshold: float = 0.05) -> None:
        self.threshold = threshold

    def fit(self, texts: Sequence[str], y: Any) -> "VaderBaseline":
        y = _labels(y, len(_texts(texts)))
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ValueError(f"VADER gives a positive/negative score and needs two classes, got "
                             f"{len(self.classes_)}; it is skipped for multi-class data")
        return self

    def compound(self, texts: Sequence[str]) -> np.ndarray:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        analyzer = SentimentIntensityAnalyzer()
        return np.array([analyzer.polarity_scores(t)["compound"] for t in _texts(texts)])

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        c = self.compound(texts)
        # column 1 wins exactly when compound >= threshold
        return np.column_stack([np.full_like(c, self.threshold), c + 1e-12])

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        return self.compound(texts)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return np.where(self.compound(texts) >= self.threshold, self.classes_[1], self.classes_[0])


class TfidfLogReg(TextBaseline):
    """TF-IDF word 1–2-grams + logistic regression, C picked by stratified k-fold CV on training texts."""

    name = "tfidf_logreg"

    def __init__(self, *, cs: Sequence[float] = C_GRID, cv: int = 5, seed: int = 42) -> None:
        self.cs, self.cv, self.seed = tuple(cs), cv, seed

    def fit(self, texts: Sequence[str], y: Any) -> "TfidfLogReg":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        texts = _texts(texts)
        y = _labels(y, len(texts))
        self.classes_ = np.unique(y)
        n_splits = min(self.cv, int(np.bincount(y).min()))
        scores: dict[float, list[float]] = {c: [] for c in self.cs}
        if n_splits >= 2 and len(self.cs) > 1:
            # The vectorizer is refitted inside every fold (on that fold's training texts), then each C is
            # scored on the held-out fold: the tuning never sees the test split nor its own validation fold.
            folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=self.seed)
            array = np.asarray(texts, dtype=object)
            for fit_idx, val_idx in folds.split(array, y):
                vectorizer = TfidfVectorizer(ngram_range=(1, 2)).fit(array[fit_idx])
                x_fit, x_val = vectorizer.transform(array[fit_idx]), vectorizer.transform(array[val_idx])
                model = LogisticRegression(max_iter=2000, warm_start=True)  # warm start along the C path
                for c in sorted(self.cs):
                    model.set_params(C=c).fit(x_fit, y[fit_idx])
                    scores[c].append(float((model.predict(x_val) == y[val_idx]).mean()))
            mean = {c: float(np.mean(v)) for c, v in scores.items()}
            self.c_ = max(mean, key=lambda c: (round(mean[c], 10), -c))  # ties: the stronger regularization
        else:
            mean = {}
            self.c_ = self.cs[len(self.cs) // 2]
        self.cv_scores_ = mean
        log.info("tfidf_logreg: C = %g by %d-fold CV on the training texts", self.c_, n_splits)
        self.vectorizer_ = TfidfVectorizer(ngram_range=(1, 2)).fit(texts)
        self.model_ = LogisticRegression(C=self.c_, max_iter=2000).fit(self.vectorizer_.transform(texts), y)
        return self

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        return self.model_.predict_proba(self.vectorizer_.transform(_texts(texts)))


class NBSVM(TextBaseline):
    """NB-SVM (Wang & Manning 2012): SVM on NB log-count-ratio scaled binary 1–2-gram features."""

    name = "nbsvm"

    def __init__(self, *, alpha: float = 1.0, c: float = 1.0, beta: float = 0.25) -> None:
        self.alpha, self.c, self.beta = alpha, c, beta

    def fit(self, texts: Sequence[str], y: Any) -> "NBSVM":
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.svm import LinearSVC

        texts = _texts(texts)
        y = _labels(y, len(texts))
        self.classes_ = np.unique(y)
        self.vectorizer_ = CountVectorizer(ngram_range=(1, 2), binary=True).fit(texts)
        x = self.vectorizer_.transform(texts)
        targets = [self.classes_[1]] if len(self.classes_) == 2 else list(self.classes_)
        self.ratios_, self.weights_, self.biases_ = [], [], []
        for target in targets:
            pos = np.asarray(x[y == target].sum(axis=0)).ravel() + self.alpha
            neg = np.asarray(x[y != target].sum(axis=0)).ravel() + self.alpha
            r = np.log((pos / pos.sum()) / (neg / neg.sum()))
            svm = LinearSVC(C=self.c, max_iter=5000).fit(x.multiply(r).tocsr(), (y == target).astype(int))
            # Interpolate the augmented weight vector [w, b] (liblinear's bias is a regularized weight) with
            # its mean magnitude: w' = (1 - beta) * mean|[w, b]| + beta * [w, b], as in the paper's code.
            w = np.append(svm.coef_.ravel(), svm.intercept_[0])
            if self.beta < 1.0:
                w = (1 - self.beta) * np.abs(w).mean() + self.beta * w
            self.ratios_.append(r)
            self.weights_.append(w[:-1])
            self.biases_.append(float(w[-1]))
        return self

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        x = self.vectorizer_.transform(_texts(texts))
        cols = [np.asarray(x.multiply(r) @ w).ravel() + b for r, w, b in zip(self.ratios_, self.weights_,
                                                                              self.biases_)]
        if len(self.classes_) == 2:
            return np.column_stack([-cols[0], cols[0]]) / 2
        return np.column_stack(cols)


class CharSVM(TextBaseline):
    """TF-IDF character 2–5-grams + linear SVM (scikit-learn defaults)."""

    name = "char_svm"

    def __init__(self, *, c: float = 1.0) -> None:
        self.c = c

    def fit(self, texts: Sequence[str], y: Any) -> "CharSVM":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        texts = _texts(texts)
        y = _labels(y, len(texts))
        self.classes_ = np.unique(y)
        self.vectorizer_ = TfidfVectorizer(analyzer="char", ngram_range=(2, 5)).fit(texts)
        self.model_ = LinearSVC(C=self.c).fit(self.vectorizer_.transform(texts), y)
        return self

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        d = self.model_.decision_function(self.vectorizer_.transform(_texts(texts)))
        return np.column_stack([-d, d]) / 2 if d.ndim == 1 else d


class ProbaAdapter:
    """A baseline whose ``predict`` returns its scores, for ``cross_validate`` metrics that need scores.

    Meant for baselines whose scores are probabilities (majority, TF-IDF + logistic regression)."""

    def __init__(self, model: TextBaseline) -> None:
        self.model = model

    def fit(self, texts: Any, y: Any) -> "ProbaAdapter":
        self.model.fit(list(texts), y)
        return self

    def predict(self, texts: Any) -> np.ndarray:
        return self.model.scores(list(texts))


def all_baselines(n_classes: int, *, seed: int = 42, cv: int = 5) -> list[TextBaseline]:
    """The PROTOCOLS.md baselines that apply to ``n_classes`` (VADER only for two)."""
    out: list[TextBaseline] = [MajorityBaseline()]
    if n_classes == 2:
        out.append(VaderBaseline())
    out += [TfidfLogReg(seed=seed, cv=cv), NBSVM(), CharSVM()]
    return out


def metrics_from_scores(y_true: Any, y_pred: Any, scores: Any, *, n_classes: int) -> dict[str, float]:
    """accuracy and macro F1 from hard predictions, ROC-AUC from scores (any monotone score for two
    classes; an (n, k) matrix of rows summing to 1 for more, macro one-vs-rest)."""
    from sklearn.metrics import roc_auc_score

    from shared.evaluation import classification_metrics

    y_true = np.asarray(y_true, dtype=np.int64)
    labels = list(range(n_classes))
    base = classification_metrics(y_true, np.asarray(y_pred, dtype=np.int64), labels=labels)
    scores = np.asarray(scores, dtype=float)
    if len(np.unique(y_true)) < 2 or (n_classes > 2 and len(np.unique(y_true)) < n_classes):
        auc = float("nan")
    elif n_classes == 2:
        auc = float(roc_auc_score(y_true, scores))
    else:
        auc = float(roc_auc_score(y_true, scores, multi_class="ovr", average="macro", labels=labels))
    return {"accuracy": base["accuracy"], "macro_f1": base["macro_f1"], "roc_auc": auc}


def evaluate(model: TextBaseline, texts: Sequence[str], y: Any, *, n_classes: int
             ) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """(metrics, predicted class ids, scores) of a fitted baseline on ``texts``."""
    pred = model.predict(texts)
    scores = model.scores(texts)
    return metrics_from_scores(y, pred, scores, n_classes=n_classes), pred, scores
