"""Big text map: all ~1.27 M texts of the 100x synthetic review set through a trained text encoder.

    python benchmarks/maps_reviews.py [--data DIR] [--scale 100] [--train-texts 200000]
                                      [--graph-points 100000] [--compare-points 20000] [--seed 0]

1. The review set: ``data_scripts/generate_scale_data.py``'s review_sentiment set at ``--scale``
   (100 = about 1.27 M Rotten-Tomatoes-like texts; ``--data`` reuses a generated directory).
2. The text model: the project's CNN text classifier (``shared.models.build_text_classifier``,
   encoder "cnn", vocabulary fitted on training texts only) trained for ``--epochs`` epochs on a
   seeded ``--train-texts`` sample of the TRAINING split; its ``sentence_repr`` layer is the
   representation mapped. Accuracy on the test split is reported (majority share beside it), so
   the map is read knowing how much the representation separates.
3. Every text (train and test) through the encoder in batches (time, peak memory), then
   ``map_2d(..., method="parametric_umap")``: the encoder is trained on a fixed ``--graph-points``
   subsample and embeds every row; quality on a 10,000-point subsample, coloured by the label.
4. A datashader image of all rows coloured by fresh / rotten, and PCA, UMAP, openTSNE and the
   trained encoder on the same ``--compare-points`` rows (``benchmarks/map_compare.py``).

Writes ``benchmarks/results/maps_reviews.csv``, ``maps_reviews.json`` and ``maps_reviews.png``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results"
NAMES = {0: "rotten", 1: "fresh"}


def read_reviews(directory: Path):
    import pyarrow.parquet as pq

    frame = pq.read_table(directory, columns=["text", "label", "split"]).to_pandas()
    return frame["text"].to_numpy(dtype=object), frame["label"].to_numpy(np.int64), frame["split"].to_numpy()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="a generated review_sentiment_x<scale> directory")
    parser.add_argument("--scale", type=float, default=100.0)
    parser.add_argument("--train-texts", type=int, default=200_000, help="training texts the classifier sees")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--graph-points", type=int, default=100_000, help="rows the map encoder trains on")
    parser.add_argument("--compare-points", type=int, default=20_000, help="rows UMAP and openTSNE map")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(tempfile.gettempdir()) / "deepcases-numba"))
    import pandas as pd

    from data_scripts.generate_scale_data import generate
    from map_compare import compare
    from shared.artifacts import environment, write_csv, write_json
    from shared.maps import map_2d, measure
    from shared.maps.layers import layer_output
    from shared.maps.render import render_image
    from shared.models import build_text_classifier
    from shared.models.nlp import fit_text_vectorizer, text_batch
    from shared.training import set_seed

    work = Path(tempfile.mkdtemp(prefix="maps-reviews-"))
    try:
        with measure() as generating:
            directory = args.data or generate("review_sentiment", args.scale, work)
        texts, labels, split = read_reviews(directory)
        train = np.flatnonzero(split == "train")
        test = np.flatnonzero(split != "train")
        print(f"{len(texts):,} texts ({len(train):,} train, {len(test):,} test) from {directory} "
              f"in {generating.seconds:.0f} s", flush=True)

        set_seed(args.seed)
        rng = np.random.default_rng(args.seed)
        sample = np.sort(rng.choice(train, size=min(args.train_texts, len(train)), replace=False))
        vectorizer = fit_text_vectorizer(texts[sample], max_tokens=20_000, sequence_length=64)
        model = build_text_classifier(vectorizer=vectorizer, encoder="cnn", embedding_dim=64, filters=64,
                                      dropout=0.2)
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        with measure() as training:
            model.fit(text_batch(texts[sample]), labels[sample], epochs=args.epochs, batch_size=256, verbose=0)
        held = rng.choice(test, size=min(50_000, len(test)), replace=False)
        accuracy = float(((model.predict(text_batch(texts[held]), batch_size=4096, verbose=0).ravel() > 0.5)
                          == labels[held]).mean())
        majority = float(max(labels[held].mean(), 1 - labels[held].mean()))
        print(f"text CNN: {training.seconds:.0f} s training, test accuracy {accuracy:.3f} (majority {majority:.3f})",
              flush=True)

        with measure() as encoding:
            vectors = layer_output(model, text_batch(texts), layer="sentence_repr", batch_size=4096)
        print(f"{len(vectors):,} x {vectors.shape[1]} representations in {encoding.seconds:.0f} s, "
              f"peak {encoding.peak_rss_mb:.0f} MB", flush=True)
        names = np.asarray([NAMES[int(v)] for v in labels], dtype=object)
        result = map_2d(vectors, method="parametric_umap", seed=args.seed, labels=names,
                        max_graph_points=args.graph_points)
        q = result.quality
        print(f"parametric UMAP of all rows: T {q['trustworthiness']:.3f} 5-NN {q['knn_accuracy']:.3f}, "
              f"{q['fit_seconds']:.0f} s (train on {args.graph_points:,} + embed all), "
              f"peak {q['peak_rss_mb']:.0f} MB", flush=True)
        with measure() as placing:
            coords = result.mapper.transform(vectors)
        RESULTS.mkdir(parents=True, exist_ok=True)
        with measure() as drawing:
            render_image(coords, RESULTS / "maps_reviews.png", labels=names, label_name="label",
                         title=f"All {len(texts):,} synthetic reviews ({args.scale:g}x): parametric UMAP of a text "
                               f"CNN's sentence vectors (test accuracy {accuracy:.3f})")
        print(f"embed again {placing.seconds:.1f} s, render {drawing.seconds:.1f} s", flush=True)
        rows = [{"method": "parametric_umap", "part": f"all {len(texts):,} rows", "rows": len(texts),
                 **{k: q[k] for k in ("trustworthiness", "continuity", "knn_accuracy", "fit_seconds", "peak_rss_mb")}}]
        compared = compare(vectors, names, result.mapper, points=args.compare_points, n_total=len(texts),
                           seed=args.seed)
        rows += [{"part": f"same {args.compare_points:,} rows", **r} for r in compared]
        table = pd.DataFrame(rows)
        write_csv(RESULTS / "maps_reviews.csv", table.round(4))
        write_json(RESULTS / "maps_reviews.json", {
            "environment": environment(), "texts": len(texts), "train_texts": len(train), "test_texts": len(test),
            "scale": args.scale, "generate_seconds": generating.seconds, "classifier_train_texts": len(sample),
            "classifier_epochs": args.epochs, "classifier_train_seconds": training.seconds,
            "test_accuracy": accuracy, "test_majority_share": majority, "test_accuracy_rows": len(held),
            "representation_width": int(vectors.shape[1]), "encode_all_seconds": encoding.seconds,
            "encode_peak_rss_mb": encoding.peak_rss_mb, "map_params": result.params | {"loss": None},
            "embed_all_seconds": placing.seconds, "embed_peak_rss_mb": placing.peak_rss_mb,
            "render_all_seconds": drawing.seconds, "render_peak_rss_mb": drawing.peak_rss_mb,
            "load_average_after": os.getloadavg()[0], "table": rows})
        print(table.round(3).to_string(), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
