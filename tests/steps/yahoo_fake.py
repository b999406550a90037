"""A fake Yahoo Finance at the HTTP layer: a requests transport adapter that answers the URLs yfinance
calls (cookie, crumb, v8 chart) with chart JSON built from bars, so the real yfinance code parses it.

Tests pass `session(fake)` to the ingest step; the library itself is never replaced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import requests
from requests.adapters import BaseAdapter

NEW_YORK_OFFSET = -18000    # seconds; the fake ignores daylight saving (yfinance only keeps the date)


@dataclass
class FakeYahoo(BaseAdapter):
    """`charts`: ticker -> DataFrame (Date, Open, High, Low, Close, Volume[, AdjClose]).
    `failures`: ticker -> list of statuses to answer first (e.g. [429, 500]) before the real data."""

    charts: dict = field(default_factory=dict)
    failures: dict = field(default_factory=dict)
    requests_seen: list = field(default_factory=list)

    def __post_init__(self):
        super().__init__()

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.requests_seen.append((parts.netloc + parts.path, query))
        if parts.netloc == "fc.yahoo.com":
            return _response(request, 404, "")
        if parts.path.endswith("/v1/test/getcrumb"):
            return _response(request, 200, "fake-crumb")
        if "/v8/finance/chart/" in parts.path:
            return self._chart(request, parts.path.rsplit("/", 1)[1], query)
        return _response(request, 404, "<html>not found</html>")

    def _chart(self, request, ticker: str, query: dict):
        if query.get("range") != "1d" and self.failures.get(ticker):
            status = self.failures[ticker].pop(0)
            return _response(request, status, "<html>Will be right back</html>" if status >= 500 else "Too Many Requests")
        if ticker not in self.charts:
            body = {"chart": {"result": None, "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"}}}
            return _response(request, 404, json.dumps(body))
        return _response(request, 200, json.dumps(chart_json(ticker, self.charts[ticker], query)))

    def close(self):
        pass


def chart_json(ticker: str, bars: pd.DataFrame, query: dict) -> dict:
    meta = {"currency": "USD", "symbol": ticker, "exchangeName": "NMS", "fullExchangeName": "NasdaqGS",
            "instrumentType": "EQUITY", "firstTradeDate": 345479400, "regularMarketTime": 1700000000,
            "hasPrePostMarketData": True, "gmtoffset": NEW_YORK_OFFSET, "timezone": "EST",
            "exchangeTimezoneName": "America/New_York", "priceHint": 2, "dataGranularity": query.get("interval", "1d"),
            "range": query.get("range", ""), "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"]}
    if "period1" in query:
        start = pd.Timestamp(int(query["period1"]), unit="s")
        end = pd.Timestamp(int(query["period2"]), unit="s")
        bars = bars[(pd.to_datetime(bars["Date"]) >= start.normalize()) & (pd.to_datetime(bars["Date"]) < end)]
    else:
        bars = bars.tail(1)
    if bars.empty:
        return {"chart": {"result": [{"meta": meta, "indicators": {"quote": [{}], "adjclose": [{}]}}], "error": None}}
    stamps = [int((pd.Timestamp(d) + pd.Timedelta(hours=9, minutes=30)).timestamp()) - NEW_YORK_OFFSET for d in bars["Date"]]
    quote = {k.lower(): bars[k].tolist() for k in ("Open", "High", "Low", "Close", "Volume")}
    adj = bars["AdjClose"].tolist() if "AdjClose" in bars else bars["Close"].tolist()
    result = {"meta": meta, "timestamp": stamps, "indicators": {"quote": [quote], "adjclose": [{"adjclose": adj}]}}
    return {"chart": {"result": [result], "error": None}}


def _response(request, status: int, body: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers["Content-Type"] = "application/json" if body.startswith("{") else "text/html"
    response.url = request.url
    response.request = request
    response.encoding = "utf-8"
    return response


def session(fake: FakeYahoo) -> requests.Session:
    s = requests.Session()
    s.mount("https://", fake)
    s.mount("http://", fake)
    return s
