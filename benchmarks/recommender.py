"""Benchmark of the recommenders: training time per epoch on each dataset, top-10 retrieval latency for one
user, throughput for all users, and peak memory on Online Retail; the two-tower, the biased MF and the
sequential GRU4Rec-/SASRec-style models (all-user ranking = histories -> states -> scores in one pass).

    python benchmarks/recommender.py [--epochs 3] [--datasets movielens,retail] [--repeats 20]

Same data, splits and models as ``deepcases run recommender`` (Protocol B training part of each dataset,
default settings). The two-tower and the biased MF are each trained for exactly ``--epochs`` epochs (no
early stopping); the first epoch includes graph tracing and is reported apart, "per epoch" is the median
of the later ones. Retrieval is NumPy on the learned embeddings: one user = score all items, mask the
user's training items, take the top 10 (median of ``--repeats`` calls over different users); all users =
``rank_top_k`` over every evaluated user in blocks (vectorized, no Python loop over items). Peak memory is
the process's maximum resident set size after each dataset (``resource.getrusage``), so the retail figure
includes everything loaded before it. Writes ``benchmarks/results/recommender.json``.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


class _EpochTimer:
    def __init__(self) -> None:
        from shared.models._keras import keras

        outer = self

        class Timer(keras().callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                outer._start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                outer.times.append(time.perf_counter() - outer._start)

        self.times: list[float] = []
        self.callback = Timer()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per model (the first is reported apart)")
    parser.add_argument("--datasets", default="movielens,retail", help="comma-separated: movielens, retail")
    parser.add_argument("--repeats", type=int, default=20, help="single-user retrieval calls timed")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "recommender.json"))
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be >= 2 (the first epoch is tracing)")

    import numpy as np

    from applications.recommender import data as D
    from applications.recommender.evaluate import rank_top_k
    from applications.recommender.indexing import IdIndex, interaction_matrix
    from applications.recommender.main import RecommenderConfig
    from applications.recommender.models import MFRegressor, TwoTowerRanker, TwoTowerSettings, mf_settings
    from applications.recommender.splits import protocol_b_split
    from shared.artifacts import environment, write_json
    from shared.training import set_seed

    defaults = RecommenderConfig()
    out = {"environment": environment(), "epochs": args.epochs, "datasets": []}
    for name in args.datasets.split(","):
        started = time.perf_counter()
        ds = D.load_movielens() if name == "movielens" else D.load_retail()
        load_s = time.perf_counter() - started
        train, test = protocol_b_split(ds.frame, min_interactions=defaults.min_interactions)
        users, items = IdIndex(train["user"]), IdIndex(train["item"])
        tu, ti = users.transform(train["user"]), items.transform(train["item"])
        x = interaction_matrix(tu, ti, n_users=len(users), n_items=len(items))
        rows = users.transform(test["user"])
        entry = {"dataset": ds.name, "load_s": round(load_s, 2), "train_interactions": int(len(train)),
                 "users": len(users), "items": len(items), "models": []}

        batch = defaults.tt_batch_size
        set_seed(args.seed)
        tt = TwoTowerRanker(n_users=len(users), n_items=len(items),
                            settings=TwoTowerSettings(embedding_dim=defaults.tt_dim, l2=defaults.tt_l2,
                                                      batch_size=batch, temperature=defaults.tt_temperature),
                            item_log_prob=np.log((np.asarray(x.sum(0)).ravel() + 1) / (x.nnz + len(items))))
        timer = _EpochTimer()
        tt.fit(tu, ti, epochs=args.epochs, callbacks=[timer.callback])
        uvec, ivec = tt.user_embeddings(), tt.item_embeddings()
        single = []
        rng = np.random.default_rng(args.seed)
        for r in rng.choice(len(users), size=args.repeats):
            t0 = time.perf_counter()
            s = ivec @ uvec[r]
            s[x[r].indices] = -np.inf
            top = np.argpartition(-s, 10)[:10]
            top[np.argsort(-s[top])]
            single.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        rank_top_k(tt.score, x, rows, k=10)
        all_users_s = time.perf_counter() - t0
        entry["models"].append({
            "model": "two_tower", "batch_size": batch, "first_epoch_s": round(timer.times[0], 2),
            "per_epoch_s": round(statistics.median(timer.times[1:]), 2),
            "top10_one_user_ms": round(1000 * statistics.median(single), 3),
            "top10_all_users_s": round(all_users_s, 3), "users_ranked": int(len(rows)),
            "users_per_s": round(len(rows) / all_users_s, 1)})

        if ds.explicit:  # the biased MF of Protocol A, on the same rows with their ratings
            set_seed(args.seed)
            ratings = train["value"].to_numpy()
            mf = MFRegressor(n_users=len(users), n_items=len(items), global_mean=float(ratings.mean()),
                             settings=mf_settings(defaults))  # the app's own defaults, per optimizer
            timer = _EpochTimer()
            mf.fit(tu, ti, ratings, epochs=args.epochs, callbacks=[timer.callback])
            entry["models"].append({"model": "mf_biased", "batch_size": defaults.mf_batch_size,
                                    "first_epoch_s": round(timer.times[0], 2),
                                    "per_epoch_s": round(statistics.median(timer.times[1:]), 2)})
        for arch in defaults.seq_models:  # the sequential next-item models, full softmax, default settings
            from applications.recommender.main import seq_settings
            from applications.recommender.sequences import build_sequences
            from applications.recommender.sequential import SequentialRanker

            settings = seq_settings(defaults, arch)
            seq = build_sequences(train, users, items, max_len=settings.max_len, all_windows=settings.all_windows)
            set_seed(args.seed)
            model = SequentialRanker(n_items=len(items), settings=settings)
            timer = _EpochTimer()
            model.fit(seq.inputs, seq.targets, epochs=args.epochs, callbacks=[timer.callback])
            t0 = time.perf_counter()  # one batched pass: every user's history -> states -> scores -> top 10
            rank_top_k(model.scorer(seq.history), x, rows, k=10)
            all_users_s = time.perf_counter() - t0
            entry["models"].append({
                "model": arch, "batch_size": settings.batch_size, "max_len": settings.max_len,
                "windows": int(len(seq.inputs)), "first_epoch_s": round(timer.times[0], 2),
                "per_epoch_s": round(statistics.median(timer.times[1:]), 2),
                "top10_all_users_s": round(all_users_s, 3), "users_ranked": int(len(rows)),
                "peak_rss_mb_so_far": round(_peak_mb(), 1)})
        entry["peak_rss_mb_so_far"] = round(_peak_mb(), 1)
        out["datasets"].append(entry)
        print(entry, flush=True)
    path = write_json(args.output, out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
