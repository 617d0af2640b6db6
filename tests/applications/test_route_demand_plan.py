"""route_demand capacity plan: quantile interpolation, rounding up, shortfall/excess, totals (all by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from applications.route_demand.plan import capacity_plan, plan_summary, quantile_at, units_to_schedule

QS = (0.1, 0.5, 0.9)


def test_quantile_at_matches_or_interpolates():
    values = np.array([8.0, 10.0, 14.0])
    assert quantile_at(QS, values, 0.9) == 14.0
    assert quantile_at(QS, values, 0.1) == 8.0
    assert quantile_at(QS, values, 0.7) == pytest.approx(12.0)   # half-way from 10 to 14
    assert quantile_at(QS, values, 0.75) == pytest.approx(12.5)  # 10 + (0.25 / 0.4) * 4
    assert quantile_at(QS, values, 0.3) == pytest.approx(9.0)
    with pytest.raises(ValueError, match=r"within the forecast quantiles \[0.1, 0.9\].*--quantiles"):
        quantile_at(QS, values, 0.95)


def test_units_round_to_whole_numbers_and_never_go_negative():
    q = [12.0, 12.5, 12.49, 12.0000000001, 11.97, -0.3]
    np.testing.assert_array_equal(units_to_schedule(q), [12, 13, 12, 12, 12, 0])
    np.testing.assert_array_equal(units_to_schedule(q, rounding="up"), [12, 13, 13, 12, 12, 0])
    with pytest.raises(ValueError, match="rounding must be one of"):
        units_to_schedule(q, rounding="down")


def test_capacity_plan_arithmetic_by_hand():
    dates = pd.date_range("2013-01-01", periods=10)
    # 1 origin (day 8), 2 routes, horizon 2, quantiles 10/50/90
    forecasts = np.array([[[[8, 10, 14], [4, 5, 6.2]],
                           [[1, 2, 3], [0, 0.4, 0.8]]]])
    actual = np.array([[[15, 5], [2, 0]]], dtype=float)
    kwargs = dict(actual=actual, series=["A", "B"], dates=dates, origins=[8])
    plan = capacity_plan(forecasts, QS, service_level=0.9, **kwargs)
    assert plan["planned_departures"].tolist() == [14, 6, 3, 1]          # 14, 6.2 -> 6, 3, 0.8 -> 1
    assert plan["shortfall"].tolist() == [1, 0, 0, 0]                    # 15 flew where 14 were planned
    assert plan["excess"].tolist() == [0, 1, 1, 1]
    assert plan["met"].tolist() == [False, True, True, True]
    assert plan["date"].tolist() == [dates[8], dates[9], dates[8], dates[9]]
    summary = plan_summary(plan)
    total = summary.iloc[-1]
    assert total["origin_date"] == "total"
    assert total["planned_departures"] == 24 and total["actual_departures"] == 22
    assert total["planned_minus_actual"] == 2 and total["service_achieved"] == 0.75
    assert total["shortfall"] == 1 and total["excess"] == 3
    up = capacity_plan(forecasts, QS, service_level=0.9, rounding="up", **kwargs)
    assert up["planned_departures"].tolist() == [14, 7, 3, 1]
    # at 0.7: half-way between the median and the 90 % quantile: 12, 5.6, 2.5, 0.6 -> 12, 6, 3, 1
    assert capacity_plan(forecasts, QS, service_level=0.7, **kwargs)["planned_departures"].tolist() == [12, 6, 3, 1]


def test_plan_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same"):
        capacity_plan(np.zeros((1, 2, 3, 3)), QS, service_level=0.9, actual=np.zeros((1, 2, 4)), series=["a", "b"],
                      dates=pd.date_range("2013-01-01", periods=10), origins=[2])
