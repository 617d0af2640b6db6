"""route_demand loaders: daily aggregation with zero-filled days, route ranking, seats, CSV validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from applications.route_demand.data import (daily_route_counts, flight_seats, load_csv, load_flights,
                                            panel_from_long, rank_routes)


def _flights(rows):
    return pd.DataFrame(rows, columns=["year", "month", "day", "origin", "dest", "carrier", "tailnum"])


@pytest.fixture
def tiny_flights():
    # JFK-LAX: 2 flights on Jan 1, none on Jan 2, 1 on Jan 4; EWR-ORD: 1 on Jan 2 (a cancelled one counts too).
    return _flights([
        (2013, 1, 1, "JFK", "LAX", "AA", "N1"), (2013, 1, 1, "JFK", "LAX", "AA", "N2"),
        (2013, 1, 4, "JFK", "LAX", "AA", None), (2013, 1, 2, "EWR", "ORD", "UA", "N3"),
    ])


def test_daily_counts_fill_every_day_with_zero(tiny_flights):
    table = daily_route_counts(tiny_flights, start="2013-01-01", end="2013-01-05")
    assert list(table.index) == ["EWR-ORD", "JFK-LAX"]
    assert list(table.columns) == list(pd.date_range("2013-01-01", "2013-01-05"))
    np.testing.assert_array_equal(table.loc["JFK-LAX"].to_numpy(), [2, 0, 0, 1, 0])
    np.testing.assert_array_equal(table.loc["EWR-ORD"].to_numpy(), [0, 1, 0, 0, 0])
    assert table.to_numpy().sum() == len(tiny_flights)


def test_daily_counts_sum_weights(tiny_flights):
    table = daily_route_counts(tiny_flights, start="2013-01-01", end="2013-01-02", weights=[100, 50, 7, 80])
    np.testing.assert_array_equal(table.loc["JFK-LAX"].to_numpy(), [150, 0])  # the Jan 4 flight is outside


def test_daily_counts_need_the_flight_columns(tiny_flights):
    with pytest.raises(ValueError, match=r"missing column\(s\) \['dest'\]"):
        daily_route_counts(tiny_flights.drop(columns="dest"))


def test_rank_routes_by_flights_then_name():
    totals = pd.Series({"B-X": 5.0, "A-X": 5.0, "C-X": 9.0, "D-X": 1.0})
    assert rank_routes(totals, 3) == ["C-X", "A-X", "B-X"]
    assert rank_routes(totals, 0) == ["C-X", "A-X", "B-X", "D-X"]
    with pytest.raises(ValueError, match="only 4"):
        rank_routes(totals, 5)


def test_seats_from_planes_with_imputation(tiny_flights):
    planes = pd.DataFrame({"tailnum": ["N1", "N2", "N3"], "seats": [100, 200, 50]})
    seats, notes = flight_seats(tiny_flights, planes)
    # the unknown AA flight gets the AA median of its known flights (coverage 2/3 >= 1/2)
    np.testing.assert_array_equal(seats, [100, 200, 150, 50])
    assert notes == {"flights_with_known_seats": 3, "flights_with_imputed_seats": 1}


def test_load_flights_protocol_panel():
    panel = load_flights(top_routes=50)
    assert panel.values.shape == (50, 365)
    assert panel.dates[0] == pd.Timestamp("2013-01-01") and panel.dates[-1] == pd.Timestamp("2013-12-31")
    assert panel.notes["flights"] == 336_776 and panel.notes["routes_available"] == 224
    totals = panel.values.sum(axis=1)
    assert np.all(np.diff(totals) <= 0)  # busiest first
    assert (panel.values >= 0).all() and (panel.values == 0).any()  # zero-filled days are present
    info = panel.fingerprint()
    assert info["rows"] == 50 * 365 and info["date_range"] == ["2013-01-01", "2013-12-31"]


def test_load_flights_seats_measure_keeps_the_flight_ranking():
    flights_panel = load_flights(top_routes=3)
    seats_panel = load_flights(top_routes=3, measure="seats")
    assert seats_panel.series == flights_panel.series
    assert (seats_panel.values >= flights_panel.values).all()  # every flight has at least one seat
    assert seats_panel.notes["flights_with_imputed_seats"] > 0


# --------------------------------------------------------------------------- CSV


def _write(tmp_path, frame, name="demand.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _long(days=20, series=("a", "b")):
    dates = pd.date_range("2024-01-01", periods=days)
    return pd.DataFrame([{"day": d.date().isoformat(), "route": s, "flights": float(i % 7 + 1), "price": 1.0 * i}
                         for s in series for i, d in enumerate(dates)])


def test_csv_loads_with_configured_columns_and_reports_filled_gaps(tmp_path):
    frame = _long()
    frame = frame.drop(index=[3, 4])  # series "a" misses two days
    panel = load_csv(_write(tmp_path, frame), date_column="day", series_column="route", demand_column="flights",
                     covariates=["price"])
    assert panel.series == ("a", "b") and panel.n_days == 20
    assert panel.filled == {"a": 2, "b": 0}
    assert panel.values[0, 3] == 0 and panel.values[0, 4] == 0
    assert panel.covariates["price"][0, 3] == 2.0  # covariate carried forward from the day before
    assert panel.fingerprint()["filled_days"] == 2


def test_csv_gap_is_an_error_without_filling(tmp_path):
    frame = _long().drop(index=[5])
    with pytest.raises(ValueError, match=r"1 \(series, day\) value\(s\) are missing.*--no-fill-gaps"):
        load_csv(_write(tmp_path, frame), date_column="day", series_column="route", demand_column="flights",
                 fill_gaps=False)


@pytest.mark.parametrize(("change", "match"), [
    (lambda f: f.drop(columns="flights"), r"missing column\(s\) \['flights'\].*--demand-column"),
    (lambda f: f.assign(day=f["day"].where(f.index != 2, "not a date")), r"not dates.*'not a date'"),
    (lambda f: pd.concat([f, f.iloc[[0]]]), r"repeat a \(series, date\) pair.*'a', 2024-01-01"),
    (lambda f: f.assign(flights=f["flights"].where(f.index != 1, -3.0)), r"1 negative value\(s\).*non-negative"),
    (lambda f: f.assign(flights=f["flights"].astype(object).where(f.index != 1, "many")), r"non-numeric.*'many'"),
    (lambda f: f.assign(route=f["route"].where(f.index != 0, None)), r"empty series id"),
    (lambda f: f.assign(day=f["day"] + " 13:30"), r"times of day"),
])
def test_bad_csv_gives_a_clear_error(tmp_path, change, match):
    frame = change(_long())
    with pytest.raises(ValueError, match=match):
        load_csv(_write(tmp_path, frame), date_column="day", series_column="route", demand_column="flights")


def test_empty_or_missing_csv(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        load_csv(empty)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_csv(tmp_path / "nope.csv")


def test_weekly_data_is_not_taken_for_daily():
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=10, freq="7D"), "series": "a", "demand": 1.0})
    with pytest.raises(ValueError, match="do not look daily"):
        panel_from_long(frame)
