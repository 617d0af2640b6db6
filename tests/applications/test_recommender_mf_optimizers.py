"""--mf-optimizer: the default trains the batch's rows only (RowSparseAdam + batch-row lookups, L2 per row)."""

from __future__ import annotations

import pytest

from applications.recommender import main as app
from applications.recommender.models import MFRegressor, mf_settings


@pytest.mark.parametrize(("argv", "optimizer", "table", "l2", "rate"), [
    ([], "RowSparseAdam", "SparseEmbedding", 0.15, 2e-3),
    (["--mf-optimizer", "dense-adam"], "Adam", "Embedding", 1e-4, 2e-3),
    (["--mf-optimizer", "sparse-sgd"], "SGD", "SparseEmbedding", 1e-4, 5.0),
    (["--mf-l2", "0.3", "--mf-learning-rate", "0.01"], "RowSparseAdam", "SparseEmbedding", 0.3, 0.01),
])
def test_each_mf_optimizer_builds_its_tables_optimizer_and_l2(argv, optimizer, table, l2, rate):
    settings = mf_settings(app.parse_args(argv))
    assert (settings.l2, settings.learning_rate) == (l2, rate)
    mf = MFRegressor(n_users=5, n_items=4, global_mean=3.0, settings=settings)
    assert type(mf.model.optimizer).__name__ == optimizer
    assert float(mf.model.optimizer.learning_rate) == pytest.approx(rate)
    layer = mf.model.get_layer("item_factors")
    assert type(layer).__name__ == table
    # the penalty sits on the looked-up rows (SparseEmbedding.row_l2) or on the whole table (regularizer)
    penalty = layer.row_l2 if table == "SparseEmbedding" else layer.embeddings_regularizer.l2
    assert penalty == pytest.approx(l2)
