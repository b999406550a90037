"""Step `validate`: each quality check stops the run with a message naming the check, ticker and dates."""

from __future__ import annotations

import json

import numpy as np
import pytest

from maestro.steps import ingest, quality
from maestro.steps.context import StepError

from .conftest import step_context, synthetic_bars


def corrupt_return(b):
    b.loc[100:, ["Open", "High", "Low", "Close"]] *= 1.8


def corrupt_range(b):
    b.loc[50, "High"] = b.loc[50, "Low"] * 0.99


def corrupt_price(b):
    b.loc[70, "Low"] = -1.0


def corrupt_stale(b):
    b.loc[200:207, ["Open", "High", "Low", "Close"]] = b.loc[199, "Close"]
    b.loc[200:207, "Volume"] = 0


def corrupt_missing(b):
    b.loc[10:30, "Volume"] = np.nan


def corrupt_dates(b):
    b.loc[120, "Date"] = b.loc[119, "Date"]


CORRUPTIONS = [
    pytest.param(corrupt_return, "max_abs_return", "2001-05-21", id="bad-print"),
    pytest.param(corrupt_range, "high_low", "2001-03-12", id="high-below-low"),
    pytest.param(corrupt_price, "positive_prices", "2001-04-09", id="negative-price"),
    pytest.param(corrupt_stale, "max_stale_bars", "run ending 2001-10-17", id="stale-bars"),
    pytest.param(corrupt_missing, "max_missing_fraction", "", id="missing-values"),
    pytest.param(corrupt_dates, "dates", "2001-06-15", id="repeated-date"),
    pytest.param(None, "min_rows", "", id="too-few-rows"),
    pytest.param(None, "stale_data", "last bar 2002-02-22", id="feed-stopped"),
]


def validate(tmp_path, corrupt, **data):
    bars = synthetic_bars("walk", n=300)
    if corrupt:
        corrupt(bars)
    bars.to_csv(tmp_path / "bars.csv", index=False)
    spec = {"source": "csv", "tickers": ["SYN"], "start": "2001-01-01", "end": bars["Date"].iloc[-1], "path": "bars.csv"}
    ctx = step_context(tmp_path, {**spec, **data}, quality={"min_rows": 250})
    ingest.run(ctx)
    quality.run(ctx)
    return ctx


@pytest.mark.parametrize("corrupt, check, date", CORRUPTIONS)
def test_a_failed_check_stops_the_run_naming_check_ticker_and_dates(tmp_path, corrupt, check, date):
    extra = {"end": "2002-12-31"} if check == "stale_data" else {"start": "2001-11-01"} if check == "min_rows" else {}
    with pytest.raises(StepError) as error:
        validate(tmp_path, corrupt, **extra)
    message = str(error.value)
    assert f"- {check} for SYN:" in message and date in message
    report = json.loads((tmp_path / "work" / "validate" / "report.json").read_text())
    failed = [c["check"] for c in report["checks"] if not c["passed"]]
    assert report["passed"] is False and failed == [check]


def test_clean_bars_pass_every_check(tmp_path):
    validate(tmp_path, None)
    report = json.loads((tmp_path / "work" / "validate" / "report.json").read_text())
    assert report["passed"] and len(report["checks"]) == 8
    assert all("threshold" in c and c["detail"] for c in report["checks"])
