"""Step `ingest`: download or load the bars of the spec's window.

In: `spec.data` (source, tickers, start/end, interval, path) and the optional --start/--end of a
backfill. Out: `ingest/bars.csv` (Date, Ticker, Open, High, Low, Close, Volume; sorted by ticker
then date) and `ingest/window.json` (the resolved window, the source and the rows per ticker).
"""

from __future__ import annotations

from .context import StepContext, StepError, csv_digest, csv_path, ingest_window, write_json, write_manifest
from .sources import csv_bars, sample_bars, yahoo_bars

FLOAT_FORMAT = "%.12g"


def run(ctx: StepContext, session=None) -> None:
    """`session`: a requests/curl_cffi session for yfinance (tests serve recorded responses)."""
    start, end = ingest_window(ctx)
    bars = load_bars(ctx, start, end, session)
    out = ctx.fresh("ingest")
    write_bars(bars, out / "bars.csv")
    write_json(out / "window.json", window_record(ctx, bars, start, end))
    extra = {f"data:{ctx.spec.data.path}": csv_digest(ctx)} if ctx.spec.data.source == "csv" else None
    write_manifest(ctx, "ingest", extra)


def load_bars(ctx: StepContext, start, end, session=None):
    data = ctx.spec.data
    if data.source == "sample":
        return sample_bars(data.tickers, start, end, data.interval)
    if data.source == "csv":
        return csv_bars(csv_path(ctx), data.tickers, start, end)
    if data.source == "yfinance":
        return yahoo_bars(data.tickers, start, end, data.interval, session=session)
    raise StepError(f"unknown data source '{data.source}'")


def write_bars(bars, path) -> None:
    frame = bars.assign(Date=bars["Date"].dt.strftime("%Y-%m-%d"))
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def read_bars(path):
    import pandas as pd

    return pd.read_csv(path, parse_dates=["Date"])


def window_record(ctx: StepContext, bars, start, end) -> dict:
    counts = bars.groupby("Ticker").size()
    return {
        "source": ctx.spec.data.source,
        "interval": ctx.spec.data.interval,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "rows": {ticker: int(counts.get(ticker, 0)) for ticker in ctx.spec.data.tickers},
        "first_bar": bars["Date"].min().strftime("%Y-%m-%d"),
        "last_bar": bars["Date"].max().strftime("%Y-%m-%d"),
    }
