"""shared.viz.plot_tuning_scores: one panel per hyperparameter, the best trial starred, bad input named."""

from __future__ import annotations

import sys

import pandas as pd
import pytest

from shared import viz


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def _trials() -> pd.DataFrame:
    return pd.DataFrame({
        "trial": ["0", "1", "2", "3"], "status": ["COMPLETED", "COMPLETED", "FAILED", "COMPLETED"],
        "score": [0.30, 0.10, None, 0.20], "learning_rate": [1e-3, 3e-3, 1e-2, 1e-4],
        "units": [32, 64, 16, 32], "cell": ["lstm", "gru", "lstm", "lstm"], "fold": [1, 1, 2, 2]})


def _star_xy(ax):
    """Offsets of the starred points (the larger markers drawn last per group)."""
    return [tuple(c.get_offsets()[0]) for c in ax.collections if c.get_sizes()[0] > 100]


@pytest.mark.parametrize("direction, best_lr", [("min", 3e-3), ("max", 1e-3)])
def test_one_panel_per_parameter_and_the_best_trial_starred(direction, best_lr):
    fig = viz.plot_tuning_scores(_trials(), ["learning_rate", "units", "cell"], direction=direction,
                                 score_name="validation WAPE", log_params=["learning_rate"])
    axes = fig.axes
    assert [ax.get_xlabel() for ax in axes] == ["learning_rate", "units", "cell"]
    assert axes[0].get_ylabel() == "validation WAPE" and axes[0].get_xscale() == "log"
    stars = _star_xy(axes[0])
    assert len(stars) == 1 and stars[0][0] == pytest.approx(best_lr)
    assert len(axes[0].collections[0].get_offsets()) == 3  # the failed trial is not drawn
    assert [t.get_text() for t in axes[2].get_xticklabels()] == ["gru", "lstm"]


def test_log_parameter_with_a_zero_choice_gets_a_symlog_axis():
    trials = _trials().assign(l2=[0.0, 1e-5, 1e-4, 1e-3])
    fig = viz.plot_tuning_scores(trials, ["l2", "units"], log_params=["l2", "units"])
    assert fig.axes[0].get_xscale() == "symlog" and fig.axes[1].get_xscale() == "log"


def test_groups_get_their_own_star_and_the_figure_saves(tmp_path):
    fig = viz.plot_tuning_scores(_trials(), ["units"], group="fold")
    assert len(_star_xy(fig.axes[0])) == 2
    path = viz.plot_tuning_scores(_trials(), ["units"], path=tmp_path / "tuning.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("kwargs, error, match", [
    ({"names": ["momentum"]}, ValueError, r"lacks column\(s\) \['momentum'\]"),
    ({"names": []}, ValueError, "names is empty"),
    ({"names": ["units"], "direction": "up"}, ValueError, "direction must be 'min'"),
    ({"names": ["units"], "group": "outer"}, ValueError, "lacks column"),
])
def test_bad_input_is_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        viz.plot_tuning_scores(_trials(), **kwargs)


def test_no_completed_trial_or_not_a_frame():
    failed = _trials().assign(status="FAILED")
    with pytest.raises(ValueError, match="no COMPLETED trial"):
        viz.plot_tuning_scores(failed, ["units"])
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        viz.plot_tuning_scores({"units": [1]}, ["units"])


def test_a_log_range_narrower_than_a_decade_still_has_tick_labels():
    trials = _trials().assign(learning_rate=[2.1e-3, 2.8e-3, 4e-3, 6.4e-3])
    fig = viz.plot_tuning_scores(trials, ["learning_rate"], log_params=["learning_rate"])
    ax = fig.axes[0]
    fig.canvas.draw()
    lo, hi = ax.get_xlim()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text() and lo <= t.get_position()[0] <= hi]
    assert labels and all(label[0].isdigit() for label in labels), labels
