"""The verdict rule (shared.verdict) and the headlines built on it (shared.report.tables)."""

from __future__ import annotations

import pytest

from shared.protocols import primary_metrics
from shared.report.tables import headline, headlines, same_protocol
from shared.verdict import Estimate, compare


def test_a_difference_inside_the_spread_is_a_tie():
    # survival-like: deep 0.7720 ± 0.0043 over folds vs RSF 0.7739 ± 0.0065: |diff| 0.0019 < sqrt(.0043²+.0065²)
    v = compare(Estimate(0.7720, 0.0043, 5), Estimate(0.7739, 0.0065, 5), higher_is_better=True)
    assert v.outcome == "tie"
    assert v.spread == pytest.approx((0.0043 ** 2 + 0.0065 ** 2) ** 0.5)
    assert v.text().startswith("tie within noise (difference 0.0019")


def test_ahead_and_behind_beyond_the_spread_respect_the_direction():
    ahead = compare(Estimate(0.80, 0.01, 3), Estimate(0.70), higher_is_better=True)
    behind = compare(Estimate(0.80, 0.01, 3), Estimate(0.70), higher_is_better=False)  # e.g. an error
    assert (ahead.outcome, behind.outcome) == ("ahead", "behind")
    assert ahead.spread == 0.01 and ahead.text() == "deep ahead by 0.1000 (spread 0.0100)"


def test_one_seed_and_no_paired_test_is_no_verdict():
    # a std of one value (0.0) is no spread; neither is a deterministic baseline
    v = compare(Estimate(0.90, 0.0, 1), Estimate(0.95), higher_is_better=True)
    assert v.outcome == "no verdict" and v.text().startswith("1 seed, no spread: not a verdict")


def test_a_paired_test_decides_when_given():
    tie = compare(Estimate(13.08, 0.03, 3), Estimate(13.11), higher_is_better=False, p_value=0.16,
                  test="Diebold–Mariano")
    win = compare(Estimate(13.08), Estimate(13.11), higher_is_better=False, p_value=0.01, test="Diebold–Mariano")
    assert tie.outcome == "tie" and "Diebold–Mariano p = 0.16" in tie.text()
    assert win.outcome == "ahead"


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="non-finite"):
        compare(Estimate(float("nan")), Estimate(1.0), higher_is_better=True)
    with pytest.raises(ValueError, match="p_value"):
        compare(Estimate(1.0), Estimate(1.0), higher_is_better=True, p_value=1.5)


def _result(app, protocol, models, **extra):
    return {"app": app, "protocol": protocol, "dataset": {"name": "d"}, "models": models, **extra}


def test_each_protocol_declares_its_primary_metric():
    assert primary_metrics({"app": "recommender", "protocol": "A"}) == ("rmse",)
    assert primary_metrics({"app": "recommender", "protocol": "B"}) == ("hr@10",)
    assert primary_metrics({"app": "route_demand", "protocol": "Logistics: 12 weekly origins"}) == ("wape",)
    assert primary_metrics({"app": "survival", "protocol": "5-fold"}) == ("harrell_c", "ibs")
    assert primary_metrics({"app": "stock_forecast", "protocol": "finance: 70/15/15"}) == \
        ("mae_ratio_to_persistence",)
    assert primary_metrics({"app": "new_app", "protocol": "x", "primary_metrics": ["f1"]}) == ("f1",)
    assert primary_metrics({"app": "unknown", "protocol": "x"}) == ()


def test_route_demand_headline_uses_wape_not_the_first_metric():
    result = _result("route_demand", "Logistics", [
        {"name": "rnn", "kind": "deep", "metrics": {"mase": 2.02, "wape": 0.0642}, "seeds": [1, 2, 3],
         "std": {"mase": 0.01, "wape": 0.0004}},
        {"name": "seasonal_naive", "kind": "baseline", "metrics": {"mase": 2.39, "wape": 0.0750}}])
    (h,) = headlines(result)
    assert h.metric == "wape" and h.deep_wins is True and h.css == "deep"
    assert h.verdict == "deep ahead by 0.0108 (spread 0.0004)"


