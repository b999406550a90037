"""Indicators against values computed by hand, the target's marking, and the absence of look-ahead."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from maestro.language.pipeline import PipelineSpec
from maestro.steps import indicators as ind
from maestro.steps.features import build_table

from .conftest import synthetic_bars

NAN = float("nan")
a = np.array

CASES = [
    pytest.param(lambda: ind.returns(a([10, 11, 12.1, 9.68]), 1), [NAN, 0.1, 0.1, -0.2], id="returns-1"),
    pytest.param(lambda: ind.returns(a([10, 11, 12.1, 9.68]), 2), [NAN, NAN, 0.21, -0.12], id="returns-2"),
    pytest.param(lambda: ind.sma_gap(a([10, 12, 9.0]), 2), [NAN, 1 / 11, -1 / 7], id="sma-2"),
    pytest.param(lambda: ind.ema(a([1, 2, 3, 4, 5.0]), 3), [NAN, NAN, 2, 3, 4], id="ema-3-seeded-with-mean"),
    pytest.param(lambda: ind.rsi(a([10, 11, 10.5, 11.5, 11]), 2), [NAN, NAN, 2 / 3, 6 / 7, 6 / 11], id="rsi-wilder-2"),
    pytest.param(lambda: ind.rsi(a([5, 5, 5, 5.0]), 2), [NAN, NAN, 0.5, 0.5], id="rsi-flat-is-half"),
    pytest.param(lambda: ind.macd(a([1, 2, 3, 4, 5, 6.0]), 2, 3, 2)[0], [NAN, NAN, .5 / 3, .5 / 4, .5 / 5, .5 / 6], id="macd-line"),
    pytest.param(lambda: ind.macd(a([1, 2, 3, 4, 5, 6.0]), 2, 3, 2)[1], [NAN, NAN, NAN, .5 / 4, .5 / 5, .5 / 6], id="macd-signal"),
    pytest.param(lambda: ind.macd(a([1, 2, 3, 4, 5, 6.0]), 2, 3, 2)[2], [NAN, NAN, NAN, 0, 0, 0], id="macd-histogram"),
    pytest.param(lambda: ind.bollinger(a([10, 12.0]), 2, 1.0)[0], [NAN, 1.0], id="bollinger-percent-b"),
    pytest.param(lambda: ind.bollinger(a([10, 12.0]), 2, 1.0)[1], [NAN, 2 / 11], id="bollinger-bandwidth"),
    pytest.param(lambda: ind.bollinger(a([7, 7.0]), 2, 2.0)[0], [NAN, 0.5], id="bollinger-flat-is-middle"),
    pytest.param(lambda: ind.atr(a([11, 12, 11.5, 13]), a([9, 10, 10.5, 11.5]), a([10, 11, 11, 12.5]), 2),
                 [NAN, NAN, 1.5 / 11, 1.75 / 12.5], id="atr-wilder-2"),
    pytest.param(lambda: ind.volatility(a([100, 110, 99.0]), 2),
                 [NAN, NAN, abs(math.log(1.1) - math.log(0.9)) / math.sqrt(2)], id="volatility-2"),
    pytest.param(lambda: ind.volume_zscore(a([1, 2, 3, 3.0]), 3), [NAN, NAN, 1.0, math.sqrt(3) / 3], id="volume-zscore-3"),
    pytest.param(lambda: ind.volume_zscore(a([5, 5, 5.0]), 3), [NAN, NAN, 0.0], id="volume-zscore-flat"),
]


@pytest.mark.parametrize("compute, expected", CASES)
def test_indicator_matches_hand_computation(compute, expected):
    np.testing.assert_allclose(compute(), expected, rtol=1e-12, atol=1e-15, equal_nan=True)


EXAMPLE_FEATURES = [
    {"kind": "returns", "periods": [1, 2, 3, 5]}, {"kind": "sma", "windows": [5, 10, 20]},
    {"kind": "rsi", "window": 14}, {"kind": "macd", "fast": 12, "slow": 26, "signal": 9},
    {"kind": "bollinger", "window": 20, "k": 2.0}, {"kind": "atr", "window": 14},
    {"kind": "volatility", "window": 20}, {"kind": "volume_zscore", "window": 20},
]


def spec(horizon: int = 1) -> PipelineSpec:
    return PipelineSpec.model_validate({"data": {"tickers": ["SYN"], "start": "2001-01-01"},
                                        "features": EXAMPLE_FEATURES, "target": {"horizon": horizon}})


def bars(n: int = 300) -> pd.DataFrame:
    frame = synthetic_bars("walk", n=n)
    return frame.assign(Date=pd.to_datetime(frame["Date"]), Ticker="SYN", Volume=frame["Volume"].astype(float))


@pytest.mark.parametrize("cut", [pytest.param(c, id=f"future-from-bar-{c}") for c in (60, 150, 299)])
def test_changing_future_bars_never_changes_earlier_features(cut):
    original = bars()
    changed = original.copy()
    rng = np.random.default_rng(cut)
    for column in ("Open", "High", "Low", "Close", "Volume"):
        changed.loc[cut:, column] *= rng.uniform(0.5, 1.5, len(changed) - cut)
    s = spec()
    before, names, _ = build_table(original, s.features, s.target)
    after, _, _ = build_table(changed, s.features, s.target)
    earlier = before["Date"] < original["Date"][cut]
    pd.testing.assert_frame_equal(before.loc[earlier, names], after.loc[earlier, names])


def test_warm_up_is_dropped_and_unknown_targets_are_marked():
    horizon = 3
    table, names, warmup = build_table(bars(), spec(horizon).features, spec(horizon).target)
    assert warmup == 26 - 1 + 9 - 1            # MACD's slow EMA, then its signal EMA
    assert len(table) == 300 - warmup
    assert not table[names].isna().any().any()
    assert table["scorable"].tolist()[-horizon - 1:] == [1, 0, 0, 0]
    assert table["target"].iloc[-horizon:].isna().all() and table["target"].iloc[:-horizon].notna().all()


def test_direction_target_is_one_when_the_close_rises_over_the_horizon():
    frame = bars(60)
    table, _, _ = build_table(frame, [PipelineSpec.model_validate(
        {"data": {"tickers": ["SYN"], "start": "2001-01-01"}, "features": [{"kind": "returns"}]}).features[0]],
        spec(2).target)
    close = frame["Close"].to_numpy()
    expected = (close[3:] > close[1:-2]).astype(float)          # table starts at bar 1 (returns warm-up)
    np.testing.assert_array_equal(table["target"].to_numpy()[:-2], expected)
