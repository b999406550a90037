"""How a step tells whoever runs it how far it got: the epochs of a fit, the fold it is on.

A step calls `epoch_done` and `phase` whatever runs it. `maestro run` listens (`listening`) and shows
a progress bar on a terminal; in a pod nobody listens, so these cost nothing and the pod log stays
what the step writes itself. A context variable rather than a parameter: the fit sits several calls
below the step, under the walk-forward folds, and none of those signatures is about display.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator, Optional, Protocol


class Listener(Protocol):
    def phase(self, label: str) -> None:
        """The step moved on to a new part (e.g. "fold 2/5"); epochs count from 1 again."""

    def epoch(self, done: int, total: int, figures: dict[str, float]) -> None:
        """`done` of at most `total` epochs are finished; `figures` are their latest losses."""


_listener: ContextVar[Optional[Listener]] = ContextVar("maestro_step_listener", default=None)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def epoch_done(done: int, total: int, **figures: float) -> None:
    listener = _listener.get()
    if listener is not None:
        listener.epoch(done, total, figures)


@contextmanager
def phase(label: str) -> Iterator[None]:
    listener = _listener.get()
    if listener is not None:
        listener.phase(label)
    yield

