"""Protocol B for the sequential models: validation-driven training, then one test ranking per seed.

Stage 1 trains on the FIT part (training interactions minus each user's validation item, the
second-latest overall) and early-stops on the validation NDCG@10 ranked from the fit histories.
With ``refit`` the same seed retrains on the whole training part for the chosen epoch count, and the
test item is ranked from each user's full training history. Without it the stage-1 model ranks the
test item from the full training history too (the validation item becomes the latest input), mapped
through the stage-1 item index; items it never saw score -inf (rank last). The test split is read
only for the final ranking.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from .indexing import IdIndex

log = logging.getLogger(__name__)


@dataclasses.dataclass
class SplitData:
    """The Protocol B frames and indexes the sequential models need (all built by ``run_protocol_b``)."""

    train: pd.DataFrame
    fit: pd.DataFrame
    users: IdIndex
    items: IdIndex
    f_users: IdIndex
    f_items: IdIndex
    x: sparse.csr_matrix
    fx: sparse.csr_matrix
    rows: np.ndarray
    held: np.ndarray
    v_rows: np.ndarray
    v_held: np.ndarray


@dataclasses.dataclass
class SequentialOutcome:
    per_seed: list[Any]
    best_epochs: list[int]
    model: Any                  # the first seed's final model (serving, item map, saved .keras)
    history: dict[str, list[float]]
    item_index: IdIndex         # the item index of ``model``
    user_states: np.ndarray     # (len(users), dim): first seed's state after each user's full training history
    seconds_per_epoch: float
    ranking_s: float


def _remapped_history(train: pd.DataFrame, users: IdIndex, model_items: IdIndex, max_len: int, *,
                      ties: str = "protocol", seed: int = 0) -> np.ndarray:
    """Histories of ``users`` from ``train`` in the token space of ``model_items`` (unknown items dropped)."""
    from .sequences import left_pad, ordered_tokens

    known = train[model_items.transform(train["item"]) >= 0]
    return left_pad(ordered_tokens(known, users, model_items, ties=ties, seed=seed), max_len)


def _columns_scorer(model: Any, history: np.ndarray, model_items: IdIndex, items: IdIndex) -> Any:
    """score(rows) over ``items`` columns from a model indexed by ``model_items`` (unknown columns -inf)."""
    states = model.user_states(history)
    emb = model.item_embeddings()
    col = model_items.transform(items.ids)
    known = col >= 0
    scores = np.full((len(states), len(items)), -np.inf, dtype=np.float32)
    scores[:, known] = states @ emb[col[known]].T + model.item_bias()[col[known]][None, :]

    def score(rows: np.ndarray) -> np.ndarray:
        return scores[np.asarray(rows, np.int64)]

    return score


def run_sequential(settings: Any, split: SplitData, *, seeds: list[int], refit: bool, verbose: int = 0,
                   tie_seed: int = 0, resume: Any = None, key: str = "sequential") -> SequentialOutcome:
    """Train and test ``settings``' model once per seed.

    ``tie_seed`` orders equal timestamps when ``settings.ties`` is "shuffled". With a
    :class:`shared.resume.Resume`, each seed is a unit ``{key}/seed{s}``: a rerun reads finished seeds
    back (the first seed's weights included) and resumes the one in progress from its last epoch."""
    from shared.training import set_seed, standard_callbacks

    from .evaluate import K, evaluate_ranker
    from .models import ranking_callback
    from .sequences import build_sequences
    from .sequential import SequentialRanker

    s = split
    order = {"ties": settings.ties, "seed": tie_seed}
    fit_seq = build_sequences(s.fit, s.f_users, s.f_items, max_len=settings.max_len, all_windows=settings.all_windows,
                              **order)
    full_seq = build_sequences(s.train, s.users, s.items, max_len=settings.max_len,
                               all_windows=settings.all_windows, **order) if refit else None

    def train_and_test(seed: int, keep_model: bool) -> dict[str, Any]:
        set_seed(seed)
        stage1 = SequentialRanker(n_items=len(s.f_items), settings=settings)

        def validation_scores(rows: np.ndarray, model: Any = stage1) -> np.ndarray:  # fit histories, every epoch
            states = model.user_states(fit_seq.history[np.asarray(rows, np.int64)])
            return states @ model.item_embeddings().T + model.item_bias()[None, :]

        callbacks = [ranking_callback(validation_scores, s.fx, s.v_rows, s.v_held, k=K),
                     *standard_callbacks(None, monitor="val_ndcg@10", mode="max", patience=settings.patience,
                                         csv_log=False)]
        started = time.perf_counter()
        history = stage1.fit(fit_seq.inputs, fit_seq.targets, callbacks=callbacks, verbose=verbose)
        epoch_s = (time.perf_counter() - started) / max(1, len(history["loss"]))
        best = int(np.argmax(history["val_ndcg@10"])) + 1
        if refit:
            set_seed(seed)
            model, refitted = SequentialRanker(n_items=len(s.items), settings=settings), True
            model.fit(full_seq.inputs, full_seq.targets, epochs=best, verbose=verbose)
            test_history = full_seq.history
        else:  # restored best stage-1 weights; the full training history (validation item included) as input
            model, refitted = stage1, False
            test_history = _remapped_history(s.train, s.users, s.f_items, settings.max_len, **order)
        model_items = s.items if refitted else s.f_items
        started = time.perf_counter()
        outcome = evaluate_ranker(_columns_scorer(model, test_history, model_items, s.items), s.x, s.rows, s.held)
        ranking_s = time.perf_counter() - started
        log.info("%s seed %d: best epoch %d of %d, validation NDCG@10 %.4f, test %s", settings.architecture, seed,
                 best, len(history["loss"]), max(history["val_ndcg@10"]), outcome.metrics)
        unit = {"outcome": outcome, "best": best, "history": history, "epoch_s": epoch_s, "ranking_s": ranking_s,
                "refitted": refitted}
        if keep_model:  # plain arrays, so a finished unit is read back without pickling a Keras model
            unit.update(weights=model.trainer.get_weights(), user_states=model.user_states(test_history))
        return unit

    units = []
    for j, seed in enumerate(seeds):
        def compute(seed: int = seed, keep: bool = j == 0) -> dict[str, Any]:
            return train_and_test(seed, keep)

        units.append(resume.unit(f"{key}/seed{seed}", compute) if resume is not None else compute())
    first = units[0]
    model_items = s.items if first["refitted"] else s.f_items
    model = SequentialRanker(n_items=len(model_items), settings=settings)
    model.trainer.set_weights(first["weights"])
    return SequentialOutcome(per_seed=[u["outcome"] for u in units], best_epochs=[u["best"] for u in units],
                             model=model, history=first["history"], item_index=model_items,
                             user_states=first["user_states"],
                             seconds_per_epoch=float(np.mean([u["epoch_s"] for u in units])),
                             ranking_s=float(units[-1]["ranking_s"]))
