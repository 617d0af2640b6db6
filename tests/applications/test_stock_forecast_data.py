"""stock_forecast loaders: bundled sample, CSV, yfinance (mocked, never the network) and validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from applications.stock_forecast import data as sfdata
from applications.stock_forecast.data import (DataUnavailableError, default_cache_dir, load_csv, load_prices,
                                              load_sample, load_yfinance, require_length, validate_prices)


def _ohlcv(n: int = 60, start: str = "2020-01-01") -> pd.DataFrame:
    dates = pd.bdate_range(start, periods=n)
    close = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, n)))
    return pd.DataFrame({"Date": dates.strftime("%Y-%m-%d"), "Open": close, "High": close * 1.01,
                         "Low": close * 0.99, "Close": close, "Volume": np.arange(n) + 1000})


def _yf_frame(ticker: str, n: int = 40) -> pd.DataFrame:
    """The shape yfinance 1.x returns: (Price, Ticker) MultiIndex columns, Date index."""
    base = _ohlcv(n).set_index("Date")
    base.index = pd.DatetimeIndex(pd.to_datetime(base.index), name="Date")
    base.columns = pd.MultiIndex.from_product([base.columns, [ticker]], names=["Price", "Ticker"])
    return base


def _yf_empty(ticker: str) -> pd.DataFrame:
    cols = pd.MultiIndex.from_product([["Adj Close", "Close", "High", "Low", "Open", "Volume"], [ticker]],
                                      names=["Price", "Ticker"])
    return pd.DataFrame(columns=cols)


# ---------------------------------------------------------------------------- sample


def test_sample_is_the_protocol_series():
    frame = load_sample()
    raw = __import__("arch.data.sp500", fromlist=["load"]).load()
    assert len(frame) == 5031
    assert str(frame["date"].iloc[0].date()) == "1999-01-04" and str(frame["date"].iloc[-1].date()) == "2018-12-31"
    np.testing.assert_array_equal(frame["close"].to_numpy(), raw["Adj Close"].to_numpy())
    assert list(frame.columns) == ["date", "close", "open", "high", "low", "volume"]
    assert frame["date"].is_monotonic_increasing and frame["date"].is_unique


def test_sample_slice_by_dates_and_bad_range():
    frame = load_sample(start="2018-01-01", end="2018-06-30")
    assert frame["date"].min() >= pd.Timestamp("2018-01-01") and frame["date"].max() <= pd.Timestamp("2018-06-30")
    assert 100 < len(frame) < 130
    with pytest.raises(ValueError, match="no rows between"):
        load_sample(start="2030-01-01")
    with pytest.raises(ValueError, match="not before --end"):
        load_sample(start="2018-01-01", end="2017-01-01")
    with pytest.raises(ValueError, match="is not a date"):
        load_sample(start="yesterday-ish")


# ---------------------------------------------------------------------------- CSV


def test_csv_with_custom_column_names_and_optional_ohlcv(tmp_path):
    frame = _ohlcv(50).rename(columns={"Date": "Day", "Close": "Price", "Volume": "volume"})
    path = tmp_path / "p.csv"
    frame.to_csv(path, index=False)
    out = load_csv(path, date_column="Day", close_column="Price")
    assert list(out.columns) == ["date", "close", "open", "high", "low", "volume"]
    np.testing.assert_allclose(out["close"], frame["Price"])
    assert out["date"].dtype.kind == "M"
    # close only works too
    frame[["Day", "Price"]].to_csv(path, index=False)
    assert list(load_csv(path, date_column="Day", close_column="Price").columns) == ["date", "close"]


@pytest.mark.parametrize("mutate, match", [
    (lambda f: f.drop(columns="Close"), r"missing column\(s\) \['Close'\].*--close-column"),
    (lambda f: f.iloc[::-1], "not in increasing order.*sort the file"),
    (lambda f: pd.concat([f.iloc[:3], f.iloc[2:]]), "duplicated date"),
    (lambda f: f.assign(Close=f["Close"].where(f.index != 5, -1.0)), "'close' has 1 zero or negative"),
    (lambda f: f.assign(Close=f["Close"].where(f.index != 7, np.nan)), "'close' has 1 missing or non-numeric"),
    (lambda f: f.assign(Date=f["Date"].where(f.index != 4, "not a day")), "not dates"),
    (lambda f: f.assign(Volume=f["Volume"].where(f.index != 4, -5)), "'volume' has 1 negative"),
])
def test_csv_validation_errors(tmp_path, mutate, match):
    path = tmp_path / "bad.csv"
    mutate(_ohlcv(30)).to_csv(path, index=False)
    with pytest.raises(ValueError, match=match):
        load_csv(path)


def test_csv_missing_and_empty_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="--path"):
        load_csv(tmp_path / "nope.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        load_csv(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text("Date,Close\n")
    with pytest.raises(ValueError, match="no rows"):
        load_csv(header_only)


def test_validate_prices_and_length_check():
    frame = validate_prices(pd.DataFrame({"date": ["2020-01-02", "2020-01-03"], "close": [1.0, 2.0]}))
    assert frame["close"].tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="need at least"):
        require_length(load_sample(start="2018-10-01"), window=30, horizon=1, fractions=(0.7, 0.15, 0.15))


# ---------------------------------------------------------------------------- yfinance (mocked)


@pytest.fixture
def yf(monkeypatch):
    yfinance = pytest.importorskip("yfinance")
    calls = []

    def install(func):
        def fake(*args, **kwargs):
            calls.append((args, kwargs))
            return func(*args, **kwargs)
        monkeypatch.setattr(yfinance, "download", fake)
    install.calls = calls
    return install


def test_cache_dir_defaults_to_env(monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPCASES_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path / "yfinance"
    monkeypatch.delenv("DEEPCASES_CACHE")
    assert default_cache_dir().parts[-3:] == (".cache", "deepcases", "yfinance")


def test_yfinance_empty_frame_names_ticker_and_suggests_alternatives(yf, tmp_path):
    yf(lambda ticker, **kw: _yf_empty(ticker))
    with pytest.raises(DataUnavailableError, match=r"ticker ZZZZ.*no cached copy of ZZZZ.*--source sample.*--source csv"):
        load_yfinance("zzzz", start="2020-01-01", end="2020-03-01", cache_dir=tmp_path)
    assert len(yf.calls) == 1


def test_yfinance_error_is_reported_like_an_empty_frame(yf, tmp_path):
    def boom(ticker, **kw):
        raise ConnectionError("could not resolve host")
    yf(boom)
    with pytest.raises(DataUnavailableError, match="AAPL.*ConnectionError.*--source sample"):
        load_yfinance("AAPL", start="2020-01-01", end="2020-03-01", cache_dir=tmp_path)


def test_yfinance_valid_frame_is_cached_and_reused_without_network(yf, tmp_path):
    yf(lambda ticker, **kw: _yf_frame(ticker))
    first = load_yfinance("AAPL", start="2020-01-01", end="2020-03-01", cache_dir=tmp_path)
    assert len(yf.calls) == 1 and yf.calls[0][1]["start"] == "2020-01-01"
    assert list(first.columns) == ["date", "close", "open", "high", "low", "volume"]
    assert len(list(tmp_path.glob("AAPL_*.csv"))) == 1

    def offline(ticker, **kw):
        raise AssertionError("the network must not be used on a cache hit")
    yf(offline)
    second = load_yfinance("AAPL", start="2020-01-01", end="2020-03-01", cache_dir=tmp_path)
    pd.testing.assert_frame_equal(first, second)
    # another date range is not cached: the error says a cached copy exists and how to use it
    yf(lambda ticker, **kw: _yf_empty(ticker))
    with pytest.raises(DataUnavailableError, match="cached copies of AAPL exist.*--source csv --path"):
        load_yfinance("AAPL", start="2019-01-01", end="2020-03-01", cache_dir=tmp_path)


def test_load_prices_routes_sources_and_checks_arguments(yf, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCASES_CACHE", str(tmp_path))
    yf(lambda ticker, **kw: _yf_frame(ticker, n=30))
    frame, name = load_prices(source="yfinance", ticker="msft")
    assert name == "yfinance:MSFT" and len(frame) == 30
    assert yf.calls[0][1].get("period") == "max"  # no dates: the whole history
    assert list((tmp_path / "yfinance").glob("MSFT_max_open*.csv"))
    with pytest.raises(ValueError, match="needs --ticker"):
        load_prices(source="yfinance")
    with pytest.raises(ValueError, match="needs --path"):
        load_prices(source="csv")
    with pytest.raises(ValueError, match="not a valid symbol"):
        load_prices(source="yfinance", ticker="AA PL; rm")
    with pytest.raises(ValueError, match="source must be one of"):
        load_prices(source="web")
    assert sfdata.SAMPLE_ROWS == 5031
