"""Step `ingest`: yfinance through a fake Yahoo at the HTTP layer, the bundled sample, CSV files."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import requests

from maestro.steps import ingest, sources
from maestro.steps.context import StepError
from maestro.steps.sources import yahoo_bars

from .conftest import step_context
from .yahoo_fake import FakeYahoo, session

START, END = dt.date(2020, 1, 1), dt.date(2020, 2, 11)


def yahoo_history(n: int = 30, split_at: int = 10) -> pd.DataFrame:
    """Raw bars with an adjusted close that halves the prices before a 2:1 split at `split_at`."""
    close = np.linspace(100, 130, n)
    adjust = np.where(np.arange(n) < split_at, 0.5, 1.0)
    return pd.DataFrame({"Date": pd.bdate_range("2020-01-01", periods=n).strftime("%Y-%m-%d"),
                         "Open": close - 1, "High": close + 2, "Low": close - 2, "Close": close,
                         "Volume": np.arange(n) * 1000 + 5, "AdjClose": close * adjust})


def fetch(fake: FakeYahoo, tickers=("AAPL",), start=START, end=END):
    delays: list[float] = []
    bars = yahoo_bars(list(tickers), start, end, "1d", session=session(fake), sleep=delays.append)
    return bars, delays


def test_yfinance_bars_are_auto_adjusted_and_tidy():
    raw = yahoo_history()
    bars, delays = fetch(FakeYahoo(charts={"AAPL": raw}))
    assert list(bars.columns) == ["Date", "Ticker", "Open", "High", "Low", "Close", "Volume"]
    assert len(bars) == 30 and delays == []
    np.testing.assert_allclose(bars["Close"], raw["AdjClose"])                         # auto_adjust=True
    np.testing.assert_allclose(bars["Open"], raw["Open"] * raw["AdjClose"] / raw["Close"])
    assert bars["Date"].iloc[0] == pd.Timestamp("2020-01-01")


def test_yfinance_request_asks_for_the_window_end_inclusive():
    fake = FakeYahoo(charts={"AAPL": yahoo_history()})
    fetch(fake, end=dt.date(2020, 1, 10))
    chart = [q for url, q in fake.requests_seen if url.endswith("/chart/AAPL") and "period1" in q][0]
    assert chart["interval"] == "1d" and chart["includePrePost"] == "False"
    last = pd.Timestamp(int(chart["period2"]), unit="s").tz_localize("UTC").tz_convert("America/New_York")
    assert last.date() == dt.date(2020, 1, 11)        # yfinance's end is exclusive: the day after ours


def test_transient_failures_are_retried_with_exponential_backoff():
    fake = FakeYahoo(charts={"AAPL": yahoo_history()}, failures={"AAPL": [503, 503, 503, 429]})
    bars, delays = fetch(fake)
    assert len(bars) == 30
    assert delays == [2.0, 4.0]       # yfinance itself retries once with another cookie, then we back off


def test_persistent_failure_names_the_ticker_after_the_last_attempt():
    fake = FakeYahoo(charts={"AAPL": yahoo_history()}, failures={"AAPL": [503] * 20})
    with pytest.raises(StepError, match=r"could not download AAPL from Yahoo Finance after 4 attempts") as error:
        fetch(fake)
    assert "YAHOO! FINANCE IS CURRENTLY DOWN" in str(error.value)


def test_a_refused_connection_is_retried_like_an_outage(monkeypatch):
    answers = [requests.exceptions.ConnectionError("connection refused"), TimeoutError("timed out"), None]

    def flaky(ticker, start, end, interval, session):
        answer = answers.pop(0)
        if answer is not None:
            raise answer
        return sources.tidy(yahoo_history().drop(columns="AdjClose"), ticker)

    monkeypatch.setattr(sources, "_yahoo_one", flaky)
    delays: list[float] = []
    assert len(yahoo_bars(["AAPL"], START, END, "1d", sleep=delays.append)) == 30
    assert delays == [2.0, 4.0]


def test_a_bug_is_not_retried_as_a_download_failure(monkeypatch):
    """Only what yfinance raises for the network or Yahoo is retried: a bug surfaces at once, as
    itself, so `maestro --debug step ingest` shows its traceback."""
    calls = []

    def broken(*args, **kwargs):
        calls.append(args)
        raise KeyError("Close")

    monkeypatch.setattr(sources, "_yahoo_one", broken)
    delays: list[float] = []
    with pytest.raises(KeyError, match="Close"):
        yahoo_bars(["AAPL"], START, END, "1d", sleep=delays.append)
    assert (len(calls), delays) == (1, [])


@pytest.mark.parametrize("tickers, window, bad", [
    pytest.param(("AAPL", "MSFT"), (START, END), "MSFT", id="unknown-symbol"),
    pytest.param(("AAPL",), (dt.date(2021, 1, 1), dt.date(2021, 2, 1)), "AAPL", id="no-bars-in-window"),
])
def test_a_ticker_that_comes_back_empty_is_an_error_naming_it(tickers, window, bad):
    fake = FakeYahoo(charts={"AAPL": yahoo_history()})
    with pytest.raises(StepError, match=rf"ticker {bad} came back empty"):
        fetch(fake, tickers, *window)


def test_ingest_step_writes_sorted_csv_window_and_manifest(tmp_path):
    ctx = step_context(tmp_path, {"source": "yfinance", "tickers": ["MSFT", "AAPL"], "start": "2020-01-01", "end": "2020-02-11"})
    fake = FakeYahoo(charts={"AAPL": yahoo_history(), "MSFT": yahoo_history(20)})
    ingest.run(ctx, session=session(fake))
    out = tmp_path / "work" / "ingest"
    bars = pd.read_csv(out / "bars.csv")
    assert bars["Ticker"].tolist() == ["AAPL"] * 30 + ["MSFT"] * 20
    assert json.loads((out / "window.json").read_text())["rows"] == {"MSFT": 20, "AAPL": 30}
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest) == {"step", "run_id", "inputs", "outputs", "spec_hash"}
    assert sorted(manifest["outputs"]) == ["ingest/bars.csv", "ingest/window.json"]


def test_sample_is_adjusted_so_splits_do_not_look_like_crashes(tmp_path):
    ctx = step_context(tmp_path, {"source": "sample", "tickers": ["AAPL"], "start": "2005-02-01", "end": "2005-03-31"})
    ingest.run(ctx)
    bars = pd.read_csv(tmp_path / "work" / "ingest" / "bars.csv", parse_dates=["Date"])
    assert bars["Date"].min() >= pd.Timestamp("2005-02-01") and bars["Date"].max() <= pd.Timestamp("2005-03-31")
    assert bars["Close"].pct_change().abs().max() < 0.1          # the 2:1 split of 2005-02-28 is gone


def test_sample_weekly_bars_are_labelled_by_monday(tmp_path):
    ctx = step_context(tmp_path, {"source": "sample", "tickers": ["IBM"], "start": "2010-01-04", "end": "2010-03-31",
                                  "interval": "1wk"})
    ingest.run(ctx)
    bars = pd.read_csv(tmp_path / "work" / "ingest" / "bars.csv", parse_dates=["Date"])
    assert (bars["Date"].dt.day_of_week == 0).all() and len(bars) == 13
    assert (bars["High"] >= bars["Close"]).all()


def test_sample_unknown_ticker_lists_the_available_ones(tmp_path):
    ctx = step_context(tmp_path, {"source": "sample", "tickers": ["TSLA"], "start": "2005-01-01"})
    with pytest.raises(StepError, match=r"no ticker TSLA; available: AAPL, .*GOOG, IBM, MSFT"):
        ingest.run(ctx)


def test_csv_without_ticker_column_and_with_missing_columns(tmp_path):
    (tmp_path / "ok.csv").write_text("Date,Open,High,Low,Close,Volume\n2020-01-03,2,3,1,2,10\n2020-01-02,1,2,1,1.5,10\n")
    ctx = step_context(tmp_path, {"source": "csv", "tickers": ["XYZ"], "start": "2020-01-01", "path": "ok.csv"})
    ingest.run(ctx)
    bars = pd.read_csv(tmp_path / "work" / "ingest" / "bars.csv")
    assert bars["Date"].tolist() == ["2020-01-02", "2020-01-03"] and set(bars["Ticker"]) == {"XYZ"}
    (tmp_path / "bad.csv").write_text("Date,Close\n2020-01-02,1\n")
    ctx = step_context(tmp_path, {"source": "csv", "tickers": ["XYZ"], "start": "2020-01-01", "path": "bad.csv"})
    with pytest.raises(StepError, match="lacks the column"):
        ingest.run(ctx)


@pytest.mark.network
def test_real_yahoo_finance_download():
    bars = yahoo_bars(["AAPL"], dt.date(2020, 1, 2), dt.date(2020, 1, 31), "1d")
    assert len(bars) == 21 and bars["Date"].min() == pd.Timestamp("2020-01-02")
