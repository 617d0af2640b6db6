"""Paired loss tests: the verdict of a model with no seed spread (an ensemble) against a baseline."""

import numpy as np
import pytest
from scipy import stats

from shared.evaluation.paired import paired_error_records, paired_loss_records, paired_loss_test


def test_without_clusters_it_is_the_paired_t_test():
    rng = np.random.default_rng(0)
    a, b = rng.random(200), rng.random(200) + 0.05
    found = paired_loss_test(a, b)
    assert found["p_value"] == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert found["n"] == 200 and found["mean_difference"] == pytest.approx(float(np.mean(a - b)))


def test_clusters_make_the_observations_per_cluster_sums():
    # one cluster whose 50 cases all favour the deep model is one observation, not 50
    d_losses = np.r_[np.zeros(50), np.ones(4)]
    b_losses = np.r_[np.ones(50), np.ones(4) - np.array([0.1, -0.2, 0.1, -0.1])]
    clusters = np.r_[np.zeros(50, int), np.arange(1, 5)]
    independent = paired_loss_test(d_losses, b_losses)
    clustered = paired_loss_test(d_losses, b_losses, clusters=clusters)
    assert clustered["n"] == 5 and independent["n"] == 54
    sums = np.array([-50.0, 0.1, -0.2, 0.1, -0.1])
    assert clustered["p_value"] == pytest.approx(stats.ttest_1samp(sums, 0.0).pvalue)
    assert clustered["p_value"] > independent["p_value"]  # correlated cases are weaker evidence


def test_a_constant_difference_is_certain_and_equal_losses_are_a_tie():
    assert paired_loss_test([1.0, 1.0, 1.0], [2.0, 2.0, 2.0])["p_value"] == 0.0
    assert paired_loss_test([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])["p_value"] == 1.0


@pytest.mark.parametrize("kwargs, message", [
    ({"loss_deep": [1.0, 2.0], "loss_baseline": [1.0]}, "one length"),
    ({"loss_deep": [1.0, np.nan], "loss_baseline": [1.0, 2.0]}, "finite"),
    ({"loss_deep": [1.0], "loss_baseline": [2.0]}, "at least 2"),
    ({"loss_deep": [1.0, 2.0], "loss_baseline": [2.0, 1.0], "clusters": [1]}, "one label per case"),
])
def test_bad_input_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        paired_loss_test(**kwargs)


def test_records_cover_every_pair_and_metric_with_the_right_loss():
    rng = np.random.default_rng(1)
    y = rng.normal(size=300)
    good, bad = y + rng.normal(scale=0.1, size=300), y + rng.normal(scale=1.0, size=300)
    users = np.repeat(np.arange(60), 5)
    records = paired_error_records(y, {"ens": good}, {"mean": np.zeros(300), "noisy": bad},
                                   clusters=users, cluster_name="user")
    assert [(r["baseline"], r["metric"]) for r in records] == [("mean", "rmse"), ("noisy", "rmse"),
                                                             ("mean", "mae"), ("noisy", "mae")]
    squared = next(r for r in records if r["baseline"] == "noisy" and r["metric"] == "rmse")
    assert squared["mean_loss_difference"] == pytest.approx(float(np.mean((y - good) ** 2 - (y - bad) ** 2)))
    assert squared["p_value"] < 1e-6 and squared["n"] == 60
    assert squared["test"] == "per-user paired t-test on squared errors" and "not of training" in squared["covers"]
    with pytest.raises(ValueError, match="no per-case loss"):
        paired_error_records(y, {"ens": good}, {"mean": np.zeros(300)}, metrics=("ndcg@10",))


def test_loss_records_leave_out_cases_undefined_for_either_side():
    deep = {"ens": np.array([0.1, np.nan, 0.2, 0.3, 0.1])}
    base = {"naive": np.array([0.2, 0.5, np.nan, 0.4, 0.3])}
    [record] = paired_loss_records(deep, base, metric="wape", loss="per-window WAPE",
                                   clusters=["a", "a", "b", "b", "c"], cluster_name="route")
    sums = np.array([0.1 - 0.2, 0.3 - 0.4, 0.1 - 0.3])  # route a: case 0 only, b: case 3, c: case 4
    assert record["n"] == 3 and record["p_value"] == pytest.approx(stats.ttest_1samp(sums, 0.0).pvalue)
    assert record["test"] == "per-route paired t-test on per-window WAPE" and record["metric"] == "wape"
    with pytest.raises(ValueError, match="different cases"):
        paired_loss_records(deep, {"short": np.ones(3)}, metric="wape", loss="x")
