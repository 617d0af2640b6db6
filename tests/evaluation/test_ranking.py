import numpy as np
import pytest
from scipy import sparse

from shared.evaluation import catalog_coverage, hit_rate_at_k, ndcg_at_k, ranking, top_k_from_scores

RANKED = np.array([[3, 1, 2], [2, 3, 1]])
HELD = np.array([1, 1])


def test_hit_rate_at_k_counts_only_the_top_k():
    assert hit_rate_at_k(RANKED, HELD, k=2) == 0.5
    assert hit_rate_at_k(RANKED, HELD, k=3) == 1.0
    assert hit_rate_at_k(RANKED, HELD, k=1) == 0.0


def test_ndcg_at_k_hand_computed():
    # user 0 finds item 1 at rank 2 -> 1/log2(3); user 1 at rank 3 -> 1/log2(4) = 0.5
    assert ndcg_at_k(RANKED, HELD, k=2) == pytest.approx((1 / np.log2(3) + 0) / 2)
    assert ndcg_at_k(RANKED, HELD, k=3) == pytest.approx((1 / np.log2(3) + 0.5) / 2)
    assert ndcg_at_k(np.array([[7, 1]]), np.array([7]), k=2) == pytest.approx(1.0)


def test_metrics_accept_extra_columns_beyond_k():
    ranked = np.array([[5, 6, 7, 8], [9, 8, 7, 6]])
    assert hit_rate_at_k(ranked, np.array([8, 8]), k=2) == 0.5


def test_top_k_breaks_ties_by_lower_index():
    scores = np.array([[0.1, 0.5, 0.5, 0.9, 0.5], [1.0, 1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(top_k_from_scores(scores, k=3), [[3, 1, 2], [0, 1, 2]])


def test_top_k_excludes_items_by_mask_or_sparse_matrix():
    scores = np.array([[0.1, 0.5, 0.5, 0.9, 0.5], [1.0, 1.0, 1.0, 1.0, 1.0]])
    mask = np.zeros(scores.shape, dtype=bool)
    mask[0, 1] = mask[1, 0] = True
    expected = [[3, 2, 4], [1, 2, 3]]
    np.testing.assert_array_equal(top_k_from_scores(scores, k=3, exclude=mask), expected)
    np.testing.assert_array_equal(top_k_from_scores(scores, k=3, exclude=sparse.csr_matrix(mask)), expected)


def test_top_k_never_returns_excluded_items_even_against_minus_inf_scores():
    scores = np.array([[-np.inf, 2.0, -np.inf, -np.inf]])
    mask = np.array([[True, False, False, False]])
    np.testing.assert_array_equal(top_k_from_scores(scores, k=3, exclude=mask), [[1, 2, 3]])


@pytest.mark.parametrize("chunk_cells", [ranking._CHUNK_CELLS, 7])
def test_top_k_matches_a_stable_full_sort(monkeypatch, chunk_cells):
    monkeypatch.setattr(ranking, "_CHUNK_CELLS", chunk_cells)
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 4, size=(13, 9)).astype(float)  # many ties
    mask = rng.random(scores.shape) < 0.3
    mask[:, :5] = False  # every user keeps at least k items
    k = 4
    expected = np.argsort(-np.where(mask, -np.inf, scores), axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(top_k_from_scores(scores, k=k, exclude=mask), expected)
    np.testing.assert_array_equal(top_k_from_scores(scores, k=k, exclude=sparse.coo_matrix(mask)), expected)


def test_catalog_coverage():
    ranked = np.array([[0, 1], [1, 2]])
    assert catalog_coverage(ranked, 4) == pytest.approx(0.75)
    assert catalog_coverage(ranked, 4, k=1) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: hit_rate_at_k(RANKED, HELD, k=4), ValueError, "has 3 columns but k=4"),
        (lambda: hit_rate_at_k(RANKED, HELD, k=0), ValueError, "k must be an int >= 1"),
        (lambda: hit_rate_at_k(RANKED[0], HELD, k=1), ValueError, "ranked_items must be 2-D"),
        (lambda: hit_rate_at_k(RANKED.astype(float), HELD, k=1), TypeError, "integer item ids"),
        (lambda: hit_rate_at_k(np.zeros((0, 3), dtype=int), np.zeros(0, dtype=int), k=1), ValueError, "no users"),
        (lambda: ndcg_at_k(RANKED, HELD[:1], k=2), ValueError, "one item per user"),
        (lambda: ndcg_at_k(RANKED, HELD.astype(float), k=2), TypeError, "held_out must hold integer"),
        (lambda: ndcg_at_k(np.array([[1, 1, 2]]), np.array([1]), k=2), ValueError, "repeats an item"),
        (lambda: top_k_from_scores(np.ones(3), k=1), ValueError, "scores must be 2-D"),
        (lambda: top_k_from_scores(np.array([[np.nan, 1.0]]), k=1), ValueError, "scores hold NaN"),
        (lambda: top_k_from_scores(np.array([["a", "b"]]), k=1), TypeError, "scores must be numeric"),
        (lambda: top_k_from_scores(np.ones((1, 2)), k=3), ValueError, "exceeds the number of items"),
        (lambda: top_k_from_scores(np.ones((1, 3)), k=2, exclude=np.ones((1, 3))), TypeError, "boolean mask"),
        (lambda: top_k_from_scores(np.ones((1, 3)), k=2, exclude=np.zeros((2, 3), bool)), ValueError,
         "exclude has shape"),
        (lambda: top_k_from_scores(np.ones((1, 3)), k=2, exclude=sparse.csr_matrix((2, 3))), ValueError,
         "exclude has shape"),
        (lambda: top_k_from_scores(np.ones((2, 3)), k=2, exclude=np.array([[0, 0, 0], [1, 1, 0]], bool)),
         ValueError, "user 1 has fewer than k=2 items"),
        (lambda: catalog_coverage(RANKED, 0), ValueError, "n_items must be an int >= 1"),
        (lambda: catalog_coverage(RANKED, 3), ValueError, r"outside \[0, 3\)"),
        (lambda: catalog_coverage(RANKED[0], 5), ValueError, "must be 2-D"),
        (lambda: catalog_coverage(RANKED.astype(float), 5), TypeError, "integer item ids"),
    ],
)
def test_ranking_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
