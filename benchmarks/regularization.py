"""Regularization study: validation and test score against dropout rate and L2 strength (issue 11).

    python benchmarks/regularization.py --app survival            # SUPPORT, DeepSurv MLP
    python benchmarks/regularization.py --app review_sentiment    # Rotten Tomatoes, text CNN

One split per app (stratified 60/20/20 train/validation/test, seed 42); preprocessing (survival:
the application's ``SurvivalPreprocessor``; sentiment: the shared ``fit_text_vectorizer``) is
fitted on the training part only. Two one-dimensional sweeps around an unregularized model:
dropout in ``--dropouts`` with L2 = 0, and L2 in ``--l2s`` with dropout = 0. Every network
trains for a FIXED number of epochs (no early stopping), so the effect of the regularizer is not
hidden by stopping early: a too-weak setting overfits (train score far above validation), a
too-strong one underfits (all scores drop). Scores: Harrell's C (survival, DeepSurv risk) and
accuracy (sentiment), on train, validation and test.

Writes ``benchmarks/results/regularization_<app>.csv`` and ``.png``. Small budgets (the machine
is 2 shared cores): see ``--epochs`` and ``--max-rows``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

log = logging.getLogger("benchmarks.regularization")
RESULTS = ROOT / "benchmarks" / "results"


def _split(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    train, rest = train_test_split(idx, test_size=0.4, stratify=labels, random_state=seed)
    val, test = train_test_split(rest, test_size=0.5, stratify=labels[rest], random_state=seed)
    return train, val, test


def survival_runner(*, epochs: int, seed: int, max_rows: int | None) -> tuple[Any, dict[str, Any]]:
    from applications.survival.data import load_support
    from applications.survival.features import SurvivalPreprocessor
    from applications.survival.models import NetSettings, predict_risk
    from shared.evaluation.survival import harrell_c
    from shared.models import build_mlp
    from shared.models._keras import keras
    from shared.survival import cox_ph_loss, survival_target
    from shared.training import fit_keras, set_seed

    data = load_support()
    if max_rows and data.n > max_rows:
        data = data.subset(np.random.default_rng(seed).choice(data.n, max_rows, replace=False))
    train, val, test = _split(data.event, seed)
    pre = SurvivalPreprocessor(data.numeric, data.categorical).fit(data.covariates.iloc[train])
    x = {name: pre.transform(data.covariates.iloc[rows]) for name, rows in
         (("train", train), ("val", val), ("test", test))}
    rows = {"train": train, "val": val, "test": test}
    y_train = survival_target(data.time[train], data.event[train])
    defaults = NetSettings()
    k = keras()

    def run(dropout: float, l2: float) -> dict[str, float]:
        set_seed(seed)
        model = build_mlp(n_features=x["train"].shape[1], hidden_units=defaults.hidden_units, dropout=dropout, l2=l2,
                          normalization=defaults.normalization, outputs=1, name="deepsurv")
        model.compile(optimizer=k.optimizers.Adam(defaults.learning_rate), loss=cox_ph_loss(), jit_compile=False)
        fit_keras(model, x["train"], y_train, epochs=epochs, batch_size=256, shuffle=True, verbose=0)
        return {part: harrell_c(data.event[r], data.time[r], predict_risk(model, x[part])) for part, r in rows.items()}

    info = {"data": f"SUPPORT ({data.n} patients)", "model": f"DeepSurv MLP {defaults.hidden_units}, batch norm, "
            f"Adam {defaults.learning_rate}, batch 256, {epochs} epochs, no early stopping", "score": "harrell_c",
            "sizes": {p: int(len(r)) for p, r in rows.items()}}
    return run, info


def sentiment_runner(*, epochs: int, seed: int, max_rows: int | None) -> tuple[Any, dict[str, Any]]:
    from applications.review_sentiment.data import load_sample
    from shared.models import build_text_classifier, fit_text_vectorizer, text_batch
    from shared.models._keras import keras
    from shared.training import fit_keras, set_seed

    corpus = load_sample()
    texts, labels = corpus.texts, corpus.labels
    if max_rows and len(texts) > max_rows:
        keep = np.random.default_rng(seed).choice(len(texts), max_rows, replace=False)
        texts, labels = texts[keep], labels[keep]
    train, val, test = _split(labels, seed)
    rows = {"train": train, "val": val, "test": test}
    vectorizer = fit_text_vectorizer(texts[train], max_tokens=12000, sequence_length=56)
    batches = {p: text_batch(texts[r]) for p, r in rows.items()}
    k = keras()

    def run(dropout: float, l2: float) -> dict[str, float]:
        set_seed(seed)
        model = build_text_classifier(vectorizer=vectorizer, encoder="cnn", embedding_dim=64, filters=64,
                                      kernel_sizes=(3, 4, 5), dropout=dropout, l2=l2, name="sentiment_cnn")
        model.compile(optimizer=k.optimizers.Adam(2e-3), loss="binary_crossentropy")
        fit_keras(model, batches["train"], labels[train], epochs=epochs, batch_size=64, shuffle=True, verbose=0)
        return {p: float(np.mean((model.predict(batches[p], verbose=0).reshape(-1) >= 0.5) == labels[r]))
                for p, r in rows.items()}

    info = {"data": f"Rotten Tomatoes snippets ({len(texts)})", "model": "text CNN (build_text_classifier, "
            f"64 filters x 3/4/5, embedding 64), Adam 2e-3, batch 64, {epochs} epochs, no early stopping",
            "score": "accuracy", "sizes": {p: int(len(r)) for p, r in rows.items()}}
    return run, info


def plot(table: pd.DataFrame, score: str, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shared.artifacts import save_figure

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, sweep, param in zip(axes, ("dropout", "l2"), ("dropout", "l2")):
        part = table[table["sweep"].isin([sweep, "none"])].sort_values(param)
        xs = part[param].to_numpy(dtype=float)
        if param == "l2":
            floor = xs[xs > 0].min() / 10 if (xs > 0).any() else 1e-6
            xs = np.where(xs > 0, xs, floor)
            ax.set_xscale("log")
            ax.set_xlabel("L2 strength (leftmost point = 0)")
        else:
            ax.set_xlabel("dropout rate")
        for split, style in (("train", ":"), ("val", "-"), ("test", "--")):
            ax.plot(xs, part[split], style, marker="o", label=split)
        ax.set_ylabel(score)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", choices=["survival", "review_sentiment"], required=True, help="which case study")
    parser.add_argument("--dropouts", default="0,0.2,0.4,0.6", help="dropout rates (with L2 = 0)")
    parser.add_argument("--l2s", default="0,1e-5,1e-4,1e-3,1e-2", help="L2 strengths (with dropout = 0)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="fixed epochs per model (default 40 survival, 6 sentiment)")
    parser.add_argument("--max-rows", type=int, default=None, help="subsample the data (default: all rows)")
    parser.add_argument("--seed", type=int, default=42, help="split and training seed")
    parser.add_argument("--out-dir", default=str(RESULTS), help="where the CSV and PNG go")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    dropouts = [float(v) for v in args.dropouts.split(",")]
    l2s = [float(v) for v in args.l2s.split(",")]
    epochs = args.epochs or (40 if args.app == "survival" else 6)
    factory = survival_runner if args.app == "survival" else sentiment_runner
    run, info = factory(epochs=epochs, seed=args.seed, max_rows=args.max_rows)
    configs = [("none", 0.0, 0.0)] + [("dropout", d, 0.0) for d in dropouts if d > 0] + \
              [("l2", 0.0, v) for v in l2s if v > 0]
    records = []
    for sweep, dropout, l2 in configs:
        started = time.perf_counter()
        scores = run(dropout, l2)
        records.append({"sweep": sweep, "dropout": dropout, "l2": l2, **{k: round(v, 5) for k, v in scores.items()},
                        "seconds": round(time.perf_counter() - started, 1)})
        log.info("%s dropout=%g l2=%g: %s", args.app, dropout, l2, records[-1])
    table = pd.DataFrame(records)
    table.insert(0, "score", info["score"])
    out = Path(args.out_dir)
    from shared.artifacts import write_csv

    write_csv(out / f"regularization_{args.app}.csv", table)
    plot(table, info["score"], f"{args.app}: {info['model']}", out / f"regularization_{args.app}.png")
    print(info)
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
