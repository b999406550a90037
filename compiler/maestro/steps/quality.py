"""Step `validate`: quality checks on the raw bars, per ticker; a failure stops the run.

In: `ingest/bars.csv`, `ingest/window.json` and `spec.quality`. Out: `validate/report.json` with
every check (name, ticker, passed, value, threshold, offending dates) and, on failure, a StepError
whose message names each failed check, its ticker and the first offending dates.
"""

from __future__ import annotations

import datetime as dt

from .context import StepContext, StepError, read_json, write_json, write_manifest
from .ingest import read_bars

# Slack for float rounding in adjusted prices when comparing High/Low/Open/Close.
PRICE_TOLERANCE = 1e-6
# How far (calendar days) the last bar may lie before the requested end before data counts as stale.
FRESHNESS_DAYS = {"1d": 10, "1wk": 14}
SHOWN_DATES = 5


def run(ctx: StepContext) -> None:
    bars = read_bars(ctx.upstream("ingest") / "bars.csv")
    window = read_json(ctx.upstream("ingest") / "window.json")
    checks = [c for ticker, rows in bars.groupby("Ticker", sort=True)
              for c in check_ticker(ticker, rows.reset_index(drop=True), ctx.spec.quality, window)]
    out = ctx.fresh("validate")
    failed = [c for c in checks if not c["passed"]]
    write_json(out / "report.json", {"passed": not failed, "checks": checks})
    write_manifest(ctx, "validate")
    if failed:
        lines = "\n".join(f"  - {c['check']} for {c['ticker']}: {c['detail']}" for c in failed)
        raise StepError(f"{len(failed)} data quality check(s) failed (see validate/report.json):\n{lines}")


def check_ticker(ticker: str, rows, quality, window: dict) -> list[dict]:
    return [
        check_dates(ticker, rows),
        check_positive(ticker, rows),
        check_ranges(ticker, rows),
        check_min_rows(ticker, rows, quality.min_rows),
        check_missing(ticker, rows, quality.max_missing_fraction),
        check_returns(ticker, rows, quality.max_abs_return),
        check_stale_bars(ticker, rows, quality.max_stale_bars),
        check_fresh(ticker, rows, window),
    ]


def result(check: str, ticker: str, passed: bool, value, threshold, detail: str, dates=()) -> dict:
    shown = [d.strftime("%Y-%m-%d") for d in list(dates)[:SHOWN_DATES]]
    return {"check": check, "ticker": ticker, "passed": bool(passed), "value": value,
            "threshold": threshold, "detail": detail, "dates": shown}


def _dates_text(dates) -> str:
    shown = [d.strftime("%Y-%m-%d") for d in list(dates)[:SHOWN_DATES]]
    more = f" and {len(dates) - SHOWN_DATES} more" if len(dates) > SHOWN_DATES else ""
    return ", ".join(shown) + more


def check_dates(ticker: str, rows) -> dict:
    dates = rows["Date"]
    bad = dates[dates.diff().dt.days.fillna(1) <= 0]
    detail = ("dates are unique and increasing" if bad.empty
              else f"{len(bad)} date(s) repeat or go backwards: {_dates_text(list(bad))}")
    return result("dates", ticker, bad.empty, int(len(bad)), 0, detail, bad)


def check_positive(ticker: str, rows) -> dict:
    prices = rows[["Open", "High", "Low", "Close"]]
    bad = rows["Date"][(prices <= 0).any(axis=1)]
    detail = ("all prices are positive" if bad.empty
              else f"{len(bad)} bar(s) have a zero or negative price: {_dates_text(list(bad))}")
    return result("positive_prices", ticker, bad.empty, int(len(bad)), 0, detail, bad)


def check_ranges(ticker: str, rows) -> dict:
    slack = PRICE_TOLERANCE * rows["High"].abs()
    top = rows[["Open", "Close", "Low"]].max(axis=1)
    bottom = rows[["Open", "Close"]].min(axis=1)
    bad = rows["Date"][(rows["High"] + slack < top) | (rows["Low"] - slack > bottom)]
    detail = ("every bar has High >= Open, Close >= Low" if bad.empty
              else f"{len(bad)} bar(s) break High >= Open/Close >= Low: {_dates_text(list(bad))}")
    return result("high_low", ticker, bad.empty, int(len(bad)), 0, detail, bad)


def check_min_rows(ticker: str, rows, minimum: int) -> dict:
    count = len(rows)
    detail = f"{count} rows; at least {minimum} are required (quality.min_rows)"
    return result("min_rows", ticker, count >= minimum, count, minimum, detail)


def check_missing(ticker: str, rows, maximum: float) -> dict:
    missing = rows[["Open", "High", "Low", "Close", "Volume"]].isna().any(axis=1)
    fraction = float(missing.mean()) if len(rows) else 0.0
    detail = (f"{int(missing.sum())} of {len(rows)} bars ({fraction:.2%}) have a missing value; at most "
              f"{maximum:.2%} are allowed (quality.max_missing_fraction)")
    return result("max_missing_fraction", ticker, fraction <= maximum, fraction, maximum, detail,
                  rows["Date"][missing])


def check_returns(ticker: str, rows, maximum: float) -> dict:
    moves = rows["Close"].pct_change(fill_method=None).abs()
    bad = rows["Date"][moves > maximum]
    largest = float(moves.max()) if moves.notna().any() else 0.0
    detail = (f"largest one-bar move {largest:.1%}; at most {maximum:.1%} is allowed (quality.max_abs_return)"
              + (f"; bad prints on {_dates_text(list(bad))}" if len(bad) else ""))
    return result("max_abs_return", ticker, bad.empty, largest, maximum, detail, bad)


def check_stale_bars(ticker: str, rows, maximum: int) -> dict:
    stale = (rows["Close"].diff() == 0) & (rows["Volume"].fillna(0) == 0)
    runs = stale.groupby((~stale).cumsum()).cumsum()
    longest = int(runs.max()) if len(runs) else 0
    ends = rows["Date"][(runs == longest) & (longest > maximum)]
    detail = (f"longest run of bars with an unchanged close and no volume: {longest}; at most {maximum} "
              f"allowed (quality.max_stale_bars)" + (f"; run ending {_dates_text(list(ends))}" if len(ends) else ""))
    return result("max_stale_bars", ticker, longest <= maximum, longest, maximum, detail, ends)


def check_fresh(ticker: str, rows, window: dict) -> dict:
    end = dt.date.fromisoformat(window["end"])
    last = rows["Date"].max().date()
    allowed = FRESHNESS_DAYS.get(window.get("interval", "1d"), 10)
    lag = (end - last).days
    detail = (f"last bar {last} is {lag} day(s) before the requested end {end}; at most {allowed} are "
              f"allowed (the feed may have stopped or the ticker may be delisted)")
    return result("stale_data", ticker, lag <= allowed, lag, allowed, detail, [rows["Date"].max()])
