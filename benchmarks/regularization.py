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

Survival runs the sweeps twice by default (``--normalization both``): with the application's batch
normalization and without it, because an L2 penalty on a layer followed by batch normalization
barely constrains the network (its output does not depend on the weights' scale).

Writes ``benchmarks/results/regularization_<app>.csv`` (one row per network: train/val/test score,
train - val gap, seconds), ``.png`` (score against dropout and against L2) and ``.json`` (data,
model, split sizes, command, wall time). Results and discussion: docs/optimization.md section 3.
Small budgets (the machine is 2 shared cores): see ``--epochs`` and ``--max-rows``.
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


def survival_runner(*, epochs: int, seed: int, max_rows: int | None,
                    normalization: str | None = "batch") -> tuple[Any, dict[str, Any]]:
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
                          normalization=normalization, outputs=1, name="deepsurv")
        model.compile(optimizer=k.optimizers.Adam(defaults.learning_rate), loss=cox_ph_loss(), jit_compile=False)
        fit_keras(model, x["train"], y_train, epochs=epochs, batch_size=256, shuffle=True, verbose=0)
        return {part: harrell_c(data.event[r], data.time[r], predict_risk(model, x[part])) for part, r in rows.items()}

    norm = "batch norm" if normalization == "batch" else "no normalization"
    info = {"data": f"SUPPORT ({data.n} patients)", "model": f"DeepSurv MLP {defaults.hidden_units}, {norm}, "
            f"Adam {defaults.learning_rate}, batch 256, {epochs} epochs, no early stopping", "score": "harrell_c",
            "sizes": {p: int(len(r)) for p, r in rows.items()}}
    return run, info


def sentiment_runner(*, epochs: int, seed: int, max_rows: int | None,
                     normalization: str | None = None) -> tuple[Any, dict[str, Any]]:
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

    norms = list(dict.fromkeys(table["normalization"]))
    fig, axes = plt.subplots(len(norms), 2, figsize=(11, 3.4 * len(norms)), squeeze=False)
    for row, norm in zip(axes, norms):
        for ax, param in zip(row, ("dropout", "l2")):
            part = table[(table["normalization"] == norm) & table["sweep"].isin([param, "none"])].sort_values(param)
            xs = part[param].to_numpy(dtype=float)
            if param == "l2":
                floor = xs[xs > 0].min() / 10 if (xs > 0).any() else 1e-6
                xs = np.where(xs > 0, xs, floor)
                ax.set_xscale("log")
                ax.set_xticks(xs, ["0" if v == 0 else f"{v:g}" for v in part[param]])
                ax.minorticks_off()
                ax.tick_params(axis="x", labelrotation=30)
                ax.set_xlabel("L2 strength (log axis; the point marked 0 has no L2)")
            else:
                ax.set_xlabel("dropout rate")
            for split, style in (("train", ":"), ("val", "-"), ("test", "--")):
                ax.plot(xs, part[split], style, marker="o", label=split)
            best = int(np.argmax(part["val"].to_numpy()))
            ax.plot([xs[best]], [part["val"].iloc[best]], "*", color="black", markersize=12, label="best val")
            ax.set_ylabel(score)
            ax.set_title(f"{param} sweep" + ("" if norm == "-" else f" ({norm})"), fontsize="medium")
            ax.grid(alpha=0.3)
            if param == "l2":
                ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def _floats(text: str, option: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError as err:
        raise SystemExit(f"{option} expects comma-separated numbers such as 0,0.2,0.4, got {text!r}") from err
    if not values or any(v < 0 for v in values):
        raise SystemExit(f"{option} expects non-negative numbers, got {text!r}")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", choices=["survival", "review_sentiment"], required=True, help="which case study")
    parser.add_argument("--dropouts", default="0,0.2,0.4,0.6,0.8,0.9", help="dropout rates (with L2 = 0)")
    parser.add_argument("--l2s", default="0,1e-5,1e-4,1e-3,1e-2,1e-1,1", help="L2 strengths (with dropout = 0)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="fixed epochs per model (default 40 survival, 6 sentiment)")
    parser.add_argument("--normalization", choices=["batch", "none", "both"], default="both",
                        help="survival only: batch normalization in the hidden layers as in the application "
                             "('batch'), none, or both sweeps (default; L2 on a layer followed by batch norm "
                             "barely constrains the function, so the L2 sweep differs between the two)")
    parser.add_argument("--max-rows", type=int, default=None, help="subsample the data (default: all rows)")
    parser.add_argument("--seed", type=int, default=42, help="split and training seed")
    parser.add_argument("--out-dir", default=str(RESULTS), help="where the CSV, PNG and JSON go")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    dropouts = _floats(args.dropouts, "--dropouts")
    l2s = _floats(args.l2s, "--l2s")
    if any(d >= 1 for d in dropouts):
        raise SystemExit(f"--dropouts must be < 1, got {args.dropouts!r}")
    epochs = args.epochs or (40 if args.app == "survival" else 6)
    if args.app == "survival":
        norms: list[str | None] = {"batch": ["batch"], "none": [None], "both": ["batch", None]}[args.normalization]
        factory: Any = survival_runner
    else:
        norms, factory = [None], sentiment_runner
    configs = [("none", 0.0, 0.0)] + [("dropout", d, 0.0) for d in dropouts if d > 0] + \
              [("l2", 0.0, v) for v in l2s if v > 0]
    records, infos = [], []
    started_all = time.perf_counter()
    for norm in norms:
        run, info = factory(epochs=epochs, seed=args.seed, max_rows=args.max_rows, normalization=norm)
        infos.append(info)
        label = "-" if args.app != "survival" else (norm or "none")
        for sweep, dropout, l2 in configs:
            started = time.perf_counter()
            scores = run(dropout, l2)
            records.append({"normalization": label, "sweep": sweep, "dropout": dropout, "l2": l2,
                            **{k: round(v, 5) for k, v in scores.items()},
                            "gap_train_val": round(scores["train"] - scores["val"], 5),
                            "seconds": round(time.perf_counter() - started, 1)})
            log.info("%s %s dropout=%g l2=%g: %s", args.app, label, dropout, l2, records[-1])
    table = pd.DataFrame(records)
    table.insert(0, "score", infos[0]["score"])
    out = Path(args.out_dir)
    from shared.artifacts import write_csv, write_json

    write_csv(out / f"regularization_{args.app}.csv", table)
    models = "; ".join(dict.fromkeys(i["model"] for i in infos))
    write_json(out / f"regularization_{args.app}.json",
               {"app": args.app, "data": infos[0]["data"], "models": [i["model"] for i in infos],
                "score": infos[0]["score"], "sizes": infos[0]["sizes"], "split": "stratified 60/20/20, seed "
                f"{args.seed}", "epochs": epochs, "max_rows": args.max_rows,
                "command": " ".join(["python benchmarks/regularization.py", *(sys.argv[1:] if argv is None else argv)]),
                "wall_time_s": round(time.perf_counter() - started_all, 1)})
    plot(table, infos[0]["score"], f"{args.app}, {infos[0]['data']}: {epochs} epochs each, no early stopping",
         out / f"regularization_{args.app}.png")
    print(models)
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
