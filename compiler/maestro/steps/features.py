"""Step `features`: the spec's indicators and target, per ticker, from bars at or before each bar.

In: `ingest/bars.csv`, `spec.features`, `spec.target`. Out: `features/features.csv` with Date,
Ticker, the feature columns in spec order, `target`, `fwd_return` (h-bar), `next_return` (1-bar,
for the trading simulation), `prev_return` (the latest 1-bar return, for the naive baseline) and
`scorable` (0 where the target reaches past the last bar: kept for history, never trained or
scored); and `features/features.json` describing the columns. Warm-up rows are dropped.
"""

from __future__ import annotations

import numpy as np

from . import indicators as ind
from .context import StepContext, StepError, write_json, write_manifest
from .ingest import FLOAT_FORMAT, read_bars

OUTCOME_COLUMNS = ["target", "fwd_return", "next_return", "prev_return", "scorable"]


def run(ctx: StepContext) -> None:
    bars = read_bars(ctx.upstream("ingest") / "bars.csv")
    table, names, warmup = build_table(bars, ctx.spec.features, ctx.spec.target)
    out = ctx.fresh("features")
    table.assign(Date=table["Date"].dt.strftime("%Y-%m-%d")).to_csv(
        out / "features.csv", index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    write_json(out / "features.json", describe(table, names, warmup, ctx.spec.target))
    write_manifest(ctx, "features")


def build_table(bars, features, target):
    import pandas as pd

    frames, names, warmup = [], [], 0
    for ticker, rows in bars.groupby("Ticker", sort=True):
        # A bar with a missing value cannot feed an indicator; validate bounded how many there are.
        rows = rows.dropna(subset=["Open", "High", "Low", "Close", "Volume"]).reset_index(drop=True)
        columns = feature_columns(rows, features)
        names = list(columns)
        start = first_complete(columns)
        warmup = max(warmup, start)
        frame = pd.DataFrame({"Date": rows["Date"], "Ticker": ticker, **columns, **outcomes(rows, target)})
        frames.append(frame.iloc[start:])
    table = pd.concat(frames, ignore_index=True)
    if table.empty:
        raise StepError(f"no rows are left after the indicators' warm-up of {warmup} bars; "
                        "fetch a longer history or use shorter windows")
    return table, names, warmup


def feature_columns(rows, features) -> dict[str, np.ndarray]:
    close, high, low = (rows[c].to_numpy(float) for c in ("Close", "High", "Low"))
    volume = rows["Volume"].to_numpy(float)
    columns: dict[str, np.ndarray] = {}
    for feature in features:
        for name, values in compute(feature, close, high, low, volume):
            columns.setdefault(name, values)   # a repeated feature adds nothing new
    return columns


def compute(f, close, high, low, volume) -> list[tuple[str, np.ndarray]]:
    if f.kind == "returns":
        return [(f"ret_{k}", ind.returns(close, k)) for k in f.periods]
    if f.kind == "sma":
        return [(f"sma_{w}", ind.sma_gap(close, w)) for w in f.windows]
    if f.kind == "rsi":
        return [(f"rsi_{f.window}", ind.rsi(close, f.window))]
    if f.kind == "macd":
        tag = f"{f.fast}_{f.slow}_{f.signal}"
        return list(zip((f"macd_{tag}", f"macd_signal_{tag}", f"macd_hist_{tag}"), ind.macd(close, f.fast, f.slow, f.signal)))
    if f.kind == "bollinger":
        tag = f"{f.window}_{f.k:g}"
        return list(zip((f"bb_pctb_{tag}", f"bb_width_{tag}"), ind.bollinger(close, f.window, f.k)))
    if f.kind == "atr":
        return [(f"atr_{f.window}", ind.atr(high, low, close, f.window))]
    if f.kind == "volatility":
        return [(f"vol_{f.window}", ind.volatility(close, f.window))]
    if f.kind == "volume_zscore":
        return [(f"volz_{f.window}", ind.volume_zscore(volume, f.window))]
    raise StepError(f"unknown feature kind '{f.kind}'")


def first_complete(columns: dict[str, np.ndarray]) -> int:
    """The first bar at which every feature has a value: the warm-up to drop."""
    stacked = np.column_stack(list(columns.values()))
    complete = np.flatnonzero(~np.isnan(stacked).any(axis=1))
    return int(complete[0]) if len(complete) else len(stacked)


def outcomes(rows, target) -> dict[str, np.ndarray]:
    close = rows["Close"].to_numpy(float)
    ahead = ind.shift(close, -target.horizon)          # c[t+h]: the only look-ahead, and it is the label
    fwd = ahead / close - 1
    label = np.where(ahead > close, 1.0, 0.0) if target.kind == "direction" else fwd
    scorable = ~np.isnan(ahead)
    return {
        "target": np.where(scorable, label, np.nan),
        "fwd_return": fwd,
        "next_return": ind.shift(close, -1) / close - 1,
        "prev_return": ind.returns(close, 1),
        "scorable": scorable.astype(int),
    }


def describe(table, names: list[str], warmup: int, target) -> dict:
    counts = table.groupby("Ticker").size()
    scorable = table[table["scorable"] == 1].groupby("Ticker").size()
    return {
        "columns": names,
        "target": {"kind": target.kind, "horizon": target.horizon},
        "warmup_bars": warmup,
        "rows": {t: int(n) for t, n in counts.items()},
        "scorable_rows": {t: int(scorable.get(t, 0)) for t in counts.index},
        "first_date": table["Date"].min().strftime("%Y-%m-%d"),
        "last_date": table["Date"].max().strftime("%Y-%m-%d"),
    }


def read_table(folder):
    """features.csv and its description, as the train and evaluate steps read them."""
    import pandas as pd

    from .context import read_json

    meta = read_json(folder / "features.json")
    table = pd.read_csv(folder / "features.csv", parse_dates=["Date"])
    return table, meta
