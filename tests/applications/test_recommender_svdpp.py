"""Protocol A's SVD++: what a user rated feeds their vector from the ratings the model trains on only."""

from __future__ import annotations

import numpy as np

from applications.recommender import main as app
from applications.recommender.models import MFSettings


def test_stage_one_sees_the_fit_ratings_and_the_refit_all_training_ratings_never_more():
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 6, 60), rng.integers(0, 9, 60)
    ratings = rng.uniform(1, 5, 60)
    fit_pos, val_pos = np.arange(48), np.arange(48, 60)
    settings = MFSettings(n_factors=3, epochs=2, batch_size=16)
    built = []
    from applications.recommender import models  # _fit_mf imports MFRegressor from here when it runs

    class Spy(models.MFRegressor):
        def __init__(self, **kwargs):
            built.append(kwargs["implicit_interactions"])
            super().__init__(**kwargs)

    saved, models.MFRegressor = models.MFRegressor, Spy
    try:
        model, _, best = app._fit_mf(settings, users, items, ratings, fit_pos=fit_pos, val_pos=val_pos, seed=1,
                                     n_users=6, n_items=9, refit=True, patience=1, implicit=True)
    finally:
        models.MFRegressor = saved
    assert len(built) == 2 and model.name == "svdpp" and best >= 1
    stage1, refit = (set(zip(*m.nonzero())) for m in built)
    assert stage1 == set(zip(users[fit_pos], items[fit_pos]))  # validation pairs stay out, as test pairs do
    assert refit == set(zip(users, items))
    layer = model.model.get_layer("implicit_feedback")
    np.testing.assert_array_equal(layer.row_splits.numpy(), built[1].indptr)


def test_protocol_a_runs_svdpp_unless_switched_off_and_its_l2_is_checked(capsys):
    import pytest

    assert app.parse_args([]).svdpp is True
    assert app.parse_args(["--no-svdpp"]).svdpp is False
    with pytest.raises(SystemExit):
        app.parse_args(["--svdpp-l2", "-1"])
    assert "--svdpp-l2 must be >= 0" in capsys.readouterr().err
