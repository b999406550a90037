"""Walk-forward folds: expanding training windows, test blocks that tile the end, the embargo."""

from __future__ import annotations

import pytest

from maestro.steps.context import StepError
from maestro.steps.splits import walk_forward

TABLES = [
    # n_dates, folds, test_size, gap, horizon, expected (train stop, test start, test stop) per fold
    pytest.param(200, 2, 50, 5, 1, [(95, 100, 150), (145, 150, 200)], id="gap-larger-than-horizon"),
    pytest.param(200, 2, 50, 0, 1, [(99, 100, 150), (149, 150, 200)], id="no-gap-still-purges-horizon"),
    pytest.param(200, 2, 50, 2, 5, [(95, 100, 150), (145, 150, 200)], id="horizon-larger-than-gap"),
    pytest.param(100, 1, 60, 5, 1, [(35, 40, 100)], id="one-fold"),
    pytest.param(300, 3, 60, 5, 1, [(115, 120, 180), (175, 180, 240), (235, 240, 300)], id="three-folds"),
]


@pytest.mark.parametrize("n, folds, test_size, gap, horizon, expected", TABLES)
def test_folds_table(n, folds, test_size, gap, horizon, expected):
    got = walk_forward(n, folds, test_size, gap, horizon)
    assert [(f.train.stop, f.test.start, f.test.stop) for f in got] == expected
    assert [f.number for f in got] == list(range(1, folds + 1))


@pytest.mark.parametrize("n, folds, test_size, gap, horizon, expected", TABLES)
def test_no_overlap_gap_respected_and_window_expands(n, folds, test_size, gap, horizon, expected):
    got = walk_forward(n, folds, test_size, gap, horizon)
    for fold in got:
        assert fold.train.start == 0                                   # expanding window
        assert not set(fold.train) & set(fold.test)                    # no overlap
        assert fold.test.start - (fold.train.stop - 1) - 1 >= max(gap, horizon)   # the embargo is dropped
        assert max(fold.train) + horizon < fold.test.start             # no training label reaches the test
    tests = [i for f in got for i in f.test]
    assert tests == list(range(n - folds * test_size, n))            # blocks tile the end, once each


def test_too_short_a_history_is_an_error_that_says_how_much_is_needed():
    with pytest.raises(StepError, match=r"needs at least 215 bars .* only 200 are available"):
        walk_forward(200, 3, 60, 5, 1)
