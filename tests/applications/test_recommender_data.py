"""Recommender data: Online Retail cleaning rules, aggregation, validation errors, loaders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from applications.recommender import data as D


def _retail_lines() -> pd.DataFrame:
    rows = [
        # Invoice, StockCode, Description, Quantity, InvoiceDate, Price, Customer ID
        ("500001", "85123A", "WHITE HANGING HEART", 6, "12/01/2010 08:26", 2.55, 17850.0),   # kept
        ("500001", "71053", "WHITE METAL LANTERN", 6, "12/01/2010 08:26", 3.39, 17850.0),    # kept
        ("500002", "85123a", "WHITE HANGING HEART", 2, "12/05/2010 10:00", 2.55, 17850.0),   # kept, same product
        ("500003", "22633", "HAND WARMER", 4, "12/02/2010 09:00", 1.85, np.nan),             # missing customer
        ("C500004", "71053", "WHITE METAL LANTERN", -1, "12/03/2010 09:00", 3.39, 17850.0),  # cancellation
        ("500005", "22633", "HAND WARMER", 0, "12/03/2010 09:00", 1.85, 13047.0),            # quantity 0
        ("500006", "22633", "HAND WARMER", -3, "12/03/2010 09:00", 1.85, 13047.0),           # negative quantity
        ("500007", "22633", "HAND WARMER", 3, "12/03/2010 09:00", 0.0, 13047.0),             # price 0
        ("500008", "POST", "POSTAGE", 1, "12/03/2010 09:00", 18.0, 13047.0),                 # postage
        ("500008", "M", "Manual", 1, "12/03/2010 09:00", 5.0, 13047.0),                      # manual
        ("500008", "BANK CHARGES", "Bank Charges", 1, "12/03/2010 09:00", 15.0, 13047.0),    # bank charges
        ("500008", "gift_0001_20", "Gift Voucher", 1, "12/03/2010 09:00", 20.0, 13047.0),    # voucher
        ("500008", "22633", "HAND WARMER", 3, "12/03/2010 09:00", 1.85, 13047.0),            # kept
    ]
    return pd.DataFrame(rows, columns=list(D.RETAIL_COLUMNS))


def test_clean_retail_counts_each_rule_in_order():
    clean, report = D.clean_retail(_retail_lines())
    assert report == {"raw": 13, "missing_customer_id": 1, "cancellation_invoice": 1, "non_positive_quantity": 2,
                      "non_positive_price": 1, "non_product_stock_code": 4, "kept": 4}
    assert len(clean) == 4
    assert not clean["Invoice"].str.startswith("C").any()
    assert (clean["Quantity"] > 0).all() and (clean["Price"] > 0).all()
    assert set(clean["StockCode"]) == {"85123A", "71053", "22633"}  # lower-case code folded into its product
    assert pd.api.types.is_datetime64_any_dtype(clean["InvoiceDate"])


def test_retail_interactions_fold_repeat_purchases_into_first_time():
    clean, _ = D.clean_retail(_retail_lines())
    frame, items = D.retail_interactions(clean)
    assert len(frame) == 3  # (17850, 85123A), (17850, 71053), (13047, 22633)
    heart = frame[(frame["user"] == 17850) & (frame["item"] == "85123A")].iloc[0]
    assert heart["value"] == 2  # two distinct invoices
    assert heart["timestamp"] == pd.Timestamp("2010-12-01 08:26")  # the first purchase
    assert items.loc["85123A", "label"] == "WHITE HANGING HEART"


def test_clean_retail_names_missing_columns():
    with pytest.raises(ValueError, match="missing column.*Customer ID"):
        D.clean_retail(_retail_lines().drop(columns=["Customer ID"]))


def _ratings() -> pd.DataFrame:
    return pd.DataFrame({"user": [1, 1, 2, 2], "item": [10, 11, 10, 12], "value": [4.0, 3.5, 5.0, 1.0],
                         "timestamp": [100, 200, 150, 300]})


def test_validate_rejects_missing_ids_and_out_of_range_ratings_and_bad_times():
    bad = _ratings().astype({"user": object})
    bad.loc[1, "user"] = None
    with pytest.raises(ValueError, match="no user id"):
        D.validate_interactions(bad, explicit=True, rating_range=(0.5, 5.0))
    with pytest.raises(ValueError, match=r"outside the declared range \[0.5, 5.0\]"):
        D.validate_interactions(_ratings().assign(value=[4.0, 6.0, 1.0, 2.0]), explicit=True, rating_range=(0.5, 5.0))
    with pytest.raises(ValueError, match="do not parse"):
        D.validate_interactions(_ratings().assign(timestamp=["2010-01-01", "soon", "2010-01-02", "2010-01-03"]),
                                explicit=True, rating_range=(0.5, 5.0))
    with pytest.raises(ValueError, match="non-positive quantity"):
        D.validate_interactions(_ratings().assign(value=[1, 0, 2, 3]), explicit=False)


def test_duplicates_are_resolved_explicitly():
    frame = pd.concat([_ratings(), pd.DataFrame({"user": [1], "item": [10], "value": [2.0], "timestamp": [500]})],
                      ignore_index=True)
    explicit = D.validate_interactions(frame, explicit=True, rating_range=(0.5, 5.0))
    assert len(explicit) == 4
    assert explicit.loc[(explicit.user == 1) & (explicit.item == 10), "value"].item() == 2.0  # the latest rating
    implicit = D.validate_interactions(frame.assign(value=1.0), explicit=False)
    pair = implicit[(implicit.user == 1) & (implicit.item == 10)].iloc[0]
    assert pair["value"] == 2.0 and pair["timestamp"] == pd.Timestamp(100, unit="s")  # summed, first time


def test_load_csv_with_custom_columns(tmp_path):
    path = tmp_path / "ratings.csv"
    _ratings().rename(columns={"user": "customer", "item": "sku", "value": "stars", "timestamp": "when"}).to_csv(
        path, index=False)
    ds = D.load_csv(path, user_col="customer", item_col="sku", value_col="stars", time_col="when")
    assert ds.explicit and len(ds.frame) == 4 and set(ds.frame.columns) == {"user", "item", "value", "timestamp"}
    with pytest.raises(ValueError, match=r"missing column\(s\) \['rating'\]"):
        D.load_csv(path, user_col="customer", item_col="sku", time_col="when")
    with pytest.raises(FileNotFoundError, match="not found"):
        D.load_csv(tmp_path / "nope.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        D.load_csv(empty)


def test_movielens_loader_matches_protocol_counts():
    ds = D.load_movielens()
    assert ds.describe()["rows"] == 100_004 and ds.n_users == 671 and ds.n_items == 9_066
    assert ds.frame["value"].between(0.5, 5.0).all()
    assert ds.items.loc[1, "label"] == "Toy Story" and ds.items.loc[1, "group"] == "Adventure"
    assert D.main_genre("(no genres listed)") == "Unknown"


@pytest.mark.slow
def test_bundled_online_retail_cleaning_counts():
    ds = D.load_retail()
    c = ds.cleaning
    assert c["raw"] == 1_067_371
    assert c["raw"] - sum(v for k, v in c.items() if k not in ("raw", "kept", "interactions", "customers",
                                                                 "products")) == c["kept"]
    assert ds.frame.duplicated(["user", "item"]).sum() == 0
