"""Diagnostics: located problems found in any stage, collected and raised once.

In: positions and messages from the loader, the spec checks and the policy checks.
Out: `Diagnostic` values and one `MaestroError` that carries all of them.
"""

from __future__ import annotations

import difflib
import errno
from dataclasses import dataclass, field
from typing import Iterable, Sequence


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem at `file:line:col`, about the field at `path`."""

    file: str
    line: int
    col: int
    path: str
    message: str
    hint: str = ""
    severity: str = field(default="error", compare=False)

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        subject = f"{self.path}: " if self.path else ""
        hint = f" ({self.hint})" if self.hint else ""
        line = f"{where}: {self.severity}: {subject}{self.message}{hint}"
        # One diagnostic, one line: escape line breaks and other control characters quoted from a spec.
        return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in line)


class MaestroError(Exception):
    """Every diagnostic of a run, raised once, sorted and without repeats."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics: list[Diagnostic] = sorted(set(diagnostics))
        super().__init__("\n".join(d.format() for d in self.diagnostics))


class UsageError(Exception):
    """A problem with how a command was called (exit code 2), not with the specs."""


class UnsafePath(OSError):
    """A path maestro refuses to follow: a symbolic link where none may be, a path that leaves its
    folder, state taken from a checkout. Reported as one line `error: ...`, exit 1, nothing written."""

    def __init__(self, message: str):
        super().__init__(errno.EPERM, message)


def raise_if_any(diagnostics: Sequence[Diagnostic]) -> None:
    if diagnostics:
        raise MaestroError(diagnostics)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A "did you mean" hint for a misspelled name, or an empty string."""
    close = difflib.get_close_matches(str(word), sorted(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def one_of(choices: Iterable[str]) -> str:
    """The accepted values, for the hint of an error."""
    return "expected one of: " + ", ".join(sorted(choices))
