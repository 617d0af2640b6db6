"""Transfer learning against training from scratch on the same small target data (issue 11).

    python benchmarks/transfer.py                       # both studies (about 5-10 min on 2 busy cores)
    python benchmarks/transfer.py --part finance --epochs 20
    python benchmarks/transfer.py --part text --target-size 500

Finance: the shared RNN (``build_rnn``, one LSTM layer) forecasts the next day's log return from
the last ``--window`` daily log returns. Source = the S&P 500 sample (``arch.data.sp500``) on the
days BEFORE the target period starts (so no overlap in time with the target's test days);
target = the last two years (2017-01-01 … 2018-12-31) of the NASDAQ Composite shipped with the
same package (``arch.data.nasdaq``), split in time order 60/20/20 into train/validation/test.
Score: MAE of the next close implied by the forecast, divided by the MAE of persistence (close
tomorrow = close today) on the same test days; < 1 beats persistence. Transfer = pretrain on the
source, copy the weights (``shared.transfer.transfer_weights``) and fine-tune on the target's
train part with a freeze/unfreeze schedule (``fine_tune``: head only, then everything at a lower
learning rate); scratch = the same network trained only on the target's train part. Scaling
(return std) is fitted on the source for pretraining and on the target's train part for
both target models.

Text: the shared NLP classifier (``build_text_classifier``, CNN encoder) on the bundled Rotten
Tomatoes snippets. A fixed stratified test set of 2,000 snippets; the target is a small labelled
slice (``--target-size`` train + 300 validation) drawn from the rest; everything else is the
source used for pretraining (vocabulary fitted on the source texts only). Scratch = vocabulary
and model fitted on the small slice only. General pretraining (``pretrained_minilm_frozen``, unless
``--no-pretrained``): the frozen all-MiniLM-L6-v2 encoder's mean-pooled sentence embeddings of the
raw snippets + standardized logistic regression (C by 5-fold CV on the small slice only); needs
``data_scripts/fetch_pretrained_text.py``. Score: test accuracy and ROC AUC.

Each arm is run for ``--seeds`` seeds; results go to ``benchmarks/results/transfer.json``.
"""

from __future__ import annotations

import argparse
import json
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

log = logging.getLogger("benchmarks.transfer")
RESULTS = ROOT / "benchmarks" / "results"
TARGET_START = "2017-01-01"


# --------------------------------------------------------------------------- finance


