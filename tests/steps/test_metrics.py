"""Scores: AUC with ties, balanced accuracy, the trading simulation, Sharpe, drawdown, the block sign-flip test."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from maestro.steps import metrics as m


def brute_force_auc(actual, score):
    pairs = [(p, n) for p, n in itertools.product(score[actual], score[~actual])]
    return sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in pairs) / len(pairs)


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in range(3)])
def test_auc_equals_the_pairwise_definition_with_ties(seed):
    rng = np.random.default_rng(seed)
    actual = rng.random(40) < 0.4
    score = rng.integers(0, 5, 40).astype(float)       # many ties
    assert m.auc(actual, score) == pytest.approx(brute_force_auc(actual, score))


def test_auc_is_undefined_for_one_class():
    assert m.auc(np.array([True, True]), np.array([0.2, 0.9])) is None


def test_balanced_accuracy_averages_the_two_classes():
    actual = np.array([True, True, True, False])
    assert m.balanced_accuracy(actual, np.array([True, True, True, True])) == 0.5


@pytest.mark.parametrize("b, c, expected", [
    pytest.param(0, 0, 1.0, id="no-discordant-rows"),
    pytest.param(3, 0, 1 / 8, id="three-to-none"),
    pytest.param(2, 1, 4 / 8, id="two-to-one"),
    pytest.param(10, 2, (1 + 12 + 66) / 4096, id="ten-to-two"),
])
def test_one_ticker_with_one_date_blocks_is_mcnemars_exact_test(b, c, expected):
    model = np.array([True] * b + [False] * c + [True, False])
    baseline = np.array([False] * b + [True] * c + [True, False])   # two concordant rows count for nothing
    result = m.paired_block_test(model, baseline, np.arange(len(model)), block_dates=1)
    assert (result["model_only"], result["baseline_only"]) == (b, c)
    assert result["p_value"] == pytest.approx(expected, rel=1e-12)


def test_strategy_pays_costs_on_each_change_and_each_ticker_starts_flat():
    long = np.array([True, True, False, True, True])
    returns = np.array([0.01, 0.02, 0.03, -0.01, 0.01])
    tickers = np.array(["A", "A", "A", "B", "B"])
    got = m.strategy_returns(long, returns, tickers, cost_bps=10)
    np.testing.assert_allclose(got, [0.01 - 0.001, 0.02, -0.001, -0.01 - 0.001, 0.01])


def test_portfolio_weights_tickers_equally_per_date():
    dates = np.array(["2020-01-02", "2020-01-02", "2020-01-03"], dtype="datetime64[D]")
    np.testing.assert_allclose(m.portfolio(np.array([0.02, 0.0, 0.01]), dates), [0.01, 0.01])


def test_drawdown_and_sharpe():
    returns = np.array([0.1, -0.5, 0.2])
    assert m.max_drawdown(returns) == pytest.approx(0.5)
    assert m.max_drawdown(np.array([0.01, 0.02])) == 0.0
    r = np.array([0.01, -0.01, 0.02])
    assert m.sharpe(r, 252) == pytest.approx(np.mean(r) / np.std(r, ddof=1) * math.sqrt(252))
    assert m.sharpe(np.zeros(5), 252) is None
