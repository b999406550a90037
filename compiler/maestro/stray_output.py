"""A step's stray output into its log: what libraries print while a step runs (yfinance's notices,
torch's warnings, a worker's lines) belongs to the step, not to the table `maestro run` draws.

Both levels are caught: Python's sys.stdout and sys.stderr, which print() and logging's last-resort
handler use, and descriptors 1 and 2, which C extensions and child processes write to directly.
"""

from __future__ import annotations

import io
import os
import sys
from contextlib import ExitStack, contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Iterator


@contextmanager
def into_log(log: Path) -> Iterator[None]:
    """Everything written to stdout and stderr inside the block goes to `log` (created afresh)."""
    for stream in (sys.stdout, sys.stderr):
        _flush(stream)
    with _open_log(log) as sink, ExitStack() as restore:
        for descriptor in (1, 2):
            restore.enter_context(_descriptor_into(descriptor, sink.fileno()))
        text = restore.enter_context(io.TextIOWrapper(_Unclosed(sink), encoding="utf-8", errors="replace",
                                                      line_buffering=True, write_through=True))
        restore.enter_context(redirect_stdout(text))
        restore.enter_context(redirect_stderr(text))
        yield


def _open_log(log: Path):
    """The log, opened without following a link: a link planted in the output folder (a checkout can
    carry one) is replaced, never written through."""
    for planted in (log.parent, log):
        if planted.is_symlink():
            planted.unlink()
    log.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    return open(descriptor, "wb", buffering=0)


@contextmanager
def _descriptor_into(descriptor: int, target: int) -> Iterator[None]:
    try:
        saved = os.dup(descriptor)
    except OSError:   # not open in this process: nothing can write to it
        yield
        return
    try:
        os.dup2(target, descriptor)
        yield
    finally:
        os.dup2(saved, descriptor)
        os.close(saved)


class _Unclosed(io.RawIOBase):
    """The log file as the text wrapper's raw stream; closing the wrapper leaves the file to `into_log`."""

    def __init__(self, sink):
        self.sink = sink

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return self.sink.write(data)


def _flush(stream) -> None:
    try:
        stream.flush()
    except (AttributeError, OSError, ValueError):
        pass
