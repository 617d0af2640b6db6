"""Benchmark of the review-sentiment case study: training time per epoch of the deep models, and
prediction throughput (texts per second, batched) and peak memory of the saved models.

    python benchmarks/review_sentiment.py [--epochs 2] [--models bilstm,cnn] [--repeat 4]
    python benchmarks/review_sentiment.py --models transformer,minilm_frozen,minilm_finetuned --epochs 1

Same data (bundled Rotten Tomatoes sample), protocol split, NLTK preprocessing and networks as
``deepcases run review_sentiment`` (defaults of ``SentimentConfig``, seed 42), trained for a fixed
number of epochs without early stopping so every epoch counts. Each model is then saved as
``.keras``, loaded back, and scores the test texts (repeated ``--repeat`` times) in batches of 1,
32 and 256: once from already-processed texts (the model alone) and once from raw texts (NLTK
preprocessing included, what ``--predict`` does). The MiniLM models take the raw texts (their own
WordPiece tokenizer): ``minilm_finetuned`` trains ``--epochs`` fine-tuning epochs; ``minilm_frozen``
reports the seconds of embedding the training texts and fitting the logistic regression. Peak memory
is the process's maximum resident set size after each model (cumulative: run one model per process
for a per-model figure). Writes ``benchmarks/results/review_sentiment.json``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2, help="epochs to time per model (no early stopping)")
    parser.add_argument("--models", default="bilstm,cnn",
                        help="comma-separated: bilstm, cnn, transformer, minilm_frozen, minilm_finetuned")
    parser.add_argument("--repeat", type=int, default=4, help="copies of the test texts scored per batch size")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "review_sentiment.json"))
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.repeat < 1:
        parser.error("--epochs and --repeat must be >= 1")

    import dataclasses

    from applications.review_sentiment import models as deep
    from applications.review_sentiment.data import load_sample
    from applications.review_sentiment.main import SentimentConfig
    from shared.artifacts import environment, save_model, write_json
    from shared.data import stratified_split
    from shared.models import text_batch
    from shared.models._keras import keras

    config = SentimentConfig()
    pipeline = config.pipeline()
    corpus = load_sample()
    start = time.perf_counter()
    processed = np.asarray(pipeline.process(corpus.texts), dtype=object)
    prep_rate = len(processed) / (time.perf_counter() - start)
    train, test = stratified_split(corpus.labels, test_size=0.2, seed=args.seed)
    params = dataclasses.replace(config.deep, epochs=args.epochs, patience=args.epochs, finetune_epochs=args.epochs)
    results: dict[str, dict] = {}
    for kind in [m.strip() for m in args.models.split(",") if m.strip()]:
        if kind not in deep.MODEL_KINDS:
            parser.error(f"--models: unknown {kind!r}; choose from {', '.join(deep.MODEL_KINDS)}")
        raw_input = kind in deep.RAW_INPUT_KINDS
        inputs = corpus.texts if raw_input else processed
        trained = deep.train(kind, inputs[train], corpus.labels[train], params=params, n_classes=2, seed=args.seed)
        row: dict = {"fit_texts": trained.fit_size, "epochs": len(trained.history.get("loss", [])),
                     "seconds_per_epoch" if trained.history else "seconds_to_fit": round(trained.epoch_seconds, 2)}
        if raw_input:
            from shared.models.pretrained_text import import_keras_hub

            import_keras_hub()   # registers the keras-hub layers before loading
        with tempfile.TemporaryDirectory() as tmp:
            path = save_model(trained.model, Path(tmp) / f"{kind}.keras")
            row["model_file_kb"] = round(path.stat().st_size / 1024, 1)
            model = keras().models.load_model(path)
        texts = list(inputs[test]) * args.repeat
        raw = list(corpus.texts[test]) * args.repeat
        throughput = {}
        for batch in (1, 32, 256):
            n = min(len(texts), 512) if batch == 1 else len(texts)
            model.predict(text_batch(texts[:batch]), batch_size=batch, verbose=0)   # warm-up / tracing
            start = time.perf_counter()
            model.predict(text_batch(texts[:n]), batch_size=batch, verbose=0)
            throughput[f"batch_{batch}_texts_per_s"] = round(n / (time.perf_counter() - start))
        if not raw_input:
            start = time.perf_counter()
            model.predict(text_batch(pipeline.process(raw)), batch_size=256, verbose=0)
            throughput["raw_with_nltk_batch_256_texts_per_s"] = round(len(raw) / (time.perf_counter() - start))
        row["prediction"] = throughput
        row["peak_rss_mb_so_far"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        results[deep.MODEL_KINDS[deep.MODEL_KINDS.index(kind)]] = row
        print(kind, row, flush=True)
    payload = {"benchmark": "review_sentiment", "dataset": corpus.name, "train_texts": int(len(train)),
               "test_texts": int(len(test)), "settings": dataclasses.asdict(params),
               "preprocessing": pipeline.to_dict(), "nltk_preprocessing_texts_per_s": round(prep_rate),
               "models": results, "environment": environment()}
    write_json(args.output, payload)
    print(f"NLTK preprocessing: {prep_rate:.0f} texts/s\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
