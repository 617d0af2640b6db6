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
from collections.abc import Sequence

from shared.app import CaseStudyRun, add_common_arguments, cli_main, finish_run, start_run
from shared.artifacts import fingerprint_frame
from shared.data import stratified_split
from shared.results import CaseStudyResult

APP = "digits_cnn"
QUICK_ARGS = ["--epochs", "15"]
FULL_ARGS = ["--epochs", "60"]


@dataclasses.dataclass(frozen=True)
class DigitsConfig:
    epochs: int = 40
    batch_size: int = 32
    filters: tuple[int, ...] = (32, 64)
    dropout: float = 0.25
    learning_rate: float = 2e-3
    patience: int = 8
    seed: int = 42
    runs_dir: str = "runs"
    run_id: str | None = None
    log_level: str = "INFO"


def parse_args(argv: Sequence[str] | None = None) -> DigitsConfig:
    parser = argparse.ArgumentParser(prog="deepcases run digits_cnn", description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=DigitsConfig.epochs, help="maximum epochs (early stopping)")
    parser.add_argument("--batch-size", type=int, default=DigitsConfig.batch_size)
    parser.add_argument("--dropout", type=float, default=DigitsConfig.dropout)
    parser.add_argument("--learning-rate", type=float, default=DigitsConfig.learning_rate)
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be >= 1, got {args.epochs}")
    return DigitsConfig(epochs=args.epochs, batch_size=args.batch_size, dropout=args.dropout,
                        learning_rate=args.learning_rate, seed=args.seed, runs_dir=args.runs_dir,
                        run_id=args.run_id, log_level=args.log_level)


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
    return finish_run(APP, run, [result], started=started)


def main(argv: Sequence[str] | None = None) -> int:
    return cli_main(APP, argv, parse_args=parse_args, run_case_study=run_case_study)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