def test_survival_has_two_headlines_and_a_tie_is_not_a_win():
    result = _result("survival", "5-fold", [
        {"name": "deepsurv", "kind": "deep", "metrics": {"harrell_c": 0.7720, "ibs": 0.1512}, "seeds": [1, 2, 3],
         "std": {"harrell_c": 0.0043, "ibs": 0.0030}},
        {"name": "rsf", "kind": "baseline", "metrics": {"harrell_c": 0.7739, "ibs": 0.1420},
         "std": {"harrell_c": 0.0065, "ibs": 0.0020}},
        {"name": "cox", "kind": "baseline", "metrics": {"harrell_c": 0.7707, "ibs": 0.1496},
         "std": {"harrell_c": 0.0073, "ibs": 0.0025}}])
    c, ibs = headlines(result)
    assert (c.metric, c.baseline[0], c.verdict.split(" (")[0], c.deep_wins, c.css) == \
        ("harrell_c", "rsf", "tie within noise", None, "tie")
    assert (ibs.metric, ibs.baseline, ibs.deep_wins) == ("ibs", ("rsf", 0.1420), False)
    assert ibs.verdict.startswith("deep behind by 0.0092")


def test_a_quick_slice_that_skipped_the_strongest_baseline_gives_no_win():
    quick = _result("recommender", "B", [
        {"name": "two_tower", "kind": "deep", "metrics": {"hr@10": 0.0715}, "seeds": [42], "std": {"hr@10": 0.0}},
        {"name": "item_knn_200", "kind": "baseline", "metrics": {"hr@10": 0.0671}}])
    full = _result("recommender", "B", [
        {"name": "two_tower", "kind": "deep", "metrics": {"hr@10": 0.0686}, "seeds": [1, 2, 3],
         "std": {"hr@10": 0.0053}},
        {"name": "item_knn_200", "kind": "baseline", "metrics": {"hr@10": 0.0671}},
        {"name": "ease", "kind": "baseline", "metrics": {"hr@10": 0.0745}}])
    assert same_protocol(quick, [full]) is full
    h = headline(quick, same_protocol(quick, [full]))
    assert h.missing_baseline == ("ease", 0.0745)
    assert "ease (0.0745 in the committed full results), was not run here" in h.verdict
    assert h.css == ""
    # without the full results, one seed against a deterministic baseline is no verdict either
    assert headline(quick).verdict.startswith("1 seed, no spread: not a verdict")


def test_a_paired_test_in_the_results_is_used():
    result = _result("stock_forecast", "finance", [
        {"name": "gru", "kind": "deep", "metrics": {"mae_ratio_to_persistence": 0.9975}, "seeds": [1, 2, 3],
         "std": {"mae_ratio_to_persistence": 0.0008}},
        {"name": "persistence", "kind": "baseline", "metrics": {"mae_ratio_to_persistence": 1.0}}],
        extra={"paired_tests": [{"deep": "gru", "baseline": "persistence", "metric": "mae_ratio_to_persistence",
                                 "p_value": 0.31, "test": "Diebold–Mariano"}]})
    h = headline(result)
    # the spread alone (0.0008) would call 0.0025 a win; the paired test says it is noise
    assert h.outcome.outcome == "tie" and "Diebold–Mariano p = 0.31" in h.verdict


def test_an_ensemble_without_a_spread_is_not_called_one_seed():
    v = compare(Estimate(0.0639, None, 3), Estimate(0.0747), higher_is_better=False)
    assert v.outcome == "no verdict"
    assert v.text().startswith("no spread given over its 3 seeds: not a verdict")


@pytest.mark.parametrize("metric", ["qlike_parkinson", "qlike_r2", "interval_score", "d_calibration_error"])
def test_losses_of_the_new_protocols_are_lower_is_better(metric):
    from shared.report.tables import higher_is_better

    assert higher_is_better(metric) is False