def _windows(returns: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (n, window, 1), y (n,) = the next return, idx = position of the target return."""
    idx = np.arange(window, len(returns))
    x = np.stack([returns[i - window:i] for i in idx])[..., None]
    return x.astype("float32"), returns[idx].astype("float32"), idx


def finance(*, window: int, epochs: int, seeds: list[int], verbose: int = 0) -> dict[str, Any]:
    import arch.data.nasdaq
    import arch.data.sp500

    from shared.models import build_rnn
    from shared.models._keras import keras
    from shared.training import fit_keras, set_seed, standard_callbacks
    from shared.transfer import Stage, fine_tune, transfer_weights

    k = keras()
    sp = arch.data.sp500.load()["Adj Close"].astype(float)
    nq = arch.data.nasdaq.load()["Adj Close"].astype(float)
    source_close = sp[sp.index < TARGET_START].to_numpy()
    target = nq[nq.index >= TARGET_START]
    close = target.to_numpy()
    r_src = np.diff(np.log(source_close))
    r_tgt = np.diff(np.log(close))          # r_tgt[i] = log(close[i+1] / close[i])
    n = len(r_tgt)
    cut1, cut2 = int(n * 0.6), int(n * 0.8)
    src_scale = r_src.std()
    tgt_scale = r_tgt[:cut1].std()          # fitted on the target's train part only
    xs, ys, _ = _windows(r_src / src_scale, window)
    xt, yt, it = _windows(r_tgt / tgt_scale, window)
    part = np.where(it < cut1, 0, np.where(it < cut2, 1, 2))
    tr, va, te = (part == 0), (part == 1), (part == 2)
    # the target return r_tgt[i] moves close[i] -> close[i+1]
    prev_close, next_close = close[it[te]], close[it[te] + 1]
    persistence_mae = float(np.mean(np.abs(next_close - prev_close)))

    def score(model: Any) -> dict[str, float]:
        pred = model.predict(xt[te], verbose=0).reshape(-1) * tgt_scale
        mae = float(np.mean(np.abs(next_close - prev_close * np.exp(pred))))
        return {"mae": mae, "mae_ratio": mae / persistence_mae}

    def build() -> Any:
        return build_rnn(input_steps=window, n_features=1, units=(32,), dropout=0.1, outputs=1, name="stock_rnn")

    rows = []
    for seed in seeds:
        set_seed(seed)
        source = build()
        source.compile(optimizer=k.optimizers.Adam(1e-3), loss="mse")
        n_val = len(ys) // 10
        started = time.perf_counter()
        fit_keras(source, xs[:-n_val], ys[:-n_val], validation_data=(xs[-n_val:], ys[-n_val:]), epochs=epochs,
                  batch_size=256, callbacks=standard_callbacks(None, monitor="val_loss", patience=3, csv_log=False), verbose=verbose)
        pretrain_s = time.perf_counter() - started
        zero_shot = score(source)

        set_seed(seed)
        scratch = build()
        scratch.compile(optimizer=k.optimizers.Adam(1e-3), loss="mse")
        fit_keras(scratch, xt[tr], yt[tr], validation_data=(xt[va], yt[va]), epochs=epochs, batch_size=32,
                  callbacks=standard_callbacks(None, monitor="val_loss", patience=5, csv_log=False), verbose=verbose)

        set_seed(seed)
        tuned = build()
        copied = transfer_weights(source, tuned)
        recurrent = ("rnn_",)  # the shared recurrent encoder's layers (rnn_lstm_0, ...)
        schedule = [Stage(epochs=max(1, epochs // 2), frozen=recurrent, learning_rate=1e-3),
                    Stage(epochs=max(1, epochs // 2), frozen=(), learning_rate=1e-4)]
        fine_tune(tuned, xt[tr], yt[tr], validation_data=(xt[va], yt[va]), schedule=schedule, loss="mse",
                  batch_size=32, verbose=verbose)
        for arm, model in (("scratch", scratch), ("transfer_fine_tuned", tuned), ("source_only_zero_shot", source)):
            metrics = zero_shot if arm == "source_only_zero_shot" else score(model)
            rows.append({"arm": arm, "seed": seed, **metrics})
        log.info("finance seed %d: pretraining %.0f s, copied %s, frozen first %s", seed, pretrain_s, copied,
                 recurrent)
    table = pd.DataFrame(rows)
    summary = table.groupby("arm")[["mae", "mae_ratio"]].agg(["mean", "std"]).round(5)
    return {
        "source": f"S&P 500 adjusted close (arch.data.sp500), {len(source_close)} days before {TARGET_START}",
        "target": (f"NASDAQ Composite adjusted close (arch.data.nasdaq), {target.index[0].date()} … "
                   f"{target.index[-1].date()} ({len(close)} days); time-ordered 60/20/20 train/val/test"),
        "windows": {"source": int(len(ys)), "target_train": int(tr.sum()), "target_val": int(va.sum()),
                    "target_test": int(te.sum())},
        "model": f"build_rnn LSTM(32), dropout 0.1, window {window} daily log returns -> next log return (mse)",
        "schedule": "stage 1: recurrent layers frozen, lr 1e-3; stage 2: all layers, lr 1e-4; "
                    f"{max(1, epochs // 2)} epochs each",
        "epochs": epochs, "seeds": seeds, "metric": "MAE of next close / MAE of persistence (test days)",
        "persistence_mae": persistence_mae,
        "per_seed": rows,
        "summary": {arm: {m: {s: float(summary.loc[arm, (m, s)]) for s in ("mean", "std")} for m in ("mae", "mae_ratio")}
                    for arm in summary.index},
    }


# --------------------------------------------------------------------------- text


def text(*, target_size: int, epochs: int, seeds: list[int], verbose: int = 0, pretrained: bool = True
         ) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    from applications.review_sentiment.data import load_sample
    from shared.models import build_text_classifier, fit_text_vectorizer, text_batch
    from shared.models._keras import keras
    from shared.training import fit_keras, set_seed, standard_callbacks
    from shared.transfer import Stage, fine_tune, transfer_weights

    k = keras()
    corpus = load_sample()
    texts, labels = corpus.texts, corpus.labels
    rest_idx, test_idx = train_test_split(np.arange(len(texts)), test_size=2000, stratify=labels, random_state=0)
    x_test, y_test = text_batch(texts[test_idx]), labels[test_idx]

    def score(model: Any) -> dict[str, float]:
        p = model.predict(x_test, verbose=0).reshape(-1)
        return {"accuracy": float(np.mean((p >= 0.5) == y_test)), "roc_auc": float(roc_auc_score(y_test, p))}

    def build(vectorizer: Any) -> Any:
        return build_text_classifier(vectorizer=vectorizer, encoder="cnn", embedding_dim=64, filters=64,
                                     kernel_sizes=(3, 4, 5), dropout=0.5, name="sentiment_cnn")

    def compile_(model: Any, lr: float) -> None:
        model.compile(optimizer=k.optimizers.Adam(lr), loss="binary_crossentropy", metrics=["accuracy"])

    rows = []
    sizes = {}
    if pretrained:  # the frozen encoder is deterministic: embed every snippet once
        from shared.models.pretrained_text import sentence_embeddings

        started = time.perf_counter()
        general = sentence_embeddings(list(texts), sequence_length=64)
        log.info("MiniLM sentence embeddings of %d snippets: %.0f s", len(texts), time.perf_counter() - started)
    for seed in seeds:
        rng = np.random.default_rng(seed)
        rest = rng.permutation(rest_idx)
        tgt_tr, tgt_va, src = rest[:target_size], rest[target_size:target_size + 300], rest[target_size + 300:]
        sizes = {"source": int(len(src)), "target_train": int(len(tgt_tr)), "target_val": int(len(tgt_va)),
                 "test": int(len(test_idx))}
        src_val = src[-1000:]
        src_fit = src[:-1000]
        # source model: vocabulary and weights from the source texts only
        set_seed(seed)
        src_vec = fit_text_vectorizer(texts[src_fit], max_tokens=12000, sequence_length=56)
        source = build(src_vec)
        compile_(source, 2e-3)
        fit_keras(source, text_batch(texts[src_fit]), labels[src_fit],
                  validation_data=(text_batch(texts[src_val]), labels[src_val]), epochs=max(2, epochs // 2),
                  batch_size=64, callbacks=standard_callbacks(None, monitor="val_loss", patience=2, csv_log=False), verbose=verbose)
        zero_shot = score(source)
        xv = (text_batch(texts[tgt_va]), labels[tgt_va])
        # scratch: vocabulary and model from the small target slice only
        set_seed(seed)
        scratch = build(fit_text_vectorizer(texts[tgt_tr], max_tokens=12000, sequence_length=56))
        compile_(scratch, 2e-3)
        fit_keras(scratch, text_batch(texts[tgt_tr]), labels[tgt_tr], validation_data=xv, epochs=epochs,
                  batch_size=32, callbacks=standard_callbacks(None, monitor="val_loss", patience=3, csv_log=False), verbose=verbose)
        # transfer: the source vocabulary, weights copied, head first then everything
        set_seed(seed)
        tuned = build(src_vec)
        transfer_weights(source, tuned)
        schedule = [Stage(epochs=max(1, epochs // 2), frozen=("token_embedding", "text_conv"), learning_rate=1e-3),
                    Stage(epochs=max(1, epochs // 2), frozen=(), learning_rate=2e-4)]
        fine_tune(tuned, text_batch(texts[tgt_tr]), labels[tgt_tr], validation_data=xv, schedule=schedule,
                  loss="binary_crossentropy", metrics=["accuracy"], batch_size=32, verbose=verbose)
        for arm, model in (("scratch", scratch), ("transfer_fine_tuned", tuned)):
            rows.append({"arm": arm, "seed": seed, **score(model)})
        rows.append({"arm": "source_only_zero_shot", "seed": seed, **zero_shot})
        if pretrained:   # general-domain pretraining: only the linear head sees the small labelled slice
            from sklearn.linear_model import LogisticRegressionCV
            from sklearn.model_selection import StratifiedKFold
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            head = make_pipeline(StandardScaler(), LogisticRegressionCV(
                Cs=np.logspace(-4, 2, 13).tolist(), max_iter=5000, scoring="accuracy",
                cv=StratifiedKFold(5, shuffle=True, random_state=seed)))
            head.fit(general[tgt_tr], labels[tgt_tr])
            p = head.predict_proba(general[test_idx])[:, 1]
            rows.append({"arm": "pretrained_minilm_frozen", "seed": seed,
                         "accuracy": float(np.mean((p >= 0.5) == y_test)), "roc_auc": float(roc_auc_score(y_test, p))})
    table = pd.DataFrame(rows)
    summary = table.groupby("arm")[["accuracy", "roc_auc"]].agg(["mean", "std"]).round(5)
    return {
        "data": "Rotten Tomatoes critic snippets (bundled sample of review_sentiment), fresh vs rotten",
        "sizes": sizes,
        "model": "build_text_classifier, CNN encoder (64 filters x 3/4/5), embedding 64, 12,000 tokens, 56 per text",
        "schedule": "stage 1: token_embedding + text_conv frozen, lr 1e-3; stage 2: all layers, lr 2e-4; "
                    f"{max(1, epochs // 2)} epochs each",
        "epochs": epochs, "seeds": seeds, "metric": "test accuracy and ROC AUC (same 2,000 test snippets)",
        "per_seed": rows,
        "summary": {arm: {m: {s: float(summary.loc[arm, (m, s)]) for s in ("mean", "std")}
                          for m in ("accuracy", "roc_auc")} for arm in summary.index},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["finance", "text", "all"], default="all", help="which study to run")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per training (fine-tuning: half per stage)")
    parser.add_argument("--window", type=int, default=20, help="finance: days of past returns per window")
    parser.add_argument("--target-size", type=int, default=500, help="text: labelled snippets in the small target")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per arm (42, 43, ...)")
    parser.add_argument("--no-pretrained", action="store_true",
                        help="text: leave out the general-pretraining arm (frozen MiniLM)")
    parser.add_argument("--out", default=str(RESULTS / "transfer.json"), help="where to write the results")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    seeds = [42 + i for i in range(args.seeds)]
    out = Path(args.out)
    results: dict[str, Any] = json.loads(out.read_text()) if out.is_file() else {}
    started = time.perf_counter()
    if args.part in ("finance", "all"):
        results["finance"] = finance(window=args.window, epochs=args.epochs, seeds=seeds)
    if args.part in ("text", "all"):
        results["text"] = text(target_size=args.target_size, epochs=args.epochs, seeds=seeds,
                               pretrained=not args.no_pretrained)
    results["seconds"] = round(time.perf_counter() - started, 1)
    from shared.artifacts import write_json

    write_json(out, results)
    for part in ("finance", "text"):
        if part in results:
            print(part, json.dumps(results[part]["summary"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
