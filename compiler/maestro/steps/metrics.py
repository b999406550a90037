"""Scores of predictions: classification, regression, a long/flat trading simulation, and the
one-sided test of a hit rate against a baseline's on correlated rows. Plain numpy and math, no scipy.

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


# Above this many additions (blocks x discordant rows) the exact sign-flip distribution gives way to
# its normal approximation: well under a second of numpy work, and by then the two agree closely.
EXACT_LIMIT = 50_000_000


def paired_block_test(model_hits: np.ndarray, baseline_hits: np.ndarray, dates: np.ndarray, block_dates: int) -> dict:
    """One-sided test that the model is right more often than the baseline, robust to rows that are
    not independent. Rows of the same date (several tickers move together) are summed first, then
    runs of `block_dates` consecutive dates (labels that look h bars ahead overlap). Each block's
    net advantage D = (model right, baseline wrong) - (the reverse) is symmetric about 0 when the
    model is no better, so p = P(sum of s_i |D_i| >= sum of D_i) over independent signs s_i = +-1
    (a sign-flip, or cluster McNemar, test). One ticker with one-date blocks is McNemar's exact test."""
    diff = model_hits.astype(np.int64) - baseline_hits.astype(np.int64)
    _, date_index = np.unique(dates, return_inverse=True)
    per_date = np.bincount(date_index.ravel(), weights=diff, minlength=date_index.max() + 1 if len(diff) else 0)
    per_date = np.rint(per_date).astype(np.int64)
    blocks = np.add.reduceat(per_date, np.arange(0, len(per_date), block_dates)) if len(per_date) else per_date
    p_value, computation = sign_flip_tail(blocks)
    return {"p_value": p_value, "computation": computation,
            "model_only": int(np.sum(model_hits & ~baseline_hits)), "baseline_only": int(np.sum(~model_hits & baseline_hits)),
            "dates": int(len(per_date)), "block_dates": int(block_dates), "blocks": int(len(blocks)),
            "informative_blocks": int(np.count_nonzero(blocks))}


def sign_flip_tail(blocks: np.ndarray) -> tuple[float, str]:
    """P(sum s_i |b_i| >= sum b_i) for independent fair signs s_i, and how it was computed."""
    values = np.abs(blocks[blocks != 0]).astype(np.int64)
    total = int(np.sum(blocks))
    if len(values) == 0:
        return 1.0, "exact"
    if np.all(values == values[0]):   # equal weights (one ticker, one-date blocks): a binomial tail
        ups = (total // int(values[0]) + len(values)) // 2
        return binomial_upper_tail(len(values), ups), "exact"
    if len(values) * int(values.sum()) <= EXACT_LIMIT:
        distribution = np.ones(1)
        for v in values:              # the distribution of the signed sum, one block at a time
            grown = np.zeros(len(distribution) + 2 * v)
            grown[:len(distribution)] += distribution
            grown[2 * v:] += distribution
            distribution = grown * 0.5
        return float(min(1.0, distribution[total + int(values.sum()):].sum())), "exact"
    z = total / math.sqrt(float(np.sum(values.astype(np.float64) ** 2)))
    return 0.5 * math.erfc(z / math.sqrt(2)), "normal approximation"


def binomial_upper_tail(n: int, k: int) -> float:
    """P(X >= k) for X ~ Binomial(n, 1/2), in time linear in n (log-space terms, no big integers)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    j = np.arange(1, n + 1, dtype=np.float64)
    log_comb = np.concatenate([[0.0], np.cumsum(np.log(n - j + 1) - np.log(j))])   # log C(n, 0..n)
    terms = log_comb[k:] - n * math.log(2)
    top = float(terms.max())
    return float(min(1.0, math.exp(top) * np.exp(terms - top).sum()))

