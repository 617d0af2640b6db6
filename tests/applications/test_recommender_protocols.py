"""Recommender protocols: index maps, splits, metrics and baselines on hand-made data, cold-start fallback."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from applications.recommender import baselines as B
from applications.recommender import evaluate as E
from applications.recommender.indexing import UNKNOWN, IdIndex, interaction_matrix
from applications.recommender.recommend import Recommender
from applications.recommender.splits import protocol_a_split, protocol_b_split, validation_split


def _log() -> pd.DataFrame:
    t = pd.to_datetime
    return pd.DataFrame({
        "user": [1, 1, 1, 2, 2, 2, 3, 3],
        "item": [10, 11, 12, 10, 13, 14, 11, 15],
        "value": 1.0,
        "timestamp": t(["2020-01-01", "2020-01-03", "2020-01-02", "2020-01-01", "2020-01-05", "2020-01-05",
                        "2020-01-01", "2020-01-02"]),
    })


def test_id_index_is_built_on_training_data_only():
    frame = _log()
    train, test = protocol_b_split(frame, min_interactions=2)
    index = IdIndex(train["item"], name="item")
    # item 15 occurs only as user 3's held-out item: it must not get a training index
    assert 15 not in index and index.transform([15])[0] == UNKNOWN
    assert sorted(index.ids.tolist()) == sorted(train["item"].unique().tolist())
    assert index.inverse(index.transform([10, 13])).tolist() == [10, 13]
    with pytest.raises(ValueError, match="empty"):
        IdIndex([])
    assert IdIndex(["A1", "B2"]).parse(" a1 ") == "A1"


def test_leave_last_out_holds_out_the_latest_item_and_breaks_ties_by_larger_id():
    frame = _log()
    train, test = protocol_b_split(frame, min_interactions=2)
    held = dict(zip(test["user"], test["item"]))
    assert held == {1: 11, 2: 14, 3: 15}  # user 2: items 13 and 14 tie on time -> larger id 14
    for user, item in held.items():
        mine = train[train["user"] == user]
        assert item not in set(mine["item"])
        assert (mine["timestamp"] <= test.loc[test["user"] == user, "timestamp"].item()).all()
    assert len(train) + len(test) == len(frame)
    fit, val = validation_split(train, min_interactions=2)
    assert set(val["item"]) & set(test["item"]) == set()  # validation never touches test items
    assert len(fit) + len(val) == len(train)


def test_protocol_a_split_is_the_fixed_permutation():
    train, test = protocol_a_split(10)
    order = np.random.default_rng(42).permutation(10)
    assert train.tolist() == order[:8].tolist() and test.tolist() == order[8:].tolist()
    with pytest.raises(ValueError, match="at least 2"):
        protocol_a_split(1)


def test_hit_rate_and_ndcg_on_a_hand_computed_case():
    top = np.array([[3, 1, 2], [2, 3, 1], [0, 4, 5]])
    metrics = E.ranking_metrics(top, np.array([1, 7, UNKNOWN]), k=3)
    assert metrics["hr@3"] == pytest.approx(1 / 3)
    assert metrics["ndcg@3"] == pytest.approx((1 / np.log2(3)) / 3)


def test_full_ranking_excludes_training_items_and_unseen_items_rank_last():
    x = interaction_matrix(np.array([0, 0, 1]), np.array([0, 1, 2]), n_users=2, n_items=4)
    scores = np.array([[9.0, 8.0, 1.0, 2.0], [5.0, 1.0, 9.0, 0.0]])
    top = E.rank_top_k(lambda rows: scores[rows], x, np.array([0, 1]), k=2)
    assert top.tolist() == [[3, 2], [0, 1]]
    # a held-out item outside the training catalogue (-1) is always a miss
    assert E.ranking_metrics(top, np.array([UNKNOWN, 0]), k=2)["hr@2"] == 0.5


def _matrix() -> sparse.csr_matrix:
    # users x items; item 0 and 1 co-occur twice, item 2 once with 1
    dense = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1], [1, 0, 0, 0]], dtype=np.float32)
    return sparse.csr_matrix(dense)


def test_most_popular_and_item_knn_by_hand():
    x = _matrix()
    pop = B.MostPopular().fit(x)
    assert pop.score(np.array([0]))[0].tolist() == [3, 2, 2, 1]
    knn = B.ItemKNN().fit(x)
    # cos(item0, item1) = 2 / sqrt(3 * 2)
    assert knn.similarity[0, 1] == pytest.approx(2 / np.sqrt(6))
    assert np.allclose(np.diag(knn.similarity), 0)
    assert knn.score(np.array([3]))[0] == pytest.approx(knn.similarity[0])  # user 3 has only item 0
    pruned = B.ItemKNN(neighbours=1).fit(x)
    # each candidate column keeps exactly its single nearest neighbour
    assert ((pruned.similarity > 0).sum(axis=0) <= 1).all()
    with pytest.raises(TypeError, match="scipy.sparse"):
        B.MostPopular().fit(np.ones((2, 2)))


def test_ease_has_zero_diagonal_and_ranks_co_occurring_items_higher():
    ease = B.EASE(l2=1.0).fit(_matrix())
    assert np.allclose(np.diag(ease.weights), 0)
    scores = ease.score(np.array([3]))[0]  # user with item 0: item 1 (co-occurs twice) beats item 3 (never)
    assert scores[1] > scores[3]
    with pytest.raises(ValueError, match="must be > 0"):
        B.EASE(l2=0)


def test_bias_baseline_falls_back_to_mean_plus_user_bias_for_unseen_items():
    users = np.array([0, 0, 1, 1])
    items = np.array([0, 1, 0, 1])
    ratings = np.array([5.0, 4.0, 2.0, 1.0])
    model = B.BiasBaseline(reg_user=0.0, reg_item=0.0, epochs=20).fit(users, items, ratings, n_users=2, n_items=2)
    pred = model.predict(np.array([0, 1]), np.array([UNKNOWN, UNKNOWN]))
    assert pred == pytest.approx(model.mu + model.user_bias)
    assert pred[0] > pred[1]  # user 0 rates higher
    assert model.predict(users, items) == pytest.approx(ratings, abs=0.01)  # unregularized biases fit exactly
    assert E.rating_metrics([1.0, 3.0], [2.0, 3.0]) == {"rmse": pytest.approx(np.sqrt(0.5)), "mae": 0.5}


def test_knn_baseline_is_surprise_s_on_index_positions_with_the_bias_fallback():
    rng = np.random.default_rng(0)
    n_users, n_items = 30, 12
    taste = rng.choice([-1.0, 1.0], size=n_users)  # half the users like items 0-5, the other half items 6-11
    side = np.where(np.arange(n_items) < 6, 1.0, -1.0)
    users, items = np.divmod(np.arange(n_users * n_items), n_items)
    keep = rng.random(users.size) < 0.6
    users, items = users[keep], items[keep]
    ratings = np.clip(3.0 + 1.5 * taste[users] * side[items] + rng.normal(0, 0.3, users.size), 0.5, 5.0)
    train, test = np.arange(users.size) % 5 != 0, np.arange(users.size) % 5 == 0
    knn = B.KNNBaseline(rating_range=(0.5, 5.0)).fit(users[train], items[train], ratings[train],
                                                     n_users=n_users, n_items=n_items)
    bias = B.BiasBaseline().fit(users[train], items[train], ratings[train], n_users=n_users, n_items=n_items)
    # neighbours see the two tastes that biases cannot: far lower error on the held-out ratings
    knn_rmse = E.rating_metrics(ratings[test], knn.predict(users[test], items[test]))["rmse"]
    bias_rmse = E.rating_metrics(ratings[test], bias.predict(users[test], items[test]))["rmse"]
    assert knn_rmse < 0.5 * bias_rmse
    # an unseen item is mu + b_u with Surprise's BaselineOnly ALS, which BiasBaseline reimplements
    unseen = knn.predict(np.arange(3), np.full(3, UNKNOWN))
    assert unseen == pytest.approx(np.clip(bias.predict(np.arange(3), np.full(3, UNKNOWN)), 0.5, 5.0))
    with pytest.raises(ValueError, match="k must be >= 1"):
        B.KNNBaseline(k=0)
    with pytest.raises(ValueError, match="low < high"):
        B.KNNBaseline(rating_range=(5.0, 0.5))
    with pytest.raises(ValueError, match="map ids first"):
        B.KNNBaseline().fit(np.array([0, -1]), np.array([0, 1]), np.array([3.0, 4.0]), n_users=1, n_items=2)


def _recommender() -> Recommender:
    users = IdIndex([1, 2, 3], name="user")
    items = IdIndex([10, 11, 12, 13], name="item")
    x = interaction_matrix(np.array([0, 1, 1, 2]), np.array([0, 0, 1, 2]), n_users=3, n_items=4)
    user_vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    item_vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.5, 0.5]])
    labels = pd.DataFrame({"label": ["a", "b", "c", "d"]}, index=pd.Index([10, 11, 12, 13], name="item"))
    return Recommender(users, items, user_vectors, item_vectors, x, labels)


def test_recommend_skips_seen_items_and_unknown_user_falls_back_to_popularity(caplog):
    rec = _recommender()
    top = rec.recommend(1, k=2)
    assert 10 not in top["item"].tolist() and top["item"].tolist() == [11, 13]
    assert top["source"].eq("model").all()
    with caplog.at_level(logging.WARNING):
        fallback = rec.recommend(999, k=2)
    assert "not in the training data" in caplog.text
    assert fallback["item"].tolist()[0] == 10 and fallback["source"].eq("popularity fallback").all()


def test_similar_uses_embedding_space_and_unknown_item_falls_back(caplog):
    rec = _recommender()
    assert rec.similar(10, k=1)["item"].tolist() == [11]
    with caplog.at_level(logging.WARNING):
        assert rec.similar(404, k=2)["source"].eq("popularity fallback").all()
    assert "404" in caplog.text
    with pytest.raises(ValueError, match="k must be >= 1"):
        rec.recommend(1, k=0)
