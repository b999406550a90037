"""Where bars come from: Yahoo Finance (through yfinance), a CSV file, or the bundled sample.

In: tickers, a window (both days inclusive) and an interval. Out: one tidy pandas frame with the
columns Date, Ticker, Open, High, Low, Close, Volume, sorted by ticker then date. Prices are
adjusted for splits and dividends (yfinance `auto_adjust=True`; the sample is adjusted the same way)
so a split never looks like a crash.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable, Optional

from .context import StepError

COLUMNS = ["Date", "Ticker", "Open", "High", "Low", "Close", "Volume"]
PRICE_COLUMNS = ["Open", "High", "Low", "Close"]


def tidy(frame, ticker: Optional[str] = None):
    """Keep the bar columns, one row per ticker and date, sorted; dates without a time of day."""
    import pandas as pd

    frame = frame.copy()
    if ticker is not None:
        frame["Ticker"] = ticker
    frame["Date"] = pd.to_datetime(frame["Date"]).dt.tz_localize(None).dt.normalize()
    frame = frame[COLUMNS].astype({c: "float64" for c in PRICE_COLUMNS + ["Volume"]})
    return frame.sort_values(["Ticker", "Date"], kind="mergesort").reset_index(drop=True)


def in_window(frame, start: dt.date, end: dt.date):
    import pandas as pd

    dates = frame["Date"]
    return frame[(dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))]


def weekly(frame):
    """Daily bars to weekly bars labelled by the Monday that starts each week, as Yahoo does."""
    rules = {"Open": "first", "High": "max", "Low": "min", "Close": "last", "Volume": "sum"}
    bars = frame.set_index("Date").resample("W-MON", label="left", closed="left").agg(rules)
    return bars.dropna(subset=["Close"]).reset_index()


# ---- sample: the public-domain daily history shipped by bokeh-sampledata ---------------------

def sample_bars(tickers: list[str], start: dt.date, end: dt.date, interval: str):
    import pandas as pd
    from bokeh_sampledata import stocks

    data = stocks.data
    available = sorted(data["ticker"].unique())
    unknown = [t for t in tickers if t not in available]
    if unknown:
        raise StepError(f"the sample data has no ticker {', '.join(unknown)}; "
                        f"available: {', '.join(available)} (daily, {data['date'].min():%Y-%m-%d} to "
                        f"{data['date'].max():%Y-%m-%d})")
    frames = [_sample_one(data[data["ticker"] == t], t, start, end, interval) for t in tickers]
    return tidy(pd.concat(frames, ignore_index=True))


def _sample_one(rows, ticker: str, start: dt.date, end: dt.date, interval: str):
    # The sample is unadjusted with a separate adjusted close; scale OHLC by adj_close/close (what
    # yfinance's auto_adjust does) and volume inversely, so splits keep price x volume unchanged.
    factor = rows["adj_close"] / rows["close"]
    frame = rows.assign(Date=rows["date"], Open=rows["open"] * factor, High=rows["high"] * factor,
                        Low=rows["low"] * factor, Close=rows["adj_close"], Volume=(rows["volume"] / factor).round())
    frame = in_window(tidy(frame, ticker), start, end)
    if interval == "1wk":
        frame = tidy(weekly(frame.drop(columns="Ticker")), ticker)
    if frame.empty:
        raise StepError(f"the sample data for {ticker} has no bars between {start} and {end}")
    return frame


# ---- csv ------------------------------------------------------------------------------------

def csv_bars(path: Path, tickers: list[str], start: dt.date, end: dt.date):
    import pandas as pd

    if not path.is_file():
        raise StepError(f"data.path {path} does not exist")
    frame = pd.read_csv(path)
    missing = [c for c in COLUMNS if c not in frame.columns and c != "Ticker"]
    if missing:
        raise StepError(f"{path} lacks the column(s) {', '.join(missing)}; expected "
                        "Date, Open, High, Low, Close, Volume and optionally Ticker")
    if "Ticker" not in frame.columns:
        if len(tickers) != 1:
            raise StepError(f"{path} has no Ticker column, so it can hold only one ticker, but "
                            f"data.tickers lists {len(tickers)}")
        frame["Ticker"] = tickers[0]
    frame = in_window(tidy(frame), start, end)
    return tidy(_require_tickers(frame, tickers, f"{path} between {start} and {end}"))


def _require_tickers(frame, tickers: list[str], where: str):
    for ticker in tickers:
        if not (frame["Ticker"] == ticker).any():
            raise StepError(f"ticker {ticker} came back empty: no rows for it in {where}")
    return frame[frame["Ticker"].isin(tickers)]


# ---- yfinance -------------------------------------------------------------------------------

def yahoo_bars(tickers: list[str], start: dt.date, end: dt.date, interval: str, session=None,
               attempts: int = 4, backoff: float = 2.0, sleep: Callable[[float], None] = time.sleep):
    """Each ticker on its own, so an error names it; transient failures are retried with backoff."""
    import pandas as pd

    with _yfinance_settings():
        frames = [_with_retries(lambda t=t: _yahoo_one(t, start, end, interval, session), t, attempts, backoff, sleep)
                  for t in tickers]
    return tidy(pd.concat(frames, ignore_index=True))


def download_errors() -> tuple[type[Exception], ...]:
    """What yfinance raises when Yahoo cannot be reached, refuses or is down (rate limits, 5xx pages,
    timeouts, refused connections, through requests or curl_cffi): worth another try. Anything else is
    a bug, and surfaces as one (its traceback under --debug)."""
    from curl_cffi.requests.exceptions import RequestException as CurlRequestException
    from requests.exceptions import RequestException
    from yfinance.exceptions import YFException

    return YFException, RequestException, CurlRequestException, ConnectionError, TimeoutError


def _with_retries(fetch: Callable, ticker: str, attempts: int, backoff: float, sleep: Callable):
    from yfinance.exceptions import YFPricesMissingError, YFTzMissingError

    for attempt in range(attempts):
        try:
            return fetch()
        except (YFPricesMissingError, YFTzMissingError) as exc:
            raise StepError(f"ticker {ticker} came back empty from Yahoo Finance: {exc}") from None
        except download_errors() as exc:  # network, rate limit, a Yahoo outage: worth another try
            if _status(exc) == 404:   # Yahoo does not know the symbol: asking again will not help
                raise StepError(f"ticker {ticker} came back empty from Yahoo Finance: it does not know "
                                "this symbol (HTTP 404)") from None
            if attempt == attempts - 1:
                raise StepError(f"could not download {ticker} from Yahoo Finance after {attempts} attempts: "
                                f"{type(exc).__name__}: {exc}") from None
            _forget_responses()
            sleep(backoff * 2 ** attempt)


def _status(exc: Exception):
    return getattr(getattr(exc, "response", None), "status_code", None)


def _yahoo_one(ticker: str, start: dt.date, end: dt.date, interval: str, session):
    import yfinance as yf

    history = yf.Ticker(ticker, session=session).history(
        start=start.isoformat(),
        end=(end + dt.timedelta(days=1)).isoformat(),   # yfinance's end is exclusive; ours is inclusive
        interval=interval,
        auto_adjust=True,      # OHLC adjusted for splits and dividends; no "Adj Close" column
        back_adjust=False,
        actions=False,         # no Dividends / Stock Splits columns
        repair=False,          # keep Yahoo's prices as served; validate reports bad prints instead
        keepna=False,          # drop the all-NaN rows Yahoo sends for holidays
        prepost=False,         # regular session only
        rounding=False,        # full precision
        timeout=30,
    )
    if history.empty:
        raise StepError(f"ticker {ticker} came back empty from Yahoo Finance between {start} and {end}")
    return tidy(history.reset_index().rename(columns={"Datetime": "Date"}), ticker)


_CACHE_DIR: list[str] = []


@contextlib.contextmanager
def _yfinance_settings():
    """Errors raised (not logged and swallowed); yfinance's sqlite caches in a private temp dir,
    because pods run with a read-only home (yfinance binds that database once per process, so the
    dir is made once); yfinance's own deprecation noise kept out of the step's output."""
    import yfinance as yf

    if not _CACHE_DIR:
        _CACHE_DIR.append(tempfile.mkdtemp(prefix="maestro-yfinance-"))
        yf.set_tz_cache_location(_CACHE_DIR[0])   # moves all of yfinance's caches (tz, cookie, isin)
    previous = yf.config.debug.hide_exceptions
    yf.config.debug.hide_exceptions = False
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="yfinance")
            _forget_responses()
            yield
    finally:
        yf.config.debug.hide_exceptions = previous


def _forget_responses() -> None:
    # yfinance memoizes responses for past windows inside the process; a retry must ask again.
    from yfinance.data import YfData

    clear = getattr(YfData.cache_get, "cache_clear", None)
    if clear is not None:
        clear()
