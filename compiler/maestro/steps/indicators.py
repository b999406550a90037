"""The indicators of SPEC-v1, on one ticker's bars, each using only bars at or before `t`.

In: numpy arrays of close, high, low, volume (oldest first). Out: arrays of the same length with
NaN during each indicator's warm-up. Smoothed averages (EMA, Wilder) are seeded with the simple mean
of their first `n` values, as Wilder and TA-Lib do, so no value depends on a later bar.
"""

from __future__ import annotations

import numpy as np


def shift(values: np.ndarray, k: int) -> np.ndarray:
    """values[t-k] at t (NaN where t-k < 0); k < 0 looks ahead and is used only for targets."""
    out = np.full(len(values), np.nan)
    if k >= 0:
        out[k:] = values[:len(values) - k]
    else:
        out[:k] = values[-k:]
    return out


def rolling(values: np.ndarray, window: int, reduce) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for t in range(window - 1, len(values)):
        out[t] = reduce(values[t - window + 1:t + 1])
    return out


def smoothed(values: np.ndarray, n: int, alpha: float) -> np.ndarray:
    """s[t] = alpha*x[t] + (1-alpha)*s[t-1], seeded at the n-th valid value with the mean of the first n."""
    out = np.full(len(values), np.nan)
    valid = np.flatnonzero(~np.isnan(values))
    if len(valid) < n:
        return out
    first = valid[0]
    seed_at = first + n - 1
    out[seed_at] = values[first:seed_at + 1].mean()
    for t in range(seed_at + 1, len(values)):
        out[t] = alpha * values[t] + (1 - alpha) * out[t - 1]
    return out


def ema(values: np.ndarray, n: int) -> np.ndarray:
    return smoothed(values, n, 2.0 / (n + 1))


def wilder(values: np.ndarray, n: int) -> np.ndarray:
    return smoothed(values, n, 1.0 / n)


def returns(close: np.ndarray, k: int) -> np.ndarray:
    return close / shift(close, k) - 1


def sma_gap(close: np.ndarray, w: int) -> np.ndarray:
    return close / rolling(close, w, np.mean) - 1


def rsi(close: np.ndarray, n: int) -> np.ndarray:
    """Wilder's RSI on 0..1: avg gain / (avg gain + avg loss); 0.5 when the price did not move."""
    change = close - shift(close, 1)
    gain = wilder(np.where(np.isnan(change), np.nan, np.maximum(change, 0.0)), n)
    loss = wilder(np.where(np.isnan(change), np.nan, np.maximum(-change, 0.0)), n)
    total = gain + loss
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, gain / total, np.where(np.isnan(total), np.nan, 0.5))


def macd(close: np.ndarray, fast: int, slow: int, signal: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD line, signal line and histogram, each divided by the close."""
    line = ema(close, fast) - ema(close, slow)
    sig = ema(line, signal)
    return line / close, sig / close, (line - sig) / close


def bollinger(close: np.ndarray, w: int, k: float) -> tuple[np.ndarray, np.ndarray]:
    """%B and bandwidth; the band uses the population standard deviation, as Bollinger defined it."""
    mid = rolling(close, w, np.mean)
    sd = rolling(close, w, lambda x: x.std(ddof=0))
    upper, lower = mid + k * sd, mid - k * sd
    with np.errstate(invalid="ignore", divide="ignore"):
        pct_b = np.where(upper > lower, (close - lower) / (upper - lower), np.where(np.isnan(sd), np.nan, 0.5))
    return pct_b, (upper - lower) / mid


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, n: int) -> np.ndarray:
    """Wilder's average true range over bars that have a previous close, divided by the close."""
    prev = shift(close, 1)
    true_range = np.fmax(high - low, np.fmax(np.abs(high - prev), np.abs(low - prev)))
    true_range[np.isnan(prev)] = np.nan
    return wilder(true_range, n) / close


def volatility(close: np.ndarray, w: int) -> np.ndarray:
    """Sample standard deviation (ddof=1) of the last w one-bar log returns."""
    log_returns = np.log(close / shift(close, 1))
    return rolling(log_returns, w, lambda x: x.std(ddof=1))


def volume_zscore(volume: np.ndarray, w: int) -> np.ndarray:
    """(v[t] - mean) / sample std of the last w volumes (t included); 0 when volume did not vary."""
    mean = rolling(volume, w, np.mean)
    sd = rolling(volume, w, lambda x: x.std(ddof=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sd > 0, (volume - mean) / sd, np.where(np.isnan(sd), np.nan, 0.0))
