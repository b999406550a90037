"""What `maestro run` and `maestro compile` show while they work, chosen by where the output goes.

- On a terminal (`LiveDisplay`, rich): a spinner from the moment a step starts, a bar while it
  trains (epoch k/N, losses, time left), then the step's result line; a transient status line for
  a compile's stages. Colour unless $NO_COLOR is set.
- Anywhere else (`PlainDisplay`: CI logs, pipes, files): a step's name as it starts and its result
  on the same line, exactly one line per step, nothing that redraws.
- `--quiet` (`QuietDisplay`): nothing; the command still prints its result and its errors.

rich is imported only when a terminal display is made: the compile path, `--help` and every
non-terminal run never load it (tests/test_imports.py).
"""

from __future__ import annotations

import os
from typing import Callable, Mapping, Optional, Protocol, TextIO

STEP_WIDTH = 12
STATUS_STYLES = {"ran": "green", "cached": "cyan", "skipped": "yellow", "failed": "bold red", "not-run": "dim"}


class Display(Protocol):
    def line(self, text: str) -> None:
        """A whole line that stays (a run's header, a note)."""

    def step_started(self, name: str) -> None: ...

    def phase(self, label: str) -> None:
        """The running step moved on (e.g. "fold 2/5")."""

    def epoch(self, done: int, total: int, figures: Mapping[str, float]) -> None: ...

    def step_finished(self, name: str, status: str, text: str) -> None:
        """`text` is the result column: the status, the time, a detail."""

    def status(self, text: str) -> None:
        """A stage of a longer job (a compile): shown while it lasts, gone after."""

    def close(self) -> None: ...


class PlainDisplay:
    """Lines for logs: the step's name when it starts, its result when it ends, on one line."""

    def __init__(self, write: Callable[[str], None]):
        self.write = write

    def line(self, text: str) -> None:
        self.write(text + "\n")

    def step_started(self, name: str) -> None:
        self.write(f"  {name:<{STEP_WIDTH}} ")

    def phase(self, label: str) -> None:
        return None

    def epoch(self, done: int, total: int, figures: Mapping[str, float]) -> None:
        return None

    def step_finished(self, name: str, status: str, text: str) -> None:
        self.write(text + "\n")

    def status(self, text: str) -> None:
        return None

    def close(self) -> None:
        return None


class QuietDisplay(PlainDisplay):
    def __init__(self) -> None:
        super().__init__(lambda text: None)


class LiveDisplay:
    """rich's live progress on a terminal. Its refresh thread writes while a step runs, so it gets a
    stream of its own (`terminal_stream`) that the capture of a step's stray output does not touch.
    Every stage, phase and epoch is drawn when it happens (`refresh=True`), not at the next tick: a
    stage shorter than a tick would otherwise never be seen, and there are few enough of them."""

    def __init__(self, stream: TextIO, color: bool = True, owns_stream: bool = False):
        from rich.console import Console

        self.console = Console(file=stream, no_color=not color, highlight=False, soft_wrap=True)
        self.stream, self.owns_stream = stream, owns_stream
        self.progress = None
        self.task = None
        self.label = ""

    def line(self, text: str) -> None:
        self._stop()
        self.console.print(text, markup=False)

    def step_started(self, name: str) -> None:
        self._start(f"{name:<{STEP_WIDTH}}", bar=True)
        self.label = ""

    def phase(self, label: str) -> None:
        self.label = label
        if self.progress is not None:
            self.progress.update(self.task, completed=0, total=None, figures=label, refresh=True)

    def epoch(self, done: int, total: int, figures: Mapping[str, float]) -> None:
        if self.progress is None:
            return
        losses = "  ".join(f"{key.replace('_', ' ')} {value:.4f}" for key, value in figures.items())
        prefix = f"{self.label}  " if self.label else ""
        self.progress.update(self.task, completed=done, total=total,
                             figures=f"{prefix}epoch {done}/{total}  {losses}", refresh=True)

    def step_finished(self, name: str, status: str, text: str) -> None:
        self._stop()
        from rich.text import Text

        line = Text(f"  {name:<{STEP_WIDTH}} ")
        line.append(text[:len(status)], style=STATUS_STYLES.get(status, ""))
        line.append(text[len(status):])
        self.console.print(line)

    def status(self, text: str) -> None:
        if self.progress is None:
            self._start(text, bar=False)
        else:
            self.progress.update(self.task, description=text, refresh=True)

    def close(self) -> None:
        self._stop()
        if self.owns_stream:
            self.stream.close()
        else:
            self.stream.flush()

    def _start(self, description: str, bar: bool) -> None:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeRemainingColumn

        self._stop()
        columns = [SpinnerColumn(), TextColumn("{task.description}")]
        if bar:
            columns += [BarColumn(bar_width=24), TextColumn("{task.fields[figures]}"), TimeRemainingColumn()]
        self.progress = Progress(*columns, console=self.console, transient=True)
        self.task = self.progress.add_task(description, total=None, figures="")
        self.progress.start()

    def _stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def display_for(stream: TextIO, *, quiet: bool = False, environ: Mapping[str, str] = os.environ,
                plain: Optional[Callable[[str], None]] = None) -> Display:
    """The display for output going to `stream`: live on a terminal, plain lines elsewhere (written
    with `plain`, default `stream.write`), nothing when quiet."""
    if quiet:
        return QuietDisplay()
    if on_terminal(stream, environ):
        terminal = terminal_stream(stream)
        return LiveDisplay(terminal, color="NO_COLOR" not in environ, owns_stream=terminal is not stream)
    return PlainDisplay(plain or (lambda text: (stream.write(text), stream.flush())))


def on_terminal(stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and environ.get("TERM") != "dumb"


def terminal_stream(stream: TextIO) -> TextIO:
    """A stream of its own onto the terminal behind `stream` (a duplicate of its descriptor), so that
    pointing descriptors 1 and 2 at a step's log leaves the display on screen."""
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return stream
    return os.fdopen(os.dup(descriptor), "w", buffering=1, encoding=getattr(stream, "encoding", None) or "utf-8",
                     errors="replace")
