"""Scores of predictions: classification, regression, a long/flat trading simulation, and the
one-sided test of a hit rate against a baseline's. Plain numpy and math, no scipy.

In: numpy arrays aligned row by row. Out: floats (None where a score is undefined, e.g. the AUC of
a block holding one class only).
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

PERIODS_PER_YEAR = {"1d": 252, "1wk": 52}


def accuracy(hits: np.ndarray) -> Optional[float]:
    return float(np.mean(hits)) if len(hits) else None


def balanced_accuracy(actual_up: np.ndarray, predicted_up: np.ndarray) -> Optional[float]:
    """Mean of the hit rates on up bars and on down bars (one class only: its hit rate)."""
    rates = [np.mean(predicted_up[actual_up == c] == c) for c in (True, False) if np.any(actual_up == c)]
    return float(np.mean(rates)) if rates else None


def auc(actual_up: np.ndarray, score: np.ndarray) -> Optional[float]:
    """Area under the ROC curve via the Mann-Whitney U statistic, ties counted half."""
    pos, neg = int(np.sum(actual_up)), int(np.sum(~actual_up))
    if pos == 0 or neg == 0:
        return None
    ranks = _average_ranks(score)
    u = ranks[actual_up].sum() - pos * (pos + 1) / 2
    return float(u / (pos * neg))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks; equal values share the mean of the ranks they span."""
    order = np.argsort(values, kind="mergesort")
    cuts = np.flatnonzero(np.diff(values[order])) + 1
    starts, ends = np.concatenate([[0], cuts]), np.concatenate([cuts, [len(values)]])
    ranks = np.empty(len(values))
    ranks[order] = np.repeat((starts + ends + 1) / 2, ends - starts)
    return ranks


def rmse(actual: np.ndarray, predicted: np.ndarray) -> Optional[float]:
    return float(np.sqrt(np.mean((actual - predicted) ** 2))) if len(actual) else None


def mae(actual: np.ndarray, predicted: np.ndarray) -> Optional[float]:
    return float(np.mean(np.abs(actual - predicted))) if len(actual) else None


def strategy_returns(long: np.ndarray, next_return: np.ndarray, tickers: np.ndarray, cost_bps: float) -> np.ndarray:
    """Per row: hold the stock for the next bar when `long`, else cash; pay `cost_bps` of the
    traded value each time the position changes (entering at the block's start included)."""
    position = long.astype(float)
    previous = np.concatenate([[0.0], position[:-1]])
    previous[np.concatenate([[True], tickers[1:] != tickers[:-1]])] = 0.0   # each ticker starts flat
    return position * next_return - np.abs(position - previous) * cost_bps / 1e4


def portfolio(returns: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """Equal weight across tickers: the mean strategy return of each date, in date order."""
    unique, inverse = np.unique(dates, return_inverse=True)
    return np.bincount(inverse, weights=returns) / np.bincount(inverse)


def sharpe(returns: np.ndarray, periods_per_year: int) -> Optional[float]:
    """Annualized mean over standard deviation of per-bar returns (risk-free rate 0)."""
    if len(returns) < 2 or np.std(returns, ddof=1) == 0:
        return None
    return float(np.mean(returns) / np.std(returns, ddof=1) * math.sqrt(periods_per_year))


def max_drawdown(returns: np.ndarray) -> float:
    """The largest fall of equity from its running peak, as a fraction of that peak (0.2 = 20%)."""
    equity = np.concatenate([[1.0], np.cumprod(1 + returns)])
    return float(np.max(1 - equity / np.maximum.accumulate(equity)))


def total_return(returns: np.ndarray) -> float:
    return float(np.prod(1 + returns) - 1)


def mcnemar_one_sided(model_hits: np.ndarray, baseline_hits: np.ndarray) -> dict:
    """Exact one-sided McNemar test on the discordant pairs: H0 says that, where exactly one of the
    two is right, each is right with probability 1/2; the p-value is P(X >= b), X ~ Bin(b + c, 1/2),
    with b = model right and baseline wrong, c = the reverse."""
    b = int(np.sum(model_hits & ~baseline_hits))
    c = int(np.sum(~model_hits & baseline_hits))
    n = b + c
    tail = sum(math.comb(n, k) for k in range(b, n + 1))
    return {"p_value": tail / 2 ** n if n else 1.0, "model_only": b, "baseline_only": c}
