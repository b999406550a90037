"""Walk-forward folds: train on the past, test on the next block, roll forward (expanding window).

In: the number of distinct bar dates with a known target, `folds`, `test_size`, `gap` and the
target's horizon. Out: `Fold`s of positions in that date order. The test blocks tile the last
`folds * test_size` dates; each fold trains on every date before its test block except an embargo
of max(gap, horizon) dates, so no training label (which looks `horizon` bars ahead) reaches into
the test block.
"""

from __future__ import annotations

from dataclasses import dataclass

from .context import StepError

MIN_TRAIN_DATES = 30


@dataclass(frozen=True)
class Fold:
    number: int              # 1-based
    train: range             # date positions the model learns from
    test: range              # date positions it is scored on

    @property
    def dropped(self) -> int:
        return self.test.start - self.train.stop


def walk_forward(n_dates: int, folds: int, test_size: int, gap: int, horizon: int = 1) -> list[Fold]:
    embargo = max(gap, horizon)
    first_test = n_dates - folds * test_size
    if first_test - embargo < MIN_TRAIN_DATES:
        raise StepError(
            f"walk-forward evaluation needs at least {folds * test_size + embargo + MIN_TRAIN_DATES} bars with a "
            f"known target ({folds} folds x {test_size} test bars, an embargo of {embargo} and {MIN_TRAIN_DATES} "
            f"to train on), but only {n_dates} are available; fetch more history or lower evaluation.folds/test_size")
    return [Fold(k + 1, range(0, start - embargo), range(start, start + test_size))
            for k, start in enumerate(range(first_test, n_dates, test_size))]
