"""The 2-D CNN end to end on real images: scikit-learn's bundled 8×8 handwritten digits.

    deepcases run digits_cnn            # or: python -m examples.digits_cnn --epochs 30

1,797 images, 10 classes, no download. Stratified 80/20 split (seed 42), a further 15 % of the
training part for early stopping; pixels scaled by 1/16 (a fixed range, nothing fitted). A
multinomial logistic regression on the same split is the baseline.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import NoReturn

from shared.app import CaseStudyRun, CommonOptions, cli_main, finish_run, start_run
from shared.artifacts import fingerprint_frame
from shared.data import stratified_split
from shared.options import option, parse_config, require_at_least
from shared.results import CaseStudyResult

APP = "digits_cnn"
QUICK_ARGS = ["--epochs", "15"]
FULL_ARGS = ["--epochs", "60"]


@dataclasses.dataclass(frozen=True)
class DigitsConfig(CommonOptions):
    epochs: int = option(40, help="maximum epochs (early stopping)")
    batch_size: int = option(32)
    filters: tuple[int, ...] = (32, 64)
    dropout: float = option(0.25)
    learning_rate: float = option(2e-3)
    patience: int = 8


def _validate(config: DigitsConfig, error: Callable[[str], NoReturn]) -> None:
    require_at_least(config, error, 1, "epochs")


def parse_args(argv: Sequence[str] | None = None) -> DigitsConfig:
    return parse_config(DigitsConfig, argv, prog="deepcases run digits_cnn", description=__doc__.split("\n\n")[0],
                        formatter_class=argparse.HelpFormatter, validate=_validate)


def run_case_study(config: DigitsConfig, *, verbose: int = 0) -> CaseStudyRun:
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    from shared.evaluation import classification_metrics
    from shared.models import build_cnn2d
    from shared.models._keras import keras
    from shared.training import fit_keras, set_seed, standard_callbacks
    from shared.viz import plot_confusion_matrix, plot_learning_curves

    started = time.perf_counter()
    set_seed(config.seed)
    run = start_run(APP, config, runs_dir=config.runs_dir, run_id=config.run_id, seed=config.seed)
    digits = load_digits(as_frame=True)
    frame = digits.frame
    run.write_data_info(fingerprint_frame(frame, name="sklearn-digits-8x8"))
    images = (digits.images / 16.0).astype("float32")[..., None]
    labels = digits.target.to_numpy()
    train, test = stratified_split(labels, test_size=0.2, seed=config.seed)
    fit_part, val_part = stratified_split(labels[train], test_size=0.15, seed=config.seed)
    fit_idx, val_idx = train[fit_part], train[val_part]

    model = build_cnn2d(input_shape=(8, 8, 1), filters=config.filters, dropout=config.dropout, outputs=10)
    model.compile(optimizer=keras().optimizers.Adam(config.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = fit_keras(model, images[fit_idx], labels[fit_idx], validation_data=(images[val_idx], labels[val_idx]),
                        epochs=config.epochs, batch_size=config.batch_size, verbose=verbose,
                        callbacks=standard_callbacks(run.path, monitor="val_loss", patience=config.patience))
    proba = model.predict(images[test], verbose=0)
    cnn_metrics = classification_metrics(labels[test], proba)

    baseline = LogisticRegression(max_iter=2000).fit(images[train].reshape(len(train), -1), labels[train])
    base_metrics = classification_metrics(labels[test], baseline.predict_proba(images[test].reshape(len(test), -1)))

    result = CaseStudyResult(app=APP, protocol="stratified 80/20, seed 42",
                             dataset=fingerprint_frame(frame, name="sklearn-digits-8x8"))
    keep = ("accuracy", "macro_f1", "roc_auc")
    result.add("cnn2d", "deep", {k: cnn_metrics[k] for k in keep}, seeds=[config.seed])
    result.add("logistic_regression", "baseline", {k: base_metrics[k] for k in keep})
    run.save_model(model)
    run.write_history(history)
    run.save_figure(plot_learning_curves(history, title="Digits CNN: learning curves"), "learning_curves")
    run.save_figure(plot_confusion_matrix((labels[test], proba.argmax(axis=1)), labels=list(range(10)),
                                          title="Digits CNN: confusion matrix (test)"), "confusion_matrix")
    return finish_run(APP, run, [result], started=started, results_file=config.results_file)


def main(argv: Sequence[str] | None = None) -> int:
    return cli_main(APP, argv, parse_args=parse_args, run_case_study=run_case_study)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
