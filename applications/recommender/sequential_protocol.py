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


def _remapped_history(train: pd.DataFrame, users: IdIndex, model_items: IdIndex, max_len: int) -> np.ndarray:
    """Histories of ``users`` from ``train`` in the token space of ``model_items`` (unknown items dropped)."""
    from .sequences import left_pad, ordered_tokens

    known = train[model_items.transform(train["item"]) >= 0]
    return left_pad(ordered_tokens(known, users, model_items), max_len)


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


def run_sequential(settings: Any, split: SplitData, *, seeds: list[int], refit: bool, verbose: int = 0
                   ) -> SequentialOutcome:
    from shared.training import set_seed, standard_callbacks

    from .evaluate import K, evaluate_ranker
    from .models import ranking_callback
    from .sequences import build_sequences
    from .sequential import SequentialRanker

    s = split
    fit_seq = build_sequences(s.fit, s.f_users, s.f_items, max_len=settings.max_len, all_windows=settings.all_windows)
    full_seq = build_sequences(s.train, s.users, s.items, max_len=settings.max_len,
                               all_windows=settings.all_windows) if refit else None
    per_seed, best_epochs, first = [], [], None
    epoch_s: list[float] = []
    ranking_s = 0.0
    for seed in seeds:
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
        epoch_s.append((time.perf_counter() - started) / max(1, len(history["loss"])))
        best = int(np.argmax(history["val_ndcg@10"])) + 1
        best_epochs.append(best)
        if refit:
            set_seed(seed)
            model, model_items = SequentialRanker(n_items=len(s.items), settings=settings), s.items
            model.fit(full_seq.inputs, full_seq.targets, epochs=best, verbose=verbose)
            test_history = full_seq.history
        else:  # restored best stage-1 weights; the full training history (validation item included) as input
            model, model_items = stage1, s.f_items
            test_history = _remapped_history(s.train, s.users, s.f_items, settings.max_len)
        started = time.perf_counter()
        outcome = evaluate_ranker(_columns_scorer(model, test_history, model_items, s.items), s.x, s.rows, s.held)
        ranking_s = time.perf_counter() - started
        log.info("%s seed %d: best epoch %d of %d, validation NDCG@10 %.4f, test %s", settings.architecture, seed,
                 best, len(history["loss"]), max(history["val_ndcg@10"]), outcome.metrics)
        per_seed.append(outcome)
        if first is None:
            first = (model, history, model_items, model.user_states(test_history))
    model, history, model_items, states = first
    return SequentialOutcome(per_seed=per_seed, best_epochs=best_epochs, model=model, history=history,
                             item_index=model_items, user_states=states,
                             seconds_per_epoch=float(np.mean(epoch_s)), ranking_s=ranking_s)
